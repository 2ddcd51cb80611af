//! `spec.verify`: SSH- and PGP-signed commits and tags, verified against keys from a Secret.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferroflux_api::meta::{ConditionStatus, LocalObjectReference};
use ferroflux_api::source::v1::{GitRepositoryRef, GitRepositoryVerification, GitVerificationMode};
use ferroflux_testkit::git_server::Repo;

use crate::harness::{Harness, spec};

fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An ed25519 SSH signing key: (private key path, public key line).
fn ssh_key(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("signing");
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "signer", "-f"])
        .arg(&key));
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public)
}

/// A PGP signing key in its own GNUPGHOME: (gpg wrapper for git, key id, armored public key).
fn pgp_key(dir: &Path) -> (PathBuf, String, String) {
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    let gpg = |args: &[&str]| {
        run(Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args))
    };
    gpg(&[
        "--quick-gen-key",
        "Signer <signer@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    let listing = gpg(&["--with-colons", "--list-keys", "signer@example.com"]);
    let key_id = listing
        .lines()
        .find(|line| line.starts_with("pub:"))
        .and_then(|line| line.split(':').nth(4))
        .expect("a key id")
        .to_owned();
    let armored = gpg(&["--armor", "--export", &key_id]);
    let wrapper = dir.join("gpg-wrapper");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nGNUPGHOME='{}' exec gpg \"$@\"\n",
            home.display()
        ),
    )
    .unwrap();
    run(Command::new("chmod").arg("+x").arg(&wrapper));
    (wrapper, key_id, armored)
}

/// Amends the tip of `main` with an SSH signature and pushes it; returns the commit.
fn sign_with_ssh(repo: &Repo, key: &Path) -> String {
    let key = key.display().to_string();
    repo.git(&[
        "-c",
        "gpg.format=ssh",
        "-c",
        &format!("user.signingkey={key}"),
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        "-S",
    ]);
    repo.push("HEAD:refs/heads/main");
    repo.git(&["rev-parse", "HEAD"])
}

fn verification(mode: GitVerificationMode) -> GitRepositoryVerification {
    GitRepositoryVerification {
        mode: Some(mode),
        secret_ref: LocalObjectReference {
            name: "trusted".to_owned(),
        },
    }
}

fn condition(
    object: &ferroflux_api::source::v1::GitRepository,
    type_: &str,
) -> (String, String, String) {
    let condition = object
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == type_))
        .unwrap_or_else(|| panic!("condition {type_} in {:?}", object.status));
    (
        format!("{:?}", condition.status),
        condition.reason.clone(),
        condition.message.clone(),
    )
}

#[tokio::test]
async fn ssh_signed_commits_verify_and_unsigned_ones_fail() {
    let harness = Harness::start("git-verify-ssh").await;
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = ssh_key(keys.path());
    harness
        .secret("trusted", &[("signer.sshpub", &public)])
        .await;
    let repo = harness.git.create_repo("signed");
    repo.commit(&[("app.yaml", "a: 1\n")], "first");
    let signed = sign_with_ssh(&repo, &key);

    let mut git_spec = spec(&harness.git.public_url(&repo), None);
    git_spec.verify = Some(verification(GitVerificationMode::Head));
    harness.create("signed", git_spec).await;
    let object = harness
        .wait_ready(
            "signed",
            ConditionStatus::True,
            Some(&format!("main@sha1:{signed}")),
        )
        .await;
    let (status, reason, message) = condition(&object, "SourceVerified");
    assert_eq!((status.as_str(), reason.as_str()), ("True", "Succeeded"));
    assert!(
        message.starts_with(&format!(
            "verified signature of\n\t- commit '{signed}' with key 'SHA256:"
        )),
        "{message}"
    );
    assert_eq!(
        object
            .status
            .as_ref()
            .unwrap()
            .source_verification_mode
            .as_deref(),
        Some("HEAD")
    );

    // An unsigned commit is refused; the verified artifact stays.
    let unsigned = repo.commit(&[("app.yaml", "a: 2\n")], "unsigned");
    harness.request_reconcile("signed").await;
    let object = harness
        .wait_ready("signed", ConditionStatus::False, None)
        .await;
    let (status, reason, message) = condition(&object, "SourceVerified");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "InvalidCommitSignature")
    );
    assert_eq!(
        message,
        format!(
            "signature verification of commit '{unsigned}' failed: unsupported signature type: empty"
        )
    );
    let (_, ready_reason, _) = condition(&object, "Ready");
    assert_eq!(ready_reason, "InvalidCommitSignature");
    assert_eq!(
        object.status.unwrap().artifact.unwrap().revision,
        format!("main@sha1:{signed}")
    );
}

#[tokio::test]
async fn pgp_signed_tags_and_commits_verify_in_tag_and_head_mode() {
    let harness = Harness::start("git-verify-pgp").await;
    let keys = tempfile::tempdir().unwrap();
    let (gpg, key_id, armored) = pgp_key(keys.path());
    harness.secret("trusted", &[("signer.asc", &armored)]).await;
    let repo = harness.git.create_repo("signed");
    repo.commit(&[("app.yaml", "a: 1\n")], "first");
    let program = format!("gpg.program={}", gpg.display());
    let signing_key = format!("user.signingkey={key_id}");
    repo.git(&[
        "-c",
        &program,
        "-c",
        &signing_key,
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        "-S",
    ]);
    let commit = repo.git(&["rev-parse", "HEAD"]);
    repo.push("HEAD:refs/heads/main");
    repo.git(&[
        "-c",
        &program,
        "-c",
        &signing_key,
        "tag",
        "-s",
        "v1.0.0",
        "-m",
        "release",
        &commit,
    ]);
    repo.push("refs/tags/v1.0.0");
    let tag_object = repo.git(&["rev-parse", "refs/tags/v1.0.0"]);

    let mut git_spec = spec(&harness.git.public_url(&repo), None);
    git_spec.reference = Some(GitRepositoryRef {
        tag: Some("v1.0.0".to_owned()),
        ..Default::default()
    });
    git_spec.verify = Some(verification(GitVerificationMode::TagAndHEAD));
    harness.create("tagged", git_spec.clone()).await;
    let object = harness
        .wait_ready(
            "tagged",
            ConditionStatus::True,
            Some(&format!("v1.0.0@sha1:{commit}")),
        )
        .await;
    let (_, _, message) = condition(&object, "SourceVerified");
    assert_eq!(
        message,
        format!(
            "verified signature of\n\t- tag 'v1.0.0@{tag_object}' with key '{key_id}'\n\t- commit '{commit}' with key '{key_id}'"
        )
    );

    // Tag mode on a branch cannot work: stalled, not retried.
    let mut branch_spec = spec(&harness.git.public_url(&repo), None);
    branch_spec.verify = Some(verification(GitVerificationMode::Tag));
    harness.create("branch", branch_spec).await;
    let object = harness
        .wait_ready("branch", ConditionStatus::False, None)
        .await;
    let (status, reason, _) = condition(&object, "Stalled");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "InvalidVerificationMode")
    );

    // A key ring that did not sign fails with Flux's message, and names no key material.
    let other = tempfile::tempdir().unwrap();
    let (_, _, other_armored) = pgp_key(other.path());
    harness
        .secret("untrusted", &[("other.asc", &other_armored)])
        .await;
    let mut wrong = git_spec;
    wrong.verify.as_mut().unwrap().secret_ref.name = "untrusted".to_owned();
    harness.create("wrong-key", wrong).await;
    let object = harness
        .wait_ready("wrong-key", ConditionStatus::False, None)
        .await;
    let (_, reason, message) = condition(&object, "SourceVerified");
    assert_eq!(reason, "InvalidTagSignature");
    assert!(
        message
            .ends_with("unable to verify payload with any of the given key rings: no matching key"),
        "{message}"
    );
}
