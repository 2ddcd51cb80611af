//! Splitting rendered files into documents, separating hooks, and ordering manifests
//! by kind (Helm's `releaseutil.SortManifests` with `InstallOrder`).

use crate::error::Error;
use std::collections::BTreeMap;

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

/// Go's `\s`: ASCII whitespace without the vertical tab.
fn is_go_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// The index after the whitespace starting at `from`.
fn skip_space(bytes: &[u8], mut from: usize) -> usize {
    while from < bytes.len() && is_go_space(bytes[from]) {
        from += 1;
    }
    from
}

/// `releaseutil.SplitManifests`: documents in order, trimmed, empty ones dropped.
///
/// Splits on what Helm's `(?:^|\s*\n)---\s*` matches, leftmost first, without a regex:
/// `---` at the very start, or a whitespace run ending in a newline before `---`; either
/// with the whitespace after it.
pub fn split_manifests(text: &str) -> Vec<String> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    if text.starts_with("---") {
        start = skip_space(bytes, 3);
    }
    let mut search = start;
    while let Some(found) = text[search..].find("\n---") {
        let newline = search + found;
        let mut match_start = newline;
        while match_start > search && is_go_space(bytes[match_start - 1]) {
            match_start -= 1;
        }
        pieces.push(&text[start..match_start]);
        start = skip_space(bytes, newline + 4);
        search = start;
    }
    pieces.push(&text[start..]);
    pieces
        .into_iter()
        .filter(|d| !d.is_empty())
        .map(|d| d.trim().to_owned())
        .collect()
}

/// The document heads, parsed on several threads when there are many documents (the
/// YAML check of every rendered document is most of a large chart's rendering time).
/// Results stay in document order, so the first error reported is the one a sequential
/// parse would meet.
fn parse_heads(documents: &[(&String, String)]) -> Vec<Result<serde_json::Value, String>> {
    const PER_THREAD: usize = 256;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(documents.len().div_ceil(PER_THREAD))
        .max(1);
    let parse = |chunk: &[(&String, String)]| {
        chunk
            .iter()
            .map(|(_, document)| crate::yaml::parse_document_head(document))
            .collect::<Vec<_>>()
    };
    if threads == 1 {
        return parse(documents);
    }
    let size = documents.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = documents
            .chunks(size)
            .map(|chunk| scope.spawn(move || parse(chunk)))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Sorts rendered files into hooks and manifests, each in install order.
pub fn sort_manifests(
    files: &BTreeMap<String, String>,
) -> Result<(Vec<Hook>, Vec<Manifest>), Error> {
    let mut hooks = Vec::new();
    let mut manifests = Vec::new();
    let mut documents: Vec<(&String, String)> = Vec::new();
    for (path, content) in files {
        if path.rsplit('/').next().is_some_and(|b| b.starts_with('_')) || content.trim().is_empty()
        {
            continue;
        }
        documents.extend(split_manifests(content).into_iter().map(|d| (path, d)));
    }
    let heads = parse_heads(&documents);
    for ((path, document), head) in documents.into_iter().zip(heads) {
        let head = head.map_err(|e| {
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

#[cfg(test)]
mod tests {
    use super::split_manifests;

    #[test]
    fn splits_like_helms_separator_regex() {
        assert_eq!(split_manifests("---\na: 1\n---\nb: 2\n"), ["a: 1", "b: 2"]);
        assert_eq!(split_manifests("a: 1\n  \n---  \n\nb: 2"), ["a: 1", "b: 2"]);
        assert_eq!(split_manifests("a\n---\n---\nb"), ["a", "---\nb"]);
        assert_eq!(split_manifests("a\n---x"), ["a", "x"]);
        assert_eq!(split_manifests("a --- b"), ["a --- b"]);
        assert_eq!(split_manifests("---"), Vec::<String>::new());
        assert_eq!(split_manifests(""), Vec::<String>::new());
        assert_eq!(split_manifests("a\n---\n\n---\nb"), ["a", "---\nb"]);
    }

    /// The regex Helm uses, applied the same way, on every short string over an alphabet
    /// of separator parts.
    #[test]
    fn agrees_with_the_regex() {
        let separator = regex::Regex::new(r"(?:^|\s*\n)---\s*").expect("valid regex");
        let by_regex = |text: &str| -> Vec<String> {
            separator
                .split(text.trim())
                .filter(|d| !d.is_empty())
                .map(|d| d.trim().to_owned())
                .collect()
        };
        let parts = ["---", "\n", " ", "a", "-", "\t"];
        let mut stack = vec![String::new()];
        while let Some(text) = stack.pop() {
            assert_eq!(split_manifests(&text), by_regex(&text), "{text:?}");
            if text.len() < 9 {
                stack.extend(parts.iter().map(|p| format!("{text}{p}")));
            }
        }
    }
}
