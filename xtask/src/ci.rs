//! `cargo xtask ci`: the whole test suite, as CI runs it.
//!
//! Installs missing system packages, checks formatting, lints, generated files, starts the
//! real control plane, runs every test against it, and stops it again — also on failure.
//! The control-plane tests are never skipped: if the plane cannot start, CI fails.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::generate::repo_root;
use crate::testenv;

fn step(name: &str, command: &mut Command) -> Result<()> {
    let started = Instant::now();
    eprintln!("==> {name}");
    let status = command
        .current_dir(repo_root())
        .status()
        .with_context(|| format!("running {name}"))?;
    eprintln!(
        "<== {name}: {} in {:.0}s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("{name} failed");
    }
    Ok(())
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    if std::env::var_os("CARGO_TARGET_DIR").is_none() {
        command.env("CARGO_TARGET_DIR", testenv::cache_dir().join("target"));
    }
    command
}

pub fn run() -> Result<()> {
    let started = Instant::now();
    step(
        "install dependencies",
        Command::new("bash").arg("hack/install-deps.sh"),
    )?;
    step(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    step(
        "cargo clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    eprintln!("==> control plane");
    let started_here = testenv::up()
        .context("the real control plane must start for the test suite (it is never skipped)")?;
    // After the plane is up: the kustomize merge-key table is generated from its OpenAPI.
    eprintln!("==> xtask gen --check");
    if let Err(error) = crate::generate::run(true) {
        if started_here {
            testenv::down();
        }
        return Err(error);
    }
    let kubeconfig = testenv::cache_dir().join("testenv/run/admin.kubeconfig");
    let result = step(
        "cargo test",
        cargo()
            .args(["test", "--workspace", "--no-fail-fast"])
            .env("KUBECONFIG", &kubeconfig),
    );
    if started_here {
        testenv::down();
    }
    result?;
    eprintln!("ci: all green in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}
