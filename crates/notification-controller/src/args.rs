//! notification-controller's flags, with Flux's names and defaults.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use ferroflux_runtime::flags::{RuntimeArgs, parse_duration, parse_listen_addr};

/// The event server's address when `--events-addr` is left empty.
const DEFAULT_EVENTS_ADDR: &str = ":9090";

/// Command-line flags.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "notification-controller",
    version,
    about = "ferroflux notification-controller"
)]
pub struct Args {
    /// Flags every controller shares; `--events-addr` is this controller's own event
    /// listen address (`:9090` when empty).
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// The address the webhook receiver server binds to (Flux spells it in camelCase).
    #[arg(long = "receiverAddr", default_value = ":9292", value_parser = parse_listen_addr)]
    pub receiver_addr: SocketAddr,
    /// How many Receivers are reconciled at once.
    #[arg(long, default_value_t = 4)]
    pub concurrent: u16,
    /// Identical events within this interval are answered with 429 and not forwarded.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub rate_limit_interval: Duration,
    /// Label HTTP metrics with the full request path instead of the handler prefix.
    #[arg(long, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub export_http_path_metrics: bool,
    /// Where the keys of Google's ID tokens are fetched, for `gcr` Receivers (tests point
    /// it at a loopback JWKS; not a Flux flag).
    #[arg(long, hide = true, default_value = crate::receiver::oidc::GOOGLE_CERTS_URL)]
    pub gcr_certs_url: String,
}

impl Args {
    /// The event server's listen address.
    pub fn events_addr(&self) -> Result<SocketAddr, String> {
        let value = self.runtime.events_addr.trim();
        parse_listen_addr(if value.is_empty() {
            DEFAULT_EVENTS_ADDR
        } else {
            value
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_fluxs() {
        let args = Args::try_parse_from(["notification-controller"]).unwrap();
        assert_eq!(args.events_addr().unwrap().port(), 9090);
        assert_eq!(args.receiver_addr.port(), 9292);
        assert_eq!(args.runtime.metrics_addr.port(), 8080);
        assert_eq!(args.runtime.health_addr.port(), 9440);
        assert_eq!(args.rate_limit_interval, Duration::from_secs(300));
        assert!(!args.runtime.no_cross_namespace_refs);
    }

    #[test]
    fn flux_spellings() {
        let args = Args::try_parse_from([
            "notification-controller",
            "--events-addr=127.0.0.1:19090",
            "--receiverAddr=127.0.0.1:19292",
            "--rate-limit-interval=1s",
            "--no-cross-namespace-refs",
        ])
        .unwrap();
        assert_eq!(args.events_addr().unwrap().to_string(), "127.0.0.1:19090");
        assert_eq!(args.receiver_addr.to_string(), "127.0.0.1:19292");
        assert_eq!(args.rate_limit_interval, Duration::from_secs(1));
        assert!(args.runtime.no_cross_namespace_refs);
    }
}
