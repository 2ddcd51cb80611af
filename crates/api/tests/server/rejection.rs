//! The API server refuses invalid objects (HTTP 422) with its own validation message, as it
//! does with Flux's CRDs: unknown enum values, malformed durations, URLs and lengths, wrong
//! types and missing required fields.

use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::json::merge_patch;
use crate::kinds;

/// The smallest object of `kind` the API server accepts.
pub fn minimal(kind: &str) -> Value {
    let (api_version, spec) = match kind {
        "GitRepository" => (
            "source.toolkit.fluxcd.io/v1",
            json!({"url": "https://github.com/stefanprodan/podinfo", "interval": "1m"}),
        ),
        "HelmRepository" => (
            "source.toolkit.fluxcd.io/v1",
            json!({"url": "https://stefanprodan.github.io/podinfo", "interval": "1m"}),
        ),
        "HelmChart" => (
            "source.toolkit.fluxcd.io/v1",
            json!({"chart": "podinfo", "interval": "1m",
                   "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}),
        ),
        "OCIRepository" => (
            "source.toolkit.fluxcd.io/v1",
            json!({"url": "oci://ghcr.io/stefanprodan/manifests/podinfo", "interval": "1m"}),
        ),
        "Bucket" => (
            "source.toolkit.fluxcd.io/v1",
            json!({"bucketName": "manifests", "endpoint": "minio:9000", "interval": "1m"}),
        ),
        "ExternalArtifact" => ("source.toolkit.fluxcd.io/v1", json!({})),
        "Kustomization" => (
            "kustomize.toolkit.fluxcd.io/v1",
            json!({"interval": "1m", "prune": true,
                   "sourceRef": {"kind": "GitRepository", "name": "podinfo"}}),
        ),
        "HelmRelease" => (
            "helm.toolkit.fluxcd.io/v2",
            json!({"interval": "1m", "chart": {"spec": {"chart": "podinfo",
                   "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}}}),
        ),
        "Provider" => (
            "notification.toolkit.fluxcd.io/v1beta3",
            json!({"type": "slack"}),
        ),
        "Alert" => (
            "notification.toolkit.fluxcd.io/v1beta3",
            json!({"providerRef": {"name": "slack"},
                   "eventSources": [{"kind": "GitRepository", "name": "*"}]}),
        ),
        "Receiver" => (
            "notification.toolkit.fluxcd.io/v1",
            json!({"type": "github", "secretRef": {"name": "token"},
                   "resources": [{"kind": "GitRepository", "name": "podinfo"}]}),
        ),
        other => panic!("no minimal object for {other}"),
    };
    json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "minimal"}, "spec": spec})
}

/// One invalid object: the minimal object of `kind` with `spec` merged in (`null` removes),
/// and fragments the server's message must contain.
struct Case {
    kind: &'static str,
    spec: Value,
    expected: &'static [&'static str],
}

fn case(kind: &'static str, spec: Value, expected: &'static [&'static str]) -> Case {
    Case {
        kind,
        spec,
        expected,
    }
}

const DURATION: &str = r"should match '^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$'";
const SHORT_DURATION: &str = r"should match '^([0-9]+(\.[0-9]+)?(ms|s|m))+$'";

fn cases() -> Vec<Case> {
    let long = "x".repeat(256);
    vec![
        // Unknown enum values.
        case(
            "GitRepository",
            json!({"provider": "gitlab"}),
            &[
                r#"spec.provider: Unsupported value: "gitlab": supported values: "generic", "aws", "azure", "github""#,
            ],
        ),
        case(
            "Kustomization",
            json!({"deletionPolicy": "Nope"}),
            &[
                r#"spec.deletionPolicy: Unsupported value: "Nope": supported values: "MirrorPrune", "Delete", "WaitForTermination", "Orphan""#,
            ],
        ),
        case(
            "Alert",
            json!({"eventSeverity": "warn"}),
            &[
                r#"spec.eventSeverity: Unsupported value: "warn": supported values: "info", "error""#,
            ],
        ),
        case(
            "Kustomization",
            json!({"sourceRef": {"kind": "HelmRepository"}}),
            &[r#"spec.sourceRef.kind: Unsupported value: "HelmRepository""#],
        ),
        case(
            "HelmRelease",
            json!({"install": {"strategy": {"name": "RetryForever"}}}),
            &[
                r#"spec.install.strategy.name: Unsupported value: "RetryForever": supported values: "RemediateOnFailure", "RetryOnFailure""#,
            ],
        ),
        case(
            "Provider",
            json!({"type": "email"}),
            &[r#"spec.type: Unsupported value: "email""#],
        ),
        case(
            "Receiver",
            json!({"type": "bitbucketserver"}),
            &[r#"spec.type: Unsupported value: "bitbucketserver""#],
        ),
        // Durations.
        case(
            "GitRepository",
            json!({"interval": "5 minutes"}),
            &[r#"spec.interval: Invalid value: "5 minutes""#, DURATION],
        ),
        case(
            "GitRepository",
            json!({"timeout": "1h"}),
            &[r#"spec.timeout: Invalid value: "1h""#, SHORT_DURATION],
        ),
        case(
            "Bucket",
            json!({"timeout": "2h"}),
            &[r#"spec.timeout: Invalid value: "2h""#, SHORT_DURATION],
        ),
        case(
            "Provider",
            json!({"timeout": "1h"}),
            &[r#"spec.timeout: Invalid value: "1h""#, SHORT_DURATION],
        ),
        case(
            "HelmRelease",
            json!({"upgrade": {"timeout": "ten"}}),
            &[r#"spec.upgrade.timeout: Invalid value: "ten""#, DURATION],
        ),
        // Missing required fields.
        case(
            "GitRepository",
            json!({"url": null}),
            &["spec.url: Required value"],
        ),
        case(
            "Kustomization",
            json!({"prune": null}),
            &["spec.prune: Required value"],
        ),
        case(
            "Kustomization",
            json!({"sourceRef": null}),
            &["spec.sourceRef: Required value"],
        ),
        case(
            "HelmRelease",
            json!({"interval": null}),
            &["spec.interval: Required value"],
        ),
        case(
            "Alert",
            json!({"eventSources": null}),
            &["spec.eventSources: Required value"],
        ),
        case(
            "Receiver",
            json!({"resources": null}),
            &["spec.resources: Required value"],
        ),
        case(
            "HelmChart",
            json!({"sourceRef": {"name": null}}),
            &["spec.sourceRef.name: Required value"],
        ),
        // Patterns, lengths, item counts and types.
        case(
            "GitRepository",
            json!({"url": "git@github.com:x/y"}),
            &[
                r#"spec.url: Invalid value: "git@github.com:x/y""#,
                "should match '^(http|https|ssh)://.*$'",
            ],
        ),
        case(
            "HelmRepository",
            json!({"url": "ftp://charts"}),
            &["should match '^(http|https|oci)://.*$'"],
        ),
        case(
            "OCIRepository",
            json!({"url": "https://ghcr.io/x"}),
            &["should match '^oci://.*$'"],
        ),
        case(
            "Provider",
            json!({"proxy": "socks5://proxy:1080"}),
            &["should match '^(http|https)://.*$'"],
        ),
        case(
            "Alert",
            json!({"summary": long}),
            &["spec.summary: Too long: may not be more than 255 bytes"],
        ),
        case(
            "HelmRelease",
            json!({"releaseName": "r".repeat(54)}),
            &["spec.releaseName: Too long: may not be more than 53 bytes"],
        ),
        case(
            "HelmRelease",
            json!({"valuesFrom": [{"kind": "ConfigMap", "name": "v", "valuesKey": "a b"}]}),
            &[r#"spec.valuesFrom[0].valuesKey: Invalid value: "a b""#],
        ),
        case(
            "Receiver",
            json!({"type": "generic-oidc", "secretRef": null,
                   "oidcProviders": [{"issuerURL": "ftp://issuer", "validations": []}]}),
            &[
                "spec.oidcProviders[0].issuerURL in body should match '^https?://'",
                "spec.oidcProviders[0].validations in body should have at least 1 items",
            ],
        ),
        case(
            "Kustomization",
            json!({"prune": "yes"}),
            &["spec.prune in body must be of type boolean"],
        ),
    ]
}

/// Each invalid object is refused with HTTP 422 and the expected validation message, while
/// the minimal object it was derived from is accepted.
#[tokio::test]
async fn invalid_objects_are_refused_with_the_server_message() {
    let cluster = Cluster::new("api-reject").await;
    let mut failures = Vec::new();
    for kind in kinds::all() {
        let valid = cluster.localize(&minimal(&kind.name), "valid");
        if let Err(status) = cluster.create(&kind, &valid).await {
            failures.push(format!(
                "{}: the minimal object is refused: {}",
                kind.name, status.message
            ));
        }
    }
    let cases = cases();
    for (index, case) in cases.iter().enumerate() {
        let kind = kinds::by_name(case.kind);
        let mut object = cluster.localize(&minimal(case.kind), &format!("invalid-{index}"));
        merge_patch(&mut object["spec"], &case.spec);
        match cluster.refused(&kind, &object).await {
            Err(problem) => failures.push(format!("{} {}: {problem}", case.kind, case.spec)),
            Ok(message) => {
                for expected in case.expected.iter().filter(|e| !message.contains(**e)) {
                    failures.push(format!(
                        "{} {}: message lacks {expected:?}:\n      {message}",
                        case.kind, case.spec
                    ));
                }
            }
        }
    }
    cluster.finish().await;
    assert!(
        failures.is_empty(),
        "{} problems over {} cases:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
}
