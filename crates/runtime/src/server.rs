//! The metrics endpoint (`/metrics`) and health endpoints (`/healthz`, `/readyz`).

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tracing::info;

use crate::metrics::Metrics;

/// Serves `/metrics` on `addr` until the process ends.
pub async fn serve_metrics(addr: SocketAddr, metrics: Metrics) -> std::io::Result<()> {
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.encode(),
                )
            }
        }),
    );
    serve(addr, app, "metrics").await
}

/// Serves `/healthz` and `/readyz` (controller-runtime's ping checks) on `addr`.
pub async fn serve_health(addr: SocketAddr) -> std::io::Result<()> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }));
    serve(addr, app, "health").await
}

async fn serve(addr: SocketAddr, app: Router, what: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    info!(address = %listener.local_addr()?, "starting {what} server");
    axum::serve(listener, app).await
}
