//! Helm 3 release storage, driver `secret`, byte-compatible with Helm: one Secret
//! `sh.helm.release.v1.<name>.v<revision>` of type `helm.sh/release.v1` per revision,
//! labelled `name`, `owner=helm`, `status`, `version` (and `createdAt` / `modifiedAt`),
//! holding `release: base64(gzip(json(Release)))`.
//!
//! One [`SecretStorage`] serves one reconciliation: the first read of a release lists its
//! Secrets once and keeps them, and the driver's own writes keep that copy current, so the
//! several reads of an install or upgrade cost one LIST instead of one each.

pub mod release;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::{Client, ResourceExt};

pub use release::Release;

/// The Secret type of Helm releases.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// Labels Helm owns on release Secrets.
const SYSTEM_LABELS: &[&str] = &[
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b, 0x08];

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The API server refused a call.
    #[error("{action}: {source}")]
    Kube {
        /// What was being done.
        action: String,
        /// The API error.
        #[source]
        source: kube::Error,
    },
    /// A stored release could not be decoded.
    #[error("failed to decode release {key}: {message}")]
    Decode {
        /// The Secret name.
        key: String,
        /// Why.
        message: String,
    },
    /// A release could not be encoded.
    #[error("failed to encode release {name}: {message}")]
    Encode {
        /// The release name.
        name: String,
        /// Why.
        message: String,
    },
    /// `create` found the Secret already there.
    #[error("release: already exists")]
    Exists,
}

/// The Secret name of revision `version` of release `name`.
pub fn key(name: &str, version: i64) -> String {
    format!("sh.helm.release.v1.{name}.v{version}")
}

/// `base64(gzip(json(release)))` with gzip's best compression, as Helm's `encodeRelease`.
pub fn encode(release: &Release) -> Result<String, StorageError> {
    let encode_error = |message: String| StorageError::Encode {
        name: release.name.clone(),
        message,
    };
    let json = serde_json::to_vec(release).map_err(|e| encode_error(e.to_string()))?;
    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(&json)
        .map_err(|e| encode_error(e.to_string()))?;
    let bytes = gzip.finish().map_err(|e| encode_error(e.to_string()))?;
    Ok(STANDARD.encode(bytes))
}

/// Decodes what [`encode`] (or Helm) wrote; plain JSON is accepted too, as Helm does.
pub fn decode(key: &str, data: &[u8]) -> Result<Release, StorageError> {
    let decode_error = |message: String| StorageError::Decode {
        key: key.to_owned(),
        message,
    };
    let bytes = STANDARD
        .decode(data)
        .map_err(|e| decode_error(e.to_string()))?;
    let json = if bytes.len() > 3 && bytes.starts_with(GZIP_MAGIC) {
        let mut out = Vec::new();
        GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| decode_error(e.to_string()))?;
        out
    } else {
        bytes
    };
    serde_json::from_slice(&json).map_err(|e| decode_error(e.to_string()))
}

/// A stored revision and the custom (non-system) labels of its Secret.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The release.
    pub release: Release,
    /// Labels other than Helm's own.
    pub labels: BTreeMap<String, String>,
}

/// A stored revision as last read or written by this driver, with its Secret's
/// resourceVersion.
#[derive(Clone, Debug)]
struct Cached {
    stored: Stored,
    resource_version: Option<String>,
}

/// The revisions of each release read so far, by release name and version.
type Revisions = HashMap<String, BTreeMap<i64, Cached>>;

/// Helm's Secret driver in one namespace (clones share the cache of revisions).
#[derive(Clone)]
pub struct SecretStorage {
    api: Api<Secret>,
    namespace: String,
    revisions: Arc<Mutex<Revisions>>,
}

impl SecretStorage {
    /// Storage in `namespace`.
    pub fn new(client: Client, namespace: &str) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
            revisions: Arc::default(),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Revisions> {
        self.revisions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached revisions of `name`, if its Secrets were listed.
    fn cached(&self, name: &str) -> Option<BTreeMap<i64, Cached>> {
        self.cache().get(name).cloned()
    }

    /// Drops a deleted revision from the cache.
    fn forget(&self, name: &str, version: i64) {
        if let Some(revisions) = self.cache().get_mut(name) {
            revisions.remove(&version);
        }
    }

    /// Records a Secret this driver just wrote, when `name`'s revisions are cached.
    fn remember(&self, release: &Release, labels: &BTreeMap<String, String>, written: &Secret) {
        if let Some(revisions) = self.cache().get_mut(&release.name) {
            revisions.insert(
                release.version,
                Cached {
                    stored: Stored {
                        release: release.clone(),
                        labels: custom_labels(labels),
                    },
                    resource_version: written.metadata.resource_version.clone(),
                },
            );
        }
    }

    /// The storage namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn kube_error(&self, action: &str, source: kube::Error) -> StorageError {
        StorageError::Kube {
            action: format!("{action} in namespace {}", self.namespace),
            source,
        }
    }

    /// Every revision of release `name`, oldest first (listed once per driver).
    pub async fn history(&self, name: &str) -> Result<Vec<Stored>, StorageError> {
        let revisions = if let Some(revisions) = self.cached(name) {
            revisions
        } else {
            let revisions = self.list(name).await?;
            self.cache().insert(name.to_owned(), revisions.clone());
            revisions
        };
        Ok(revisions
            .into_values()
            .map(|cached| cached.stored)
            .collect())
    }

    async fn list(&self, name: &str) -> Result<BTreeMap<i64, Cached>, StorageError> {
        let params = ListParams::default().labels(&format!("owner=helm,name={name}"));
        let list = self
            .api
            .list(&params)
            .await
            .map_err(|e| self.kube_error("query: failed to query with labels", e))?;
        let mut revisions = BTreeMap::new();
        for secret in list.items {
            let stored = stored_of(&secret)?;
            let cached = Cached {
                resource_version: secret.metadata.resource_version.clone(),
                stored,
            };
            revisions.insert(cached.stored.release.version, cached);
        }
        Ok(revisions)
    }

    /// The revision with the highest version, if any.
    pub async fn last(&self, name: &str) -> Result<Option<Release>, StorageError> {
        Ok(self.history(name).await?.pop().map(|s| s.release))
    }

    /// One revision.
    pub async fn get(&self, name: &str, version: i64) -> Result<Option<Release>, StorageError> {
        if let Some(revisions) = self.cached(name) {
            return Ok(revisions.get(&version).map(|c| c.stored.release.clone()));
        }
        let key = key(name, version);
        let secret = self
            .api
            .get_opt(&key)
            .await
            .map_err(|e| self.kube_error("get", e))?;
        secret.map(|s| stored_of(&s).map(|s| s.release)).transpose()
    }

    /// Stores a new revision (label `createdAt`); [`StorageError::Exists`] when taken.
    pub async fn create(&self, release: &Release) -> Result<(), StorageError> {
        let mut labels = BTreeMap::new();
        labels.insert("createdAt".to_owned(), unix_now());
        let secret = secret_of(release, labels.clone())?;
        match self.api.create(&PostParams::default(), &secret).await {
            Ok(written) => {
                self.remember(release, &labels, &written);
                Ok(())
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Err(StorageError::Exists),
            Err(e) => Err(self.kube_error("create: failed to create", e)),
        }
    }

    /// Replaces a revision, as Helm's `Update`: custom labels kept, `modifiedAt` set (and
    /// `createdAt` dropped, exactly as Helm does). The revision's Secret is read only when it
    /// is not cached, or when the cached copy turns out to be stale.
    pub async fn update(&self, release: &Release) -> Result<(), StorageError> {
        let cached = self
            .cached(&release.name)
            .and_then(|revisions| revisions.get(&release.version).cloned());
        if let Some(cached) = cached {
            let labels = with_modified_at(cached.stored.labels);
            match self.replace(release, labels, cached.resource_version).await {
                Err(StorageError::Kube {
                    source: kube::Error::Api(status),
                    ..
                }) if status.code == 409 || status.code == 404 => {}
                done => return done,
            }
        }
        let existing = self
            .api
            .get_opt(&key(&release.name, release.version))
            .await
            .map_err(|e| self.kube_error("get", e))?;
        let labels = existing
            .as_ref()
            .map(|s| custom_labels(s.labels()))
            .unwrap_or_default();
        let labels = with_modified_at(labels);
        if let Some(existing) = existing {
            return self
                .replace(release, labels, existing.metadata.resource_version)
                .await;
        }
        let secret = secret_of(release, labels.clone())?;
        let written = self
            .api
            .create(&PostParams::default(), &secret)
            .await
            .map_err(|e| self.kube_error("update: failed to update", e))?;
        self.remember(release, &labels, &written);
        Ok(())
    }

    /// Replaces the Secret of `release` at `resource_version`.
    async fn replace(
        &self,
        release: &Release,
        labels: BTreeMap<String, String>,
        resource_version: Option<String>,
    ) -> Result<(), StorageError> {
        let mut secret = secret_of(release, labels.clone())?;
        secret.metadata.resource_version = resource_version;
        let written = self
            .api
            .replace(
                &key(&release.name, release.version),
                &PostParams::default(),
                &secret,
            )
            .await
            .map_err(|e| self.kube_error("update: failed to update", e))?;
        self.remember(release, &labels, &written);
        Ok(())
    }

    /// Deletes one revision; a missing one is not an error.
    pub async fn delete(&self, name: &str, version: i64) -> Result<(), StorageError> {
        match self
            .api
            .delete(&key(name, version), &DeleteParams::default())
            .await
        {
            Ok(_) => {
                self.forget(name, version);
                Ok(())
            }
            Err(kube::Error::Api(status)) if status.code == 404 => {
                self.forget(name, version);
                Ok(())
            }
            Err(e) => Err(self.kube_error("delete", e)),
        }
    }

    /// Keeps at most `max` revisions (0: unlimited), deleting the oldest first but never
    /// the last deployed one, as Helm's `removeLeastRecent`.
    pub async fn prune(&self, name: &str, max: usize) -> Result<(), StorageError> {
        if max == 0 {
            return Ok(());
        }
        let history = self.history(name).await?;
        if history.len() <= max {
            return Ok(());
        }
        let last_deployed = history
            .iter()
            .rev()
            .find(|s| s.release.status() == release::status::DEPLOYED)
            .map(|s| s.release.version);
        let mut excess = history.len() - max;
        for stored in &history {
            if excess == 0 {
                break;
            }
            if Some(stored.release.version) == last_deployed {
                continue;
            }
            self.delete(name, stored.release.version).await?;
            excess -= 1;
        }
        Ok(())
    }
}

/// `labels` (custom ones) with `modifiedAt` set to now.
fn with_modified_at(mut labels: BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels.insert("modifiedAt".to_owned(), unix_now());
    labels
}

fn unix_now() -> String {
    jiff::Timestamp::now().as_second().to_string()
}

fn custom_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn stored_of(secret: &Secret) -> Result<Stored, StorageError> {
    let name = secret.name_any();
    let data = secret
        .data
        .as_ref()
        .and_then(|d| d.get("release"))
        .ok_or_else(|| StorageError::Decode {
            key: name.clone(),
            message: "the Secret has no release data".to_owned(),
        })?;
    Ok(Stored {
        release: decode(&name, &data.0)?,
        labels: custom_labels(secret.labels()),
    })
}

/// The Secret of `release` with `labels` plus Helm's system labels.
fn secret_of(
    release: &Release,
    mut labels: BTreeMap<String, String>,
) -> Result<Secret, StorageError> {
    labels.insert("name".to_owned(), release.name.clone());
    labels.insert("owner".to_owned(), "helm".to_owned());
    labels.insert("status".to_owned(), release.status().to_owned());
    labels.insert("version".to_owned(), release.version.to_string());
    let mut secret = Secret::default();
    secret.metadata.name = Some(key(&release.name, release.version));
    secret.metadata.labels = Some(labels);
    secret.type_ = Some(SECRET_TYPE.to_owned());
    secret.data = Some(BTreeMap::from([(
        "release".to_owned(),
        ByteString(encode(release)?.into_bytes()),
    )]));
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use release::{ChartMetadata, ChartRecord, Info};

    fn sample() -> Release {
        Release {
            name: "app".into(),
            info: Some(Info {
                first_deployed: "2026-01-02T03:04:05.123Z".into(),
                last_deployed: "2026-01-02T03:04:05.123Z".into(),
                status: "deployed".into(),
                description: "Install complete".into(),
                ..Info::default()
            }),
            chart: Some(ChartRecord {
                metadata: Some(ChartMetadata {
                    name: "podinfo".into(),
                    version: "6.14.1".into(),
                    api_version: "v2".into(),
                    ..ChartMetadata::default()
                }),
                ..ChartRecord::default()
            }),
            manifest: "---\nkind: ConfigMap\n".into(),
            version: 1,
            namespace: "default".into(),
            ..Release::default()
        }
    }

    #[test]
    fn round_trips_through_gzip_and_base64() {
        let release = sample();
        let encoded = encode(&release).unwrap();
        let raw = STANDARD.decode(&encoded).unwrap();
        assert_eq!(&raw[..3], GZIP_MAGIC);
        assert_eq!(decode("k", encoded.as_bytes()).unwrap(), release);
    }

    #[test]
    fn decodes_plain_json() {
        let json = serde_json::to_vec(&sample()).unwrap();
        let encoded = STANDARD.encode(json);
        assert_eq!(decode("k", encoded.as_bytes()).unwrap(), sample());
    }

    #[test]
    fn json_shape_matches_helm() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["info"]["deleted"], "");
        assert_eq!(json["chart"]["lock"], serde_json::Value::Null);
        assert_eq!(json["chart"]["templates"], serde_json::Value::Null);
        assert_eq!(json["chart"]["metadata"]["apiVersion"], "v2");
        assert!(json.get("config").is_none());
        assert!(json.get("hooks").is_none());
        assert_eq!(key("app", 3), "sh.helm.release.v1.app.v3");
    }
}
