//! The loopback Git server serves real clones over HTTP(S) with basic auth or a bearer
//! token, and over SSH with host-key checking; dropping it stops every process it started.

use std::path::Path;
use std::process::{Command, Output};

use ferroflux_testkit::git_server::{GitServer, ssh_command};

/// `git clone` into a fresh directory with extra environment; the output and the clone's path.
fn clone(url: &str, config: &[&str], env: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let target = tempfile::tempdir().expect("a temporary directory can be created");
    let mut command = Command::new("git");
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "/bin/false")
        .env("SSH_ASKPASS", "/bin/false");
    for item in config {
        command.args(["-c", item]);
    }
    command
        .args(["clone", "-q", url])
        .arg(target.path().join("clone"));
    for (key, value) in env {
        command.env(key, value);
    }
    (command.output().expect("git runs"), target)
}

fn assert_cloned(output: &Output, dir: &Path, file: &str, content: &str) {
    assert!(
        output.status.success(),
        "clone succeeds: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = std::fs::read_to_string(dir.join("clone").join(file))
        .expect("the cloned work tree has the committed file");
    assert_eq!(read, content);
}

fn with_credentials(url: &str, user: &str, password: &str) -> String {
    url.replacen("://", &format!("://{user}:{password}@"), 1)
}

#[tokio::test]
async fn http_and_https_need_the_password_and_the_ca() {
    let server = GitServer::start();
    let repo = server.create_repo("app");
    repo.commit(&[("deploy/app.yaml", "kind: ConfigMap\n")], "first");

    let url = with_credentials(
        &server.http_url(&repo),
        server.username(),
        server.password(),
    );
    let (output, dir) = clone(&url, &[], &[]);
    assert_cloned(&output, dir.path(), "deploy/app.yaml", "kind: ConfigMap\n");

    let wrong = with_credentials(&server.http_url(&repo), server.username(), "wrong");
    let (output, _dir) = clone(&wrong, &[], &[]);
    assert!(!output.status.success(), "a wrong password is rejected");
    let (output, _dir) = clone(&server.http_url(&repo), &[], &[]);
    assert!(!output.status.success(), "no password is rejected");

    let url = with_credentials(
        &server.https_url(&repo),
        server.username(),
        server.password(),
    );
    let ca = server.ca_path().display().to_string();
    let (output, dir) = clone(&url, &[], &[("GIT_SSL_CAINFO", &ca)]);
    assert_cloned(&output, dir.path(), "deploy/app.yaml", "kind: ConfigMap\n");
    assert!(server.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));

    let (output, _dir) = clone(&url, &[], &[]);
    assert!(
        !output.status.success(),
        "the test CA is not trusted by default"
    );

    let (output, dir) = clone(&server.public_url(&repo), &[], &[]);
    assert_cloned(&output, dir.path(), "deploy/app.yaml", "kind: ConfigMap\n");
}

#[tokio::test]
async fn pushes_over_http_are_the_base_of_later_commits() {
    let server = GitServer::start();
    let repo = server.create_repo("pushed");
    repo.commit(&[("a.txt", "a\n")], "first");
    let url = with_credentials(
        &server.http_url(&repo),
        server.username(),
        server.password(),
    );
    let (output, dir) = clone(&url, &[], &[]);
    assert_cloned(&output, dir.path(), "a.txt", "a\n");

    let clone_dir = dir.path().join("clone");
    std::fs::write(clone_dir.join("b.txt"), "b\n").expect("the clone is writable");
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .current_dir(&clone_dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["-c", "user.name=t", "-c", "user.email=t@t.invalid"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    git(&["add", "b.txt"]);
    git(&["commit", "-q", "-m", "pushed over http"]);
    git(&["push", "-q", "origin", "main"]);
    let pushed = git(&["rev-parse", "HEAD"]);
    assert_eq!(repo.head("main").as_deref(), Some(pushed.as_str()));

    repo.commit(&[("c.txt", "c\n")], "after the push");
    assert_eq!(repo.git(&["rev-parse", "HEAD^"]), pushed);
    assert_eq!(repo.git(&["show", "HEAD:b.txt"]), "b");
}

#[tokio::test]
async fn bearer_token_location() {
    let server = GitServer::start();
    let repo = server.create_repo("org/tokens");
    repo.commit(&[("README.md", "hello\n")], "first");

    let header = format!(
        "http.extraHeader=Authorization: Bearer {}",
        server.bearer_token()
    );
    let (output, dir) = clone(&server.bearer_url(&repo), &[&header], &[]);
    assert_cloned(&output, dir.path(), "README.md", "hello\n");

    let ca = server.ca_path().display().to_string();
    let (output, dir) = clone(
        &server.https_bearer_url(&repo),
        &[&header],
        &[("GIT_SSL_CAINFO", &ca)],
    );
    assert_cloned(&output, dir.path(), "README.md", "hello\n");

    let wrong = "http.extraHeader=Authorization: Bearer not-the-token";
    let (output, _dir) = clone(&server.bearer_url(&repo), &[wrong], &[]);
    assert!(!output.status.success(), "a wrong token is rejected");
    let (output, _dir) = clone(&server.bearer_url(&repo), &[], &[]);
    assert!(!output.status.success(), "no token is rejected");
}

#[tokio::test]
async fn ssh_with_identity_and_known_hosts() {
    let server = GitServer::start();
    let repo = server.create_repo("app");
    repo.commit(&[("a.txt", "a\n")], "first");

    assert!(
        server
            .ssh_identity_pem()
            .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
    );
    assert!(server.ssh_identity_pub().starts_with("ssh-ed25519 AAAA"));
    let known_hosts = server.known_hosts();
    assert!(
        known_hosts.starts_with("[127.0.0.1]:") && known_hosts.contains(" ssh-ed25519 AAAA"),
        "{known_hosts}"
    );

    let ssh = server.git_ssh_command();
    let (output, dir) = clone(&server.ssh_url(&repo), &[], &[("GIT_SSH_COMMAND", &ssh)]);
    assert_cloned(&output, dir.path(), "a.txt", "a\n");

    // A known_hosts entry with another key for the same host must fail the clone.
    let keys = tempfile::tempdir().expect("a temporary directory can be created");
    let other_key = keys.path().join("other");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other_key)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    let other_public = std::fs::read_to_string(other_key.with_extension("pub"))
        .expect("ssh-keygen wrote the public key");
    let host = known_hosts.split_whitespace().next().expect("a host field");
    let wrong_known_hosts = keys.path().join("known_hosts");
    let wrong_line: Vec<&str> = other_public.split_whitespace().take(2).collect();
    std::fs::write(
        &wrong_known_hosts,
        format!("{host} {}\n", wrong_line.join(" ")),
    )
    .expect("known_hosts can be written");
    let ssh = ssh_command(&server.ssh_identity_path(), &wrong_known_hosts);
    let (output, _dir) = clone(&server.ssh_url(&repo), &[], &[("GIT_SSH_COMMAND", &ssh)]);
    assert!(
        !output.status.success(),
        "a mismatching host key is rejected"
    );

    // And an identity the server does not know.
    let ssh = ssh_command(&other_key, &server.known_hosts_path());
    let (output, _dir) = clone(&server.ssh_url(&repo), &[], &[("GIT_SSH_COMMAND", &ssh)]);
    assert!(
        !output.status.success(),
        "an unknown client key is rejected"
    );
}

#[tokio::test]
async fn branches_tags_and_deletions() {
    let server = GitServer::start();
    let repo = server.create_repo("history");
    let first = repo.commit(&[("a.txt", "1\n"), ("dir/b.txt", "b\n")], "first");
    let second = repo.commit(&[("a.txt", "2\n")], "second");
    assert_eq!(repo.head("main").as_deref(), Some(second.as_str()));

    let feature = repo.commit_on("feature", &[("c.txt", "c\n")], "feature");
    assert_eq!(repo.head("feature").as_deref(), Some(feature.as_str()));
    assert_eq!(repo.head("main").as_deref(), Some(second.as_str()));

    repo.tag("v1.0.0", &first);
    let tag_object = repo.annotated_tag("v2.0.0", &second, "release 2");
    assert_ne!(tag_object, second);
    let deleted = repo.delete_file("dir", "remove dir");

    let url = with_credentials(
        &server.http_url(&repo),
        server.username(),
        server.password(),
    );
    let (output, dir) = clone(&url, &[], &[]);
    assert_cloned(&output, dir.path(), "a.txt", "2\n");
    let clone_dir = dir.path().join("clone");
    assert!(!clone_dir.join("dir/b.txt").exists());
    assert!(!clone_dir.join("c.txt").exists());
    let rev_parse = |reference: &str| {
        let output = Command::new("git")
            .current_dir(&clone_dir)
            .args(["rev-parse", reference])
            .output()
            .expect("git runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    assert_eq!(rev_parse("HEAD"), deleted);
    assert_eq!(rev_parse("v1.0.0"), first);
    assert_eq!(rev_parse("v2.0.0"), tag_object);
    assert_eq!(rev_parse("v2.0.0^{commit}"), second);
    assert_eq!(rev_parse("origin/feature"), feature);

    // Rewriting history and deleting a branch go through `push`.
    repo.push(&format!("{first}:refs/heads/main"));
    assert_eq!(repo.head("main").as_deref(), Some(first.as_str()));
    repo.push(":refs/heads/feature");
    assert_eq!(repo.head("feature"), None);
    let third = repo.commit(&[("a.txt", "3\n")], "on top of the rewrite");
    assert_eq!(repo.git(&["rev-parse", "HEAD^"]), first);
    assert_eq!(repo.head("main").as_deref(), Some(third.as_str()));
}

/// Processes in `pids`' process groups that are not zombies.
fn live_group_members(groups: &[u32]) -> Vec<u32> {
    let mut live = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("procfs is mounted") {
        let name = entry.expect("a /proc entry").file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the parenthesised command: state ppid pgrp ...
        let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (Some(state), Some(group)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        let group: u32 = group.parse().unwrap_or(0);
        if *state != "Z" && groups.contains(&group) {
            live.push(pid);
        }
    }
    live
}

#[tokio::test]
async fn drop_stops_every_process_and_removes_the_directory() {
    let server = GitServer::start();
    let repo = server.create_repo("app");
    repo.commit(&[("a.txt", "a\n")], "first");
    let url = with_credentials(
        &server.http_url(&repo),
        server.username(),
        server.password(),
    );
    let (output, dir) = clone(&url, &[], &[]);
    assert_cloned(&output, dir.path(), "a.txt", "a\n");

    let pids = server.pids();
    assert_eq!(pids.len(), 3, "fcgiwrap, nginx and sshd run");
    let members = live_group_members(&pids);
    assert!(
        members.len() > pids.len(),
        "nginx has workers and fcgiwrap preforks: {members:?}"
    );
    let root = server.root().to_path_buf();
    drop(server);

    assert_eq!(
        live_group_members(&pids),
        Vec::<u32>::new(),
        "no process of the server's groups survives"
    );
    for pid in members {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = state.rsplit_once(')').map_or("", |(_, rest)| rest.trim());
        assert!(
            state.is_empty() || state.starts_with('Z'),
            "process {pid} is gone: {state}"
        );
    }
    assert!(!root.exists(), "the temporary directory is removed");
}
