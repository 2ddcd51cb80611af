//! The install objects other than Deployments and CRDs: namespace, quota, service accounts,
//! RBAC, Services and NetworkPolicies, as in Flux's `manifests/` (rbac, policies, bases).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Namespace, ResourceQuota, ResourceQuotaSpec, ScopeSelector, ScopedResourceSelectorRequirement,
    Service, ServiceAccount, ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{CONTROLLERS, Controller, Settings};

/// The API groups of the kinds ferroflux serves.
const FLUX_GROUPS: [&str; 4] = [
    "source.toolkit.fluxcd.io",
    "kustomize.toolkit.fluxcd.io",
    "helm.toolkit.fluxcd.io",
    "notification.toolkit.fluxcd.io",
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn app_selector(app: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_owned(), app.to_owned())])
}

pub(super) fn namespace(settings: &Settings) -> Namespace {
    let mut labels = settings.labels();
    labels.insert(
        "pod-security.kubernetes.io/warn".to_owned(),
        "restricted".to_owned(),
    );
    labels.insert(
        "pod-security.kubernetes.io/warn-version".to_owned(),
        "latest".to_owned(),
    );
    Namespace {
        metadata: ObjectMeta {
            name: Some(settings.namespace.clone()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

/// Lets the controllers use the system-*-critical priority classes outside kube-system on
/// clusters that limit them through quota (GKE and others).
pub(super) fn critical_pods_quota(settings: &Settings) -> ResourceQuota {
    let name = format!("critical-pods-{}", settings.namespace);
    ResourceQuota {
        metadata: settings.namespaced(&name, settings.labels()),
        spec: Some(ResourceQuotaSpec {
            hard: Some(BTreeMap::from([(
                "pods".to_owned(),
                Quantity("1000".to_owned()),
            )])),
            scope_selector: Some(ScopeSelector {
                match_expressions: Some(vec![ScopedResourceSelectorRequirement {
                    operator: "In".to_owned(),
                    scope_name: "PriorityClass".to_owned(),
                    values: Some(strings(&[
                        "system-node-critical",
                        "system-cluster-critical",
                    ])),
                }]),
            }),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    }
}

pub(super) fn service_account(controller: &Controller, settings: &Settings) -> ServiceAccount {
    ServiceAccount {
        metadata: settings.namespaced(controller.name, settings.component_labels(controller)),
        ..ServiceAccount::default()
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

const READ: [&str; 3] = ["get", "list", "watch"];
const READ_WRITE: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// `crd-controller`: what every controller needs besides the objects it applies.
fn crd_controller_rules() -> Vec<PolicyRule> {
    let mut rules: Vec<PolicyRule> = FLUX_GROUPS
        .iter()
        .map(|group| rule(&[group], &["*"], &["*"]))
        .collect();
    rules.extend([
        rule(
            &[""],
            &["namespaces", "secrets", "configmaps", "serviceaccounts"],
            &READ,
        ),
        // Events: Flux writes core/v1 Events; kube's recorder writes events.k8s.io/v1.
        rule(&[""], &["events"], &["create", "patch"]),
        rule(&["events.k8s.io"], &["events"], &["create", "patch"]),
        // Leader election (configmaps kept for parity with Flux's lock fallback).
        rule(&[""], &["configmaps"], &READ_WRITE),
        rule(&[""], &["configmaps/status"], &["get", "update", "patch"]),
        rule(&["coordination.k8s.io"], &["leases"], &READ_WRITE),
        // Object-level workload identity.
        rule(&[""], &["serviceaccounts/token"], &["create"]),
        // API priority and fairness probe.
        PolicyRule {
            non_resource_urls: Some(strings(&["/livez/ping"])),
            verbs: strings(&["head"]),
            ..PolicyRule::default()
        },
    ]);
    rules
}

fn cluster_role(
    settings: &Settings,
    name: &str,
    aggregate_to: &[&str],
    rules: Vec<PolicyRule>,
) -> ClusterRole {
    let mut metadata = settings.cluster_scoped(name);
    let labels = metadata.labels.get_or_insert_with(BTreeMap::new);
    for role in aggregate_to {
        labels.insert(
            format!("rbac.authorization.k8s.io/aggregate-to-{role}"),
            "true".to_owned(),
        );
    }
    ClusterRole {
        metadata,
        rules: Some(rules),
        ..ClusterRole::default()
    }
}

pub(super) fn cluster_roles(settings: &Settings) -> Vec<ClusterRole> {
    vec![
        cluster_role(settings, "crd-controller", &[], crd_controller_rules()),
        cluster_role(
            settings,
            "flux-edit",
            &["admin", "edit"],
            vec![rule(
                &FLUX_GROUPS,
                &["*"],
                &["create", "delete", "deletecollection", "patch", "update"],
            )],
        ),
        cluster_role(
            settings,
            "flux-view",
            &["admin", "edit", "view"],
            vec![rule(&FLUX_GROUPS, &["*"], &READ)],
        ),
    ]
}

fn binding(
    settings: &Settings,
    name: &str,
    role: &str,
    accounts: &[&Controller],
) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: settings.cluster_scoped(name),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".to_owned()),
            kind: "ClusterRole".to_owned(),
            name: role.to_owned(),
        },
        subjects: Some(
            accounts
                .iter()
                .map(|controller| Subject {
                    kind: "ServiceAccount".to_owned(),
                    name: controller.name.to_owned(),
                    namespace: Some(settings.namespace.clone()),
                    ..Subject::default()
                })
                .collect(),
        ),
    }
}

pub(super) fn cluster_role_bindings(settings: &Settings) -> Vec<ClusterRoleBinding> {
    let all: Vec<&Controller> = CONTROLLERS.iter().collect();
    let reconcilers: Vec<&Controller> = CONTROLLERS
        .iter()
        .filter(|controller| controller.reconciles_cluster)
        .collect();
    vec![
        binding(
            settings,
            "cluster-reconciler",
            "cluster-admin",
            &reconcilers,
        ),
        binding(
            settings,
            "crd-controller",
            &format!("crd-controller-{}", settings.namespace),
            &all,
        ),
    ]
}

fn service(controller: &Controller, settings: &Settings, name: &str, target: &str) -> Service {
    let mut labels = settings.component_labels(controller);
    labels.insert("control-plane".to_owned(), "controller".to_owned());
    Service {
        metadata: settings.namespaced(name, labels),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_owned()),
            selector: Some(app_selector(controller.name)),
            ports: Some(vec![ServicePort {
                name: Some("http".to_owned()),
                port: 80,
                protocol: Some("TCP".to_owned()),
                target_port: Some(IntOrString::String(target.to_owned())),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// source-controller serves artifacts; notification-controller events and webhooks.
pub(super) fn services(controller: &Controller, settings: &Settings) -> Vec<Service> {
    if controller.is_source() {
        vec![service(controller, settings, "source-controller", "http")]
    } else if controller.is_notification() {
        vec![
            service(controller, settings, "notification-controller", "http"),
            service(controller, settings, "webhook-receiver", "http-webhook"),
        ]
    } else {
        Vec::new()
    }
}

fn network_policy(settings: &Settings, name: &str, spec: NetworkPolicySpec) -> NetworkPolicy {
    NetworkPolicy {
        metadata: settings.namespaced(name, settings.labels()),
        spec: Some(spec),
    }
}

fn from_every_namespace() -> Vec<NetworkPolicyPeer> {
    vec![NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector::default()),
        ..NetworkPolicyPeer::default()
    }]
}

/// All egress; ingress only from pods of the same namespace.
pub(super) fn allow_egress(settings: &Settings) -> NetworkPolicy {
    network_policy(
        settings,
        "allow-egress",
        NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(strings(&["Ingress", "Egress"])),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    pod_selector: Some(LabelSelector::default()),
                    ..NetworkPolicyPeer::default()
                }]),
                ..NetworkPolicyIngressRule::default()
            }]),
            egress: Some(vec![NetworkPolicyEgressRule::default()]),
        },
    )
}

/// Metrics (8080) from every namespace.
pub(super) fn allow_scraping(settings: &Settings) -> NetworkPolicy {
    network_policy(
        settings,
        "allow-scraping",
        NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(strings(&["Ingress"])),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(from_every_namespace()),
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::Int(8080)),
                    protocol: Some("TCP".to_owned()),
                    ..NetworkPolicyPort::default()
                }]),
            }]),
            ..NetworkPolicySpec::default()
        },
    )
}

/// Webhooks to notification-controller from every namespace.
pub(super) fn allow_webhooks(settings: &Settings) -> NetworkPolicy {
    network_policy(
        settings,
        "allow-webhooks",
        NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(app_selector("notification-controller")),
                ..LabelSelector::default()
            }),
            policy_types: Some(strings(&["Ingress"])),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(from_every_namespace()),
                ..NetworkPolicyIngressRule::default()
            }]),
            ..NetworkPolicySpec::default()
        },
    )
}
