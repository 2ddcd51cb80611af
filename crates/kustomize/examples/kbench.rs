//! `cargo run --release -p ferroflux-kustomize --example kbench -- DIR RUNS` builds DIR
//! RUNS times in one process, prints the last output on stdout and
//! `median_seconds min_seconds` on stderr: the in-process build time (build + YAML output,
//! no process start-up) that `hack/bench-engines.sh` puts next to the reference's
//! (`hack/build-kustomize-inproc.sh`).

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let runs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(5).max(1);
    let options = ferroflux_kustomize::BuildOptions::default();
    let mut output = String::new();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        match ferroflux_kustomize::build_to_yaml(&dir, &options) {
            Ok(text) => output = text,
            Err(error) => {
                eprintln!("Error: {error}");
                std::process::exit(1);
            }
        }
        times.push(start.elapsed().as_secs_f64());
    }
    print!("{output}");
    times.sort_by(f64::total_cmp);
    eprintln!("{:.6} {:.6}", times[times.len() / 2], times[0]);
}
