//! Spec features and failure modes.

use std::time::Duration;

use ferroflux_api::kustomize::v1::{PostBuild, SubstituteReference, SubstituteReferenceKind};
use ferroflux_api::meta::{ConditionStatus, DependencyReference};
use ferroflux_testkit::wait_for;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::harness::Harness;

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  cluster: ${cluster_name}\n  region: ${region:=eu-west-1}\n  replicas: ${replicas}\n";

#[tokio::test]
async fn substitution_from_configmap_secret_and_inline() {
    let harness = Harness::start("ks-subst", &[("cfg/cm.yaml", CONFIG_MAP)]).await;
    let config_maps: Api<ConfigMap> = Api::namespaced(harness.client.clone(), harness.ns());
    let vars = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("vars".into()),
            ..Default::default()
        },
        data: Some([("cluster_name".to_owned(), "staging".to_owned())].into()),
        ..Default::default()
    };
    config_maps
        .create(&PostParams::default(), &vars)
        .await
        .unwrap();
    // Flux substitutes the YAML text (through JSON, like kustomize's AsYAML), so a number
    // would become an integer; a ConfigMap value must stay a string.
    harness
        .secret("secret-vars", &[("replicas", "three")])
        .await;
    let mut spec = harness.spec("./cfg");
    spec.post_build = Some(PostBuild {
        substitute: Some([("region".to_owned(), "us-east-1".to_owned())].into()),
        substitute_from: Some(vec![
            SubstituteReference {
                kind: SubstituteReferenceKind::ConfigMap,
                name: "vars".into(),
                optional: None,
            },
            SubstituteReference {
                kind: SubstituteReferenceKind::Secret,
                name: "secret-vars".into(),
                optional: None,
            },
            SubstituteReference {
                kind: SubstituteReferenceKind::ConfigMap,
                name: "absent".into(),
                optional: Some(true),
            },
        ]),
        substitute_strategy: None,
    });
    harness.create("subst", spec).await;
    harness
        .wait_ready("subst", ConditionStatus::True, None)
        .await;
    let data = config_maps.get("settings").await.unwrap().data.unwrap();
    assert_eq!(data["cluster"], "staging");
    assert_eq!(
        data["region"], "us-east-1",
        "inline substitute wins over the default"
    );
    assert_eq!(data["replicas"], "three");

    // A missing variable fails the build (strict mode) and nothing is applied.
    let mut strict = harness.spec("./cfg");
    strict.name_prefix = Some("strict-".into());
    strict.post_build = Some(PostBuild {
        substitute: Some([("region".to_owned(), "x".to_owned())].into()),
        ..Default::default()
    });
    harness.create("strict", strict).await;
    let object = harness
        .wait_ready("strict", ConditionStatus::False, Some("strict mode"))
        .await;
    let (reason, message) = Harness::ready(&object);
    assert_eq!(reason, "BuildFailed");
    assert!(
        message.contains("variable not set (strict mode)") && message.contains("cluster_name"),
        "{message}"
    );
    assert!(
        config_maps
            .get_opt("strict-settings")
            .await
            .unwrap()
            .is_none(),
        "nothing of a broken build is applied"
    );
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.ks-test.ferroflux.dev\nspec:\n  group: ks-test.ferroflux.dev\n  names:\n    kind: Gadget\n    plural: gadgets\n    singular: gadget\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n";
const GADGET: &str = "apiVersion: ks-test.ferroflux.dev/v1\nkind: Gadget\nmetadata:\n  name: thing\nspec:\n  size: 3\n";

#[tokio::test]
async fn crd_and_custom_resource_in_one_build_and_depends_on() {
    let harness = Harness::start(
        "ks-crd",
        &[("crds/crd.yaml", CRD), ("crs/gadget.yaml", GADGET)],
    )
    .await;
    let mut crds = harness.spec("./crds");
    crds.target_namespace = None;
    crds.prune = false;
    harness.create("crds", crds).await;
    let mut crs = harness.spec("./crs");
    crs.depends_on = Some(vec![DependencyReference {
        name: "crds".into(),
        ..Default::default()
    }]);
    harness.create("crs", crs).await;
    harness.wait_ready("crs", ConditionStatus::True, None).await;
    assert!(
        harness
            .get("ks-test.ferroflux.dev/v1", "Gadget", "thing")
            .await
            .is_some()
    );

    // Both in one build: staged apply creates the CRD first.
    harness.repo.commit(
        &[
            ("both/crd.yaml", CRD),
            ("both/gadget.yaml", &GADGET.replace("thing", "other")),
        ],
        "both",
    );
    let mut both = harness.spec("./both");
    both.prune = false;
    harness.create("both", both).await;
    harness
        .wait_ready("both", ConditionStatus::True, None)
        .await;
    assert!(
        harness
            .get("ks-test.ferroflux.dev/v1", "Gadget", "other")
            .await
            .is_some()
    );
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: stuck\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: stuck}\n  template:\n    metadata:\n      labels: {app: stuck}\n    spec:\n      nodeSelector: {nowhere: \"true\"}\n      containers:\n      - name: app\n        image: example/app:1\n";

#[tokio::test]
async fn failures_are_reported_clearly() {
    let harness = Harness::start(
        "ks-fail",
        &[
            (
                "bad/broken.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n",
            ),
            ("stuck/deploy.yaml", DEPLOYMENT),
            (
                "ok/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
            ),
        ],
    )
    .await;
    harness.create("bad", harness.spec("./bad")).await;
    let object = harness
        .wait_ready("bad", ConditionStatus::False, Some("broken.yaml"))
        .await;
    let (reason, message) = Harness::ready(&object);
    assert_eq!(reason, "BuildFailed");
    assert!(
        message.contains("bad/broken.yaml"),
        "the message names the file: {message}"
    );

    harness.create("missing-path", harness.spec("./nope")).await;
    let object = harness
        .wait_ready(
            "missing-path",
            ConditionStatus::False,
            Some("path not found"),
        )
        .await;
    assert!(
        Harness::ready(&object)
            .1
            .contains("kustomization path not found"),
        "{:?}",
        Harness::ready(&object)
    );

    let mut stuck = harness.spec("./stuck");
    stuck.wait = Some(true);
    stuck.timeout = Some("5s".into());
    harness.create("stuck", stuck).await;
    let object = harness
        .wait_ready("stuck", ConditionStatus::False, Some("health check failed"))
        .await;
    let (reason, message) = Harness::ready(&object);
    assert_eq!(reason, "HealthCheckFailed");
    assert!(
        message.contains(&format!("Deployment/{}/stuck", harness.ns())),
        "the failing Deployment is named: {message}"
    );

    // Impersonating a ServiceAccount without RBAC fails with the API server's reason.
    let mut impersonated = harness.spec("./ok");
    impersonated.service_account_name = Some("nobody".into());
    harness.create("impersonated", impersonated).await;
    let object = harness
        .wait_ready("impersonated", ConditionStatus::False, Some("forbidden"))
        .await;
    let (reason, message) = Harness::ready(&object);
    assert_eq!(reason, "ReconciliationFailed");
    assert!(
        message.contains("forbidden") && message.contains("nobody"),
        "{message}"
    );
}

#[tokio::test]
async fn suspend_and_deletion_with_prune() {
    let harness = Harness::start(
        "ks-delete",
        &[(
            "app/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n",
        )],
    )
    .await;
    let mut spec = harness.spec("./app");
    spec.interval = "2s".into();
    harness.create("app", spec).await;
    harness.wait_ready("app", ConditionStatus::True, None).await;
    let config_maps: Api<ConfigMap> = Api::namespaced(harness.client.clone(), harness.ns());
    assert!(config_maps.get_opt("first").await.unwrap().is_some());

    harness
        .kustomizations()
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    harness.repo.commit(
        &[(
            "app/cm2.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n",
        )],
        "second",
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        config_maps.get_opt("second").await.unwrap().is_none(),
        "a suspended Kustomization applies nothing"
    );

    harness
        .kustomizations()
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": false}})),
        )
        .await
        .unwrap();
    wait_for(
        Duration::from_secs(60),
        "the resumed Kustomization to apply the new commit",
        || {
            let config_maps = config_maps.clone();
            async move { config_maps.get_opt("second").await.unwrap().is_some() }
        },
    )
    .await;

    harness
        .kustomizations()
        .delete("app", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(
        Duration::from_secs(60),
        "deletion to prune the applied objects",
        || {
            let config_maps = config_maps.clone();
            async move {
                config_maps.get_opt("first").await.unwrap().is_none()
                    && config_maps.get_opt("second").await.unwrap().is_none()
            }
        },
    )
    .await;
}
