//! `spec.recurseSubmodules`: submodules served by the same loopback server.

use ferroflux_api::meta::ConditionStatus;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::harness::{Harness, spec};

#[tokio::test]
async fn submodules_are_in_the_artifact_only_when_recursing() {
    let harness = Harness::start("git-submodules").await;
    let library = harness.git.create_repo("library");
    library.commit(&[("lib/config.yaml", "from the submodule")], "library");
    let app = harness.git.create_repo("app");
    app.commit(&[("app.yaml", "app")], "app");
    // `git submodule add` clones the library over the loopback HTTP server.
    app.git(&[
        "-c",
        "protocol.allow=always",
        "submodule",
        "add",
        "-q",
        &harness.git.public_url(&library),
        "vendor/library",
    ]);
    // The controller fetches the submodule behind basic auth, with the GitRepository's own
    // credentials (as Flux does).
    app.git(&[
        "config",
        "-f",
        ".gitmodules",
        "submodule.vendor/library.url",
        &harness.git.http_url(&library),
    ]);
    app.git(&["add", ".gitmodules"]);
    app.git(&["commit", "-q", "-m", "add the library as a submodule"]);
    app.git(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
    let sha = app.git(&["rev-parse", "HEAD"]);
    let revision = format!("main@sha1:{sha}");

    harness
        .create("flat", spec(&harness.git.public_url(&app), None))
        .await;
    let object = harness
        .wait_ready("flat", ConditionStatus::True, Some(&revision))
        .await;
    let files = harness.download(&object).await;
    assert_eq!(files.keys().collect::<Vec<_>>(), ["app.yaml"], "{files:?}");
    assert_eq!(
        object.status.unwrap().observed_recurse_submodules,
        None,
        "not recursing is the default"
    );

    let secret = harness.basic_auth_secret().await;
    let mut recursive = spec(&harness.git.http_url(&app), Some(secret));
    recursive.recurse_submodules = Some(true);
    harness.create("recursive", recursive).await;
    let object = harness
        .wait_ready("recursive", ConditionStatus::True, Some(&revision))
        .await;
    let files = harness.download(&object).await;
    assert_eq!(
        files
            .get("vendor/library/lib/config.yaml")
            .map(String::as_str),
        Some("from the submodule"),
        "{files:?}"
    );
    assert_eq!(
        object.status.unwrap().observed_recurse_submodules,
        Some(true)
    );

    // Turning recursion off rebuilds the artifact without the submodule.
    let patch = json!({"spec": {"recurseSubmodules": false}});
    harness
        .api()
        .patch("recursive", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    let object = harness
        .wait_ready("recursive", ConditionStatus::True, Some(&revision))
        .await;
    let object = wait_observed_false(&harness, object).await;
    let files = harness.download(&object).await;
    assert!(
        !files.keys().any(|path| path.starts_with("vendor/")),
        "{files:?}"
    );
}

/// Waits until the status reflects `recurseSubmodules: false`.
async fn wait_observed_false(
    harness: &Harness,
    object: ferroflux_api::source::v1::GitRepository,
) -> ferroflux_api::source::v1::GitRepository {
    let name = kube::ResourceExt::name_any(&object);
    ferroflux_testkit::wait_for_value(
        std::time::Duration::from_secs(60),
        "observedRecurseSubmodules=false",
        || {
            let api = harness.api();
            let name = name.clone();
            async move {
                let object = api.get(&name).await.ok()?;
                (object.status.as_ref()?.observed_recurse_submodules == Some(false))
                    .then_some(object)
            }
        },
    )
    .await
}
