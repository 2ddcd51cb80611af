//! End to end with the real source-controller: HelmRepository (loopback Helm repository)
//! → generated HelmChart → HelmRelease.

use std::time::Duration;

use ferroflux_api::meta::ConditionStatus;
use ferroflux_api::source::v1::HelmRepository;
use ferroflux_testkit::controller::{ControllerProcess, binary, free_port};
use ferroflux_testkit::helm_repo::HelmRepoServer;
use ferroflux_testkit::wait_for;
use kube::api::{Api, PostParams};
use serde_json::json;

use crate::harness::{Harness, helm, podinfo};

#[tokio::test]
async fn installs_from_a_helm_repository_through_the_source_controller() {
    let h = Harness::start("hc-e2e").await;
    let repo = HelmRepoServer::start();
    let out = h.dir.path().join("e2e-pkg");
    std::fs::create_dir_all(&out).unwrap();
    helm(&[
        "package",
        podinfo().to_str().unwrap(),
        "-d",
        out.to_str().unwrap(),
    ]);
    repo.add_chart(
        "podinfo",
        "6.14.1",
        &std::fs::read(out.join("podinfo-6.14.1.tgz")).unwrap(),
    );
    let port = free_port();
    let _source_controller = ControllerProcess::start(
        &binary("source-controller"),
        h.ns(),
        &[
            format!("--storage-path={}", h.dir.path().join("data").display()),
            format!("--storage-addr=127.0.0.1:{port}"),
            format!("--storage-adv-addr=127.0.0.1:{port}"),
        ],
        h.dir.path().join("source-controller.log"),
    );
    let repositories: Api<HelmRepository> = Api::namespaced(h.client.clone(), h.ns());
    let repository: HelmRepository = serde_json::from_value(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
        "metadata": {"name": "repo"}, "spec": {"url": repo.http_url(false), "interval": "1h"}
    }))
    .unwrap();
    repositories
        .create(&PostParams::default(), &repository)
        .await
        .unwrap();
    h.create(
        "podinfo",
        json!({"interval": "1h", "chart": {"spec": {"chart": "podinfo", "version": "6.x",
               "sourceRef": {"kind": "HelmRepository", "name": "repo"}}}}),
    )
    .await;
    let object = h
        .wait_ready("podinfo", ConditionStatus::True, "podinfo.v1")
        .await;
    let status = object.status.unwrap();
    assert_eq!(status.helm_chart, Some(format!("{0}/{0}-podinfo", h.ns())));
    assert_eq!(status.history.unwrap()[0].chart_version, "6.14.1");
    wait_for(Duration::from_secs(10), "helm history", || async {
        h.history("podinfo").len() == 1
    })
    .await;
}
