//! A small OCI distribution client over reqwest: what OCIRepository (and HelmChart from OCI
//! HelmRepositories) need from a registry, without a container SDK.
//!
//! ```text
//! let repository = Repository::parse_url("oci://ghcr.io/org/app")?;
//! let client = RegistryClient::new(ClientOptions { credentials, tls, insecure, timeout, .. })?;
//! let tags = client.list_tags(&repository).await?;
//! let resolved = client.resolve(&repository, "v1.0.0").await?;     // tag or sha256:<hex>
//! let layer = &resolved.manifest.layers[0];
//! let bytes = client.fetch_blob(&repository, layer, 100 << 20).await?; // sha256-verified
//! ```
//!
//! Authentication follows the distribution spec: a request is sent (with a cached
//! `Authorization` if one was obtained before); on `401` the `WWW-Authenticate` challenge
//! decides: `Basic` retries with the credentials, `Bearer realm=..,service=..,scope=..`
//! fetches a token from the realm (with the credentials as basic auth when there are
//! any, anonymously otherwise) and retries with it. Credential values never appear in
//! errors or `Debug` output.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use k8s_openapi::ByteString;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker v2 schema 2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list media type.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Flux's config media type for artifacts pushed with `flux push artifact`.
pub const FLUX_CONFIG: &str = "application/vnd.cncf.flux.config.v1+json";
/// Flux's content (layer) media type: a gzip-compressed tarball.
pub const FLUX_CONTENT_TAR_GZIP: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";
/// Largest manifest accepted (the distribution spec's recommended limit).
pub const MAX_MANIFEST_SIZE: usize = 4 << 20;

/// Errors talking to a registry. Messages carry URLs and registry error codes, never
/// credentials.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The `oci://` URL or a reference is malformed.
    #[error("{0}")]
    InvalidReference(String),
    /// The client could not be configured (bad CA or client certificate).
    #[error("{0}")]
    Configuration(String),
    /// The registry could not be reached or the transfer broke off.
    #[error("{method} {url}: {source}")]
    Transport {
        /// HTTP method.
        method: Method,
        /// Request URL.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The registry answered with an error status.
    #[error("{method} {url}: {message}")]
    Status {
        /// HTTP method.
        method: Method,
        /// Request URL.
        url: String,
        /// HTTP status.
        status: StatusCode,
        /// The registry's error codes and messages, or the status line.
        message: String,
    },
    /// The token endpoint refused or answered nonsense.
    #[error("failed to obtain a registry token from {realm}: {message}")]
    Token {
        /// The token endpoint.
        realm: String,
        /// What went wrong.
        message: String,
    },
    /// Content did not match its digest.
    #[error("digest mismatch for {url}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// Where it came from.
        url: String,
        /// The digest it should have.
        expected: String,
        /// The digest it has.
        actual: String,
    },
    /// Content exceeded the allowed size.
    #[error("{url}: content exceeds the size limit of {limit} bytes")]
    TooLarge {
        /// Where it came from.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A manifest could not be parsed or has an unsupported media type.
    #[error("invalid manifest from {url}: {message}")]
    InvalidManifest {
        /// Where it came from.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// Writing a downloaded blob failed.
    #[error("failed to write blob: {0}")]
    Io(#[from] std::io::Error),
}

impl OciError {
    /// Whether the registry refused the credentials (or wanted some).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN)
            || matches!(self, Self::Token { .. })
    }

    /// Whether the registry said the manifest, blob or repository does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status == StatusCode::NOT_FOUND)
    }
}

/// A repository in a registry: `registry` is `host[:port]`, `path` the repository name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Repository {
    /// `host[:port]` as written by the user (`docker.io` for Docker Hub).
    pub registry: String,
    /// Repository name, e.g. `org/app`.
    pub path: String,
}

impl std::fmt::Display for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

impl Repository {
    /// Parses `oci://host[:port]/repo` (no tag, no digest), as OCIRepository's `spec.url`.
    pub fn parse_url(url: &str) -> Result<Self, OciError> {
        let rest = url.strip_prefix("oci://").ok_or_else(|| {
            OciError::InvalidReference(
                "URL must be in format 'oci://<domain>/<org>/<repo>'".to_owned(),
            )
        })?;
        Self::parse(rest)
    }

    /// Parses `host[:port]/repo` (no tag, no digest). A first segment without `.` or `:`
    /// that is not `localhost` names a Docker Hub repository, as in Docker.
    pub fn parse(reference: &str) -> Result<Self, OciError> {
        let reference = reference.trim_end_matches('/');
        let (registry, path) = match reference.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), rest.to_owned())
            }
            _ => ("docker.io".to_owned(), reference.to_owned()),
        };
        if let Some((_, tag)) = path.split_once(':') {
            return Err(OciError::InvalidReference(format!(
                "URL must not contain a tag; remove ':{tag}'"
            )));
        }
        if path.contains('@') {
            return Err(OciError::InvalidReference(
                "URL must not contain a digest; use spec.ref.digest".to_owned(),
            ));
        }
        if registry.is_empty() || !valid_repository_path(&path) {
            return Err(OciError::InvalidReference(format!(
                "repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: {path}"
            )));
        }
        let path = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Ok(Self { registry, path })
    }

    /// The same registry with `name` appended to the path (a chart inside a Helm OCI
    /// repository).
    pub fn join(&self, name: &str) -> Self {
        Self {
            registry: self.registry.clone(),
            path: format!("{}/{}", self.path, name.trim_matches('/')),
        }
    }

    /// The host the API is served on (`index.docker.io` for Docker Hub).
    fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            "index.docker.io"
        } else {
            &self.registry
        }
    }
}

fn valid_repository_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && segment.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && segment
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
        })
}

/// Whether `reference` is a digest (`<algorithm>:<hex>`) rather than a tag.
pub fn is_digest(reference: &str) -> bool {
    reference.contains(':')
}

/// Credentials for one registry. `Debug` never shows the values.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// User name and password (basic auth, or exchanged for a token).
    Basic {
        /// User name.
        username: String,
        /// Password or access token.
        password: String,
    },
    /// A registry token sent as `Authorization: Bearer`.
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { .. } => f.write_str("Credentials::Basic(<redacted>)"),
            Self::Bearer(_) => f.write_str("Credentials::Bearer(<redacted>)"),
        }
    }
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, DockerAuth>,
}

#[derive(Deserialize, Default)]
struct DockerAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "registrytoken")]
    registry_token: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

/// The host part of a `.dockerconfigjson` `auths` key (which may be a URL).
fn docker_config_host(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

fn same_registry(a: &str, b: &str) -> bool {
    let hub = |h: &str| matches!(h, "docker.io" | "index.docker.io" | "registry-1.docker.io");
    a.eq_ignore_ascii_case(b) || (hub(a) && hub(b))
}

impl Credentials {
    /// The credentials for `registry` in a `.dockerconfigjson` document (the data of a
    /// `kubernetes.io/dockerconfigjson` Secret); `None` when it has no entry for it.
    pub fn from_docker_config(json: &[u8], registry: &str) -> Result<Option<Self>, OciError> {
        let config: DockerConfig = serde_json::from_slice(json).map_err(|e| {
            OciError::Configuration(format!("failed to parse .dockerconfigjson: {e}"))
        })?;
        let Some(entry) = config
            .auths
            .iter()
            .find(|(key, _)| same_registry(docker_config_host(key), registry))
            .map(|(_, entry)| entry)
        else {
            return Ok(None);
        };
        if let Some(token) = entry.registry_token.as_ref().filter(|t| !t.is_empty()) {
            return Ok(Some(Self::Bearer(token.clone())));
        }
        if let Some(auth) = entry.auth.as_ref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| {
                    OciError::Configuration(format!(
                        "invalid 'auth' for registry '{registry}' in .dockerconfigjson: not base64"
                    ))
                })?;
            let decoded = String::from_utf8(decoded).map_err(|_| {
                OciError::Configuration(format!(
                    "invalid 'auth' for registry '{registry}' in .dockerconfigjson: not UTF-8"
                ))
            })?;
            let (username, password) = decoded.split_once(':').ok_or_else(|| {
                OciError::Configuration(format!(
                    "invalid 'auth' for registry '{registry}' in .dockerconfigjson: expected 'username:password'"
                ))
            })?;
            return Ok(Some(Self::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            }));
        }
        match (&entry.username, &entry.password, &entry.identity_token) {
            (Some(username), Some(password), _) => Ok(Some(Self::Basic {
                username: username.clone(),
                password: password.clone(),
            })),
            (_, _, Some(_)) => Err(OciError::Configuration(format!(
                "identity tokens for registry '{registry}' are not supported by ferroflux yet"
            ))),
            _ => Ok(None),
        }
    }
}

/// TLS material for HTTPS registries. `Debug` never shows the private key.
#[derive(Clone, Default)]
pub struct TlsOptions {
    /// PEM CA bundle trusted in addition to the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate and PEM private key, for mutual TLS.
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca_pem", &self.ca_pem.is_some())
            .field("client_cert", &self.client_cert.is_some())
            .finish()
    }
}

impl TlsOptions {
    /// Reads Flux's `certSecretRef` keys: `ca.crt`, and `tls.crt` + `tls.key` (both or
    /// neither). `secret` names the Secret in errors.
    pub fn from_secret_data(
        secret: &str,
        data: &BTreeMap<String, ByteString>,
    ) -> Result<Self, OciError> {
        let get = |key: &str| data.get(key).map(|v| v.0.clone()).filter(|v| !v.is_empty());
        let client_cert = match (get("tls.crt"), get("tls.key")) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                return Err(OciError::Configuration(format!(
                    "invalid '{secret}' secret data: 'tls.crt' and 'tls.key' must both be set"
                )));
            }
        };
        let ca_pem = get("ca.crt");
        if ca_pem.is_none() && client_cert.is_none() {
            return Err(OciError::Configuration(format!(
                "invalid '{secret}' secret data: no certificate found ('ca.crt', or 'tls.crt' and 'tls.key')"
            )));
        }
        Ok(Self {
            ca_pem,
            client_cert,
        })
    }
}

/// How to reach registries.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Credentials used for every registry this client talks to; anonymous when `None`.
    pub credentials: Option<Credentials>,
    /// Extra CA and client certificate.
    pub tls: TlsOptions,
    /// Plain HTTP instead of HTTPS (Flux's `spec.insecure`).
    pub insecure: bool,
    /// Overall timeout of each HTTP request.
    pub timeout: Duration,
    /// Proxy URL for every request, if any.
    pub proxy: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            credentials: None,
            tls: TlsOptions::default(),
            insecure: false,
            timeout: Duration::from_secs(60),
            proxy: None,
        }
    }
}

/// An OCI descriptor: media type, digest and size of a blob or manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// `sha256:<hex>` of the content.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// The artifact type of a referenced manifest (in image indexes and referrer lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations on the descriptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An OCI image manifest (or Docker v2 schema 2 manifest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's media type, when it states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact's type (OCI 1.1), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, in order.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// Manifest annotations (`org.opencontainers.image.*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// The manifest this one refers to (OCI 1.1 referrers: signatures, attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
}

/// An image index as the referrers API and tag schema serve it.
#[derive(Deserialize)]
struct ReferrerIndex {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

/// A manifest resolved from a tag or digest.
#[derive(Clone, Debug)]
pub struct ResolvedManifest {
    /// `sha256:<hex>` of the manifest bytes.
    pub digest: String,
    /// The media type the registry served it with.
    pub media_type: String,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The manifest exactly as served.
    pub bytes: Vec<u8>,
}

/// An artifact to push: a config blob, layers and manifest annotations.
#[derive(Clone, Debug, Default)]
pub struct PushArtifact {
    /// Config media type and content.
    pub config: (String, Vec<u8>),
    /// Layer media types and contents, in order.
    pub layers: Vec<(String, Vec<u8>)>,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
}

impl PushArtifact {
    /// An artifact in Flux's format (`flux push artifact`): an empty JSON config with
    /// Flux's config media type and one gzip tarball layer with Flux's content media type.
    pub fn flux(tar_gz: Vec<u8>, annotations: BTreeMap<String, String>) -> Self {
        Self {
            config: (FLUX_CONFIG.to_owned(), b"{}".to_vec()),
            layers: vec![(FLUX_CONTENT_TAR_GZIP.to_owned(), tar_gz)],
            annotations,
        }
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// A client for OCI registries (distribution API v2).
pub struct RegistryClient {
    http: reqwest::Client,
    options: ClientOptions,
    /// `Authorization` header values by `registry/path:actions`.
    authorizations: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// What a request needs permission for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Pull,
    Push,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Push => "pull,push",
        }
    }
}

impl RegistryClient {
    /// A client with `options`; fails on unusable TLS material.
    pub fn new(options: ClientOptions) -> Result<Self, OciError> {
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!(
                "ferroflux-source-controller/",
                env!("CARGO_PKG_VERSION")
            ));
        if let Some(ca) = &options.tls.ca_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| {
                OciError::Configuration(format!("failed to parse CA certificate 'ca.crt': {e}"))
            })?;
            if certificates.is_empty() {
                return Err(OciError::Configuration(
                    "no PEM certificate found in 'ca.crt'".to_owned(),
                ));
            }
            builder = builder.tls_certs_merge(certificates);
        }
        if let Some((cert, key)) = &options.tls.client_cert {
            let mut pem = cert.clone();
            pem.push(b'\n');
            pem.extend_from_slice(key);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
                OciError::Configuration(
                    "failed to load client certificate from 'tls.crt' and 'tls.key'".to_owned(),
                )
            })?;
            builder = builder.identity(identity);
        }
        if let Some(proxy) = &options.proxy {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|_| OciError::Configuration("invalid proxy URL".to_owned()))?;
            builder = builder.proxy(proxy);
        }
        let http = builder
            .build()
            .map_err(|e| OciError::Configuration(format!("failed to build HTTP client: {e}")))?;
        Ok(Self {
            http,
            options,
            authorizations: Mutex::new(HashMap::new()),
        })
    }

    fn base(&self, repository: &Repository) -> String {
        let scheme = if self.options.insecure {
            "http"
        } else {
            "https"
        };
        format!(
            "{scheme}://{}/v2/{}",
            repository.api_host(),
            repository.path
        )
    }

    /// Every tag of the repository, following `Link` pagination.
    pub async fn list_tags(&self, repository: &Repository) -> Result<Vec<String>, OciError> {
        #[derive(Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut tags = Vec::new();
        let mut url = format!("{}/tags/list?n=1000", self.base(repository));
        for _ in 0..1000 {
            let response = self
                .send(repository, Access::Pull, Method::GET, &url, |r| r)
                .await?;
            let next = next_link(response.headers(), &url);
            let body =
                read_limited(response, &Method::GET, &url, MAX_MANIFEST_SIZE as u64 * 4).await?;
            let list: TagList = serde_json::from_slice(&body).map_err(|e| OciError::Status {
                method: Method::GET,
                url: url.clone(),
                status: StatusCode::OK,
                message: format!("invalid tag list: {e}"),
            })?;
            tags.extend(list.tags.unwrap_or_default());
            match next {
                Some(next) => url = next,
                None => break,
            }
        }
        Ok(tags)
    }

    /// The digest a tag (or digest) points at, with a `HEAD` request; falls back to
    /// [`Self::resolve`] when that fails or the registry sends no `Docker-Content-Digest`.
    pub async fn resolve_digest(
        &self,
        repository: &Repository,
        reference: &str,
    ) -> Result<String, OciError> {
        if is_digest(reference) {
            return Ok(reference.to_owned());
        }
        let url = format!("{}/manifests/{reference}", self.base(repository));
        let head = self
            .send(repository, Access::Pull, Method::HEAD, &url, |r| {
                r.header(ACCEPT, manifest_accept())
            })
            .await;
        // Like go-containerregistry: any HEAD failure falls back to a GET, whose error
        // carries the registry's error codes.
        match head.as_ref().ok().and_then(|response| {
            response
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .filter(|digest| digest.starts_with("sha256:"))
        }) {
            Some(digest) => Ok(digest.to_owned()),
            None => Ok(self.resolve(repository, reference).await?.digest),
        }
    }

    /// Fetches the manifest a tag or digest (`sha256:<hex>`) points at. A digest
    /// reference is verified against the bytes. Image indexes are refused.
    pub async fn resolve(
        &self,
        repository: &Repository,
        reference: &str,
    ) -> Result<ResolvedManifest, OciError> {
        let url = format!("{}/manifests/{reference}", self.base(repository));
        let response = self
            .send(repository, Access::Pull, Method::GET, &url, |r| {
                r.header(ACCEPT, manifest_accept())
            })
            .await?;
        let served_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        let bytes = read_limited(response, &Method::GET, &url, MAX_MANIFEST_SIZE as u64).await?;
        let digest = sha256_digest(&bytes);
        if is_digest(reference) && reference != digest {
            return Err(OciError::DigestMismatch {
                url,
                expected: reference.to_owned(),
                actual: digest,
            });
        }
        let invalid = |message: String| OciError::InvalidManifest {
            url: url.clone(),
            message,
        };
        let probe: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        let media_type = probe
            .get("mediaType")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .or(served_type)
            .unwrap_or_else(|| OCI_MANIFEST.to_owned());
        if matches!(media_type.as_str(), OCI_INDEX | DOCKER_MANIFEST_LIST) {
            return Err(invalid(format!(
                "media type '{media_type}' (an image index) is not supported; reference a single manifest"
            )));
        }
        let manifest: Manifest =
            serde_json::from_value(probe).map_err(|e| invalid(e.to_string()))?;
        Ok(ResolvedManifest {
            digest,
            media_type,
            manifest,
            bytes,
        })
    }

    /// The manifests that refer to the manifest `digest`: those of `artifact_type` from the
    /// referrers API (OCI 1.1) or, where the registry has none, all those of the referrers
    /// tag schema (an image index tagged `sha256-<hex>`, whose entries' artifact types
    /// writers do not fill in consistently: the caller checks the manifests). Empty when
    /// there are none.
    pub async fn referrers(
        &self,
        repository: &Repository,
        digest: &str,
        artifact_type: &str,
    ) -> Result<Vec<Descriptor>, OciError> {
        let base = self.base(repository);
        let api = format!(
            "{base}/referrers/{digest}?artifactType={}",
            artifact_type.replace('/', "%2F").replace('+', "%2B")
        );
        // Registries without the API answer 404 (or an HTML error page): fall back to the
        // tag schema, as cosign does.
        if let Ok(response) = self
            .send(repository, Access::Pull, Method::GET, &api, |r| {
                r.header(ACCEPT, OCI_INDEX)
            })
            .await
            && let Ok(body) =
                read_limited(response, &Method::GET, &api, MAX_MANIFEST_SIZE as u64).await
            && let Ok(index) = serde_json::from_slice::<ReferrerIndex>(&body)
            && !index.manifests.is_empty()
        {
            return Ok(index.manifests);
        }
        let url = format!("{base}/manifests/{}", digest.replacen(':', "-", 1));
        let response = match self
            .send(repository, Access::Pull, Method::GET, &url, |r| {
                r.header(ACCEPT, format!("{OCI_INDEX}, {OCI_MANIFEST}"))
            })
            .await
        {
            Ok(response) => response,
            Err(e) if e.is_not_found() => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let body = read_limited(response, &Method::GET, &url, MAX_MANIFEST_SIZE as u64).await?;
        // The tag may hold something else than a referrers index (an old cosign
        // attachment): then there are no referrers.
        Ok(serde_json::from_slice::<ReferrerIndex>(&body)
            .map(|index| index.manifests)
            .unwrap_or_default())
    }

    /// Downloads a blob into memory, refusing more than `max_size` bytes and verifying
    /// its sha256 digest.
    pub async fn fetch_blob(
        &self,
        repository: &Repository,
        descriptor: &Descriptor,
        max_size: u64,
    ) -> Result<Vec<u8>, OciError> {
        let mut out = Vec::new();
        self.stream_blob(repository, descriptor, max_size, |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Downloads a blob into `writer` chunk by chunk, refusing more than `max_size` bytes
    /// and verifying its sha256 digest at the end (the caller discards the output on error).
    pub async fn fetch_blob_to(
        &self,
        repository: &Repository,
        descriptor: &Descriptor,
        max_size: u64,
        writer: &mut impl std::io::Write,
    ) -> Result<(), OciError> {
        self.stream_blob(repository, descriptor, max_size, |chunk| {
            writer.write_all(chunk)
        })
        .await?;
        writer.flush()?;
        Ok(())
    }

    async fn stream_blob(
        &self,
        repository: &Repository,
        descriptor: &Descriptor,
        max_size: u64,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<(), OciError> {
        let url = format!("{}/blobs/{}", self.base(repository), descriptor.digest);
        if !descriptor.digest.starts_with("sha256:") {
            return Err(OciError::InvalidReference(format!(
                "unsupported digest algorithm in '{}'",
                descriptor.digest
            )));
        }
        if descriptor.size > max_size {
            return Err(OciError::TooLarge {
                url,
                limit: max_size,
            });
        }
        let mut response = self
            .send(repository, Access::Pull, Method::GET, &url, |r| r)
            .await?;
        let mut hasher = sha2::Sha256::new();
        let mut total = 0_u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|source| OciError::Transport {
                method: Method::GET,
                url: url.clone(),
                source,
            })?
        {
            total += chunk.len() as u64;
            if total > max_size {
                return Err(OciError::TooLarge {
                    url,
                    limit: max_size,
                });
            }
            hasher.update(&chunk);
            sink(&chunk)?;
        }
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if actual != descriptor.digest {
            return Err(OciError::DigestMismatch {
                url,
                expected: descriptor.digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// Uploads a blob (skipped when the registry has it) and returns its descriptor.
    pub async fn push_blob(
        &self,
        repository: &Repository,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Descriptor, OciError> {
        let digest = sha256_digest(&bytes);
        let descriptor = Descriptor {
            media_type: media_type.to_owned(),
            digest: digest.clone(),
            size: bytes.len() as u64,
            artifact_type: None,
            annotations: None,
        };
        let blob_url = format!("{}/blobs/{digest}", self.base(repository));
        match self
            .send(repository, Access::Push, Method::HEAD, &blob_url, |r| r)
            .await
        {
            Ok(_) => return Ok(descriptor),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let start = format!("{}/blobs/uploads/", self.base(repository));
        let response = self
            .send(repository, Access::Push, Method::POST, &start, |r| {
                r.header(reqwest::header::CONTENT_LENGTH, 0)
            })
            .await?;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| OciError::Status {
                method: Method::POST,
                url: start.clone(),
                status: response.status(),
                message: "upload started without a Location".to_owned(),
            })?;
        let location = absolute_url(&start, location);
        let separator = if location.contains('?') { '&' } else { '?' };
        let upload = format!("{location}{separator}digest={digest}");
        let body = bytes;
        self.send(repository, Access::Push, Method::PUT, &upload, |r| {
            r.header(CONTENT_TYPE, "application/octet-stream")
                .body(body.clone())
        })
        .await?;
        Ok(descriptor)
    }

    /// Uploads a manifest under `reference` (a tag or its digest) and returns its digest.
    pub async fn push_manifest(
        &self,
        repository: &Repository,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, OciError> {
        let digest = sha256_digest(&bytes);
        let url = format!("{}/manifests/{reference}", self.base(repository));
        let body = bytes;
        self.send(repository, Access::Push, Method::PUT, &url, |r| {
            r.header(CONTENT_TYPE, media_type).body(body.clone())
        })
        .await?;
        Ok(digest)
    }

    /// Pushes config, layers and an OCI image manifest tagged `tag`; returns the
    /// manifest digest.
    pub async fn push_artifact(
        &self,
        repository: &Repository,
        tag: &str,
        artifact: PushArtifact,
    ) -> Result<String, OciError> {
        let (config_type, config) = artifact.config;
        let config = self.push_blob(repository, &config_type, config).await?;
        let mut layers = Vec::new();
        for (media_type, bytes) in artifact.layers {
            layers.push(self.push_blob(repository, &media_type, bytes).await?);
        }
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config,
            layers,
            annotations: (!artifact.annotations.is_empty()).then_some(artifact.annotations),
            subject: None,
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| OciError::InvalidManifest {
            url: repository.to_string(),
            message: e.to_string(),
        })?;
        self.push_manifest(repository, tag, OCI_MANIFEST, bytes)
            .await
    }

    /// Sends a request, answering one authentication challenge. Non-success statuses
    /// become [`OciError::Status`] with the registry's error codes.
    async fn send(
        &self,
        repository: &Repository,
        access: Access,
        method: Method,
        url: &str,
        decorate: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, OciError> {
        let key = format!("{repository}:{}", access.actions());
        let cached = self.cached_authorization(&key);
        let mut response = self
            .attempt(&method, url, cached.as_deref(), &decorate)
            .await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(Challenge::parse);
            if let Some(authorization) = self
                .answer(challenge.as_ref(), repository, access)
                .await?
                .filter(|a| cached.as_ref() != Some(a))
            {
                response = self
                    .attempt(&method, url, Some(&authorization), &decorate)
                    .await?;
                if response.status().is_success() {
                    self.authorizations
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(key, authorization);
                }
            }
        }
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let message = if method == Method::HEAD {
            status_line(status)
        } else {
            error_message(status, &response.bytes().await.unwrap_or_default())
        };
        Err(OciError::Status {
            method,
            url: url.to_owned(),
            status,
            message,
        })
    }

    fn cached_authorization(&self, key: &str) -> Option<String> {
        self.authorizations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        authorization: Option<&str>,
        decorate: &impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, OciError> {
        let mut request = decorate(self.http.request(method.clone(), url));
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        request.send().await.map_err(|source| OciError::Transport {
            method: method.clone(),
            url: url.to_owned(),
            source: source.without_url(),
        })
    }

    /// The `Authorization` value answering a challenge, if the client can answer it.
    async fn answer(
        &self,
        challenge: Option<&Challenge>,
        repository: &Repository,
        access: Access,
    ) -> Result<Option<String>, OciError> {
        match (challenge, &self.options.credentials) {
            (_, Some(Credentials::Bearer(token))) => Ok(Some(format!("Bearer {token}"))),
            (Some(Challenge::Bearer(params)), credentials) => {
                let token = self
                    .fetch_token(params, repository, access, credentials.as_ref())
                    .await?;
                Ok(Some(format!("Bearer {token}")))
            }
            (Some(Challenge::Basic) | None, Some(Credentials::Basic { username, password })) => {
                Ok(Some(basic_authorization(username, password)))
            }
            _ => Ok(None),
        }
    }

    async fn fetch_token(
        &self,
        params: &BTreeMap<String, String>,
        repository: &Repository,
        access: Access,
        credentials: Option<&Credentials>,
    ) -> Result<String, OciError> {
        #[derive(Deserialize)]
        struct TokenResponse {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let realm = params.get("realm").cloned().unwrap_or_default();
        let token_error = |message: String| OciError::Token {
            realm: realm.clone(),
            message,
        };
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(token_error("the challenge has no usable realm".to_owned()));
        }
        let scope = format!("repository:{}:{}", repository.path, access.actions());
        let mut url = format!(
            "{realm}{}scope={}",
            if realm.contains('?') { '&' } else { '?' },
            query_escape(&scope)
        );
        if let Some(service) = params.get("service") {
            let _ = write!(url, "&service={}", query_escape(service));
        }
        let mut request = self.http.get(&url);
        if let Some(Credentials::Basic { username, password }) = credentials {
            request = request.header(AUTHORIZATION, basic_authorization(username, password));
        }
        let response = request
            .send()
            .await
            .map_err(|e| token_error(e.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            return Err(token_error(error_message(status, &body)));
        }
        let body: TokenResponse = response
            .json()
            .await
            .map_err(|e| token_error(format!("invalid token response: {}", e.without_url())))?;
        body.token
            .or(body.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| token_error("the token response has no token".to_owned()))
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub(crate) fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn basic_authorization(username: &str, password: &str) -> String {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {encoded}")
}

fn manifest_accept() -> String {
    [
        OCI_MANIFEST,
        DOCKER_MANIFEST,
        OCI_INDEX,
        DOCKER_MANIFEST_LIST,
    ]
    .join(", ")
}

/// A parsed `WWW-Authenticate` header.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Challenge {
    Basic,
    Bearer(BTreeMap<String, String>),
    Other,
}

impl Challenge {
    fn parse(header: &str) -> Self {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Self::Basic;
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Self::Other;
        }
        Self::Bearer(parse_auth_params(rest))
    }
}

/// `key="value", key=value` pairs, with quoted values possibly containing commas.
fn parse_auth_params(text: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        params.insert(key, value.to_owned());
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    params
}

/// The next page of a paginated listing (`Link: </v2/...?last=x>; rel="next"`).
fn next_link(headers: &HeaderMap, current: &str) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    let target = link.split(';').next()?.trim();
    let target = target.strip_prefix('<')?.strip_suffix('>')?;
    Some(absolute_url(current, target))
}

/// Resolves a `Location`/`Link` target against the request URL.
fn absolute_url(base: &str, target: &str) -> String {
    if target.starts_with("http://") || target.starts_with("https://") {
        return target.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    format!("{}/{}", &base[..origin_end], target.trim_start_matches('/'))
}

async fn read_limited(
    mut response: Response,
    method: &Method,
    url: &str,
    limit: u64,
) -> Result<Vec<u8>, OciError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| OciError::Transport {
            method: method.clone(),
            url: url.to_owned(),
            source: source.without_url(),
        })?
    {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(OciError::TooLarge {
                url: url.to_owned(),
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn status_line(status: StatusCode) -> String {
    format!(
        "unexpected status code {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    )
}

/// The registry's `{"errors":[{"code","message"}]}` as `CODE: message; ...`, else the
/// status line.
fn error_message(status: StatusCode, body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<RegistryError>,
    }
    #[derive(Deserialize)]
    struct RegistryError {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(errors) if !errors.errors.is_empty() => errors
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        _ => status_line(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repository_urls() {
        let repo = Repository::parse_url("oci://localhost:5000/org/app").unwrap();
        assert_eq!(repo.registry, "localhost:5000");
        assert_eq!(repo.path, "org/app");
        let hub = Repository::parse_url("oci://nginx").unwrap();
        assert_eq!(
            (hub.registry.as_str(), hub.path.as_str()),
            ("docker.io", "library/nginx")
        );
        assert_eq!(
            Repository::parse_url("oci://ghcr.io/org/app:v1")
                .unwrap_err()
                .to_string(),
            "URL must not contain a tag; remove ':v1'"
        );
        assert!(Repository::parse_url("https://ghcr.io/org/app").is_err());
        assert!(Repository::parse_url("oci://ghcr.io/Org/App").is_err());
        assert_eq!(repo.join("chart").path, "org/app/chart");
    }

    #[test]
    fn parses_bearer_challenges() {
        let challenge = Challenge::parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        );
        let Challenge::Bearer(params) = challenge else {
            panic!("not bearer")
        };
        assert_eq!(params["realm"], "https://auth.example.com/token");
        assert_eq!(params["service"], "registry.example.com");
        assert_eq!(params["scope"], "repository:a/b:pull,push");
        assert_eq!(Challenge::parse(r#"Basic realm="x""#), Challenge::Basic);
    }

    #[test]
    fn reads_docker_config_json() {
        let json = br#"{"auths":{"https://localhost:5000/v1/":{"auth":"Zmx1eDpodW50ZXIy"},"ghcr.io":{"username":"u","password":"p"}}}"#;
        assert_eq!(
            Credentials::from_docker_config(json, "localhost:5000").unwrap(),
            Some(Credentials::Basic {
                username: "flux".to_owned(),
                password: "hunter2".to_owned()
            })
        );
        assert!(matches!(
            Credentials::from_docker_config(json, "ghcr.io").unwrap(),
            Some(Credentials::Basic { .. })
        ));
        assert_eq!(
            Credentials::from_docker_config(json, "quay.io").unwrap(),
            None
        );
        let credentials = Credentials::from_docker_config(json, "localhost:5000").unwrap();
        assert!(!format!("{credentials:?}").contains("hunter2"));
        assert!(Credentials::from_docker_config(b"{", "x").is_err());
    }

    #[test]
    fn resolves_links_and_registry_errors() {
        assert_eq!(
            absolute_url("http://h:1/v2/a/tags/list?n=1", "/v2/a/tags/list?last=x"),
            "http://h:1/v2/a/tags/list?last=x"
        );
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        assert_eq!(
            error_message(StatusCode::NOT_FOUND, body),
            "MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(
            error_message(StatusCode::UNAUTHORIZED, b""),
            "unexpected status code 401 Unauthorized"
        );
    }
}
