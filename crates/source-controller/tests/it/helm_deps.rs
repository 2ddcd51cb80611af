//! HelmChart from a GitRepository whose chart has dependencies: a `file://` chart next to
//! it in the repository and a chart from an HTTP Helm repository (matched to the
//! HelmRepository of the namespace with that URL); a dependency nothing satisfies fails
//! with Flux's reason.

use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::{HelmChart, HelmChartSourceKind};
use ferroflux_testkit::helm_repo::HelmRepoServer;
use kube::Api;

use crate::harness::{Harness, spec};
use crate::helm_harness::{chart_spec, download, package_podinfo, ready, repository_spec, wait_in};

fn umbrella(repository: &str, podinfo_version: &str) -> Vec<(String, String)> {
    vec![
        (
            "charts/umbrella/Chart.yaml".to_owned(),
            format!(
                "apiVersion: v2\nname: umbrella\nversion: 1.0.0\ndependencies:\n- name: podinfo\n  version: \"{podinfo_version}\"\n  repository: {repository}\n- name: local\n  version: 0.1.0\n  repository: file://../local\n"
            ),
        ),
        (
            "charts/umbrella/templates/cm.yaml".to_owned(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: umbrella\n".to_owned(),
        ),
        (
            "charts/local/Chart.yaml".to_owned(),
            "apiVersion: v2\nname: local\nversion: 0.1.0\n".to_owned(),
        ),
        (
            "charts/local/templates/cm.yaml".to_owned(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n".to_owned(),
        ),
    ]
}

#[tokio::test]
async fn builds_file_and_repository_dependencies_of_charts_from_git() {
    let harness = Harness::start("helmchart-deps").await;
    let hint = harness
        .storage
        .path()
        .join("controller.log")
        .display()
        .to_string();
    let helm_repo = HelmRepoServer::start();
    helm_repo.add_chart("podinfo", "6.14.1", &package_podinfo("6.14.1", |_| {}));
    let url = helm_repo.http_url(false);
    let repositories: Api<ferroflux_api::source::v1::HelmRepository> =
        Api::namespaced(harness.client.clone(), harness.namespace.name());
    repositories
        .create(
            &kube::api::PostParams::default(),
            &ferroflux_api::source::v1::HelmRepository::new("podinfo", repository_spec(&url)),
        )
        .await
        .unwrap();

    let repo = harness.git.create_repo("charts");
    let mut files = umbrella(&url, "6.x");
    files.extend(
        umbrella(&url, "99.x")
            .into_iter()
            .filter(|(path, _)| path.starts_with("charts/umbrella/"))
            .map(|(path, text)| {
                (
                    path.replace("charts/umbrella/", "charts/broken/"),
                    text.replace("name: umbrella", "name: broken"),
                )
            }),
    );
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    repo.commit(&borrowed, "charts");
    harness
        .create("charts", spec(&harness.git.public_url(&repo), None))
        .await;
    let charts: Api<HelmChart> = Api::namespaced(harness.client.clone(), harness.namespace.name());
    let post = kube::api::PostParams::default();
    for (name, path) in [
        ("umbrella", "./charts/umbrella"),
        ("broken", "./charts/broken"),
    ] {
        charts
            .create(
                &post,
                &HelmChart::new(
                    name,
                    chart_spec(path, HelmChartSourceKind::GitRepository, "charts"),
                ),
            )
            .await
            .unwrap();
    }

    let built = wait_in(
        &charts,
        "umbrella",
        ConditionStatus::True,
        |c: &HelmChart| {
            c.status
                .as_ref()
                .and_then(|s| s.artifact.as_ref())
                .is_some()
        },
        &hint,
    )
    .await;
    let (reason, message) = ready(&built);
    assert_eq!(reason, "ChartPackageSucceeded");
    assert!(
        message.contains("'umbrella' chart with version '1.0.0'"),
        "{message}"
    );
    let artifact = built.status.unwrap().artifact.unwrap();
    let package = download(&artifact.url, &artifact.digest).await;
    let chart = ferroflux_helm::loader::load_archive(&package).unwrap();
    let mut dependencies: Vec<(String, String)> = chart
        .dependencies
        .iter()
        .map(|d| (d.metadata.name.clone(), d.metadata.version.clone()))
        .collect();
    dependencies.sort();
    assert_eq!(
        dependencies,
        [
            ("local".to_owned(), "0.1.0".to_owned()),
            ("podinfo".to_owned(), "6.14.1".to_owned())
        ]
    );

    let failed = wait_in(
        &charts,
        "broken",
        ConditionStatus::False,
        |c: &HelmChart| ready(c).0 == "DependencyBuildError",
        &hint,
    )
    .await;
    let (_, message) = ready(&failed);
    assert!(
        message.contains("failed to add dependency 'podinfo'"),
        "{message}"
    );
}
