//! The webhook receiver server: `/hook/<sha256>` on `--receiverAddr`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use ferroflux_api::notification::v1::Receiver;
use ferroflux_runtime::FluxStatus as _;
use ferroflux_runtime::conditions;
use ferroflux_runtime::driver::types;
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};
use tracing::{error, info};

use super::WEBHOOK_PATH_PREFIX;
use super::annotate::request_reconciliation;
use super::reconciler::read_token;
use super::validate::{Verdict, validate};
use crate::event::server::MAX_BODY_BYTES;
use crate::http_metrics::{HttpMetrics, track};

/// What the webhook handler shares.
pub struct ReceiverServer {
    /// The Kubernetes client (Secrets, annotated resources).
    pub client: Client,
    /// The watched Receivers.
    pub receivers: Store<Receiver>,
    /// `--no-cross-namespace-refs`.
    pub no_cross_namespace_refs: bool,
}

/// The receiver server's routes: everything under `/hook/`; other paths are 404.
pub fn router(server: Arc<ReceiverServer>, metrics: HttpMetrics) -> Router {
    Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(server)
        .layer(axum::middleware::from_fn_with_state(metrics, track))
}

/// Serves the webhook endpoint on `addr` until the process ends.
pub async fn serve(addr: SocketAddr, app: Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    info!(address = %listener.local_addr()?, "starting webhook receiver server");
    axum::serve(listener, app).await
}

async fn handle(
    State(server): State<Arc<ReceiverServer>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let request_uri = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    if !request_uri.starts_with(WEBHOOK_PATH_PREFIX) {
        return StatusCode::NOT_FOUND;
    }
    let digest = request_uri.trim_start_matches(WEBHOOK_PATH_PREFIX);
    info!("handling request: {digest}");
    let Some(receiver) = server.receivers.find(|r| {
        r.status.as_ref().and_then(|s| s.webhook_path.as_deref()) == Some(request_uri.as_str())
    }) else {
        return StatusCode::NOT_FOUND;
    };
    let name = receiver.name_any();
    let namespace = receiver.namespace().unwrap_or_default();
    let ready = receiver
        .status
        .as_ref()
        .is_some_and(|s| conditions::is_true(s.conditions(), types::READY));
    if receiver.spec.suspend.unwrap_or(false) || !ready {
        error!(receiver = %name, %namespace, "unable to process request: receiver is suspended or not ready");
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let token = match read_token(&server.client, &receiver).await {
        Ok(token) => token,
        Err(e) => {
            error!(receiver = %name, %namespace, error = %e, "unable to validate payload");
            return StatusCode::BAD_REQUEST;
        }
    };
    let events = receiver.spec.events.clone().unwrap_or_default();
    match validate(receiver.spec.type_, &events, &token, &headers, &body) {
        Ok(Verdict::Ping) => {
            info!(receiver = %name, %namespace, "handling GitHub ping");
            StatusCode::OK
        }
        Ok(Verdict::Reconcile) => {
            let errors =
                request_reconciliation(&server.client, &receiver, server.no_cross_namespace_refs)
                    .await;
            if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
        Err(e) => {
            error!(receiver = %name, %namespace, error = %e, "unable to validate payload");
            StatusCode::BAD_REQUEST
        }
    }
}
