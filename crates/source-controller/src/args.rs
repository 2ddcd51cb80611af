//! source-controller's flags, with Flux's names and defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ferroflux_runtime::flags::{RuntimeArgs, parse_duration, parse_listen_addr};

/// Command-line flags.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "source-controller",
    version,
    about = "ferroflux source-controller"
)]
pub struct Args {
    /// Flags every controller shares.
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// How many objects of each kind are reconciled at once.
    #[arg(long, default_value_t = 2)]
    pub concurrent: u16,
    /// Where artifacts are stored.
    #[arg(long, env = "STORAGE_PATH", default_value = "/data")]
    pub storage_path: PathBuf,
    /// The address the artifact file server listens on.
    #[arg(long, env = "STORAGE_ADDRESS", default_value = ":9090", value_parser = parse_listen_addr)]
    pub storage_addr: SocketAddr,
    /// The host (or URL prefix) artifact URLs are advertised with; the listen address
    /// when empty.
    #[arg(long, env = "STORAGE_ADV_ADDR", default_value = "")]
    pub storage_adv_addr: String,
    /// How long superseded artifacts are kept.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub artifact_retention_ttl: Duration,
    /// How many artifacts per object are kept at most.
    #[arg(long, default_value_t = 2)]
    pub artifact_retention_records: usize,
    /// The largest Helm repository index accepted, in bytes.
    #[arg(long, default_value_t = 50 << 20)]
    pub helm_index_max_size: u64,
    /// The largest Helm chart accepted, in bytes.
    #[arg(long, default_value_t = 10 << 20)]
    pub helm_chart_max_size: u64,
    /// The largest single file in a Helm chart, in bytes.
    #[arg(long, default_value_t = 5 << 20)]
    pub helm_chart_file_max_size: u64,
    /// How many Helm indexes are cached in memory (0 disables the cache; ferroflux reads
    /// the stored index per chart instead and accepts the flag for compatibility).
    #[arg(long, default_value_t = 0)]
    pub helm_cache_max_size: u64,
    /// How long a cached Helm index lives (accepted for compatibility).
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub helm_cache_ttl: Duration,
    /// How often the Helm index cache is purged (accepted for compatibility).
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub helm_cache_purge_interval: Duration,
}

impl Args {
    /// The advertised artifact host: the flag, else the listen address (`localhost` for
    /// an unspecified host), as Flux derives it.
    pub fn advertised_address(&self) -> String {
        if !self.storage_adv_addr.is_empty() {
            return self.storage_adv_addr.clone();
        }
        let port = self.storage_addr.port();
        if self.storage_addr.ip().is_unspecified() {
            let host = std::env::var("HOSTNAME")
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "localhost".to_owned());
            format!("{host}:{port}")
        } else {
            self.storage_addr.to_string()
        }
    }
}
