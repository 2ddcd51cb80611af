//! Request duration histograms of the event and receiver servers, with go-http-metrics'
//! names and labels (`gotk_event_http_request_duration_seconds{code,handler,method,service}`).

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use ferroflux_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

/// Labels of the request histograms.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The response status code.
    pub code: String,
    /// The handler prefix (`/`, `/hook/`), or the full path with
    /// `--export-http-path-metrics`.
    pub handler: String,
    /// The request method.
    pub method: String,
    /// Always empty, as Flux configures go-http-metrics.
    pub service: String,
}

fn default_buckets() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

/// One server's request histogram.
#[derive(Clone)]
pub struct HttpMetrics {
    durations: Family<HttpLabels, Histogram, fn() -> Histogram>,
    handler: &'static str,
    export_path: bool,
}

impl HttpMetrics {
    /// Registers `<prefix>_http_request_duration_seconds`.
    pub fn register(
        metrics: &Metrics,
        prefix: &str,
        handler: &'static str,
        export_path: bool,
    ) -> Self {
        let durations: Family<HttpLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(default_buckets);
        metrics.register(
            &format!("{prefix}_http_request_duration_seconds"),
            "The latency of the HTTP requests.",
            durations.clone(),
        );
        Self {
            durations,
            handler,
            export_path,
        }
    }
}

/// Middleware recording one observation per request.
pub async fn track(State(metrics): State<HttpMetrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let handler = if metrics.export_path {
        request.uri().path().to_owned()
    } else {
        metrics.handler.to_owned()
    };
    let response = next.run(request).await;
    metrics
        .durations
        .get_or_create(&HttpLabels {
            code: response.status().as_u16().to_string(),
            handler,
            method,
            service: String::new(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}
