//! The controller Deployments, as Flux's `config/manager/deployment.yaml` plus the patches
//! `flux install` applies (events address, service account, priority class, node selector).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    HTTPGetAction, ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SeccompProfile, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Controller, Settings};

/// Port of the artifact server (source) and event receiver (notification).
const HTTP_PORT: i32 = 9090;
const WEBHOOK_PORT: i32 = 9292;
const METRICS_PORT: i32 = 8080;
const HEALTH_PORT: i32 = 9440;

pub(super) fn deployment(controller: &Controller, settings: &Settings) -> Deployment {
    let mut labels = settings.component_labels(controller);
    labels.insert("control-plane".to_owned(), "controller".to_owned());
    let mut pod_labels = settings.component_labels(controller);
    pod_labels.insert("app".to_owned(), controller.name.to_owned());
    Deployment {
        metadata: settings.namespaced(controller.name, labels),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    "app".to_owned(),
                    controller.name.to_owned(),
                )])),
                ..LabelSelector::default()
            },
            // Two source-controllers would fight over the artifact volume during a rollout.
            strategy: controller.is_source().then(|| DeploymentStrategy {
                type_: Some("Recreate".to_owned()),
                ..DeploymentStrategy::default()
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some(BTreeMap::from([
                        ("prometheus.io/port".to_owned(), METRICS_PORT.to_string()),
                        ("prometheus.io/scrape".to_owned(), "true".to_owned()),
                    ])),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod_spec(controller, settings)),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// The /tmp volume's name differs between Flux's controllers; we keep each one's.
fn tmp_volume(controller: &Controller) -> &'static str {
    if controller.is_source() {
        "tmp"
    } else {
        "temp"
    }
}

fn pod_spec(controller: &Controller, settings: &Settings) -> PodSpec {
    let mut volumes = Vec::new();
    if controller.is_source() {
        volumes.push(empty_dir("data"));
    }
    volumes.push(empty_dir(tmp_volume(controller)));
    PodSpec {
        containers: vec![container(controller, settings)],
        node_selector: Some(BTreeMap::from([(
            "kubernetes.io/os".to_owned(),
            "linux".to_owned(),
        )])),
        priority_class_name: controller
            .critical
            .then(|| "system-cluster-critical".to_owned()),
        // Required for AWS IAM roles for service accounts (the projected token's group).
        security_context: Some(PodSecurityContext {
            fs_group: Some(1337),
            ..PodSecurityContext::default()
        }),
        service_account_name: Some(controller.name.to_owned()),
        termination_grace_period_seconds: Some(controller.grace_seconds),
        volumes: Some(volumes),
        ..PodSpec::default()
    }
}

fn container(controller: &Controller, settings: &Settings) -> Container {
    let mut mounts = Vec::new();
    if controller.is_source() {
        mounts.push(mount("data", "/data"));
    }
    mounts.push(mount(tmp_volume(controller), "/tmp"));
    let readiness = if controller.is_source() {
        http_probe("/", "http")
    } else {
        http_probe("/readyz", "healthz")
    };
    Container {
        name: "manager".to_owned(),
        image: Some(settings.image.clone()),
        image_pull_policy: Some(settings.image_pull_policy.clone()),
        command: Some(vec![format!("/usr/local/bin/{}", controller.name)]),
        args: Some(args(controller, settings)),
        env: Some(vec![EnvVar {
            name: "RUNTIME_NAMESPACE".to_owned(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.namespace".to_owned(),
                    ..ObjectFieldSelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        }]),
        ports: Some(ports(controller)),
        liveness_probe: Some(http_probe("/healthz", "healthz")),
        readiness_probe: Some(readiness),
        resources: Some(resources(controller)),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                ..Capabilities::default()
            }),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".to_owned(),
                ..SeccompProfile::default()
            }),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(mounts),
        ..Container::default()
    }
}

/// The args `flux install` ends up with, in its order.
fn args(controller: &Controller, settings: &Settings) -> Vec<String> {
    let mut args = Vec::new();
    // notification-controller receives the events itself.
    if !controller.is_notification() {
        args.push(format!(
            "--events-addr=http://notification-controller.{}.svc.cluster.local./",
            settings.namespace
        ));
    }
    args.extend([
        format!("--watch-all-namespaces={}", settings.watch_all_namespaces),
        format!("--log-level={}", settings.log_level),
        "--log-encoding=json".to_owned(),
        "--enable-leader-election".to_owned(),
    ]);
    if controller.is_source() {
        args.extend([
            "--storage-path=/data".to_owned(),
            "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."
                .to_owned(),
        ]);
    }
    args
}

fn ports(controller: &Controller) -> Vec<ContainerPort> {
    let mut ports = Vec::new();
    if controller.is_source() || controller.is_notification() {
        ports.push(port("http", HTTP_PORT));
    }
    if controller.is_notification() {
        ports.push(port("http-webhook", WEBHOOK_PORT));
    }
    ports.push(port("http-prom", METRICS_PORT));
    ports.push(port("healthz", HEALTH_PORT));
    ports
}

/// Flux's requests and limits.
pub(super) fn resources(controller: &Controller) -> ResourceRequirements {
    let quantities = |cpu: &str, memory: &str| {
        BTreeMap::from([
            ("cpu".to_owned(), Quantity(cpu.to_owned())),
            ("memory".to_owned(), Quantity(memory.to_owned())),
        ])
    };
    ResourceRequirements {
        limits: Some(quantities("1000m", "1Gi")),
        requests: Some(quantities(controller.cpu_request, "64Mi")),
        ..ResourceRequirements::default()
    }
}

fn port(name: &str, number: i32) -> ContainerPort {
    ContainerPort {
        container_port: number,
        name: Some(name.to_owned()),
        protocol: Some("TCP".to_owned()),
        ..ContainerPort::default()
    }
}

fn http_probe(path: &str, port: &str) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String(port.to_owned()),
            ..HTTPGetAction::default()
        }),
        ..Probe::default()
    }
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        ..VolumeMount::default()
    }
}
