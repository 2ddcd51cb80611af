//! `helm template` conformance: each case of `cases.tsv` is rendered natively and
//! compared byte for byte with the output of the real helm committed under `expected/`.
//! `UPDATE_EXPECT=1` re-records the expectations with helm (built once by
//! `hack/build-helm.sh`, or `$FERROFLUX_HELM`); `live_helm_agrees` compares with helm
//! directly when it is available (`FERROFLUX_SKIP_HELM=1` skips it).

use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    name: String,
    args: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn podinfo() -> PathBuf {
    root().join("../../../shared/fixtures/charts/podinfo")
}

fn cases() -> Vec<Case> {
    let text =
        std::fs::read_to_string(root().join("tests/cases.tsv")).expect("cases.tsv is readable");
    let charts = root().join("tests/charts");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (name, args) = line.split_once('\t').expect("case lines are NAME<TAB>ARGS");
            let args = args
                .split_whitespace()
                .map(|a| {
                    a.replace("@charts", &charts.display().to_string())
                        .replace("@podinfo", &podinfo().display().to_string())
                })
                .collect();
            Case {
                name: name.to_owned(),
                args,
            }
        })
        .collect()
}

fn known_differences() -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join("tests/known-differences.tsv")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split('\t').next())
        .map(str::to_owned)
        .collect()
}

/// Our result in the shape stored for helm: stdout, or `Error: message`.
fn ours(case: &Case) -> String {
    match ferroflux_helm::run_template_command(&case.args) {
        Ok(out) => out,
        Err(error) => format!("Error: {}\n", error.to_string().trim_end()),
    }
}

/// The reference helm (`$FERROFLUX_HELM` or `hack/build-helm.sh`'s cache); `None` only
/// with `FERROFLUX_SKIP_HELM` set: a missing helm fails the live comparison.
fn helm_binary() -> Option<PathBuf> {
    if std::env::var_os("FERROFLUX_SKIP_HELM").is_some() {
        return None;
    }
    Some(ferroflux_testkit::tools::helm())
}

/// helm's result: stdout, or its error without the CLI's `--debug` hint.
fn helm(binary: &Path, case: &Case) -> String {
    let output = Command::new(binary)
        .arg("template")
        .args(&case.args)
        .output()
        .expect("helm runs");
    if output.status.success() {
        return String::from_utf8_lossy(&output.stdout).into_owned();
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.strip_suffix("\n").unwrap_or(&stderr);
    let stderr = stderr
        .strip_suffix("\n\nUse --debug flag to render out invalid YAML")
        .unwrap_or(stderr);
    format!(
        "{}\n",
        stderr
            .lines()
            .filter(|l| !l.starts_with("WARNING") && !l.contains("Warning:"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn expected_path(case: &Case) -> PathBuf {
    root()
        .join("tests/expected")
        .join(format!("{}.txt", case.name))
}

fn report(failures: &[String], total: usize) {
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn difference(case: &str, expected: &str, actual: &str) -> String {
    let diff = similar::TextDiff::from_lines(expected, actual);
    format!("--- {case}\n{}", diff.unified_diff().context_radius(2))
}

#[test]
fn recorded_helm_output_matches() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let binary = if update {
        Some(helm_binary().expect("UPDATE_EXPECT needs helm (hack/build-helm.sh)"))
    } else {
        None
    };
    let known = known_differences();
    let all = cases();
    let mut failures = Vec::new();
    for case in &all {
        let path = expected_path(case);
        if let Some(binary) = &binary {
            std::fs::create_dir_all(path.parent().expect("expected/ has a parent"))
                .expect("expected/ is writable");
            std::fs::write(&path, helm(binary, case)).expect("expectation is writable");
        }
        if known.contains(&case.name) {
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is recorded (UPDATE_EXPECT=1)", path.display()));
        let actual = ours(case);
        if expected != actual {
            failures.push(difference(&case.name, &expected, &actual));
        }
    }
    report(&failures, all.len());
}

#[test]
fn live_helm_agrees() {
    let Some(binary) = helm_binary() else {
        eprintln!("FERROFLUX_SKIP_HELM is set; skipping the live comparison");
        return;
    };
    let known = known_differences();
    let all = cases();
    let mut failures = Vec::new();
    for case in all.iter().filter(|c| !known.contains(&c.name)) {
        let (expected, actual) = (helm(&binary, case), ours(case));
        if expected != actual {
            failures.push(difference(&case.name, &expected, &actual));
        }
    }
    report(&failures, all.len());
}
