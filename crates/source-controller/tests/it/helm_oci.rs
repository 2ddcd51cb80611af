//! HelmChart from an OCI HelmRepository: charts pushed by the real `helm push` to the
//! Debian docker-registry on loopback, version ranges over the tags, exact versions,
//! dockerconfigjson and basic-auth credentials, new pushes, and Flux's failure reasons.

use std::process::Command;

use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::{HelmChart, HelmChartSourceKind, HelmRepositoryType};
use ferroflux_testkit::registry::{Registry, RegistryOptions};
use sha2::{Digest, Sha256};

use crate::helm_harness::{
    HelmHarness, chart_spec, download, is_true, package_podinfo, ready, reference, repository_spec,
    request_reconcile,
};

/// Packages podinfo at `version` and pushes it with the real helm to `oci://<registry>/charts`.
/// Returns the package's `sha256:<hex>`.
pub fn helm_push(registry: &Registry, version: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let package = package_podinfo(version, |_| {});
    let file = dir.path().join(format!("podinfo-{version}.tgz"));
    std::fs::write(&file, &package).unwrap();
    // helm reads registry credentials from a Docker config file.
    let config = dir.path().join("registry.json");
    std::fs::write(&config, registry.docker_config_json(registry.password())).unwrap();
    let output = Command::new(ferroflux_testkit::tools::helm())
        .arg("push")
        .arg(&file)
        .arg(format!("oci://{}/charts", registry.host()))
        .arg("--plain-http")
        .env("HELM_REGISTRY_CONFIG", &config)
        .env("HELM_CACHE_HOME", dir.path().join("cache"))
        .env("HELM_CONFIG_HOME", dir.path().join("config"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "helm push failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        registry.log()
    );
    format!("sha256:{}", hex::encode(Sha256::digest(&package)))
}

fn revision(chart: &HelmChart) -> Option<String> {
    chart
        .status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .map(|a| a.revision.clone())
}

/// The Secret `registry-config` with the registry's credentials (a Docker config), and the
/// OCI HelmRepository `charts` of `oci://<registry>/charts` using it.
pub async fn charts_repository(harness: &HelmHarness, registry: &Registry) {
    harness
        .secret(
            "registry-config",
            Some("kubernetes.io/dockerconfigjson"),
            &[(
                ".dockerconfigjson",
                &registry.docker_config_json(registry.password()),
            )],
        )
        .await;
    oci_repository(harness, "charts", registry, "registry-config").await;
}

async fn oci_repository(harness: &HelmHarness, name: &str, registry: &Registry, secret: &str) {
    let mut spec = repository_spec(&format!("oci://{}/charts", registry.host()));
    spec.type_ = Some(HelmRepositoryType::Oci);
    spec.insecure = Some(true);
    spec.secret_ref = reference(secret);
    harness.create_repository(name, spec).await;
}

fn oci_chart(repository: &str, version: &str) -> ferroflux_api::source::v1::HelmChartSpec {
    let mut spec = chart_spec("podinfo", HelmChartSourceKind::HelmRepository, repository);
    spec.version = Some(version.to_owned());
    spec
}

#[tokio::test]
async fn pulls_charts_pushed_by_helm_and_follows_new_tags() {
    let harness = HelmHarness::start("helm-oci").await;
    let registry = Registry::start(RegistryOptions::default());
    let first = helm_push(&registry, "6.0.0");
    let second = helm_push(&registry, "6.1.0");
    helm_push(&registry, "7.0.0-rc.1");

    // An OCI HelmRepository is a static data container, as in Flux: no artifact, no
    // conditions; the HelmChart talks to the registry.
    charts_repository(&harness, &registry).await;

    // A range lists the tags and takes the highest stable match; the package is stored as
    // helm pushed it.
    harness
        .create_chart("latest", oci_chart("charts", "6.x"))
        .await;
    let chart: HelmChart = harness
        .wait("latest", ConditionStatus::True, |c: &HelmChart| {
            revision(c).is_some()
        })
        .await;
    assert_eq!(
        ready(&chart),
        (
            "ChartPullSucceeded".to_owned(),
            "pulled 'podinfo' chart with version '6.1.0'".to_owned()
        )
    );
    let status = chart.status.clone().unwrap();
    let artifact = status.artifact.unwrap();
    assert_eq!(artifact.revision, "6.1.0");
    let repository: ferroflux_api::source::v1::HelmRepository =
        harness.api().get("charts").await.unwrap();
    let repository_status = repository.status.unwrap_or_default();
    assert!(repository_status.artifact.is_none());
    assert!(repository_status.conditions.unwrap_or_default().is_empty());
    assert_eq!(artifact.digest, second);
    assert!(artifact.path.ends_with("/latest/podinfo-6.1.0.tgz"));
    let package = download(&artifact.url, &artifact.digest).await;
    assert_eq!(
        format!("sha256:{}", hex::encode(Sha256::digest(&package))),
        second
    );
    assert_eq!(status.observed_chart_name.as_deref(), Some("podinfo"));

    // An exact version is pulled by its tag.
    harness
        .create_chart("pinned", oci_chart("charts", "6.0.0"))
        .await;
    let chart: HelmChart = harness
        .wait("pinned", ConditionStatus::True, |c: &HelmChart| {
            revision(c).is_some()
        })
        .await;
    let artifact = chart.status.unwrap().artifact.unwrap();
    assert_eq!(artifact.revision, "6.0.0");
    assert_eq!(artifact.digest, first);

    // A new tag in range is picked up on the next reconciliation.
    let third = helm_push(&registry, "6.2.0");
    request_reconcile(&harness.api::<HelmChart>(), "latest", "new-tag").await;
    let chart: HelmChart = harness
        .wait("latest", ConditionStatus::True, |c: &HelmChart| {
            revision(c).as_deref() == Some("6.2.0")
        })
        .await;
    assert_eq!(chart.status.unwrap().artifact.unwrap().digest, third);
}

#[tokio::test]
async fn oci_failures_have_flux_reasons() {
    let harness = HelmHarness::start("helm-oci-bad").await;
    let registry = Registry::start(RegistryOptions::default());
    helm_push(&registry, "6.0.0");
    harness
        .secret(
            "basic",
            None,
            &[
                ("username", registry.username()),
                ("password", registry.password()),
            ],
        )
        .await;
    harness
        .secret(
            "wrong",
            None,
            &[("username", registry.username()), ("password", "nope")],
        )
        .await;
    oci_repository(&harness, "charts", &registry, "basic").await;
    oci_repository(&harness, "denied", &registry, "wrong").await;
    let settled = |chart: &HelmChart| ready(chart).0 != "NoSourceArtifact";

    harness
        .create_chart("range", oci_chart("charts", "9.x"))
        .await;
    let chart: HelmChart = harness.wait("range", ConditionStatus::False, settled).await;
    assert_eq!(
        ready(&chart),
        (
            "ChartPullError".to_owned(),
            "chart pull error: failed to get chart version for remote reference: could not locate a version matching provided version string 9.x".to_owned()
        )
    );
    assert!(is_true(&chart, "FetchFailed"));

    harness
        .create_chart("missing", oci_chart("charts", "9.9.9"))
        .await;
    let chart: HelmChart = harness
        .wait("missing", ConditionStatus::False, settled)
        .await;
    let (reason, message) = ready(&chart);
    assert_eq!(reason, "ChartPullError", "{message}");
    let prefix = format!(
        "chart pull error: failed to download chart for remote reference: failed to get 'oci://{}/charts/podinfo:9.9.9': ",
        registry.host()
    );
    assert!(message.starts_with(&prefix), "{message}");
    assert!(message.contains("MANIFEST_UNKNOWN"), "{message}");

    harness
        .create_chart("denied", oci_chart("denied", "6.0.0"))
        .await;
    let chart: HelmChart = harness
        .wait("denied", ConditionStatus::False, settled)
        .await;
    let (reason, message) = ready(&chart);
    assert_eq!(reason, "AuthenticationFailed", "{message}");
    assert!(!message.contains("nope"), "{message}");
    assert!(is_true(&chart, "FetchFailed"));
    let warnings = harness.warnings("denied").await;
    assert!(
        warnings
            .iter()
            .any(|e| e.reason.as_deref() == Some("AuthenticationFailed")),
        "{warnings:?}"
    );
}
