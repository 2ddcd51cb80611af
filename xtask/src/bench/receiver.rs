//! `cargo xtask bench receiver`: webhook-to-applied latency of the GitOps loop.
//!
//! Serves a Git repository on loopback, runs source-controller, kustomize-controller and
//! notification-controller (release builds) against the local control plane, declares a
//! GitRepository with a 1h interval (so only the webhook can make it fetch), a
//! Kustomization and a `generic` Receiver for the GitRepository. Each round pushes a
//! commit, POSTs the webhook and measures the time until the Kustomization reports the
//! new commit as `lastAppliedRevision`. Polls with kubectl every 25 ms, so the numbers
//! include up to one poll interval plus one kubectl call (~50 ms) of measurement error.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ferroflux_testkit::controller::{ControllerProcess, free_port};
use ferroflux_testkit::git_server::GitServer;

use super::{machine, today, update_doc};
use crate::generate::repo_root;
use crate::testenv;

const NAMESPACE: &str = "ferroflux-bench-receiver";
const TOKEN: &str = "bench-receiver-token";

fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Result<String> {
    let mut command = Command::new("kubectl");
    command
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().context("running kubectl")?;
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .context("kubectl stdin")?
            .write_all(input.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "kubectl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn build(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("bench: cargo build --release of the three controllers");
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "source-controller",
            "-p",
            "kustomize-controller",
        ])
        .args(["-p", "notification-controller"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("building the controllers failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok(target.join("release"))
}

fn wait(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) -> Result<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check() {
            return Ok(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    bail!("timed out waiting for {what}")
}

/// POSTs `{}` to the webhook; returns the HTTP status.
fn post_webhook(port: u16, path: &str) -> Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no HTTP status in the answer")
}

fn manifests(url: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: webhook-token\n  namespace: {NAMESPACE}\nstringData:\n  token: {TOKEN}\n---\n\
apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: app\n  namespace: {NAMESPACE}\nspec:\n  interval: 1h\n  url: {url}\n  ref:\n    branch: main\n---\n\
apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: {NAMESPACE}\nspec:\n  interval: 1h\n  sourceRef:\n    kind: GitRepository\n    name: app\n  path: ./\n  prune: true\n  targetNamespace: {NAMESPACE}\n---\n\
apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n  name: push\n  namespace: {NAMESPACE}\nspec:\n  type: generic\n  secretRef:\n    name: webhook-token\n  resources:\n  - kind: GitRepository\n    name: app\n"
    )
}

fn config_map(round: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench\ndata:\n  round: \"{round}\"\n"
    )
}

/// Runs `rounds` measurements and prints them with their median.
pub fn run(rounds: usize, write_doc: bool) -> Result<()> {
    testenv::up()?;
    let kubeconfig = testenv::cache_dir().join("testenv/run/admin.kubeconfig");
    let root = repo_root();
    kubectl(
        &kubeconfig,
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            &root.join("config/crds").display().to_string(),
        ],
        None,
    )?;
    let _ = kubectl(&kubeconfig, &["create", "namespace", NAMESPACE], None);
    let bin = build(&root)?;

    let git = GitServer::start();
    let repo = git.create_repo("bench-receiver");
    let first = repo.commit(&[("configmap.yaml", config_map(0).as_str())], "round 0");
    let logs = tempfile::tempdir()?;
    let kubeconfig_flag = format!("--kubeconfig={}", kubeconfig.display());
    let (storage, receiver_port) = (free_port(), free_port());
    let _source = ControllerProcess::start(
        &bin.join("source-controller"),
        NAMESPACE,
        &[
            kubeconfig_flag.clone(),
            format!("--storage-path={}", logs.path().join("data").display()),
            format!("--storage-addr=127.0.0.1:{storage}"),
            format!("--storage-adv-addr=127.0.0.1:{storage}"),
        ],
        logs.path().join("source-controller.log"),
    );
    let _kustomize = ControllerProcess::start(
        &bin.join("kustomize-controller"),
        NAMESPACE,
        std::slice::from_ref(&kubeconfig_flag),
        logs.path().join("kustomize-controller.log"),
    );
    let _notification = ControllerProcess::start(
        &bin.join("notification-controller"),
        NAMESPACE,
        &[
            kubeconfig_flag,
            format!("--receiverAddr=127.0.0.1:{receiver_port}"),
            format!("--events-addr=127.0.0.1:{}", free_port()),
        ],
        logs.path().join("notification-controller.log"),
    );
    kubectl(
        &kubeconfig,
        &["apply", "-f", "-"],
        Some(&manifests(&git.public_url(&repo))),
    )?;
    let applied = |revision: &str| {
        kubectl(
            &kubeconfig,
            &[
                "get",
                "kustomization",
                "app",
                "-n",
                NAMESPACE,
                "-o",
                "jsonpath={.status.lastAppliedRevision}",
            ],
            None,
        )
        .is_ok_and(|out| out.contains(revision))
    };
    wait(
        "the first commit to be applied",
        Duration::from_secs(180),
        || applied(&first),
    )?;
    let path = kubectl(
        &kubeconfig,
        &[
            "get",
            "receiver",
            "push",
            "-n",
            NAMESPACE,
            "-o",
            "jsonpath={.status.webhookPath}",
        ],
        None,
    )?;
    if path.is_empty() {
        bail!("the Receiver has no webhook path");
    }

    let mut latencies = Vec::new();
    for round in 1..=rounds {
        let commit = repo.commit(
            &[("configmap.yaml", config_map(round).as_str())],
            &format!("round {round}"),
        );
        let start = Instant::now();
        let status = post_webhook(receiver_port, &path)?;
        if status != 200 {
            bail!("the webhook answered {status}");
        }
        wait(
            "the pushed commit to be applied",
            Duration::from_secs(60),
            || applied(&commit),
        )?;
        let latency = start.elapsed();
        eprintln!(
            "round {round}: webhook → applied in {} ms",
            latency.as_millis()
        );
        latencies.push(latency);
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    let (min, max) = (
        latencies.first().map_or(0, Duration::as_millis),
        latencies.last().map_or(0, Duration::as_millis),
    );
    let summary = format!(
        "receiver → source → kustomization: median {} ms, min {min} ms, max {max} ms over {rounds} rounds (goal: under 2000 ms)",
        median.as_millis()
    );
    println!("{summary}");
    if write_doc {
        let block = format!(
            "Measured on {} on {}, with `cargo xtask bench receiver --rounds {rounds}` (release builds).\n\n{summary}.\n\nEvery round (ms): {}\n",
            today(),
            machine(),
            latencies
                .iter()
                .map(|latency| latency.as_millis().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let path = update_doc(
            "## notification-controller: webhook to applied commit",
            "receiver",
            &block,
        )?;
        eprintln!("bench: wrote {}", path.display());
    }
    let _ = kubectl(
        &kubeconfig,
        &["delete", "namespace", NAMESPACE, "--wait=false"],
        None,
    );
    Ok(())
}
