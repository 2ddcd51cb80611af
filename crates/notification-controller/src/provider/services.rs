//! Zoom, incident.io, Sentry, OpenTelemetry, Google Pub/Sub and Azure Event Hubs.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ferroflux_runtime::events::FluxEvent;
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use reqwest::Url;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{
    Method, OutgoingRequest, PayloadError, ProviderConfig, ResponseCheck, kind, name, namespace,
    object_title, parse_address, query_escape,
};

const PROGRESSING: &str = "Progressing";

/// Zoom: an incoming-webhook message, `format=full`, the token as `Authorization`.
pub fn zoom(event: &FluxEvent, config: &ProviderConfig) -> Result<OutgoingRequest, PayloadError> {
    let mut url = parse_address(&config.address, "Zoom incoming webhook")?;
    if config.token.is_empty() {
        return Err(PayloadError::Invalid(
            "empty Zoom verification token".to_owned(),
        ));
    }
    if !url
        .query_pairs()
        .any(|(k, v)| k == "format" && !v.is_empty())
    {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "format")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.push(("format".to_owned(), "full".to_owned()));
        pairs.sort();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let mut body = vec![json!({"type": "message", "text": event.message})];
    if !event.metadata.is_empty() {
        let items: Vec<Value> = event
            .metadata
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        body.push(json!({"type": "fields", "items": items}));
    }
    let payload = json!({"content": {
        "head": {"text": object_title(event), "sub_head": {"text": event.severity}},
        "body": body,
    }});
    Ok(OutgoingRequest::json(url.as_str(), &payload).header("Authorization", config.token.clone()))
}

/// incident.io: an alert event, `firing` on error and `resolved` otherwise, deduplicated
/// by the object's UID; `Progressing` is skipped.
pub fn incidentio(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<Vec<OutgoingRequest>, PayloadError> {
    let url = parse_address(&config.address, "incident.io alert source")?;
    if config.token.is_empty() {
        return Err(PayloadError::Invalid(
            "empty incident.io API token".to_owned(),
        ));
    }
    if event.reason == PROGRESSING {
        return Ok(Vec::new());
    }
    let mut metadata = event.metadata.clone();
    metadata.insert("severity".to_owned(), event.severity.clone());
    metadata.insert("reason".to_owned(), event.reason.clone());
    if !event.reporting_controller.is_empty() {
        metadata.insert(
            "reportingController".to_owned(),
            event.reporting_controller.clone(),
        );
    }
    let status = if event.severity == "error" {
        "firing"
    } else {
        "resolved"
    };
    let mut payload = serde_json::Map::new();
    payload.insert(
        "title".to_owned(),
        json!(format!("{}: {}", object_title(event), event.reason)),
    );
    payload.insert("status".to_owned(), json!(status));
    payload.insert(
        "deduplication_key".to_owned(),
        json!(event.involved_object.uid.as_deref().unwrap_or_default()),
    );
    if !event.message.is_empty() {
        payload.insert("description".to_owned(), json!(event.message));
    }
    payload.insert("metadata".to_owned(), json!(metadata));
    Ok(vec![
        OutgoingRequest::json(url.as_str(), &Value::Object(payload))
            .header("Authorization", format!("Bearer {}", config.token)),
    ])
}

/// A 128-bit id derived from `parts`: stable, so retries and snapshots agree.
fn derived_id(parts: &[&str], bytes: usize) -> String {
    hex::encode(&Sha256::digest(parts.join("\n"))[..bytes])
}

/// Sentry for `info` and `error` events; other severities are not sent (Flux's notifier
/// captures nothing for them).
pub fn sentry_requests(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<Vec<OutgoingRequest>, PayloadError> {
    let request = sentry(event, config)?;
    Ok(if matches!(event.severity.as_str(), "info" | "error") {
        vec![request]
    } else {
        Vec::new()
    })
}

/// Sentry: an envelope to `<host>/api/<project>/envelope/` of the DSN (the address);
/// errors become error events, everything else a transaction; `channel` is the
/// environment.
pub fn sentry(event: &FluxEvent, config: &ProviderConfig) -> Result<OutgoingRequest, PayloadError> {
    if config.address.trim().is_empty() {
        return Err(PayloadError::Invalid("DSN cannot be empty".to_owned()));
    }
    let dsn = parse_address(&config.address, "Sentry DSN")?;
    let key = dsn.username().to_owned();
    let (prefix, project) = dsn
        .path()
        .trim_end_matches('/')
        .rsplit_once('/')
        .filter(|(_, p)| !p.is_empty() && !key.is_empty())
        .ok_or_else(|| PayloadError::Invalid("invalid Sentry DSN".to_owned()))?;
    let endpoint = format!("{}{prefix}/api/{project}/envelope/", super::origin(&dsn));
    let summary = format!("{}: {}/{}", kind(event), namespace(event), name(event));
    let event_id = derived_id(
        &[&event.timestamp, &summary, &event.reason, &event.message],
        16,
    );
    let mut item = json!({
        "event_id": event_id,
        "timestamp": event.timestamp,
        "platform": "go",
        "transaction": summary,
        "message": event.message,
        "sdk": {"name": "sentry.go", "version": "0.30.0"},
    });
    if !config.channel.is_empty() {
        item["environment"] = json!(config.channel);
    }
    let item_type = if event.severity == "error" {
        item["level"] = json!("error");
        item["server_name"] = json!(event.reporting_controller);
        item["contexts"] = json!({"metadata": event.metadata});
        "event"
    } else {
        let mut tags = BTreeMap::from([
            (
                "flux_involved_object_kind".to_owned(),
                kind(event).to_owned(),
            ),
            (
                "flux_involved_object_namespace".to_owned(),
                namespace(event).to_owned(),
            ),
            (
                "flux_involved_object_name".to_owned(),
                name(event).to_owned(),
            ),
            (
                "flux_reporting_controller".to_owned(),
                event.reporting_controller.clone(),
            ),
            (
                "flux_reporting_instance".to_owned(),
                event.reporting_instance.clone(),
            ),
            ("flux_reason".to_owned(), event.reason.clone()),
        ]);
        tags.extend(event.metadata.clone());
        let trace_id = derived_id(&[&event_id, "trace"], 16);
        let span_id = derived_id(&[&event_id, "span"], 8);
        item["type"] = json!("transaction");
        item["start_timestamp"] = json!(event.timestamp);
        item["tags"] = json!(tags);
        item["contexts"] =
            json!({"trace": {"trace_id": trace_id, "span_id": span_id, "op": "event"}});
        item["spans"] = json!([]);
        "transaction"
    };
    let payload = serde_json::to_string(&item).expect("JSON values always serialize");
    let header = json!({"event_id": event_id, "dsn": config.address.trim()});
    let body = format!(
        "{header}\n{}\n{payload}\n",
        json!({"type": item_type, "length": payload.len()})
    );
    Ok(OutgoingRequest {
        method: Method::Post,
        url: endpoint,
        headers: vec![
            (
                "Content-Type".to_owned(),
                "application/x-sentry-envelope".to_owned(),
            ),
            (
                "X-Sentry-Auth".to_owned(),
                format!(
                    "Sentry sentry_version=7, sentry_client=sentry.go/0.30.0, sentry_key={key}"
                ),
            ),
        ],
        body: body.into_bytes(),
        check: ResponseCheck::Success,
    })
}

/// The revision an OpenTelemetry trace is keyed by, as Flux picks it.
fn otel_revision(event: &FluxEvent) -> String {
    match (
        event.metadata.get("oci-digest"),
        event.metadata.get("app-version"),
    ) {
        (Some(digest), Some(version)) => format!("{version}@{digest}"),
        _ => event
            .metadata
            .get("revision")
            .cloned()
            .unwrap_or_else(|| "unknown".to_owned()),
    }
}

fn unix_nanos(timestamp: &str) -> String {
    timestamp
        .parse::<Timestamp>()
        .map_or_else(|_| "0".to_owned(), |t| t.as_nanosecond().to_string())
}

/// OpenTelemetry: one span per event, exported as OTLP/HTTP JSON; the trace id is
/// sha256(`<alert UID>:<revision>`)[..16] so that all events of one revision share a
/// trace. `HelmRepository` events are skipped, as in Flux.
pub fn otel(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<Vec<OutgoingRequest>, PayloadError> {
    let mut url = parse_address(&config.address, "OTLP endpoint")?;
    if url.path().is_empty() || url.path() == "/" {
        url.set_path("/v1/traces");
    }
    if kind(event) == "HelmRepository" {
        return Ok(Vec::new());
    }
    let alert = &config.alert;
    let revision = otel_revision(event);
    let trace_id = hex::encode(&Sha256::digest(format!("{}:{revision}", alert.uid))[..16]);
    let span_id = derived_id(
        &[
            &trace_id,
            &event.timestamp,
            &object_title(event),
            &event.reason,
        ],
        8,
    );
    let string = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let mut attributes = vec![
        string(
            "object.uid",
            event.involved_object.uid.as_deref().unwrap_or_default(),
        ),
        string("object.kind", kind(event)),
        string("object.name", name(event)),
        string("object.namespace", namespace(event)),
    ];
    attributes.extend(event.metadata.iter().map(|(k, v)| string(k, v)));
    let status = if event.severity == "error" {
        json!({"code": 2, "message": event.message})
    } else {
        json!({"code": 1})
    };
    let time = unix_nanos(&event.timestamp);
    let span = json!({
        "traceId": trace_id,
        "spanId": span_id,
        "name": format!("{}: {}/{}", kind(event), namespace(event), name(event)),
        "kind": 1,
        "startTimeUnixNano": time,
        "endTimeUnixNano": time,
        "attributes": attributes,
        "status": status,
    });
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [
            string("service.name", &format!("{}/{}", alert.namespace, alert.name)),
            string("service.namespace", &alert.namespace),
            string("service.instance.id", &alert.uid),
        ]},
        "scopeSpans": [{"scope": {"name": "flux:notification-controller"}, "spans": [span]}],
        "schemaUrl": "https://opentelemetry.io/schemas/1.34.0",
    }]});
    let mut request = OutgoingRequest::json(url.as_str(), &body);
    let mut headers = config.headers.clone();
    let secret = if config.token.is_empty() {
        &config.password
    } else {
        &config.token
    };
    if !headers.is_empty() && headers.get("Authorization").is_none_or(String::is_empty) {
        if config.username.is_empty() {
            headers.insert("Authorization".to_owned(), format!("Bearer {secret}"));
        } else if !secret.is_empty() {
            let basic = STANDARD.encode(format!("{}:{secret}", config.username));
            headers.insert("Authorization".to_owned(), format!("Basic {basic}"));
        }
    }
    request.headers.extend(headers);
    Ok(vec![request])
}

/// Google Pub/Sub: `POST <endpoint>/v1/projects/<address>/topics/<channel>:publish` with the
/// event JSON as the message data and the Secret's headers as attributes. The endpoint is
/// `http://$PUBSUB_EMULATOR_HOST` when set (as Google's client), else
/// `https://pubsub.googleapis.com`; `bearer` is the access token (see
/// [`google_token_request`]).
pub fn google_pubsub(
    event: &FluxEvent,
    config: &ProviderConfig,
    bearer: Option<&str>,
) -> Result<OutgoingRequest, PayloadError> {
    let project = config.address.trim();
    if project.is_empty() {
        return Err(PayloadError::Invalid(
            "GCP project ID cannot be empty".to_owned(),
        ));
    }
    if config.channel.is_empty() {
        return Err(PayloadError::Invalid(
            "GCP Pub/Sub topic ID cannot be empty".to_owned(),
        ));
    }
    let endpoint = std::env::var("PUBSUB_EMULATOR_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .map_or_else(
            || "https://pubsub.googleapis.com".to_owned(),
            |h| format!("http://{h}"),
        );
    let data = STANDARD.encode(serde_json::to_vec(event).expect("events always serialize"));
    let mut message = json!({"data": data});
    if !config.headers.is_empty() {
        message["attributes"] = json!(config.headers);
    }
    let url = format!(
        "{endpoint}/v1/projects/{}/topics/{}:publish",
        super::path_escape(project),
        super::path_escape(&config.channel)
    );
    let mut request = OutgoingRequest::json(url, &json!({"messages": [message]}));
    if let Some(token) = bearer {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    Ok(request)
}

/// The OAuth 2.0 JWT-bearer request that trades the service-account key in the Secret's
/// `token` (Google's credentials JSON) for an access token, at the key's `token_uri`.
pub fn google_token_request(
    credentials: &str,
    now: Timestamp,
) -> Result<OutgoingRequest, PayloadError> {
    #[derive(serde::Deserialize)]
    struct ServiceAccount {
        client_email: String,
        private_key: String,
        #[serde(default)]
        private_key_id: String,
        #[serde(default = "default_token_uri")]
        token_uri: String,
    }
    fn default_token_uri() -> String {
        "https://oauth2.googleapis.com/token".to_owned()
    }
    let account: ServiceAccount = serde_json::from_str(credentials).map_err(|_| {
        PayloadError::Invalid(
            "the secret's 'token' is not a Google service account key (JSON)".to_owned(),
        )
    })?;
    let iat = now.as_second();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": account.private_key_id});
    let claims = json!({
        "iss": account.client_email,
        "scope": "https://www.googleapis.com/auth/pubsub",
        "aud": account.token_uri,
        "iat": iat,
        "exp": iat + 3600,
    });
    let assertion = crate::jwt::sign_rs256(&header, &claims, &account.private_key)
        .map_err(|e| PayloadError::Invalid(format!("invalid service account private key: {e}")))?;
    let body = format!(
        "grant_type={}&assertion={assertion}",
        query_escape("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    Ok(OutgoingRequest {
        method: Method::Post,
        url: account.token_uri,
        headers: vec![(
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )],
        body: body.into_bytes(),
        check: ResponseCheck::Success,
    })
}

/// A Shared Access Signature for `resource` valid until `expiry` (Unix seconds).
pub fn azure_sas(resource: &str, key_name: &str, key: &str, expiry: i64) -> String {
    let encoded = query_escape(resource);
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(format!("{encoded}\n{expiry}").as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    format!(
        "SharedAccessSignature sr={encoded}&sig={}&se={expiry}&skn={}",
        query_escape(&signature),
        query_escape(key_name)
    )
}

/// Azure Event Hubs over its REST API: `POST https://<namespace>/<hub>/messages`.
/// With a connection string (`Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…;
/// EntityPath=<hub>`) as the address the request is signed with a SAS token (an
/// `http(s)://` endpoint is kept as written, `sb://` becomes `https://`); otherwise the
/// address is the hub, `channel` the namespace and the token a bearer JWT.
pub fn azure_event_hub(
    event: &FluxEvent,
    config: &ProviderConfig,
    now: Timestamp,
) -> Result<OutgoingRequest, PayloadError> {
    let address = config.address.trim();
    if address.is_empty() {
        return Err(PayloadError::Invalid(
            "invalid authentication options: endpoint URL cannot be empty".to_owned(),
        ));
    }
    let (url, authorization) = if address.contains("SharedAccessKey") {
        if !config.token.is_empty() {
            return Err(PayloadError::Invalid(
                "invalid authentication options: jwt token and SAS authentication cannot be set at the same time"
                    .to_owned(),
            ));
        }
        let fields: BTreeMap<&str, &str> = address
            .split(';')
            .filter_map(|part| part.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        let (Some(endpoint), Some(key_name), Some(key), Some(hub)) = (
            fields.get("Endpoint"),
            fields.get("SharedAccessKeyName"),
            fields.get("SharedAccessKey"),
            fields.get("EntityPath"),
        ) else {
            return Err(PayloadError::Invalid(
                "failed to create a eventhub using SAS: the connection string needs Endpoint, SharedAccessKeyName, SharedAccessKey and EntityPath".to_owned(),
            ));
        };
        let endpoint = endpoint
            .strip_prefix("sb://")
            .map_or_else(|| (*endpoint).to_owned(), |rest| format!("https://{rest}"));
        let base = Url::parse(&endpoint)
            .map_err(|_| PayloadError::InvalidAddress("Azure Event Hub endpoint"))?;
        let resource = format!("{}/{hub}", super::origin(&base));
        let expiry = now.as_second() + 3600;
        (
            format!("{resource}/messages"),
            azure_sas(&resource, key_name, key, expiry),
        )
    } else {
        if config.token.is_empty() {
            return Err(PayloadError::Invalid(
                "failed to create a eventhub using managed identity: workload identity is not supported, set a token".to_owned(),
            ));
        }
        let namespace = if config.channel.contains(".servicebus.") {
            config.channel.clone()
        } else {
            format!("{}.servicebus.windows.net", config.channel)
        };
        (
            format!("https://{namespace}/{address}/messages"),
            format!("Bearer {}", config.token),
        )
    };
    Ok(OutgoingRequest {
        method: Method::Post,
        url,
        headers: vec![
            (
                "Content-Type".to_owned(),
                "application/atom+xml;type=entry;charset=utf-8".to_owned(),
            ),
            ("Authorization".to_owned(), authorization),
        ],
        body: serde_json::to_vec(event).expect("events always serialize"),
        check: ResponseCheck::Success,
    })
}
