//! `cargo xtask`: the repository's automation, in Rust instead of a Makefile.

mod generate;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "ferroflux repository automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write config/crds, the chart's CRDs and deploy/install.yaml from the Rust types.
    Gen {
        /// Fail with a diff instead of writing when the committed files are out of date.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Gen { check } => generate::run(check),
    }
}
