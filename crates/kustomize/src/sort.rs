//! Output order: kustomize's legacy kind order unless `sortOptions` says `fifo`.

use std::cmp::Ordering;

use crate::kustomization::SortOptions;
use crate::resid::{Gvk, ResId};
use crate::resource::Resource;

const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn rank(kind: &str, first: &[String], last: &[String]) -> i64 {
    let signed = |value: usize| i64::try_from(value).unwrap_or(i64::MAX);
    if let Some(index) = first.iter().position(|name| name == kind) {
        return signed(index) - signed(first.len());
    }
    if let Some(index) = last.iter().position(|name| name == kind) {
        return signed(index) + 1;
    }
    0
}

fn gvk_order(left: &Gvk, right: &Gvk, first: &[String], last: &[String]) -> Ordering {
    let (left_rank, right_rank) = (
        rank(&left.kind, first, last),
        rank(&right.kind, first, last),
    );
    if left_rank != right_rank {
        return left_rank.cmp(&right_rank);
    }
    if left.kind == "Namespace"
        && right.kind == "Namespace"
        && (left.group.is_empty() || right.group.is_empty())
    {
        return right.sort_string().cmp(&left.sort_string());
    }
    left.sort_string().cmp(&right.sort_string())
}

/// A resource's sort key, computed once: its id and the id's text.
struct Key {
    id: ResId,
    text: String,
}

fn id_order(left: &Key, right: &Key, first: &[String], last: &[String]) -> Ordering {
    if left.id.gvk != right.id.gvk {
        return gvk_order(&left.id.gvk, &right.id.gvk, first, last);
    }
    left.text.cmp(&right.text)
}

/// Sorts in place according to the kustomization's sort options.
pub fn sort(resources: &mut Vec<Resource>, options: Option<&SortOptions>) {
    let (first, last): (Vec<String>, Vec<String>) = match options {
        Some(options) if options.order == "fifo" => return,
        Some(SortOptions {
            legacy_sort_options: Some(legacy),
            ..
        }) => (legacy.order_first.clone(), legacy.order_last.clone()),
        _ => (
            ORDER_FIRST.iter().map(|kind| (*kind).to_owned()).collect(),
            ORDER_LAST.iter().map(|kind| (*kind).to_owned()).collect(),
        ),
    };
    // Ids are computed once; the comparator then only compares them.
    let mut keyed: Vec<(Key, Resource)> = std::mem::take(resources)
        .into_iter()
        .map(|resource| {
            let id = resource.current_id();
            let text = id.to_string();
            (Key { id, text }, resource)
        })
        .collect();
    keyed.sort_by(|left, right| id_order(&left.0, &right.0, &first, &last));
    resources.extend(keyed.into_iter().map(|(_, resource)| resource));
}
