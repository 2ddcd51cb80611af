//! source-controller: turns Flux sources into versioned, digest-verified artifacts served
//! over HTTP.
//!
//! Pipeline for a GitRepository: read credentials → ask the remote which commit the ref
//! points at (no clone when nothing changed) → shallow fetch and checkout → apply ignore
//! rules and includes → archive into storage (`gitrepository/<ns>/<name>/<commit>.tar.gz`)
//! → status (`artifact`, conditions) and events.

mod args;
mod bucket;
mod error;
mod git;
mod helm;
mod oci;
mod run;
mod storage;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args::Args::parse();
    run::run(args).await
}
