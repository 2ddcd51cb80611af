//! End to end with the real source-controller: podinfo installed from every source kind —
//! a HelmRepository (loopback Helm repository) and an OCI HelmRepository (the Debian
//! docker-registry, chart pushed by the real `helm push`) through the generated HelmChart,
//! an OCIRepository as `chartRef`, and chart directories in a GitRepository (loopback
//! git http-backend) and a Bucket (moto S3).

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ferroflux_api::meta::ConditionStatus;
use ferroflux_testkit::controller::{ControllerProcess, binary, free_port};
use ferroflux_testkit::git_server::GitServer;
use ferroflux_testkit::helm_repo::HelmRepoServer;
use ferroflux_testkit::registry::{Registry, RegistryOptions};
use ferroflux_testkit::s3::S3Server;
use ferroflux_testkit::wait_for;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Secret;
use kube::Resource;
use kube::api::{Api, PostParams};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::harness::{Harness, helm, podinfo};

/// The version of the podinfo fixture.
const VERSION: &str = "6.14.1";

/// Starts the real source-controller for the harness namespace.
fn source_controller(h: &Harness) -> ControllerProcess {
    let port = free_port();
    ControllerProcess::start(
        &binary("source-controller"),
        h.ns(),
        &[
            format!("--storage-path={}", h.dir.path().join("data").display()),
            format!("--storage-addr=127.0.0.1:{port}"),
            format!("--storage-adv-addr=127.0.0.1:{port}"),
        ],
        h.dir.path().join("source-controller.log"),
    )
}

/// Creates a namespaced object of kind `K` from its JSON manifest.
async fn create<K>(h: &Harness, manifest: Value)
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let object: K = serde_json::from_value(manifest).unwrap();
    Api::<K>::namespaced(h.client.clone(), h.ns())
        .create(&PostParams::default(), &object)
        .await
        .unwrap();
}

/// A Flux source manifest.
fn source(kind: &str, name: &str, spec: &Value) -> Value {
    json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": kind,
           "metadata": {"name": name}, "spec": spec})
}

/// podinfo packaged by the real helm; returns the package path.
fn package(h: &Harness) -> PathBuf {
    let out = h.dir.path().join("e2e-pkg");
    std::fs::create_dir_all(&out).unwrap();
    helm(&[
        "package",
        podinfo().to_str().unwrap(),
        "-d",
        out.to_str().unwrap(),
    ]);
    out.join(format!("podinfo-{VERSION}.tgz"))
}

/// Waits until release `name` is installed from podinfo `version` and helm lists one
/// revision.
async fn assert_installed(h: &Harness, name: &str, version: &str) {
    let object = h
        .wait_ready(name, ConditionStatus::True, &format!("{name}.v1"))
        .await;
    let status = object.status.unwrap();
    assert_eq!(status.history.unwrap()[0].chart_version, version, "{name}");
    wait_for(Duration::from_secs(10), "helm history", || async {
        h.history(name).len() == 1
    })
    .await;
}

#[tokio::test]
async fn installs_from_a_helm_repository_through_the_source_controller() {
    let h = Harness::start("hc-e2e").await;
    let repo = HelmRepoServer::start();
    repo.add_chart("podinfo", VERSION, &std::fs::read(package(&h)).unwrap());
    let _source_controller = source_controller(&h);
    create::<ferroflux_api::source::v1::HelmRepository>(
        &h,
        source(
            "HelmRepository",
            "repo",
            &json!({"url": repo.http_url(false), "interval": "1h"}),
        ),
    )
    .await;
    h.create(
        "podinfo",
        json!({"interval": "1h", "chart": {"spec": {"chart": "podinfo", "version": "6.x",
               "sourceRef": {"kind": "HelmRepository", "name": "repo"}}}}),
    )
    .await;
    assert_installed(&h, "podinfo", VERSION).await;
    let status = h.releases().get("podinfo").await.unwrap().status.unwrap();
    assert_eq!(status.helm_chart, Some(format!("{0}/{0}-podinfo", h.ns())));
}

#[tokio::test]
async fn installs_from_an_oci_helm_repository_and_an_oci_repository() {
    let h = Harness::start("hc-e2e-oci").await;
    let registry = Registry::start(RegistryOptions {
        anonymous: true,
        tls: false,
    });
    let config = h.dir.path().join("registry.json");
    std::fs::write(&config, "{}").unwrap();
    let pushed = Command::new(ferroflux_testkit::tools::helm())
        .arg("push")
        .arg(package(&h))
        .arg(format!("oci://{}/charts", registry.host()))
        .arg("--plain-http")
        .env("HELM_REGISTRY_CONFIG", &config)
        .output()
        .unwrap();
    assert!(
        pushed.status.success(),
        "helm push: {}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    let _source_controller = source_controller(&h);

    create::<ferroflux_api::source::v1::HelmRepository>(
        &h,
        source(
            "HelmRepository",
            "oci-charts",
            &json!({"type": "oci", "url": format!("oci://{}/charts", registry.host()),
                   "insecure": true, "interval": "1h"}),
        ),
    )
    .await;
    h.create(
        "from-helm-repository",
        json!({"interval": "1h",
               "chart": {"spec": {"chart": "podinfo", "version": ">=6.0.0",
               "sourceRef": {"kind": "HelmRepository", "name": "oci-charts"}}}}),
    )
    .await;

    create::<ferroflux_api::source::v1::OCIRepository>(
        &h,
        source(
            "OCIRepository",
            "podinfo-oci",
            &json!({"url": format!("oci://{}/charts/podinfo", registry.host()),
                   "ref": {"semver": "6.x"}, "insecure": true, "interval": "1h",
                   "layerSelector": {
                       "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                       "operation": "copy"}}),
        ),
    )
    .await;
    h.create(
        "from-oci-repository",
        json!({"interval": "1h",
               "chartRef": {"kind": "OCIRepository", "name": "podinfo-oci"}}),
    )
    .await;

    assert_installed(&h, "from-helm-repository", VERSION).await;
    // As Flux, a chart from an OCIRepository carries the manifest digest of the artifact
    // revision (`<tag>@sha256:<hex>`) as build metadata.
    let revision =
        Api::<ferroflux_api::source::v1::OCIRepository>::namespaced(h.client.clone(), h.ns())
            .get("podinfo-oci")
            .await
            .unwrap()
            .status
            .unwrap()
            .artifact
            .unwrap()
            .revision;
    let short = &revision.rsplit_once("@sha256:").unwrap().1[..12];
    assert_installed(&h, "from-oci-repository", &format!("{VERSION}+{short}")).await;
}

/// Every file of the podinfo fixture under `prefix`, as text.
fn chart_files(prefix: &str) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, prefix, out);
            } else {
                let relative = path.strip_prefix(root).unwrap().display();
                out.push((
                    format!("{prefix}/{relative}"),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(&podinfo(), &podinfo(), prefix, &mut out);
    out
}

#[tokio::test]
async fn installs_chart_directories_from_git_and_a_bucket() {
    let h = Harness::start("hc-e2e-dirs").await;
    let files = chart_files("charts/podinfo");
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(path, body)| (path.as_str(), body.as_str()))
        .collect();

    let git = GitServer::start();
    let repo = git.create_repo("charts");
    repo.commit(&files, "podinfo chart");
    let s3 = S3Server::start();
    s3.create_bucket("charts");
    for (path, body) in &files {
        s3.put_object("charts", path, body.as_bytes());
    }
    let mut secret = Secret::default();
    secret.metadata.name = Some("s3".to_owned());
    secret.string_data = Some(
        [
            ("accesskey", "AKIAFERROFLUX"),
            ("secretkey", "s3-secret-key-42"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    );
    Api::<Secret>::namespaced(h.client.clone(), h.ns())
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let _source_controller = source_controller(&h);

    create::<ferroflux_api::source::v1::GitRepository>(
        &h,
        source(
            "GitRepository",
            "charts",
            &json!({"url": git.public_url(&repo), "ref": {"branch": "main"}, "interval": "1h"}),
        ),
    )
    .await;
    h.create(
        "from-git",
        json!({"interval": "1h", "chart": {"spec": {"chart": "./charts/podinfo",
               "sourceRef": {"kind": "GitRepository", "name": "charts"}}}}),
    )
    .await;

    create::<ferroflux_api::source::v1::Bucket>(
        &h,
        source(
            "Bucket",
            "charts",
            &json!({"bucketName": "charts", "endpoint": s3.endpoint(), "insecure": true,
                   "region": "us-east-1", "interval": "1h", "secretRef": {"name": "s3"}}),
        ),
    )
    .await;
    h.create(
        "from-bucket",
        json!({"interval": "1h", "chart": {"spec": {"chart": "charts/podinfo",
               "sourceRef": {"kind": "Bucket", "name": "charts"}}}}),
    )
    .await;

    assert_installed(&h, "from-git", VERSION).await;
    assert_installed(&h, "from-bucket", VERSION).await;
}
