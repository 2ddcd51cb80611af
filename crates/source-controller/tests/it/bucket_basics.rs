//! Bucket (provider generic) against moto's S3 server on loopback: prefix, `.sourceignore`
//! and `spec.ignore`, new revisions, and failures.

use ferroflux_api::meta::LocalObjectReference;
use ferroflux_api::source::v1::{Bucket, BucketSpec};
use ferroflux_testkit::s3::S3Server;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;
use sha2::Digest as _;

use crate::oci_support::{Sources, condition};

fn spec(s3: &S3Server, bucket: &str) -> BucketSpec {
    BucketSpec {
        bucket_name: bucket.to_owned(),
        endpoint: s3.endpoint(),
        insecure: Some(true),
        region: Some("us-east-1".to_owned()),
        interval: "1h".to_owned(),
        secret_ref: Some(LocalObjectReference {
            name: "s3".to_owned(),
        }),
        ..BucketSpec::default()
    }
}

async fn create(sources: &Sources, name: &str, spec: BucketSpec) {
    sources
        .api::<Bucket>()
        .create(&PostParams::default(), &Bucket::new(name, spec))
        .await
        .unwrap();
}

async fn credentials(sources: &Sources) {
    sources
        .secret(
            "s3",
            None,
            &[
                ("accesskey", "AKIAFERROFLUX"),
                ("secretkey", "s3-secret-key-42"),
            ],
        )
        .await;
}

/// Flux's revision of an index: sha256 over sorted `<key> <etag>\n` lines, where S3's
/// ETag of a simple upload is the MD5 of the content.
fn revision(objects: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = objects
        .iter()
        .map(|(key, content)| format!("{key} {}\n", md5_hex(content.as_bytes())))
        .collect();
    lines.sort();
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(lines.concat().as_bytes()))
    )
}

fn md5_hex(bytes: &[u8]) -> String {
    let output = std::process::Command::new("openssl")
        .args(["dgst", "-md5", "-r"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8(output.stdout).unwrap()[..32].to_owned()
}

#[tokio::test]
async fn fetches_a_prefix_with_ignore_rules_and_follows_changes() {
    let sources = Sources::start("bucket").await;
    let s3 = S3Server::start();
    s3.create_bucket("manifests");
    s3.put_object("manifests", ".sourceignore", b"*.txt\n");
    s3.put_object("manifests", "apps/app.yaml", b"kind: ConfigMap\n");
    s3.put_object("manifests", "apps/notes.txt", b"ignored by .sourceignore");
    s3.put_object("manifests", "apps/secret.env", b"ignored by spec.ignore");
    s3.put_object("manifests", "apps/sub/b.yaml", b"b: 1\n");
    s3.put_object("manifests", "other/c.yaml", b"outside the prefix");
    credentials(&sources).await;
    let mut spec = spec(&s3, "manifests");
    spec.prefix = Some("apps/".to_owned());
    spec.ignore = Some("*.env\n".to_owned());
    create(&sources, "app", spec).await;

    let expected = revision(&[
        ("apps/app.yaml", "kind: ConfigMap\n"),
        ("apps/sub/b.yaml", "b: 1\n"),
    ]);
    let object = sources
        .wait_ready::<Bucket>("app", "True", Some(&expected))
        .await;
    let ready = crate::oci_support::ready(&object).unwrap();
    assert_eq!(ready["reason"], "Succeeded");
    assert_eq!(
        ready["message"],
        format!("stored artifact: revision '{expected}'")
    );
    let artifact = &object["status"]["artifact"];
    let hex = expected.trim_start_matches("sha256:");
    assert!(
        artifact["path"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{hex}.tar.gz")),
        "{artifact}"
    );
    assert!(
        object["status"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/latest.tar.gz")
    );
    let files = sources.download(&object).await;
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        ["apps/app.yaml", "apps/sub/b.yaml"]
    );
    assert_eq!(files["apps/app.yaml"], "kind: ConfigMap\n");
    let message = sources.wait_event("app", "Normal", "NewArtifact").await;
    assert_eq!(
        message,
        "stored artifact with 2 fetched files from 'manifests' bucket"
    );

    // A changed object makes a new revision.
    s3.put_object("manifests", "apps/app.yaml", b"kind: Secret\n");
    sources.request_reconcile::<Bucket>("app").await;
    let expected = revision(&[
        ("apps/app.yaml", "kind: Secret\n"),
        ("apps/sub/b.yaml", "b: 1\n"),
    ]);
    let object = sources
        .wait_ready::<Bucket>("app", "True", Some(&expected))
        .await;
    assert_eq!(
        sources.download(&object).await["apps/app.yaml"],
        "kind: Secret\n"
    );
    assert!(!sources.log().contains("s3-secret-key-42"));
}

#[tokio::test]
async fn missing_buckets_and_bad_secrets_fail_with_flux_reasons() {
    let sources = Sources::start("bucket-fail").await;
    let s3 = S3Server::start();
    credentials(&sources).await;
    create(&sources, "missing", spec(&s3, "does-not-exist")).await;
    let object = sources.wait_ready::<Bucket>("missing", "False", None).await;
    let ready = crate::oci_support::ready(&object).unwrap();
    assert_eq!(ready["reason"], "BucketOperationFailed", "{ready}");
    assert_eq!(ready["message"], "bucket 'does-not-exist' not found");
    assert_eq!(condition(&object, "FetchFailed").unwrap()["status"], "True");
    sources
        .wait_event("missing", "Warning", "BucketOperationFailed")
        .await;

    // Creating the bucket heals it.
    s3.create_bucket("does-not-exist");
    s3.put_object("does-not-exist", "a.yaml", b"a");
    sources.request_reconcile::<Bucket>("missing").await;
    sources
        .wait_ready::<Bucket>("missing", "True", Some(&revision(&[("a.yaml", "a")])))
        .await;

    sources
        .secret("half", None, &[("accesskey", "AKIAFERROFLUX")])
        .await;
    let mut half = spec(&s3, "does-not-exist");
    half.secret_ref = Some(LocalObjectReference {
        name: "half".to_owned(),
    });
    create(&sources, "half", half).await;
    let object = sources.wait_ready::<Bucket>("half", "False", None).await;
    let ready = crate::oci_support::ready(&object).unwrap();
    assert_eq!(ready["reason"], "AuthenticationFailed", "{ready}");
    assert_eq!(
        ready["message"],
        "invalid 'half' secret data: required fields 'accesskey' and 'secretkey'"
    );

    let mut gcp = spec(&s3, "does-not-exist");
    gcp.provider = Some(ferroflux_api::source::v1::BucketProvider::Gcp);
    gcp.secret_ref = None;
    create(&sources, "gcp", gcp).await;
    let object = sources.wait_ready::<Bucket>("gcp", "False", None).await;
    assert_eq!(condition(&object, "Stalled").unwrap()["status"], "True");

    // Patch back to generic: recovers.
    let patch = json!({"spec": {"provider": "generic", "secretRef": {"name": "s3"}}});
    sources
        .api::<Bucket>()
        .patch("gcp", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    sources.wait_ready::<Bucket>("gcp", "True", None).await;
}
