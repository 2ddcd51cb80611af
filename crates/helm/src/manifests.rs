//! Splitting rendered files into documents, separating hooks, and ordering manifests
//! by kind (Helm's `releaseutil.SortManifests` with `InstallOrder`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::Error;

/// Kinds in the order Helm installs them; other kinds follow, alphabetically.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One non-hook document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Template path it came from.
    pub name: String,
    /// The document text (trimmed).
    pub content: String,
    /// Its `kind`.
    pub kind: String,
}

/// One hook document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    /// `metadata.name`
    pub name: String,
    /// `kind`
    pub kind: String,
    /// Template path.
    pub path: String,
    /// Document text.
    pub manifest: String,
    /// Hook events (`pre-install`, ...).
    pub events: Vec<String>,
    /// `helm.sh/hook-weight` (0 when absent or invalid).
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` entries.
    pub delete_policies: Vec<String>,
}

static SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|\s*\n)---\s*").expect("valid regex"));

/// `releaseutil.SplitManifests`: documents in order, trimmed, empty ones dropped.
pub fn split_manifests(text: &str) -> Vec<String> {
    SEPARATOR
        .split(text.trim())
        .filter(|d| !d.is_empty())
        .map(|d| d.trim().to_owned())
        .collect()
}

/// Sorts rendered files into hooks and manifests, each in install order.
pub fn sort_manifests(
    files: &BTreeMap<String, String>,
) -> Result<(Vec<Hook>, Vec<Manifest>), Error> {
    let mut hooks = Vec::new();
    let mut manifests = Vec::new();
    for (path, content) in files {
        if path.rsplit('/').next().is_some_and(|b| b.starts_with('_')) || content.trim().is_empty()
        {
            continue;
        }
        for document in split_manifests(content) {
            let head = crate::yaml::parse_document(&document).map_err(|e| {
                Error::Render(format!(
                    "YAML parse error on {path}: error converting YAML to JSON: {e}"
                ))
            })?;
            let kind = head
                .get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or_default()
                .to_owned();
            let metadata = head.get("metadata");
            let annotations = metadata
                .and_then(|m| m.get("annotations"))
                .and_then(|a| a.as_object());
            let annotation = |key: &str| {
                annotations
                    .and_then(|a| a.get(key))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            let Some(hook_types) = annotation("helm.sh/hook") else {
                manifests.push(Manifest {
                    name: path.clone(),
                    content: document,
                    kind,
                });
                continue;
            };
            let events: Vec<String> = hook_types
                .split(',')
                .map(|h| h.trim().to_lowercase())
                .collect();
            if events.iter().any(|e| !HOOK_EVENTS.contains(&e.as_str())) {
                continue;
            }
            hooks.push(Hook {
                name: metadata
                    .and_then(|m| m.get("name"))
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                kind,
                path: path.clone(),
                manifest: document,
                events: events
                    .into_iter()
                    .map(|e| {
                        if e == "test-success" {
                            "test".to_owned()
                        } else {
                            e
                        }
                    })
                    .collect(),
                weight: annotation("helm.sh/hook-weight")
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(0),
                delete_policies: annotation("helm.sh/hook-delete-policy")
                    .map(|p| p.split(',').map(|s| s.trim().to_lowercase()).collect())
                    .unwrap_or_default(),
            });
        }
    }
    hooks.sort_by(|a, b| kind_order(&a.kind, &b.kind));
    manifests.sort_by(|a, b| kind_order(&a.kind, &b.kind));
    Ok((hooks, manifests))
}

fn kind_order(a: &str, b: &str) -> std::cmp::Ordering {
    let position = |k: &str| INSTALL_ORDER.iter().position(|o| *o == k);
    match (position(a), position(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}
