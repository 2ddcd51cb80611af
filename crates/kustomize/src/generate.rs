//! configMapGenerator and secretGenerator, plus the content hash kustomize appends to
//! generated names.

use std::fmt::Write as _;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::kustomization::{GeneratorArgs, GeneratorOptions, Kustomization};
use crate::loader::Loader;
use crate::resmap::ResMap;
use crate::resource::{Behavior, Resource};

/// Runs both generators of a kustomization into the resource map.
pub fn run_generators(
    loader: &Loader,
    kustomization: &Kustomization,
    resources: &mut ResMap,
) -> Result<(), Error> {
    let global = kustomization.generator_options.clone().unwrap_or_default();
    for args in &kustomization.config_map_generator {
        let resource = generate(loader, args, &global, false)?;
        resources.absorb(resource, merge_generated)?;
    }
    for args in &kustomization.secret_generator {
        let resource = generate(loader, args, &global, true)?;
        resources.absorb(resource, merge_generated)?;
    }
    for entry in &kustomization.generators {
        run_generator_plugin(loader, entry, resources)?;
    }
    Ok(())
}

/// A `generators:` entry: ConfigMapGenerator or SecretGenerator written as YAML.
fn run_generator_plugin(loader: &Loader, entry: &str, resources: &mut ResMap) -> Result<(), Error> {
    let text = if entry.contains('\n') {
        entry.to_owned()
    } else {
        loader.read(entry)?
    };
    for config in loader.parse(entry, &text)? {
        let Value::Object(mut map) = config else {
            continue;
        };
        let kind = map
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let secret = match kind.as_str() {
            "ConfigMapGenerator" => false,
            "SecretGenerator" => true,
            other => {
                return Err(Error::Unsupported {
                    field: format!("generators: plugin kind '{other}'"),
                });
            }
        };
        let metadata = map.remove("metadata").unwrap_or(Value::Null);
        map.remove("apiVersion");
        map.remove("kind");
        for field in ["name", "namespace"] {
            if let Some(value) = metadata.get(field) {
                map.insert(field.to_owned(), value.clone());
            }
        }
        let args: GeneratorArgs = serde_json::from_value(Value::Object(map))
            .map_err(|error| Error::build(format!("invalid {kind} configuration: {error}")))?;
        let resource = generate(loader, &args, &GeneratorOptions::default(), secret)?;
        resources.absorb(resource, merge_generated)?;
    }
    Ok(())
}

fn merge_options(local: Option<&GeneratorOptions>, global: &GeneratorOptions) -> GeneratorOptions {
    let mut merged = global.clone();
    if let Some(local) = local {
        for (key, value) in &local.labels {
            merged.labels.retain(|(existing, _)| existing != key);
            merged.labels.push((key.clone(), value.clone()));
        }
        for (key, value) in &local.annotations {
            merged.annotations.retain(|(existing, _)| existing != key);
            merged.annotations.push((key.clone(), value.clone()));
        }
        if local.disable_name_suffix_hash.is_some() {
            merged.disable_name_suffix_hash = local.disable_name_suffix_hash;
        }
        if local.immutable.is_some() {
            merged.immutable = local.immutable;
        }
    }
    merged
}

fn remove_quotes(value: &str) -> &str {
    let bytes = value.as_bytes();
    if bytes.len() >= 2
        && (bytes[0] == b'"' || bytes[0] == b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
    {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

/// Collects key/value pairs from envs, literals and files, in kustomize's order.
fn pairs(loader: &Loader, args: &GeneratorArgs) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut result: Vec<(String, Vec<u8>)> = Vec::new();
    for env in &args.envs {
        let text = loader.read(env)?;
        for line in text.trim_start_matches('\u{feff}').lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line.split_once('=').unwrap_or((line, ""));
            result.push((key.to_owned(), value.as_bytes().to_vec()));
        }
    }
    for literal in &args.literals {
        let Some((key, value)) = literal.split_once('=').filter(|(key, _)| !key.is_empty()) else {
            return Err(Error::build(format!(
                "invalid literal source {literal}, expected key=value"
            )));
        };
        result.push((key.to_owned(), remove_quotes(value).as_bytes().to_vec()));
    }
    for file in &args.files {
        let (key, path) = match file.split_once('=') {
            Some((key, path)) => (key.to_owned(), path.to_owned()),
            None => (
                file.rsplit('/').next().unwrap_or(file).to_owned(),
                file.clone(),
            ),
        };
        result.push((key, loader.read_bytes(&path)?));
    }
    let mut seen = std::collections::HashSet::new();
    for (key, _) in &result {
        if !seen.insert(key.clone()) {
            return Err(Error::build(format!(
                "configmap {} illegally repeats the key `{key}`",
                args.name
            )));
        }
    }
    Ok(result)
}

fn generate(
    loader: &Loader,
    args: &GeneratorArgs,
    global: &GeneratorOptions,
    secret: bool,
) -> Result<Resource, Error> {
    let options = merge_options(args.options.as_ref(), global);
    let mut metadata = Map::new();
    metadata.insert("name".to_owned(), Value::String(args.name.clone()));
    if !args.namespace.is_empty() {
        metadata.insert(
            "namespace".to_owned(),
            Value::String(args.namespace.clone()),
        );
    }
    if !options.labels.is_empty() {
        metadata.insert("labels".to_owned(), string_map(&options.labels));
    }
    if !options.annotations.is_empty() {
        metadata.insert("annotations".to_owned(), string_map(&options.annotations));
    }
    let mut object = Map::new();
    object.insert("apiVersion".to_owned(), Value::String("v1".to_owned()));
    object.insert(
        "kind".to_owned(),
        Value::String(if secret { "Secret" } else { "ConfigMap" }.to_owned()),
    );
    object.insert("metadata".to_owned(), Value::Object(metadata));
    let mut data = Map::new();
    let mut binary = Map::new();
    for (key, bytes) in pairs(loader, args)? {
        match (secret, String::from_utf8(bytes)) {
            (false, Ok(text)) => {
                data.insert(key, Value::String(text));
            }
            (false, Err(error)) => {
                binary.insert(key, Value::String(base64_lines(error.as_bytes())));
            }
            (true, Ok(text)) => {
                data.insert(key, Value::String(base64_lines(text.as_bytes())));
            }
            (true, Err(error)) => {
                data.insert(key, Value::String(base64_lines(error.as_bytes())));
            }
        }
    }
    if !data.is_empty() {
        object.insert("data".to_owned(), Value::Object(data));
    }
    if !binary.is_empty() {
        object.insert("binaryData".to_owned(), Value::Object(binary));
    }
    if secret {
        let kind = if args.secret_type.is_empty() {
            "Opaque"
        } else {
            &args.secret_type
        };
        object.insert("type".to_owned(), Value::String(kind.to_owned()));
    }
    if options.immutable == Some(true) {
        object.insert("immutable".to_owned(), Value::Bool(true));
    }
    let mut resource = Resource::new(Value::Object(object));
    let kind = if secret {
        "SecretGenerator"
    } else {
        "ConfigMapGenerator"
    };
    resource.tracking.origin = Some(format!(
        "configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n",
        loader.origin_dir.join(&loader.kustomization_name).display()
    ));
    resource.tracking.needs_hash = options.disable_name_suffix_hash != Some(true);
    resource.tracking.behavior = Some(match args.behavior.as_str() {
        "" | "create" => Behavior::Create,
        "merge" => Behavior::Merge,
        "replace" => Behavior::Replace,
        other => {
            return Err(Error::build(format!(
                "unknown generator behavior '{other}'"
            )));
        }
    });
    Ok(resource)
}

fn string_map(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect(),
    )
}

/// `behavior: merge`: new data and metadata over the existing generated resource.
fn merge_generated(existing: &mut Resource, generated: &Resource) {
    for field in ["data", "binaryData"] {
        if let Some(Value::Object(new)) = generated.object.get(field)
            && let Value::Object(object) = &mut existing.object
        {
            let target = object
                .entry(field)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(target) = target {
                for (key, value) in new {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
    }
    for field in ["labels", "annotations"] {
        if let Some(Value::Object(new)) = generated.object.pointer(&format!("/metadata/{field}")) {
            let metadata = existing.metadata_mut();
            let target = metadata
                .entry(field)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(target) = target {
                for (key, value) in new {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
    }
    existing.tracking.needs_hash = generated.tracking.needs_hash;
}

/// go-yaml's binary encoding: base64 in 70-column lines, each ending in a newline once
/// the text is at least one full line long.
fn base64_lines(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let encoded = base64(bytes);
    if encoded.len() < LINE {
        return encoded;
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / LINE + 1);
    for chunk in encoded.as_bytes().chunks(LINE) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let triple = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for position in 0..4 {
            if position <= chunk.len() {
                out.push(char::from(
                    ALPHABET[((triple >> (18 - 6 * position)) & 63) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's encoding/json output for a value (sorted keys, HTML-safe escapes).
fn go_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                go_json_string(key, out);
                out.push(':');
                go_json(&map[key.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                go_json(item, out);
            }
            out.push(']');
        }
        Value::String(text) => go_json_string(text, out),
        other => out.push_str(&other.to_string()),
    }
}

fn go_json_string(text: &str, out: &mut String) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(character));
            }
            control if u32::from(control) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(control));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// kustomize's name hash of a ConfigMap or Secret.
pub fn content_hash(resource: &Resource) -> String {
    let object = &resource.object;
    let field = |pointer: &str| match object.pointer(pointer) {
        None => Value::String(String::new()),
        Some(value) => value.clone(),
    };
    let mut encoded = Map::new();
    // kustomize looks the name up as a single field called "metadata/name", which never
    // exists, so the name always hashes as an empty string.
    encoded.insert("name".to_owned(), Value::String(String::new()));
    encoded.insert("data".to_owned(), field("/data"));
    if resource.kind() == "Secret" {
        encoded.insert("kind".to_owned(), Value::String("Secret".to_owned()));
        encoded.insert("type".to_owned(), field("/type"));
        if let Some(Value::Object(string_data)) = object.get("stringData") {
            encoded.insert("stringData".to_owned(), Value::Object(string_data.clone()));
        }
    } else {
        encoded.insert("kind".to_owned(), Value::String("ConfigMap".to_owned()));
        if let Some(Value::Object(binary)) = object.get("binaryData") {
            encoded.insert("binaryData".to_owned(), Value::Object(binary.clone()));
        }
    }
    let mut text = String::new();
    go_json(&Value::Object(encoded), &mut text);
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    digest
        .chars()
        .take(10)
        .map(|character| match character {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            other => other,
        })
        .collect()
}
