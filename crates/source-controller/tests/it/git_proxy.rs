//! `spec.proxySecretRef`: clones go through an HTTP proxy, or a SOCKS5 proxy (microsocks),
//! on loopback.

use ferroflux_api::meta::{ConditionStatus, LocalObjectReference};

use crate::git_support::{Proxy, Socks5Proxy};
use crate::harness::{Harness, spec, spec_via_proxy};

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
    let tls = harness.tls_secret().await;
    let tunnelled = spec_via_proxy(&harness.git.https_url(&repo), Some(tls), "proxy");
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

/// The `host:port` of a Git URL.
fn host_port(url: &str) -> &str {
    let authority = url.split('/').nth(2).unwrap();
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

#[tokio::test]
async fn http_https_and_ssh_go_through_a_socks5_proxy() {
    let proxy = Socks5Proxy::start("flux", "s3cr3t:pw").await;
    let harness = Harness::start("git-socks5").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a.yaml", "a")], "one");
    let revision = format!("main@sha1:{sha}");
    let socks = [
        ("address", proxy.address.as_str()),
        ("username", "flux"),
        ("password", "s3cr3t:pw"),
    ];
    harness.secret("socks", &socks).await;
    let tls = harness.tls_secret().await;
    let urls = [
        (
            "http",
            harness.git.http_url(&repo),
            harness.basic_auth_secret().await,
        ),
        ("https", harness.git.https_url(&repo), tls),
        (
            "ssh",
            harness.git.ssh_url(&repo),
            harness.ssh_secret().await,
        ),
    ];
    for (name, url, secret) in &urls {
        harness
            .create(name, spec_via_proxy(url, Some(secret), "socks"))
            .await;
    }
    for (name, url, _) in &urls {
        let object = harness
            .wait_ready(name, ConditionStatus::True, Some(&revision))
            .await;
        assert_eq!(harness.download(&object).await["a.yaml"], "a", "{name}");
        // Reached through the proxy (for SSH, the host key was still checked against
        // known_hosts for the real address).
        let connections = proxy.connections();
        assert!(
            connections.iter().any(|c| c == host_port(url)),
            "{name}: the proxy connected to {}: {connections:?}",
            host_port(url)
        );
    }
}

#[tokio::test]
async fn rejected_socks5_credentials_are_a_clear_failure() {
    let proxy = Socks5Proxy::start("flux", "right").await;
    let harness = Harness::start("git-socks5-bad").await;
    let repo = harness.git.create_repo("app");
    repo.commit(&[("a.yaml", "a")], "one");
    let socks = [
        ("address", proxy.address.as_str()),
        ("username", "flux"),
        ("password", "wrong-password"),
    ];
    harness.secret("socks", &socks).await;
    let ssh = harness.ssh_secret().await;
    for (name, url, secret) in [
        ("public", harness.git.public_url(&repo), None),
        ("ssh", harness.git.ssh_url(&repo), Some(ssh)),
    ] {
        harness
            .create(name, spec_via_proxy(&url, secret, "socks"))
            .await;
        let object = harness.wait_ready(name, ConditionStatus::False, None).await;
        let (reason, message) = Harness::ready_message(&object);
        assert_eq!(reason, "GitOperationFailed", "{name}: {message}");
        assert!(
            message.contains(&format!("via proxy '{}'", proxy.address)),
            "{name}: {message}"
        );
        assert!(
            message.to_lowercase().contains("socks"),
            "{name} names the SOCKS failure: {message}"
        );
        assert!(!message.contains("wrong-password"), "{name}: {message}");
    }
    assert!(proxy.connections().is_empty());
}

#[tokio::test]
async fn ssh_goes_through_an_http_connect_proxy() {
    let proxy = Proxy::start().await;
    let harness = Harness::start("git-ssh-connect").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a.yaml", "a")], "one");
    harness
        .secret("proxy", &[("address", &proxy.address)])
        .await;
    let ssh = harness.ssh_secret().await;
    let url = harness.git.ssh_url(&repo);
    harness
        .create("ssh", spec_via_proxy(&url, Some(ssh), "proxy"))
        .await;
    harness
        .wait_ready(
            "ssh",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;
    assert!(
        proxy
            .requests()
            .iter()
            .any(|line| line.starts_with(&format!("CONNECT {} ", host_port(&url)))),
        "the proxy tunnelled the SSH connection: {:?}",
        proxy.requests()
    );
}
