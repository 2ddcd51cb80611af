//! `spec.verify` of OCIRepository and HelmChart: artifacts and charts signed by the real
//! `cosign` (built from its Go module by hack/build-cosign.sh) in the loopback registry,
//! verified with the public key from a Secret; unsigned artifacts, untrusted keys and
//! unsupported kinds of verification fail with Flux's reasons and never reach storage.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferroflux_api::meta::{ConditionStatus, LocalObjectReference};
use ferroflux_api::source::v1::{
    HelmChart, HelmChartSourceKind, HelmChartVerification, OCIRepository,
    OCIRepositoryVerification, VerificationProvider,
};
use ferroflux_testkit::registry::{Registry, RegistryOptions};
use tempfile::TempDir;

use crate::helm_harness::{HelmHarness, chart_spec, reference, repository_spec};
use crate::oci_basics::{create, docker_secret, spec, tag};
use crate::oci_support::{Sources, condition, push_flux_artifact, ready};

/// The real cosign with its own home, Docker config (registry credentials) and keys.
struct Cosign {
    binary: PathBuf,
    dir: TempDir,
}

impl Cosign {
    fn new(registry: &Registry) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docker")).unwrap();
        std::fs::write(
            dir.path().join("docker/config.json"),
            registry.docker_config_json(registry.password()),
        )
        .unwrap();
        Self {
            binary: ferroflux_testkit::tools::cosign(),
            dir,
        }
    }

    fn run(&self, cwd: &Path, args: &[&str]) {
        let output = Command::new(&self.binary)
            .args(args)
            .current_dir(cwd)
            .env("HOME", self.dir.path())
            .env("DOCKER_CONFIG", self.dir.path().join("docker"))
            .env("COSIGN_PASSWORD", "")
            .env("COSIGN_YES", "true")
            .env("SIGSTORE_NO_CACHE", "true")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "cosign {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Generates the key pair `<name>/cosign.{key,pub}`; returns the public key PEM.
    fn generate(&self, name: &str) -> String {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        self.run(&dir, &["generate-key-pair"]);
        std::fs::read_to_string(dir.join("cosign.pub")).unwrap()
    }

    /// Signs `reference` with the key pair `name`, without the public transparency log,
    /// as a legacy `.sig` signature or (`bundle`) a Sigstore bundle referrer (cosign v3's
    /// default format).
    fn sign_as(&self, name: &str, reference: &str, bundle: bool) {
        let key = self.dir.path().join(name).join("cosign.key");
        let format = format!("--new-bundle-format={bundle}");
        self.run(
            self.dir.path(),
            &[
                "sign",
                "--key",
                key.to_str().unwrap(),
                "--tlog-upload=false",
                "--use-signing-config=false",
                &format,
                "--allow-http-registry",
                reference,
            ],
        );
    }

    fn sign(&self, name: &str, reference: &str) {
        self.sign_as(name, reference, false);
    }
}

fn cosign_verification(secret: Option<&str>) -> OCIRepositoryVerification {
    OCIRepositoryVerification {
        provider: VerificationProvider::Cosign,
        secret_ref: secret.map(|name| LocalObjectReference {
            name: name.to_owned(),
        }),
        ..OCIRepositoryVerification::default()
    }
}

async fn verified_repository(
    sources: &Sources,
    registry: &Registry,
    name: &str,
    repository: &str,
    verify: OCIRepositoryVerification,
) {
    let mut spec = spec(&registry.url(repository), tag("v1"));
    spec.insecure = Some(true);
    spec.secret_ref = Some(LocalObjectReference {
        name: "creds".to_owned(),
    });
    spec.verify = Some(verify);
    create(sources, name, spec).await;
}

#[tokio::test]
async fn oci_artifacts_signed_by_cosign_are_verified_with_public_keys() {
    let sources = Sources::start("oci-verify").await;
    let registry = Registry::start(RegistryOptions::default());
    let signed = push_flux_artifact(&registry, "org/app", "v1", &[("app.yaml", "a: 1\n")]).await;
    let unsigned =
        push_flux_artifact(&registry, "org/other", "v1", &[("app.yaml", "b: 2\n")]).await;
    let cosign = Cosign::new(&registry);
    let trusted = cosign.generate("trusted");
    let stranger = cosign.generate("stranger");
    cosign.sign("trusted", &format!("{}/org/app@{signed}", registry.host()));
    docker_secret(&sources, &registry, "creds", registry.password()).await;
    sources
        .secret("trusted-keys", None, &[("cosign.pub", &trusted)])
        .await;
    sources
        .secret("stranger-keys", None, &[("other.pub", &stranger)])
        .await;

    // Signed with the trusted key: verified, then stored.
    verified_repository(
        &sources,
        &registry,
        "signed",
        "org/app",
        cosign_verification(Some("trusted-keys")),
    )
    .await;
    let revision = format!("v1@{signed}");
    let object = sources
        .wait_ready::<OCIRepository>("signed", "True", Some(&revision))
        .await;
    let verified = condition(&object, "SourceVerified").unwrap();
    assert_eq!(verified["status"], "True");
    assert_eq!(verified["reason"], "Succeeded");
    assert_eq!(
        verified["message"],
        format!("verified signature of revision {revision}")
    );

    // A Sigstore bundle (cosign v3's format) verifies as well.
    let bundled =
        push_flux_artifact(&registry, "org/bundled", "v1", &[("app.yaml", "c: 3\n")]).await;
    cosign.sign_as(
        "trusted",
        &format!("{}/org/bundled@{bundled}", registry.host()),
        true,
    );
    verified_repository(
        &sources,
        &registry,
        "bundled",
        "org/bundled",
        cosign_verification(Some("trusted-keys")),
    )
    .await;
    sources
        .wait_ready::<OCIRepository>("bundled", "True", Some(&format!("v1@{bundled}")))
        .await;

    // An unsigned push to the same tag is refused: the verified artifact stays served.
    let pushed = push_flux_artifact(&registry, "org/app", "v1", &[("app.yaml", "a: 2\n")]).await;
    sources.request_reconcile::<OCIRepository>("signed").await;
    let object = sources
        .wait_ready::<OCIRepository>("signed", "False", Some(&revision))
        .await;
    assert_eq!(
        ready(&object).unwrap()["message"],
        format!(
            "failed to verify the signature using provider 'cosign': no matching signatures were found for '{}/org/app@{pushed}'",
            registry.host()
        )
    );
    cosign.sign("trusted", &format!("{}/org/app@{pushed}", registry.host()));
    sources.request_reconcile::<OCIRepository>("signed").await;
    sources
        .wait_ready::<OCIRepository>("signed", "True", Some(&format!("v1@{pushed}")))
        .await;

    // Not signed at all, or signed by a key the Secret does not hold: VerificationError,
    // a Warning event, and nothing stored.
    for (name, repository, digest, secret) in [
        ("unsigned", "org/other", &unsigned, "trusted-keys"),
        ("untrusted", "org/app", &pushed, "stranger-keys"),
        ("untrusted-bundle", "org/bundled", &bundled, "stranger-keys"),
    ] {
        verified_repository(
            &sources,
            &registry,
            name,
            repository,
            cosign_verification(Some(secret)),
        )
        .await;
        let object = sources
            .wait_ready::<OCIRepository>(name, "False", None)
            .await;
        let expected = format!(
            "failed to verify the signature using provider 'cosign': no matching signatures were found for '{}/{repository}@{digest}'",
            registry.host()
        );
        let ready = ready(&object).unwrap();
        assert_eq!(ready["reason"], "VerificationError", "{object}");
        assert_eq!(ready["message"], expected.as_str());
        let verified = condition(&object, "SourceVerified").unwrap();
        assert_eq!(verified["status"], "False");
        assert_eq!(verified["message"], expected.as_str());
        assert!(object["status"]["artifact"].is_null(), "{object}");
        assert_eq!(
            sources
                .wait_event(name, "Warning", "VerificationError")
                .await,
            expected
        );
    }

    // Keyless verification needs the public Sigstore services: refused, stalled.
    verified_repository(
        &sources,
        &registry,
        "keyless",
        "org/app",
        cosign_verification(None),
    )
    .await;
    let object = sources
        .wait_ready::<OCIRepository>("keyless", "False", None)
        .await;
    let message = ready(&object).unwrap()["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "failed to verify the signature using provider 'cosign keyless': keyless verification needs the public Sigstore services"
        ),
        "{message}"
    );
    assert_eq!(condition(&object, "Stalled").unwrap()["status"], "True");
}

#[tokio::test]
async fn oci_helm_charts_signed_by_cosign_are_verified_before_the_pull() {
    let harness = HelmHarness::start("helm-oci-verify").await;
    let registry = Registry::start(RegistryOptions::default());
    crate::helm_oci::helm_push(&registry, "6.0.0");
    crate::helm_oci::helm_push(&registry, "6.1.0");
    let cosign = Cosign::new(&registry);
    let trusted = cosign.generate("trusted");
    cosign.sign(
        "trusted",
        &format!("{}/charts/podinfo:6.0.0", registry.host()),
    );
    harness
        .secret("cosign-keys", None, &[("cosign.pub", &trusted)])
        .await;
    harness.secret("no-keys", None, &[("README", "none")]).await;
    crate::helm_oci::charts_repository(&harness, &registry).await;

    let chart = |version: &str, secret: &str| {
        let mut spec = chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "charts");
        spec.version = Some(version.to_owned());
        spec.verify = Some(HelmChartVerification {
            provider: VerificationProvider::Cosign,
            secret_ref: reference(secret),
            ..HelmChartVerification::default()
        });
        spec
    };

    harness
        .create_chart("signed", chart("6.0.0", "cosign-keys"))
        .await;
    let object: HelmChart = harness
        .wait("signed", ConditionStatus::True, |c: &HelmChart| {
            c.status.as_ref().is_some_and(|s| s.artifact.is_some())
        })
        .await;
    let conditions = object.status.unwrap().conditions.unwrap_or_default();
    let verified = conditions
        .iter()
        .find(|c| c.type_ == "SourceVerified")
        .expect("SourceVerified");
    assert_eq!(verified.status, ConditionStatus::True);
    assert_eq!(verified.message, "verified signature of version 6.0.0");

    // 6.1.0 carries no signature: the chart is not pulled.
    harness
        .create_chart("unsigned", chart("6.1.0", "cosign-keys"))
        .await;
    let object: HelmChart = harness
        .wait("unsigned", ConditionStatus::False, has_source_verified)
        .await;
    let status = object.status.unwrap();
    assert!(status.artifact.is_none());
    let conditions = status.conditions.unwrap_or_default();
    let find = |type_: &str| conditions.iter().find(|c| c.type_ == type_).unwrap();
    let expected = format!(
        "chart verification error: failed to verify oci://{}/charts/podinfo:6.1.0: no signatures found",
        registry.host()
    );
    assert_eq!(find("Ready").reason, "ChartVerificationError");
    assert_eq!(find("Ready").message, expected);
    assert_eq!(find("BuildFailed").reason, "ChartVerificationError");
    assert_eq!(find("SourceVerified").status, ConditionStatus::False);
    assert_eq!(find("SourceVerified").reason, "VerificationError");
    assert_eq!(find("SourceVerified").message, expected);

    // A Secret without public keys is Flux's setup error.
    harness
        .create_chart("no-keys", chart("6.0.0", "no-keys"))
        .await;
    let object: HelmChart = harness
        .wait("no-keys", ConditionStatus::False, has_source_verified)
        .await;
    let conditions = object.status.unwrap().conditions.unwrap_or_default();
    let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(ready.reason, "VerificationError");
    assert_eq!(
        ready.message,
        format!(
            "failed to verify the signature using provider 'cosign': no public keys found in secret '{}/no-keys'",
            harness.namespace.name()
        )
    );
}

#[tokio::test]
async fn charts_of_http_repositories_are_never_stored_unverified() {
    let harness = HelmHarness::start("helm-http-verify").await;
    harness.publish_podinfo("6.0.0");
    harness
        .create_repository("charts", repository_spec(&harness.repo.http_url(false)))
        .await;
    harness
        .secret("keys", None, &[("cosign.pub", "unused")])
        .await;
    let mut spec = chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "charts");
    spec.verify = Some(HelmChartVerification {
        provider: VerificationProvider::Cosign,
        secret_ref: reference("keys"),
        ..HelmChartVerification::default()
    });
    harness.create_chart("podinfo", spec).await;
    let object: HelmChart = harness
        .wait("podinfo", ConditionStatus::False, has_source_verified)
        .await;
    let status = object.status.unwrap();
    assert!(status.artifact.is_none());
    let conditions = status.conditions.unwrap_or_default();
    let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(ready.reason, "ChartVerificationError");
    assert!(
        ready
            .message
            .starts_with("chart verification error: not implemented"),
        "{}",
        ready.message
    );
}

/// Whether a HelmChart has a SourceVerified condition yet.
fn has_source_verified(chart: &HelmChart) -> bool {
    chart.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "SourceVerified")
    })
}
