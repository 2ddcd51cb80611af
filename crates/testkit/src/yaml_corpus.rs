//! The YAML files of the repository's test suites and of ../shared/fixtures: a corpus of real
//! manifests, kustomizations, values files and charts for parser tests.

use std::path::{Path, PathBuf};

/// Every `*.yaml`, `*.yml` and `Kustomization` file under the kustomize and Helm test suites
/// and the shared fixtures (paths relative to this workspace's `crates/` directory).
pub fn files() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for dir in ["kustomize/tests", "helm/tests", "../../shared/fixtures"] {
        walk(&crates.join(dir), &mut found);
    }
    found.sort();
    found
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
            || path.file_name().is_some_and(|name| name == "Kustomization")
        {
            found.push(path);
        }
    }
}
