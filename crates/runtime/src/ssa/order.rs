//! Apply stages and the order of kinds inside a stage (Flux's `ReconcileOrder`).

use std::cmp::Ordering;

use serde_json::Value;

use super::inventory::ObjectId;

/// Kinds applied first, in this order.
const FIRST: [&str; 23] = [
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
/// Kinds applied last, in this order (webhooks must not block the other objects).
const LAST: [&str; 2] = [
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The stage an object is applied in; stages run in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// CustomResourceDefinitions, Namespaces and ClusterRoles (then waited for).
    ClusterDefinitions,
    /// Kinds whose name ends in `Class` (then waited for).
    Classes,
    /// Everything else.
    Resources,
}

impl Stage {
    /// The stage of an object given as JSON.
    pub fn of(object: &Value) -> Self {
        let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        let lower = kind.to_ascii_lowercase();
        let definition = (lower == "customresourcedefinition"
            && api_version.starts_with("apiextensions.k8s.io/"))
            || (lower == "namespace" && api_version == "v1")
            || (lower == "clusterrole" && api_version.starts_with("rbac.authorization.k8s.io/"));
        if definition {
            Self::ClusterDefinitions
        } else if kind.ends_with("Class") {
            Self::Classes
        } else {
            Self::Resources
        }
    }

    /// Whether the stage is waited for before the next one starts.
    pub fn waits(self) -> bool {
        self != Self::Resources
    }
}

/// The rank of a kind: negative for the first kinds, 0 for others, positive for the last.
fn rank(kind: &str) -> isize {
    let position = |list: &[&str]| list.iter().position(|k| *k == kind);
    #[expect(
        clippy::cast_possible_wrap,
        reason = "the kind lists have a few dozen entries"
    )]
    if let Some(index) = position(&FIRST) {
        index as isize - FIRST.len() as isize
    } else if let Some(index) = position(&LAST) {
        index as isize + 1
    } else {
        0
    }
}

/// Flux's apply order: by kind rank, then group, kind, namespace and name.
pub fn compare(a: &ObjectId, b: &ObjectId) -> Ordering {
    rank(&a.kind)
        .cmp(&rank(&b.kind))
        .then_with(|| a.group.cmp(&b.group))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.namespace.cmp(&b.namespace))
        .then_with(|| a.name.cmp(&b.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    #[rstest]
    #[case(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        Stage::ClusterDefinitions
    )]
    #[case("v1", "Namespace", Stage::ClusterDefinitions)]
    #[case(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        Stage::ClusterDefinitions
    )]
    #[case("example.com/v1", "Namespace", Stage::Resources)]
    #[case("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", Stage::Resources)]
    #[case("storage.k8s.io/v1", "StorageClass", Stage::Classes)]
    #[case("gateway.networking.k8s.io/v1", "GatewayClass", Stage::Classes)]
    #[case("example.com/v1", "WidgetClass", Stage::Classes)]
    #[case("apps/v1", "Deployment", Stage::Resources)]
    #[case("example.com/v1", "Widget", Stage::Resources)]
    fn stages(#[case] api_version: &str, #[case] kind: &str, #[case] stage: Stage) {
        let object = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}});
        assert_eq!(Stage::of(&object), stage);
    }

    #[test]
    fn sorts_by_flux_kind_order() {
        let mut ids = vec![
            ObjectId::new(
                "",
                "vwh",
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
            ),
            ObjectId::new("ns", "w", "example.com", "Widget"),
            ObjectId::new("ns", "b", "apps", "Deployment"),
            ObjectId::new("ns", "a", "apps", "Deployment"),
            ObjectId::new("ns", "svc", "", "Service"),
            ObjectId::new(
                "",
                "mwh",
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration",
            ),
            ObjectId::new("ns", "cm", "", "ConfigMap"),
            ObjectId::new("", "ns", "", "Namespace"),
            ObjectId::new(
                "",
                "crd",
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
            ),
            ObjectId::new("ns", "job", "batch", "Job"),
            ObjectId::new("other", "a", "apps", "Deployment"),
        ];
        ids.sort_by(compare);
        let subjects: Vec<String> = ids.iter().map(ObjectId::subject).collect();
        assert_eq!(
            subjects,
            [
                "CustomResourceDefinition/crd",
                "Namespace/ns",
                "ConfigMap/ns/cm",
                "Service/ns/svc",
                "Deployment/ns/a",
                "Deployment/ns/b",
                "Deployment/other/a",
                "Job/ns/job",
                "Widget/ns/w",
                "MutatingWebhookConfiguration/mwh",
                "ValidatingWebhookConfiguration/vwh",
            ]
        );
    }

    #[test]
    fn ranks() {
        assert!(rank("CustomResourceDefinition") < rank("Namespace"));
        assert!(rank("PodDisruptionBudget") < rank("Widget"));
        assert_eq!(rank("Widget"), 0);
        assert!(rank("MutatingWebhookConfiguration") < rank("ValidatingWebhookConfiguration"));
    }
}
