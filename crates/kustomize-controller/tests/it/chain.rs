//! The Kustomization chain of ../shared/fixtures/flux2-kustomize-helm-example (staging):
//! infra-controllers → infra-configs → apps, each reading an ExternalArtifact (behind the
//! `ExternalArtifact` feature gate). The ArtifactGenerator that would make those artifacts
//! does not exist yet, so the test packs them as it would and serves them over loopback
//! HTTP. No helm-controller runs here: `wait` is turned off (HelmReleases would never become
//! Ready) and the test asserts what is applied instead.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ferroflux_api::kustomize::v1::Kustomization;
use ferroflux_api::meta::{Artifact, ConditionStatus};
use ferroflux_api::source::v1::ExternalArtifact;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::Harness;

const FIXTURE: &str = "../shared/fixtures/flux2-kustomize-helm-example";

/// Minimal CRDs for the kinds infra-configs applies (their controllers are not needed).
const CRDS: [(&str, &str, &str, &str); 3] = [
    (
        "cert-manager.io",
        "ClusterIssuer",
        "clusterissuers",
        "Cluster",
    ),
    (
        "gateway.networking.k8s.io",
        "GatewayClass",
        "gatewayclasses",
        "Cluster",
    ),
    (
        "gateway.networking.k8s.io",
        "Gateway",
        "gateways",
        "Namespaced",
    ),
];

/// Serves `files` (URL path → bytes) on 127.0.0.1 until the process ends; returns the base
/// URL.
fn serve(files: BTreeMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let read = stream.read(&mut buffer).unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..read]);
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let response = match files.get(&path) {
                Some(body) => {
                    let mut out = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    out.extend_from_slice(body);
                    out
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    base
}

/// Packs `(from, to)` fixture directories as the ArtifactGenerator's copy rules would.
fn pack(fixture: &Path, copies: &[(&str, &str)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in copies {
        let target = dir.path().join(to);
        std::fs::create_dir_all(&target).unwrap();
        let status = Command::new("cp")
            .arg("-r")
            .arg(format!("{}/.", fixture.join(from).display()))
            .arg(&target)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let output = Command::new("tar")
        .args(["--sort=name", "--mtime=@0", "-czf", "-", "-C"])
        .arg(dir.path())
        .arg(".")
        .output()
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

async fn create_external_artifact(harness: &Harness, name: &str, url: &str, body: &[u8]) {
    let api: Api<ExternalArtifact> = Api::namespaced(harness.client.clone(), harness.ns());
    let object: ExternalArtifact = serde_json::from_value(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "ExternalArtifact",
        "metadata": {"name": name},
        "spec": {}
    }))
    .unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(body)));
    let artifact = Artifact {
        path: format!("externalartifact/{}/{name}/{name}.tar.gz", harness.ns()),
        url: url.to_owned(),
        revision: format!("latest@{digest}"),
        digest,
        last_update_time: Time(jiff::Timestamp::now()),
        size: Some(i64::try_from(body.len()).unwrap()),
        metadata: None,
    };
    let status = json!({"status": {
        "artifact": artifact,
        "conditions": [{
            "type": "Ready", "status": "True", "reason": "Succeeded",
            "message": "test artifact", "lastTransitionTime": jiff::Timestamp::now().to_string()
        }]
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

async fn install_fixture_crds(harness: &Harness) {
    let api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(harness.client.clone());
    for (group, kind, plural, scope) in CRDS {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": format!("{plural}.{group}"),
                // Required for *.k8s.io groups; the real Gateway API CRDs carry it too.
                "annotations": {"api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/1538"}
            },
            "spec": {
                "group": group,
                "names": {"kind": kind, "plural": plural},
                "scope": scope,
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]
            }
        });
        api.patch(
            &format!("{plural}.{group}"),
            &PatchParams::apply("ferroflux-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
    }
}

/// The Kustomizations of `clusters/staging/<file>`, moved into the test namespace.
fn fixture_kustomizations(fixture: &Path, file: &str, namespace: &str) -> Vec<Kustomization> {
    let text = std::fs::read_to_string(fixture.join("clusters/staging").join(file)).unwrap();
    ferroflux_kustomize::yaml::parse_documents(&text)
        .unwrap()
        .into_iter()
        .map(|mut document: Value| {
            document["metadata"]["namespace"] = json!(namespace);
            document["spec"]["wait"] = json!(false);
            document["spec"]["retryInterval"] = json!("2s");
            serde_json::from_value(document).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn flux2_kustomize_helm_example_chain_becomes_ready_in_order() {
    let fixture = ferroflux_testkit::repo_root().join(FIXTURE);
    let harness = Harness::start_with(
        "ks-chain",
        &[("README.md", "chain\n")],
        &["--feature-gates=ExternalArtifact=true"],
    )
    .await;
    install_fixture_crds(&harness).await;
    let infrastructure = pack(&fixture, &[("infrastructure", "")]);
    let apps = pack(
        &fixture,
        &[("apps/base", "base"), ("apps/staging", "staging")],
    );
    let base = serve(BTreeMap::from([
        ("/infrastructure.tar.gz".to_owned(), infrastructure.clone()),
        ("/apps.tar.gz".to_owned(), apps.clone()),
    ]));
    create_external_artifact(
        &harness,
        "infrastructure",
        &format!("{base}/infrastructure.tar.gz"),
        &infrastructure,
    )
    .await;
    create_external_artifact(&harness, "apps", &format!("{base}/apps.tar.gz"), &apps).await;

    let mut kustomizations = fixture_kustomizations(&fixture, "infrastructure.yaml", harness.ns());
    kustomizations.extend(fixture_kustomizations(&fixture, "apps.yaml", harness.ns()));
    // Created in reverse order: only dependsOn decides the order.
    for object in kustomizations.iter().rev() {
        harness
            .kustomizations()
            .create(&PostParams::default(), object)
            .await
            .unwrap();
    }
    let order = ready_order(&harness, &["infra-controllers", "infra-configs", "apps"]).await;
    assert_eq!(order, ["infra-controllers", "infra-configs", "apps"]);

    let issuer = get(
        &harness,
        "cert-manager.io/v1",
        "ClusterIssuer",
        None,
        "letsencrypt",
    )
    .await;
    assert_eq!(
        issuer.pointer("/spec/acme/server").and_then(Value::as_str),
        Some("https://acme-staging-v02.api.letsencrypt.org/directory")
    );
    let release = get(
        &harness,
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        Some("podinfo"),
        "podinfo",
    )
    .await;
    assert_eq!(
        release.pointer("/spec/values/httpRoute/hostnames/0"),
        Some(&json!("podinfo.staging")),
        "the staging values patch is applied"
    );
    let repository = get(
        &harness,
        "source.toolkit.fluxcd.io/v1",
        "OCIRepository",
        Some("cert-manager"),
        "cert-manager",
    )
    .await;
    assert_eq!(
        repository.pointer("/spec/url").and_then(Value::as_str),
        Some("oci://quay.io/jetstack/charts/cert-manager")
    );

    // Remove what the chain applied (prune: true), so reruns start clean.
    for name in ["apps", "infra-configs", "infra-controllers"] {
        let _ = harness
            .kustomizations()
            .delete(name, &DeleteParams::default())
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline
        && !harness
            .kustomizations()
            .list(&kube::api::ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The names in the order they first became Ready=True.
async fn ready_order(harness: &Harness, names: &[&str]) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while order.len() < names.len() {
        for name in names {
            if order.iter().any(|n| n == name) {
                continue;
            }
            let object = harness.kustomizations().get(name).await.unwrap();
            let ready = object
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                .is_some_and(|c| c.status == ConditionStatus::True);
            if ready {
                order.push((*name).to_owned());
            }
        }
        assert!(
            Instant::now() < deadline,
            "only {order:?} became Ready; kustomize-controller log:\n{}",
            harness
                .kustomize_controller
                .log()
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    order
}

async fn get(
    harness: &Harness,
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
) -> Value {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
    let (resource, _) = kube::discovery::pinned_kind(&harness.client, &gvk)
        .await
        .unwrap();
    let api: Api<kube::api::DynamicObject> = match namespace {
        Some(namespace) => Api::namespaced_with(harness.client.clone(), namespace, &resource),
        None => Api::all_with(harness.client.clone(), &resource),
    };
    serde_json::to_value(api.get(name).await.unwrap()).unwrap()
}
