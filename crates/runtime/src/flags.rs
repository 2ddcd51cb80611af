//! Flags every Flux controller accepts, with Flux's names and defaults.
//!
//! Go's flag package spells booleans `--flag` or `--flag=false` (never `--flag false`),
//! so boolean flags here take an optional value that must be attached with `=`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use crate::duration;

/// Parses a Go duration flag value.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    duration::parse(value).map_err(|e| e.to_string())
}

/// Parses a Go listen address such as `:8080` or `127.0.0.1:9090`.
pub fn parse_listen_addr(value: &str) -> Result<SocketAddr, String> {
    let full = if value.starts_with(':') {
        format!("0.0.0.0{value}")
    } else {
        value.to_owned()
    };
    full.parse()
        .map_err(|e| format!("invalid listen address {value:?}: {e}"))
}

/// Flags shared by all controllers (fluxcd/pkg/runtime's option groups).
#[derive(Args, Debug, Clone)]
pub struct RuntimeArgs {
    /// The address the metrics endpoint binds to.
    #[arg(long, default_value = ":8080", value_parser = parse_listen_addr, env = "METRICS_ADDR")]
    pub metrics_addr: SocketAddr,
    /// The address the health endpoints (/healthz, /readyz) bind to.
    #[arg(long, default_value = ":9440", value_parser = parse_listen_addr)]
    pub health_addr: SocketAddr,
    /// The notification-controller URL events are forwarded to; empty turns forwarding off.
    #[arg(long, default_value = "")]
    pub events_addr: String,
    /// Elect a leader among replicas with a Lease before reconciling.
    #[arg(long, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub enable_leader_election: bool,
    /// How long non-leaders wait before taking over an unrenewed lease.
    #[arg(long, default_value = "35s", value_parser = parse_duration)]
    pub leader_election_lease_duration: Duration,
    /// How long the leader keeps retrying to renew before giving up leadership.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub leader_election_renew_deadline: Duration,
    /// How often leader election actions are retried.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub leader_election_retry_period: Duration,
    /// Release the lease on shutdown so another replica can take over at once.
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub leader_election_release_on_cancel: bool,
    /// Log verbosity: trace, debug, info or error.
    #[arg(long, default_value = "info", value_parser = ["trace", "debug", "info", "error"])]
    pub log_level: String,
    /// Log format: json or console.
    #[arg(long, default_value = "json", value_parser = ["json", "console"])]
    pub log_encoding: String,
    /// Watch objects in every namespace; when false, only the runtime namespace.
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub watch_all_namespaces: bool,
    /// Only reconcile objects whose labels match this selector (sharding).
    #[arg(long, default_value = "")]
    pub watch_label_selector: String,
    /// Label selector of the ConfigMaps and Secrets whose changes trigger reconciliations.
    #[arg(long, default_value = "reconcile.fluxcd.io/watch=Enabled")]
    pub watch_configs_label_selector: String,
    /// How long to wait before re-checking a dependency that is not ready.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub requeue_dependency: Duration,
    /// Queries per second towards the API server.
    #[arg(long, default_value_t = 50.0)]
    pub kube_api_qps: f32,
    /// Burst of queries towards the API server.
    #[arg(long, default_value_t = 300)]
    pub kube_api_burst: u32,
    /// The shortest backoff after a failed reconciliation.
    #[arg(long, default_value = "750ms", value_parser = parse_duration)]
    pub min_retry_delay: Duration,
    /// The longest backoff after failed reconciliations.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub max_retry_delay: Duration,
    /// The ± percentage of jitter added to each object's interval.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..100))]
    pub interval_jitter_percentage: u32,
    /// Refuse references to objects in other namespaces.
    #[arg(long, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_cross_namespace_refs: bool,
    /// Feature gates, `Name=true,Other=false`.
    #[arg(long, default_value = "")]
    pub feature_gates: String,
    /// Path to a kubeconfig; in-cluster configuration or $KUBECONFIG when empty.
    #[arg(long, default_value = "", env = "KUBECONFIG")]
    pub kubeconfig: String,
}

impl RuntimeArgs {
    /// Whether a feature gate is on, given its default.
    pub fn feature_enabled(&self, gate: &str, default: bool) -> bool {
        self.feature_gates
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| name.trim() == gate)
            .map_or(default, |(_, value)| {
                value.trim().eq_ignore_ascii_case("true")
            })
    }

    /// The namespace the controller runs in (`RUNTIME_NAMESPACE`), `flux-system` otherwise.
    pub fn runtime_namespace() -> String {
        std::env::var("RUNTIME_NAMESPACE")
            .ok()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "flux-system".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        runtime: RuntimeArgs,
    }

    #[test]
    fn defaults_are_fluxs() {
        let cli = Cli::try_parse_from(["controller"]).unwrap();
        let args = cli.runtime;
        assert_eq!(args.metrics_addr.port(), 8080);
        assert_eq!(args.health_addr.port(), 9440);
        assert_eq!(args.leader_election_lease_duration, Duration::from_secs(35));
        assert!(args.watch_all_namespaces);
        assert!(!args.enable_leader_election);
        assert_eq!(args.requeue_dependency, Duration::from_secs(30));
        assert_eq!(args.interval_jitter_percentage, 5);
    }

    #[test]
    fn go_style_booleans_and_durations() {
        let cli = Cli::try_parse_from([
            "controller",
            "--enable-leader-election",
            "--watch-all-namespaces=false",
            "--requeue-dependency=5s",
            "--metrics-addr=127.0.0.1:18080",
            "--feature-gates=ExternalArtifact=true,Other=false",
        ])
        .unwrap();
        let args = cli.runtime;
        assert!(args.enable_leader_election);
        assert!(!args.watch_all_namespaces);
        assert_eq!(args.requeue_dependency, Duration::from_secs(5));
        assert_eq!(args.metrics_addr.to_string(), "127.0.0.1:18080");
        assert!(args.feature_enabled("ExternalArtifact", false));
        assert!(!args.feature_enabled("Other", true));
        assert!(args.feature_enabled("Unset", true));
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(Cli::try_parse_from(["c", "--requeue-dependency=soon"]).is_err());
        assert!(Cli::try_parse_from(["c", "--log-level=verbose"]).is_err());
        assert!(Cli::try_parse_from(["c", "--metrics-addr=nowhere"]).is_err());
    }
}
