//! Helm hooks: run in weight order, waited for (Jobs until complete, Pods until
//! succeeded), deleted according to their delete policies.

use std::time::{Duration, Instant};

use ferroflux_runtime::ssa::{ObjectId, ResourceManager};
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, PropagationPolicy};
use kube::{Api, Client};
use serde_json::Value;

use crate::storage::release::{self, HookRecord};

/// Runs the hooks of `event` in `hooks` (updating their `last_run`); the error names the
/// failed hook.
pub async fn run(
    client: &Client,
    manager: &ResourceManager,
    namespace: &str,
    hooks: &mut [HookRecord],
    event: &str,
    timeout: Duration,
) -> Result<(), String> {
    let mut selected: Vec<usize> = (0..hooks.len())
        .filter(|i| hooks[*i].events.iter().any(|e| e == event))
        .collect();
    selected.sort_by(|a, b| {
        hooks[*a]
            .weight
            .cmp(&hooks[*b].weight)
            .then_with(|| hooks[*a].name.cmp(&hooks[*b].name))
    });
    for &index in &selected {
        let hook = &mut hooks[index];
        let object = object_of(hook, namespace)?;
        if hook.delete_policies.is_empty()
            || hook
                .delete_policies
                .iter()
                .any(|p| p == "before-hook-creation")
        {
            delete(client, manager, &object).await?;
        }
        hook.last_run = release::HookExecution {
            started_at: release::now(),
            completed_at: String::new(),
            phase: "Running".to_owned(),
        };
        let applied = manager
            .apply_all(vec![object.clone()], &crate::actions::apply_options())
            .await;
        let result = match applied {
            Ok(_) => wait(client, manager, &object, timeout).await,
            Err(e) => Err(e.to_string()),
        };
        hook.last_run.completed_at = release::now();
        match result {
            Ok(()) => "Succeeded".clone_into(&mut hook.last_run.phase),
            Err(error) => {
                "Failed".clone_into(&mut hook.last_run.phase);
                if hook.delete_policies.iter().any(|p| p == "hook-failed") {
                    delete(client, manager, &object).await?;
                }
                return Err(format!("{event} hooks failed: {error}"));
            }
        }
    }
    for &index in &selected {
        if hooks[index]
            .delete_policies
            .iter()
            .any(|p| p == "hook-succeeded")
        {
            let object = object_of(&hooks[index], namespace)?;
            delete(client, manager, &object).await?;
        }
    }
    Ok(())
}

fn object_of(hook: &HookRecord, namespace: &str) -> Result<Value, String> {
    let mut object = ferroflux_helm::yaml::parse_document(&hook.manifest).map_err(|e| {
        format!(
            "unable to build kubernetes object for hook {}: {e}",
            hook.path
        )
    })?;
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
        && !metadata.contains_key("namespace")
    {
        metadata.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
    }
    Ok(object)
}

pub(crate) async fn api_of(
    client: &Client,
    manager: &ResourceManager,
    object: &Value,
) -> Result<(Api<DynamicObject>, String), String> {
    let id = ObjectId::of(object);
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("v1");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, &id.kind);
    let resolved = manager
        .discovery()
        .resolve(client, &gvk)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "no matches for kind \"{}\" in version \"{api_version}\"",
                id.kind
            )
        })?;
    let resource: ApiResource = resolved.resource;
    let api = if resolved.namespaced {
        Api::namespaced_with(client.clone(), &id.namespace, &resource)
    } else {
        Api::all_with(client.clone(), &resource)
    };
    Ok((api, id.name))
}

async fn delete(client: &Client, manager: &ResourceManager, object: &Value) -> Result<(), String> {
    let (api, name) = api_of(client, manager, object).await?;
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteParams::default()
    };
    match api.delete(&name, &params).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => {}
        Err(e) => return Err(format!("failed to delete hook {name}: {e}")),
    }
    // Wait for it to be gone, so that a re-created hook is a new object.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match api.get_opt(&name).await {
            Ok(None) => return Ok(()),
            Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(250)).await,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!("timed out waiting for hook {name} to be deleted"))
}

/// Jobs until Complete (Failed fails), Pods until Succeeded (Failed fails); other kinds
/// are ready once created.
async fn wait(
    client: &Client,
    manager: &ResourceManager,
    object: &Value,
    timeout: Duration,
) -> Result<(), String> {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if kind != "Job" && kind != "Pod" {
        return Ok(());
    }
    let (api, name) = api_of(client, manager, object).await?;
    let deadline = Instant::now() + timeout;
    loop {
        let live = api.get_opt(&name).await.map_err(|e| e.to_string())?;
        let status = live.map_or(Value::Null, |l| {
            l.data.get("status").cloned().unwrap_or(Value::Null)
        });
        if kind == "Pod" {
            match status.get("phase").and_then(Value::as_str) {
                Some("Succeeded") => return Ok(()),
                Some("Failed") => return Err(format!("pod {name} failed")),
                _ => {}
            }
        } else {
            let condition = |t: &str| {
                status
                    .get("conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|c| {
                        c.iter().any(|c| {
                            c.get("type").and_then(Value::as_str) == Some(t)
                                && c.get("status").and_then(Value::as_str) == Some("True")
                        })
                    })
            };
            if condition("Complete") {
                return Ok(());
            }
            if condition("Failed") {
                return Err(format!("job {name} failed: BackoffLimitExceeded"));
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "resource not ready, name: {name}, kind: {kind}, status: InProgress: context deadline exceeded"
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
