//! Garbage collection of objects that left the inventory.

use kube::api::DeleteParams;
use serde_json::Value;

use super::changeset::{Action, ChangeSet, ChangeSetEntry};
use super::error::{ChangeSetError, Error};
use super::inventory::InventoryEntry;
use super::{PRUNE_KEY, RECONCILE_KEY, ResourceManager, SSA_KEY, Selector, entry_gvk, order};

/// Which objects [`ResourceManager::delete_all`] may delete.
#[derive(Debug, Clone)]
pub struct PruneOptions {
    /// Labels the live object must carry, all of them, e.g.
    /// `kustomize.toolkit.fluxcd.io/name: app` and `kustomize.toolkit.fluxcd.io/namespace:
    /// flux-system`.
    pub owner_labels: Vec<(String, String)>,
    /// Objects never deleted (reported `skipped`).
    pub exclusion_selector: Selector,
    /// How dependents of deleted objects go (Kubernetes' propagation policy); background
    /// unless set.
    pub propagation: Option<kube::api::PropagationPolicy>,
}

impl PruneOptions {
    /// Flux's options: the given owner labels; objects annotated `prune: disabled`,
    /// `reconcile: disabled` or `ssa: Ignore` are kept.
    pub fn flux<const N: usize>(owner_labels: [(&str, &str); N]) -> Self {
        Self {
            owner_labels: owner_labels
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            exclusion_selector: Selector::new([
                (PRUNE_KEY, "disabled"),
                (RECONCILE_KEY, "disabled"),
                (SSA_KEY, "Ignore"),
            ]),
            propagation: None,
        }
    }

    fn owns(&self, live: &Value) -> bool {
        let labels = live.pointer("/metadata/labels");
        self.owner_labels.iter().all(|(key, value)| {
            labels
                .and_then(|labels| labels.get(key))
                .and_then(Value::as_str)
                == Some(value.as_str())
        })
    }
}

impl ResourceManager {
    /// Deletes `entries` (with the options' propagation policy) in reverse apply order. Objects already
    /// gone count as `deleted`; objects without the owner labels, or excluded, as `skipped`.
    /// Every object is attempted; failures are collected.
    pub async fn delete_all(
        &self,
        entries: &[InventoryEntry],
        options: &PruneOptions,
    ) -> Result<ChangeSet, ChangeSetError> {
        let mut entries = entries.to_vec();
        deletion_order(&mut entries);
        let mut change_set = ChangeSet::default();
        let mut errors = Vec::new();
        for entry in entries {
            match self.delete(&entry, options).await {
                Ok(action) => change_set.entries.push(ChangeSetEntry::new(
                    entry.id.clone(),
                    &entry.version,
                    action,
                )),
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            Ok(change_set)
        } else {
            Err(ChangeSetError { change_set, errors })
        }
    }

    async fn delete(
        &self,
        entry: &InventoryEntry,
        options: &PruneOptions,
    ) -> Result<Action, Error> {
        let id = &entry.id;
        let api = match self
            .api_for(&entry_gvk(entry), &id.namespace, &id.subject())
            .await
        {
            Ok((api, _)) => api,
            // The kind is no longer served, so no object of it can exist.
            Err(Error::UnknownKind { message, .. }) if message.starts_with("no matches") => {
                return Ok(Action::Deleted);
            }
            Err(error) => return Err(error),
        };
        let Some(live) = api
            .get_opt(&id.name)
            .await
            .map_err(|error| Error::request(id, "query failed", &error))?
        else {
            return Ok(Action::Deleted);
        };
        let live = super::to_json(&live);
        if !options.owns(&live) || options.exclusion_selector.matches(&live) {
            return Ok(Action::Skipped);
        }
        let params = DeleteParams {
            propagation_policy: Some(
                options
                    .propagation
                    .clone()
                    .unwrap_or(kube::api::PropagationPolicy::Background),
            ),
            ..DeleteParams::default()
        };
        match api.delete(&id.name, &params).await {
            Ok(_) => Ok(Action::Deleted),
            Err(kube::Error::Api(status)) if status.is_not_found() => Ok(Action::Deleted),
            Err(error) => Err(Error::request(id, "delete failed", &error)),
        }
    }
}

/// Sorts entries for deletion: reverse apply order (custom resources before their CRDs,
/// namespaced objects before their Namespace).
fn deletion_order(entries: &mut [InventoryEntry]) {
    entries.sort_by(|a, b| order::compare(&b.id, &a.id));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ownership_needs_every_owner_label() {
        let options = PruneOptions::flux([
            ("kustomize.toolkit.fluxcd.io/name", "app"),
            ("kustomize.toolkit.fluxcd.io/namespace", "flux-system"),
        ]);
        let owned = json!({"metadata": {"labels": {
            "kustomize.toolkit.fluxcd.io/name": "app",
            "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}}});
        let half = json!({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "app"}}});
        let other = json!({"metadata": {"labels": {
            "kustomize.toolkit.fluxcd.io/name": "other",
            "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}}});
        assert!(options.owns(&owned));
        assert!(!options.owns(&half));
        assert!(!options.owns(&other));
        assert!(!options.owns(&json!({})));
    }

    #[test]
    fn exclusions() {
        let options = PruneOptions::flux([]);
        for (key, value) in [
            (PRUNE_KEY, "disabled"),
            (RECONCILE_KEY, "disabled"),
            (SSA_KEY, "Ignore"),
        ] {
            let object = json!({"metadata": {"annotations": {key: value}}});
            assert!(
                options.exclusion_selector.matches(&object),
                "{key}: {value}"
            );
        }
    }

    #[test]
    fn deletes_in_reverse_apply_order() {
        let mut entries: Vec<InventoryEntry> = [
            "_ns__Namespace",
            "ns_app_apps_Deployment",
            "ns_cfg__ConfigMap",
            "_crd_apiextensions.k8s.io_CustomResourceDefinition",
            "ns_w_example.com_Widget",
        ]
        .iter()
        .map(|id| InventoryEntry {
            id: id.parse().expect("a valid id"),
            version: "v1".into(),
        })
        .collect();
        deletion_order(&mut entries);
        let kinds: Vec<&str> = entries.iter().map(|e| e.id.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Widget",
                "Deployment",
                "ConfigMap",
                "Namespace",
                "CustomResourceDefinition"
            ]
        );
    }
}
