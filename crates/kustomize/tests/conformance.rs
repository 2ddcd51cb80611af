//! Byte-for-byte conformance with `kubectl kustomize` (kustomize v5.5.0): every case under
//! tests/cases is built and compared with its recorded `expected.yaml`, or must fail when
//! the reference failed (`expected-error.txt`). Known gaps are listed in
//! tests/known-failures.txt with a reason; the suite reports any that started passing.

mod common;

use std::fmt::Write as _;

use common::{
    build_dir, case_dirs, fixture_dirs, fixture_key, known_failures, kubectl_flags, manifest_dir,
    options_for, unified_diff,
};

/// Outcome of one case: None when it matches, otherwise what went wrong.
fn check_case(case: &std::path::Path) -> Option<String> {
    let dir = build_dir(case);
    let result = ferroflux_kustomize::build_to_yaml(&dir, &options_for(case));
    if case.join("expected-error.txt").exists() {
        return match result {
            Err(_) => None,
            Ok(output) => Some(format!(
                "expected an error (kubectl kustomize {:?} failed), got output:\n{output}",
                kubectl_flags(case)
            )),
        };
    }
    let expected = std::fs::read_to_string(case.join("expected.yaml")).ok()?;
    match result {
        Ok(actual) if actual == expected => None,
        Ok(actual) => Some(unified_diff(&expected, &actual)),
        Err(error) => Some(format!("unexpected error: {error}")),
    }
}

#[test]
fn cases_match_kubectl_kustomize() {
    let known = known_failures();
    let mut report = String::new();
    let (mut passed, mut tolerated, mut failed) = (0, 0, 0);
    let mut fixed = Vec::new();
    for case in case_dirs() {
        let name = case
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_known = known.iter().any(|(known_name, _)| *known_name == name);
        match (check_case(&case), is_known) {
            (None, false) => passed += 1,
            (None, true) => fixed.push(name),
            (Some(_), true) => tolerated += 1,
            (Some(problem), false) => {
                failed += 1;
                let _ = writeln!(report, "=== case {name}\n{problem}");
            }
        }
    }
    println!("{passed} passed, {failed} failed, {tolerated} known failures");
    assert!(
        fixed.is_empty(),
        "known failures now pass, remove them from known-failures.txt: {fixed:?}"
    );
    assert!(failed == 0, "{failed} conformance cases differ:\n{report}");
}

#[test]
fn real_repositories_match_kubectl_kustomize() {
    let expected_dir = manifest_dir().join("tests/fixtures-expected");
    let mut report = String::new();
    for dir in fixture_dirs() {
        let Ok(expected) = std::fs::read_to_string(expected_dir.join(fixture_key(&dir))) else {
            continue;
        };
        match ferroflux_kustomize::build_to_yaml(
            &dir,
            &ferroflux_kustomize::BuildOptions::default(),
        ) {
            Ok(actual) if actual == expected => {}
            Ok(actual) => {
                let _ = writeln!(
                    report,
                    "=== {}\n{}",
                    dir.display(),
                    unified_diff(&expected, &actual)
                );
            }
            Err(error) => {
                let _ = writeln!(report, "=== {}\nerror: {error}", dir.display());
            }
        }
    }
    assert!(report.is_empty(), "fixture output differs:\n{report}");
}
