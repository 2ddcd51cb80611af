//! The artifact record (Flux's `meta.Artifact`), its storage path and its URL.

use std::collections::BTreeMap;

use jiff::Timestamp;

/// The storage address source-controller listens on when none is configured (`--storage-addr`).
pub const DEFAULT_STORAGE_ADDRESS: &str = ":9090";

/// A file in artifact storage, as advertised in a source's `status.artifact`.
///
/// Mirrors `ferroflux_api::meta::Artifact` without Kubernetes wrapper types; with the `api`
/// feature (on by default) convert with `From` in either direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactRecord {
    /// Location relative to the storage root: `<kind>/<namespace>/<name>/<file>`.
    pub path: String,
    /// Download address, `http://<advertised host>/<path>`.
    pub url: String,
    /// The origin revision, for example `main@sha1:<commit>`.
    pub revision: String,
    /// `sha256:<hex>` of the stored file; empty until the file is written.
    pub digest: String,
    /// When the file was last written.
    pub last_update_time: Timestamp,
    /// Size of the stored file in bytes; `None` until the file is written.
    pub size: Option<i64>,
    /// Extra facts, such as OCI manifest annotations.
    pub metadata: Option<BTreeMap<String, String>>,
}

impl ArtifactRecord {
    /// The file name: the last segment of the path.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }
}

#[cfg(feature = "api")]
impl From<ArtifactRecord> for ferroflux_api::meta::Artifact {
    fn from(record: ArtifactRecord) -> Self {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        Self {
            path: record.path,
            url: record.url,
            revision: record.revision,
            digest: record.digest,
            last_update_time: Time(record.last_update_time),
            size: record.size,
            metadata: record.metadata,
        }
    }
}

#[cfg(feature = "api")]
impl From<ferroflux_api::meta::Artifact> for ArtifactRecord {
    fn from(artifact: ferroflux_api::meta::Artifact) -> Self {
        Self {
            path: artifact.path,
            url: artifact.url,
            revision: artifact.revision,
            digest: artifact.digest,
            last_update_time: artifact.last_update_time.0,
            size: artifact.size,
            metadata: artifact.metadata,
        }
    }
}

/// The directory of an object's artifacts relative to the storage root:
/// `<lowercase kind>/<namespace>/<name>`.
pub fn artifact_dir(kind: &str, namespace: &str, name: &str) -> String {
    join_clean(&[&kind.to_lowercase(), namespace, name])
}

/// The path of an artifact file relative to the storage root:
/// `<lowercase kind>/<namespace>/<name>/<file>`.
pub fn artifact_path(kind: &str, namespace: &str, name: &str, file_name: &str) -> String {
    join_clean(&[&kind.to_lowercase(), namespace, name, file_name])
}

/// Joins segments with `/` and cleans the result lexically, like Go's `path.Join`, so paths
/// match the ones Flux writes byte for byte (empty segments vanish, `.` and `..` resolve).
fn join_clean(segments: &[&str]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in segments.iter().flat_map(|s| s.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The URL an artifact path is served at. `advertised_host` is a host (and port), or a full
/// `http(s)://` prefix used as is.
pub fn artifact_url(advertised_host: &str, path: &str) -> String {
    let path = path.trim_start_matches('/');
    if advertised_host.starts_with("http://") || advertised_host.starts_with("https://") {
        format!("{advertised_host}/{path}")
    } else {
        format!("http://{advertised_host}/{path}")
    }
}

/// Why the advertised address could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The storage address is not `host:port`.
    #[error("invalid storage address '{0}': missing port")]
    MissingPort(String),
    /// `0.0.0.0` was given and the machine's host name is unknown.
    #[error("0.0.0.0 specified in storage address but the host name is unknown")]
    UnknownHostname,
}

/// Derives the advertised address like Flux (`--storage-adv-addr`): the explicit value when
/// set, else the storage address with an empty host replaced by `localhost` and `0.0.0.0` by
/// `$HOSTNAME` (or the kernel's host name).
pub fn advertised_address(advertised: &str, storage_address: &str) -> Result<String, AddressError> {
    advertised_address_with(advertised, storage_address, || {
        std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| {
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .ok()
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
            })
    })
}

/// [`advertised_address`] with the host-name lookup injected, so it is a pure function.
pub fn advertised_address_with(
    advertised: &str,
    storage_address: &str,
    hostname: impl FnOnce() -> Option<String>,
) -> Result<String, AddressError> {
    if !advertised.is_empty() {
        return Ok(advertised.to_owned());
    }
    let (host, port) = storage_address
        .rsplit_once(':')
        .ok_or_else(|| AddressError::MissingPort(storage_address.to_owned()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = match host {
        "" => "localhost".to_owned(),
        "0.0.0.0" => hostname().ok_or(AddressError::UnknownHostname)?,
        other => other.to_owned(),
    };
    // Go's net.JoinHostPort brackets IPv6 literals.
    if host.contains(':') {
        Ok(format!("[{host}]:{port}"))
    } else {
        Ok(format!("{host}:{port}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        "GitRepository",
        "flux-system",
        "podinfo",
        "abc.tar.gz",
        "gitrepository/flux-system/podinfo/abc.tar.gz"
    )]
    #[case(
        "OCIRepository",
        "default",
        "app",
        "sha256:00.tar.gz",
        "ocirepository/default/app/sha256:00.tar.gz"
    )]
    #[case("HelmChart", "ns", "c", "../x.tgz", "helmchart/ns/x.tgz")]
    fn paths_match_flux(
        #[case] kind: &str,
        #[case] namespace: &str,
        #[case] name: &str,
        #[case] file: &str,
        #[case] expected: &str,
    ) {
        assert_eq!(artifact_path(kind, namespace, name, file), expected);
    }

    #[rstest]
    #[case(
        "source-controller.flux-system.svc.cluster.local.",
        "http://source-controller.flux-system.svc.cluster.local./a/b"
    )]
    #[case("http://proxy:8080/prefix", "http://proxy:8080/prefix/a/b")]
    #[case("https://cdn.example", "https://cdn.example/a/b")]
    fn urls_match_flux(#[case] host: &str, #[case] expected: &str) {
        assert_eq!(artifact_url(host, "/a/b"), expected);
    }

    #[rstest]
    #[case("adv:80", ":9090", "adv:80")]
    #[case("", ":9090", "localhost:9090")]
    #[case("", "0.0.0.0:9090", "pod-0:9090")]
    #[case("", "127.0.0.1:9090", "127.0.0.1:9090")]
    #[case("", "[::1]:9090", "[::1]:9090")]
    fn advertised_address_like_flux(
        #[case] advertised: &str,
        #[case] storage: &str,
        #[case] expected: &str,
    ) {
        let got = advertised_address_with(advertised, storage, || Some("pod-0".into()));
        assert_eq!(got.as_deref(), Ok(expected));
    }

    #[test]
    fn advertised_address_errors() {
        assert_eq!(
            advertised_address_with("", "9090", || None),
            Err(AddressError::MissingPort("9090".into()))
        );
        assert_eq!(
            advertised_address_with("", "0.0.0.0:9090", || None),
            Err(AddressError::UnknownHostname)
        );
    }

    #[cfg(feature = "api")]
    #[test]
    fn converts_to_and_from_the_api_type() {
        let record = ArtifactRecord {
            path: "a/b/c/d.tar.gz".into(),
            url: "http://h/a/b/c/d.tar.gz".into(),
            revision: "main@sha1:00".into(),
            digest: "sha256:00".into(),
            last_update_time: Timestamp::UNIX_EPOCH,
            size: Some(3),
            metadata: None,
        };
        let api: ferroflux_api::meta::Artifact = record.clone().into();
        assert_eq!(api.last_update_time.0, Timestamp::UNIX_EPOCH);
        assert_eq!(ArtifactRecord::from(api), record);
        assert_eq!(record.file_name(), "d.tar.gz");
    }
}
