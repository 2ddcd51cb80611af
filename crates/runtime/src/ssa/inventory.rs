//! Object identities and inventories in Flux's format.
//!
//! An inventory entry id is `<namespace>_<name>_<group>_<kind>`: the namespace is empty for
//! cluster-scoped objects, the group is empty for the core group, and `:` in the names of
//! RBAC objects is written as `__` (e.g. `default_podinfo__Service`, `_ns1__Namespace`,
//! `_system__controller_rbac.authorization.k8s.io_ClusterRole`).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use ferroflux_api::meta::{ResourceInventory, ResourceRef};
use serde_json::Value;

const SEPARATOR: char = '_';
const COLON_TRANSCODED: &str = "__";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const RBAC_KINDS: [&str; 4] = ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];

/// The identity of an object: namespace, name, API group and kind (no version).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ObjectId {
    /// The namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The API group; empty for the core group.
    pub group: String,
    /// The kind.
    pub kind: String,
}

impl ObjectId {
    /// An id from its parts.
    pub fn new(namespace: &str, name: &str, group: &str, kind: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            group: group.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// The id of a Kubernetes object given as JSON (`apiVersion`, `kind`, `metadata`).
    pub fn of(object: &Value) -> Self {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let (group, _) = split_api_version(text("/apiVersion"));
        Self::new(
            text("/metadata/namespace"),
            text("/metadata/name"),
            group,
            text("/kind"),
        )
    }

    /// Flux's human-readable form: `Kind/namespace/name`, or `Kind/name` when
    /// cluster-scoped.
    pub fn subject(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }

    fn is_rbac(&self) -> bool {
        self.group == RBAC_GROUP && RBAC_KINDS.contains(&self.kind.as_str())
    }
}

/// Splits an `apiVersion` into group and version (`v1` → `("", "v1")`).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// The inventory id, `<namespace>_<name>_<group>_<kind>`.
impl fmt::Display for ObjectId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.is_rbac() {
            self.name.replace(':', COLON_TRANSCODED)
        } else {
            self.name.clone()
        };
        write!(
            formatter,
            "{}_{name}_{}_{}",
            self.namespace, self.group, self.kind
        )
    }
}

/// An inventory id that does not have the `<namespace>_<name>_<group>_<kind>` shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse stored object metadata: {0}")]
pub struct ParseIdError(pub String);

impl FromStr for ObjectId {
    type Err = ParseIdError;

    /// Parses an inventory id: the namespace runs up to the first `_`, the kind follows the
    /// last `_`, the group sits between the last two, and the rest is the name.
    fn from_str(id: &str) -> Result<Self, Self::Err> {
        let error = || ParseIdError(id.to_owned());
        let (namespace, rest) = id.split_once(SEPARATOR).ok_or_else(error)?;
        let (rest, kind) = rest.rsplit_once(SEPARATOR).ok_or_else(error)?;
        let (name, group) = rest.rsplit_once(SEPARATOR).ok_or_else(error)?;
        let name = name.replace(COLON_TRANSCODED, ":");
        if name.contains(SEPARATOR) || name.is_empty() || kind.is_empty() {
            return Err(error());
        }
        Ok(Self::new(namespace, &name, group, kind))
    }
}

/// One inventory entry: an object's identity and the API version it was applied with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InventoryEntry {
    /// The object's identity.
    pub id: ObjectId,
    /// The API version (without group), e.g. `v1`.
    pub version: String,
}

impl InventoryEntry {
    /// The entry's full `apiVersion` (`group/version`, or `version` for the core group).
    pub fn api_version(&self) -> String {
        if self.id.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.id.group, self.version)
        }
    }
}

/// The objects applied by a reconciler, which it owns and may prune.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    /// The entries, in apply order.
    pub entries: Vec<InventoryEntry>,
}

impl Inventory {
    /// The entries of `self` (the old inventory) whose ids are not in `new`, sorted by id.
    pub fn stale(&self, new: &Inventory) -> Vec<InventoryEntry> {
        let current: BTreeSet<&ObjectId> = new.entries.iter().map(|entry| &entry.id).collect();
        let mut stale: Vec<InventoryEntry> = self
            .entries
            .iter()
            .filter(|entry| !current.contains(&entry.id))
            .cloned()
            .collect();
        stale.sort();
        stale.dedup_by(|a, b| a.id == b.id);
        stale
    }

    /// Whether the inventory holds an object with this id.
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.entries.iter().any(|entry| &entry.id == id)
    }
}

impl From<&Inventory> for ResourceInventory {
    fn from(inventory: &Inventory) -> Self {
        Self {
            entries: inventory
                .entries
                .iter()
                .map(|entry| ResourceRef {
                    id: entry.id.to_string(),
                    v: entry.version.clone(),
                })
                .collect(),
        }
    }
}

impl TryFrom<&ResourceInventory> for Inventory {
    type Error = ParseIdError;

    fn try_from(inventory: &ResourceInventory) -> Result<Self, Self::Error> {
        let entries = inventory
            .entries
            .iter()
            .map(|entry| {
                Ok(InventoryEntry {
                    id: entry.id.parse()?,
                    version: entry.v.clone(),
                })
            })
            .collect::<Result<_, ParseIdError>>()?;
        Ok(Self { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    #[rstest]
    #[case(
        ObjectId::new("default", "podinfo", "", "Service"),
        "default_podinfo__Service"
    )]
    #[case(ObjectId::new("", "ns1", "", "Namespace"), "_ns1__Namespace")]
    #[case(
        ObjectId::new("apps", "web", "apps", "Deployment"),
        "apps_web_apps_Deployment"
    )]
    #[case(
        ObjectId::new("", "system:controller", RBAC_GROUP, "ClusterRole"),
        "_system__controller_rbac.authorization.k8s.io_ClusterRole"
    )]
    #[case(
        ObjectId::new("kube-system", "a:b:c", RBAC_GROUP, "RoleBinding"),
        "kube-system_a__b__c_rbac.authorization.k8s.io_RoleBinding"
    )]
    #[case(
        ObjectId::new(
            "",
            "widgets.example.com",
            "apiextensions.k8s.io",
            "CustomResourceDefinition"
        ),
        "_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition"
    )]
    fn formats_and_parses(#[case] id: ObjectId, #[case] text: &str) {
        assert_eq!(id.to_string(), text);
        assert_eq!(text.parse::<ObjectId>(), Ok(id));
    }

    #[rstest]
    #[case("")]
    #[case("no-separators")]
    #[case("ns_name")]
    #[case("ns_na_me_apps_Deployment")]
    #[case("ns__apps_Deployment")]
    #[case("ns_name_apps_")]
    fn rejects_malformed_ids(#[case] text: &str) {
        assert!(
            text.parse::<ObjectId>().is_err(),
            "{text:?} must be rejected"
        );
    }

    #[rstest]
    #[case(ObjectId::new("ns", "app", "apps", "Deployment"), "Deployment/ns/app")]
    #[case(ObjectId::new("", "ns", "", "Namespace"), "Namespace/ns")]
    fn subjects(#[case] id: ObjectId, #[case] subject: &str) {
        assert_eq!(id.subject(), subject);
    }

    #[test]
    fn id_of_json_object() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "app", "namespace": "ns"}});
        assert_eq!(
            ObjectId::of(&object),
            ObjectId::new("ns", "app", "apps", "Deployment")
        );
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
        assert_eq!(ObjectId::of(&namespace).to_string(), "_x__Namespace");
    }

    fn entry(id: &str, version: &str) -> InventoryEntry {
        InventoryEntry {
            id: id.parse().expect("a valid id"),
            version: version.to_owned(),
        }
    }

    #[test]
    fn stale_is_old_minus_new_sorted() {
        let old = Inventory {
            entries: vec![
                entry("ns_b_apps_Deployment", "v1"),
                entry("ns_a__ConfigMap", "v1"),
                entry("ns_keep__Service", "v1"),
                entry("_ns__Namespace", "v1"),
            ],
        };
        let new = Inventory {
            entries: vec![entry("ns_keep__Service", "v1"), entry("ns_c__Secret", "v1")],
        };
        let stale: Vec<String> = old.stale(&new).iter().map(|e| e.id.to_string()).collect();
        assert_eq!(
            stale,
            ["_ns__Namespace", "ns_a__ConfigMap", "ns_b_apps_Deployment"]
        );
        assert!(new.stale(&new).is_empty());
    }

    #[test]
    fn version_change_is_not_stale() {
        let old = Inventory {
            entries: vec![entry("ns_w_example.com_Widget", "v1beta1")],
        };
        let new = Inventory {
            entries: vec![entry("ns_w_example.com_Widget", "v1")],
        };
        assert!(old.stale(&new).is_empty());
    }

    #[test]
    fn converts_to_and_from_the_api_type() {
        let inventory = Inventory {
            entries: vec![
                entry("ns_app_apps_Deployment", "v1"),
                entry("_x__Namespace", "v1"),
            ],
        };
        let api = ResourceInventory::from(&inventory);
        assert_eq!(api.entries[0].id, "ns_app_apps_Deployment");
        assert_eq!(api.entries[0].v, "v1");
        assert_eq!(Inventory::try_from(&api), Ok(inventory));
        let broken = ResourceInventory {
            entries: vec![ResourceRef {
                id: "broken".into(),
                v: "v1".into(),
            }],
        };
        assert!(Inventory::try_from(&broken).is_err());
    }

    #[rstest]
    #[case("apps", "v1", "apps/v1")]
    #[case("", "v1", "v1")]
    fn api_versions(#[case] group: &str, #[case] version: &str, #[case] api_version: &str) {
        let entry = InventoryEntry {
            id: ObjectId::new("ns", "x", group, "Kind"),
            version: version.to_owned(),
        };
        assert_eq!(entry.api_version(), api_version);
    }
}
