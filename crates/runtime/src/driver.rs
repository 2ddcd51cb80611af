//! The reconcile driver: what every Flux reconciler does around its own phases.
//!
//! Like the `defer` blocks of Flux's Go reconcilers, the driver owns the parts no
//! controller may forget: the finalizer, the deletion path, `suspend`, and — on every
//! path — the final status patch (server-side apply with the controller's status field
//! manager) with `lastHandledReconcileAt`, `observedGeneration`, the `Ready`, `Stalled` and
//! `Reconciling` conditions derived from the outcome, the duration metric, and events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferroflux_api::constants::{FINALIZER, RECONCILE_REQUESTED_AT_ANNOTATION};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Client, ResourceExt};
use serde_json::json;
use tracing::{debug, info};

use crate::clock::Clock;
use crate::conditions::{self, Conditions};
use crate::error::{Disposition, ReconcileError};
use crate::events::{EventRecorder, EventType};
use crate::metrics::Metrics;
use crate::object::{FluxObject, FluxStatus};

/// Condition type names the driver manages.
pub mod types {
    /// Summary condition.
    pub const READY: &str = "Ready";
    /// Present (True) while a reconciliation is under way or being retried.
    pub const RECONCILING: &str = "Reconciling";
    /// Present (True) when retrying cannot help until the spec changes.
    pub const STALLED: &str = "Stalled";
}

/// Reasons the driver sets.
pub mod reasons {
    /// Reconciling=True while work is under way.
    pub const PROGRESSING: &str = "Progressing";
    /// Reconciling=True after a failure, while retrying.
    pub const PROGRESSING_WITH_RETRY: &str = "ProgressingWithRetry";
}

/// How a successful reconciliation wants to be scheduled next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done: reconcile again after the object's interval (with jitter).
    Done,
    /// Reconcile again after the given time.
    RequeueAfter(Duration),
}

/// Everything the driver and reconcilers share: the client, the controller's identity,
/// the event recorder, metrics and the clock.
#[derive(Clone)]
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// The controller's name, e.g. `source-controller`.
    pub controller: &'static str,
    /// The field manager of status patches: `gotk-kustomize-controller` for the kustomize-
    /// and helm-controllers, the controller's own name for the source-controller (as Flux).
    pub status_manager: String,
    /// Writes Kubernetes Events and forwards them to the notification-controller.
    pub recorder: EventRecorder,
    /// The controller's Prometheus metrics.
    pub metrics: Metrics,
    /// The clock used for condition times.
    pub clock: Arc<dyn Clock>,
    /// The ± jitter applied to the interval after success, in percent.
    pub jitter_percent: u32,
    /// The resourceVersion of each object after this process last wrote its status.
    pub status_versions: StatusVersions,
}

/// What this process last wrote to each object's status: the resourceVersion the object
/// had right after (when the watch cache hands an object at exactly that version, its
/// status is the one written last) and, for small statuses of kinds that read them back
/// (`FluxObject::KEEPS_WRITTEN_STATUS`), the status itself with the generation it was
/// written for (so a reconciler handed an object the watch has not caught up with yet
/// need not read the status back from the API server).
#[derive(Clone, Default)]
pub struct StatusVersions(Arc<std::sync::Mutex<std::collections::HashMap<String, Written>>>);

/// One object's last status write.
struct Written {
    resource_version: String,
    generation: Option<i64>,
    /// The status as written (JSON), when under [`KEPT_STATUS_SIZE`].
    status: Option<Vec<u8>>,
}

/// Statuses up to this size (serialized) of kinds that read them back are kept after a
/// write; larger ones are read back from the API server when needed rather than held
/// twice in memory.
const KEPT_STATUS_SIZE: usize = 16 * 1024;

impl StatusVersions {
    fn key<K: FluxObject>(object: &K) -> String {
        format!(
            "{}/{}/{}",
            K::kind(&()),
            object.namespace().unwrap_or_default(),
            object.name_any()
        )
    }

    fn record<K: FluxObject>(&self, object: &K, written: Option<Written>) {
        if let Ok(mut versions) = self.0.lock() {
            match written {
                Some(written) => versions.insert(Self::key(object), written),
                None => versions.remove(&Self::key(object)),
            };
        }
    }

    /// Forgets a deleted object.
    pub fn forget<K: FluxObject>(&self, object: &K) {
        self.record(object, None);
    }

    /// Whether `object` is exactly as this process's last status patch left it.
    pub fn is_current<K: FluxObject>(&self, object: &K) -> bool {
        let Some(version) = object.meta().resource_version.as_ref() else {
            return false;
        };
        self.0.lock().is_ok_and(|versions| {
            versions
                .get(&Self::key(object))
                .is_some_and(|w| w.resource_version == *version)
        })
    }

    /// The status this process last wrote to `object`, when it was kept and written for
    /// the object's current generation.
    pub fn last_written<K: FluxObject>(&self, object: &K) -> Option<K::Status> {
        let versions = self.0.lock().ok()?;
        let written = versions.get(&Self::key(object))?;
        if written.generation != object.meta().generation {
            return None;
        }
        serde_json::from_slice(written.status.as_deref()?).ok()
    }
}

impl Context {
    /// Patches `status` onto the object now (used by reconcilers to publish progress).
    pub async fn patch_status<K: FluxObject>(
        &self,
        object: &K,
        status: &K::Status,
    ) -> Result<(), kube::Error> {
        let api: Api<K> =
            Api::namespaced(self.client.clone(), &object.namespace().unwrap_or_default());
        let body = json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "status": status,
        });
        let patched = api
            .patch_status(
                &object.name_any(),
                &PatchParams::apply(&self.status_manager).force(),
                &Patch::Apply(body),
            )
            .await?;
        let kept = K::KEEPS_WRITTEN_STATUS
            .then(|| serde_json::to_vec(status).ok())
            .flatten()
            .filter(|bytes| bytes.len() <= KEPT_STATUS_SIZE);
        self.status_versions.record(
            object,
            patched
                .meta()
                .resource_version
                .clone()
                .map(|version| Written {
                    resource_version: version,
                    generation: object.meta().generation,
                    status: kept,
                }),
        );
        Ok(())
    }

    /// Marks the object as being reconciled (`Reconciling=True`, `Ready=Unknown`, both
    /// `Progressing` with `message`) and patches the status at once, so that watchers see
    /// the work under way.
    pub async fn mark_reconciling<K: FluxObject>(
        &self,
        object: &K,
        status: &mut K::Status,
        message: &str,
    ) -> Result<(), kube::Error> {
        let generation = object.meta().generation.unwrap_or_default();
        let mut conditions =
            Conditions::new(status.conditions_mut(), generation, self.clock.as_ref());
        conditions.mark_true(types::RECONCILING, reasons::PROGRESSING, message);
        conditions.mark_unknown(
            types::READY,
            reasons::PROGRESSING,
            "Reconciliation in progress",
        );
        self.patch_status(object, status).await
    }
}

/// A kind's reconciler: the phases that are specific to it.
pub trait Reconciler<K: FluxObject>: Send + Sync + 'static {
    /// The reconciler's error type.
    type Error: ReconcileError;

    /// Brings the world in line with `object`, recording what it did in `status`
    /// (including the `Ready` condition on success).
    fn reconcile(
        &self,
        context: &Context,
        object: &K,
        status: &mut K::Status,
    ) -> impl Future<Output = Result<Outcome, Self::Error>> + Send;

    /// Cleans up before the finalizer is removed from a deleted object.
    fn cleanup(
        &self,
        context: &Context,
        object: &K,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Failures of the driver itself (talking to the API server), retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// A call to the API server failed.
    #[error("{action}: {source}")]
    Kube {
        /// What the driver was doing.
        action: &'static str,
        /// The API error.
        #[source]
        source: kube::Error,
    },
    /// Cleanup of a deleted object failed; the finalizer stays until it succeeds.
    #[error("cleanup failed: {0}")]
    Cleanup(String),
}

/// Runs one reconciliation of `object` with `reconciler`: the function given to kube's
/// `Controller::run`.
pub async fn reconcile<K, R>(
    object: Arc<K>,
    reconciler: Arc<R>,
    context: Arc<Context>,
) -> Result<Action, DriverError>
where
    K: FluxObject,
    R: Reconciler<K>,
{
    let object = object.as_ref();
    if object.meta().deletion_timestamp.is_some() {
        return finalize(object, reconciler.as_ref(), &context).await;
    }
    if !object.finalizers().iter().any(|f| f == FINALIZER) {
        add_finalizer(object, &context).await?;
    }
    if object.suspended() {
        info!(name = %object.name_any(), namespace = object.namespace().unwrap_or_default(), "Reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }

    let started = Instant::now();
    let mut status = object.status().cloned().unwrap_or_default();
    // A new attempt is not stalled: a leftover Stalled condition would otherwise win the
    // Ready summary of a reconciler that now succeeds. finish() sets it again if needed.
    Conditions::new(
        status.conditions_mut(),
        object.meta().generation.unwrap_or_default(),
        context.clock.as_ref(),
    )
    .delete(types::STALLED);
    let result = reconciler.reconcile(&context, object, &mut status).await;
    let action = finish(object, &context, &mut status, result).await;
    // Always written, even when equal to the status read at the start: the reconciler may
    // have published progress (Reconciling, Ready=Unknown) in between, and an unchanged
    // server-side apply is a no-op for the API server.
    context
        .patch_status(object, &status)
        .await
        .map_err(|source| DriverError::Kube {
            action: "patching status",
            source,
        })?;
    context.metrics.observe_reconcile(
        K::kind(&()).as_ref(),
        &object.name_any(),
        &object.namespace().unwrap_or_default(),
        started.elapsed(),
    );
    Ok(action)
}

/// Derives the final conditions from the result, emits the failure event and decides
/// when to run again.
async fn finish<K: FluxObject, E: ReconcileError>(
    object: &K,
    context: &Context,
    status: &mut K::Status,
    result: Result<Outcome, E>,
) -> Action {
    let generation = object.meta().generation.unwrap_or_default();
    if let Some(token) = object.annotations().get(RECONCILE_REQUESTED_AT_ANNOTATION) {
        status.set_last_handled_reconcile_at(token.clone());
    }
    let clock = context.clock.as_ref();
    match result {
        Ok(outcome) => {
            let mut conditions = Conditions::new(status.conditions_mut(), generation, clock);
            conditions.delete(types::RECONCILING);
            conditions.delete(types::STALLED);
            status.set_observed_generation(generation);
            match outcome {
                Outcome::Done => Action::requeue(jitter(object.interval(), context.jitter_percent)),
                Outcome::RequeueAfter(after) => Action::requeue(after),
            }
        }
        Err(error) => {
            let reason = error.reason().to_owned();
            let message = error.to_string();
            let disposition = error.disposition();
            let mut conditions = Conditions::new(status.conditions_mut(), generation, clock);
            conditions.mark_false(types::READY, &reason, message.clone());
            let (event_type, action) = match disposition {
                Disposition::Stalled => {
                    let (stalled_reason, stalled_message) = error.stalled_condition().map_or_else(
                        || (reason.clone(), message.clone()),
                        |(r, m)| (r.to_owned(), m),
                    );
                    conditions.mark_true(types::STALLED, &stalled_reason, stalled_message);
                    conditions.delete(types::RECONCILING);
                    status.set_observed_generation(generation);
                    (EventType::Warning, Action::await_change())
                }
                Disposition::Wait(after) => {
                    retrying(&mut conditions);
                    (EventType::Normal, Action::requeue(after))
                }
                Disposition::Retry => {
                    retrying(&mut conditions);
                    (EventType::Warning, Action::requeue(object.retry_interval()))
                }
            };
            debug!(name = %object.name_any(), %reason, error = %message, "reconciliation failed");
            if error.emits_event() {
                context
                    .recorder
                    .publish(object, event_type, &reason, &message, BTreeMap::new())
                    .await;
            } else {
                info!(name = %object.name_any(), namespace = object.namespace().unwrap_or_default(), %reason, "{message}");
            }
            action
        }
    }
}

/// After a non-terminal failure: no longer stalled, and still reconciling if it was.
fn retrying(conditions: &mut Conditions<'_>) {
    conditions.delete(types::STALLED);
    if let Some(reconciling) = conditions.get(types::RECONCILING).cloned() {
        conditions.mark_true(
            types::RECONCILING,
            reasons::PROGRESSING_WITH_RETRY,
            reconciling.message,
        );
    }
}

async fn finalize<K: FluxObject, R: Reconciler<K>>(
    object: &K,
    reconciler: &R,
    context: &Context,
) -> Result<Action, DriverError> {
    if !object.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    reconciler
        .cleanup(context, object)
        .await
        .map_err(|e| DriverError::Cleanup(e.to_string()))?;
    let remaining: Vec<String> = object
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    set_finalizers(object, context, remaining, "removing the finalizer").await?;
    context.metrics.forget(
        K::kind(&()).as_ref(),
        &object.name_any(),
        &object.namespace().unwrap_or_default(),
    );
    context.status_versions.forget(object);
    Ok(Action::await_change())
}

async fn add_finalizer<K: FluxObject>(object: &K, context: &Context) -> Result<(), DriverError> {
    let mut finalizers = object.finalizers().to_vec();
    finalizers.push(FINALIZER.to_owned());
    set_finalizers(object, context, finalizers, "adding the finalizer").await
}

/// Replaces the object's finalizers, guarded by its resourceVersion so that a concurrent
/// change makes the patch fail instead of losing another controller's finalizer.
async fn set_finalizers<K: FluxObject>(
    object: &K,
    context: &Context,
    finalizers: Vec<String>,
    action: &'static str,
) -> Result<(), DriverError> {
    let api: Api<K> = Api::namespaced(
        context.client.clone(),
        &object.namespace().unwrap_or_default(),
    );
    let patch = json!({"metadata": {"finalizers": finalizers, "resourceVersion": object.resource_version()}});
    api.patch(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::Merge(patch),
    )
    .await
    .map_err(|source| DriverError::Kube { action, source })?;
    Ok(())
}

/// The interval ± `percent`%, so that objects created together do not reconcile in
/// lockstep.
pub fn jitter(interval: Duration, percent: u32) -> Duration {
    if percent == 0 || interval.is_zero() {
        return interval;
    }
    let spread = interval.as_secs_f64() * f64::from(percent.min(100)) / 100.0;
    let offset = rand::random_range(-spread..=spread);
    Duration::from_secs_f64((interval.as_secs_f64() + offset).max(0.0))
}

/// Whether the object is Ready at its current generation (what dependents check).
pub fn ready_at_generation<K: FluxObject>(object: &K) -> bool {
    let Some(status) = object.status() else {
        return false;
    };
    status.observed_generation() == object.meta().generation
        && conditions::is_true(status.conditions(), types::READY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_status_written_stands_in_for_a_lagging_watch() {
        use ferroflux_api::source::v1::{GitRepository, GitRepositorySpec, GitRepositoryStatus};
        let mut object = GitRepository::new("app", GitRepositorySpec::default());
        object.metadata.namespace = Some("ns".into());
        object.metadata.generation = Some(2);
        object.metadata.resource_version = Some("10".into());
        let status = GitRepositoryStatus {
            observed_generation: Some(2),
            ..GitRepositoryStatus::default()
        };
        let versions = StatusVersions::default();
        versions.record(
            &object,
            Some(Written {
                resource_version: "11".into(),
                generation: Some(2),
                status: serde_json::to_vec(&status).ok(),
            }),
        );
        // The watch still hands version 10: not current, but the write is known.
        assert!(!versions.is_current(&object));
        assert_eq!(versions.last_written(&object), Some(status));
        // A spec change since: the write was for another generation.
        object.metadata.generation = Some(3);
        assert_eq!(versions.last_written(&object), None);
        versions.forget(&object);
        object.metadata.generation = Some(2);
        assert_eq!(versions.last_written(&object), None);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let interval = Duration::from_secs(600);
        for _ in 0..1000 {
            let jittered = jitter(interval, 5);
            assert!(
                jittered >= Duration::from_secs(570) && jittered <= Duration::from_secs(630),
                "{jittered:?}"
            );
        }
        assert_eq!(jitter(interval, 0), interval);
    }
}
