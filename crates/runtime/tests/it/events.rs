//! Events reach Kubernetes and, as Flux's JSON, an HTTP sink standing in for the
//! notification-controller.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use ferroflux_api::source::v1::{GitRepository, GitRepositorySpec};
use ferroflux_runtime::events::{EventRecorder, EventType, FluxEvent};
use ferroflux_testkit::{TestNamespace, client, install_crds, wait_for};
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams, PostParams};

#[tokio::test]
async fn events_are_recorded_deduplicated_and_forwarded() {
    let client = client().await;
    install_crds(&client).await;
    let namespace = TestNamespace::new(&client, "events").await;

    let received: Arc<Mutex<Vec<FluxEvent>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/",
        post(move |Json(event): Json<FluxEvent>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(event);
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let api: Api<GitRepository> = Api::namespaced(client.clone(), namespace.name());
    let mut repository = GitRepository::new(
        "podinfo",
        GitRepositorySpec {
            url: "https://example.invalid/podinfo".into(),
            interval: "1m".into(),
            ..Default::default()
        },
    );
    repository.metadata.annotations = Some(BTreeMap::from([(
        "event.toolkit.fluxcd.io/team".to_owned(),
        "apps".to_owned(),
    )]));
    let repository = api
        .create(&PostParams::default(), &repository)
        .await
        .unwrap();

    let recorder = EventRecorder::new(client.clone(), "source-controller", Some(&address));
    let metadata = BTreeMap::from([(
        "revision".to_owned(),
        "main@sha1:0123456789abcdef".to_owned(),
    )]);
    for _ in 0..3 {
        recorder
            .publish(
                &repository,
                EventType::Normal,
                "NewArtifact",
                "stored artifact for commit 'x'",
                metadata.clone(),
            )
            .await;
    }
    recorder
        .publish(
            &repository,
            EventType::Trace,
            "Progressing",
            "trace only",
            BTreeMap::new(),
        )
        .await;

    let events: Api<Event> = Api::namespaced(client.clone(), namespace.name());
    let list = events.list(&ListParams::default()).await.unwrap().items;
    let artifact_events: Vec<_> = list
        .iter()
        .filter(|e| e.reason.as_deref() == Some("NewArtifact"))
        .collect();
    assert_eq!(
        artifact_events.len(),
        1,
        "repeats are one event with a count: {list:?}"
    );
    assert_eq!(artifact_events[0].count, Some(3));
    assert_eq!(artifact_events[0].type_.as_deref(), Some("Normal"));

    wait_for(Duration::from_secs(10), "three forwarded events", || {
        let received = received.clone();
        async move { received.lock().unwrap().len() >= 3 }
    })
    .await;
    let received = received.lock().unwrap();
    assert!(
        received.iter().all(|e| e.reason != "Progressing"),
        "trace events stay in Kubernetes"
    );
    let event = &received[0];
    assert_eq!(event.severity, "info");
    assert_eq!(event.reporting_controller, "source-controller");
    assert_eq!(event.involved_object.kind.as_deref(), Some("GitRepository"));
    assert_eq!(
        event.involved_object.api_version.as_deref(),
        Some("source.toolkit.fluxcd.io/v1")
    );
    assert_eq!(
        event
            .metadata
            .get("source.toolkit.fluxcd.io/revision")
            .map(String::as_str),
        Some("main@sha1:0123456789abcdef")
    );
    assert_eq!(
        event
            .metadata
            .get("event.toolkit.fluxcd.io/team")
            .map(String::as_str),
        Some("apps")
    );
}
