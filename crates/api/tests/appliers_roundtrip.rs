//! Kustomization and HelmRelease survive YAML → Rust → JSON unchanged: the complete
//! examples under `tests/examples/`, and every Flux object of the
//! flux2-kustomize-helm-example repository (with the schema defaults the API server would
//! add).

#[path = "support/round_trip.rs"]
mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use ferroflux_api::helm::v2::{HelmRelease, ReleaseStrategyName};
use ferroflux_api::kustomize::v1::Kustomization;
use ferroflux_api::source::v1::{GitRepository, HelmRepository, OCIRepository};
use kube::CustomResourceExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[test]
fn kustomization_round_trips() {
    support::assert_example::<Kustomization>("kustomization.yaml");
}

#[test]
fn helm_release_round_trips() {
    support::assert_example::<HelmRelease>("helmrelease.yaml");
}

/// Schema defaults are applied when a manifest without them is deserialized.
#[test]
fn schema_defaults_apply_on_deserialize() {
    let ks: Kustomization = serde_saphyr::from_str(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: k\n\
         spec:\n  interval: 1m\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: g\n\
         \x20 postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: vars\n",
    )
    .expect("minimal Kustomization deserializes");
    let spec = serde_json::to_value(&ks.spec).expect("spec serializes");
    assert_eq!(spec["force"], false);
    assert_eq!(spec["postBuild"]["substituteFrom"][0]["optional"], false);

    let hr: HelmRelease = serde_saphyr::from_str(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: h\n\
         spec:\n  interval: 1m\n  chart:\n    spec:\n      chart: podinfo\n      sourceRef:\n\
         \x20       kind: HelmRepository\n        name: podinfo\n  uninstall: {}\n\
         \x20 install:\n    strategy:\n      name: RetryOnFailure\n",
    )
    .expect("minimal HelmRelease deserializes");
    let spec = serde_json::to_value(&hr.spec).expect("spec serializes");
    assert_eq!(spec["chart"]["spec"]["version"], "*");
    assert_eq!(spec["chart"]["spec"]["reconcileStrategy"], "ChartVersion");
    assert_eq!(spec["uninstall"]["deletionPropagation"], "background");
    assert_eq!(
        hr.spec.install.and_then(|i| i.strategy).map(|s| s.name),
        Some(ReleaseStrategyName::RetryOnFailure)
    );
}

/// The Flux example repository: where to find it, overridable for other checkouts.
fn example_repository() -> PathBuf {
    std::env::var_os("FERROFLUX_FLUX_EXAMPLE_DIR").map_or_else(
        || PathBuf::from("/work/shared/fixtures/flux2-kustomize-helm-example"),
        PathBuf::from,
    )
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
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

/// The documents of a multi-document YAML file, as text.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            let current = docs.last_mut().expect("at least one document");
            current.push_str(line);
            current.push('\n');
        }
    }
    docs
}

/// Files that kustomize overlays use as patches: partial objects, not manifests.
fn patch_files(files: &[(PathBuf, Vec<(String, Value)>)]) -> HashSet<PathBuf> {
    let mut patches = HashSet::new();
    for (path, docs) in files {
        for (_, doc) in docs {
            if doc["apiVersion"].as_str().unwrap_or_default() != "kustomize.config.k8s.io/v1beta1" {
                continue;
            }
            let dir = path.parent().expect("file has a directory");
            for patch in doc["patches"].as_array().into_iter().flatten() {
                if let Some(file) = patch["path"].as_str() {
                    patches.insert(dir.join(file));
                }
            }
        }
    }
    patches
}

/// Round-trips one document through `T`; the result must equal the document with the
/// CRD's defaults filled in.
fn check<T>(origin: &str, yaml: &str)
where
    T: CustomResourceExt + Serialize + DeserializeOwned,
{
    let (mut expected, actual) = support::round_trip::<T>(origin, yaml);
    let schema = support::schema_of::<T>();
    if let Some(spec_schema) = schema.properties.as_ref().and_then(|p| p.get("spec")) {
        support::apply_defaults(spec_schema, &mut expected["spec"]);
    }
    assert_eq!(actual, expected, "{origin}: round trip changed the object");
}

#[test]
fn flux_example_repository_round_trips() {
    let root = example_repository();
    if !root.is_dir() {
        eprintln!(
            "skipping: {} not found (set FERROFLUX_FLUX_EXAMPLE_DIR)",
            root.display()
        );
        return;
    }
    let mut paths = Vec::new();
    yaml_files(&root, &mut paths);
    let files: Vec<(PathBuf, Vec<(String, Value)>)> = paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable fixture");
            let docs = documents(&text)
                .into_iter()
                .filter_map(|doc| {
                    let value: Value = serde_saphyr::from_str(&doc)
                        .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", path.display()));
                    value.is_object().then_some((doc, value))
                })
                .collect();
            (path, docs)
        })
        .collect();
    let patches = patch_files(&files);

    let mut checked: Vec<String> = Vec::new();
    for (path, docs) in &files {
        if patches.contains(path) {
            continue;
        }
        for (yaml, value) in docs {
            let api_version = value["apiVersion"].as_str().unwrap_or_default();
            let kind = value["kind"].as_str().unwrap_or_default();
            let origin = format!("{} ({kind} {})", path.display(), value["metadata"]["name"]);
            match (api_version, kind) {
                ("kustomize.toolkit.fluxcd.io/v1", "Kustomization") => {
                    check::<Kustomization>(&origin, yaml);
                }
                ("helm.toolkit.fluxcd.io/v2", "HelmRelease") => check::<HelmRelease>(&origin, yaml),
                ("source.toolkit.fluxcd.io/v1", "GitRepository") => {
                    check::<GitRepository>(&origin, yaml);
                }
                ("source.toolkit.fluxcd.io/v1", "HelmRepository") => {
                    check::<HelmRepository>(&origin, yaml);
                }
                ("source.toolkit.fluxcd.io/v1", "OCIRepository") => {
                    check::<OCIRepository>(&origin, yaml);
                }
                _ => continue,
            }
            checked.push(kind.to_owned());
        }
    }
    for kind in ["Kustomization", "HelmRelease"] {
        assert!(
            checked.iter().any(|k| k == kind),
            "no {kind} found under {}",
            root.display()
        );
    }
    eprintln!("round-tripped {} Flux objects: {checked:?}", checked.len());
}
