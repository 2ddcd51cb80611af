//! Live comparison with `kubectl kustomize` when kubectl is on PATH: guards against a
//! stale expected.yaml. Skips silently otherwise.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use common::{
    build_dir, case_dirs, fixture_dirs, fixture_key, known_failures, kubectl_flags, options_for,
    unified_diff,
};

fn kubectl_kustomize(dir: &std::path::Path, flags: &[&str]) -> Option<Result<String, String>> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .args(flags)
        .arg(dir)
        .output()
        .ok()?;
    Some(if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    })
}

#[test]
fn cases_match_live_kubectl() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        return;
    }
    let known = known_failures();
    let mut report = String::new();
    // (directory to build, case directory, name in reports)
    let mut dirs: Vec<(std::path::PathBuf, std::path::PathBuf, String)> = case_dirs()
        .into_iter()
        .map(|case| {
            let name = case
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            (build_dir(&case), case, name)
        })
        .collect();
    // Fixtures are named by their repository path.
    dirs.extend(
        fixture_dirs()
            .into_iter()
            .map(|dir| (dir.clone(), dir.clone(), fixture_key(&dir))),
    );
    for (dir, case, name) in dirs {
        if known.iter().any(|(known_name, _)| *known_name == name) {
            continue;
        }
        let Some(reference) = kubectl_kustomize(&dir, &kubectl_flags(&case)) else {
            return;
        };
        let ours = ferroflux_kustomize::build_to_yaml(&dir, &options_for(&case));
        match (reference, ours) {
            (Ok(expected), Ok(actual)) if expected == actual => {}
            (Err(_), Err(_)) => {}
            (Ok(expected), Ok(actual)) => {
                let _ = writeln!(report, "=== {name}\n{}", unified_diff(&expected, &actual));
            }
            (Ok(_), Err(error)) => {
                let _ = writeln!(report, "=== {name}\nunexpected error: {error}");
            }
            (Err(message), Ok(_)) => {
                let _ = writeln!(
                    report,
                    "=== {name}\nkubectl failed ({message}) but we succeeded"
                );
            }
        }
    }
    assert!(report.is_empty(), "live comparison differs:\n{report}");
}
