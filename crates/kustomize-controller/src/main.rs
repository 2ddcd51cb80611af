//! kustomize-controller: builds Kustomizations from source artifacts and applies them.
//!
//! Pipeline: source artifact (download, digest check, safe extraction) → dependencies →
//! kustomization.yaml (Flux's generator and spec overlays) → native kustomize build →
//! postBuild substitution → server-side apply in stages → inventory and prune → health
//! checks → status (`Ready`, `Healthy`, inventory, history) and events.

mod args;
mod build;
mod clients;
mod decrypt;
mod dependencies;
mod error;
mod generator;
mod reconciler;
mod run;
mod sops;
mod source;
mod substitute;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    run::run(args::Args::parse()).await
}
