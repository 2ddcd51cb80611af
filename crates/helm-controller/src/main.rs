//! helm-controller: installs, upgrades, tests, rolls back and uninstalls HelmReleases.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    helm_controller::run::run(helm_controller::args::Args::parse()).await
}
