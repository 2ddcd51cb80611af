//! Loopback HTTP services that record what they receive and answer as the real service
//! would.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Recorded>>>,
    status: Arc<AtomicU16>,
}

pub struct Sink {
    pub url: String,
    shared: Shared,
}

/// Slack's incoming webhooks answer 400 `invalid_payload` unless the body is JSON with
/// `text` or `attachments`; other paths accept any JSON.
async fn handle(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let recorded = Recorded {
        path: uri.path().to_owned(),
        headers,
        body,
    };
    let valid = serde_json::from_slice::<serde_json::Value>(&recorded.body).is_ok_and(|json| {
        !recorded.path.starts_with("/slack")
            || json.get("attachments").is_some()
            || json.get("text").is_some()
    });
    shared.requests.lock().unwrap().push(recorded);
    if !valid {
        return (StatusCode::BAD_REQUEST, "invalid_payload");
    }
    let status = StatusCode::from_u16(shared.status.load(Ordering::SeqCst)).unwrap();
    (status, "ok")
}

impl Sink {
    /// A sink answering `status` to valid payloads.
    pub async fn start(status: u16) -> Self {
        let shared = Shared {
            requests: Arc::default(),
            status: Arc::new(AtomicU16::new(status)),
        };
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, shared }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }
}
