//! `cargo xtask`: the repository's automation, in Rust instead of a Makefile.

mod bench;
mod ci;
mod demo;
mod generate;
mod install;
mod testenv;

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
    /// Run the whole test suite as CI does (fmt, clippy, gen --check, all tests on the
    /// real control plane).
    Ci,
    /// Run the whole GitOps loop locally: control plane, Git server, controllers, a sample
    /// app reconciled and updated.
    Demo,
    /// Benchmark a controller side by side with its reference (release build, real control
    /// plane); prints ratios and peak memory and records them in docs/benchmarks.md.
    Bench {
        #[command(subcommand)]
        suite: bench::Suite,
    },
    /// Build (once, cached) and run a real Kubernetes control plane on 127.0.0.1.
    Testenv {
        #[command(subcommand)]
        action: TestenvAction,
    },
}

#[derive(Subcommand)]
enum TestenvAction {
    /// Build if needed, start, wait until ready, print `export KUBECONFIG=...`.
    Up,
    /// Stop exactly the processes `up` started.
    Down,
    /// Show which components are running.
    Status,
    /// Only build the binaries into the cache.
    Build,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Gen { check } => generate::run(check),
        Command::Ci => ci::run(),
        Command::Demo => demo::run(),
        Command::Bench { suite } => bench::run(suite),
        Command::Testenv { action } => match action {
            TestenvAction::Up => testenv::up().map(|_| ()),
            TestenvAction::Down => {
                testenv::down();
                Ok(())
            }
            TestenvAction::Status => {
                testenv::status();
                Ok(())
            }
            TestenvAction::Build => testenv::build().map(|env| println!("{}", env.bin.display())),
        },
    }
}
