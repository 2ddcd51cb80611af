//! TLS client certificates: `tls.crt` and `tls.key` (+ `ca.crt`) in `spec.secretRef`.

use ferroflux_api::meta::{ConditionStatus, LocalObjectReference};

use crate::git_support::Proxy;
use crate::harness::{Harness, spec};

#[tokio::test]
async fn client_certificate_from_the_secret_is_presented() {
    let harness = Harness::start("git-mtls").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a.yaml", "a")], "one");
    let url = harness.git.mtls_url(&repo);
    let (ca, certificate, key) = (
        harness.git.ca_pem(),
        harness.git.client_cert_pem(),
        harness.git.client_key_pem(),
    );
    harness
        .secret(
            "mtls",
            &[
                ("ca.crt", &ca),
                ("tls.crt", &certificate),
                ("tls.key", &key),
            ],
        )
        .await;
    harness.create("app", spec(&url, Some("mtls"))).await;
    let object = harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;
    assert_eq!(harness.download(&object).await["a.yaml"], "a");

    // A new commit is seen through the same client certificate.
    let second = repo.commit(&[("a.yaml", "b")], "two");
    harness.request_reconcile("app").await;
    harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("main@sha1:{second}")),
        )
        .await;
    assert!(
        !harness.log().contains("PRIVATE KEY"),
        "the key never appears in the log"
    );
}

#[tokio::test]
async fn client_certificate_through_a_proxy() {
    let proxy = Proxy::start().await;
    let harness = Harness::start("git-mtls-proxy").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a.yaml", "a")], "one");
    harness
        .secret(
            "mtls",
            &[
                ("ca.crt", &harness.git.ca_pem()),
                ("tls.crt", &harness.git.client_cert_pem()),
                ("tls.key", &harness.git.client_key_pem()),
            ],
        )
        .await;
    harness
        .secret("proxy", &[("address", &proxy.address)])
        .await;
    let mut object = spec(&harness.git.mtls_url(&repo), Some("mtls"));
    object.proxy_secret_ref = Some(LocalObjectReference {
        name: "proxy".into(),
    });
    harness.create("app", object).await;
    harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;
    assert!(
        proxy
            .requests()
            .iter()
            .any(|line| line.starts_with("CONNECT 127.0.0.1:")),
        "{:?}",
        proxy.requests()
    );
}

#[tokio::test]
async fn missing_or_untrusted_client_certificate_fails_clearly() {
    let harness = Harness::start("git-mtls-fail").await;
    let repo = harness.git.create_repo("app");
    repo.commit(&[("a.yaml", "a")], "one");
    let url = harness.git.mtls_url(&repo);
    let ca = harness.git.ca_pem();

    harness.secret("ca-only", &[("ca.crt", &ca)]).await;
    harness.create("no-cert", spec(&url, Some("ca-only"))).await;
    let object = harness
        .wait_ready("no-cert", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "GitOperationFailed", "{message}");
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("400"), "{message}");
    assert!(message.contains("client certificate"), "{message}");

    // PEM that does not parse is reported without echoing the Secret's content.
    harness
        .secret(
            "garbage",
            &[
                ("ca.crt", &ca),
                ("tls.crt", "not a certificate"),
                ("tls.key", "not a key"),
            ],
        )
        .await;
    harness.create("garbage", spec(&url, Some("garbage"))).await;
    let object = harness
        .wait_ready("garbage", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "GitOperationFailed", "{message}");
    assert!(
        message.contains("failed to parse TLS certificate and key"),
        "{message}"
    );
    assert!(!message.contains("not a key"), "{message}");

    // Without ca.crt the server's certificate is not trusted: the TLS error is reported.
    harness
        .secret(
            "no-ca",
            &[
                ("tls.crt", &harness.git.client_cert_pem()),
                ("tls.key", &harness.git.client_key_pem()),
            ],
        )
        .await;
    harness.create("untrusted", spec(&url, Some("no-ca"))).await;
    let object = harness
        .wait_ready("untrusted", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "GitOperationFailed", "{message}");
    assert!(message.to_lowercase().contains("certificate"), "{message}");
}
