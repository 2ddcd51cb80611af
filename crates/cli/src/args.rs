//! The command line, as clap types. Flags and defaults follow the flux CLI.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "ferroflux",
    version,
    about = "Command line utility for ferroflux, the Rust rewrite of the Flux CD controllers"
)]
pub struct Cli {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The namespace scope for this operation.
    #[arg(
        short,
        long,
        global = true,
        env = "FLUX_SYSTEM_NAMESPACE",
        default_value = "flux-system"
    )]
    pub namespace: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the client version and the versions of the controllers in the cluster.
    Version {
        /// Print only the client version, without contacting the cluster.
        #[arg(long)]
        client: bool,
    },
    /// Print the statuses of Flux objects.
    Get {
        /// List the objects across all namespaces.
        #[arg(short = 'A', long, global = true)]
        all_namespaces: bool,
        #[command(subcommand)]
        what: GetCommand,
    },
    /// Build kustomizations with the native kustomize engine.
    Kustomize {
        #[command(subcommand)]
        what: KustomizeCommand,
    },
    /// Render Helm charts with the native Helm engine.
    Helm {
        #[command(subcommand)]
        what: HelmCommand,
    },
    /// Render a Flux repository offline: the cluster directory PATH, every Flux
    /// Kustomization it leads to, and every HelmRelease whose chart is at hand.
    Build {
        /// The cluster directory to build (for example `clusters/production`).
        #[arg(default_value = ".")]
        path: std::path::PathBuf,
        /// The repository root (default: the nearest directory above PATH holding `.git`).
        #[arg(long)]
        repo_root: Option<std::path::PathBuf>,
        /// A source's files: `Kind/namespace/name=DIR` (repeatable).
        #[arg(long = "source", value_name = "KIND/NAMESPACE/NAME=DIR")]
        sources: Vec<String>,
        /// Charts for HelmReleases from Helm or OCI repositories: `<chart>/` or
        /// `<chart>-<version>.tgz` in this directory.
        #[arg(long, value_name = "DIR")]
        charts: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KustomizeCommand {
    /// Print the build of a kustomization directory exactly as `kubectl kustomize` does.
    Build {
        /// The directory holding the kustomization file.
        #[arg(default_value = ".")]
        dir: std::path::PathBuf,
        /// `RootOnly` (files must be inside the kustomization root) or `None`.
        #[arg(long, default_value = "RootOnly", value_parser = ["RootOnly", "LoadRestrictionsRootOnly", "None", "LoadRestrictionsNone"])]
        load_restrictor: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum HelmCommand {
    /// Print what `helm template RELEASE CHART [flags]` prints.
    Template {
        /// `RELEASE CHART` followed by helm's flags (-f, --set, --set-string, --set-json,
        /// -n, --kube-version, --api-versions, --include-crds, --show-only, ...).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 1..)]
        args: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum GetCommand {
    /// Print the statuses of every Flux kind.
    All,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn namespace_defaults_to_flux_system_and_all_namespaces_goes_anywhere() {
        let cli = Cli::try_parse_from(["ferroflux", "get", "all", "-A"]).unwrap();
        assert_eq!(cli.namespace, "flux-system");
        assert!(matches!(
            cli.command,
            Command::Get {
                all_namespaces: true,
                what: GetCommand::All
            }
        ));
        let cli = Cli::try_parse_from(["ferroflux", "get", "-n", "apps", "all"]).unwrap();
        assert_eq!(cli.namespace, "apps");
    }
}
