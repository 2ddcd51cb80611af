//! The Bucket reconciler: from the objects of an S3-compatible bucket to a stored artifact.
//!
//! Phases, as Flux's: storage housekeeping → credentials (`accesskey`/`secretkey`), TLS,
//! proxy → the bucket exists → the root `.sourceignore` object and `spec.ignore` → an index
//! of `key → etag` for the objects under `prefix` that are not ignored, whose digest
//! (sha256 over the sorted lines `<key> <etag>\n`) is the revision → when it differs from
//! the stored artifact, download the objects and archive them → status and events.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ferroflux_api::source::v1::{Bucket, BucketProvider, BucketStatus};
use ferroflux_artifact::{IgnoreMatcher, Storage};
use ferroflux_runtime::FluxStatus;
use ferroflux_runtime::conditions::Conditions;
use ferroflux_runtime::driver::{Context, Outcome, Reconciler};
use ferroflux_runtime::events::EventType;
use futures::{StreamExt as _, TryStreamExt as _};
use kube::ResourceExt;
use sha2::Digest as _;
use tracing::info;

use super::s3::{AccessKey, S3Client, S3Options};
use crate::args::Args;
use crate::error::SourceError;
use crate::oci::client::TlsOptions;
use crate::oci::store;
use crate::storage::SourceStorage;

/// Negative-polarity conditions of a Bucket.
const NEGATIVE: [&str; 5] = [
    "StorageOperationFailed",
    "FetchFailed",
    "ArtifactOutdated",
    "Reconciling",
    "Stalled",
];
/// The conditions `Ready` summarizes, in Flux's priority order.
const SUMMARY: [&str; 6] = [
    "StorageOperationFailed",
    "FetchFailed",
    "ArtifactOutdated",
    "ArtifactInStorage",
    "Stalled",
    "Reconciling",
];
const KIND: &str = "bucket";
const IGNORE_FILE: &str = ".sourceignore";
/// Flux's bound on parallel object downloads.
const MAX_CONCURRENT_FETCHES: usize = 100;
/// A pattern that matches nothing: with at least one user pattern the ignore matcher
/// drops the extension/CI defaults, which Flux does not apply to buckets.
const NO_DEFAULTS: &str = "/.ferroflux-bucket-no-default-exclusions";

/// Reconciles Buckets into artifacts.
pub struct BucketReconciler {
    storage: SourceStorage,
    files: Storage,
}

impl BucketReconciler {
    /// A reconciler storing artifacts in `storage`.
    pub fn new(storage: Storage, args: &Args) -> Self {
        Self {
            storage: SourceStorage::new(
                storage.clone(),
                args.artifact_retention_ttl,
                args.artifact_retention_records,
            ),
            files: storage,
        }
    }
}

impl Reconciler<Bucket> for BucketReconciler {
    type Error = SourceError;

    async fn reconcile(
        &self,
        context: &Context,
        object: &Bucket,
        status: &mut BucketStatus,
    ) -> Result<Outcome, SourceError> {
        let generation = object.metadata.generation.unwrap_or_default();
        let result = self.run(context, object, status).await;
        store::summarize(
            status.conditions_mut(),
            generation,
            context,
            result.as_ref().map(|_| ()),
            &SUMMARY,
            &NEGATIVE,
        );
        result
    }

    async fn cleanup(&self, _: &Context, object: &Bucket) -> Result<(), SourceError> {
        self.storage.remove_all(
            KIND,
            &object.namespace().unwrap_or_default(),
            &object.name_any(),
        )
    }
}

/// The objects of a bucket by key, with their ETags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EtagIndex(BTreeMap<String, String>);

impl EtagIndex {
    /// Flux's revision: `sha256:` of the lines `<key> <etag>\n` in key order.
    pub fn revision(&self) -> String {
        let mut hasher = sha2::Sha256::new();
        for (key, etag) in &self.0 {
            hasher.update(format!("{key} {etag}\n").as_bytes());
        }
        format!("sha256:{}", hex::encode(hasher.finalize()))
    }
}

fn bucket_failed(message: String) -> SourceError {
    SourceError::Pull {
        reason: "BucketOperationFailed",
        message,
    }
}

impl BucketReconciler {
    async fn run(
        &self,
        context: &Context,
        object: &Bucket,
        status: &mut BucketStatus,
    ) -> Result<Outcome, SourceError> {
        let namespace = object.namespace().unwrap_or_default();
        let name = object.name_any();
        let generation = object.metadata.generation.unwrap_or_default();
        self.housekeeping(context, object, status);

        let timeout = store::timeout(object.spec.timeout.as_deref())?;
        let client = client(context, object, timeout).await?;
        let workspace = store::workspace()?;
        let bucket = object.spec.bucket_name.as_str();
        let index = tokio::time::timeout(timeout, etag_index(&client, object))
            .await
            .map_err(|_| {
                bucket_failed(format!(
                    "indexation of objects from bucket '{bucket}' failed: timed out"
                ))
            })??;
        let revision = index.revision();

        if let Some(artifact) = &status.artifact
            && artifact.revision == revision
            && status.observed_ignore == object.spec.ignore
        {
            info!(%name, %namespace, %revision, "artifact up-to-date with remote revision");
            status.url = store::link_latest(&self.files, artifact);
            mark_stored(context, status, generation, &revision);
            return Ok(Outcome::Done);
        }

        let message = format!("new upstream revision '{revision}'");
        if status.artifact.is_some() {
            Conditions::new(status.conditions_mut(), generation, context.clock.as_ref()).mark_true(
                "ArtifactOutdated",
                "NewRevision",
                message.clone(),
            );
        }
        context
            .mark_reconciling(object, status, &format!("building artifact: {message}"))
            .await?;

        let content = workspace.path().join("content");
        let index = tokio::time::timeout(timeout, fetch_objects(&client, bucket, index, &content))
            .await
            .map_err(|_| {
                bucket_failed(format!("fetch from bucket '{bucket}' failed: timed out"))
            })??;
        let revision = index.revision();
        std::fs::create_dir_all(&content).map_err(|e| SourceError::Storage {
            reason: "DirectoryCreationFailed",
            message: format!("failed to create artifact directory: {e}"),
        })?;
        let hex = revision.trim_start_matches("sha256:");
        let artifact = self
            .storage
            .archive(
                KIND,
                &namespace,
                &name,
                &revision,
                &format!("{hex}.tar.gz"),
                &content,
                Some(NO_DEFAULTS),
            )
            .await?;
        let previous_digest = status.artifact.as_ref().map(|a| a.digest.clone());
        status.url = store::link_latest(&self.files, &artifact);
        status.artifact = Some(artifact.clone());
        status.observed_ignore.clone_from(&object.spec.ignore);
        mark_stored(context, status, generation, &revision);
        if previous_digest.as_deref() != Some(artifact.digest.as_str()) {
            let message = format!(
                "stored artifact with {} fetched files from '{bucket}' bucket",
                index.0.len()
            );
            let metadata = BTreeMap::from([
                ("revision".to_owned(), artifact.revision.clone()),
                ("digest".to_owned(), artifact.digest.clone()),
            ]);
            info!(%name, %namespace, "{message}");
            context
                .recorder
                .publish(object, EventType::Normal, "NewArtifact", &message, metadata)
                .await;
        }
        Ok(Outcome::Done)
    }

    /// GC, and forget an advertised artifact whose file disappeared.
    fn housekeeping(&self, context: &Context, object: &Bucket, status: &mut BucketStatus) {
        let generation = object.metadata.generation.unwrap_or_default();
        if let Some(artifact) = &status.artifact {
            if self.storage.exists(artifact) {
                status.artifact = Some(self.storage.with_current_url(artifact));
            } else {
                status.artifact = None;
                status.url = None;
                Conditions::new(status.conditions_mut(), generation, context.clock.as_ref())
                    .delete("ArtifactInStorage");
            }
        }
        self.storage.collect_garbage(
            KIND,
            &object.namespace().unwrap_or_default(),
            &object.name_any(),
            status.artifact.as_ref(),
        );
    }
}

/// ArtifactInStorage and Ready True for `revision`, with Flux's message.
fn mark_stored(context: &Context, status: &mut BucketStatus, generation: i64, revision: &str) {
    let message = format!("stored artifact: revision '{revision}'");
    let mut conditions =
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref());
    conditions.delete("ArtifactOutdated");
    conditions.mark_true("ArtifactInStorage", "Succeeded", message.clone());
    conditions.mark_true("Ready", "Succeeded", message);
}

/// An S3 client with the object's credentials, TLS settings and proxy.
async fn client(
    context: &Context,
    object: &Bucket,
    timeout: std::time::Duration,
) -> Result<S3Client, SourceError> {
    let spec = &object.spec;
    let namespace = object.namespace().unwrap_or_default();
    if let Some(provider) = spec.provider.filter(|p| *p != BucketProvider::Generic) {
        let provider = format!("{provider:?}").to_lowercase();
        return Err(SourceError::InvalidSpec {
            reason: "InvalidProviderConfiguration",
            message: format!(
                "the '{provider}' Bucket provider is not supported by ferroflux yet; use provider 'generic' (S3 API) with a secretRef"
            ),
        });
    }
    if spec.sts.is_some() {
        return Err(SourceError::InvalidSpec {
            reason: "InvalidSTSConfiguration",
            message: "spec.sts is not supported by ferroflux yet".to_owned(),
        });
    }
    let get_secret = |name: String| {
        let namespace = namespace.clone();
        async move {
            store::secret_data(context, &namespace, &name)
                .await?
                .ok_or_else(|| {
                    SourceError::Authentication(format!(
                        "failed to get secret '{namespace}/{name}': secrets \"{name}\" not found"
                    ))
                })
        }
    };
    let access_key = match &spec.secret_ref {
        Some(reference) => {
            let data = get_secret(reference.name.clone()).await?;
            let get = |key: &str| {
                data.get(key)
                    .map(|v| String::from_utf8_lossy(&v.0).trim().to_owned())
                    .filter(|v| !v.is_empty())
            };
            match (get("accesskey"), get("secretkey")) {
                (Some(id), Some(secret)) => Some(AccessKey { id, secret }),
                _ => {
                    return Err(SourceError::Authentication(format!(
                        "invalid '{}' secret data: required fields 'accesskey' and 'secretkey'",
                        reference.name
                    )));
                }
            }
        }
        None => None,
    };
    let tls = match &spec.cert_secret_ref {
        Some(reference) => {
            let data = get_secret(reference.name.clone()).await?;
            TlsOptions::from_secret_data(&reference.name, &data).map_err(|e| {
                SourceError::Authentication(format!("failed to get TLS config: {e}"))
            })?
        }
        None => TlsOptions::default(),
    };
    let proxy = match &spec.proxy_secret_ref {
        Some(reference) => {
            let data = get_secret(reference.name.clone()).await?;
            Some(store::proxy_url(&reference.name, &data)?)
        }
        None => None,
    };
    S3Client::new(S3Options {
        endpoint: spec.endpoint.clone(),
        insecure: spec.insecure.unwrap_or(false),
        region: spec.region.clone().unwrap_or_default(),
        access_key,
        tls,
        proxy,
        timeout,
    })
    .map_err(|e| SourceError::Authentication(e.to_string()))
}

/// The index of the objects to fetch: bucket exists, ignore rules, listing.
async fn etag_index(client: &S3Client, object: &Bucket) -> Result<EtagIndex, SourceError> {
    let bucket = object.spec.bucket_name.as_str();
    let exists = client.bucket_exists(bucket).await.map_err(|e| {
        bucket_failed(format!(
            "failed to confirm existence of '{bucket}' bucket: {e}"
        ))
    })?;
    if !exists {
        return Err(bucket_failed(format!("bucket '{bucket}' not found")));
    }
    let mut ignore = Vec::new();
    match client.get_object(bucket, IGNORE_FILE, &mut ignore).await {
        Ok(_) => {}
        Err(e) if e.is_not_found() => ignore.clear(),
        Err(e) => {
            return Err(bucket_failed(format!(
                "failed to get Etag for '{IGNORE_FILE}' object: {e}"
            )));
        }
    }
    let mut builder = IgnoreMatcher::builder();
    builder.add_patterns(Path::new(""), NO_DEFAULTS);
    builder.add_patterns(Path::new(""), &String::from_utf8_lossy(&ignore));
    if let Some(spec_ignore) = &object.spec.ignore {
        builder.add_patterns(Path::new(""), spec_ignore);
    }
    let matcher = builder
        .build()
        .map_err(|e| bucket_failed(format!("failed to load ignore rules: {e}")))?;
    let objects = client
        .list_objects(bucket, object.spec.prefix.as_deref())
        .await
        .map_err(|e| {
            bucket_failed(format!(
                "indexation of objects from bucket '{bucket}' failed: {e}"
            ))
        })?;
    Ok(EtagIndex(
        objects
            .into_iter()
            .filter(|o| !o.key.ends_with('/') && o.key != IGNORE_FILE)
            .filter(|o| !matcher.is_excluded(Path::new(&o.key), false))
            .map(|o| (o.key, o.etag))
            .collect(),
    ))
}

/// A safe local path for an object key below `dir`, or `None` for keys that would escape.
fn local_path(dir: &Path, key: &str) -> Option<PathBuf> {
    let relative = ferroflux_artifact::entry_relative_path(key.as_bytes())?;
    Some(dir.join(relative))
}

/// Downloads every indexed object into `dir`; objects that disappeared meanwhile leave
/// the index, changed ETags are updated.
async fn fetch_objects(
    client: &S3Client,
    bucket: &str,
    index: EtagIndex,
    dir: &Path,
) -> Result<EtagIndex, SourceError> {
    let failed = |e: String| bucket_failed(format!("fetch from bucket '{bucket}' failed: {e}"));
    let results: Vec<(String, Option<String>)> = futures::stream::iter(index.0)
        .map(|(key, _)| async move {
            let path = local_path(dir, &key)
                .ok_or_else(|| format!("failed to resolve path for '{key}' object"))?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            let mut file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
            match client.get_object(bucket, &key, &mut file).await {
                Ok(etag) => Ok((key, Some(etag))),
                Err(e) if e.is_not_found() => {
                    drop(file);
                    let _ = std::fs::remove_file(&path);
                    info!(%key, %bucket, "indexed object disappeared from bucket");
                    Ok((key, None))
                }
                Err(e) => Err(format!("failed to get '{key}' object: {e}")),
            }
        })
        .buffer_unordered(MAX_CONCURRENT_FETCHES)
        .try_collect()
        .await
        .map_err(failed)?;
    Ok(EtagIndex(
        results
            .into_iter()
            .filter_map(|(key, etag)| etag.map(|etag| (key, etag)))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_is_the_digest_of_sorted_key_etag_lines() {
        let index = EtagIndex(BTreeMap::from([
            ("b.yaml".to_owned(), "2".to_owned()),
            ("a.yaml".to_owned(), "1".to_owned()),
        ]));
        let expected = format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(b"a.yaml 1\nb.yaml 2\n"))
        );
        assert_eq!(index.revision(), expected);
        assert_eq!(
            EtagIndex::default().revision(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn keys_cannot_escape_the_directory() {
        let dir = Path::new("/tmp/x");
        assert_eq!(local_path(dir, "a/b.yaml"), Some(dir.join("a/b.yaml")));
        assert!(local_path(dir, "../../etc/passwd").is_none_or(|p| p.starts_with(dir)));
    }
}
