//! The HTTP side of event intake: `POST /` on `--events-addr`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::post;
use ferroflux_runtime::events::{EventRecorder, EventType, FluxEvent};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use kube::{Client, ResourceExt};
use serde_json::Value;
use tracing::{debug, info, warn};

use super::matching::{self, involved_object_string};
use super::metadata;
use super::ratelimit::{RateLimiter, dedup_key};
use crate::dispatch::Dispatcher;
use crate::http_metrics::{HttpMetrics, track};
use crate::index::Index;

/// The largest request body accepted (Flux: 3 MiB), larger ones get 413.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// What the event handler shares.
pub struct EventServer {
    /// The Kubernetes client (labels of involved objects).
    pub client: Client,
    /// The watched Alerts and Providers.
    pub index: Index,
    /// Duplicate suppression.
    pub limiter: RateLimiter,
    /// Sends notifications.
    pub dispatcher: Arc<Dispatcher>,
    /// Records warnings on Alerts.
    pub recorder: EventRecorder,
}

/// The event server's routes.
pub fn router(server: Arc<EventServer>, metrics: HttpMetrics) -> Router {
    Router::new()
        .route("/", post(handle))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(server)
        .layer(axum::middleware::from_fn_with_state(metrics, track))
}

/// Serves the event endpoint on `addr` until the process ends.
pub async fn serve(addr: SocketAddr, app: Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    info!(address = %listener.local_addr()?, "starting event server");
    axum::serve(listener, app).await
}

/// Decodes the body as Go does: missing fields take their zero value.
pub fn decode(body: &[u8]) -> Result<FluxEvent, serde_json::Error> {
    let mut value: Value = serde_json::from_slice(body)?;
    if let Value::Object(fields) = &mut value {
        for key in [
            "severity",
            "timestamp",
            "message",
            "reason",
            "reportingController",
        ] {
            fields
                .entry(key)
                .or_insert_with(|| Value::String(String::new()));
        }
        fields
            .entry("involvedObject")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    serde_json::from_value(value)
}

async fn handle(State(server): State<Arc<EventServer>>, body: Bytes) -> StatusCode {
    let mut event = match decode(&body) {
        Ok(event) => event,
        Err(e) => {
            warn!(error = %e, "decoding the request body failed");
            return StatusCode::BAD_REQUEST;
        }
    };
    metadata::cleanup(&mut event);
    if !server.limiter.allow(&dedup_key(&event), Instant::now()) {
        debug!(object = %involved_object_string(&event), "Discarding event, rate limiting duplicate events");
        return StatusCode::TOO_MANY_REQUESTS;
    }
    metadata::exclude_internal(&mut event);
    let alerts = server.index.alerts();
    let labels = if matching::needs_labels(&event, &alerts) {
        server.labels(&event).await
    } else {
        None
    };
    let matches = matching::matching_alerts(&event, &alerts, labels.as_ref());
    for warning in &matches.warnings {
        server
            .recorder
            .publish(
                warning.alert.as_ref(),
                EventType::Warning,
                warning.reason,
                &warning.message,
                BTreeMap::new(),
            )
            .await;
    }
    if matches.alerts.is_empty() {
        info!(object = %involved_object_string(&event), "discarding event, no alerts found for the involved object");
        return StatusCode::ACCEPTED;
    }
    info!(object = %involved_object_string(&event), alerts = matches.alerts.len(), message = %event.message, "dispatching event");
    for alert in matches.alerts {
        server.dispatcher.dispatch(&event, alert).await;
    }
    StatusCode::ACCEPTED
}

impl EventServer {
    /// The involved object's labels, `None` when it cannot be read.
    async fn labels(&self, event: &FluxEvent) -> Option<BTreeMap<String, String>> {
        let object = &event.involved_object;
        let (group, version) = match object.api_version.as_deref()?.split_once('/') {
            Some((group, version)) => (group.to_owned(), version.to_owned()),
            None => (String::new(), object.api_version.clone()?),
        };
        let gvk = GroupVersionKind::gvk(&group, &version, object.kind.as_deref()?);
        let resource = ApiResource::from_gvk(&gvk);
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), object.namespace.as_deref()?, &resource);
        match api.get_metadata(object.name.as_deref()?).await {
            Ok(found) => Some(found.labels().clone()),
            Err(e) => {
                warn!(object = %involved_object_string(event), error = %e, "error getting the involved object");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_decoding() {
        let event = decode(br#"{"involvedObject":{"kind":"GitRepository","name":"a","namespace":"b"},"message":"m"}"#).unwrap();
        assert_eq!(event.message, "m");
        assert_eq!(event.severity, "");
        assert!(decode(b"{not json").is_err());
        assert!(decode(br#"{"involvedObject": 3}"#).is_err());
    }
}
