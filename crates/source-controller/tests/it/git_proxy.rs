//! `spec.proxySecretRef`: clones go through an HTTP proxy on loopback.

use ferroflux_api::meta::{ConditionStatus, LocalObjectReference};

use crate::git_support::Proxy;
use crate::harness::{Harness, spec};

#[tokio::test]
async fn clones_go_through_the_proxy() {
    let proxy = Proxy::start().await;
    let harness = Harness::start("git-proxy").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a.yaml", "a")], "one");
    harness
        .secret("proxy", &[("address", &proxy.address)])
        .await;

    // Basic auth answers (401, then credentials) pass through the proxy as well.
    let secret = harness.basic_auth_secret().await;
    let mut plain = spec(&harness.git.http_url(&repo), Some(secret));
    plain.proxy_secret_ref = Some(LocalObjectReference {
        name: "proxy".into(),
    });
    harness.create("http", plain).await;
    let object = harness
        .wait_ready(
            "http",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;
    assert_eq!(harness.download(&object).await["a.yaml"], "a");
    let url = harness.git.http_url(&repo);
    assert!(
        proxy
            .requests()
            .iter()
            .any(|line| line.contains(&format!("{url}/info/refs"))),
        "the proxy forwarded the ref advertisement: {:?}",
        proxy.requests()
    );

    // HTTPS is tunnelled with CONNECT.
    harness
        .secret(
            "tls",
            &[
                ("username", harness.git.username()),
                ("password", harness.git.password()),
                ("ca.crt", &harness.git.ca_pem()),
            ],
        )
        .await;
    let mut tunnelled = spec(&harness.git.https_url(&repo), Some("tls"));
    tunnelled.proxy_secret_ref = Some(LocalObjectReference {
        name: "proxy".into(),
    });
    harness.create("https", tunnelled).await;
    harness
        .wait_ready(
            "https",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;
    assert!(
        proxy
            .requests()
            .iter()
            .any(|line| line.starts_with("CONNECT 127.0.0.1:")),
        "the proxy tunnelled the TLS connection: {:?}",
        proxy.requests()
    );
}

#[tokio::test]
async fn unreachable_or_missing_proxy_is_a_clear_failure() {
    let harness = Harness::start("git-proxy-bad").await;
    let repo = harness.git.create_repo("app");
    repo.commit(&[("a.yaml", "a")], "one");
    let closed = ferroflux_testkit::controller::free_port();
    let address = format!("http://127.0.0.1:{closed}");
    harness.secret("proxy", &[("address", &address)]).await;

    let mut unreachable = spec(&harness.git.public_url(&repo), None);
    unreachable.proxy_secret_ref = Some(LocalObjectReference {
        name: "proxy".into(),
    });
    harness.create("unreachable", unreachable).await;
    let object = harness
        .wait_ready("unreachable", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "GitOperationFailed", "{message}");
    assert!(
        message.contains(&format!("via proxy '{address}'")),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");

    // HTTPS goes through libgit2's CONNECT: the message names the proxy too.
    harness
        .secret("ca", &[("ca.crt", &harness.git.ca_pem())])
        .await;
    let mut tunnel = spec(&harness.git.https_url(&repo), Some("ca"));
    tunnel.proxy_secret_ref = Some(LocalObjectReference {
        name: "proxy".into(),
    });
    harness.create("tunnel", tunnel).await;
    let object = harness
        .wait_ready("tunnel", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "GitOperationFailed", "{message}");
    assert!(
        message.contains(&format!("via proxy '{address}'")),
        "{message}"
    );

    let mut missing = spec(&harness.git.public_url(&repo), None);
    missing.proxy_secret_ref = Some(LocalObjectReference {
        name: "nope".into(),
    });
    harness.create("missing", missing).await;
    let object = harness
        .wait_ready("missing", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "AuthenticationFailed", "{message}");
    assert_eq!(
        message,
        format!(
            "failed to configure proxy options: secret '{}/nope' not found",
            harness.namespace.name()
        )
    );

    harness.secret("empty", &[("username", "u")]).await;
    let mut no_address = spec(&harness.git.public_url(&repo), None);
    no_address.proxy_secret_ref = Some(LocalObjectReference {
        name: "empty".into(),
    });
    harness.create("no-address", no_address).await;
    let object = harness
        .wait_ready("no-address", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "AuthenticationFailed", "{message}");
    assert!(message.contains("'address'"), "{message}");
}
