//! kustomize-controller's flags, with Flux's names and defaults.

use clap::Parser;
use ferroflux_runtime::flags::RuntimeArgs;

/// Command-line flags.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "kustomize-controller",
    version,
    about = "ferroflux kustomize-controller"
)]
pub struct Args {
    /// Flags every controller shares.
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// How many Kustomizations are reconciled at once.
    #[arg(long, default_value_t = 4)]
    pub concurrent: u16,
    /// Refuse remote bases (git/http URLs) in kustomizations.
    #[arg(long, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_remote_bases: bool,
    /// The ServiceAccount impersonated when a Kustomization names none.
    #[arg(long, default_value = "")]
    pub default_service_account: String,
    /// Retries of artifact downloads.
    #[arg(long, default_value_t = 9)]
    pub http_retry: u32,
}
