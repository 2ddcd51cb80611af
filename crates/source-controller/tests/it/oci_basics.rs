//! OCIRepository against a real registry on loopback: tags, semver, digests, new pushes,
//! dockerconfigjson credentials, TLS with a private CA, layer selection and ignore rules.

use ferroflux_api::meta::LocalObjectReference;
use ferroflux_api::source::v1::{
    OCILayerOperation, OCILayerSelector, OCIRepository, OCIRepositoryRef, OCIRepositorySpec,
};
use ferroflux_testkit::registry::{Registry, RegistryOptions};
use kube::api::PostParams;

use crate::oci_support::{PushArtifact, Repository};
use crate::oci_support::{Sources, condition, push_flux_artifact, tar_gz, test_client};

pub fn spec(url: &str, reference: OCIRepositoryRef) -> OCIRepositorySpec {
    OCIRepositorySpec {
        url: url.to_owned(),
        interval: "1h".to_owned(),
        reference: Some(reference),
        ..OCIRepositorySpec::default()
    }
}

pub fn tag(tag: &str) -> OCIRepositoryRef {
    OCIRepositoryRef {
        tag: Some(tag.to_owned()),
        ..Default::default()
    }
}

pub async fn create(sources: &Sources, name: &str, spec: OCIRepositorySpec) {
    sources
        .api::<OCIRepository>()
        .create(&PostParams::default(), &OCIRepository::new(name, spec))
        .await
        .unwrap();
}

pub async fn docker_secret(sources: &Sources, registry: &Registry, name: &str, password: &str) {
    sources
        .secret(
            name,
            Some("kubernetes.io/dockerconfigjson"),
            &[(".dockerconfigjson", &registry.docker_config_json(password))],
        )
        .await;
}

#[tokio::test]
async fn pulls_a_tag_with_dockerconfigjson_credentials_and_follows_new_pushes() {
    let sources = Sources::start("oci-tag").await;
    let registry = Registry::start(RegistryOptions::default());
    let digest = push_flux_artifact(
        &registry,
        "org/app",
        "v1",
        &[
            ("deploy/app.yaml", "kind: ConfigMap\n"),
            ("README.md", "hi"),
        ],
    )
    .await;
    docker_secret(&sources, &registry, "creds", registry.password()).await;
    let mut spec = spec(&registry.url("org/app"), tag("v1"));
    spec.insecure = Some(true);
    spec.secret_ref = Some(LocalObjectReference {
        name: "creds".to_owned(),
    });
    create(&sources, "app", spec).await;

    let revision = format!("v1@{digest}");
    let object = sources
        .wait_ready::<OCIRepository>("app", "True", Some(&revision))
        .await;
    let ready = crate::oci_support::ready(&object).unwrap();
    assert_eq!(ready["reason"], "Succeeded");
    assert_eq!(
        ready["message"],
        format!("stored artifact for digest '{revision}'")
    );
    assert_eq!(
        condition(&object, "ArtifactInStorage").unwrap()["status"],
        "True"
    );
    let artifact = &object["status"]["artifact"];
    assert!(
        artifact["path"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{digest}.tar.gz")),
        "{artifact}"
    );
    assert_eq!(
        artifact["metadata"]["org.opencontainers.image.source"],
        "https://github.com/example/app"
    );
    let url = object["status"]["url"].as_str().unwrap();
    assert!(
        url.ends_with(
            "/ocirepository/{ns}/app/latest.tar.gz"
                .replace("{ns}", sources.namespace.name())
                .as_str()
        ),
        "{url}"
    );
    let files = sources.download(&object).await;
    assert_eq!(
        files.get("deploy/app.yaml").map(String::as_str),
        Some("kind: ConfigMap\n")
    );
    assert_eq!(files.get("README.md").map(String::as_str), Some("hi"));
    let message = sources.wait_event("app", "Normal", "NewArtifact").await;
    assert_eq!(
        message,
        format!(
            "stored artifact with revision '{revision}' from '{}', origin source 'https://github.com/example/app', origin revision 'v1@sha1:0123456789abcdef0123456789abcdef01234567'",
            registry.url("org/app")
        )
    );

    // A new push to the same tag becomes a new artifact.
    let second = push_flux_artifact(&registry, "org/app", "v1", &[("deploy/app.yaml", "v2")]).await;
    assert_ne!(second, digest);
    sources.request_reconcile::<OCIRepository>("app").await;
    let revision = format!("v1@{second}");
    let object = sources
        .wait_ready::<OCIRepository>("app", "True", Some(&revision))
        .await;
    let files = sources.download(&object).await;
    assert_eq!(files.get("deploy/app.yaml").map(String::as_str), Some("v2"));
    assert!(!files.contains_key("README.md"));
}

#[tokio::test]
async fn semver_picks_the_highest_tag_and_digests_pin_a_manifest() {
    let sources = Sources::start("oci-semver").await;
    let registry = Registry::start(RegistryOptions {
        anonymous: true,
        ..RegistryOptions::default()
    });
    let mut digests = Vec::new();
    for version in ["1.0.0", "1.2.0", "2.0.0-rc.1", "v1.1.0"] {
        digests.push(push_flux_artifact(&registry, "app", version, &[("v", version)]).await);
    }
    let mut by_semver = spec(
        &registry.url("app"),
        OCIRepositoryRef {
            semver: Some(">=1.0.0".to_owned()),
            ..Default::default()
        },
    );
    by_semver.insecure = Some(true);
    create(&sources, "semver", by_semver).await;
    let object = sources
        .wait_ready::<OCIRepository>("semver", "True", Some(&format!("1.2.0@{}", digests[1])))
        .await;
    assert_eq!(sources.download(&object).await["v"], "1.2.0");

    let mut by_digest = spec(
        &registry.url("app"),
        OCIRepositoryRef {
            digest: Some(digests[0].clone()),
            tag: Some("1.2.0".to_owned()),
            ..Default::default()
        },
    );
    by_digest.insecure = Some(true);
    create(&sources, "digest", by_digest).await;
    let object = sources
        .wait_ready::<OCIRepository>("digest", "True", Some(&digests[0]))
        .await;
    assert_eq!(sources.download(&object).await["v"], "1.0.0");
}

#[tokio::test]
async fn layer_selector_copy_stores_the_blob_and_ignore_filters_extracted_files() {
    let sources = Sources::start("oci-layers").await;
    let registry = Registry::start(RegistryOptions {
        anonymous: true,
        tls: true,
    });
    let manifests = tar_gz(&[
        ("app.yaml", "a: 1\n"),
        ("notes.md", "x"),
        ("sub/b.yaml", "b"),
    ]);
    let other = tar_gz(&[("other.txt", "other")]);
    let client = test_client(&registry);
    let repository = Repository::parse(&format!("{}/layers", registry.host())).unwrap();
    let digest = client
        .push_artifact(
            &repository,
            "main",
            PushArtifact {
                config: (
                    "application/vnd.cncf.flux.config.v1+json".to_owned(),
                    b"{}".to_vec(),
                ),
                layers: vec![
                    (
                        "application/vnd.example.other.v1.tar+gzip".to_owned(),
                        other.clone(),
                    ),
                    (
                        "application/vnd.cncf.flux.content.v1.tar+gzip".to_owned(),
                        manifests.clone(),
                    ),
                ],
                annotations: std::collections::BTreeMap::default(),
            },
        )
        .await
        .unwrap();
    sources
        .secret("tls", None, &[("ca.crt", &registry.ca_pem())])
        .await;
    let tls = Some(LocalObjectReference {
        name: "tls".to_owned(),
    });

    // Extract the Flux layer (not the first one), without Markdown.
    let mut extract = spec(&registry.url("layers"), tag("main"));
    extract.cert_secret_ref = tls.clone();
    extract.ignore = Some("*.md\n".to_owned());
    extract.layer_selector = Some(OCILayerSelector {
        media_type: Some("application/vnd.cncf.flux.content.v1.tar+gzip".to_owned()),
        operation: Some(OCILayerOperation::Extract),
    });
    create(&sources, "extract", extract).await;
    let object = sources
        .wait_ready::<OCIRepository>("extract", "True", Some(&format!("main@{digest}")))
        .await;
    let files = sources.download(&object).await;
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        ["app.yaml", "sub/b.yaml"]
    );
    assert_eq!(object["status"]["observedIgnore"], "*.md\n");

    // Copy the first layer as is.
    let mut copy = spec(&registry.url("layers"), tag("main"));
    copy.cert_secret_ref = tls;
    copy.layer_selector = Some(OCILayerSelector {
        media_type: None,
        operation: Some(OCILayerOperation::Copy),
    });
    create(&sources, "copy", copy).await;
    let object = sources
        .wait_ready::<OCIRepository>("copy", "True", Some(&format!("main@{digest}")))
        .await;
    assert_eq!(sources.download_raw(&object).await, other);
}
