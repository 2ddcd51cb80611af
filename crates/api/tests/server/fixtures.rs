//! Every Flux object of the shared fixture repositories is accepted by the API server and
//! survives the round trip (see `objects::check_object`).
//!
//! Files a `kustomization.yaml` uses as `patches` are partial objects: they are merged onto
//! the fixture object of the same kind and name, as the overlay would render them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::json::{merge_patch, report};
use crate::kinds;
use crate::objects::check_object;

/// The repositories walked, under the fixtures directory.
const REPOSITORIES: &[&str] = &["flux2-kustomize-helm-example", "podinfo-kustomize"];

fn fixtures_dir() -> PathBuf {
    std::env::var_os("FERROFLUX_FIXTURES_DIR")
        .map_or_else(|| PathBuf::from("/work/shared/fixtures"), PathBuf::from)
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing fixtures in {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            out.push(path);
        }
    }
}

fn documents(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", path.display()));
    documents.into_iter().filter(|d| !d.is_null()).collect()
}

fn is_flux(document: &Value) -> bool {
    document["apiVersion"]
        .as_str()
        .and_then(|api_version| api_version.split_once('/'))
        .is_some_and(|(group, _)| group.ends_with("toolkit.fluxcd.io"))
}

/// Files that some `kustomization.yaml` applies as a patch.
fn patch_files(files: &[PathBuf]) -> HashSet<PathBuf> {
    let mut patches = HashSet::new();
    for file in files.iter().filter(|f| f.ends_with("kustomization.yaml")) {
        let dir = file.parent().expect("a file has a directory");
        for document in documents(file) {
            let listed = document["patches"].as_array().into_iter().flatten();
            for path in listed.filter_map(|patch| patch["path"].as_str()) {
                patches.insert(dir.join(path));
            }
        }
    }
    patches
}

/// `(origin, object)` for every Flux object of the fixtures, patches merged onto their base.
fn flux_objects() -> Vec<(String, Value)> {
    let root = fixtures_dir();
    let mut files = Vec::new();
    for repository in REPOSITORIES {
        yaml_files(&root.join(repository), &mut files);
    }
    let patches = patch_files(&files);
    let mut bases = Vec::new();
    let mut partial = Vec::new();
    for file in &files {
        let origin = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (index, document) in documents(file).into_iter().enumerate() {
            if is_flux(&document) {
                let entry = (format!("{origin}#{index}"), document);
                if patches.contains(file) {
                    partial.push(entry);
                } else {
                    bases.push(entry);
                }
            }
        }
    }
    let mut objects = bases.clone();
    for (origin, patch) in partial {
        let (base_origin, mut object) = bases
            .iter()
            .find(|(_, base)| {
                base["kind"] == patch["kind"]
                    && base["metadata"]["name"] == patch["metadata"]["name"]
            })
            .cloned()
            .unwrap_or_else(|| panic!("{origin}: no fixture object this patch applies to"));
        merge_patch(&mut object, &patch);
        objects.push((format!("{base_origin} patched by {origin}"), object));
    }
    objects
}

/// Every Flux object of the fixture repositories (`flux2-kustomize-helm-example`,
/// `podinfo-kustomize`) is accepted, keeps every field and round-trips through Rust.
#[tokio::test]
async fn fixture_objects_are_accepted_and_round_trip() {
    let objects = flux_objects();
    assert!(
        objects.len() >= 10,
        "expected the Flux objects of the example repositories under {}, found {}",
        fixtures_dir().display(),
        objects.len()
    );
    let cluster = Cluster::new("api-fixtures").await;
    let mut failures = Vec::new();
    for (origin, object) in &objects {
        let kind_name = object["kind"].as_str().expect("Flux objects have a kind");
        let kind = kinds::by_name(kind_name);
        let name = object["metadata"]["name"]
            .as_str()
            .expect("objects have a name");
        let problems = check_object(&cluster, &kind, object, name).await;
        if !problems.is_empty() {
            failures.push(report(origin, &problems));
        }
        // Overlays reuse names (two `apps` Kustomizations): one object at a time.
        cluster.delete(&kind, name).await;
    }
    cluster.finish().await;
    assert!(
        failures.is_empty(),
        "{} of {} fixture objects failed:\n{}",
        failures.len(),
        objects.len(),
        failures.join("\n")
    );
    eprintln!("checked {} Flux objects from the fixtures", objects.len());
}
