//! HelmRepository (HTTP): index artifact, basic auth, TLS and failures.

use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::HelmRepository;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::helm_harness::{HelmHarness, download, is_true, ready, reference, repository_spec};

fn sha256(bytes: &[u8]) -> String {
    let mut hasher = ferroflux_artifact::Hasher::new(ferroflux_artifact::Algorithm::Sha256);
    hasher.update(bytes);
    hasher.finalize().to_string()
}

#[tokio::test]
async fn stores_the_index_as_sorted_json_with_the_raw_digest_as_revision() {
    let harness = HelmHarness::start("helmrepo-basic").await;
    harness.publish_podinfo("6.0.0");
    harness.publish_podinfo("6.1.0");
    let raw = std::fs::read(harness.repo.www().join("index.yaml")).unwrap();
    let revision = sha256(&raw);
    harness
        .create_repository("podinfo", repository_spec(&harness.repo.http_url(false)))
        .await;
    let object: HelmRepository = harness
        .wait("podinfo", ConditionStatus::True, |o: &HelmRepository| {
            o.status
                .as_ref()
                .and_then(|s| s.artifact.as_ref())
                .is_some()
        })
        .await;
    let (reason, message) = ready(&object);
    assert_eq!(reason, "Succeeded");
    assert_eq!(message, format!("stored artifact: revision '{revision}'"));
    assert!(is_true(&object, "ArtifactInStorage"));
    let status = object.status.unwrap();
    let artifact = status.artifact.unwrap();
    assert_eq!(artifact.revision, revision);
    let hex = revision.trim_start_matches("sha256:");
    assert!(
        artifact.path.ends_with(&format!(
            "helmrepository/{}/podinfo/index-{hex}.yaml",
            harness.namespace.name()
        )),
        "{}",
        artifact.path
    );
    assert!(status.url.unwrap().ends_with("/podinfo/index.yaml"));
    let stored = download(&artifact.url, &artifact.digest).await;
    let text = String::from_utf8(stored).unwrap();
    assert!(text.starts_with("{\n  \"apiVersion\": \"v1\""), "{text}");
    let index: serde_json::Value = serde_json::from_str(&text).unwrap();
    let versions: Vec<&str> = index["entries"]["podinfo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["6.1.0", "6.0.0"], "newest first");

    // A new chart version changes the index, hence the revision.
    harness.publish_podinfo("6.2.0");
    let new_revision = sha256(&std::fs::read(harness.repo.www().join("index.yaml")).unwrap());
    harness
        .api::<HelmRepository>()
        .patch(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}}),
            ),
        )
        .await
        .unwrap();
    harness
        .wait("podinfo", ConditionStatus::True, |o: &HelmRepository| {
            o.status
                .as_ref()
                .and_then(|s| s.artifact.as_ref())
                .is_some_and(|a| a.revision == new_revision)
        })
        .await;
}

#[tokio::test]
async fn basic_auth_and_tls_with_a_custom_ca() {
    let harness = HelmHarness::start("helmrepo-auth").await;
    harness.publish_podinfo("6.0.0");

    harness
        .create_repository("noauth", repository_spec(&harness.repo.http_url(true)))
        .await;
    let object: HelmRepository = harness
        .wait("noauth", ConditionStatus::False, |_: &HelmRepository| true)
        .await;
    let (reason, message) = ready(&object);
    assert_eq!(reason, "Failed", "{message}");
    assert!(message.contains("401 Unauthorized"), "{message}");
    assert!(is_true(&object, "FetchFailed"));

    harness
        .secret(
            "basic",
            None,
            &[
                ("username", harness.repo.username()),
                ("password", harness.repo.password()),
            ],
        )
        .await;
    let mut spec = repository_spec(&harness.repo.http_url(true));
    spec.secret_ref = reference("basic");
    harness.create_repository("auth", spec).await;
    harness
        .wait("auth", ConditionStatus::True, |_: &HelmRepository| true)
        .await;

    // HTTPS: the test CA is unknown without certSecretRef, trusted with it.
    harness
        .create_repository("untrusted", repository_spec(&harness.repo.https_url(false)))
        .await;
    let object: HelmRepository = harness
        .wait("untrusted", ConditionStatus::False, |_: &HelmRepository| {
            true
        })
        .await;
    let (reason, message) = ready(&object);
    assert_eq!(reason, "Failed", "{message}");

    harness
        .secret("ca", None, &[("ca.crt", &harness.repo.ca_pem())])
        .await;
    let mut spec = repository_spec(&harness.repo.https_url(true));
    spec.secret_ref = reference("basic");
    spec.cert_secret_ref = reference("ca");
    harness.create_repository("tls", spec).await;
    harness
        .wait("tls", ConditionStatus::True, |_: &HelmRepository| true)
        .await;

    let everything = format!("{:?}{}", harness.warnings("noauth").await, harness.log());
    assert!(
        !everything.contains(harness.repo.password()),
        "no secret leaks"
    );
}

#[tokio::test]
async fn failures_set_flux_reasons_and_warn() {
    let harness = HelmHarness::start_with("helmrepo-fail", &["--helm-index-max-size=200"]).await;
    harness.publish_podinfo("6.0.0");
    harness.publish_podinfo("6.1.0");

    harness
        .create_repository("big", repository_spec(&harness.repo.http_url(false)))
        .await;
    let object: HelmRepository = harness
        .wait("big", ConditionStatus::False, |_: &HelmRepository| true)
        .await;
    let (reason, message) = ready(&object);
    assert_eq!(reason, "Failed");
    assert!(
        message.contains("index exceeds the maximum index file size of 200 bytes"),
        "{message}"
    );

    let missing = format!("{}/nope", harness.repo.http_url(false));
    harness
        .create_repository("missing", repository_spec(&missing))
        .await;
    let object: HelmRepository = harness
        .wait("missing", ConditionStatus::False, |_: &HelmRepository| true)
        .await;
    let (_, message) = ready(&object);
    assert_eq!(
        message,
        format!(
            "failed to fetch Helm repository index: failed to fetch {missing}/index.yaml : 404 Not Found"
        )
    );

    let port = ferroflux_testkit::controller::free_port();
    harness
        .create_repository(
            "unreachable",
            repository_spec(&format!("http://127.0.0.1:{port}/charts")),
        )
        .await;
    let object: HelmRepository = harness
        .wait(
            "unreachable",
            ConditionStatus::False,
            |_: &HelmRepository| true,
        )
        .await;
    assert_eq!(ready(&object).0, "Failed");

    harness
        .create_repository("oci-url", repository_spec("oci://127.0.0.1:5000/charts"))
        .await;
    let object: HelmRepository = harness
        .wait("oci-url", ConditionStatus::False, |_: &HelmRepository| true)
        .await;
    assert_eq!(ready(&object).0, "URLInvalid");
    assert!(is_true(&object, "Stalled"));

    ferroflux_testkit::wait_for(
        std::time::Duration::from_secs(30),
        "a Warning event for the missing index",
        || async { !harness.warnings("missing").await.is_empty() },
    )
    .await;
}
