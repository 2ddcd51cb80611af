//! Shared helpers of the conformance test binaries.

use std::path::{Path, PathBuf};

use ferroflux_kustomize::{BuildOptions, LoadRestrictions};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every case directory under tests/cases, sorted by name.
pub fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(manifest_dir().join("tests/cases"))
        .expect("tests/cases must exist")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The directory a case builds: `input/` when present (cases that need files outside
/// their root keep them beside it), else the case directory itself.
pub fn build_dir(case: &Path) -> PathBuf {
    let input = case.join("input");
    if input.is_dir() {
        input
    } else {
        case.to_owned()
    }
}

/// Options a case asks for through marker files.
pub fn options_for(case: &Path) -> BuildOptions {
    let load_restrictor = if case.join("load-restrictor-none").exists() {
        LoadRestrictions::None
    } else {
        LoadRestrictions::RootOnly
    };
    BuildOptions {
        load_restrictor,
        allow_remote: false,
    }
}

/// The kustomize flags matching `options_for`.
pub fn kubectl_flags(case: &Path) -> Vec<&'static str> {
    if case.join("load-restrictor-none").exists() {
        vec!["--load-restrictor=LoadRestrictionsNone"]
    } else {
        Vec::new()
    }
}

/// `case name -> reason` from tests/known-failures.txt.
pub fn known_failures() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(manifest_dir().join("tests/known-failures.txt"))
        .unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (name, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            (name.to_owned(), reason.trim().to_owned())
        })
        .collect()
}

pub fn unified_diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected (kubectl kustomize)", "actual (ferroflux)")
        .to_string()
}

/// The real-repository fixtures (read in place), if the shared directory is present.
pub fn fixture_dirs() -> Vec<PathBuf> {
    let root = manifest_dir().join("../../../shared/fixtures");
    let mut result = Vec::new();
    for repository in ["podinfo-kustomize", "flux2-kustomize-helm-example"] {
        collect_kustomizations(&root.join(repository), &mut result);
    }
    result.sort();
    result
}

fn collect_kustomizations(dir: &Path, result: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    if dir.join("kustomization.yaml").is_file()
        || dir.join("kustomization.yml").is_file()
        || dir.join("Kustomization").is_file()
    {
        result.push(dir.to_owned());
    }
    for entry in entries.filter_map(Result::ok) {
        if entry.path().is_dir() {
            collect_kustomizations(&entry.path(), result);
        }
    }
}

/// File name under tests/fixtures-expected for a fixture directory.
pub fn fixture_key(dir: &Path) -> String {
    let text = dir.to_string_lossy();
    let relative = text.split("fixtures/").last().unwrap_or(&text);
    format!("{}.yaml", relative.replace('/', "__"))
}
