//! The whole loop through real processes: a GitHub-signed push webhook hits the Receiver, the
//! source-controller fetches the new commit at once (its interval is an hour), and the
//! kustomize-controller applies it.

use std::time::{Duration, Instant};

use ferroflux_testkit::controller::{ControllerProcess, binary, free_port};
use ferroflux_testkit::git_server::GitServer;
use ferroflux_testkit::wait_for_value;
use hmac::{Hmac, KeyInit, Mac};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use serde_json::json;
use sha2::Sha256;

use crate::harness::Harness;

const TOKEN: &str = "loop-webhook-token";

fn config_map(value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: \"{value}\"\n"
    )
}

fn github_signature(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(TOKEN.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn applied_value(api: &Api<ConfigMap>) -> Option<String> {
    api.get_opt("settings")
        .await
        .ok()
        .flatten()?
        .data?
        .get("value")
        .cloned()
}

#[tokio::test]
async fn a_signed_github_push_is_fetched_and_applied_at_once() {
    let mut harness = Harness::new("nc-loop").await;
    let git = GitServer::start();
    let repo = git.create_repo("app");
    repo.commit(&[("settings.yaml", &config_map("one"))], "first");

    let storage = tempfile::tempdir().unwrap();
    let port = free_port();
    let _source = ControllerProcess::start(
        &binary("source-controller"),
        harness.ns(),
        &[
            format!("--storage-path={}", storage.path().join("data").display()),
            format!("--storage-addr=127.0.0.1:{port}"),
            format!("--storage-adv-addr=127.0.0.1:{port}"),
        ],
        storage.path().join("source-controller.log"),
    );
    let _kustomize = ControllerProcess::start(
        &binary("kustomize-controller"),
        harness.ns(),
        &[],
        storage.path().join("kustomize-controller.log"),
    );
    let url = git.public_url(&repo);
    harness
        .apply_yaml::<ferroflux_api::source::v1::GitRepository>(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "app"},
            "spec": {"url": url, "interval": "1h", "ref": {"branch": "main"}},
        }))
        .await;
    harness
        .apply_yaml::<ferroflux_api::kustomize::v1::Kustomization>(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "app"},
            "spec": {
                "interval": "1h",
                "path": "./",
                "prune": true,
                "targetNamespace": harness.ns(),
                "sourceRef": {"kind": "GitRepository", "name": "app"},
            },
        }))
        .await;
    harness.secret("webhook-token", &[("token", TOKEN)]).await;
    harness
        .apply_yaml::<ferroflux_api::notification::v1::Receiver>(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1",
            "kind": "Receiver",
            "metadata": {"name": "github"},
            "spec": {
                "type": "github",
                "events": ["push"],
                "secretRef": {"name": "webhook-token"},
                "resources": [{"kind": "GitRepository", "name": "app"}],
            },
        }))
        .await;
    harness.start(&[]).await;

    let config_maps: Api<ConfigMap> = Api::namespaced(harness.client.clone(), harness.ns());
    let first = wait_for_value(Duration::from_secs(90), "the first commit applied", || {
        let api = config_maps.clone();
        async move { applied_value(&api).await.filter(|v| v == "one") }
    })
    .await;
    assert_eq!(first, "one");
    let receivers: Api<ferroflux_api::notification::v1::Receiver> =
        Api::namespaced(harness.client.clone(), harness.ns());
    let path = wait_for_value(
        Duration::from_secs(60),
        "the receiver's webhook path",
        || {
            let api = receivers.clone();
            async move { api.get("github").await.ok()?.status?.webhook_path }
        },
    )
    .await;

    // A new commit: only the webhook can make the hourly GitRepository see it.
    repo.commit(&[("settings.yaml", &config_map("two"))], "second");
    let body = br#"{"ref":"refs/heads/main"}"#;
    let pushed = Instant::now();
    let status = reqwest::Client::new()
        .post(format!("{}{path}", harness.receiver_url))
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", "push")
        .header("X-Hub-Signature-256", github_signature(body))
        .body(&body[..])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    wait_for_value(Duration::from_secs(60), "the pushed commit applied", || {
        let api = config_maps.clone();
        async move { applied_value(&api).await.filter(|v| v == "two") }
    })
    .await;
    eprintln!(
        "webhook to applied: {:.2} s",
        pushed.elapsed().as_secs_f64()
    );
}
