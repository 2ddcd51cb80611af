//! Regenerates src/smp/merge_keys.json from an API server's OpenAPI v2 document:
//! `cargo run -p ferroflux-kustomize --example gen_merge_keys -- openapi-v2.json > crates/kustomize/src/smp/merge_keys.json`
//! (`cargo xtask gen` calls the same library function with the running test control plane's document).

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: gen_merge_keys OPENAPI_V2_JSON");
        std::process::exit(2);
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => print!("{}", ferroflux_kustomize::generate_merge_key_table(&text)),
        Err(error) => {
            eprintln!("cannot read {path}: {error}");
            std::process::exit(1);
        }
    }
}
