//! Webhooks in, reconcile requests out.

use std::time::Duration;

use ferroflux_api::notification::v1::Receiver;
use ferroflux_api::source::v1::GitRepository;
use ferroflux_testkit::wait_for_value;
use hmac::{Hmac, KeyInit, Mac};
use kube::Api;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::harness::Harness;

const TOKEN: &str = "webhook-token-0001";
const ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";

async fn git_repository(harness: &Harness, name: &str) {
    let _: GitRepository = harness
        .apply_yaml(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name},
            "spec": {"url": "https://github.com/stefanprodan/podinfo", "interval": "1h", "ref": {"branch": "master"}},
        }))
        .await;
}

async fn receiver(harness: &Harness, name: &str, spec: Value) {
    let _: Receiver = harness
        .apply_yaml(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1",
            "kind": "Receiver",
            "metadata": {"name": name},
            "spec": spec,
        }))
        .await;
}

/// Waits until the Receiver's Ready condition has `status`; returns (reason, message, path).
async fn wait_ready(
    harness: &Harness,
    name: &str,
    status: &str,
) -> (String, String, Option<String>) {
    let api: Api<Receiver> = Api::namespaced(harness.client.clone(), harness.ns());
    let what = format!("Receiver {name} Ready={status}; log: {}", harness.log());
    wait_for_value(Duration::from_secs(60), &what, || {
        let api = api.clone();
        async move {
            let receiver = api.get(name).await.ok()?;
            let receiver_status = receiver.status?;
            let ready = receiver_status
                .conditions?
                .into_iter()
                .find(|c| c.type_ == "Ready")?;
            (serde_json::to_value(ready.status).ok()? == status).then_some((
                ready.reason,
                ready.message,
                receiver_status.webhook_path,
            ))
        }
    })
    .await
}

async fn requested_at(harness: &Harness, name: &str) -> Option<String> {
    let api: Api<GitRepository> = Api::namespaced(harness.client.clone(), harness.ns());
    api.get(name)
        .await
        .unwrap()
        .metadata
        .annotations?
        .get(ANNOTATION)
        .cloned()
}

fn signature(body: &[u8], key: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post_github(url: &str, event: &str, signature: &str, body: &'static [u8]) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", event)
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn github_push_annotates_and_bad_signatures_do_not() {
    let mut harness = Harness::new("nc-github").await;
    git_repository(&harness, "podinfo").await;
    harness.secret("webhook-token", &[("token", TOKEN)]).await;
    receiver(
        &harness,
        "github",
        json!({
            "type": "github",
            "events": ["push"],
            "secretRef": {"name": "webhook-token"},
            "resources": [{"kind": "GitRepository", "name": "podinfo"}],
        }),
    )
    .await;
    harness.start(&[]).await;

    let (reason, message, path) = wait_ready(&harness, "github", "True").await;
    let path = path.expect("status.webhookPath is set");
    let expected = ferroflux_expected_path(TOKEN, "github", harness.ns());
    assert_eq!(path, expected);
    assert_eq!(reason, "Succeeded");
    assert_eq!(message, format!("Receiver initialized for path: {path}"));
    let url = format!("{}{path}", harness.receiver_url);
    let body: &'static [u8] = br#"{"ref":"refs/heads/master","after":"4c0ffee"}"#;

    assert_eq!(
        post_github(&url, "push", &signature(body, "wrong-token"), body).await,
        400
    );
    assert_eq!(post_github(&url, "push", "", body).await, 400);
    assert_eq!(
        post_github(&url, "ping", &signature(body, TOKEN), body).await,
        200
    );
    assert_eq!(
        post_github(&url, "issues", &signature(body, TOKEN), body).await,
        400
    );
    assert_eq!(
        requested_at(&harness, "podinfo").await,
        None,
        "nothing was triggered"
    );

    assert_eq!(
        post_github(&url, "push", &signature(body, TOKEN), body).await,
        200
    );
    let token = requested_at(&harness, "podinfo")
        .await
        .expect("requestedAt is set");
    assert!(token.ends_with(" +0000 UTC"), "{token}");
}

fn ferroflux_expected_path(token: &str, name: &str, namespace: &str) -> String {
    use sha2::Digest as _;
    format!(
        "/hook/{}",
        hex::encode(Sha256::digest(
            format!("{token}{name}{namespace}").as_bytes()
        ))
    )
}

#[tokio::test]
async fn gitlab_token_and_label_selected_resources() {
    let mut harness = Harness::new("nc-gitlab").await;
    for (name, team) in [("a", "web"), ("b", "web"), ("c", "db")] {
        let _: GitRepository = harness
            .apply_yaml(json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": name, "labels": {"team": team}},
                "spec": {"url": "https://example.com/repo.git", "interval": "1h"},
            }))
            .await;
    }
    harness.secret("webhook-token", &[("token", TOKEN)]).await;
    receiver(
        &harness,
        "gitlab",
        json!({
            "type": "gitlab",
            "events": ["Push Hook"],
            "secretRef": {"name": "webhook-token"},
            "resources": [{"kind": "GitRepository", "name": "*", "matchLabels": {"team": "web"}}],
        }),
    )
    .await;
    harness.start(&[]).await;
    let (_, _, path) = wait_ready(&harness, "gitlab", "True").await;
    let url = format!("{}{}", harness.receiver_url, path.unwrap());
    let post = |token: &'static str| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .header("X-Gitlab-Token", token)
                .header("X-Gitlab-Event", "Push Hook")
                .body("{}")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post("nope").await, 400);
    assert_eq!(post(TOKEN).await, 200);
    assert!(requested_at(&harness, "a").await.is_some());
    assert!(requested_at(&harness, "b").await.is_some());
    assert!(requested_at(&harness, "c").await.is_none());
}

#[tokio::test]
async fn missing_token_secret_is_token_not_found() {
    let mut harness = Harness::new("nc-token").await;
    receiver(
        &harness,
        "orphan",
        json!({
            "type": "generic",
            "secretRef": {"name": "does-not-exist"},
            "resources": [{"kind": "GitRepository", "name": "podinfo"}],
        }),
    )
    .await;
    harness.start(&[]).await;
    let (reason, message, path) = wait_ready(&harness, "orphan", "False").await;
    assert_eq!(reason, "TokenNotFound");
    assert!(message.contains("does-not-exist"), "{message}");
    assert_eq!(path, None);
}

#[tokio::test]
async fn cel_resource_filter_stalls() {
    let mut harness = Harness::new("nc-cel").await;
    harness.secret("webhook-token", &[("token", TOKEN)]).await;
    receiver(
        &harness,
        "filtered",
        json!({
            "type": "generic",
            "secretRef": {"name": "webhook-token"},
            "resourceFilter": "res.metadata.name == 'podinfo'",
            "resources": [{"kind": "GitRepository", "name": "*", "matchLabels": {"a": "b"}}],
        }),
    )
    .await;
    harness.start(&[]).await;
    let (reason, message, _) = wait_ready(&harness, "filtered", "False").await;
    assert_eq!(reason, "ValidationFailed");
    assert!(message.contains("spec.resourceFilter"), "{message}");
    let api: Api<Receiver> = Api::namespaced(harness.client.clone(), harness.ns());
    let receiver = api.get("filtered").await.unwrap();
    let stalled = receiver
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Stalled")
        .expect("Stalled is set");
    assert_eq!(stalled.reason, "ValidationFailed");
}
