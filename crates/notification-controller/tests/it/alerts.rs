//! Events in, notifications out.

use std::time::Duration;

use ferroflux_testkit::wait_for;
use serde_json::json;

use crate::harness::Harness;
use crate::sink::Sink;

async fn wait_count(sink: &Sink, count: usize, harness: &Harness) {
    let what = format!("{count} request(s) at the sink; log: {}", harness.log());
    wait_for(Duration::from_secs(30), &what, || async {
        sink.count() >= count
    })
    .await;
}

#[tokio::test]
async fn error_event_becomes_one_danger_slack_message() {
    let mut harness = Harness::new("nc-slack").await;
    let slack = Sink::start(200).await;
    let address = format!("{}/slack/services/T000/B000/XXXX", slack.url);
    harness
        .provider("slack", "slack", &address, None, "10s")
        .await;
    harness.alert("on-error", "slack", "error", json!({})).await;
    harness.start(&[]).await;

    let message = "Health check failed after 30s: timeout waiting for: [Deployment/apps/webapp status: 'Failed']";
    let event = harness.event("error", "HealthCheckFailed", message, "main@sha1:4c0ffee");
    assert_eq!(harness.post_event(&event).await, 202);
    wait_count(&slack, 1, &harness).await;

    let request = &slack.requests()[0];
    assert_eq!(request.path, "/slack/services/T000/B000/XXXX");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    assert_eq!(body["username"], "kustomize-controller");
    let attachment = &body["attachments"][0];
    assert_eq!(attachment["color"], "danger");
    assert_eq!(
        attachment["author_name"],
        format!("kustomization/webapp.{}", harness.ns())
    );
    assert_eq!(attachment["text"], message);
    assert_eq!(
        attachment["fields"],
        json!([{"title": "revision", "value": "main@sha1:4c0ffee", "short": false}]),
        "only the revision: checksum is cleaned up"
    );
    // The same event again is a duplicate: 429, and nothing more is sent.
    assert_eq!(harness.post_event(&event).await, 429);
    assert_eq!(slack.count(), 1);
}

#[tokio::test]
async fn severity_info_takes_everything_error_only_errors() {
    let mut harness = Harness::new("nc-severity").await;
    let info_sink = Sink::start(200).await;
    let error_sink = Sink::start(200).await;
    harness
        .provider("info", "generic", &info_sink.url, None, "10s")
        .await;
    harness
        .provider("errors", "generic", &error_sink.url, None, "10s")
        .await;
    harness.alert("all", "info", "info", json!({})).await;
    harness
        .alert("failures", "errors", "error", json!({}))
        .await;
    harness.start(&[]).await;

    let info = harness.event(
        "info",
        "ReconciliationSucceeded",
        "Applied revision: main@sha1:1",
        "main@sha1:1",
    );
    assert_eq!(harness.post_event(&info).await, 202);
    wait_count(&info_sink, 1, &harness).await;
    let error = harness.event(
        "error",
        "ReconciliationFailed",
        "apply failed",
        "main@sha1:1",
    );
    assert_eq!(harness.post_event(&error).await, 202);
    wait_count(&info_sink, 2, &harness).await;
    wait_count(&error_sink, 1, &harness).await;

    let received = error_sink.requests();
    assert_eq!(
        received.len(),
        1,
        "the error-only alert never got the info event"
    );
    let body = received[0].json();
    assert_eq!(body["severity"], "error");
    assert_eq!(body["metadata"], json!({"revision": "main@sha1:1"}));
    assert_eq!(
        received[0].header("gotk-component"),
        Some("kustomize-controller")
    );
}

#[tokio::test]
async fn exclusion_list_suppresses_and_invalid_regex_warns() {
    let mut harness = Harness::new("nc-exclusion").await;
    let sink = Sink::start(200).await;
    harness
        .provider("hook", "generic", &sink.url, None, "10s")
        .await;
    harness
        .alert(
            "quiet",
            "hook",
            "info",
            json!({"exclusionList": ["^Dependencies do not meet", "(unclosed"]}),
        )
        .await;
    harness.start(&[]).await;

    let excluded = harness.event(
        "info",
        "DependencyNotReady",
        "Dependencies do not meet ready condition",
        "r1",
    );
    assert_eq!(harness.post_event(&excluded).await, 202);
    let kept = harness.event(
        "info",
        "ReconciliationSucceeded",
        "Applied revision: r1",
        "r1",
    );
    assert_eq!(harness.post_event(&kept).await, 202);
    wait_count(&sink, 1, &harness).await;
    let requests = sink.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json()["message"], "Applied revision: r1");

    let warning = harness.wait_event("quiet", "InvalidConfig").await;
    assert_eq!(warning, "failed to compile exclusion regex: (unclosed");
}

#[tokio::test]
async fn duplicates_get_429_and_are_delivered_once() {
    let mut harness = Harness::new("nc-dedup").await;
    let sink = Sink::start(200).await;
    harness
        .provider("hook", "generic", &sink.url, None, "10s")
        .await;
    harness.alert("all", "hook", "info", json!({})).await;
    harness.start(&[]).await;

    let event = harness.event(
        "info",
        "ReconciliationSucceeded",
        "Applied revision: r1",
        "r1",
    );
    assert_eq!(harness.post_event(&event).await, 202);
    assert_eq!(harness.post_event(&event).await, 429);
    // A new revision is not a duplicate.
    let next = harness.event(
        "info",
        "ReconciliationSucceeded",
        "Applied revision: r1",
        "r2",
    );
    assert_eq!(harness.post_event(&next).await, 202);
    wait_count(&sink, 2, &harness).await;
    let revisions: Vec<String> = sink
        .requests()
        .iter()
        .map(|r| {
            r.json()["metadata"]["revision"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = revisions.clone();
    sorted.sort();
    assert_eq!(sorted, ["r1", "r2"], "{revisions:?}");
}

#[tokio::test]
async fn failing_endpoint_is_retried_counted_and_reported_without_secrets() {
    let mut harness = Harness::new("nc-retry").await;
    let sink = Sink::start(503).await;
    let address = format!("{}/secret-path-1234", sink.url);
    harness
        .provider(
            "down",
            "generic-hmac",
            &address,
            Some("hmac-token-5678"),
            "5s",
        )
        .await;
    harness.alert("all", "down", "info", json!({})).await;
    harness.start(&[]).await;

    let event = harness.event(
        "info",
        "ReconciliationSucceeded",
        "Applied revision: r1",
        "r1",
    );
    assert_eq!(harness.post_event(&event).await, 202);
    let warning = harness
        .wait_event("all", "NotificationDispatchFailed")
        .await;
    assert!(
        warning.starts_with(&format!(
            "failed to send notification for Kustomization/{}/webapp",
            harness.ns()
        )),
        "{warning}"
    );
    assert!(
        !warning.contains("secret-path-1234") && !warning.contains("hmac-token-5678"),
        "{warning}"
    );
    assert!(sink.count() >= 2, "retried: {} attempt(s)", sink.count());
    let metrics = harness.metrics().await;
    assert!(
        metrics.contains(
            "gotk_notification_dispatch_failures_total{provider_type=\"generic-hmac\"} 1"
        ),
        "{metrics}"
    );
    assert!(!harness.log().contains("hmac-token-5678"));
}

#[tokio::test]
async fn configuration_problems_become_warnings_on_the_alert() {
    let mut harness = Harness::new("nc-config").await;
    let _: ferroflux_api::notification::v1beta3::Provider = harness
        .apply_yaml(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
            "kind": "Provider",
            "metadata": {"name": "no-secret"},
            "spec": {"type": "slack", "secretRef": {"name": "missing"}},
        }))
        .await;
    let _: ferroflux_api::notification::v1beta3::Provider = harness
        .apply_yaml(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
            "kind": "Provider",
            "metadata": {"name": "sentry"},
            "spec": {"type": "sentry"},
        }))
        .await;
    harness
        .alert("needs-secret", "no-secret", "info", json!({}))
        .await;
    harness
        .alert("needs-sentry", "sentry", "info", json!({}))
        .await;
    harness.start(&[]).await;

    let event = harness.event(
        "info",
        "ReconciliationSucceeded",
        "Applied revision: r1",
        "r1",
    );
    assert_eq!(harness.post_event(&event).await, 202);
    let missing = harness
        .wait_event("needs-secret", "NotificationDispatchFailed")
        .await;
    assert!(
        missing.contains("failed to get secret") && missing.contains("missing"),
        "{missing}"
    );
    let invalid = harness
        .wait_event("needs-sentry", "NotificationDispatchFailed")
        .await;
    assert!(
        invalid
            .contains("failed to initialize notifier for provider 'sentry': DSN cannot be empty"),
        "{invalid}"
    );
}
