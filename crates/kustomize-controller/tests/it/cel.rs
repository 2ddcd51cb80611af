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
