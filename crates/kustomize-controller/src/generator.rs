//! Flux's kustomization generator: use the directory's kustomization file, or make one from
//! the plain manifests in it, then overlay the Kustomization's spec (targetNamespace,
//! namePrefix/nameSuffix, patches, images, components) before building.

use std::path::{Path, PathBuf};

use ferroflux_api::kustomize::v1::KustomizationSpec;
use serde_json::{Map, Value, json};

/// The file names kustomize recognises, in its order of preference.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Why the kustomization could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A manifest or the kustomization file is not valid YAML.
    #[error("failed to decode Kubernetes YAML from {path}: {message}")]
    Decode {
        /// The file, relative to the artifact root.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A component path is not local and relative.
    #[error("component path '{0}' must be local and relative")]
    Component(String),
}

/// A YAML parse error as `line N: message`.
pub fn yaml_error(error: &ferroflux_kustomize::yaml::ParseError) -> String {
    format!("line {}: {}", error.line, error.message)
}

/// The kustomization file present in `dir`, if any.
pub fn existing_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// Makes sure `dir` has a kustomization file reflecting `spec` and returns its path.
pub fn prepare(
    dir: &Path,
    root: &Path,
    spec: &KustomizationSpec,
) -> Result<PathBuf, GenerateError> {
    let relative = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let (path, mut kustomization) = if let Some(path) = existing_file(dir) {
        let text = std::fs::read_to_string(&path).map_err(|source| GenerateError::Io {
            action: "reading",
            path: relative(&path),
            source,
        })?;
        let documents = ferroflux_kustomize::yaml::parse_documents(&text).map_err(|e| {
            GenerateError::Decode {
                path: relative(&path),
                message: yaml_error(&e),
            }
        })?;
        let value = documents.into_iter().next().unwrap_or_else(|| json!({}));
        (path, value)
    } else {
        let resources = scan(dir, dir, root)?;
        let value = json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        });
        (dir.join("kustomization.yaml"), value)
    };
    let map = match &mut kustomization {
        Value::Object(map) => map,
        other => {
            *other = json!({});
            other.as_object_mut().expect("just made an object")
        }
    };
    overlay(map, dir, spec)?;
    let text = ferroflux_kustomize::yaml::to_yaml(&kustomization);
    std::fs::write(&path, text).map_err(|source| GenerateError::Io {
        action: "writing",
        path: relative(&path),
        source,
    })?;
    Ok(path)
}

/// Every manifest file below `dir` (as `./relative/path`), and every subdirectory with its
/// own kustomization file (which is not descended into), sorted as a directory walk.
fn scan(base: &Path, dir: &Path, root: &Path) -> Result<Vec<String>, GenerateError> {
    let io = |path: &Path| {
        let path = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        move |source| GenerateError::Io {
            action: "reading",
            path,
            source,
        }
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.path();
        let file_type = entry.file_type().map_err(io(&path))?;
        let relative = format!("./{}", path.strip_prefix(base).unwrap_or(&path).display());
        if file_type.is_dir() {
            if existing_file(&path).is_some() {
                found.push(relative);
            } else {
                found.extend(scan(base, &path, root)?);
            }
            continue;
        }
        let is_manifest = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !file_type.is_file() || !is_manifest {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        ferroflux_kustomize::yaml::parse_documents(&text).map_err(|e| GenerateError::Decode {
            path: path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string(),
            message: yaml_error(&e),
        })?;
        found.push(relative);
    }
    Ok(found)
}

fn overlay(
    map: &mut Map<String, Value>,
    dir: &Path,
    spec: &KustomizationSpec,
) -> Result<(), GenerateError> {
    if let Some(namespace) = spec.target_namespace.as_ref().filter(|n| !n.is_empty()) {
        map.insert("namespace".into(), json!(namespace));
    }
    if let Some(prefix) = spec.name_prefix.as_ref().filter(|n| !n.is_empty()) {
        map.insert("namePrefix".into(), json!(prefix));
    }
    if let Some(suffix) = spec.name_suffix.as_ref().filter(|n| !n.is_empty()) {
        map.insert("nameSuffix".into(), json!(suffix));
    }
    for patch in spec.patches.iter().flatten() {
        let mut entry = json!({"patch": patch.patch});
        if let Some(target) = &patch.target {
            entry["target"] = serde_json::to_value(target).unwrap_or_default();
        }
        push(map, "patches", entry);
    }
    for component in spec.components.iter().flatten() {
        let path = Path::new(component);
        if path.is_absolute() || component.contains("://") {
            return Err(GenerateError::Component(component.clone()));
        }
        if spec.ignore_missing_components.unwrap_or(false) && !dir.join(path).exists() {
            continue;
        }
        push(map, "components", json!(component));
    }
    for image in spec.images.iter().flatten() {
        let entry = serde_json::to_value(image).unwrap_or_default();
        let images = map.entry("images").or_insert_with(|| json!([]));
        if let Some(list) = images.as_array_mut() {
            match list
                .iter_mut()
                .find(|existing| existing.get("name") == Some(&json!(image.name)))
            {
                Some(existing) => *existing = entry,
                None => list.push(entry),
            }
        }
    }
    if let Some(options) = spec.build_metadata.as_ref().filter(|o| !o.is_empty()) {
        map.insert(
            "buildMetadata".into(),
            serde_json::to_value(options).unwrap_or_default(),
        );
    }
    Ok(())
}

fn push(map: &mut Map<String, Value>, key: &str, value: Value) {
    let list = map.entry(key).or_insert_with(|| json!([]));
    if let Some(list) = list.as_array_mut() {
        list.push(value);
    } else {
        *list = json!([value]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferroflux_api::meta::{Image, Patch, Selector};

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn generates_from_plain_manifests_and_nested_kustomizations() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        write(
            dir,
            "b/deploy.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        );
        write(
            dir,
            "a.yml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        );
        write(dir, "c/kustomization.yaml", "resources: []\n");
        write(
            dir,
            "c/inner.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        );
        write(dir, "notes.txt", "ignored");
        let spec = KustomizationSpec {
            target_namespace: Some("apps".into()),
            name_prefix: Some("p-".into()),
            ..Default::default()
        };
        let path = prepare(dir, dir, &spec).unwrap();
        let value =
            &ferroflux_kustomize::yaml::parse_documents(&std::fs::read_to_string(path).unwrap())
                .unwrap()[0];
        assert_eq!(
            value["resources"],
            json!(["./a.yml", "./b/deploy.yaml", "./c"])
        );
        assert_eq!(value["namespace"], json!("apps"));
        assert_eq!(value["namePrefix"], json!("p-"));
    }

    #[test]
    fn overlays_patches_images_and_components_on_an_existing_file() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        write(
            dir,
            "kustomization.yaml",
            "resources:\n- cm.yaml\nimages:\n- name: nginx\n  newTag: \"1.0\"\n",
        );
        write(dir, "comp/kustomization.yaml", "kind: Component\n");
        let spec = KustomizationSpec {
            images: Some(vec![
                Image {
                    name: "nginx".into(),
                    new_tag: Some("2.0".into()),
                    ..Default::default()
                },
                Image {
                    name: "redis".into(),
                    new_name: Some("valkey".into()),
                    ..Default::default()
                },
            ]),
            patches: Some(vec![Patch {
                patch: "- op: add\n  path: /x\n  value: 1".into(),
                target: Some(Selector {
                    kind: Some("ConfigMap".into()),
                    ..Default::default()
                }),
            }]),
            components: Some(vec!["comp".into(), "missing".into()]),
            ignore_missing_components: Some(true),
            ..Default::default()
        };
        let path = prepare(dir, dir, &spec).unwrap();
        let value =
            &ferroflux_kustomize::yaml::parse_documents(&std::fs::read_to_string(path).unwrap())
                .unwrap()[0];
        assert_eq!(
            value["images"],
            json!([{"name": "nginx", "newTag": "2.0"}, {"name": "redis", "newName": "valkey"}])
        );
        assert_eq!(value["patches"][0]["target"], json!({"kind": "ConfigMap"}));
        assert_eq!(value["components"], json!(["comp"]));
    }

    #[test]
    fn invalid_yaml_names_the_file() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "apps/bad.yaml", "a: [unclosed\n");
        let error = prepare(root.path(), root.path(), &KustomizationSpec::default()).unwrap_err();
        assert!(error.to_string().contains("apps/bad.yaml"), "{error}");
    }
}
