//! `cargo xtask demo`: the whole GitOps loop on this machine.
//!
//! Starts the local control plane, installs the CRDs, serves a Git repository with a
//! small sample app (`xtask/demo/app`) on loopback, runs the ferroflux controllers against
//! the cluster, declares a GitRepository and a Kustomization, waits until the app is
//! applied and its Deployment is Available, prints `ferroflux get all`, then pushes a
//! change and shows it applied. The cluster stays up afterwards (`cargo xtask testenv
//! down` stops it); the controllers and the Git server stop with the demo.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ferroflux_testkit::controller::{ControllerProcess, free_port};
use ferroflux_testkit::git_server::GitServer;

use crate::generate::repo_root;
use crate::testenv;

/// The demo keeps its Flux objects out of `flux-system`, where an install would put them.
const NAMESPACE: &str = "ferroflux-demo";

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Result<String> {
    use std::io::Write as _;
    let mut child = Command::new("kubectl")
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("running kubectl")?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "kubectl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn step(text: &str) {
    eprintln!("\n==> {text}");
}

/// Polls `check` until it succeeds or `timeout` passes.
fn wait(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !check() {
        if Instant::now() > deadline {
            bail!("timed out after {}s waiting for {what}", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Ok(())
}

pub fn run() -> Result<()> {
    step("starting the local Kubernetes control plane (built once from Go modules, then cached)");
    testenv::up()?;
    let kubeconfig = testenv::cache_dir().join("testenv/run/admin.kubeconfig");
    let root = repo_root();

    step("installing the Flux CRDs (config/crds)");
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
    let _ = kubectl(&kubeconfig, &["create", "namespace", "demo"], None);

    step("building the controllers and the ferroflux CLI");
    let status = cargo()
        .args([
            "build",
            "--quiet",
            "-p",
            "source-controller",
            "-p",
            "kustomize-controller",
            "-p",
            "ferroflux-cli",
        ])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("building the binaries failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let bin = target.join("debug");

    step("serving a Git repository with the sample app on loopback");
    let git = GitServer::start();
    let repo = git.create_repo("demo-app");
    let files = app_files(&root.join("xtask/demo/app"))?;
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let first = repo.commit(&refs, "Add the hello app");
    eprintln!("    {} at main@sha1:{first}", git.public_url(&repo));

    step("starting source-controller and kustomize-controller (out of cluster, on 127.0.0.1)");
    let logs = tempfile::tempdir()?;
    let port = free_port();
    let env_kubeconfig = format!("--kubeconfig={}", kubeconfig.display());
    let _source = ControllerProcess::start(
        &bin.join("source-controller"),
        NAMESPACE,
        &[
            env_kubeconfig.clone(),
            format!("--storage-path={}", logs.path().join("data").display()),
            format!("--storage-addr=127.0.0.1:{port}"),
            format!("--storage-adv-addr=127.0.0.1:{port}"),
        ],
        logs.path().join("source-controller.log"),
    );
    let _kustomize = ControllerProcess::start(
        &bin.join("kustomize-controller"),
        NAMESPACE,
        &[env_kubeconfig],
        logs.path().join("kustomize-controller.log"),
    );

    step("declaring a GitRepository and a Kustomization");
    let manifests = format!(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: demo-app\n  namespace: {NAMESPACE}\nspec:\n  interval: 5s\n  url: {}\n  ref:\n    branch: main\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: demo-app\n  namespace: {NAMESPACE}\nspec:\n  interval: 10m\n  sourceRef:\n    kind: GitRepository\n    name: demo-app\n  path: ./\n  prune: true\n  wait: true\n  timeout: 2m\n  targetNamespace: demo\n  postBuild:\n    substitute:\n      greeting: hello from Git\n",
        git.public_url(&repo)
    );
    kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&manifests))?;
    let ready = |name: &str, revision: &str| {
        kubectl(&kubeconfig, &["get", "kustomization", name, "-n", NAMESPACE, "-o", "jsonpath={.status.lastAppliedRevision} {.status.conditions[?(@.type==\"Ready\")].status}"], None)
            .is_ok_and(|out| out.contains(revision) && out.ends_with("True"))
    };
    wait(
        "the Kustomization to be Ready",
        Duration::from_secs(180),
        || ready("demo-app", &first),
    )?;

    let cli = bin.join("ferroflux");
    let show = |title: &str| -> Result<()> {
        step(title);
        let output = Command::new(&cli)
            .env("KUBECONFIG", &kubeconfig)
            .args(["get", "all", "-n", NAMESPACE])
            .output()?;
        print!("{}", String::from_utf8_lossy(&output.stdout));
        print!(
            "{}",
            kubectl(
                &kubeconfig,
                &["get", "deployments,services,configmaps", "-n", "demo"],
                None
            )?
        );
        Ok(())
    };
    show("ferroflux get all: the commit is applied and the Deployment is Available")?;

    step("pushing a change (replicas 2 -> 3) and waiting for it to be applied");
    let deployment = files
        .iter()
        .find(|(p, _)| p == "deployment.yaml")
        .map(|(_, c)| c.replace("replicas: 2", "replicas: 3"))
        .unwrap_or_default();
    let second = repo.commit(
        &[("deployment.yaml", deployment.as_str())],
        "Scale hello to 3 replicas",
    );
    wait(
        "the new commit to be applied",
        Duration::from_secs(180),
        || ready("demo-app", &second),
    )?;
    show("ferroflux get all: the new revision is applied")?;
    eprintln!(
        "\nThe control plane keeps running: export KUBECONFIG={}; stop it with `cargo xtask testenv down`.",
        kubeconfig.display()
    );
    Ok(())
}

/// The sample app's files, relative to its directory.
fn app_files(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        files.push((name, std::fs::read_to_string(&path)?));
    }
    files.sort();
    Ok(files)
}
