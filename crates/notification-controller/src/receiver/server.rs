//! The webhook receiver server: `/hook/<sha256>` on `--receiverAddr`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use ferroflux_api::notification::v1::{Receiver, ReceiverType};
use ferroflux_runtime::FluxStatus as _;
use ferroflux_runtime::conditions;
use ferroflux_runtime::driver::types;
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};
use tracing::{error, info};

use super::WEBHOOK_PATH_PREFIX;
use super::annotate::FilterInput;
use super::annotate::request_reconciliation;
use super::oidc;
use super::reconciler::read_secret;
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
    /// Fetches OIDC discovery documents and JWKS.
    pub http: reqwest::Client,
    /// Where Google's ID-token keys are fetched (`gcr`).
    pub gcr_certs_url: String,
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
    let secret = match read_secret(&server.client, &receiver).await {
        Ok(secret) => secret,
        Err(e) => {
            error!(receiver = %name, %namespace, error = %e, "unable to validate payload");
            return StatusCode::BAD_REQUEST;
        }
    };
    let (body, claims) = match verify(&server, &receiver, &secret, &headers, body).await {
        Ok((Verdict::Ping, _, _)) => {
            info!(receiver = %name, %namespace, "handling GitHub ping");
            return StatusCode::OK;
        }
        Ok((Verdict::Reconcile, body, claims)) => (body, claims),
        Err(e) => {
            error!(receiver = %name, %namespace, error = %e, "unable to validate payload");
            return StatusCode::BAD_REQUEST;
        }
    };
    let input = match filter_input(&receiver, &headers, &body, claims) {
        Ok(input) => input,
        Err(e) => {
            error!(receiver = %name, %namespace, error = %e, "unable to create resource filters");
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    };
    let errors = request_reconciliation(
        &server.client,
        &receiver,
        server.no_cross_namespace_refs,
        &input,
    )
    .await;
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// Verifies the request as the Receiver's sender signs it; returns the verdict, the body
/// the filters see (GCR's unwrapped event) and the OIDC claims.
async fn verify(
    server: &ReceiverServer,
    receiver: &Receiver,
    secret: &std::collections::BTreeMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Verdict, Bytes, Option<serde_json::Value>), String> {
    match receiver.spec.type_ {
        ReceiverType::Gcr => {
            oidc::verify_gcr(&server.http, &server.gcr_certs_url, headers, &body, secret)
                .await
                .map(|unwrapped| (Verdict::Reconcile, Bytes::from(unwrapped), None))
        }
        ReceiverType::GenericOidc => {
            let providers = receiver.spec.oidc_providers.as_deref().unwrap_or_default();
            oidc::verify_generic(&server.http, providers, headers)
                .await
                .map(|claims| {
                    (
                        Verdict::Reconcile,
                        body,
                        Some(serde_json::Value::Object(claims)),
                    )
                })
        }
        type_ => {
            let events = receiver.spec.events.clone().unwrap_or_default();
            let token = secret.get("token").map(String::as_str).unwrap_or_default();
            validate(type_, &events, token, headers, &body).map(|verdict| (verdict, body, None))
        }
    }
}

/// What the CEL filters see: the body as JSON when the request says it is JSON (else
/// `{}`), parsed only when the Receiver has filters, as Flux does.
fn filter_input(
    receiver: &Receiver,
    headers: &HeaderMap,
    body: &[u8],
    claims: Option<serde_json::Value>,
) -> Result<FilterInput, String> {
    let has_filters = receiver
        .spec
        .resource_filter
        .as_deref()
        .is_some_and(|f| !f.is_empty())
        || receiver
            .spec
            .resources
            .iter()
            .any(|r| r.filter.as_deref().is_some_and(|f| !f.is_empty()));
    if !has_filters {
        return Ok(FilterInput::default());
    }
    let content_type = headers
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let json = content_type
        .split(',')
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .any(|t| t == "application/json");
    let req = if json {
        serde_json::from_slice(body)
            .map_err(|e| format!("failed to parse request body as JSON: {e}"))?
    } else {
        serde_json::json!({})
    };
    Ok(FilterInput { req, claims })
}
