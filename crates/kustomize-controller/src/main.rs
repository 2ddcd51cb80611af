//! kustomize-controller: builds Kustomizations from source artifacts and applies them.

use clap::Parser;

/// Rendering allocates many small values; mimalloc serves them faster than glibc's
/// allocator (glibc's malloc and free were about a third of the controller's CPU time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kustomize_controller::run::run(kustomize_controller::args::Args::parse()).await
}
