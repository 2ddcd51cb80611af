//! `spec.decryption` (provider `sops`), as Flux's decryptor: keys from the Secret named by
//! `secretRef` (`*.agekey` age identities, `*.asc` PGP private keys); SOPS files referenced
//! by secretGenerator `files`/`envs` and by patches are decrypted in place before the build;
//! encrypted objects and SOPS documents inside Secret `data` are decrypted after it.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ferroflux_api::kustomize::v1::{DecryptionProvider, Kustomization};
use kube::ResourceExt;
use serde_json::Value;

use crate::error::KustomizeError;
use crate::generator;
use crate::sops::{self, Format, Keys};

/// Objects annotated `kustomize.toolkit.fluxcd.io/decrypt: disabled` are left as they are.
pub const DECRYPT_KEY: &str = "kustomize.toolkit.fluxcd.io/decrypt";
/// Files larger than this are not decrypted (Flux's limit).
const MAX_FILE_SIZE: u64 = 5 << 20;

/// True when `object` opts out of decryption.
pub fn disabled(object: &Value) -> bool {
    object
        .pointer(&format!(
            "/metadata/annotations/{}",
            DECRYPT_KEY.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case("disabled"))
}

/// The keys of `spec.decryption.secretRef`, or `None` when decryption is not configured
/// for SOPS.
pub async fn keys(
    lookup: ferroflux_runtime::lookup::Lookup<'_>,
    object: &Kustomization,
) -> Result<Option<Keys>, KustomizeError> {
    let Some(decryption) = &object.spec.decryption else {
        return Ok(None);
    };
    let DecryptionProvider::Sops = decryption.provider;
    let mut keys = Keys::default();
    let Some(reference) = &decryption.secret_ref else {
        return Ok(Some(keys));
    };
    let namespace = object.namespace().unwrap_or_default();
    let secret = lookup
        .secret(&namespace, &reference.name)
        .await?
        .ok_or_else(|| KustomizeError::Build(format!("Secret \"{}\" not found", reference.name)))?;
    for (name, value) in secret.data.unwrap_or_default() {
        let imported = if sops::has_suffix(&name, ".asc") {
            keys.import_pgp(&value.0)
        } else if sops::has_suffix(&name, ".agekey") {
            keys.import_age(&String::from_utf8_lossy(&value.0))
        } else {
            continue;
        };
        imported.map_err(|e| {
            KustomizeError::Build(format!(
                "failed to import '{name}' data from sops decryption Secret '{namespace}/{}': {e}",
                reference.name
            ))
        })?;
    }
    Ok(Some(keys))
}

/// `namespace/name` of an object, for messages.
fn subject(object: &Value) -> (String, String, String) {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (
        text("/metadata/namespace"),
        text("/metadata/name"),
        text("/kind"),
    )
}

/// Decrypts a built object: the whole object when it is SOPS encrypted, else the SOPS
/// documents in a Secret's `data`.
pub fn decrypt_object(object: &mut Value, keys: &Keys) -> Result<(), KustomizeError> {
    if disabled(object) {
        return Ok(());
    }
    let (namespace, name, kind) = subject(object);
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // kustomize's GVK string: Kind.version.group, `[noGrp]` for the core group.
    let (group, version) = api_version
        .rsplit_once('/')
        .unwrap_or(("[noGrp]", &api_version));
    let gvk = format!("{kind}.{version}.{group}");
    let fail = |message: String| {
        KustomizeError::Build(format!("decryption failed for '{gvk}/{name}': {message}"))
    };
    let encrypted = object
        .get("sops")
        .and_then(|s| s.get("mac"))
        .is_some_and(|mac| !mac.is_null() && mac.as_str() != Some(""));
    if encrypted {
        *object = sops::decrypt_object(object, keys).map_err(|e| {
            fail(format!(
                "failed to decrypt and format '{namespace}/{name}' {kind} data: {e}"
            ))
        })?;
        return Ok(());
    }
    if kind != "Secret" {
        return Ok(());
    }
    let Some(data) = object.get_mut("data").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (key, value) in data.iter_mut() {
        let Some(bytes) = value.as_str().and_then(|v| STANDARD.decode(v).ok()) else {
            continue;
        };
        let Some(input) = Format::detect(&bytes) else {
            continue;
        };
        let output = Format::for_path(key);
        let plain = sops::decrypt_document(&bytes, input, output, keys, true).map_err(|e| {
            fail(format!(
                "failed to decrypt and format '{namespace}/{name}' Secret field '{key}': {e}"
            ))
        })?;
        *value = Value::String(STANDARD.encode(plain));
    }
    Ok(())
}

/// Decrypts, in place, the SOPS files the kustomizations under `dir` read through
/// secretGenerator `files`/`envs` and `patches` (Flux's `DecryptSources`).
pub fn decrypt_sources(root: &Path, dir: &Path, keys: &Keys) -> Result<(), KustomizeError> {
    let mut visited = BTreeSet::new();
    let mut decrypted = BTreeSet::new();
    visit(root, dir, keys, &mut visited, &mut decrypted)
        .map_err(|e| KustomizeError::Build(format!("error decrypting sources: {e}")))
}

/// Joins `relative` onto `base` without leaving `root`.
fn inside(root: &Path, base: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = base.to_path_buf();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::ParentDir => {
                path.pop();
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => path = root.to_path_buf(),
        }
    }
    path.starts_with(root).then_some(path)
}

fn visit(
    root: &Path,
    dir: &Path,
    keys: &Keys,
    visited: &mut BTreeSet<PathBuf>,
    decrypted: &mut BTreeSet<PathBuf>,
) -> Result<(), String> {
    if !visited.insert(dir.to_path_buf()) || !dir.is_dir() {
        return Ok(());
    }
    let Some(file) = generator::existing_file(dir) else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
    let kustomization = ferroflux_kustomize::yaml::parse_documents(&text)
        .ok()
        .and_then(|mut docs| docs.pop())
        .unwrap_or(Value::Null);
    let strings = |value: Option<&Value>| -> Vec<String> {
        value
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let mut targets: Vec<(String, Format)> = Vec::new();
    for generator in kustomization
        .get("secretGenerator")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for source in strings(generator.get("files")) {
            let (key, path) = source.split_once('=').unwrap_or((&source, &source));
            targets.push((path.to_owned(), Format::for_path(key)));
        }
        for env in strings(generator.get("envs")) {
            let format = match Format::for_path(&env) {
                Format::Binary => Format::Dotenv,
                other => other,
            };
            targets.push((env, format));
        }
    }
    for patch in kustomization
        .get("patches")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(path) = patch.get("path").and_then(Value::as_str)
            && !path.contains("://")
        {
            targets.push((path.to_owned(), Format::for_path(path)));
        }
    }
    for (path, format) in targets {
        let Some(path) = inside(root, dir, &path) else {
            return Err(format!("path '{path}' is outside the artifact"));
        };
        if decrypted.insert(path.clone()) {
            decrypt_file(root, &path, format, keys)?;
        }
    }
    let mut children = strings(kustomization.get("resources"));
    children.extend(strings(kustomization.get("components")));
    for child in children {
        if let Some(path) = inside(root, dir, &child) {
            visit(root, &path, keys, visited, decrypted)?;
        }
    }
    Ok(())
}

fn decrypt_file(root: &Path, path: &Path, format: Format, keys: &Keys) -> Result<(), String> {
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.is_file() {
        return Err(format!(
            "{shown}: cannot decrypt irregular file as it has file mode type bits set"
        ));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(format!(
            "{shown}: cannot decrypt file with size ({} bytes) exceeding limit ({MAX_FILE_SIZE})",
            meta.len()
        ));
    }
    let data = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    let marker = format.marker();
    if !data.windows(marker.len()).any(|w| w == marker) {
        return Ok(());
    }
    let plain = sops::decrypt_document(&data, format, format, keys, true)
        .map_err(|e| format!("{shown}: {e}"))?;
    std::fs::write(path, plain).map_err(|e| format!("{shown}: {e}"))
}
