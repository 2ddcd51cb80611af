//! `ferroflux get all` against the real API server: objects with statuses written through
//! the status subresource, listed by the built binary, compared with flux's table layout.

use std::process::{Command, Output};

use ferroflux_testkit::{TestNamespace, client, install_crds};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};

const SHA: &str = "696f056df216eea4f9401adbee0ff744d4df390f";

fn ferroflux(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferroflux"))
        .args(args)
        .output()
        .expect("the ferroflux binary runs")
}

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

/// Creates `object` and then sets its status through the status subresource.
async fn create_with_status(api: &Api<DynamicObject>, object: Value, status: Value) {
    let object: DynamicObject = serde_json::from_value(object).expect("a valid object");
    let name = object.metadata.name.clone().expect("objects have names");
    api.create(&PostParams::default(), &object)
        .await
        .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    api.patch_status(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .unwrap_or_else(|e| panic!("writing the status of {name}: {e}"));
}

fn ready(message: &str) -> Value {
    json!([{
        "type": "Ready",
        "status": "True",
        "reason": "Succeeded",
        "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": 1,
    }])
}

#[tokio::test]
async fn get_all_prints_each_kind_like_flux() {
    let client = client().await;
    install_crds(&client).await;
    let namespace = TestNamespace::new(&client, "cli-get").await;
    let ns = namespace.name();

    let git = resource(
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "gitrepositories",
    );
    let git_api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &git);
    let revision = format!("main@sha1:{SHA}");
    create_with_status(
        &git_api,
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "podinfo", "namespace": ns},
            "spec": {"url": "https://example.invalid/podinfo", "interval": "1m",
                     "ref": {"branch": "main"}},
        }),
        json!({
            "observedGeneration": 1,
            "conditions": ready(&format!("stored artifact for revision '{revision}'")),
            "artifact": {
                "revision": revision,
                "path": "gitrepository/x/podinfo/a.tar.gz",
                "url": "http://source-controller/gitrepository/x/podinfo/a.tar.gz",
                "digest": "sha256:0000",
                "lastUpdateTime": "2026-01-01T00:00:00Z",
            },
        }),
    )
    .await;

    let kustomization = resource(
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "kustomizations",
    );
    let kustomization_api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), ns, &kustomization);
    create_with_status(
        &kustomization_api,
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": ns},
            "spec": {"interval": "10m", "prune": true, "path": "./apps", "suspend": true,
                     "sourceRef": {"kind": "GitRepository", "name": "podinfo"}},
        }),
        json!({
            "observedGeneration": 1,
            "conditions": ready(&format!("Applied revision: {revision}")),
            "lastAppliedRevision": revision,
        }),
    )
    .await;

    let output = ferroflux(&["get", "all", "-n", ns]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ferroflux get all failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let git_message = "stored artifact for revision 'main@sha1:696f056d'";
    let applied_message = "Applied revision: main@sha1:696f056d";
    // Cells padded to the widest in their column, each followed by a tab; the header's last
    // cell by a space; an empty line after each table.
    let expected = format!(
        "NAME                 \tREVISION          \tSUSPENDED\tREADY\t{:<49} \n\
         gitrepository/podinfo\tmain@sha1:696f056d\tFalse    \tTrue \t{git_message}\t\n\n\
         NAME              \tREVISION          \tSUSPENDED\tREADY\t{:<36} \n\
         kustomization/apps\tmain@sha1:696f056d\tTrue     \tTrue \t{applied_message}\t\n\n",
        "MESSAGE", "MESSAGE"
    );
    assert_eq!(stdout, expected);

    // Across namespaces the namespace comes first; other tests' objects may be listed too.
    let output = ferroflux(&["get", "all", "-A"]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let row = stdout
        .lines()
        .find(|line| line.starts_with(ns) && line.contains("kustomization/apps"))
        .unwrap_or_else(|| panic!("no row for {ns}/apps in:\n{stdout}"));
    let cells: Vec<&str> = row.split('\t').map(str::trim_end).collect();
    assert_eq!(
        cells,
        [
            ns,
            "kustomization/apps",
            "main@sha1:696f056d",
            "True",
            "True",
            "Applied revision: main@sha1:696f056d",
            ""
        ]
    );
}

#[test]
fn unreachable_cluster_fails_with_a_clear_message() {
    let kubeconfig = std::env::temp_dir().join(format!(
        "ferroflux-cli-unreachable-{}.yaml",
        std::process::id()
    ));
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
         clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n\
         contexts: [{name: c, context: {cluster: c, user: u}}]\n\
         users: [{name: u, user: {token: t}}]\n",
    )
    .expect("writing a kubeconfig");
    let output = ferroflux(&["get", "all", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    let _ = std::fs::remove_file(&kubeconfig);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach the Kubernetes API server"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}
