//! The Kubernetes client, from `--kubeconfig`/`--context` or the usual defaults.

use anyhow::{Context, Result};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::args::Cli;

/// A client for the cluster the flags (or `$KUBECONFIG`, `~/.kube/config`, in-cluster) name.
pub async fn client(cli: &Cli) -> Result<Client> {
    let options = KubeConfigOptions {
        context: cli.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &cli.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .with_context(|| format!("loading kubeconfig {}", path.display()))?
        }
        None if cli.context.is_some() => Config::from_kubeconfig(&options)
            .await
            .context("loading the kubeconfig")?,
        None => Config::infer()
            .await
            .context("no Kubernetes configuration found (set KUBECONFIG or --kubeconfig)")?,
    };
    Client::try_from(config).context("building the Kubernetes client")
}

/// Says what went wrong talking to the API server, in words a user can act on.
pub fn describe(error: kube::Error, doing: &str) -> anyhow::Error {
    match error {
        kube::Error::Api(status) => anyhow::anyhow!(
            "{doing}: the API server answered {} {}: {}",
            status.code,
            status.reason,
            status.message
        ),
        other => anyhow::Error::new(other)
            .context(format!("{doing}: cannot reach the Kubernetes API server")),
    }
}
