//! Providers: how each service wants a Flux event delivered.
//!
//! [`requests`] is pure: from the event (metadata already combined) and the Provider's
//! resolved configuration it builds the HTTP requests the service expects. [`send`]
//! delivers them. Each service's payload follows Flux's notifier of the same name and is
//! snapshot-tested.

mod alerting;
pub mod change_request;
mod chat;
pub mod commit_status;
mod generic;
pub mod nats;
pub mod send;
mod services;
mod slack;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use ferroflux_api::notification::v1beta3::ProviderType;
use ferroflux_runtime::events::FluxEvent;
use reqwest::Url;

/// The default time one delivery (with its retries) may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Everything a payload builder needs to know about a Provider, with the Secrets read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The service.
    pub type_: ProviderType,
    /// The Provider's UID (for Opsgenie aliases).
    pub uid: String,
    /// The address: the Secret's `address`, else `spec.address`.
    pub address: String,
    /// `spec.channel`.
    pub channel: String,
    /// `spec.username`, or the Secret's `username` when it also has a `password`.
    pub username: String,
    /// The Secret's `password`.
    pub password: String,
    /// The Secret's `token`.
    pub token: String,
    /// Extra headers from the Secret's `headers` (YAML map).
    pub headers: BTreeMap<String, String>,
    /// The proxy URL, if any.
    pub proxy: Option<String>,
    /// PEM CA certificates to trust (`ca.crt`).
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate and key (`tls.crt` + `tls.key`).
    pub client_identity_pem: Option<Vec<u8>>,
    /// How long one delivery may take.
    pub timeout: Duration,
    /// The commit status id (commit-status providers): `spec.commitStatusExpr`'s value or
    /// Flux's default `<kind>/<name>/<provider UID prefix>`.
    pub commit_status: String,
    /// The Alert the event is sent for (OpenTelemetry's resource).
    pub alert: AlertRef,
    /// The keys of the `secretRef` Secret (NATS refuses `creds`/`nkey`).
    pub secret_keys: Vec<String>,
}

/// Name, namespace and UID of an Alert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertRef {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`.
    pub uid: String,
}

/// How a notification reaches its service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Delivery {
    /// Plain HTTP requests, sent in order.
    Http(Vec<OutgoingRequest>),
    /// List the commit's statuses, create ours unless already there.
    CommitStatus(Box<commit_status::Plan>),
    /// Find our comment on the change request, edit it or create it.
    Comment(Box<change_request::Plan>),
    /// A NATS publish.
    Nats(nats::Publish),
    /// Trade a Google service-account assertion for an access token, then send `then`
    /// with it as bearer.
    GoogleToken {
        /// The token request.
        token: OutgoingRequest,
        /// The Pub/Sub publish.
        then: OutgoingRequest,
    },
}

impl Delivery {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Http(requests) if requests.is_empty())
    }
}

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Method {
    /// POST, what most services take.
    #[serde(rename = "POST")]
    Post,
    /// PUT (Matrix).
    #[serde(rename = "PUT")]
    Put,
    /// GET (commit-status lists).
    #[serde(rename = "GET")]
    Get,
    /// PATCH (comment edits).
    #[serde(rename = "PATCH")]
    Patch,
}

/// How a response is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ResponseCheck {
    /// Any 2xx.
    Success,
    /// 2xx and a JSON body `{"ok": true}` (Slack's `chat.postMessage`).
    SlackOk,
    /// 2xx, or 404 meaning "none yet" (Bitbucket status lookups).
    NotFoundOk,
}

/// One HTTP request to a service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutgoingRequest {
    /// The method.
    pub method: Method,
    /// The full URL.
    pub url: String,
    /// Headers, in the order they are set.
    pub headers: Vec<(String, String)>,
    /// The body.
    #[serde(serialize_with = "body_as_text")]
    pub body: Vec<u8>,
    /// How the response is judged.
    pub check: ResponseCheck,
}

fn body_as_text<S: serde::Serializer>(body: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => serde::Serialize::serialize(&json, serializer),
        Err(_) => serializer.serialize_str(&String::from_utf8_lossy(body)),
    }
}

impl OutgoingRequest {
    /// A JSON POST.
    pub fn json(url: impl Into<String>, body: &serde_json::Value) -> Self {
        Self {
            method: Method::Post,
            url: url.into(),
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: serde_json::to_vec(body).expect("JSON values always serialize"),
            check: ResponseCheck::Success,
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// Why no request could be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    /// The type is part of Flux's API but not implemented here.
    #[error("provider type '{0}' is not supported by this notification-controller")]
    Unsupported(String),
    /// The address is missing or not an absolute URL (the address is not repeated: it
    /// may be a secret).
    #[error("invalid {0} address: the address must be an absolute URL")]
    InvalidAddress(&'static str),
    /// Something the service needs is missing.
    #[error("{0}")]
    Invalid(String),
}

/// The name of a provider type as Provider objects spell it.
pub fn type_name(type_: ProviderType) -> String {
    serde_json::to_value(type_)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The requests that deliver `event` through the Provider; empty when the service has
/// nothing to do with this event (PagerDuty skips `Progressing`).
pub fn requests(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<Vec<OutgoingRequest>, PayloadError> {
    let one = |request: Result<OutgoingRequest, PayloadError>| request.map(|r| vec![r]);
    match config.type_ {
        ProviderType::Slack => one(slack::slack(event, config)),
        ProviderType::Discord => one(slack::discord(event, config)),
        ProviderType::Rocket => one(slack::rocket(event, config)),
        ProviderType::Generic => one(generic::generic(event, config, false)),
        ProviderType::GenericHmac => one(generic::generic(event, config, true)),
        ProviderType::Msteams => one(chat::msteams(event, config)),
        ProviderType::Googlechat => one(chat::google_chat(event, config)),
        ProviderType::Webex => one(chat::webex(event, config)),
        ProviderType::Telegram => one(chat::telegram(event, config)),
        ProviderType::Matrix => one(chat::matrix(event, config)),
        ProviderType::Lark => one(chat::lark(event, config)),
        ProviderType::Zulip => one(chat::zulip(event, config)),
        ProviderType::Opsgenie => one(alerting::opsgenie(event, config)),
        ProviderType::Alertmanager => one(alerting::alertmanager(event, config)),
        ProviderType::Grafana => one(alerting::grafana(event, config)),
        ProviderType::Datadog => one(alerting::datadog(event, config)),
        ProviderType::Pagerduty => alerting::pagerduty(event, config),
        ProviderType::Zoom => one(services::zoom(event, config)),
        ProviderType::IncidentIo => services::incidentio(event, config),
        ProviderType::Sentry => services::sentry_requests(event, config),
        ProviderType::Otel => services::otel(event, config),
        ProviderType::Githubdispatch => one(commit_status::github_dispatch(event, config)),
        ProviderType::Azureeventhub => one(services::azure_event_hub(
            event,
            config,
            jiff::Timestamp::now(),
        )),
        ProviderType::Googlepubsub => one(services::google_pubsub(event, config, None)),
        other => Err(PayloadError::Unsupported(type_name(other))),
    }
}

/// How to deliver `event` through the Provider: [`requests`] for HTTP services, the
/// commit-status, NATS and Google token flows for the others.
pub fn plan(event: &FluxEvent, config: &ProviderConfig) -> Result<Delivery, PayloadError> {
    match config.type_ {
        type_ if is_commit_status(type_) => Ok(commit_status::plan(event, config)?.map_or_else(
            || Delivery::Http(Vec::new()),
            |p| Delivery::CommitStatus(Box::new(p)),
        )),
        type_ if is_change_request(type_) => Ok(Delivery::Comment(Box::new(change_request::plan(
            event, config,
        )?))),
        ProviderType::Nats => Ok(Delivery::Nats(nats::publish_plan(event, config)?)),
        ProviderType::Googlepubsub if !config.token.is_empty() => Ok(Delivery::GoogleToken {
            token: services::google_token_request(&config.token, jiff::Timestamp::now())?,
            then: services::google_pubsub(event, config, None)?,
        }),
        _ => requests(event, config).map(Delivery::Http),
    }
}

/// Whether the type sets Git commit statuses.
pub fn is_commit_status(type_: ProviderType) -> bool {
    matches!(
        type_,
        ProviderType::Github
            | ProviderType::Gitlab
            | ProviderType::Gitea
            | ProviderType::Bitbucketserver
            | ProviderType::Bitbucket
            | ProviderType::Azuredevops
    )
}

/// Whether the type comments on pull or merge requests.
pub fn is_change_request(type_: ProviderType) -> bool {
    matches!(
        type_,
        ProviderType::Githubpullrequestcomment
            | ProviderType::Gitlabmergerequestcomment
            | ProviderType::Giteapullrequestcomment
    )
}

/// The address parsed as an absolute URL.
fn parse_address(address: &str, service: &'static str) -> Result<Url, PayloadError> {
    Url::parse(address.trim()).map_err(|_| PayloadError::InvalidAddress(service))
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}",
        url.scheme(),
        url.host_str().unwrap_or_default()
    )
}

/// `<kind-lowercase>/<name>.<namespace>`, how most services title an event.
fn object_title(event: &FluxEvent) -> String {
    let object = &event.involved_object;
    format!(
        "{}/{}.{}",
        object.kind.as_deref().unwrap_or_default().to_lowercase(),
        object.name.as_deref().unwrap_or_default(),
        object.namespace.as_deref().unwrap_or_default()
    )
}

fn is_error(event: &FluxEvent) -> bool {
    event.severity == "error"
}

fn kind(event: &FluxEvent) -> &str {
    event.involved_object.kind.as_deref().unwrap_or_default()
}

fn name(event: &FluxEvent) -> &str {
    event.involved_object.name.as_deref().unwrap_or_default()
}

fn namespace(event: &FluxEvent) -> &str {
    event
        .involved_object
        .namespace
        .as_deref()
        .unwrap_or_default()
}

/// Go's `url.QueryEscape`: unreserved characters kept, space as `+`, others `%XX`.
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// Go's `url.PathEscape`: like [`query_escape`] but space as `%20`.
fn path_escape(value: &str) -> String {
    query_escape(value).replace('+', "%20")
}

/// Splits a CamelCase reason into words as Flux does (`ReconciliationSucceeded` →
/// `Reconciliation`, `Succeeded`; `HTTPError` → `HTTP`, `Error`).
fn split_camel_case(text: &str) -> Vec<String> {
    fn class(c: char) -> u8 {
        if c.is_lowercase() {
            1
        } else if c.is_uppercase() {
            2
        } else if c.is_numeric() {
            3
        } else {
            4
        }
    }
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last = 0;
    for c in text.chars() {
        let current = class(c);
        match runs.last_mut() {
            Some(run) if current == last => run.push(c),
            _ => runs.push(vec![c]),
        }
        last = current;
    }
    for i in 0..runs.len().saturating_sub(1) {
        if runs[i][0].is_uppercase()
            && runs[i + 1][0].is_lowercase()
            && let Some(moved) = runs[i].pop()
        {
            runs[i + 1].insert(0, moved);
        }
    }
    runs.into_iter()
        .filter(|run| !run.is_empty())
        .map(|run| run.into_iter().collect())
        .collect()
}

#[cfg(test)]
mod tests;
