//! A server-side-apply resource manager with the behaviour of Flux's `fluxcd/pkg/ssa`.
//!
//! [`ResourceManager::apply_all_staged`] applies objects in [`Stage`]s (cluster definitions,
//! then classes, then everything else, waiting for the first two to become healthy); inside
//! a stage objects are sorted by Flux's kind order. For each object it reads the live
//! object, honours the skip annotations, runs a server-side **dry-run** apply and writes only
//! when the result differs from the live object, so unchanged objects keep their
//! `resourceVersion`. Immutable-field errors recreate the object when forced. The returned
//! [`ChangeSet`] becomes the [`Inventory`]; [`ResourceManager::delete_all`] prunes what
//! left it and [`ResourceManager::wait_for`] waits for objects to become
//! [`Current`](crate::health::Status::Current).

mod apply;
mod changeset;
mod cleanup;
mod discovery;
mod error;
mod inventory;
mod order;
mod prune;
mod wait;

use std::time::Duration;

use kube::Client;
use kube::api::{Api, DynamicObject, GroupVersionKind};
use serde_json::Value;

pub use changeset::{Action, Applied, ChangeSet, ChangeSetEntry};
pub use cleanup::{CleanupOptions, FieldManager, Operation};
pub use discovery::{DiscoveryCache, Resolved};
pub use error::{ChangeSetError, Error, WaitError};
pub use inventory::{Inventory, InventoryEntry, ObjectId, ParseIdError};
pub use order::{Stage, compare as compare_apply_order};
pub use prune::PruneOptions;
pub use wait::WaitOptions;

/// Flux's annotation (or label) that excludes an object from apply and prune.
pub const RECONCILE_KEY: &str = "kustomize.toolkit.fluxcd.io/reconcile";
/// Flux's annotation (or label) choosing the apply policy: `Override` (default), `Merge`,
/// `IfNotPresent`, `Ignore`.
pub const SSA_KEY: &str = "kustomize.toolkit.fluxcd.io/ssa";
/// Flux's annotation (or label) that keeps an object from being pruned.
pub const PRUNE_KEY: &str = "kustomize.toolkit.fluxcd.io/prune";
/// Flux's annotation (or label) that recreates an object on immutable-field changes.
pub const FORCE_KEY: &str = "kustomize.toolkit.fluxcd.io/force";

/// A set of `key: value` pairs matched against an object's labels and annotations; it
/// matches when any pair is found in either (values compared case-insensitively).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector(pub Vec<(String, String)>);

impl Selector {
    /// A selector of the given pairs.
    pub fn new<const N: usize>(pairs: [(&str, &str); N]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    /// Whether any pair is a label or annotation of `object`.
    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().any(|(key, value)| {
            ["labels", "annotations"].iter().any(|field| {
                object
                    .pointer(&format!("/metadata/{field}"))
                    .and_then(|map| map.get(key))
                    .and_then(Value::as_str)
                    .is_some_and(|found| !found.is_empty() && found.eq_ignore_ascii_case(value))
            })
        })
    }
}

/// How [`ResourceManager::apply_all_staged`] behaves.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Recreate objects whose immutable fields changed (Flux's `spec.force`).
    pub force: bool,
    /// Objects recreated on immutable changes even without `force`.
    pub force_selector: Selector,
    /// Objects never applied (desired or live object matching).
    pub exclusion_selector: Selector,
    /// Objects only created, never updated.
    pub if_not_present_selector: Selector,
    /// Objects whose metadata is not cleaned up (other managers' fields are kept).
    pub merge_selector: Selector,
    /// What to clean up on live objects.
    pub cleanup: CleanupOptions,
    /// How often to poll while waiting for staged definitions or a recreated object.
    pub wait_interval: Duration,
    /// How long to wait for staged definitions or a recreated object.
    pub wait_timeout: Duration,
    /// Dry-run each object first and write only those that would change (Flux's
    /// kustomize-controller). Without it every object is applied once, as Helm 4 does: an
    /// object whose apply answer does not differ from the live object is reported
    /// unchanged.
    pub dry_run: bool,
}

impl ApplyOptions {
    /// The kustomize-controller's options for field manager `manager`: the Flux
    /// annotations, Flux's metadata cleanup, no force, 2s polls for at most 60s.
    pub fn flux(manager: &str) -> Self {
        Self {
            force: false,
            force_selector: Selector::new([(FORCE_KEY, "enabled")]),
            exclusion_selector: Selector::new([(RECONCILE_KEY, "disabled"), (SSA_KEY, "Ignore")]),
            if_not_present_selector: Selector::new([(SSA_KEY, "IfNotPresent")]),
            merge_selector: Selector::new([(SSA_KEY, "Merge")]),
            cleanup: CleanupOptions::flux(manager),
            wait_interval: Duration::from_secs(2),
            wait_timeout: Duration::from_secs(60),
            dry_run: true,
        }
    }
}

/// Applies, prunes and waits for sets of objects with one field manager.
#[derive(Clone)]
pub struct ResourceManager {
    client: Client,
    field_manager: String,
    concurrency: usize,
    discovery: DiscoveryCache,
}

impl std::fmt::Debug for ResourceManager {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ResourceManager")
            .field("field_manager", &self.field_manager)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl ResourceManager {
    /// A manager applying as `field_manager`, handling 4 objects at a time.
    pub fn new(client: Client, field_manager: &str) -> Self {
        Self {
            client,
            field_manager: field_manager.to_owned(),
            concurrency: 4,
            discovery: DiscoveryCache::default(),
        }
    }

    /// Handles up to `concurrency` objects at a time (Flux's `--concurrent-ssa`).
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The field manager.
    pub fn field_manager(&self) -> &str {
        &self.field_manager
    }

    /// The discovery cache (shared by clones of the manager).
    pub fn discovery(&self) -> &DiscoveryCache {
        &self.discovery
    }

    /// An API for objects of `gvk` in `namespace`, with whether the kind is namespaced;
    /// `Error::UnknownKind` when the server does not serve it.
    async fn api_for(
        &self,
        gvk: &GroupVersionKind,
        namespace: &str,
        subject: &str,
    ) -> Result<(Api<DynamicObject>, bool), Error> {
        let resolved = self
            .discovery
            .resolve(&self.client, gvk)
            .await
            .map_err(|error| Error::UnknownKind {
                subject: subject.to_owned(),
                message: Error::server_message(&error),
            })?
            .ok_or_else(|| Error::UnknownKind {
                subject: subject.to_owned(),
                message: discovery::no_match_message(gvk),
            })?;
        let api = if resolved.namespaced {
            Api::namespaced_with(self.client.clone(), namespace, &resolved.resource)
        } else {
            Api::all_with(self.client.clone(), &resolved.resource)
        };
        Ok((api, resolved.namespaced))
    }
}

/// The group/version/kind of an inventory entry.
fn entry_gvk(entry: &InventoryEntry) -> GroupVersionKind {
    GroupVersionKind::gvk(&entry.id.group, &entry.version, &entry.id.kind)
}

/// A live object as JSON.
fn to_json(object: &DynamicObject) -> Value {
    serde_json::to_value(object).expect("a DynamicObject always serializes to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_match_labels_or_annotations_case_insensitively() {
        let selector = Selector::new([(SSA_KEY, "IfNotPresent"), (RECONCILE_KEY, "disabled")]);
        let annotated = json!({"metadata": {"annotations": {SSA_KEY: "ifnotpresent"}}});
        let labelled = json!({"metadata": {"labels": {RECONCILE_KEY: "Disabled"}}});
        let other =
            json!({"metadata": {"labels": {SSA_KEY: "Merge"}, "annotations": {"x": "disabled"}}});
        assert!(selector.matches(&annotated));
        assert!(selector.matches(&labelled));
        assert!(!selector.matches(&other));
        assert!(!selector.matches(&json!({})));
        assert!(!Selector::default().matches(&annotated));
    }
}
