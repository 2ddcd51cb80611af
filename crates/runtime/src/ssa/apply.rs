//! Staged server-side apply with dry-run drift detection.

use std::collections::BTreeMap;

use futures::{StreamExt, stream};
use kube::api::{Api, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Map, Value};
use tokio::time::{Instant, sleep};

use super::changeset::{Action, ChangeSet, ChangeSetEntry};
use super::error::{ChangeSetError, Error};
use super::inventory::{ObjectId, split_api_version};
use super::order::{self, Stage};
use super::wait::WaitOptions;
use super::{ApplyOptions, ResourceManager, cleanup, to_json};

/// What to do with one object, decided before anything is written.
struct Plan {
    api: Api<DynamicObject>,
    desired: Value,
    entry: ChangeSetEntry,
    write: bool,
    /// Without a dry-run: the live object, to tell from the apply's answer whether the
    /// apply changed it (status and server-managed metadata aside) and whether it is
    /// forced.
    live: Option<Value>,
    /// Without a dry-run: whether the metadata cleanup already wrote to the object.
    cleaned: bool,
}

impl ResourceManager {
    /// Applies `objects` in stages: CRDs, Namespaces and ClusterRoles first, then `*Class`
    /// kinds — each waited for until healthy — then everything else. Stops at the first
    /// stage with a failure; the error carries every entry applied so far.
    pub async fn apply_all_staged(
        &self,
        objects: Vec<Value>,
        options: &ApplyOptions,
    ) -> Result<ChangeSet, ChangeSetError> {
        let mut stages: BTreeMap<Stage, Vec<Value>> = BTreeMap::new();
        for object in &objects {
            // Discovery lags behind a new CRD: its own spec tells where its objects live.
            self.discovery.learn_from_crd(object);
        }
        for object in objects {
            stages.entry(Stage::of(&object)).or_default().push(object);
        }
        let mut change_set = ChangeSet::default();
        for (stage, objects) in stages {
            let applied = match self.apply_all(objects, options).await {
                Ok(applied) => applied,
                Err(mut error) => {
                    change_set.entries.append(&mut error.change_set.entries);
                    error.change_set = change_set;
                    return Err(error);
                }
            };
            change_set.entries.extend(applied.entries.iter().cloned());
            if stage.waits() {
                let wait = WaitOptions {
                    interval: options.wait_interval,
                    timeout: options.wait_timeout,
                    fail_fast: true,
                };
                let entries = applied.to_inventory().entries;
                if let Err(error) = self.wait_for(&entries, &wait).await {
                    return Err(ChangeSetError {
                        change_set,
                        errors: vec![error.into()],
                    });
                }
            }
        }
        Ok(change_set)
    }

    /// Applies `objects` (one stage) in Flux's kind order: dry-runs and decides for up to
    /// `concurrency` objects at a time, then writes the changed ones in order. Every object
    /// is attempted; failures are collected.
    pub async fn apply_all(
        &self,
        mut objects: Vec<Value>,
        options: &ApplyOptions,
    ) -> Result<ChangeSet, ChangeSetError> {
        objects.sort_by(|a, b| order::compare(&ObjectId::of(a), &ObjectId::of(b)));
        let plans: Vec<Result<Plan, Error>> = stream::iter(objects)
            .map(|object| self.plan(object, options))
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut change_set = ChangeSet::default();
        let mut errors = Vec::new();
        for plan in plans {
            let plan = match plan {
                Ok(plan) => plan,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            let mut entry = plan.entry;
            if plan.write {
                let live = plan.live.as_ref();
                match self
                    .write(&plan.api, &entry.id, &plan.desired, live, options)
                    .await
                {
                    Ok((applied, recreated)) => {
                        entry.applied = Some(super::Applied::of(&applied));
                        if recreated {
                            entry.action = Action::Created;
                        } else if !plan.cleaned && live.is_some_and(|live| !drifted(live, &applied))
                        {
                            entry.action = Action::Unchanged;
                        }
                    }
                    Err(error) => {
                        errors.push(error);
                        continue;
                    }
                }
            }
            change_set.entries.push(entry);
        }
        if errors.is_empty() {
            Ok(change_set)
        } else {
            Err(ChangeSetError { change_set, errors })
        }
    }

    /// Applies one object (forcing conflicts); returns the applied object and whether it
    /// was recreated. Without a dry-run before it, an immutable-field error of a forced
    /// object recreates it here instead.
    async fn write(
        &self,
        api: &Api<DynamicObject>,
        id: &ObjectId,
        desired: &Value,
        live: Option<&Value>,
        options: &ApplyOptions,
    ) -> Result<(Value, bool), Error> {
        let params = PatchParams::apply(&self.field_manager).force();
        let error = match api.patch(&id.name, &params, &Patch::Apply(desired)).await {
            Ok(applied) => return Ok((to_json(&applied), false)),
            Err(error) => error,
        };
        if options.dry_run || live.is_none() || !recreates(options, desired, live, &error) {
            return Err(Error::request(id, "apply failed", &error));
        }
        self.recreate(api, id, options).await?;
        api.patch(&id.name, &params, &Patch::Apply(desired))
            .await
            .map(|applied| (to_json(&applied), true))
            .map_err(|error| Error::request(id, "apply failed", &error))
    }

    /// Reads, skips or dry-runs one object and decides whether it must be written.
    async fn plan(&self, mut desired: Value, options: &ApplyOptions) -> Result<Plan, Error> {
        let gvk = validate(&desired)?;
        let given = ObjectId::of(&desired);
        let (api, namespaced) = self
            .api_for(&gvk, &given.namespace, &given.subject())
            .await?;
        if namespaced && given.namespace.is_empty() {
            return Err(Error::NamespaceNotSpecified {
                subject: given.subject(),
            });
        }
        if !namespaced && let Some(metadata) = desired["metadata"].as_object_mut() {
            metadata.remove("namespace");
        }
        let id = ObjectId::of(&desired);
        let plan = |desired: Value, action: Action, write: bool| Plan {
            entry: ChangeSetEntry::new(id.clone(), &gvk.version, action),
            api: api.clone(),
            desired,
            write,
            live: None,
            cleaned: false,
        };

        let existing = api
            .get_opt(&id.name)
            .await
            .map_err(|error| Error::request(&id, "query failed", &error))?
            .map(|live| to_json(&live));
        let excluded = options.exclusion_selector.matches(&desired)
            || existing
                .as_ref()
                .is_some_and(|live| options.exclusion_selector.matches(live));
        let if_not_present =
            existing.is_some() && options.if_not_present_selector.matches(&desired);
        if excluded || if_not_present {
            return Ok(plan(desired, Action::Skipped, false));
        }

        if !options.dry_run {
            let Some(live) = existing else {
                return Ok(plan(desired, Action::Created, true));
            };
            let mut plan = plan(desired, Action::Configured, true);
            plan.cleaned = self
                .cleanup(&api, &id, &plan.desired, &live, options)
                .await?;
            plan.live = Some(live);
            return Ok(plan);
        }
        let (dry_run, existing) = self.dry_run(&api, &id, &desired, existing, options).await?;
        let Some(live) = existing else {
            return Ok(plan(desired, Action::Created, true));
        };
        // Another controller (e.g. the deployment controller adding its revision annotation)
        // may have written between our read and the dry-run, which ran against the newer
        // object: compare with that version, not with the stale read.
        let live = if resource_version(&live) == resource_version(&dry_run) {
            live
        } else {
            api.get_opt(&id.name)
                .await
                .map_err(|error| Error::request(&id, "query failed", &error))?
                .map_or(live, |fresh| to_json(&fresh))
        };
        let cleaned = self.cleanup(&api, &id, &desired, &live, options).await?;
        if cleaned || drifted(&live, &dry_run) {
            Ok(plan(desired, Action::Configured, true))
        } else {
            Ok(plan(desired, Action::Unchanged, false))
        }
    }

    /// Dry-runs the apply; on an immutable-field error of a forced object, deletes and
    /// retries. Returns the dry-run result and the live object (`None` once recreated).
    async fn dry_run(
        &self,
        api: &Api<DynamicObject>,
        id: &ObjectId,
        desired: &Value,
        existing: Option<Value>,
        options: &ApplyOptions,
    ) -> Result<(Value, Option<Value>), Error> {
        let params = PatchParams::apply(&self.field_manager).force().dry_run();
        let error = match api.patch(&id.name, &params, &Patch::Apply(desired)).await {
            Ok(result) => return Ok((to_json(&result), existing)),
            Err(error) => error,
        };
        if existing.is_none() || !recreates(options, desired, existing.as_ref(), &error) {
            return Err(dry_run_error(id, &error));
        }
        self.recreate(api, id, options).await?;
        let result = api
            .patch(&id.name, &params, &Patch::Apply(desired))
            .await
            .map_err(|error| dry_run_error(id, &error))?;
        Ok((to_json(&result), None))
    }

    /// Deletes the object (background propagation) and waits until it is gone.
    async fn recreate(
        &self,
        api: &Api<DynamicObject>,
        id: &ObjectId,
        options: &ApplyOptions,
    ) -> Result<(), Error> {
        const DELETE: &str = "immutable field detected, failed to delete object";
        const WAIT: &str = "immutable field detected, failed to wait for object to be deleted";
        match api.delete(&id.name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(error) => return Err(Error::request(id, DELETE, &error)),
        }
        let deadline = Instant::now() + options.wait_timeout;
        loop {
            match api.get_opt(&id.name).await {
                Ok(None) => return Ok(()),
                Ok(Some(_)) if Instant::now() >= deadline => {
                    return Err(Error::Request {
                        subject: id.subject(),
                        action: WAIT,
                        message: format!("still present after {:?}", options.wait_timeout),
                    });
                }
                Ok(Some(_)) => sleep(options.wait_interval).await,
                Err(error) => return Err(Error::request(id, WAIT, &error)),
            }
        }
    }

    /// Removes `kubectl` leftovers from the live object and takes over other managers'
    /// fields, unless the object asks to be merged. Returns whether it patched.
    async fn cleanup(
        &self,
        api: &Api<DynamicObject>,
        id: &ObjectId,
        desired: &Value,
        live: &Value,
        options: &ApplyOptions,
    ) -> Result<bool, Error> {
        if options.merge_selector.matches(desired) || options.merge_selector.matches(live) {
            return Ok(false);
        }
        let operations = cleanup::patch(live, &self.field_manager, &options.cleanup);
        if operations.is_empty() {
            return Ok(false);
        }
        let patch = serde_json::from_value(Value::Array(operations))
            .expect("cleanup operations are valid JSON patch operations");
        let params = PatchParams {
            field_manager: Some(self.field_manager.clone()),
            ..PatchParams::default()
        };
        api.patch(&id.name, &params, &Patch::Json::<()>(patch))
            .await
            .map_err(|error| Error::request(id, "metadata.managedFields cleanup failed", &error))?;
        Ok(true)
    }
}

/// The object's group/version/kind, or why it cannot be applied.
fn validate(object: &Value) -> Result<GroupVersionKind, Error> {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (api_version, kind, name) = (text("/apiVersion"), text("/kind"), text("/metadata/name"));
    let missing = [
        ("apiVersion", api_version),
        ("kind", kind),
        ("metadata.name", name),
    ]
    .into_iter()
    .find(|(_, value)| value.is_empty());
    if let Some((field, _)) = missing {
        return Err(Error::InvalidObject {
            subject: format!("{kind}/{name}"),
            message: format!("{field} is missing"),
        });
    }
    let (group, version) = split_api_version(api_version);
    Ok(GroupVersionKind::gvk(group, version, kind))
}

/// Whether a failed apply is answered by recreating the object: it is forced (by the
/// options, or by the force annotation on the desired or the live object) and the error
/// reads as an immutable-field error.
fn recreates(
    options: &ApplyOptions,
    desired: &Value,
    live: Option<&Value>,
    error: &kube::Error,
) -> bool {
    let forced = options.force
        || options.force_selector.matches(desired)
        || live.is_some_and(|live| options.force_selector.matches(live));
    forced && is_immutable(error)
}

/// kubectl's and Flux's test for an immutable-field error (it has false positives: any
/// invalid object is recreated when forced).
fn is_immutable(error: &kube::Error) -> bool {
    let kube::Error::Api(status) = error else {
        return false;
    };
    status.is_conflict()
        || status.is_invalid()
        || status.message.contains("is immutable")
        || status.message.contains("immutable field")
}

fn dry_run_error(id: &ObjectId, error: &kube::Error) -> Error {
    match error {
        kube::Error::Api(status) if status.is_not_found() => {
            if id.namespace.is_empty() {
                Error::NamespaceNotSpecified {
                    subject: id.subject(),
                }
            } else {
                Error::request(id, "not found", error)
            }
        }
        kube::Error::Api(status) => Error::DryRun {
            subject: id.subject(),
            reason: status.reason.clone(),
            message: status.message.clone(),
        },
        other => Error::DryRun {
            subject: id.subject(),
            reason: String::new(),
            message: other.to_string(),
        },
    }
}

fn resource_version(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

/// Whether the dry-run result differs from the live object, ignoring server-managed
/// metadata (resourceVersion, managedFields, generation, uid, timestamps) and status.
pub(crate) fn drifted(live: &Value, dry_run: &Value) -> bool {
    let metadata_map = |object: &Value, field: &str| {
        object
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let body = |object: &Value| -> Map<String, Value> {
        let mut body = object.as_object().cloned().unwrap_or_default();
        body.remove("metadata");
        body.remove("status");
        body
    };
    ["labels", "annotations"]
        .iter()
        .any(|field| metadata_map(live, field) != metadata_map(dry_run, field))
        || body(live) != body(dry_run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "ns", "resourceVersion": "1", "uid": "u",
                "generation": 1, "creationTimestamp": "t", "managedFields": [{"manager": "a"}],
                "labels": {"app": "x"}},
            "data": {"a": "1"}})
    }

    #[test]
    fn identical_objects_have_not_drifted() {
        let mut dry_run = live();
        dry_run["metadata"]["resourceVersion"] = json!("2");
        dry_run["metadata"]["managedFields"] = json!([{"manager": "b"}]);
        dry_run["metadata"]["annotations"] = json!({});
        dry_run["status"] = json!({"x": 1});
        assert!(!drifted(&live(), &dry_run));
    }

    #[test]
    fn data_labels_and_annotations_drift() {
        let mut data = live();
        data["data"]["a"] = json!("2");
        assert!(drifted(&live(), &data));
        let mut labels = live();
        labels["metadata"]["labels"]["app"] = json!("y");
        assert!(drifted(&live(), &labels));
        let mut annotations = live();
        annotations["metadata"]["annotations"] = json!({"k": "v"});
        assert!(drifted(&live(), &annotations));
    }

    fn api_error(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(message, reason)
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn immutable_errors_like_kubectl() {
        assert!(is_immutable(&api_error(
            422,
            "Invalid",
            "field is immutable"
        )));
        assert!(is_immutable(&api_error(409, "Conflict", "conflict")));
        assert!(is_immutable(&api_error(
            400,
            "BadRequest",
            "spec.x: is immutable after creation"
        )));
        assert!(is_immutable(&api_error(
            403,
            "Forbidden",
            "denied: immutable field changed"
        )));
        assert!(!is_immutable(&api_error(403, "Forbidden", "denied")));
        assert!(!is_immutable(&api_error(404, "NotFound", "not found")));
    }

    #[test]
    fn dry_run_errors_name_the_object() {
        let namespaced = ObjectId::new("ns", "web", "apps", "Deployment");
        let invalid = api_error(422, "Invalid", "Deployment.apps \"web\" is invalid");
        assert_eq!(
            dry_run_error(&namespaced, &invalid).to_string(),
            "Deployment/ns/web dry-run failed (Invalid): Deployment.apps \"web\" is invalid"
        );
        let missing = api_error(404, "NotFound", "namespaces \"ns\" not found");
        assert_eq!(
            dry_run_error(&namespaced, &missing).to_string(),
            "Deployment/ns/web not found: namespaces \"ns\" not found"
        );
        let cluster = ObjectId::new("", "web", "apps", "Deployment");
        assert_eq!(
            dry_run_error(&cluster, &missing).to_string(),
            "Deployment/web namespace not specified"
        );
    }

    #[test]
    fn validation_names_the_missing_field() {
        let error = validate(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}))
            .expect_err("a nameless object is invalid");
        assert_eq!(
            error.to_string(),
            "invalid object ConfigMap/: metadata.name is missing"
        );
        let gvk = validate(
            &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}),
        )
        .expect("a valid object");
        assert_eq!((gvk.group.as_str(), gvk.version.as_str()), ("apps", "v1"));
    }
}
