//! Events forwarded to `--events-addr` in Flux's `event.toolkit.fluxcd.io` JSON.

use std::time::Duration;

use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::GitRepository;
use ferroflux_testkit::wait_for_value;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

use crate::git_support::EventSink;
use crate::harness::{Harness, spec};

#[tokio::test]
async fn new_artifact_event_is_forwarded_with_revision_and_digest() {
    let sink = EventSink::start().await;
    let harness =
        Harness::start_with_args("git-events", &[format!("--events-addr={}", sink.url)]).await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(
        &[("a.yaml", "a")],
        "add the application manifests for the production cluster\nsecond line",
    );
    let mut object = GitRepository::new("app", spec(&harness.git.public_url(&repo), None));
    // Annotations under event.toolkit.fluxcd.io/ travel with every event of the object.
    object.metadata.annotations = Some(
        [(
            "event.toolkit.fluxcd.io/team".to_owned(),
            "platform".to_owned(),
        )]
        .into(),
    );
    let created = harness
        .api()
        .create(&PostParams::default(), &object)
        .await
        .unwrap();
    let revision = format!("main@sha1:{sha}");
    let ready = harness
        .wait_ready("app", ConditionStatus::True, Some(&revision))
        .await;
    let digest = ready.status.unwrap().artifact.unwrap().digest;

    let event = wait_for_value(
        Duration::from_secs(30),
        "a NewArtifact event at the sink",
        || {
            let events = sink.events();
            async move { events.into_iter().find(|e| e["reason"] == "NewArtifact") }
        },
    )
    .await;
    let involved = &event["involvedObject"];
    assert_eq!(involved["kind"], "GitRepository");
    assert_eq!(involved["apiVersion"], "source.toolkit.fluxcd.io/v1");
    assert_eq!(involved["name"], "app");
    assert_eq!(involved["namespace"], harness.namespace.name());
    assert_eq!(
        involved["uid"].as_str(),
        created.metadata.uid.as_deref(),
        "{event}"
    );
    assert_eq!(event["severity"], "info");
    assert_eq!(
        event["message"],
        "stored artifact for commit 'add the application manifests for the production c...'"
    );
    assert_eq!(event["reportingController"], "source-controller");
    assert_eq!(
        event["metadata"]["source.toolkit.fluxcd.io/revision"],
        revision.as_str()
    );
    assert_eq!(
        event["metadata"]["source.toolkit.fluxcd.io/digest"],
        digest.as_str()
    );
    assert_eq!(
        event["metadata"]["event.toolkit.fluxcd.io/team"],
        "platform"
    );
    assert_timestamp(&event);

    // A failure and the recovery from it, with the same artifact: Flux's Succeeded event.
    set_secret_ref(&harness, json!({"name": "missing"})).await;
    harness
        .wait_ready("app", ConditionStatus::False, None)
        .await;
    set_secret_ref(&harness, serde_json::Value::Null).await;
    let event = wait_for_value(
        Duration::from_secs(30),
        "a Succeeded event at the sink",
        || {
            let events = sink.events();
            async move { events.into_iter().find(|e| e["reason"] == "Succeeded") }
        },
    )
    .await;
    assert_eq!(event["severity"], "info");
    assert_eq!(
        event["message"],
        format!("stored artifact for commit '{revision}'")
    );
    assert_eq!(
        event["metadata"]["source.toolkit.fluxcd.io/revision"],
        revision.as_str()
    );
    let warnings = sink.events();
    assert!(
        warnings
            .iter()
            .any(|e| e["reason"] == "AuthenticationFailed" && e["severity"] == "error"),
        "the failure was forwarded too: {warnings:?}"
    );
}

/// Sets (or, with `null`, removes) `spec.secretRef` of the GitRepository `app`.
async fn set_secret_ref(harness: &Harness, reference: serde_json::Value) {
    let patch = json!({"spec": {"secretRef": reference}});
    harness
        .api()
        .patch("app", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

/// Flux's event timestamps are RFC 3339 seconds in UTC.
fn assert_timestamp(event: &serde_json::Value) {
    assert!(
        event["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 20),
        "RFC 3339 seconds in UTC: {event}"
    );
}

#[tokio::test]
async fn failures_are_forwarded_as_error_events() {
    let sink = EventSink::start().await;
    let harness =
        Harness::start_with_args("git-events-fail", &[format!("--events-addr={}", sink.url)]).await;
    let repo = harness.git.create_repo("app");
    repo.commit(&[("a.yaml", "a")], "one");
    let mut object = spec(&harness.git.public_url(&repo), None);
    object.reference = Some(ferroflux_api::source::v1::GitRepositoryRef {
        branch: Some("missing".into()),
        ..Default::default()
    });
    harness.create("app", object).await;
    harness
        .wait_ready("app", ConditionStatus::False, None)
        .await;
    let event = wait_for_value(
        Duration::from_secs(30),
        "a GitOperationFailed event at the sink",
        || {
            let events = sink.events();
            async move {
                events
                    .into_iter()
                    .find(|e| e["reason"] == "GitOperationFailed")
            }
        },
    )
    .await;
    assert_eq!(event["severity"], "error");
    assert_eq!(event["involvedObject"]["kind"], "GitRepository");
    assert!(
        event["message"]
            .as_str()
            .is_some_and(|m| m.contains("refs/heads/missing")),
        "{event}"
    );
}
