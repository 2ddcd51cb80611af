//! Name references: after prefixes, suffixes and hashes changed names, rewrite every
//! field that referred to a resource by its old name (kustomize's nameref filter).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::Error;
use crate::config::NameBackReference;
use crate::fieldspec::{split_path, visit_path};
use crate::resid::{Gvk, ResId};
use crate::resource::Resource;

/// A snapshot of a possible referral target.
struct Candidate {
    previous: Vec<ResId>,
    current: ResId,
    name: String,
    namespace: String,
    kind: String,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

fn same_ending(shorter: &[String], longer: &[String]) -> bool {
    let (shorter, longer) = if shorter.len() > longer.len() {
        (longer, shorter)
    } else {
        (shorter, longer)
    };
    if shorter.is_empty() {
        return longer.is_empty();
    }
    longer.ends_with(shorter)
}

fn affixes_equal(candidate: &Candidate, referrer: &Referrer, allow_empty: bool) -> bool {
    let (prefixes, suffixes) = (&referrer.prefixes, &referrer.suffixes);
    if allow_empty {
        (candidate.prefixes.is_empty()
            || prefixes.is_empty()
            || same_ending(&candidate.prefixes, prefixes))
            && (candidate.suffixes.is_empty()
                || suffixes.is_empty()
                || same_ending(&candidate.suffixes, suffixes))
    } else {
        same_ending(&candidate.prefixes, prefixes) && same_ending(&candidate.suffixes, suffixes)
    }
}

/// What name selection needs to know about the resource holding the reference.
struct Referrer {
    id: ResId,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

struct Context<'a> {
    target: &'a Gvk,
    referrer: &'a Referrer,
    role_ref: Option<Gvk>,
}

fn select<'c>(
    context: &Context<'_>,
    old_name: &str,
    candidates: Vec<&'c Candidate>,
    same_namespace_too: bool,
) -> Result<Option<&'c Candidate>, Error> {
    let referrer_id = &context.referrer.id;
    let mut picked: Vec<&Candidate> = candidates
        .into_iter()
        .filter(|candidate| candidate.previous.iter().any(|id| id.name == old_name))
        .filter(|candidate| {
            candidate
                .previous
                .iter()
                .any(|id| id.gvk.is_selected_by(context.target))
        })
        .filter(|candidate| {
            context.role_ref.as_ref().is_none_or(|gvk| {
                candidate
                    .previous
                    .iter()
                    .any(|id| id.gvk.is_selected_by(gvk))
            })
        })
        .filter(|candidate| {
            referrer_id.gvk.is_cluster_scoped()
                || candidate.current.gvk.is_cluster_scoped()
                || candidate.kind == "ServiceAccount"
                || referrer_id.effective_namespace() == candidate.current.effective_namespace()
        })
        .collect();
    if picked.len() == 1 {
        return Ok(picked.pop());
    }
    picked.retain(|candidate| affixes_equal(candidate, context.referrer, true));
    if picked.len() > 1 {
        picked.retain(|candidate| affixes_equal(candidate, context.referrer, false));
    }
    match picked.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        [first, rest @ ..] => {
            let identical = rest.iter().all(|other| {
                other.name == first.name
                    && (!same_namespace_too || other.namespace == first.namespace)
            });
            if identical {
                Ok(Some(*first))
            } else {
                let ids: Vec<String> = picked
                    .iter()
                    .map(|candidate| candidate.current.to_string())
                    .collect();
                Err(Error::build(format!(
                    "found multiple possible referrals: {}",
                    ids.join(", ")
                )))
            }
        }
    }
}

fn rewrite(
    value: &mut Value,
    context: &Context<'_>,
    reachable: &Reachable<'_>,
) -> Result<(), Error> {
    match value {
        Value::String(old_name) => {
            if let Some(found) = select(context, old_name, reachable.named(old_name), false)? {
                old_name.clone_from(&found.name);
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite(item, context, reachable)?;
            }
        }
        Value::Object(map) => {
            let Some(Value::String(old_name)) = map.get("name").cloned() else {
                return Ok(());
            };
            let named = reachable.named(&old_name);
            let filtered: Vec<&Candidate> = match map.get("namespace").and_then(Value::as_str) {
                None => named,
                // Candidates whose original namespace is the one written, when any reachable
                // candidate has it; else those whose current namespace is.
                Some(namespace) if reachable.first_namespaces.contains(namespace) => named
                    .into_iter()
                    .filter(|candidate| {
                        candidate
                            .previous
                            .first()
                            .is_some_and(|id| id.namespace == namespace)
                    })
                    .collect(),
                Some(namespace) => named
                    .into_iter()
                    .filter(|candidate| candidate.namespace == namespace)
                    .collect(),
            };
            if let Some(found) = select(context, &old_name, filtered, true)? {
                if found.name == old_name && found.namespace.is_empty() {
                    return Ok(());
                }
                map.insert("name".to_owned(), Value::String(found.name.clone()));
                if !found.namespace.is_empty() {
                    map.insert(
                        "namespace".to_owned(),
                        Value::String(found.namespace.clone()),
                    );
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The candidates one referrer may point at, indexed by the names they had.
struct Reachable<'c> {
    /// Candidate indices (in snapshot order) by every name in their id history.
    by_name: HashMap<&'c str, Vec<&'c Candidate>>,
    /// The original namespaces of the reachable candidates.
    first_namespaces: HashSet<&'c str>,
}

impl<'c> Reachable<'c> {
    fn new(candidates: Vec<&'c Candidate>) -> Self {
        let mut by_name: HashMap<&str, Vec<&Candidate>> = HashMap::new();
        let mut first_namespaces = HashSet::new();
        for candidate in candidates {
            if let Some(first) = candidate.previous.first() {
                first_namespaces.insert(first.namespace.as_str());
            }
            for (index, id) in candidate.previous.iter().enumerate() {
                let seen = candidate.previous[..index]
                    .iter()
                    .any(|earlier| earlier.name == id.name);
                if !seen {
                    by_name.entry(id.name.as_str()).or_default().push(candidate);
                }
            }
        }
        Self {
            by_name,
            first_namespaces,
        }
    }

    /// The candidates that were once called `name`, in snapshot order.
    fn named(&self, name: &str) -> Vec<&'c Candidate> {
        self.by_name.get(name).cloned().unwrap_or_default()
    }
}

/// What decides which candidates a referrer reaches: being cluster-scoped, its effective
/// namespace, and (for a RoleBinding) the namespaces its ServiceAccount subjects name.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Scope {
    cluster: bool,
    namespace: String,
    subject_namespaces: Vec<String>,
}

fn scope_of(resource: &Resource, referrer: &ResId) -> Scope {
    let mut subject_namespaces = Vec::new();
    if referrer.gvk.kind == "RoleBinding"
        && let Some(Value::Array(subjects)) = resource.object.get("subjects")
    {
        for subject in subjects {
            if subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                && let Some(namespace) = subject.get("namespace").and_then(Value::as_str)
            {
                subject_namespaces.push(namespace.to_owned());
            }
        }
    }
    Scope {
        cluster: referrer.gvk.is_cluster_scoped(),
        namespace: referrer.effective_namespace().to_owned(),
        subject_namespaces,
    }
}

/// The candidates a referrer may point at: anything when it is cluster-scoped, else
/// cluster-scoped targets, targets in its own namespace, and (for a RoleBinding) targets in
/// the namespaces its ServiceAccount subjects name.
fn reachable_from<'c>(scope: &Scope, candidates: &[&'c Candidate]) -> Vec<&'c Candidate> {
    if scope.cluster {
        return candidates.to_vec();
    }
    candidates
        .iter()
        .copied()
        .filter(|candidate| {
            candidate.current.gvk.is_cluster_scoped()
                || candidate.current.effective_namespace() == scope.namespace
                || scope.subject_namespaces.contains(&candidate.namespace)
        })
        .collect()
}

fn role_ref_gvk(resource: &Resource) -> Option<Gvk> {
    let role_ref = resource.object.get("roleRef")?;
    Some(Gvk {
        group: role_ref.get("apiGroup")?.as_str()?.to_owned(),
        version: String::new(),
        kind: role_ref.get("kind")?.as_str()?.to_owned(),
    })
}

/// Rewrites references in all resources using the name-reference table.
pub fn fix_back_references(
    resources: &mut [Resource],
    table: &[NameBackReference],
) -> Result<(), Error> {
    let snapshot: Vec<Candidate> = resources
        .iter()
        .map(|resource| Candidate {
            previous: if resource.tracking.previous.is_empty() {
                Vec::new()
            } else {
                resource.tracking.previous.clone()
            },
            current: resource.current_id(),
            name: resource.name(),
            namespace: resource.namespace(),
            kind: resource.kind(),
            prefixes: resource.tracking.prefixes.clone(),
            suffixes: resource.tracking.suffixes.clone(),
        })
        .collect();
    for reference in table {
        let candidates: Vec<&Candidate> = snapshot
            .iter()
            .filter(|candidate| {
                candidate.current.gvk.is_selected_by(&reference.target)
                    || candidate
                        .previous
                        .iter()
                        .any(|id| id.gvk.is_selected_by(&reference.target))
            })
            .collect();
        if candidates.is_empty() {
            continue;
        }
        // Referrers in the same scope reach the same candidates: index them once per scope.
        let mut scopes: HashMap<Scope, Reachable<'_>> = HashMap::new();
        for resource in resources.iter_mut() {
            let gvk = resource.gvk();
            let specs: Vec<_> = reference
                .referrers
                .iter()
                .filter(|spec| spec.applies_to(&gvk))
                .collect();
            if specs.is_empty() {
                continue;
            }
            let referrer = Referrer {
                id: resource.current_id(),
                prefixes: resource.tracking.prefixes.clone(),
                suffixes: resource.tracking.suffixes.clone(),
            };
            let scope = scope_of(resource, &referrer.id);
            for spec in specs {
                let role_ref = if spec.path.ends_with("roleRef/name") {
                    role_ref_gvk(resource)
                } else {
                    None
                };
                let context = Context {
                    target: &reference.target,
                    referrer: &referrer,
                    role_ref,
                };
                let object = &mut resource.object;
                visit_path(object, &split_path(&spec.path), false, &mut |value| {
                    let reachable = scopes
                        .entry(scope.clone())
                        .or_insert_with(|| Reachable::new(reachable_from(&scope, &candidates)));
                    rewrite(value, &context, reachable)
                })?;
            }
        }
    }
    Ok(())
}
