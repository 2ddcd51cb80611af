//! `spec.healthCheckExprs`: the health of a custom resource decided by CEL expressions
//! (kstatus alone would call these objects Current: they have no conditions).

use ferroflux_api::meta::{ConditionStatus, CustomHealthCheck, DependencyReference};

use crate::harness::Harness;

/// No status subresource: the status comes from Git, so the test decides the phase.
const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.cel.ferroflux.dev
spec:
  group: cel.ferroflux.dev
  names:
    kind: Widget
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
";

fn widget(name: &str, phase: &str) -> String {
    format!(
        "apiVersion: cel.ferroflux.dev/v1\nkind: Widget\nmetadata:\n  name: {name}\nstatus:\n  phase: {phase}\n"
    )
}

fn exprs(current: &str) -> Vec<CustomHealthCheck> {
    vec![CustomHealthCheck {
        api_version: "cel.ferroflux.dev/v1".into(),
        kind: Some("Widget".into()),
        in_progress: Some("status.phase == 'Pending'".into()),
        failed: Some("status.phase == 'Broken'".into()),
        current: current.into(),
    }]
}

#[tokio::test]
async fn health_check_exprs_decide_custom_resource_health() {
    let ready = widget("ready", "Ready");
    let broken = widget("broken", "Broken");
    let harness = Harness::start(
        "ks-cel",
        &[
            ("good/crd.yaml", CRD),
            ("good/widget.yaml", &ready),
            ("bad/widget.yaml", &broken),
        ],
    )
    .await;

    let mut good = harness.spec("./good");
    good.wait = Some(true);
    good.timeout = Some("30s".into());
    good.health_check_exprs = Some(exprs("status.phase == 'Ready'"));
    harness.create("good", good).await;
    let object = harness
        .wait_ready("good", ConditionStatus::True, None)
        .await;
    let healthy = object
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Healthy"))
        .expect("Healthy condition");
    assert_eq!(healthy.status, ConditionStatus::True);

    // The `failed` expression is true: the wait stops early and names the object.
    let mut bad = harness.spec("./bad");
    bad.wait = Some(true);
    bad.timeout = Some("30s".into());
    bad.health_check_exprs = Some(exprs("status.phase == 'Ready'"));
    bad.depends_on = Some(vec![DependencyReference {
        name: "good".into(),
        namespace: None,
        ready_expr: None,
    }]);
    harness.create("bad", bad).await;
    let object = harness
        .wait_ready("bad", ConditionStatus::False, Some("stalled resources"))
        .await;
    let (reason, message) = Harness::ready(&object);
    assert_eq!(reason, "HealthCheckFailed");
    assert!(
        message.contains(&format!("Widget/{}/broken status: 'Failed'", harness.ns())),
        "{message}"
    );

    // An expression that does not parse stalls the Kustomization.
    let mut invalid = harness.spec("./good");
    invalid.wait = Some(true);
    invalid.name_prefix = Some("invalid-".into());
    invalid.health_check_exprs = Some(exprs("status.phase =="));
    harness.create("invalid", invalid).await;
    let object = harness
        .wait_ready("invalid", ConditionStatus::False, Some("CEL"))
        .await;
    let (reason, _) = Harness::ready(&object);
    assert_eq!(reason, "InvalidCELExpression");
    let stalled = object
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Stalled"))
        .expect("Stalled condition");
    assert_eq!(stalled.reason, "InvalidCELExpression");
}

fn depends_on(name: &str, ready_expr: &str) -> Vec<DependencyReference> {
    vec![DependencyReference {
        name: name.into(),
        namespace: None,
        ready_expr: Some(ready_expr.into()),
    }]
}

#[tokio::test]
async fn depends_on_ready_expr_replaces_the_built_in_readiness_check() {
    let config_map =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n";
    let harness = Harness::start("ks-ready-expr", &[("app/settings.yaml", config_map)]).await;
    // The dependency is never Ready: its path does not exist.
    harness.create("db", harness.spec("./missing")).await;
    harness
        .wait_ready("db", ConditionStatus::False, Some("missing"))
        .await;

    // An expression that holds lets the dependent through, whatever the dependency's Ready
    // condition says (Flux without the AdditiveCELDependencyCheck feature gate).
    let mut gated = harness.spec("./app");
    gated.name_prefix = Some("gated-".into());
    gated.depends_on = Some(depends_on(
        "db",
        "dep.metadata.name == 'db' && self.metadata.name == 'gated'",
    ));
    harness.create("gated", gated).await;
    harness
        .wait_ready("gated", ConditionStatus::True, None)
        .await;

    // One that does not hold keeps it waiting.
    let mut waiting = harness.spec("./app");
    waiting.name_prefix = Some("waiting-".into());
    waiting.depends_on = Some(depends_on(
        "db",
        "dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
    ));
    harness.create("waiting", waiting).await;
    let object = harness
        .wait_ready("waiting", ConditionStatus::False, Some("readyExpr"))
        .await;
    let (reason, message) = Harness::ready(&object);
    assert_eq!(reason, "DependencyNotReady");
    assert!(
        message.starts_with(&format!(
            "dependency '{}/db' is not ready according to readyExpr eval",
            harness.ns()
        )),
        "{message}"
    );

    // One that does not parse stalls it.
    let mut invalid = harness.spec("./app");
    invalid.name_prefix = Some("invalid-".into());
    invalid.depends_on = Some(depends_on("db", "dep.metadata.name =="));
    harness.create("invalid", invalid).await;
    let object = harness
        .wait_ready("invalid", ConditionStatus::False, Some("terminally"))
        .await;
    let (reason, message) = Harness::ready(&object);
    assert_eq!(reason, "InvalidCELExpression");
    assert!(
        message.starts_with(
            "Reconciliation failed terminally due to configuration error: failed to evaluate dependency db: failed to parse the CEL expression"
        ),
        "{message}"
    );
}
