//! helm-controller: installs, upgrades, tests, rolls back and uninstalls HelmReleases.

use clap::Parser;

/// Rendering allocates many small values; mimalloc serves them faster than glibc's
/// allocator (glibc's malloc and free were about a third of the controller's CPU time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    helm_controller::run::run(helm_controller::args::Args::parse()).await
}
