//! `ferroflux get all`: one table per Flux kind, like `flux get all`.

use anyhow::{Context, Result};
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use crate::client::describe;
use crate::kinds::{FluxKind, KINDS};
use crate::table;

/// The tables for every kind with objects in `namespace` (every namespace when `None`),
/// each followed by an empty line. Kinds whose CRD is not installed are left out.
pub async fn all(client: &Client, namespace: Option<&str>) -> Result<String> {
    let mut out = String::new();
    for kind in &KINDS {
        let Some(objects) = list(client, kind, namespace).await? else {
            continue;
        };
        if objects.is_empty() {
            continue;
        }
        out.push_str(&render(kind, &objects, namespace.is_none()));
        out.push('\n');
    }
    Ok(out)
}

/// The objects of one kind, or `None` when the API server does not serve the kind.
async fn list(
    client: &Client,
    kind: &FluxKind,
    namespace: Option<&str>,
) -> Result<Option<Vec<Value>>> {
    let resource = kind.api_resource();
    let api: Api<DynamicObject> = match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let list = match api.list(&ListParams::default()).await {
        Ok(list) => list,
        Err(kube::Error::Api(status)) if status.is_not_found() => return Ok(None),
        Err(error) => return Err(describe(error, &format!("listing {}", kind.plural))),
    };
    list.items
        .iter()
        .map(|object| serde_json::to_value(object).context("reading a listed object"))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// One kind's table, sorted by namespace and name.
fn render(kind: &FluxKind, objects: &[Value], all_namespaces: bool) -> String {
    let mut objects: Vec<&Value> = objects.iter().collect();
    objects.sort_by_key(|object| {
        let metadata = &object["metadata"];
        (
            metadata["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            metadata["name"].as_str().unwrap_or_default().to_owned(),
        )
    });
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|object| kind.row(object, all_namespaces))
        .collect();
    table::render(&kind.headers(all_namespaces), &rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sorts_by_namespace_then_name() {
        let receiver = |namespace: &str, name: &str| json!({"metadata": {"name": name, "namespace": namespace}, "spec": {}});
        let kind = KINDS.iter().find(|kind| kind.kind == "Receiver").unwrap();
        let objects = [receiver("b", "a"), receiver("a", "z"), receiver("a", "b")];
        let table = render(kind, &objects, true);
        let names: Vec<&str> = table
            .lines()
            .skip(1)
            .map(|line| line.split('\t').nth(1).unwrap().trim_end())
            .collect();
        assert_eq!(names, ["receiver/b", "receiver/z", "receiver/a"]);
    }
}
