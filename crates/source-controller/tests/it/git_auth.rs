//! Every way to authenticate: HTTPS with a private CA, bearer tokens, SSH.

use ferroflux_api::meta::ConditionStatus;

use crate::harness::{Harness, spec};

#[tokio::test]
async fn https_with_a_private_ca() {
    let harness = Harness::start("git-https").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a", "1")], "one");
    let ca = harness.git.ca_pem().clone();
    harness
        .secret(
            "tls",
            &[
                ("username", harness.git.username()),
                ("password", harness.git.password()),
                ("ca.crt", &ca),
            ],
        )
        .await;
    harness
        .create("app", spec(&harness.git.https_url(&repo), Some("tls")))
        .await;
    harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;

    // Without the CA the server's certificate is not trusted.
    harness.basic_auth_secret().await;
    harness
        .create(
            "untrusted",
            spec(&harness.git.https_url(&repo), Some("basic")),
        )
        .await;
    let object = harness
        .wait_ready("untrusted", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "GitOperationFailed", "{message}");
    assert!(message.to_lowercase().contains("certificate"), "{message}");
}

#[tokio::test]
async fn bearer_token() {
    let harness = Harness::start("git-bearer").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a", "1")], "one");
    harness
        .secret("token", &[("bearerToken", harness.git.bearer_token())])
        .await;
    harness
        .create("app", spec(&harness.git.bearer_url(&repo), Some("token")))
        .await;
    harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;
}

#[tokio::test]
async fn ssh_with_known_hosts() {
    let harness = Harness::start("git-ssh").await;
    let repo = harness.git.create_repo("app");
    let sha = repo.commit(&[("a", "1")], "one");
    let identity = harness.git.ssh_identity_pem().clone();
    let known_hosts = harness.git.known_hosts().clone();
    harness
        .secret(
            "ssh",
            &[("identity", &identity), ("known_hosts", &known_hosts)],
        )
        .await;
    harness
        .create("app", spec(&harness.git.ssh_url(&repo), Some("ssh")))
        .await;
    harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;

    // A commit reference over SSH (libgit2 fetches the branch's history) and one the
    // remote does not have, with the same message as over HTTP.
    let second = repo.commit(&[("a", "2")], "two");
    repo.commit(&[("a", "3")], "three");
    for (name, commit) in [
        ("pinned", second.as_str()),
        ("missing", "0123456789abcdef0123456789abcdef01234567"),
    ] {
        let mut pinned = spec(&harness.git.ssh_url(&repo), Some("ssh"));
        pinned.reference = Some(ferroflux_api::source::v1::GitRepositoryRef {
            branch: Some("main".into()),
            commit: Some(commit.into()),
            ..Default::default()
        });
        harness.create(name, pinned).await;
    }
    let object = harness
        .wait_ready(
            "pinned",
            ConditionStatus::True,
            Some(&format!("main@sha1:{second}")),
        )
        .await;
    assert_eq!(harness.download(&object).await["a"], "2");
    let object = harness
        .wait_ready("missing", ConditionStatus::False, None)
        .await;
    assert_eq!(
        Harness::ready_message(&object).1,
        "failed to checkout and determine revision: unable to resolve commit object for '0123456789abcdef0123456789abcdef01234567': object not found"
    );

    // The wrong host key is refused.
    let wrong = known_hosts.replace("AAAA", "BBBB");
    harness
        .secret(
            "ssh-wrong",
            &[("identity", &identity), ("known_hosts", &wrong)],
        )
        .await;
    harness
        .create(
            "unknown-host",
            spec(&harness.git.ssh_url(&repo), Some("ssh-wrong")),
        )
        .await;
    let object = harness
        .wait_ready("unknown-host", ConditionStatus::False, None)
        .await;
    let (_, message) = Harness::ready_message(&object);
    assert!(message.contains("knownhosts"), "{message}");
}
