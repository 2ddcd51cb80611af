//! Drift detection (flux-api.md §5.6): each object of the release manifest is dry-run
//! applied (server-side, field manager `helm-controller`, forced) and compared with the
//! live object, minus `driftDetection.ignore` paths and objects labelled or annotated
//! `helm.toolkit.fluxcd.io/driftDetection: disabled`.

use ferroflux_api::meta::IgnoreRule;
use ferroflux_runtime::ssa::ObjectId;
use kube::api::{Patch, PatchParams};
use serde_json::Value;

use crate::actions::Helm;

const DISABLED_KEY: &str = "helm.toolkit.fluxcd.io/driftDetection";

/// One drifted object: its subject and what happened (`changed`, `removed`).
pub type Drift = (String, &'static str);

fn disabled(object: &Value) -> bool {
    ["labels", "annotations"].iter().any(|field| {
        object
            .pointer(&format!("/metadata/{field}"))
            .and_then(|m| m.get(DISABLED_KEY))
            .and_then(Value::as_str)
            == Some("disabled")
    })
}

fn targets(rule: &IgnoreRule, object: &Value) -> bool {
    let Some(target) = &rule.target else {
        return true;
    };
    let id = ObjectId::of(object);
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let version = api_version.rsplit_once('/').map_or(api_version, |(_, v)| v);
    let matches = |want: &Option<String>, have: &str| {
        want.as_deref().is_none_or(|w| w.is_empty() || w == have)
    };
    matches(&target.group, &id.group)
        && matches(&target.version, version)
        && matches(&target.kind, &id.kind)
        && matches(&target.namespace, &id.namespace)
        && matches(&target.name, &id.name)
}

/// Removes what never counts as drift: server-managed metadata, status, ignored paths.
fn normalize(mut object: Value, ignored: &[&str]) -> Value {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "managedFields",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "uid",
        ] {
            metadata.remove(key);
        }
    }
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    for pointer in ignored {
        if pointer.is_empty() {
            return Value::Null;
        }
        remove_pointer(&mut object, pointer);
    }
    object
}

fn remove_pointer(object: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match object.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last);
        }
        Some(Value::Array(items)) => {
            if let Ok(index) = last.parse::<usize>()
                && index < items.len()
            {
                items.remove(index);
            }
        }
        _ => {}
    }
}

/// The drifted objects of `manifest`.
pub async fn detect(
    helm: &Helm,
    manifest: &str,
    ignore: &[IgnoreRule],
) -> Result<Vec<Drift>, String> {
    let mut drifts = Vec::new();
    for mut object in crate::render::objects_of(manifest)? {
        crate::actions::ownership(&mut object, &helm.name, &helm.namespace);
        if disabled(&object) {
            continue;
        }
        let ignored: Vec<&str> = ignore
            .iter()
            .filter(|rule| targets(rule, &object))
            .flat_map(|rule| rule.paths.iter().map(String::as_str))
            .collect();
        let subject = ObjectId::of(&object).subject();
        let (api, name) = crate::hooks::api_of(&helm.client, &helm.manager, &object).await?;
        let Some(live) = api.get_opt(&name).await.map_err(|e| e.to_string())? else {
            drifts.push((subject, "removed"));
            continue;
        };
        let params = PatchParams::apply(crate::source::MANAGER).force().dry_run();
        let dry = api
            .patch(&name, &params, &Patch::Apply(&object))
            .await
            .map_err(|e| format!("{subject} dry-run failed: {e}"))?;
        let live = normalize(serde_json::to_value(&live).unwrap_or_default(), &ignored);
        let dry = normalize(serde_json::to_value(&dry).unwrap_or_default(), &ignored);
        if live != dry {
            drifts.push((subject, "changed"));
        }
    }
    Ok(drifts)
}
