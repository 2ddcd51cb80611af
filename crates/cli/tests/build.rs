//! `ferroflux build`: whole Flux repositories rendered offline — the fixture
//! flux2-kustomize-helm-example (ArtifactGenerator, ExternalArtifacts, dependsOn, patches,
//! a HelmRelease from a Helm repository), and a generated repository with postBuild
//! substitutions and a chart from Git whose output the real API server accepts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferroflux_testkit::copy_dir;

fn ferroflux(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferroflux"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("ferroflux runs")
}

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The documents of a section `# Source: <title>` of the output.
fn section<'a>(output: &'a str, title: &str) -> &'a str {
    let start = output
        .find(&format!("# Source: {title}"))
        .unwrap_or_else(|| panic!("no section {title} in:\n{output}"));
    let rest = &output[start + 1..];
    let end = ["\n# Source: Kustomization/", "\n# Source: HelmRelease/"]
        .iter()
        .filter_map(|marker| rest.find(marker))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn renders_the_kustomize_helm_example_offline() {
    let example = shared().join("flux2-kustomize-helm-example");
    let charts = shared().join("charts");
    let output = ferroflux(
        &[
            "build",
            "clusters/production",
            "--repo-root",
            ".",
            "--charts",
            charts.to_str().unwrap(),
        ],
        &example,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let yaml = stdout(&output);
    // Kustomizations in dependsOn order, each from the artifact the ArtifactGenerator
    // stages from the repository.
    let titles: Vec<&str> = yaml
        .lines()
        .filter(|l| {
            l.starts_with("# Source: Kustomization/") || l.starts_with("# Source: HelmRelease/")
        })
        .collect();
    assert_eq!(
        titles,
        [
            "# Source: Kustomization/flux-system/infra-controllers",
            "# Source: Kustomization/flux-system/infra-configs",
            "# Source: Kustomization/flux-system/apps",
            "# Source: HelmRelease/podinfo/podinfo (chart podinfo 6.14.1)",
        ]
    );
    // The Kustomization's JSON6902 patch is applied to the ClusterIssuer.
    let configs = section(&yaml, "Kustomization/flux-system/infra-configs");
    assert!(configs.contains("server: https://acme-v02.api.letsencrypt.org/directory"));
    assert!(configs.contains("kustomize.toolkit.fluxcd.io/name: infra-configs"));
    // The production overlay patches the HelmRelease; the chart renders with its values
    // and Flux's origin labels.
    let release = section(&yaml, "HelmRelease/podinfo/podinfo");
    assert!(release.contains("- podinfo.production"), "{release}");
    assert!(release.contains("helm.toolkit.fluxcd.io/name: podinfo"));
    assert!(
        release.contains("name: podinfo-redis"),
        "redis.enabled renders redis"
    );
    // Charts that are not at hand are named on stderr, and the build still succeeds.
    let notes = stderr(&output);
    assert!(
        notes.contains("HelmRelease/cert-manager/cert-manager skipped"),
        "{notes}"
    );
}

/// A repository: the cluster directory with a ConfigMap of variables and two
/// Kustomizations (one substituting from it, one with a missing ConfigMap when `broken`),
/// an app with `${...}` references, and the podinfo chart with a HelmRelease reading
/// values from a ConfigMap.
fn repository(broken: bool, namespace: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    write(
        "clusters/dev/vars.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: {namespace}\ndata:\n  cluster_name: dev-1\n  replicas: \"3\"\n"
        ),
    );
    let missing = if broken {
        "      - kind: ConfigMap\n        name: nowhere\n"
    } else {
        ""
    };
    write(
        "clusters/dev/apps.yaml",
        &format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: {namespace}\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  targetNamespace: {namespace}\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n  postBuild:\n    substitute:\n      team: blue\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n{missing}"
        ),
    );
    write(
        "apps/app.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-settings\ndata:\n  cluster: ${cluster_name}\n  team: ${team}\n  region: ${region:=eu-1}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo-values\ndata:\n  values.yaml: |\n    replicaCount: ${replicas}\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: ./charts/podinfo\n      sourceRef:\n        kind: GitRepository\n        name: flux-system\n        namespace: flux-system\n  valuesFrom:\n    - kind: ConfigMap\n      name: podinfo-values\n  values:\n    ui:\n      message: built offline\n",
    );
    copy_dir(
        &shared().join("charts/podinfo"),
        &dir.path().join("charts/podinfo"),
    );
    dir
}

#[test]
fn substitutes_and_renders_charts_from_git_and_the_api_server_accepts_the_output() {
    let runtime = runtime();
    let namespace = runtime.block_on(async {
        let client = ferroflux_testkit::client().await;
        ferroflux_testkit::install_crds(&client).await;
        ferroflux_testkit::TestNamespace::new(&client, "build").await
    });
    let ns = namespace.name();
    let repo = repository(false, ns);
    let output = ferroflux(&["build", "clusters/dev"], repo.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let yaml = stdout(&output);
    let apps = section(&yaml, &format!("Kustomization/{ns}/apps"));
    assert!(apps.contains("cluster: dev-1"), "{apps}");
    assert!(apps.contains("team: blue"));
    assert!(apps.contains("region: eu-1"));
    assert!(apps.contains(&format!("namespace: {ns}")));
    let release = section(&yaml, &format!("HelmRelease/{ns}/podinfo"));
    assert!(release.contains("replicas: 3"), "{release}");
    assert!(release.contains("value: built offline"));
    assert!(release.contains(&format!("helm.toolkit.fluxcd.io/namespace: {ns}")));

    // The real API server accepts every object of the stream (server-side dry run).
    let kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG is set");
    let file = repo.path().join("out.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let applied = Command::new("kubectl")
        .args([
            "--kubeconfig",
            &kubeconfig,
            "apply",
            "--server-side",
            "--dry-run=server",
            "-f",
            file.to_str().unwrap(),
        ])
        .output()
        .expect("kubectl runs");
    assert!(
        applied.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&applied.stdout),
        String::from_utf8_lossy(&applied.stderr)
    );
    let text = String::from_utf8_lossy(&applied.stdout);
    assert!(
        text.contains("deployment.apps/podinfo serverside-applied (server dry run)"),
        "{text}"
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_missing_substitution_source_fails_the_build_with_its_name() {
    let repo = repository(true, "flux-system");
    let output = ferroflux(&["build", "clusters/dev"], repo.path());
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("Kustomization/flux-system/apps")
            && message.contains("ConfigMap 'flux-system/nowhere' not found"),
        "{message}"
    );
    // What could be built is still printed; nothing of the broken Kustomization is.
    let yaml = stdout(&output);
    assert!(yaml.contains("name: cluster-vars"));
    assert!(!yaml.contains("name: app-settings"));
}

#[test]
fn a_path_that_does_not_exist_is_a_clear_error() {
    let repo = repository(false, "flux-system");
    let output = ferroflux(&["build", "clusters/nowhere"], repo.path());
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("clusters/nowhere: no such directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn chart_refs_to_oci_repositories_take_the_chart_named_by_the_url() {
    let repo = repository(false, "flux-system");
    std::fs::write(
        repo.path().join("apps/oci.yaml"),
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: charts\nspec:\n  interval: 10m\n  url: oci://registry.example/stefanprodan/charts/podinfo\n  ref:\n    semver: '6.x'\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: from-oci\nspec:\n  interval: 10m\n  chartRef:\n    kind: OCIRepository\n    name: charts\n",
    )
    .unwrap();
    let charts = shared().join("charts");
    let output = ferroflux(
        &[
            "build",
            "clusters/dev",
            "--charts",
            charts.to_str().unwrap(),
        ],
        repo.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let yaml = stdout(&output);
    let release = section(&yaml, "HelmRelease/flux-system/from-oci");
    assert!(release.contains("name: from-oci-podinfo"), "{release}");
    assert!(release.contains("helm.toolkit.fluxcd.io/name: from-oci"));
}
