//! Field specs: "which field of which kinds" a transformer touches, and the walker that
//! visits those fields.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::Error;
use crate::resid::Gvk;

/// A path (slash-separated, `\/` escapes a slash, `[]` marks a list) in resources whose
/// group/version/kind match; `create` adds the field when missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub path: String,
    #[serde(default, rename = "create")]
    pub create: bool,
}

impl FieldSpec {
    pub fn gvk(&self) -> Gvk {
        Gvk {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
        }
    }

    /// Builds a spec from the compact table form `kind[:group[:version]]` used below.
    pub fn parse_compact(selector: &str, path: &str, create: bool) -> Self {
        let mut parts = selector.split(':');
        let kind = parts.next().unwrap_or_default().to_owned();
        let group = parts.next().unwrap_or_default().to_owned();
        let version = parts.next().unwrap_or_default().to_owned();
        Self {
            group,
            version,
            kind,
            path: path.to_owned(),
            create,
        }
    }

    pub fn applies_to(&self, gvk: &Gvk) -> bool {
        gvk.is_selected_by(&self.gvk())
    }
}

/// Splits a field path on unescaped slashes.
pub fn split_path(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(character) = chars.next() {
        match character {
            '\\' if chars.peek() == Some(&'/') => {
                current.push('/');
                chars.next();
            }
            '/' => parts.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    parts.push(current);
    parts
}

/// Calls `visit` on every value the path reaches inside `object`. Lists met on the way
/// are entered element by element. With `create`, missing maps on the way and the final
/// field (as `Value::Null`) are added first.
pub fn visit_path(
    object: &mut Value,
    path: &[String],
    create: bool,
    visit: &mut dyn FnMut(&mut Value) -> Result<(), Error>,
) -> Result<(), Error> {
    let Some((head, rest)) = path.split_first() else {
        return visit(object);
    };
    if let Value::Array(items) = object {
        for item in items {
            visit_path(item, path, create, visit)?;
        }
        return Ok(());
    }
    let (name, is_list) = match head.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (head.as_str(), false),
    };
    let Value::Object(map) = object else {
        return Ok(());
    };
    if !map.contains_key(name) {
        if !create {
            return Ok(());
        }
        let fresh = if rest.is_empty() {
            Value::Null
        } else if is_list {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        };
        map.insert(name.to_owned(), fresh);
    }
    let Some(child) = map.get_mut(name) else {
        return Ok(());
    };
    if child.is_null() && !rest.is_empty() {
        if !create {
            return Ok(());
        }
        *child = Value::Object(Map::new());
    }
    visit_path(child, rest, create, visit)
}

/// Applies `visit` to every field a list of specs selects in one resource.
pub fn apply_specs(
    object: &mut Value,
    gvk: &Gvk,
    specs: &[FieldSpec],
    visit: &mut dyn FnMut(&mut Value) -> Result<(), Error>,
) -> Result<(), Error> {
    for spec in specs.iter().filter(|spec| spec.applies_to(gvk)) {
        visit_path(object, &split_path(&spec.path), spec.create, visit)?;
    }
    Ok(())
}

/// Merges spec lists the way kustomize's `FsSlice.MergeAll` does: same gvk and path
/// are one spec (create may not conflict).
pub fn merge_specs(base: &mut Vec<FieldSpec>, extra: &[FieldSpec]) {
    for spec in extra {
        if !base
            .iter()
            .any(|existing| existing.gvk() == spec.gvk() && existing.path == spec.path)
        {
            base.push(spec.clone());
        }
    }
}
