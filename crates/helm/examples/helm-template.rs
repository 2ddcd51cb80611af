//! `cargo run -p ferroflux-helm --example helm-template -- RELEASE CHART [flags]`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match ferroflux_helm::run_template_command(&args) {
        Ok(out) => print!("{out}"),
        Err(error) => {
            eprintln!("Error: {error}");
            std::process::exit(1);
        }
    }
}
