//! The reconcile driver writes Flux's status on every path.

use std::sync::Arc;
use std::time::Duration;

use ferroflux_api::constants::{FINALIZER, RECONCILE_REQUESTED_AT_ANNOTATION};
use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::{GitRepository, GitRepositorySpec, GitRepositoryStatus};
use ferroflux_runtime::clock::SystemClock;
use ferroflux_runtime::conditions::{self, Conditions};
use ferroflux_runtime::driver::{self, Context, Outcome, Reconciler};
use ferroflux_runtime::events::EventRecorder;
use ferroflux_runtime::metrics::Metrics;
use ferroflux_runtime::{Disposition, ReconcileError};
use ferroflux_testkit::{TestNamespace, client, install_crds, wait_for};
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Client, ResourceExt};
use serde_json::json;

/// A reconciler whose behaviour is chosen by the object's URL, so each test drives one path.
struct Scripted;

#[derive(Debug, thiserror::Error)]
enum ScriptedError {
    #[error("URL is not supported: {0}")]
    Terminal(String),
    #[error("failed to checkout and determine revision: unable to clone: connection refused")]
    Transient,
    #[error("dependency 'other' is not ready")]
    Waiting,
}

impl ReconcileError for ScriptedError {
    fn reason(&self) -> &str {
        match self {
            Self::Terminal(_) => "URLInvalid",
            Self::Transient => "GitOperationFailed",
            Self::Waiting => "DependencyNotReady",
        }
    }
    fn disposition(&self) -> Disposition {
        match self {
            Self::Terminal(_) => Disposition::Stalled,
            Self::Transient => Disposition::Retry,
            Self::Waiting => Disposition::Wait(Duration::from_secs(30)),
        }
    }
}

impl Reconciler<GitRepository> for Scripted {
    type Error = ScriptedError;

    async fn reconcile(
        &self,
        context: &Context,
        object: &GitRepository,
        status: &mut GitRepositoryStatus,
    ) -> Result<Outcome, ScriptedError> {
        context
            .mark_reconciling(object, status, "building artifact")
            .await
            .expect("progress patch");
        let url = object.spec.url.as_str();
        if url.contains("terminal") {
            return Err(ScriptedError::Terminal(url.to_owned()));
        }
        if url.contains("transient") {
            return Err(ScriptedError::Transient);
        }
        if url.contains("waiting") {
            return Err(ScriptedError::Waiting);
        }
        let generation = object.metadata.generation.unwrap_or_default();
        let mut conditions =
            Conditions::new(status.conditions_mut(), generation, context.clock.as_ref());
        conditions.mark_true(
            "ArtifactInStorage",
            "Succeeded",
            "stored artifact for revision 'main@sha1:abc'",
        );
        conditions.mark_true(
            "Ready",
            "Succeeded",
            "stored artifact for revision 'main@sha1:abc'",
        );
        Ok(Outcome::Done)
    }

    async fn cleanup(&self, _: &Context, _: &GitRepository) -> Result<(), ScriptedError> {
        Ok(())
    }
}

use ferroflux_runtime::FluxStatus as _;

fn context(client: &Client) -> Arc<Context> {
    Arc::new(Context {
        client: client.clone(),
        controller: "source-controller",
        status_manager: "gotk-source-controller".to_owned(),
        recorder: EventRecorder::new(client.clone(), "source-controller", None),
        metrics: Metrics::new(),
        clock: Arc::new(SystemClock),
        jitter_percent: 5,
        status_versions: ferroflux_runtime::driver::StatusVersions::default(),
    })
}

async fn create(api: &Api<GitRepository>, name: &str, url: &str) -> GitRepository {
    let repository = GitRepository::new(
        name,
        GitRepositorySpec {
            url: url.to_owned(),
            interval: "10m".to_owned(),
            ..GitRepositorySpec::default()
        },
    );
    api.create(&PostParams::default(), &repository)
        .await
        .expect("creating a GitRepository")
}

async fn run(api: &Api<GitRepository>, name: &str, context: &Arc<Context>) -> Action {
    let object = api.get(name).await.expect("the object exists");
    driver::reconcile(Arc::new(object), Arc::new(Scripted), context.clone())
        .await
        .expect("the driver succeeds")
}

#[tokio::test]
async fn success_sets_ready_observed_generation_and_finalizer() {
    let client = client().await;
    install_crds(&client).await;
    let namespace = TestNamespace::new(&client, "driver-ok").await;
    let api: Api<GitRepository> = Api::namespaced(client.clone(), namespace.name());
    create(&api, "ok", "https://example.invalid/ok.git").await;
    let context = context(&client);

    let action = run(&api, "ok", &context).await;
    assert!(
        format!("{action:?}").contains("requeue_after: Some"),
        "success requeues after the interval: {action:?}"
    );
    let object = api.get("ok").await.unwrap();
    assert!(object.finalizers().iter().any(|f| f == FINALIZER));
    let status = object.status.expect("status was written");
    assert_eq!(status.observed_generation, Some(1));
    let list = status.conditions.unwrap();
    let ready = conditions::get(&list, "Ready").expect("Ready");
    assert_eq!(ready.status, ConditionStatus::True);
    assert!(
        conditions::get(&list, "Reconciling").is_none(),
        "Reconciling is removed on success: {list:?}"
    );
    let managers: Vec<_> = object
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers.iter().any(|m| m == "gotk-source-controller"),
        "status written by gotk-source-controller: {managers:?}"
    );

    // requestedAt is recorded in lastHandledReconcileAt.
    let patch = json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT_ANNOTATION: "2026-11-22T10:00:00Z"}}});
    api.patch("ok", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    run(&api, "ok", &context).await;
    let status = api.get("ok").await.unwrap().status.unwrap();
    assert_eq!(
        status.last_handled_reconcile_at.as_deref(),
        Some("2026-11-22T10:00:00Z")
    );
}

#[tokio::test]
async fn terminal_error_stalls_with_warning_event() {
    let client = client().await;
    install_crds(&client).await;
    let namespace = TestNamespace::new(&client, "driver-stall").await;
    let api: Api<GitRepository> = Api::namespaced(client.clone(), namespace.name());
    create(&api, "bad", "https://terminal.invalid/repo.git").await;
    let context = context(&client);

    let action = run(&api, "bad", &context).await;
    assert_eq!(
        action,
        Action::await_change(),
        "a stalled object waits for a spec change"
    );
    let status = api.get("bad").await.unwrap().status.unwrap();
    let list = status.conditions.clone().unwrap();
    let stalled = conditions::get(&list, "Stalled").expect("Stalled");
    assert_eq!(
        (stalled.status, stalled.reason.as_str()),
        (ConditionStatus::True, "URLInvalid")
    );
    let ready = conditions::get(&list, "Ready").expect("Ready");
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::False, "URLInvalid")
    );
    assert!(ready.message.contains("URL is not supported"));
    assert!(conditions::get(&list, "Reconciling").is_none());
    assert_eq!(
        status.observed_generation,
        Some(1),
        "a stall is an end state for this generation"
    );

    let events: Api<Event> = Api::namespaced(client.clone(), namespace.name());
    wait_for(Duration::from_secs(10), "a Warning event", || {
        let events = events.clone();
        async move {
            events
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .iter()
                .any(|e| {
                    e.type_.as_deref() == Some("Warning")
                        && e.reason.as_deref() == Some("URLInvalid")
                        && e.involved_object.name.as_deref() == Some("bad")
                        && e.source.as_ref().and_then(|s| s.component.as_deref())
                            == Some("source-controller")
                })
        }
    })
    .await;
}

#[tokio::test]
async fn transient_error_keeps_reconciling_with_retry() {
    let client = client().await;
    install_crds(&client).await;
    let namespace = TestNamespace::new(&client, "driver-retry").await;
    let api: Api<GitRepository> = Api::namespaced(client.clone(), namespace.name());
    create(&api, "flaky", "https://transient.invalid/repo.git").await;
    create(&api, "waits", "https://waiting.invalid/repo.git").await;
    let context = context(&client);

    let action = run(&api, "flaky", &context).await;
    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(600)),
        "retry after the retry interval"
    );
    let status = api.get("flaky").await.unwrap().status.unwrap();
    let list = status.conditions.clone().unwrap();
    let reconciling = conditions::get(&list, "Reconciling").expect("Reconciling stays");
    assert_eq!(reconciling.reason, "ProgressingWithRetry");
    assert_eq!(
        conditions::get(&list, "Ready").unwrap().reason,
        "GitOperationFailed"
    );
    assert!(conditions::get(&list, "Stalled").is_none());
    assert_eq!(
        status.observed_generation,
        Some(-1),
        "observedGeneration is not advanced by a failure"
    );

    let action = run(&api, "waits", &context).await;
    assert_eq!(action, Action::requeue(Duration::from_secs(30)));
    let status = api.get("waits").await.unwrap().status.unwrap();
    assert_eq!(
        conditions::get(status.conditions(), "Ready")
            .unwrap()
            .reason,
        "DependencyNotReady"
    );
}

#[tokio::test]
async fn deletion_runs_cleanup_and_releases_the_finalizer() {
    let client = client().await;
    install_crds(&client).await;
    let namespace = TestNamespace::new(&client, "driver-delete").await;
    let api: Api<GitRepository> = Api::namespaced(client.clone(), namespace.name());
    create(&api, "gone", "https://example.invalid/gone.git").await;
    let context = context(&client);
    run(&api, "gone", &context).await;
    api.delete("gone", &DeleteParams::default()).await.unwrap();
    assert!(
        api.get("gone")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some(),
        "the finalizer holds the object"
    );
    run(&api, "gone", &context).await;
    wait_for(Duration::from_secs(10), "the object to be gone", || {
        let api = api.clone();
        async move { api.get_opt("gone").await.unwrap().is_none() }
    })
    .await;
}
