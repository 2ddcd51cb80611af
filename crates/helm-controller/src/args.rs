//! helm-controller's flags, with Flux's names and defaults.

use clap::Parser;
use ferroflux_runtime::flags::RuntimeArgs;

/// Command-line flags.
#[derive(Parser, Debug, Clone)]
#[command(name = "helm-controller", version, about = "ferroflux helm-controller")]
pub struct Args {
    /// Flags every controller shares.
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// How many HelmReleases are reconciled at once.
    #[arg(long, default_value_t = 4)]
    pub concurrent: u16,
    /// The ServiceAccount impersonated when a HelmRelease names none.
    #[arg(long, default_value = "")]
    pub default_service_account: String,
    /// Retries of artifact downloads.
    #[arg(long, default_value_t = 9)]
    pub http_retry: u32,
    /// Timeout of artifact downloads.
    #[arg(long, default_value = "30s")]
    pub http_timeout: String,
    /// The digest algorithm of release snapshots.
    #[arg(long, default_value = "sha256")]
    pub snapshot_digest_algo: String,
    /// Field managers whose changes drift detection overrides.
    #[arg(long)]
    pub override_manager: Vec<String>,
}
