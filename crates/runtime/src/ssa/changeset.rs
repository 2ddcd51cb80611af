//! What an apply or prune did to each object.

use std::collections::BTreeMap;
use std::fmt;

use super::inventory::{Inventory, InventoryEntry, ObjectId};

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// The object did not exist and was created.
    Created,
    /// The object existed and was changed.
    Configured,
    /// The object already matched: nothing was written.
    Unchanged,
    /// The object was left alone because of an annotation or label.
    Skipped,
    /// The object was deleted (or was already gone).
    Deleted,
}

impl Action {
    /// Flux's word for the action: `created`, `configured`, `unchanged`, `skipped`,
    /// `deleted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Configured => "configured",
            Self::Unchanged => "unchanged",
            Self::Skipped => "skipped",
            Self::Deleted => "deleted",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One object's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetEntry {
    /// The object's identity.
    pub id: ObjectId,
    /// The API version (without group) the object was applied with.
    pub version: String,
    /// `Kind/namespace/name` (`Kind/name` when cluster-scoped).
    pub subject: String,
    /// What happened.
    pub action: Action,
    /// What the apply answered, when the object was written: a wait right after the apply
    /// starts from it instead of reading the object again.
    pub applied: Option<Applied>,
}

/// The state of an object as its apply answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its health by the built-in kstatus rules.
    pub health: crate::health::HealthResult,
    /// Its `metadata.resourceVersion`: changes are watched from there.
    pub resource_version: String,
}

impl Applied {
    /// The state of the applied object `object`.
    pub fn of(object: &serde_json::Value) -> Self {
        Self {
            health: crate::health::compute(object),
            resource_version: object
                .pointer("/metadata/resourceVersion")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

impl ChangeSetEntry {
    /// An entry for `id` applied at `version`.
    pub fn new(id: ObjectId, version: &str, action: Action) -> Self {
        Self {
            subject: id.subject(),
            id,
            version: version.to_owned(),
            action,
            applied: None,
        }
    }

    /// The entry as an inventory entry.
    pub fn inventory_entry(&self) -> InventoryEntry {
        InventoryEntry {
            id: self.id.clone(),
            version: self.version.clone(),
        }
    }
}

/// `Kind/namespace/name action`, as in Flux's events.
impl fmt::Display for ChangeSetEntry {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.subject, self.action)
    }
}

/// The outcomes of an apply or prune, in the order the objects were handled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeSet {
    /// One entry per object.
    pub entries: Vec<ChangeSetEntry>,
}

impl ChangeSet {
    /// The entries with one of the given actions.
    pub fn with_actions<'a>(
        &'a self,
        actions: &'a [Action],
    ) -> impl Iterator<Item = &'a ChangeSetEntry> + 'a {
        self.entries
            .iter()
            .filter(move |entry| actions.contains(&entry.action))
    }

    /// Whether any object was created, configured or deleted.
    pub fn has_changes(&self) -> bool {
        self.with_actions(&[Action::Created, Action::Configured, Action::Deleted])
            .next()
            .is_some()
    }

    /// The inventory of every object in the set (including unchanged and skipped ones, as
    /// Flux records them).
    pub fn to_inventory(&self) -> Inventory {
        Inventory {
            entries: self
                .entries
                .iter()
                .map(ChangeSetEntry::inventory_entry)
                .collect(),
        }
    }

    /// `{"Kind/ns/name": "created", …}`: the `output` of Flux's apply log line.
    pub fn to_map(&self) -> BTreeMap<String, Action> {
        self.entries
            .iter()
            .map(|entry| (entry.subject.clone(), entry.action))
            .collect()
    }
}

/// One `Kind/namespace/name action` line per entry.
impl fmt::Display for ChangeSet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, entry) in self.entries.iter().enumerate() {
            if index > 0 {
                formatter.write_str("\n")?;
            }
            write!(formatter, "{entry}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change_set() -> ChangeSet {
        ChangeSet {
            entries: vec![
                ChangeSetEntry::new(
                    ObjectId::new("", "apps", "", "Namespace"),
                    "v1",
                    Action::Created,
                ),
                ChangeSetEntry::new(
                    ObjectId::new("apps", "web", "apps", "Deployment"),
                    "v1",
                    Action::Configured,
                ),
                ChangeSetEntry::new(
                    ObjectId::new("apps", "web", "", "Service"),
                    "v1",
                    Action::Unchanged,
                ),
            ],
        }
    }

    #[test]
    fn displays_one_line_per_entry() {
        assert_eq!(
            change_set().to_string(),
            "Namespace/apps created\nDeployment/apps/web configured\nService/apps/web unchanged"
        );
        assert_eq!(ChangeSet::default().to_string(), "");
    }

    #[test]
    fn inventory_keeps_every_entry_in_order() {
        let ids: Vec<String> = change_set()
            .to_inventory()
            .entries
            .iter()
            .map(|e| e.id.to_string())
            .collect();
        assert_eq!(
            ids,
            [
                "_apps__Namespace",
                "apps_web_apps_Deployment",
                "apps_web__Service"
            ]
        );
    }

    #[test]
    fn changes_and_map() {
        assert!(change_set().has_changes());
        let unchanged = ChangeSet {
            entries: vec![change_set().entries[2].clone()],
        };
        assert!(!unchanged.has_changes());
        assert_eq!(
            change_set().to_map().get("Deployment/apps/web"),
            Some(&Action::Configured)
        );
    }
}
