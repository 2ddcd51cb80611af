//! kustomize-controller: builds Kustomizations from source artifacts and applies them.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kustomize_controller::run::run(kustomize_controller::args::Args::parse()).await
}
