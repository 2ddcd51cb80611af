//! OCIRepository failures: Ready=False with Flux's reason, a Warning event, no secrets.

use ferroflux_api::meta::LocalObjectReference;
use ferroflux_api::source::v1::OCIRepository;
use ferroflux_testkit::registry::{Registry, RegistryOptions};

use crate::oci_basics::{create, docker_secret, spec, tag};
use crate::oci_support::{Sources, condition, push_flux_artifact, ready};

#[tokio::test]
async fn unknown_tags_and_wrong_credentials_fail_with_flux_reasons() {
    let sources = Sources::start("oci-fail").await;
    let registry = Registry::start(RegistryOptions::default());
    push_flux_artifact(&registry, "app", "v1", &[("a", "1")]).await;
    docker_secret(&sources, &registry, "good", registry.password()).await;
    docker_secret(&sources, &registry, "bad", "not-the-password-42").await;
    let secret = |name: &str| {
        Some(LocalObjectReference {
            name: name.to_owned(),
        })
    };

    let mut unknown = spec(&registry.url("app"), tag("v9"));
    unknown.insecure = Some(true);
    unknown.secret_ref = secret("good");
    create(&sources, "unknown", unknown).await;
    let object = sources
        .wait_ready::<OCIRepository>("unknown", "False", None)
        .await;
    let ready = crate::oci_support::ready(&object).unwrap();
    assert_eq!(ready["reason"], "OCIArtifactPullFailed", "{ready}");
    let message = ready["message"].as_str().unwrap();
    assert!(
        message.starts_with("failed to determine artifact digest:") && message.contains("v9"),
        "{message}"
    );
    assert_eq!(condition(&object, "FetchFailed").unwrap()["status"], "True");
    sources
        .wait_event("unknown", "Warning", "OCIArtifactPullFailed")
        .await;

    let mut wrong = spec(&registry.url("app"), tag("v1"));
    wrong.insecure = Some(true);
    wrong.secret_ref = secret("bad");
    create(&sources, "wrong", wrong).await;
    let object = sources
        .wait_ready::<OCIRepository>("wrong", "False", None)
        .await;
    let ready = crate::oci_support::ready(&object).unwrap();
    assert_eq!(ready["reason"], "OCIArtifactPullFailed", "{ready}");
    assert!(
        ready["message"].as_str().unwrap().contains("UNAUTHORIZED"),
        "{ready}"
    );
    sources
        .wait_event("wrong", "Warning", "OCIArtifactPullFailed")
        .await;

    let mut missing = spec(&registry.url("app"), tag("v1"));
    missing.insecure = Some(true);
    missing.secret_ref = secret("absent");
    create(&sources, "missing", missing).await;
    let object = sources
        .wait_ready::<OCIRepository>("missing", "False", None)
        .await;
    assert_eq!(ready_reason(&object), "AuthenticationFailed");

    let mut bad_url = spec(&format!("{}:v1", registry.url("app")), tag("v1"));
    bad_url.insecure = Some(true);
    create(&sources, "badurl", bad_url).await;
    let object = sources
        .wait_ready::<OCIRepository>("badurl", "False", None)
        .await;
    assert_eq!(ready_reason(&object), "URLInvalid");
    assert_eq!(condition(&object, "Stalled").unwrap()["status"], "True");

    let everything = sources.log();
    assert!(!everything.contains("not-the-password-42"));
    assert!(!everything.contains(registry.password()));
}

fn ready_reason(object: &serde_json::Value) -> String {
    ready(object).unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_owned()
}
