//! Dispatch: for one matched Alert, read its Provider and Secrets, combine the metadata,
//! build the service's requests and send them in the background.
//!
//! Nothing here fails the HTTP request that brought the event: problems become Warning
//! events on the Alert (`NotificationDispatchFailed`, `MetadataAppendFailed`) and the
//! `gotk_notification_dispatch_failures_total{provider_type}` counter. Tokens, passwords
//! and Secret-held addresses are masked in every message.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferroflux_api::notification::v1beta3::{Alert, Provider};
use ferroflux_runtime::events::{EventRecorder, EventType, FluxEvent};
use ferroflux_runtime::metrics::Metrics;
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client, ResourceExt};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tracing::{debug, error, info};

use crate::event::matching::involved_object_string;
use crate::event::metadata;
use crate::index::Index;
use crate::provider::send::{Backoff, deliver_plan};
use crate::provider::{self, ProviderConfig, type_name};

/// Warning reason when a notification could not be prepared or delivered.
pub const DISPATCH_FAILED_REASON: &str = "NotificationDispatchFailed";
/// Warning reason when several metadata sources set the same key.
pub const METADATA_APPEND_FAILED_REASON: &str = "MetadataAppendFailed";
/// What replaces secrets in messages.
const MASK: &str = "*****";

/// Labels of the dispatch counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    /// The Provider's `spec.type`.
    pub provider_type: String,
}

/// Counters of delivered and failed notifications per provider type.
#[derive(Clone, Default)]
pub struct DispatchMetrics {
    sent: Family<ProviderLabels, Counter>,
    failures: Family<ProviderLabels, Counter>,
}

impl DispatchMetrics {
    /// Registers `gotk_notification_dispatch_total` and
    /// `gotk_notification_dispatch_failures_total` (both labelled `provider_type`).
    pub fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "gotk_notification_dispatch",
            "Notifications delivered to providers.",
            this.sent.clone(),
        );
        metrics.register(
            "gotk_notification_dispatch_failures",
            "Notifications that could not be prepared or delivered after retries.",
            this.failures.clone(),
        );
        this
    }

    fn count(&self, provider_type: &str, ok: bool) {
        let labels = ProviderLabels {
            provider_type: provider_type.to_owned(),
        };
        if ok { &self.sent } else { &self.failures }
            .get_or_create(&labels)
            .inc();
    }
}

/// Why a notification was not sent.
#[derive(Debug, thiserror::Error)]
enum DispatchError {
    #[error(
        "discarding event, access denied to cross-namespace sources: alert '{alert}' can't process event from '{object}', cross-namespace references have been blocked"
    )]
    CrossNamespace { alert: String, object: String },
    #[error("failed to read provider: provider '{0}' not found")]
    ProviderNotFound(String),
    #[error(
        "spec.serviceAccountName (workload identity) is not supported by this notification-controller"
    )]
    WorkloadIdentity,
    #[error("failed to get secret '{0}': {1}")]
    Secret(String, String),
    #[error("invalid secret '{0}': {1}")]
    SecretContent(String, String),
    #[error("failed to create commit status: {0}")]
    CommitStatus(String),
    #[error("failed to initialize notifier for provider '{0}': {1}")]
    Payload(String, provider::PayloadError),
}

/// Prepares and sends notifications.
pub struct Dispatcher {
    /// The Kubernetes client (Secrets).
    pub client: Client,
    /// Records Warning events on Alerts.
    pub recorder: EventRecorder,
    /// The watched Providers.
    pub index: Index,
    /// Dispatch counters.
    pub metrics: DispatchMetrics,
    /// `--no-cross-namespace-refs`.
    pub no_cross_namespace_refs: bool,
    /// Retry schedule of deliveries.
    pub backoff: Backoff,
}

struct Prepared {
    delivery: provider::Delivery,
    config: ProviderConfig,
    secrets: Vec<String>,
}

impl Dispatcher {
    /// Sends `event` (already cleaned) to `alert`'s Provider in the background.
    pub async fn dispatch(self: &Arc<Self>, event: &FluxEvent, alert: Arc<Alert>) {
        let object = involved_object_string(event);
        let provider_type = self
            .index
            .provider(
                &alert.namespace().unwrap_or_default(),
                &alert.spec.provider_ref.name,
            )
            .map_or_else(|| "unknown".to_owned(), |p| type_name(p.spec.type_));
        let prepared = match self.prepare(event, &alert).await {
            Ok(Some(prepared)) => prepared,
            Ok(None) => return,
            Err(e) => {
                let message = format!("failed to dispatch notification for {object}: {e}");
                error!(alert = %alert.name_any(), namespace = alert.namespace().unwrap_or_default(), error = %e, "failed to dispatch notification");
                self.warn(&alert, DISPATCH_FAILED_REASON, &message).await;
                self.metrics.count(&provider_type, false);
                return;
            }
        };
        info!(alert = %alert.name_any(), namespace = alert.namespace().unwrap_or_default(), object = %object, "dispatching event");
        let this = self.clone();
        tokio::spawn(async move {
            let result = deliver_plan(&prepared.delivery, &prepared.config, this.backoff).await;
            let type_ = type_name(prepared.config.type_);
            match result {
                Ok(()) => this.metrics.count(&type_, true),
                Err(e) => {
                    let masked = mask(&e.to_string(), &prepared.secrets);
                    error!(alert = %alert.name_any(), namespace = alert.namespace().unwrap_or_default(), error = %masked, "failed to send notification");
                    let message = format!("failed to send notification for {object}: {masked}");
                    this.warn(&alert, DISPATCH_FAILED_REASON, &message).await;
                    this.metrics.count(&type_, false);
                }
            }
        });
    }

    async fn warn(&self, alert: &Alert, reason: &str, message: &str) {
        self.recorder
            .publish(alert, EventType::Warning, reason, message, BTreeMap::new())
            .await;
    }

    async fn prepare(
        &self,
        event: &FluxEvent,
        alert: &Alert,
    ) -> Result<Option<Prepared>, DispatchError> {
        let namespace = alert.namespace().unwrap_or_default();
        if self.no_cross_namespace_refs
            && event.involved_object.namespace.as_deref() != Some(namespace.as_str())
        {
            return Err(DispatchError::CrossNamespace {
                alert: format!("{namespace}/{}", alert.name_any()),
                object: involved_object_string(event),
            });
        }
        let provider_name = &alert.spec.provider_ref.name;
        let provider = self
            .index
            .provider(&namespace, provider_name)
            .ok_or_else(|| {
                DispatchError::ProviderNotFound(format!("{namespace}/{provider_name}"))
            })?;
        if provider.spec.suspend.unwrap_or(false) || !wanted(event, &provider) {
            debug!(provider = %provider_name, "event not sent to this provider");
            return Ok(None);
        }
        if provider.spec.service_account_name.is_some() {
            return Err(DispatchError::WorkloadIdentity);
        }
        let mut notification = event.clone();
        let combined = metadata::combine(event, &alert.spec);
        if !combined.conflicts.is_empty() {
            self.report_conflicts(alert, &combined.conflicts).await;
        }
        notification.metadata = combined.metadata;
        let (mut config, secrets) = self.resolve(&provider).await?;
        config.alert = provider::AlertRef {
            name: alert.name_any(),
            namespace: namespace.clone(),
            uid: alert.uid().unwrap_or_default(),
        };
        if provider::is_commit_status(provider.spec.type_) {
            config.commit_status = commit_status_id(&notification, alert, &provider)?;
        }
        let delivery = provider::plan(&notification, &config)
            .map_err(|e| DispatchError::Payload(provider.name_any(), e))?;
        if delivery.is_empty() {
            debug!(provider = %provider_name, "nothing to send for this event");
            return Ok(None);
        }
        Ok(Some(Prepared {
            delivery,
            config,
            secrets,
        }))
    }

    async fn report_conflicts(&self, alert: &Alert, conflicts: &BTreeMap<String, Vec<&str>>) {
        const MESSAGE: &str = "metadata key conflicts detected (please refer to the Alert API docs and Flux RFC 0008 for more information)";
        let detail: Vec<String> = conflicts
            .iter()
            .map(|(key, sources)| format!("{key}: {}", sources.join(", ")))
            .collect();
        info!(alert = %alert.name_any(), conflicting_keys = ?detail, "warning: {MESSAGE}");
        self.warn(alert, METADATA_APPEND_FAILED_REASON, MESSAGE)
            .await;
    }

    async fn secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<BTreeMap<String, Vec<u8>>, DispatchError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let key = format!("{namespace}/{name}");
        match api.get(name).await {
            Ok(secret) => Ok(secret
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect()),
            Err(kube::Error::Api(status)) => Err(DispatchError::Secret(key, status.message)),
            Err(e) => Err(DispatchError::Secret(key, e.to_string())),
        }
    }

    /// The Provider's configuration with its Secrets read, and the values to mask.
    async fn resolve(
        &self,
        provider: &Provider,
    ) -> Result<(ProviderConfig, Vec<String>), DispatchError> {
        let namespace = provider.namespace().unwrap_or_default();
        let spec = &provider.spec;
        let secret = match &spec.secret_ref {
            Some(reference) => Some((
                reference.name.clone(),
                self.secret(&namespace, &reference.name).await?,
            )),
            None => None,
        };
        let proxy = match &spec.proxy_secret_ref {
            Some(reference) => Some(self.secret(&namespace, &reference.name).await?),
            None => None,
        };
        let certificates = match &spec.cert_secret_ref {
            Some(reference) => Some(self.secret(&namespace, &reference.name).await?),
            None => None,
        };
        crate::dispatch::config::build(provider, secret, proxy.as_ref(), certificates.as_ref())
            .map_err(|(name, message)| {
                DispatchError::SecretContent(format!("{namespace}/{name}"), message)
            })
    }
}

/// The commit status id: `spec.commitStatusExpr` evaluated, else Flux's default.
fn commit_status_id(
    event: &FluxEvent,
    alert: &Alert,
    provider: &Provider,
) -> Result<String, DispatchError> {
    match provider
        .spec
        .commit_status_expr
        .as_deref()
        .filter(|e| !e.is_empty())
    {
        Some(expression) => crate::filter::commit_status(expression, event, alert, provider)
            .map_err(DispatchError::CommitStatus),
        None => Ok(provider::commit_status::default_id(
            &provider.uid().unwrap_or_default(),
            event,
        )),
    }
}

/// Flux's routing of commit-status and change-request events.
fn wanted(event: &FluxEvent, provider: &Provider) -> bool {
    let type_ = provider.spec.type_;
    let commit_status_update = metadata::controller_value(event, "commit_status") == Some("update");
    let has = |key: &str| {
        event
            .metadata
            .get(&format!("{}{key}", metadata::EVENT_GROUP_PREFIX))
            .is_some_and(|v| !v.is_empty())
    };
    let generic = matches!(
        type_,
        ferroflux_api::notification::v1beta3::ProviderType::Generic
            | ferroflux_api::notification::v1beta3::ProviderType::GenericHmac
    );
    if commit_status_update && !provider::is_commit_status(type_) && !generic {
        return false;
    }
    if provider::is_commit_status(type_)
        && !has("commit")
        && !commit_status_update
        && event.severity != "error"
    {
        return false;
    }
    !provider::is_change_request(type_) || has("change_request")
}

/// Replaces every non-empty secret in `message`.
pub fn mask(message: &str, secrets: &[String]) -> String {
    let mut masked = message.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        masked = masked.replace(secret.as_str(), MASK);
    }
    masked
}

mod config;
