//! Events: Kubernetes Events on the object, and the same event forwarded to the
//! notification-controller as Flux's `event.toolkit.fluxcd.io/v1beta1` JSON.
//!
//! Recording never fails a reconciliation: problems are logged. Repeats of the same event
//! on the same object bump the count of the existing Kubernetes Event instead of creating
//! a new one, as client-go's recorder does. Forwarding happens on a background task with
//! retries (connection errors and 5xx; 429 means "duplicate" and is not retried).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;
use tracing::{debug, error};

/// Annotations with this prefix on a Flux object are copied into its events' metadata.
pub const EVENT_ANNOTATION_PREFIX: &str = "event.toolkit.fluxcd.io/";
/// The longest message forwarded to the notification-controller.
pub const MAX_FORWARDED_MESSAGE: usize = 39_000;

/// Kubernetes event types (Flux also has `Trace`, recorded as Normal and never forwarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Informational; forwarded with severity `info`.
    Normal,
    /// A failure; forwarded with severity `error`.
    Warning,
    /// Informational and Kubernetes-only.
    Trace,
}

impl EventType {
    fn kubernetes(self) -> &'static str {
        match self {
            Self::Normal | Self::Trace => "Normal",
            Self::Warning => "Warning",
        }
    }

    fn severity(self) -> &'static str {
        match self {
            Self::Normal => "info",
            Self::Warning => "error",
            Self::Trace => "trace",
        }
    }
}

/// The JSON body Flux controllers POST to the notification-controller.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FluxEvent {
    /// The object the event is about.
    pub involved_object: ObjectReference,
    /// `info`, `error` or `trace`.
    pub severity: String,
    /// When the event happened (RFC 3339).
    pub timestamp: String,
    /// What happened.
    pub message: String,
    /// Why, as a CamelCase reason.
    pub reason: String,
    /// Revision and other facts, keys prefixed with the object's API group.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// The controller that emitted the event.
    pub reporting_controller: String,
    /// The controller instance (pod name) that emitted the event.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporting_instance: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    uid: String,
    type_: EventType,
    reason: String,
    message: String,
}

/// Writes Kubernetes Events and forwards them to the notification-controller.
#[derive(Clone)]
pub struct EventRecorder {
    client: Client,
    controller: String,
    instance: String,
    forwarder: Option<mpsc::Sender<FluxEvent>>,
    series: Arc<Mutex<HashMap<SeriesKey, (String, i32)>>>,
}

impl EventRecorder {
    /// A recorder for `controller`; when `events_addr` is set, events are also POSTed there.
    pub fn new(client: Client, controller: &str, events_addr: Option<&str>) -> Self {
        let instance = std::env::var("HOSTNAME").unwrap_or_default();
        let forwarder = events_addr
            .filter(|a| !a.is_empty())
            .map(|address| spawn_forwarder(address.to_owned()));
        Self {
            client,
            controller: controller.to_owned(),
            instance,
            forwarder,
            series: Arc::default(),
        }
    }

    /// Records an event about `object`. `metadata` keys are names such as `revision`;
    /// they are prefixed with the object's API group when forwarded.
    pub async fn publish<K: Resource<DynamicType = ()>>(
        &self,
        object: &K,
        type_: EventType,
        reason: &str,
        message: &str,
        metadata: BTreeMap<String, String>,
    ) {
        let reference = object.object_ref(&());
        if let Err(e) = self
            .record_kubernetes(&reference, type_, reason, message, &metadata)
            .await
        {
            error!(error = %e, reason, "failed to record Kubernetes event");
        }
        if type_ == EventType::Trace {
            return;
        }
        if let Some(forwarder) = &self.forwarder {
            let event = self.flux_event(object, reference, type_, reason, message, metadata);
            if forwarder.try_send(event).is_err() {
                error!(reason, "event forwarding queue is full; event dropped");
            }
        }
    }

    /// The event as Flux forwards it.
    pub fn flux_event<K: Resource<DynamicType = ()>>(
        &self,
        object: &K,
        reference: ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
        metadata: BTreeMap<String, String>,
    ) -> FluxEvent {
        let group = K::group(&()).to_string();
        let mut all = BTreeMap::new();
        for (key, value) in object.annotations() {
            if key.starts_with(EVENT_ANNOTATION_PREFIX) {
                all.insert(key.clone(), value.clone());
            }
        }
        for (key, value) in metadata {
            all.insert(format!("{group}/{key}"), value);
        }
        let mut message = message.to_owned();
        if message.len() > MAX_FORWARDED_MESSAGE {
            let mut end = MAX_FORWARDED_MESSAGE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        FluxEvent {
            involved_object: reference,
            severity: type_.severity().to_owned(),
            timestamp: Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            message,
            reason: reason.to_owned(),
            metadata: all,
            reporting_controller: self.controller.clone(),
            reporting_instance: self.instance.clone(),
        }
    }

    async fn record_kubernetes(
        &self,
        reference: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), kube::Error> {
        let namespace = reference
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let now = Time(Timestamp::now());
        let key = SeriesKey {
            uid: reference.uid.clone().unwrap_or_default(),
            type_,
            reason: reason.to_owned(),
            message: message.to_owned(),
        };
        let existing = self
            .series
            .lock()
            .expect("series lock is never poisoned")
            .get(&key)
            .cloned();
        if let Some((name, count)) = existing {
            let patch = json!({"count": count + 1, "lastTimestamp": now});
            if api
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .is_ok()
            {
                self.series
                    .lock()
                    .expect("series lock is never poisoned")
                    .insert(key, (name, count + 1));
                return Ok(());
            }
        }
        let name = format!(
            "{}.{:x}",
            reference.name.clone().unwrap_or_default(),
            Timestamp::now().as_nanosecond()
        );
        let annotations: BTreeMap<String, String> = metadata
            .iter()
            .map(|(k, v)| (format!("{}/{k}", group_of(reference)), v.clone()))
            .collect();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace),
                annotations: (!annotations.is_empty()).then_some(annotations),
                ..ObjectMeta::default()
            },
            involved_object: reference.clone(),
            reason: Some(reason.to_owned()),
            message: Some(message.to_owned()),
            type_: Some(type_.kubernetes().to_owned()),
            source: Some(EventSource {
                component: Some(self.controller.clone()),
                host: None,
            }),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            count: Some(1),
            reporting_component: Some(self.controller.clone()),
            reporting_instance: Some(if self.instance.is_empty() {
                self.controller.clone()
            } else {
                self.instance.clone()
            }),
            ..Event::default()
        };
        api.create(&PostParams::default(), &event).await?;
        let mut series = self.series.lock().expect("series lock is never poisoned");
        if series.len() > 4096 {
            series.clear();
        }
        series.insert(key, (name, 1));
        Ok(())
    }
}

fn group_of(reference: &ObjectReference) -> String {
    reference
        .api_version
        .as_deref()
        .and_then(|v| v.split_once('/'))
        .map(|(group, _)| group.to_owned())
        .unwrap_or_default()
}

/// Starts the background task that POSTs events to the notification-controller.
fn spawn_forwarder(address: String) -> mpsc::Sender<FluxEvent> {
    let (sender, mut receiver) = mpsc::channel::<FluxEvent>(1024);
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client with a timeout can always be built");
        while let Some(event) = receiver.recv().await {
            post_with_retries(&client, &address, &event).await;
        }
    });
    sender
}

/// POSTs one event: up to 4 retries with backoff from 1s to 30s on connection errors and
/// 5xx; 4xx (429 = duplicate) ends the attempt.
pub async fn post_with_retries(client: &reqwest::Client, address: &str, event: &FluxEvent) -> bool {
    let mut wait = Duration::from_secs(1);
    for attempt in 0..=4 {
        match client.post(address).json(event).send().await {
            Ok(response) if response.status().is_success() => return true,
            Ok(response) if response.status().is_client_error() => {
                debug!(status = %response.status(), reason = %event.reason, "event not accepted by the notification-controller");
                return false;
            }
            Ok(response) => {
                debug!(status = %response.status(), attempt, "event forwarding failed, retrying");
            }
            Err(e) => debug!(error = %e, attempt, "event forwarding failed, retrying"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(30));
    }
    error!(reason = %event.reason, address, "giving up forwarding event to the notification-controller");
    false
}
