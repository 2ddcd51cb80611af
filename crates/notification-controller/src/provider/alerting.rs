//! Incident and observability services: Opsgenie, Alertmanager, Grafana, PagerDuty and
//! Datadog.

use std::collections::BTreeMap;

use ferroflux_runtime::events::FluxEvent;
use jiff::Timestamp;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::{
    OutgoingRequest, PayloadError, ProviderConfig, is_error, kind, name, namespace, object_title,
    origin, parse_address, split_camel_case,
};

/// The event time, or the Unix epoch when the sender gave none or garbage.
fn timestamp(event: &FluxEvent) -> Timestamp {
    event.timestamp.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

fn rfc3339(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Opsgenie: an alert with a stable alias per provider, object and reason.
pub fn opsgenie(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "Opsgenie")?;
    if config.token.is_empty() {
        return Err(PayloadError::Invalid(
            "empty Opsgenie apikey/token".to_owned(),
        ));
    }
    let alias = hex::encode(Sha256::digest(format!(
        "{}/{}/{}/{}/{}",
        config.uid,
        kind(event),
        namespace(event),
        name(event),
        event.reason
    )));
    let mut details = event.metadata.clone();
    details.insert("severity".to_owned(), event.severity.clone());
    let body = json!({
        "message": format!("{}/{}", kind(event), name(event)),
        "alias": alias,
        "description": event.message,
        "details": details,
    });
    Ok(OutgoingRequest::json(url.as_str(), &body)
        .header("Authorization", format!("GenieKey {}", config.token)))
}

/// Go's `cases.Title` on a single CamelCase word: first letter upper, the rest lower.
fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_word = false;
    for c in text.chars() {
        if in_word {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        in_word = c.is_alphanumeric() || c == '\'';
    }
    out
}

/// Alertmanager: one firing alert labelled with the object and the metadata.
pub fn alertmanager(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "Alertmanager")?;
    let mut labels = event.metadata.clone();
    let mut annotations = BTreeMap::from([("message".to_owned(), event.message.clone())]);
    if let Some(summary) = labels.remove("summary") {
        annotations.insert("summary".to_owned(), summary);
    }
    for (key, value) in [
        (
            "alertname",
            format!("Flux{}{}", kind(event), title_case(&event.reason)),
        ),
        ("severity", event.severity.clone()),
        ("reason", event.reason.clone()),
        ("kind", kind(event).to_owned()),
        ("name", name(event).to_owned()),
        ("namespace", namespace(event).to_owned()),
        ("reportingcontroller", event.reporting_controller.clone()),
    ] {
        labels.insert(key.to_owned(), value);
    }
    let body = json!([{
        "status": "firing",
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(timestamp(event)),
        "endsAt": "0001-01-01T00:00:00Z",
    }]);
    let mut request = OutgoingRequest::json(url.as_str(), &body);
    // As in Flux, basic auth replaces the bearer token when both are configured.
    if !config.username.is_empty() && !config.password.is_empty() {
        request = request.header("Authorization", basic(config));
    } else if !config.token.is_empty() {
        request = request.header("Authorization", format!("Bearer {}", config.token));
    }
    Ok(request)
}

fn basic(config: &ProviderConfig) -> String {
    format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", config.username, config.password),
        )
    )
}

/// Grafana: an annotation tagged with `flux`, the controller, metadata and the object.
pub fn grafana(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "Grafana")?;
    let mut tags = vec!["flux".to_owned(), event.reporting_controller.clone()];
    tags.extend(
        event
            .metadata
            .iter()
            .map(|(k, v)| format!("{}: {}", k.replace(':', "|"), v.replace(':', "|"))),
    );
    tags.push(format!("kind: {}", kind(event)));
    tags.push(format!("name: {}", name(event)));
    tags.push(format!("namespace: {}", namespace(event)));
    let body = json!({
        "when": timestamp(event).as_second(),
        "text": object_title(event),
        "tags": tags,
    });
    let mut request = OutgoingRequest::json(url.as_str(), &body);
    if !config.token.is_empty() {
        request = request.header("Authorization", format!("Bearer {}", config.token));
    } else if !config.username.is_empty() && !config.password.is_empty() {
        request = request.header("Authorization", basic(config));
    }
    Ok(request)
}

/// PagerDuty Events API v2: errors trigger an incident (deduplicated by object UID),
/// other events resolve it and are also sent as change events. `Progressing` events are
/// skipped.
pub fn pagerduty(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<Vec<OutgoingRequest>, PayloadError> {
    let url = parse_address(&config.address, "PagerDuty")?;
    if event.reason == "Progressing" {
        return Ok(Vec::new());
    }
    let endpoint = origin(&url);
    let summary = format!(
        "{}: {}",
        split_camel_case(&event.reason).join(" ").to_lowercase(),
        format!("{}/{}", kind(event), name(event)).to_lowercase()
    );
    let source = format!("Flux {}", event.reporting_controller);
    let time = rfc3339(timestamp(event));
    let details = json!({"message": event.message, "metadata": event.metadata});
    let uid = event.involved_object.uid.clone().unwrap_or_default();
    let mut trigger = json!({"routing_key": config.channel});
    if is_error(event) {
        trigger["event_action"] = json!("trigger");
        if !uid.is_empty() {
            trigger["dedup_key"] = json!(uid);
        }
        trigger["payload"] = json!({
            "summary": summary,
            "source": source,
            "severity": "error",
            "timestamp": time,
            "component": name(event),
            "group": kind(event),
            "custom_details": details,
        });
        return Ok(vec![OutgoingRequest::json(
            format!("{endpoint}/v2/enqueue"),
            &trigger,
        )]);
    }
    trigger["event_action"] = json!("resolve");
    if !uid.is_empty() {
        trigger["dedup_key"] = json!(uid);
    }
    let change = json!({
        "routing_key": config.channel,
        "payload": {"source": source, "summary": summary, "timestamp": time, "custom_details": details},
    });
    let mut requests = vec![OutgoingRequest::json(
        format!("{endpoint}/v2/enqueue"),
        &trigger,
    )];
    if event.severity == "info" {
        requests.push(OutgoingRequest::json(
            format!("{endpoint}/v2/change/enqueue"),
            &change,
        ));
    }
    Ok(requests)
}

/// Datadog: an event in the Events API v1, tagged with the object and metadata.
pub fn datadog(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "Datadog")?;
    if config.token.is_empty() {
        return Err(PayloadError::Invalid("token cannot be empty".to_owned()));
    }
    let mut tags = vec![
        format!("flux_reporting_controller:{}", event.reporting_controller),
        format!("flux_reason:{}", event.reason),
        format!("kube_kind:{}", kind(event)),
        format!("kube_name:{}", name(event)),
        format!("kube_namespace:{}", namespace(event)),
    ];
    tags.extend(event.metadata.iter().map(|(k, v)| format!("{k}:{v}")));
    let tags: Vec<String> = tags.into_iter().map(|t| t.to_lowercase()).collect();
    let body = json!({
        "alert_type": if is_error(event) { "error" } else { "info" },
        "date_happened": timestamp(event).as_second(),
        "source_type_name": "fluxcd",
        "tags": tags,
        "text": event.message,
        "title": format!("Events from the {} {}/{}", kind(event), name(event), namespace(event)),
    });
    let endpoint = format!("{}/api/v1/events", origin(&url));
    Ok(OutgoingRequest::json(endpoint, &body)
        .header("Accept", "application/json")
        .header("DD-API-KEY", config.token.clone()))
}
