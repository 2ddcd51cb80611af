//! Failures: Ready=False with Flux's reason and a clear message; the last artifact stays.

use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::GitRepositoryRef;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::harness::{Harness, spec};

#[tokio::test]
async fn wrong_password_keeps_the_previous_artifact_and_leaks_nothing() {
    let harness = Harness::start("git-badauth").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a", "1")], "one");
    let secret = harness.basic_auth_secret().await;
    harness
        .create("app", spec(&harness.git.http_url(&repo), Some(secret)))
        .await;
    let revision = format!("main@sha1:{sha}");
    harness
        .wait_ready("app", ConditionStatus::True, Some(&revision))
        .await;

    harness
        .secret(
            "wrong",
            &[("username", "flux"), ("password", "not-the-password-42")],
        )
        .await;
    let patch = json!({"spec": {"secretRef": {"name": "wrong"}}});
    harness
        .api()
        .patch("app", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    let object = harness
        .wait_ready("app", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    // As Flux: credentials the server rejects are a failure of the Git operation.
    assert_eq!(reason, "GitOperationFailed", "{message}");
    assert!(
        message.starts_with("failed to checkout and determine revision: unable to clone '"),
        "{message}"
    );
    let status = object.status.unwrap();
    assert_eq!(
        status.artifact.unwrap().revision,
        revision,
        "the previous artifact is kept"
    );
    let conditions = status.conditions.unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "FetchFailed" && c.status == ConditionStatus::True)
    );
    let everything = format!("{conditions:?}{}", harness.log());
    assert!(
        !everything.contains("not-the-password-42"),
        "the password never appears in status or logs"
    );
}

#[tokio::test]
async fn missing_branch_missing_secret_and_unreachable_host() {
    let harness = Harness::start("git-fail").await;
    let repo = harness.git.create_repo("app");
    repo.commit(&[("a", "1")], "one");
    let secret = harness.basic_auth_secret().await;

    let mut branch = spec(&harness.git.http_url(&repo), Some(secret));
    branch.reference = Some(GitRepositoryRef {
        branch: Some("nope".into()),
        ..Default::default()
    });
    harness.create("branch", branch).await;
    let object = harness
        .wait_ready("branch", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "GitOperationFailed");
    assert!(message.contains("refs/heads/nope"), "{message}");

    harness
        .create(
            "nosecret",
            spec(&harness.git.http_url(&repo), Some("does-not-exist")),
        )
        .await;
    let object = harness
        .wait_ready("nosecret", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "AuthenticationFailed");
    assert_eq!(
        message,
        format!(
            "failed to get secret '{}/does-not-exist': secrets \"does-not-exist\" not found",
            harness.namespace.name()
        )
    );

    harness
        .create("unreachable", spec("http://127.0.0.1:1/git/app.git", None))
        .await;
    let object = harness
        .wait_ready("unreachable", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "GitOperationFailed");
    assert!(message.contains("127.0.0.1:1"), "{message}");
}
