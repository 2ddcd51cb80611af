//! `cargo run -p ferroflux-kustomize --example kbuild -- DIR` prints what the engine
//! builds, for comparing with `kubectl kustomize DIR` by hand.

use std::path::PathBuf;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    match ferroflux_kustomize::build_to_yaml(&dir, &ferroflux_kustomize::BuildOptions::default()) {
        Ok(text) => print!("{text}"),
        Err(error) => {
            eprintln!("Error: {error}");
            std::process::exit(1);
        }
    }
}
