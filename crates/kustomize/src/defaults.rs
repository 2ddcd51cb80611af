//! kustomize's built-in field-spec tables (which fields each transformer touches),
//! written as compact `(selector, path, create)` rows. Selector is `Kind[:group[:version]]`.

use crate::fieldspec::FieldSpec;

type Row = (&'static str, &'static str, bool);

fn specs(rows: &[Row]) -> Vec<FieldSpec> {
    rows.iter()
        .map(|(selector, path, create)| FieldSpec::parse_compact(selector, path, *create))
        .collect()
}

const AFFINITY_PATHS: &[&str] = &[
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
];

/// Label fields on metadata and pod templates (`templateLabels`, and part of `commonLabels`).
pub fn metadata_labels() -> Vec<FieldSpec> {
    specs(&[
        ("", "metadata/labels", true),
        (
            "ReplicationController::v1",
            "spec/template/metadata/labels",
            true,
        ),
        ("Deployment", "spec/template/metadata/labels", true),
        ("ReplicaSet", "spec/template/metadata/labels", true),
        ("DaemonSet", "spec/template/metadata/labels", true),
        ("StatefulSet:apps", "spec/template/metadata/labels", true),
        (
            "StatefulSet:apps",
            "spec/volumeClaimTemplates[]/metadata/labels",
            true,
        ),
        ("Job:batch", "spec/template/metadata/labels", true),
        ("CronJob:batch", "spec/jobTemplate/metadata/labels", true),
        (
            "CronJob:batch",
            "spec/jobTemplate/spec/template/metadata/labels",
            true,
        ),
    ])
}

/// `commonLabels`: selectors as well as metadata and templates.
pub fn common_labels() -> Vec<FieldSpec> {
    let mut result = specs(&[
        ("Service::v1", "spec/selector", true),
        ("ReplicationController::v1", "spec/selector", true),
        ("Deployment", "spec/selector/matchLabels", true),
    ]);
    for path in AFFINITY_PATHS {
        result.push(FieldSpec::parse_compact("Deployment:apps", path, false));
    }
    result.extend(specs(&[
        ("ReplicaSet", "spec/selector/matchLabels", true),
        ("DaemonSet", "spec/selector/matchLabels", true),
        ("StatefulSet:apps", "spec/selector/matchLabels", true),
    ]));
    for path in AFFINITY_PATHS {
        result.push(FieldSpec::parse_compact("StatefulSet:apps", path, false));
    }
    result.extend(specs(&[
        ("Job:batch", "spec/selector/matchLabels", false),
        (
            "CronJob:batch",
            "spec/jobTemplate/spec/selector/matchLabels",
            false,
        ),
        (
            "PodDisruptionBudget:policy",
            "spec/selector/matchLabels",
            false,
        ),
        (
            "NetworkPolicy:networking.k8s.io",
            "spec/podSelector/matchLabels",
            false,
        ),
        (
            "NetworkPolicy:networking.k8s.io",
            "spec/ingress/from/podSelector/matchLabels",
            false,
        ),
        (
            "NetworkPolicy:networking.k8s.io",
            "spec/egress/to/podSelector/matchLabels",
            false,
        ),
    ]));
    result.extend(metadata_labels());
    result
}

pub fn common_annotations() -> Vec<FieldSpec> {
    specs(&[
        ("", "metadata/annotations", true),
        (
            "ReplicationController::v1",
            "spec/template/metadata/annotations",
            true,
        ),
        ("Deployment", "spec/template/metadata/annotations", true),
        ("ReplicaSet", "spec/template/metadata/annotations", true),
        ("DaemonSet", "spec/template/metadata/annotations", true),
        ("StatefulSet", "spec/template/metadata/annotations", true),
        ("Job:batch", "spec/template/metadata/annotations", true),
        (
            "CronJob:batch",
            "spec/jobTemplate/metadata/annotations",
            true,
        ),
        (
            "CronJob:batch",
            "spec/jobTemplate/spec/template/metadata/annotations",
            true,
        ),
    ])
}

pub fn namespace() -> Vec<FieldSpec> {
    specs(&[
        ("Namespace", "metadata/name", true),
        (
            "APIService:apiregistration.k8s.io",
            "spec/service/namespace",
            true,
        ),
        (
            "CustomResourceDefinition:apiextensions.k8s.io",
            "spec/conversion/webhook/clientConfig/service/namespace",
            false,
        ),
    ])
}

pub fn images() -> Vec<FieldSpec> {
    specs(&[
        ("", "spec/containers[]/image", true),
        ("", "spec/initContainers[]/image", true),
        ("", "spec/template/spec/containers[]/image", true),
        ("", "spec/template/spec/initContainers[]/image", true),
    ])
}

pub fn replicas() -> Vec<FieldSpec> {
    specs(&[
        ("Deployment", "spec/replicas", true),
        ("ReplicationController", "spec/replicas", true),
        ("ReplicaSet", "spec/replicas", true),
        ("StatefulSet", "spec/replicas", true),
    ])
}

pub fn name_prefix() -> Vec<FieldSpec> {
    specs(&[("", "metadata/name", false)])
}
