//! Conformance of ferroflux-gotmpl with Go's text/template.
//!
//! `recorded_results_match` compares our output and errors with results recorded from Go
//! (no Go needed). `UPDATE_EXPECT=1` re-records them by running the Go program.
//! `live_go_agrees` compares directly with Go when a Go toolchain is on PATH.

mod cases;
mod go;
mod rust;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cases::{Case, Outcome};

/// Runs our implementation on a thread with a large stack: recursion cases nest deeply.
fn run_rust(cases: &[Case]) -> Vec<Outcome> {
    let cases = cases.to_vec();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || cases.iter().map(rust::run).collect())
        .expect("test thread starts")
        .join()
        .expect("no case panics")
}

fn all_cases() -> Vec<(std::path::PathBuf, Vec<Case>)> {
    cases::case_files()
        .into_iter()
        .map(|path| {
            let cases = cases::parse_case_file(&path);
            (path, cases)
        })
        .collect()
}

/// Compares outcomes; returns a report of unexpected differences and the pass count.
fn compare(
    ours: &[Outcome],
    reference: &BTreeMap<String, Outcome>,
    label: &str,
) -> (String, usize) {
    let known = cases::known_differences();
    let mut report = String::new();
    let mut passed = 0;
    for outcome in ours {
        let Some(expected) = reference.get(&outcome.name) else {
            let _ = writeln!(
                report,
                "{}: no {label} result recorded (run with UPDATE_EXPECT=1)",
                outcome.name
            );
            continue;
        };
        if outcome == expected {
            passed += 1;
        } else if !known.contains_key(&outcome.name) {
            let _ = writeln!(
                report,
                "{}:\n  {label:>6} output {:?}\n  {label:>6} error  {:?}\n    ours output {:?}\n    ours error  {:?}",
                outcome.name, expected.output, expected.error, outcome.output, outcome.error
            );
        }
    }
    (report, passed)
}

#[test]
fn recorded_results_match() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let mut report = String::new();
    let (mut passed, mut total) = (0, 0);
    let mut ids = std::collections::BTreeSet::new();
    for (path, cases) in all_cases() {
        for case in &cases {
            assert!(ids.insert(case.id.clone()), "duplicate case id {}", case.id);
        }
        let expected_path = cases::expected_path(&path);
        if update {
            cases::write_expected(&expected_path, &go::run(&cases));
        }
        let expected = cases::read_expected(&expected_path);
        let ours = run_rust(&cases);
        let (file_report, file_passed) = compare(&ours, &expected, "go");
        report.push_str(&file_report);
        passed += file_passed;
        total += cases.len();
    }
    eprintln!("conformance: {passed}/{total} cases identical to Go");
    assert!(
        report.is_empty(),
        "differences from recorded Go results:\n{report}"
    );
}

#[test]
fn live_go_agrees() {
    if std::env::var_os("FERROFLUX_SKIP_GO").is_some() || !go::available() {
        eprintln!("skipping: no Go toolchain on PATH");
        return;
    }
    let mut report = String::new();
    for (_, cases) in all_cases() {
        let reference: BTreeMap<String, Outcome> = go::run(&cases)
            .into_iter()
            .map(|o| (o.name.clone(), o))
            .collect();
        let (file_report, _) = compare(&run_rust(&cases), &reference, "go");
        report.push_str(&file_report);
    }
    assert!(report.is_empty(), "differences from live Go:\n{report}");
}
