//! `kubectl apply --server-side -f deploy/install.yaml` against the real API server: every
//! object is accepted, the controller Deployments become Available (kwok runs the pods), and
//! `ferroflux version` finds the controllers by their labels.
//!
//! The test owns the `flux-system` namespace and the `*-flux-system` cluster roles while it
//! runs and deletes them afterwards; the CRDs stay (other tests use them).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const NAMESPACE: &str = "flux-system";
const CONTROLLERS: [&str; 4] = [
    "helm-controller",
    "kustomize-controller",
    "notification-controller",
    "source-controller",
];

fn kubeconfig() -> String {
    std::env::var("KUBECONFIG").unwrap_or_else(|_| {
        panic!(
            "KUBECONFIG is not set: this test needs the real control plane. Run \
             `cargo xtask testenv up` and export the KUBECONFIG it prints (or run `cargo xtask ci`)"
        )
    })
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kubectl(args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("kubectl runs (hack/install-deps.sh installs it)")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Deletes what the install created, except the CRDs, even when the test fails.
struct Uninstall;

impl Drop for Uninstall {
    fn drop(&mut self) {
        let _ = kubectl(&[
            "delete",
            "clusterrole,clusterrolebinding",
            "-l",
            "app.kubernetes.io/instance=flux-system",
            "--ignore-not-found",
        ]);
        let _ = kubectl(&[
            "delete",
            "namespace",
            NAMESPACE,
            "--ignore-not-found",
            "--wait=false",
        ]);
    }
}

/// A previous run's namespace may still be terminating; applying into it would fail.
fn wait_until_namespace_is_not_terminating() {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let output = kubectl(&[
            "get",
            "namespace",
            NAMESPACE,
            "--ignore-not-found",
            "-o",
            "jsonpath={.status.phase}",
        ]);
        assert!(
            output.status.success(),
            "kubectl get namespace: {}",
            text(&output.stderr)
        );
        if text(&output.stdout).trim() != "Terminating" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "namespace {NAMESPACE} is still terminating after 120s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn install_yaml_applies_and_controllers_become_available() {
    kubeconfig();
    let manifest = std::fs::read_to_string(repo_root().join("deploy/install.yaml"))
        .expect("deploy/install.yaml exists (cargo xtask gen writes it)");
    let documents = manifest.matches("\n---\n").count() + 1;
    wait_until_namespace_is_not_terminating();
    let _uninstall = Uninstall;

    let apply = kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=flux",
        "-f",
        "deploy/install.yaml",
    ]);
    let stdout = text(&apply.stdout);
    assert!(
        apply.status.success(),
        "kubectl apply failed:\n{stdout}\n{}",
        text(&apply.stderr)
    );
    let applied = stdout
        .lines()
        .filter(|line| line.ends_with("serverside-applied"))
        .count();
    assert_eq!(
        applied, documents,
        "every object must be accepted:\n{stdout}"
    );

    let wait = kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployment",
        "--all",
        "-n",
        NAMESPACE,
        "--timeout=120s",
    ]);
    assert!(
        wait.status.success(),
        "Deployments did not become Available: {}{}",
        text(&wait.stdout),
        text(&wait.stderr)
    );
    let available = text(&wait.stdout);
    for controller in CONTROLLERS {
        assert!(
            available.contains(&format!("deployment.apps/{controller} condition met")),
            "{controller} is not Available:\n{available}"
        );
    }

    let version = Command::new(env!("CARGO_BIN_EXE_ferroflux"))
        .arg("version")
        .output()
        .expect("the ferroflux binary runs");
    assert!(version.status.success(), "{}", text(&version.stderr));
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let expected = std::iter::once("ferroflux")
        .chain(CONTROLLERS)
        .map(|name| format!("{name}: {tag}"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert_eq!(text(&version.stdout), expected);
}
