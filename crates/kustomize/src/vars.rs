//! Legacy `vars`: `$(NAME)` placeholders in selected fields, replaced by a field of a
//! named resource.

use serde_json::Value;

use crate::Error;
use crate::fieldspec::{FieldSpec, apply_specs};
use crate::resource::Resource;

/// Fields where kustomize looks for `$(VAR)` by default.
pub fn default_var_references() -> Vec<FieldSpec> {
    let rows: &[(&str, &str)] = &[
        ("", "spec/template/spec/containers/args"),
        ("", "spec/template/spec/containers/command"),
        ("", "spec/template/spec/containers/env/value"),
        ("", "spec/template/spec/initContainers/args"),
        ("", "spec/template/spec/initContainers/command"),
        ("", "spec/template/spec/initContainers/env/value"),
        ("Pod", "spec/containers/args"),
        ("Pod", "spec/containers/command"),
        ("Pod", "spec/containers/env/value"),
        ("Pod", "spec/initContainers/args"),
        ("Pod", "spec/initContainers/command"),
        ("Pod", "spec/initContainers/env/value"),
        (
            "CronJob",
            "spec/jobTemplate/spec/template/spec/containers/args",
        ),
        (
            "CronJob",
            "spec/jobTemplate/spec/template/spec/containers/command",
        ),
        (
            "CronJob",
            "spec/jobTemplate/spec/template/spec/containers/env/value",
        ),
        (
            "CronJob",
            "spec/jobTemplate/spec/template/spec/initContainers/args",
        ),
        (
            "CronJob",
            "spec/jobTemplate/spec/template/spec/initContainers/command",
        ),
        (
            "CronJob",
            "spec/jobTemplate/spec/template/spec/initContainers/env/value",
        ),
        ("Ingress", "spec/rules/host"),
        ("Ingress", "spec/tls/hosts"),
        ("Ingress", "spec/tls/secretName"),
        ("Ingress", "metadata/annotations"),
        ("", "spec/volumes/configMap/name"),
        ("", "spec/volumes/secret/secretName"),
    ];
    rows.iter()
        .map(|(kind, path)| FieldSpec::parse_compact(kind, path, false))
        .collect()
}

/// One declared var, resolved to its value.
struct Resolved {
    name: String,
    value: Value,
}

fn resolve_var(var: &Value, resources: &[Resource]) -> Result<Resolved, Error> {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or_default().to_owned();
    let name = text(var.get("name"));
    let object_ref = var.get("objref").cloned().unwrap_or(Value::Null);
    let kind = text(object_ref.get("kind"));
    let target_name = text(object_ref.get("name"));
    let api_version = text(object_ref.get("apiVersion"));
    let field = var
        .get("fieldref")
        .and_then(|field| field.get("fieldPath"))
        .and_then(Value::as_str)
        .unwrap_or("metadata.name");
    let matches: Vec<&Resource> = resources
        .iter()
        .filter(|resource| {
            let original = resource.original_id();
            (resource.kind() == kind || original.gvk.kind == kind)
                && (original.name == target_name || resource.name() == target_name)
                && (api_version.is_empty() || resource.api_version() == api_version)
        })
        .collect();
    let [resource] = matches.as_slice() else {
        return Err(Error::build(format!(
            "var '{name}' cannot be mapped to a field in the set of known resources"
        )));
    };
    // `spec.ports[0].port` addresses list elements with brackets.
    let mut pointer = String::new();
    for part in field.replace('[', ".").replace(']', "").split('.') {
        if !part.is_empty() {
            pointer.push('/');
            pointer.push_str(part);
        }
    }
    let value = resource
        .object
        .pointer(&pointer)
        .cloned()
        .ok_or_else(|| Error::build(format!("var '{name}': field '{field}' not found")))?;
    Ok(Resolved { name, value })
}

fn substitute(text: &str, vars: &[Resolved]) -> Value {
    for var in vars {
        if text == format!("$({})", var.name) {
            return var.value.clone();
        }
    }
    let mut result = text.to_owned();
    for var in vars {
        let replacement = match &var.value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        result = result.replace(&format!("$({})", var.name), &replacement);
    }
    Value::String(result)
}

fn replace_in(value: &mut Value, vars: &[Resolved]) {
    match value {
        Value::String(text) => *value = substitute(text, vars),
        Value::Array(items) => items.iter_mut().for_each(|item| replace_in(item, vars)),
        Value::Object(map) => map.values_mut().for_each(|item| replace_in(item, vars)),
        _ => {}
    }
}

/// Resolves all vars and substitutes them in the var-reference fields.
pub fn resolve(
    resources: &mut [Resource],
    vars: &[Value],
    specs: &[FieldSpec],
) -> Result<(), Error> {
    if vars.is_empty() {
        return Ok(());
    }
    let resolved: Vec<Resolved> = vars
        .iter()
        .map(|var| resolve_var(var, resources))
        .collect::<Result<_, _>>()?;
    for resource in resources.iter_mut() {
        let gvk = resource.gvk();
        apply_specs(&mut resource.object, &gvk, specs, &mut |value| {
            replace_in(value, &resolved);
            Ok(())
        })?;
    }
    Ok(())
}
