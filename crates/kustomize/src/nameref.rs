//! Name references: after prefixes, suffixes and hashes changed names, rewrite every
//! field that referred to a resource by its old name (kustomize's nameref filter).

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
    candidates: &[&Candidate],
) -> Result<(), Error> {
    match value {
        Value::String(old_name) => {
            if let Some(found) = select(context, old_name, candidates.to_vec(), false)? {
                old_name.clone_from(&found.name);
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite(item, context, candidates)?;
            }
        }
        Value::Object(map) => {
            let Some(Value::String(old_name)) = map.get("name").cloned() else {
                return Ok(());
            };
            let filtered: Vec<&Candidate> = match map.get("namespace").and_then(Value::as_str) {
                None => candidates.to_vec(),
                Some(namespace) => {
                    let by_original: Vec<&Candidate> = candidates
                        .iter()
                        .copied()
                        .filter(|candidate| {
                            candidate
                                .previous
                                .first()
                                .is_some_and(|id| id.namespace == namespace)
                        })
                        .collect();
                    if by_original.is_empty() {
                        candidates
                            .iter()
                            .copied()
                            .filter(|candidate| candidate.namespace == namespace)
                            .collect()
                    } else {
                        by_original
                    }
                }
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

/// The candidates a referrer may point at: anything when it is cluster-scoped, else
/// cluster-scoped targets, targets in its own namespace, and (for a RoleBinding) targets in
/// the namespaces its ServiceAccount subjects name.
fn reachable_from<'c>(
    resource: &Resource,
    referrer: &ResId,
    candidates: &[&'c Candidate],
) -> Vec<&'c Candidate> {
    if referrer.gvk.is_cluster_scoped() {
        return candidates.to_vec();
    }
    let mut subject_namespaces: Vec<&str> = Vec::new();
    if referrer.gvk.kind == "RoleBinding"
        && let Some(Value::Array(subjects)) = resource.object.get("subjects")
    {
        for subject in subjects {
            if subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                && let Some(namespace) = subject.get("namespace").and_then(Value::as_str)
            {
                subject_namespaces.push(namespace);
            }
        }
    }
    candidates
        .iter()
        .copied()
        .filter(|candidate| {
            candidate.current.gvk.is_cluster_scoped()
                || candidate.current.effective_namespace() == referrer.effective_namespace()
                || subject_namespaces.contains(&candidate.namespace.as_str())
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
        for resource in resources.iter_mut() {
            let gvk = resource.gvk();
            for spec in reference
                .referrers
                .iter()
                .filter(|spec| spec.applies_to(&gvk))
            {
                let referrer = Referrer {
                    id: resource.current_id(),
                    prefixes: resource.tracking.prefixes.clone(),
                    suffixes: resource.tracking.suffixes.clone(),
                };
                let role_ref = if spec.path.ends_with("roleRef/name") {
                    role_ref_gvk(resource)
                } else {
                    None
                };
                let reachable = reachable_from(resource, &referrer.id, &candidates);
                let context = Context {
                    target: &reference.target,
                    referrer: &referrer,
                    role_ref,
                };
                visit_path(
                    &mut resource.object,
                    &split_path(&spec.path),
                    false,
                    &mut |value| rewrite(value, &context, &reachable),
                )?;
            }
        }
    }
    Ok(())
}
