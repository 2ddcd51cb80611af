//! Every CEL rule (`x-kubernetes-validations`) of every generated CRD is broken by a
//! hand-written object, and the API server refuses it with the rule's message.
//!
//! The rules are found by walking `ferroflux_api::crds()`, so a rule added to a type without a
//! case here fails the test, and so does a case whose rule no longer exists.

use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::json::merge_patch;
use crate::kinds;
use crate::rejection::minimal;

/// A CEL rule found in a generated CRD.
#[derive(Debug)]
struct Rule {
    kind: String,
    /// Where the rule sits, as the API server names it in errors (`spec.kubeConfig`).
    path: String,
    cel: String,
    message: String,
}

fn rules() -> Vec<Rule> {
    let mut rules = Vec::new();
    for crd in ferroflux_api::crds() {
        let kind = crd.crd.spec.names.kind.clone();
        let crd = serde_json::to_value(&crd.crd).expect("CRDs serialize");
        for version in crd["spec"]["versions"]
            .as_array()
            .expect("CRDs have versions")
        {
            let schema = &version["schema"]["openAPIV3Schema"];
            collect(&kind, schema, "", &mut rules);
        }
    }
    rules
}

fn collect(kind: &str, schema: &Value, path: &str, out: &mut Vec<Rule>) {
    for validation in schema["x-kubernetes-validations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.push(Rule {
            kind: kind.to_owned(),
            path: path.to_owned(),
            cel: validation["rule"]
                .as_str()
                .expect("rules have CEL")
                .to_owned(),
            message: validation["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        });
    }
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    for (name, child) in schema["properties"].as_object().into_iter().flatten() {
        collect(kind, child, &join(name), out);
    }
    // Array elements and map values: the server names them with an index or key, which the
    // cases below do not need (no rule sits below an array or map today).
    for child in [&schema["items"], &schema["additionalProperties"]] {
        if child.is_object() {
            collect(kind, child, &format!("{path}[*]"), out);
        }
    }
}

/// `(kind, rule, spec merged into the minimal object to break it)`.
fn violations() -> Vec<(&'static str, &'static str, Value)> {
    let sts = |provider: &str| json!({"provider": provider, "endpoint": "https://sts.example.com"});
    let oidc = json!([{"issuerURL": "https://token.actions.githubusercontent.com",
        "validations": [{"expression": "true", "message": "always"}]}]);
    let retry_interval = |name: &str| json!({"strategy": {"name": name, "retryInterval": "1m"}});
    let both_kube_configs =
        json!({"kubeConfig": {"configMapRef": {"name": "c"}, "secretRef": {"name": "s"}}});
    vec![
        (
            "GitRepository",
            "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",
            json!({"provider": "github", "serviceAccountName": "reader"}),
        ),
        (
            "HelmChart",
            "!has(self.verify) || self.sourceRef.kind == 'HelmRepository'",
            json!({"sourceRef": {"kind": "GitRepository"}, "verify": {"provider": "cosign"}}),
        ),
        (
            "Bucket",
            "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",
            json!({"provider": "gcp", "sts": sts("aws")}),
        ),
        (
            "Bucket",
            "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",
            json!({"provider": "aws", "sts": sts("ldap")}),
        ),
        (
            "Bucket",
            "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",
            json!({"provider": "generic", "sts": sts("aws")}),
        ),
        (
            "Bucket",
            "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",
            json!({"provider": "aws", "sts": {"provider": "aws", "endpoint": "https://sts.example.com", "secretRef": {"name": "s"}}}),
        ),
        (
            "Bucket",
            "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",
            json!({"provider": "aws", "sts": {"provider": "aws", "endpoint": "https://sts.example.com", "certSecretRef": {"name": "c"}}}),
        ),
        (
            "Bucket",
            "self.provider != 'generic' || !has(self.serviceAccountName)",
            json!({"provider": "generic", "serviceAccountName": "reader"}),
        ),
        (
            "Bucket",
            "!has(self.secretRef) || !has(self.serviceAccountName)",
            json!({"provider": "aws", "secretRef": {"name": "s"}, "serviceAccountName": "reader"}),
        ),
        (
            "Kustomization",
            "has(self.configMapRef) || has(self.secretRef)",
            json!({"kubeConfig": {}}),
        ),
        (
            "Kustomization",
            "!has(self.configMapRef) || !has(self.secretRef)",
            both_kube_configs.clone(),
        ),
        (
            "HelmRelease",
            "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))",
            json!({"chartRef": {"kind": "OCIRepository", "name": "podinfo"}}),
        ),
        (
            "HelmRelease",
            "!has(self.retryInterval) || self.name != 'RemediateOnFailure'",
            json!({"install": retry_interval("RemediateOnFailure")}),
        ),
        (
            "HelmRelease",
            "!has(self.retryInterval) || self.name == 'RetryOnFailure'",
            json!({"upgrade": retry_interval("RemediateOnFailure")}),
        ),
        (
            "HelmRelease",
            "has(self.configMapRef) || has(self.secretRef)",
            json!({"kubeConfig": {}}),
        ),
        (
            "HelmRelease",
            "!has(self.configMapRef) || !has(self.secretRef)",
            both_kube_configs,
        ),
        (
            "Provider",
            "self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' || self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)",
            json!({"type": "slack", "commitStatusExpr": "'flux'"}),
        ),
        (
            "Receiver",
            "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)",
            json!({"type": "generic-oidc", "secretRef": null}),
        ),
        (
            "Receiver",
            "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0",
            json!({"type": "github", "oidcProviders": oidc.clone()}),
        ),
        (
            "Receiver",
            "self.type != 'generic-oidc' || !has(self.secretRef)",
            json!({"type": "generic-oidc", "oidcProviders": oidc}),
        ),
        (
            "Receiver",
            "self.type == 'generic-oidc' || has(self.secretRef)",
            json!({"secretRef": null}),
        ),
    ]
}

/// Each CEL rule of the generated CRDs refuses an object that breaks it, with HTTP 422 and
/// the rule's message at the rule's path.
#[tokio::test]
async fn every_cel_rule_refuses_an_object_breaking_it() {
    let rules = rules();
    let violations = violations();
    let mut failures = Vec::new();
    for rule in &rules {
        if !violations
            .iter()
            .any(|(kind, cel, _)| *kind == rule.kind && *cel == rule.cel)
        {
            failures.push(format!("no violating object for {rule:?}"));
        }
    }
    let cluster = Cluster::new("api-cel").await;
    for (index, (kind_name, cel, spec)) in violations.iter().enumerate() {
        let Some(rule) = rules.iter().find(|r| r.kind == *kind_name && r.cel == *cel) else {
            failures.push(format!("{kind_name}: no CRD has the rule {cel:?} any more"));
            continue;
        };
        let kind = kinds::by_name(kind_name);
        let mut object = cluster.localize(&minimal(kind_name), &format!("cel-{index}"));
        merge_patch(&mut object["spec"], spec);
        let expected = format!("{}: Invalid value: ", rule.path);
        match cluster.refused(&kind, &object).await {
            Err(problem) => failures.push(format!("{kind_name} {spec} (rule {cel:?}): {problem}")),
            Ok(message) if message.contains(&expected) && message.contains(&rule.message) => {}
            Ok(message) => failures.push(format!(
                "{kind_name} {spec}: expected {expected:?} and {:?}, got:\n      {message}",
                rule.message
            )),
        }
    }
    cluster.finish().await;
    assert!(
        failures.is_empty(),
        "{} problems over {} CEL rules:\n  {}",
        failures.len(),
        rules.len(),
        failures.join("\n  ")
    );
}
