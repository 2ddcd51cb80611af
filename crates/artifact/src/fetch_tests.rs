//! Tests for fetching against a real HTTP server on loopback.

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use crate::digest::{Algorithm, digest_reader};
use crate::extract::tests::{file, gzip, tar_bytes};

/// A server that fails the first `failures` requests with `failure`, then serves `body`.
#[derive(Clone)]
struct Flaky {
    body: Arc<Vec<u8>>,
    failures: usize,
    failure: AxumStatus,
    requests: Arc<AtomicUsize>,
}

async fn handler(State(flaky): State<Flaky>) -> Response {
    let seen = flaky.requests.fetch_add(1, Ordering::SeqCst);
    if seen < flaky.failures {
        return flaky.failure.into_response();
    }
    flaky.body.as_ref().clone().into_response()
}

async fn start(body: Vec<u8>, failures: usize, failure: AxumStatus) -> (String, Arc<AtomicUsize>) {
    let requests = Arc::new(AtomicUsize::new(0));
    let state = Flaky {
        body: Arc::new(body),
        failures,
        failure,
        requests: requests.clone(),
    };
    let app = Router::new()
        .route("/gitrepository/ns/repo/{file}", get(handler))
        .with_state(state);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback bind works");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), requests)
}

fn archive() -> (Vec<u8>, String) {
    let bytes = gzip(&tar_bytes(&[file("kustomization.yaml", "resources: []")]));
    let digest = digest_reader(Algorithm::Sha256, bytes.as_slice()).expect("hashing a slice works");
    (bytes, digest.to_string())
}

fn fast(retries: u32) -> FetchOptions {
    FetchOptions {
        retries,
        backoff_min: Duration::from_millis(1),
        backoff_max: Duration::from_millis(2),
        ..FetchOptions::default()
    }
}

const PATH: &str = "/gitrepository/ns/repo/abc.tar.gz";

#[tokio::test]
async fn fetches_verifies_and_extracts() {
    let (bytes, digest) = archive();
    let (base, requests) = start(bytes, 0, AxumStatus::OK).await;
    let dest = tempfile::tempdir().expect("temp dir");
    let summary = fetch(&format!("{base}{PATH}"), &digest, dest.path(), &fast(0))
        .await
        .expect("fetch works");
    assert_eq!(summary.files, 1);
    let content =
        std::fs::read_to_string(dest.path().join("kustomization.yaml")).expect("extracted");
    assert_eq!(content, "resources: []");
    // A bare hex digest is taken as sha256, as Flux consumers do.
    let bare = digest.trim_start_matches("sha256:");
    fetch(&format!("{base}{PATH}"), bare, dest.path(), &fast(0))
        .await
        .expect("bare digest works");
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn retries_server_errors_then_succeeds() {
    let (bytes, digest) = archive();
    let (base, requests) = start(bytes, 2, AxumStatus::SERVICE_UNAVAILABLE).await;
    let dest = tempfile::tempdir().expect("temp dir");
    fetch(&format!("{base}{PATH}"), &digest, dest.path(), &fast(3))
        .await
        .expect("third attempt works");
    assert_eq!(requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn gives_up_after_the_configured_retries() {
    let (bytes, digest) = archive();
    let (base, requests) = start(bytes, usize::MAX, AxumStatus::INTERNAL_SERVER_ERROR).await;
    let dest = tempfile::tempdir().expect("temp dir");
    let err = fetch(&format!("{base}{PATH}"), &digest, dest.path(), &fast(2))
        .await
        .expect_err("keeps failing");
    assert!(
        matches!(err, FetchError::Status { status, .. } if status == StatusCode::INTERNAL_SERVER_ERROR),
        "{err}"
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        3,
        "one attempt plus two retries"
    );
}

#[tokio::test]
async fn not_found_is_distinct_and_not_retried() {
    let (bytes, digest) = archive();
    let (base, requests) = start(bytes, 0, AxumStatus::OK).await;
    let dest = tempfile::tempdir().expect("temp dir");
    let err = fetch(
        &format!("{base}/elsewhere.tar.gz"),
        &digest,
        dest.path(),
        &fast(5),
    )
    .await
    .expect_err("404");
    assert!(matches!(err, FetchError::NotFound { .. }), "{err}");
    assert_eq!(err.to_string(), "file not found");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        0,
        "the route never matched"
    );
}

#[tokio::test]
async fn digest_problems() {
    let (bytes, digest) = archive();
    let (base, requests) = start(bytes, 0, AxumStatus::OK).await;
    let dest = tempfile::tempdir().expect("temp dir");
    let url = format!("{base}{PATH}");
    let err = fetch(&url, "", dest.path(), &fast(0))
        .await
        .expect_err("empty digest");
    assert!(
        matches!(err, FetchError::Digest(DigestError::Empty)),
        "{err}"
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        0,
        "refused before downloading"
    );

    let wrong = format!("sha256:{}", "0".repeat(64));
    let err = fetch(&url, &wrong, &dest.path().join("out"), &fast(0))
        .await
        .expect_err("mismatch");
    assert!(
        err.to_string().contains("computed digest doesn't match"),
        "{err}"
    );
    assert!(
        !dest.path().join("out").exists(),
        "nothing extracted from an unverified download"
    );
    assert_ne!(digest, wrong);
}

#[tokio::test]
async fn connection_errors_are_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("bound");
    drop(listener);
    let dest = tempfile::tempdir().expect("temp dir");
    let (_, digest) = archive();
    let err = fetch(
        &format!("http://{address}{PATH}"),
        &digest,
        dest.path(),
        &fast(1),
    )
    .await
    .expect_err("nobody listens");
    assert!(matches!(err, FetchError::Http { .. }), "{err}");
}

#[tokio::test]
async fn host_override_replaces_host_and_port() {
    let (bytes, digest) = archive();
    let (base, requests) = start(bytes, 0, AxumStatus::OK).await;
    let dest = tempfile::tempdir().expect("temp dir");
    let options = FetchOptions {
        host_override: Some(base.trim_start_matches("http://").to_owned()),
        ..fast(0)
    };
    let url = format!("http://source-controller.flux-system.svc.cluster.local.{PATH}");
    fetch(&url, &digest, dest.path(), &options)
        .await
        .expect("override reaches the test server");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn download_limit_and_plain_download() {
    let (bytes, digest) = archive();
    let size = bytes.len() as u64;
    let (base, _) = start(bytes.clone(), 0, AxumStatus::OK).await;
    let dest = tempfile::tempdir().expect("temp dir");
    let url = format!("{base}{PATH}");
    let limited = FetchOptions {
        max_download_size: Some(size - 1),
        ..fast(0)
    };
    let err = fetch(&url, &digest, dest.path(), &limited)
        .await
        .expect_err("too big");
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err}");

    let fetcher = Fetcher::new(fast(0)).expect("client builds");
    let target = dest.path().join("chart.tgz");
    assert_eq!(
        fetcher
            .download(&url, &digest, &target)
            .await
            .expect("downloads"),
        size
    );
    assert_eq!(std::fs::read(&target).expect("written"), bytes);
}

#[tokio::test]
async fn malicious_archives_fail_extraction() {
    let bytes = gzip(&tar_bytes(&[file("../escape", "x")]));
    let digest = digest_reader(Algorithm::Sha256, bytes.as_slice())
        .expect("hashing works")
        .to_string();
    let (base, _) = start(bytes, 0, AxumStatus::OK).await;
    let dest = tempfile::tempdir().expect("temp dir");
    let err = fetch(
        &format!("{base}{PATH}"),
        &digest,
        &dest.path().join("out"),
        &fast(0),
    )
    .await
    .expect_err("escape refused");
    assert!(
        matches!(err, FetchError::Extract(ExtractError::InvalidPath { .. })),
        "{err}"
    );
    assert!(!dest.path().join("escape").exists());
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let options = FetchOptions::default();
    let waits: Vec<u64> = (0..6)
        .map(|attempt| backoff(&options, attempt).as_secs())
        .collect();
    assert_eq!(waits, [5, 10, 20, 30, 30, 30]);
    assert_eq!(backoff(&options, 40), Duration::from_secs(30));
    assert!(is_retryable_status(StatusCode::TOO_MANY_REQUESTS));
    assert!(!is_retryable_status(StatusCode::NOT_IMPLEMENTED));
    assert!(!is_retryable_status(StatusCode::FORBIDDEN));
}
