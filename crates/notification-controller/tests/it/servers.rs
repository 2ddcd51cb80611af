//! HTTP contract of the two servers.

use crate::harness::Harness;

#[tokio::test]
async fn malformed_oversized_and_unknown_requests() {
    let mut harness = Harness::new("nc-http").await;
    harness.start(&[]).await;
    let client = reqwest::Client::new();
    let status = |response: reqwest::Response| response.status().as_u16();

    let malformed = client
        .post(&harness.events_url)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(status(malformed), 400);
    let huge = vec![b' '; 3 * 1024 * 1024 + 1];
    let oversized = client
        .post(&harness.events_url)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(status(oversized), 413);
    let unmatched = harness.event("info", "ReconciliationSucceeded", "nobody listens", "r1");
    assert_eq!(harness.post_event(&unmatched).await, 202);

    let unknown_hook = format!("{}/hook/{}", harness.receiver_url, "0".repeat(64));
    let response = client.post(&unknown_hook).body("{}").send().await.unwrap();
    assert_eq!(status(response), 404);
    let elsewhere = client
        .get(format!("{}/metrics", harness.receiver_url))
        .send()
        .await
        .unwrap();
    assert_eq!(status(elsewhere), 404);

    let metrics = harness.metrics().await;
    for line in [
        r#"gotk_event_http_request_duration_seconds_count{code="400",handler="/",method="POST",service=""} 1"#,
        r#"gotk_event_http_request_duration_seconds_count{code="413",handler="/",method="POST",service=""} 1"#,
        r#"gotk_event_http_request_duration_seconds_count{code="202",handler="/",method="POST",service=""} 1"#,
        r#"gotk_receiver_http_request_duration_seconds_count{code="404",handler="/hook/",method="POST",service=""} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}
