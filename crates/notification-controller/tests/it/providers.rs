//! Providers that talk an API rather than post one webhook: commit statuses on a
//! loopback GitHub, NATS on a real nats-server, Google Pub/Sub with a service-account
//! token exchange.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use ferroflux_testkit::wait_for;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::harness::Harness;

const SHA: &str = "5394cb7f48332b2de7c17dd8b8384bbc84b7e738";

#[derive(Debug, Clone)]
struct Call {
    method: Method,
    path: String,
    query: String,
    authorization: String,
    body: Bytes,
}

#[derive(Clone, Default)]
struct FakeGitHub {
    calls: Arc<Mutex<Vec<Call>>>,
    statuses: Arc<Mutex<Vec<Value>>>,
}

/// GitHub Enterprise's status API under `/api/v3`: lists newest first, creates on POST.
async fn github(
    State(state): State<FakeGitHub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state.calls.lock().unwrap().push(Call {
        method: method.clone(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        authorization: authorization.clone(),
        body: body.clone(),
    });
    if authorization != "Bearer ghp_test" {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"message":"Bad credentials"}"#.to_owned(),
        );
    }
    let list = format!("/api/v3/repos/org/app/commits/{SHA}/statuses");
    let create = format!("/api/v3/repos/org/app/statuses/{SHA}");
    match (method, uri.path()) {
        (Method::GET, path) if path == list => {
            let statuses = state.statuses.lock().unwrap().clone();
            (StatusCode::OK, Value::Array(statuses).to_string())
        }
        (Method::POST, path) if path == create => {
            let Ok(status) = serde_json::from_slice::<Value>(&body) else {
                return (StatusCode::BAD_REQUEST, "{}".to_owned());
            };
            state.statuses.lock().unwrap().insert(0, status.clone());
            (StatusCode::CREATED, status.to_string())
        }
        _ => (
            StatusCode::NOT_FOUND,
            r#"{"message":"Not Found"}"#.to_owned(),
        ),
    }
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn commit_event(harness: &Harness, severity: &str, reason: &str, message: &str) -> Value {
    let mut event = harness.event(severity, reason, message, &format!("main@sha1:{SHA}"));
    event["metadata"]["kustomize.toolkit.fluxcd.io/commit_status"] = json!("update");
    event
}

#[tokio::test]
async fn github_commit_status_is_set_once_per_state() {
    let mut harness = Harness::new("nc-github").await;
    let fake = FakeGitHub::default();
    let url = serve(Router::new().fallback(github).with_state(fake.clone())).await;
    harness
        .provider(
            "github",
            "github",
            &format!("{url}/org/app"),
            Some("ghp_test"),
            "10s",
        )
        .await;
    harness.alert("status", "github", "info", json!({})).await;
    harness.start(&[]).await;
    let posts = || {
        fake.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.method == Method::POST)
            .cloned()
            .collect::<Vec<_>>()
    };
    let lists = || {
        fake.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.method == Method::GET)
            .count()
    };
    let wait = |what: String, check: Box<dyn Fn() -> bool + Send + Sync>| async move {
        wait_for(Duration::from_secs(30), &what, || {
            let done = check();
            async move { done }
        })
        .await;
    };

    let applied = commit_event(
        &harness,
        "info",
        "ReconciliationSucceeded",
        "Applied revision one",
    );
    assert_eq!(harness.post_event(&applied).await, 202);
    let posts_ = posts;
    wait(
        format!("one status; log: {}", harness.log()),
        Box::new(move || posts_().len() == 1),
    )
    .await;
    let post = &posts()[0];
    assert_eq!(post.authorization, "Bearer ghp_test");
    let uid: String = {
        let api: kube::Api<ferroflux_api::notification::v1beta3::Provider> =
            kube::Api::namespaced(harness.client.clone(), harness.ns());
        api.get("github").await.unwrap().metadata.uid.unwrap()
    };
    let context = format!("kustomization/webapp/{}", uid.split('-').next().unwrap());
    assert_eq!(
        serde_json::from_slice::<Value>(&post.body).unwrap(),
        json!({"state": "success", "description": "reconciliation succeeded", "context": context})
    );
    let list_call = fake.calls.lock().unwrap()[0].clone();
    assert_eq!(list_call.method, Method::GET);
    assert_eq!(list_call.query, "per_page=50");

    // Same state and description again (another message, so not a duplicate event):
    // the status is listed and left alone.
    let again = commit_event(
        &harness,
        "info",
        "ReconciliationSucceeded",
        "Applied revision one, again",
    );
    assert_eq!(harness.post_event(&again).await, 202);
    let lists_ = lists;
    wait(
        format!("a second list; log: {}", harness.log()),
        Box::new(move || lists_() == 2),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(posts().len(), 1, "an unchanged status is not posted again");

    // A failure replaces it.
    let failed = commit_event(&harness, "error", "HealthCheckFailed", "timeout");
    assert_eq!(harness.post_event(&failed).await, 202);
    let posts_ = posts;
    wait(
        format!("a failure status; log: {}", harness.log()),
        Box::new(move || posts_().len() == 2),
    )
    .await;
    let body: Value = serde_json::from_slice(&posts()[1].body).unwrap();
    assert_eq!(body["state"], "failure");
    assert_eq!(body["description"], "health check failed");
    assert!(
        fake.calls
            .lock()
            .unwrap()
            .iter()
            .all(|c| c.path.starts_with("/api/v3/repos/org/app/"))
    );
}

#[tokio::test]
async fn github_bad_token_is_a_warning_without_the_token() {
    let mut harness = Harness::new("nc-github-auth").await;
    let fake = FakeGitHub::default();
    let url = serve(Router::new().fallback(github).with_state(fake.clone())).await;
    harness
        .provider(
            "github",
            "github",
            &format!("{url}/org/app"),
            Some("wrong-token-123"),
            "10s",
        )
        .await;
    harness.alert("status", "github", "info", json!({})).await;
    harness.start(&[]).await;
    let event = commit_event(&harness, "info", "ReconciliationSucceeded", "Applied");
    assert_eq!(harness.post_event(&event).await, 202);
    let message = harness
        .wait_event("status", "NotificationDispatchFailed")
        .await;
    assert!(
        message.contains("could not list commit statuses"),
        "{message}"
    );
    assert!(message.contains("401"), "{message}");
    assert!(!message.contains("wrong-token-123"), "{message}");
    assert!(!harness.log().contains("wrong-token-123"));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct NatsServer(std::process::Child);

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Subscribes to `subject` and returns the first message's payload.
async fn nats_subscribe(port: u16, subject: &str) -> tokio::task::JoinHandle<String> {
    let stream = loop {
        if let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            break stream;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("INFO "), "{line}");
    write
        .write_all(format!("CONNECT {{\"verbose\":false,\"user\":\"flux\",\"pass\":\"s3cret\"}}\r\nSUB {subject} 1\r\nPING\r\n").as_bytes())
        .await
        .unwrap();
    line.clear();
    reader.read_line(&mut line).await.unwrap();
    assert_eq!(line.trim(), "PONG", "subscribed");
    tokio::spawn(async move {
        let _keep = write;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            if line.starts_with("MSG ") {
                let mut payload = String::new();
                reader.read_line(&mut payload).await.unwrap();
                return payload.trim_end().to_owned();
            }
        }
    })
}

#[tokio::test]
async fn nats_publishes_the_event_to_the_subject() {
    let port = free_port();
    let server = NatsServer(
        std::process::Command::new("nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "--user",
                "flux",
                "--pass",
                "s3cret",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server is installed (hack/install-deps.sh)"),
    );
    let subscription = nats_subscribe(port, "flux.events").await;

    let mut harness = Harness::new("nc-nats").await;
    harness
        .secret(
            "nats-creds",
            &[
                ("address", &format!("nats://127.0.0.1:{port}")),
                ("username", "flux"),
                ("password", "s3cret"),
            ],
        )
        .await;
    let _: ferroflux_api::notification::v1beta3::Provider = harness
        .apply_yaml(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
            "kind": "Provider",
            "metadata": {"name": "nats"},
            "spec": {"type": "nats", "channel": "flux.events", "secretRef": {"name": "nats-creds"}},
        }))
        .await;
    harness.alert("all", "nats", "info", json!({})).await;
    harness.start(&[]).await;
    let event = harness.event("info", "ReconciliationSucceeded", "Applied", "main@sha1:1");
    assert_eq!(harness.post_event(&event).await, 202);
    let payload = tokio::time::timeout(Duration::from_secs(30), subscription)
        .await
        .unwrap_or_else(|_| panic!("no NATS message; log: {}", harness.log()))
        .unwrap();
    let received: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(received["reason"], "ReconciliationSucceeded");
    assert_eq!(received["involvedObject"]["name"], "webapp");
    assert_eq!(received["metadata"], json!({"revision": "main@sha1:1"}));
    drop(server);
}
