//! The happy paths: artifacts, new commits, requestedAt, semver, ignore, sparse, include.

use std::time::Duration;

use ferroflux_api::constants::RECONCILE_REQUESTED_AT_ANNOTATION;
use ferroflux_api::meta::{ConditionStatus, LocalObjectReference};
use ferroflux_api::source::v1::{GitRepositoryInclude, GitRepositoryRef};
use ferroflux_testkit::wait_for;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

use crate::harness::{Harness, spec};

#[tokio::test]
async fn stores_an_artifact_with_flux_revision_and_serves_it() {
    let harness = Harness::start("git-happy").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(
        &[
            ("deploy/app.yaml", "kind: ConfigMap\n"),
            ("README.md", "hello\n"),
            (".github/workflows/ci.yaml", "x"),
        ],
        "Add app",
    );
    let secret = harness.basic_auth_secret().await;
    harness
        .create("app", spec(&harness.git.http_url(&repo), Some(secret)))
        .await;

    let revision = format!("main@sha1:{sha}");
    let object = harness
        .wait_ready("app", ConditionStatus::True, Some(&revision))
        .await;
    let status = object.status.clone().unwrap();
    let artifact = status.artifact.clone().unwrap();
    assert_eq!(
        artifact.path,
        format!(
            "gitrepository/{}/app/{sha}.tar.gz",
            harness.namespace.name()
        )
    );
    assert!(
        artifact.digest.starts_with("sha256:") && artifact.digest.len() == 71,
        "{}",
        artifact.digest
    );
    assert!(artifact.size.unwrap() > 0);
    assert_eq!(
        Harness::ready_message(&object),
        (
            "Succeeded".into(),
            format!("stored artifact for revision '{revision}'")
        )
    );
    assert_eq!(status.observed_generation, Some(1));
    let conditions: Vec<_> = status
        .conditions
        .unwrap()
        .into_iter()
        .map(|c| (c.type_, c.status))
        .collect();
    assert_eq!(
        conditions,
        [
            ("Ready".into(), ConditionStatus::True),
            ("ArtifactInStorage".into(), ConditionStatus::True)
        ]
    );

    let files = harness.download(&object).await;
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["README.md", "deploy/app.yaml"],
        "CI files and .git are excluded by default"
    );
}

#[tokio::test]
async fn new_commits_and_requested_reconciles_produce_new_artifacts() {
    let harness = Harness::start("git-update").await;
    let repo = harness.git.create_repo("app");
    let first = repo.commit(&[("a.yaml", "a: 1\n")], "first");
    let secret = harness.basic_auth_secret().await;
    let mut polling = spec(&harness.git.http_url(&repo), Some(secret));
    polling.interval = "2s".into();
    harness.create("polling", polling).await;
    harness
        .create("manual", spec(&harness.git.http_url(&repo), Some(secret)))
        .await;
    harness
        .wait_ready(
            "polling",
            ConditionStatus::True,
            Some(&format!("main@sha1:{first}")),
        )
        .await;
    harness
        .wait_ready(
            "manual",
            ConditionStatus::True,
            Some(&format!("main@sha1:{first}")),
        )
        .await;

    let second = repo.commit(&[("a.yaml", "a: 2\n")], "second");
    // A short interval picks the commit up by itself.
    let object = harness
        .wait_ready(
            "polling",
            ConditionStatus::True,
            Some(&format!("main@sha1:{second}")),
        )
        .await;
    assert_eq!(harness.download(&object).await["a.yaml"], "a: 2\n");

    // An hourly one waits, until asked with reconcile.fluxcd.io/requestedAt.
    let token = "2026-11-22T10:00:00.000000000Z";
    let patch = json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT_ANNOTATION: token}}});
    harness
        .api()
        .patch("manual", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    let object = harness
        .wait_ready(
            "manual",
            ConditionStatus::True,
            Some(&format!("main@sha1:{second}")),
        )
        .await;
    assert_eq!(
        object.status.unwrap().last_handled_reconcile_at.as_deref(),
        Some(token)
    );
}

#[tokio::test]
async fn semver_picks_the_highest_matching_tag() {
    let harness = Harness::start("git-semver").await;
    let repo = harness.git.create_repo("app");
    let v1 = repo.commit(&[("v", "1.0.0")], "v1.0.0");
    repo.tag("v1.0.0", &v1);
    let v12 = repo.commit(&[("v", "1.2.0")], "v1.2.0");
    repo.annotated_tag("v1.2.0", &v12, "release 1.2.0");
    let v2 = repo.commit(&[("v", "2.0.0")], "v2.0.0");
    repo.tag("v2.0.0", &v2);
    let secret = harness.basic_auth_secret().await;
    let mut semver = spec(&harness.git.http_url(&repo), Some(secret));
    semver.reference = Some(GitRepositoryRef {
        semver: Some("~1".into()),
        ..Default::default()
    });
    harness.create("app", semver).await;
    let object = harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("v1.2.0@sha1:{v12}")),
        )
        .await;
    assert_eq!(harness.download(&object).await["v"], "1.2.0");

    let mut tag = spec(&harness.git.http_url(&repo), Some(secret));
    tag.reference = Some(GitRepositoryRef {
        tag: Some("v1.0.0".into()),
        ..Default::default()
    });
    harness.create("tagged", tag).await;
    harness
        .wait_ready(
            "tagged",
            ConditionStatus::True,
            Some(&format!("v1.0.0@sha1:{v1}")),
        )
        .await;
}

#[tokio::test]
async fn ignore_rules_and_sparse_checkout_shape_the_artifact() {
    let harness = Harness::start("git-ignore").await;
    let repo = harness.git.create_repo("app");
    repo.commit(
        &[
            ("apps/a.yaml", "a"),
            ("apps/secret.txt", "no"),
            ("infra/b.yaml", "b"),
            ("docs/guide.md", "doc"),
            (".sourceignore", "docs/\n"),
            ("logo.png", "png"),
        ],
        "tree",
    );
    let secret = harness.basic_auth_secret().await;
    let mut ignored = spec(&harness.git.http_url(&repo), Some(secret));
    ignored.ignore = Some("*.txt\n".into());
    harness.create("ignored", ignored).await;
    let object = harness
        .wait_ready("ignored", ConditionStatus::True, None)
        .await;
    assert_eq!(
        object.status.as_ref().unwrap().observed_ignore.as_deref(),
        Some("*.txt\n")
    );
    let files = harness.download(&object).await;
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        [".sourceignore", "apps/a.yaml", "infra/b.yaml", "logo.png"]
    );

    let mut sparse = spec(&harness.git.http_url(&repo), Some(secret));
    sparse.sparse_checkout = Some(vec!["infra/".into()]);
    harness.create("sparse", sparse).await;
    let object = harness
        .wait_ready("sparse", ConditionStatus::True, None)
        .await;
    assert_eq!(
        harness.download(&object).await.keys().collect::<Vec<_>>(),
        ["infra/b.yaml"]
    );
}

#[tokio::test]
async fn include_copies_other_artifacts_in() {
    let harness = Harness::start("git-include").await;
    let secret = harness.basic_auth_secret().await;
    let shared = harness.git.create_repo("shared");
    shared.commit(
        &[("base/common.yaml", "common"), ("other/x.yaml", "x")],
        "shared",
    );
    let app = harness.git.create_repo("app");
    app.commit(&[("app.yaml", "app")], "app");
    harness
        .create("shared", spec(&harness.git.http_url(&shared), Some(secret)))
        .await;
    harness
        .wait_ready("shared", ConditionStatus::True, None)
        .await;
    let mut with_include = spec(&harness.git.http_url(&app), Some(secret));
    with_include.include = Some(vec![GitRepositoryInclude {
        repository: LocalObjectReference {
            name: "shared".into(),
        },
        from_path: Some("base".into()),
        to_path: Some("vendor/shared".into()),
    }]);
    harness.create("app", with_include).await;
    let object = harness.wait_ready("app", ConditionStatus::True, None).await;
    assert_eq!(
        object
            .status
            .as_ref()
            .unwrap()
            .included_artifacts
            .as_ref()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        harness.download(&object).await.keys().collect::<Vec<_>>(),
        ["app.yaml", "vendor/shared/common.yaml"]
    );
}

#[tokio::test]
async fn suspend_stops_and_deletion_removes_artifacts() {
    let harness = Harness::start("git-suspend").await;
    let repo = harness.git.create_repo("app");
    let first = repo.commit(&[("a", "1")], "one");
    let secret = harness.basic_auth_secret().await;
    let mut fast = spec(&harness.git.http_url(&repo), Some(secret));
    fast.interval = "1s".into();
    harness.create("app", fast).await;
    let object = harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("main@sha1:{first}")),
        )
        .await;
    let stored = harness.storage.path().join("data").join(
        &object
            .status
            .as_ref()
            .unwrap()
            .artifact
            .as_ref()
            .unwrap()
            .path,
    );
    assert!(stored.exists());

    harness
        .api()
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    repo.commit(&[("a", "2")], "two");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let artifact = harness
        .api()
        .get("app")
        .await
        .unwrap()
        .status
        .unwrap()
        .artifact
        .unwrap();
    assert_eq!(
        artifact.revision,
        format!("main@sha1:{first}"),
        "a suspended object is left alone"
    );

    harness
        .api()
        .delete("app", &DeleteParams::default())
        .await
        .unwrap();
    let api = harness.api();
    wait_for(
        Duration::from_secs(30),
        "the GitRepository to be deleted",
        || {
            let api = api.clone();
            async move { api.get_opt("app").await.unwrap().is_none() }
        },
    )
    .await;
    assert!(!stored.exists(), "deletion removes the stored artifacts");
}

#[tokio::test]
async fn a_moved_repository_is_followed_through_its_redirect() {
    let harness = Harness::start("git-moved").await;
    let repo = harness.git.create_repo("app");
    repo.commit(&[("deploy/app.yaml", "kind: ConfigMap\n")], "first");
    let sha = repo.commit(
        &[("deploy/more/deep.yaml", "kind: Secret\n"), ("a.txt", "a")],
        "Second commit with a subject longer than fifty characters in all",
    );
    // Every request to /moved/ answers 301 to /public/: git (and ferroflux) ask for the pack
    // where the reference advertisement was found.
    let files = harness
        .stored_files(
            "app",
            spec(&harness.git.moved_url(&repo), None),
            &format!("main@sha1:{sha}"),
        )
        .await;
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        [
            ("a.txt".to_owned(), "a".to_owned()),
            ("deploy/app.yaml".to_owned(), "kind: ConfigMap\n".to_owned()),
            (
                "deploy/more/deep.yaml".to_owned(),
                "kind: Secret\n".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn commit_references_check_out_that_commit_from_history() {
    let harness = Harness::start("git-commit").await;
    let repo = harness.git.create_repo("app");
    let first = repo.commit(&[("app.yaml", "version: 1\n")], "first");
    repo.commit(&[("app.yaml", "version: 2\n")], "second");
    let on_dev = repo.commit_on("dev", &[("dev.yaml", "dev\n")], "on dev");
    let with_ref = |reference: GitRepositoryRef| ferroflux_api::source::v1::GitRepositorySpec {
        reference: Some(reference),
        ..spec(&harness.git.public_url(&repo), None)
    };

    // An older commit of main, named with its branch.
    let pinned = with_ref(GitRepositoryRef {
        branch: Some("main".into()),
        commit: Some(first.clone()),
        ..Default::default()
    });
    let files = harness
        .stored_files("pinned", pinned, &format!("main@sha1:{first}"))
        .await;
    assert_eq!(files["app.yaml"], "version: 1\n");

    // A commit of another branch, without a branch: the revision is the bare commit.
    let bare = with_ref(GitRepositoryRef {
        commit: Some(on_dev.clone()),
        ..Default::default()
    });
    let files = harness
        .stored_files("bare", bare, &format!("sha1:{on_dev}"))
        .await;
    assert_eq!(files["dev.yaml"], "dev\n");

    // A commit the remote does not have.
    let unknown = "0123456789abcdef0123456789abcdef01234567";
    harness
        .create(
            "unknown",
            with_ref(GitRepositoryRef {
                branch: Some("main".into()),
                commit: Some(unknown.into()),
                ..Default::default()
            }),
        )
        .await;
    let object = harness
        .wait_ready("unknown", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "GitOperationFailed");
    assert_eq!(
        message,
        format!(
            "failed to checkout and determine revision: unable to resolve commit object for '{unknown}': object not found"
        )
    );
}
