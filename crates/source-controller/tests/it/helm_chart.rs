//! HelmChart from a HelmRepository (semver, new versions, values files, failures) and
//! from a GitRepository (ChartVersion and Revision strategies, values files).

use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::{
    GitRepository, HelmChart, HelmChartSourceKind, HelmRepository, ReconcileStrategy,
};
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::harness::{Harness, spec};
use crate::helm_harness::{
    HelmHarness, chart_spec, download, is_true, podinfo_files, ready, repository_spec,
    request_reconcile, wait_in,
};

fn artifact_revision(chart: &HelmChart) -> Option<String> {
    chart
        .status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .map(|a| a.revision.clone())
}

fn chart_files(package: &[u8]) -> std::collections::BTreeMap<String, String> {
    let files = ferroflux_helm::loader::load_archive(package).unwrap();
    files
        .raw
        .iter()
        .chain(files.templates.iter())
        .map(|f| {
            (
                f.name.clone(),
                String::from_utf8_lossy(&f.data).into_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn pulls_the_highest_matching_version_and_follows_the_index() {
    let harness = HelmHarness::start("helmchart-repo").await;
    for version in ["6.0.0", "6.1.0", "7.0.0"] {
        harness.publish_podinfo(version);
    }
    harness
        .create_repository("charts", repository_spec(&harness.repo.http_url(false)))
        .await;
    let mut spec = chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "charts");
    spec.version = Some("6.x".to_owned());
    harness.create_chart("podinfo", spec).await;
    let chart: HelmChart = harness
        .wait("podinfo", ConditionStatus::True, |c: &HelmChart| {
            artifact_revision(c).is_some()
        })
        .await;
    let (reason, message) = ready(&chart);
    assert_eq!(reason, "ChartPullSucceeded");
    assert_eq!(message, "pulled 'podinfo' chart with version '6.1.0'");
    let status = chart.status.clone().unwrap();
    let artifact = status.artifact.unwrap();
    assert_eq!(artifact.revision, "6.1.0");
    assert!(
        artifact.path.ends_with("/podinfo/podinfo-6.1.0.tgz"),
        "{}",
        artifact.path
    );
    assert_eq!(status.observed_chart_name.as_deref(), Some("podinfo"));
    let repo: HelmRepository = harness.api().get("charts").await.unwrap();
    assert_eq!(
        status.observed_source_artifact_revision,
        repo.status.unwrap().artifact.map(|a| a.revision)
    );
    let package = download(&artifact.url, &artifact.digest).await;
    assert_eq!(
        package,
        std::fs::read(harness.repo.www().join("podinfo-6.1.0.tgz")).unwrap()
    );

    // A new version in the index: the repository's new artifact re-triggers the chart.
    harness.publish_podinfo("6.2.0");
    request_reconcile(&harness.api::<HelmRepository>(), "charts", "one").await;
    harness
        .wait("podinfo", ConditionStatus::True, |c: &HelmChart| {
            artifact_revision(c).as_deref() == Some("6.2.0")
        })
        .await;

    // Values files from inside the chart: repackaged with the generation as metadata.
    harness
        .api::<HelmChart>()
        .patch(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"valuesFiles": ["values.yaml", "values-prod.yaml"]}})),
        )
        .await
        .unwrap();
    let chart: HelmChart = harness
        .wait("podinfo", ConditionStatus::True, |c: &HelmChart| {
            artifact_revision(c).as_deref() == Some("6.2.0+2")
        })
        .await;
    let (reason, message) = ready(&chart);
    assert_eq!(reason, "ChartPackageSucceeded");
    assert_eq!(
        message,
        "packaged 'podinfo' chart with version '6.2.0+2' and merged values files [values.yaml values-prod.yaml]"
    );
    let status = chart.status.unwrap();
    assert_eq!(
        status.observed_values_files,
        Some(vec![
            "values.yaml".to_owned(),
            "values-prod.yaml".to_owned()
        ])
    );
    let artifact = status.artifact.unwrap();
    let files = chart_files(&download(&artifact.url, &artifact.digest).await);
    assert!(files["Chart.yaml"].contains("version: 6.2.0+2"));
    assert!(
        files["values.yaml"].contains("redis:"),
        "values-prod.yaml merged"
    );
}

#[tokio::test]
async fn bad_charts_fail_with_flux_reasons() {
    let harness = HelmHarness::start_with("helmchart-fail", &["--helm-chart-max-size=2000"]).await;
    // A chart reconciled before it sees the repository's artifact fails with the transient
    // NoSourceArtifact first (retried, as in Flux); wait for the settled reason.
    let settled = |chart: &HelmChart| ready(chart).0 != "NoSourceArtifact";
    harness.publish_podinfo("6.0.0");
    harness.repo.add_chart("gone", "1.0.0", b"not served");
    std::fs::remove_file(harness.repo.www().join("gone-1.0.0.tgz")).unwrap();
    harness
        .create_repository("charts", repository_spec(&harness.repo.http_url(false)))
        .await;
    harness
        .wait("charts", ConditionStatus::True, |_: &HelmRepository| true)
        .await;

    let mut nothing = chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "charts");
    nothing.version = Some("9.x".to_owned());
    harness.create_chart("nothing", nothing).await;
    let chart: HelmChart = harness
        .wait("nothing", ConditionStatus::False, settled)
        .await;
    let (reason, message) = ready(&chart);
    assert_eq!(reason, "InvalidChartReference");
    assert_eq!(
        message,
        "invalid chart reference: failed to get chart version for remote reference: no 'podinfo' chart with version matching '9.x' found"
    );
    assert!(is_true(&chart, "Stalled"));

    harness
        .create_chart(
            "gone",
            chart_spec("gone", HelmChartSourceKind::HelmRepository, "charts"),
        )
        .await;
    let chart: HelmChart = harness.wait("gone", ConditionStatus::False, settled).await;
    let (reason, message) = ready(&chart);
    assert_eq!(reason, "ChartPullError", "{message}");
    assert!(message.contains("404 Not Found"), "{message}");
    assert!(is_true(&chart, "FetchFailed"));

    harness
        .create_chart(
            "big",
            chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "charts"),
        )
        .await;
    let chart: HelmChart = harness.wait("big", ConditionStatus::False, settled).await;
    let (reason, message) = ready(&chart);
    assert_eq!(reason, "ChartPullError", "{message}");
    assert!(
        message.contains("maximum chart size of 2000 bytes"),
        "{message}"
    );

    harness
        .create_chart(
            "orphan",
            chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "nope"),
        )
        .await;
    let chart: HelmChart = harness
        .wait("orphan", ConditionStatus::False, |_: &HelmChart| true)
        .await;
    assert_eq!(ready(&chart).0, "SourceUnavailable");

    ferroflux_testkit::wait_for(
        std::time::Duration::from_secs(30),
        "a Warning event for the missing chart",
        || async { !harness.warnings("gone").await.is_empty() },
    )
    .await;
}

#[tokio::test]
async fn packages_charts_from_git_by_chart_version_or_revision() {
    let harness = Harness::start("helmchart-git").await;
    let hint = harness
        .storage
        .path()
        .join("controller.log")
        .display()
        .to_string();
    let repo = harness.git.create_repo("charts");
    let mut files = podinfo_files("charts/podinfo/");
    files.push(("overrides.yaml".to_owned(), "replicaCount: 3\n".to_owned()));
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    repo.commit(&borrowed, "podinfo");
    harness
        .create("charts", spec(&harness.git.public_url(&repo), None))
        .await;
    let charts: Api<HelmChart> = Api::namespaced(harness.client.clone(), harness.namespace.name());
    let post = kube::api::PostParams::default();
    let by_version = chart_spec(
        "./charts/podinfo",
        HelmChartSourceKind::GitRepository,
        "charts",
    );
    charts
        .create(&post, &HelmChart::new("by-version", by_version.clone()))
        .await
        .unwrap();
    let mut by_revision = by_version.clone();
    by_revision.reconcile_strategy = Some(ReconcileStrategy::Revision);
    charts
        .create(&post, &HelmChart::new("by-revision", by_revision))
        .await
        .unwrap();
    let mut values = by_version;
    values.values_files = Some(vec![
        "charts/podinfo/values.yaml".to_owned(),
        "overrides.yaml".to_owned(),
    ]);
    charts
        .create(&post, &HelmChart::new("values", values))
        .await
        .unwrap();

    let has_artifact = |c: &HelmChart| artifact_revision(c).is_some();
    let first = wait_in(
        &charts,
        "by-version",
        ConditionStatus::True,
        has_artifact,
        &hint,
    )
    .await;
    let (reason, message) = ready(&first);
    assert_eq!(reason, "ChartPackageSucceeded");
    assert_eq!(message, "packaged 'podinfo' chart with version '6.14.1'");
    let first_digest = first
        .status
        .as_ref()
        .unwrap()
        .artifact
        .as_ref()
        .unwrap()
        .digest
        .clone();
    let git: GitRepository = harness.api().get("charts").await.unwrap();
    let git_revision = git.status.unwrap().artifact.unwrap().revision;
    let sha = git_revision.rsplit(':').next().unwrap().to_owned();
    let rev = wait_in(
        &charts,
        "by-revision",
        ConditionStatus::True,
        has_artifact,
        &hint,
    )
    .await;
    assert_eq!(
        artifact_revision(&rev).unwrap(),
        format!("6.14.1+{}", &sha[..12])
    );
    let merged = wait_in(
        &charts,
        "values",
        ConditionStatus::True,
        has_artifact,
        &hint,
    )
    .await;
    let artifact = merged.status.unwrap().artifact.unwrap();
    assert_eq!(artifact.revision, "6.14.1+1");
    let package = chart_files(&download(&artifact.url, &artifact.digest).await);
    assert!(
        package["values.yaml"].contains("replicaCount: 3"),
        "{}",
        package["values.yaml"]
    );

    // A template change without a version bump: same artifact for ChartVersion, a new
    // version for Revision.
    let sha2 = repo.commit(
        &[("charts/podinfo/templates/extra.yaml", "# extra\n")],
        "template",
    );
    let revision2 = format!("main@sha1:{sha2}");
    let observed = |c: &HelmChart| {
        c.status
            .as_ref()
            .and_then(|s| s.observed_source_artifact_revision.as_deref())
            == Some(revision2.as_str())
    };
    let git_api = harness.api();
    request_reconcile(&git_api, "charts", "one").await;
    let same = wait_in(
        &charts,
        "by-version",
        ConditionStatus::True,
        observed,
        &hint,
    )
    .await;
    let artifact = same.status.unwrap().artifact.unwrap();
    assert_eq!(artifact.revision, "6.14.1");
    assert_eq!(
        artifact.digest, first_digest,
        "no new artifact without a version bump"
    );
    wait_in(
        &charts,
        "by-revision",
        ConditionStatus::True,
        |c: &HelmChart| artifact_revision(c) == Some(format!("6.14.1+{}", &sha2[..12])),
        &hint,
    )
    .await;

    // A version bump: a new artifact.
    let chart_yaml =
        std::fs::read_to_string(format!("{}/Chart.yaml", crate::helm_harness::PODINFO))
            .unwrap()
            .replace("version: 6.14.1", "version: 6.14.2");
    repo.commit(&[("charts/podinfo/Chart.yaml", &chart_yaml)], "bump");
    request_reconcile(&git_api, "charts", "two").await;
    wait_in(
        &charts,
        "by-version",
        ConditionStatus::True,
        |c: &HelmChart| artifact_revision(c).as_deref() == Some("6.14.2"),
        &hint,
    )
    .await;
}
