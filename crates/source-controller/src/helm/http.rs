//! HTTP access to a Helm repository: credentials and TLS from the HelmRepository's
//! Secrets (Flux's `getter.GetClientOpts`), size-limited downloads with Helm's error texts.

use std::collections::BTreeMap;
use std::time::Duration;

use ferroflux_api::source::v1::HelmRepository;
use futures::StreamExt as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client, ResourceExt};
use reqwest::Url;

use super::error::HelmError;

/// A client for one Helm repository.
#[derive(Clone)]
pub struct RepoClient {
    client: reqwest::Client,
    /// The repository URL without a trailing slash.
    pub url: String,
    basic: Option<(String, String)>,
    pass_credentials: bool,
}

/// A failed download, kept apart so callers can pick Flux's reason.
#[derive(Debug)]
pub enum GetError {
    /// The URL does not parse.
    Url(String),
    /// The server answered with an error status or the connection failed.
    Http(String),
    /// The body exceeds the limit.
    TooLarge,
}

/// The repository's `spec.timeout`, 60s when unset or unparsable.
pub fn timeout(repo: &HelmRepository) -> Duration {
    repo.spec
        .timeout
        .as_deref()
        .and_then(|t| ferroflux_runtime::duration::parse(t).ok())
        .unwrap_or(Duration::from_secs(60))
}

impl RepoClient {
    /// A client for `repo` (a `default`-type HelmRepository), reading its Secrets.
    pub async fn for_repository(kube: &Client, repo: &HelmRepository) -> Result<Self, HelmError> {
        let namespace = repo.namespace().unwrap_or_default();
        let secrets: Api<Secret> = Api::namespaced(kube.clone(), &namespace);
        let mut builder = reqwest::Client::builder()
            .timeout(timeout(repo))
            .user_agent("ferroflux-source-controller");
        if let Some(reference) = &repo.spec.cert_secret_ref {
            let data =
                secret_data(&secrets, &namespace, &reference.name, "TLS authentication").await?;
            builder = tls(builder, &data)?;
        }
        let mut basic = None;
        if let Some(reference) = &repo.spec.secret_ref {
            let data = secret_data(&secrets, &namespace, &reference.name, "authentication").await?;
            let text = |key: &str| {
                data.get(key)
                    .map(|v| String::from_utf8_lossy(&v.0).into_owned())
            };
            if let (Some(user), Some(password)) = (text("username"), text("password")) {
                basic = Some((user, password));
            }
            if repo.spec.cert_secret_ref.is_none() && data.contains_key("caFile") {
                let mut legacy = BTreeMap::new();
                for (from, to) in [
                    ("caFile", "ca.crt"),
                    ("certFile", "tls.crt"),
                    ("keyFile", "tls.key"),
                ] {
                    if let Some(value) = data.get(from) {
                        legacy.insert(to.to_owned(), value.clone());
                    }
                }
                builder = tls(builder, &legacy)?;
            }
        }
        let client = builder.build().map_err(|e| HelmError::Source {
            reason: "Failed",
            message: format!("failed to construct Helm client: {e}"),
            stalled: true,
        })?;
        Ok(Self {
            client,
            url: repo.spec.url.trim_end_matches('/').to_owned(),
            basic,
            pass_credentials: repo.spec.pass_credentials.unwrap_or(false),
        })
    }

    /// An anonymous client for a repository no HelmRepository describes (dependencies).
    pub fn anonymous(url: &str) -> Result<Self, HelmError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| HelmError::Fetch(format!("failed to construct Helm client: {e}")))?;
        Ok(Self {
            client,
            url: url.trim_end_matches('/').to_owned(),
            basic: None,
            pass_credentials: false,
        })
    }

    /// The URL of the repository's `index.yaml`.
    pub fn index_url(&self) -> String {
        format!("{}/index.yaml", self.url)
    }

    /// Resolves a chart URL from an index against the repository URL (Helm's
    /// `ResolveReferenceURL`: relative to the repository with a trailing slash).
    pub fn resolve(&self, reference: &str) -> Result<String, GetError> {
        let base =
            Url::parse(&format!("{}/", self.url)).map_err(|e| GetError::Url(e.to_string()))?;
        base.join(reference)
            .map(String::from)
            .map_err(|e| GetError::Url(e.to_string()))
    }

    /// GETs `url`, refusing bodies over `max` bytes. Credentials go only to the
    /// repository's own host unless `passCredentials` is set, as Helm does.
    pub async fn get(&self, url: &str, max: u64) -> Result<Vec<u8>, GetError> {
        let parsed = Url::parse(url).map_err(|e| GetError::Url(e.to_string()))?;
        let mut request = self.client.get(parsed.clone());
        if let Some((user, password)) = &self.basic
            && (self.pass_credentials || same_host(&parsed, &self.url))
        {
            request = request.basic_auth(user, Some(password));
        }
        let response = request
            .send()
            .await
            .map_err(|e| GetError::Http(format!("Get \"{url}\": {}", error_chain(&e))))?;
        if !response.status().is_success() {
            return Err(GetError::Http(format!(
                "failed to fetch {url} : {}",
                status_text(response.status())
            )));
        }
        if response.content_length().is_some_and(|l| l > max) {
            return Err(GetError::TooLarge);
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| GetError::Http(format!("Get \"{url}\": {}", error_chain(&e))))?;
            if (body.len() + chunk.len()) as u64 > max {
                return Err(GetError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn same_host(url: &Url, repo: &str) -> bool {
    Url::parse(repo).is_ok_and(|r| {
        r.host_str() == url.host_str() && r.port_or_known_default() == url.port_or_known_default()
    })
}

/// Go's `resp.Status`: `404 Not Found`.
fn status_text(status: reqwest::StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    )
}

/// An error with its sources, joined like Go's wrapped errors.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

async fn secret_data(
    secrets: &Api<Secret>,
    namespace: &str,
    name: &str,
    what: &str,
) -> Result<BTreeMap<String, ByteString>, HelmError> {
    Ok(secret(secrets, namespace, name, what).await?.1)
}

/// A HelmRepository Secret's type and data; a missing Secret is `AuthenticationFailed`
/// naming `what` it was for.
pub async fn secret(
    secrets: &Api<Secret>,
    namespace: &str,
    name: &str,
    what: &str,
) -> Result<(Option<String>, BTreeMap<String, ByteString>), HelmError> {
    match secrets.get_opt(name).await {
        Ok(Some(secret)) => Ok((secret.type_, secret.data.unwrap_or_default())),
        Ok(None) => Err(HelmError::Authentication(format!(
            "failed to get {what} secret '{namespace}/{name}': secrets \"{name}\" not found"
        ))),
        Err(e) => Err(HelmError::Authentication(format!(
            "failed to get {what} secret '{namespace}/{name}': {e}"
        ))),
    }
}

/// `ca.crt` as the only trusted root, `tls.crt` + `tls.key` as client identity.
fn tls(
    mut builder: reqwest::ClientBuilder,
    data: &BTreeMap<String, ByteString>,
) -> Result<reqwest::ClientBuilder, HelmError> {
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        HelmError::Authentication(format!(
            "failed to construct Helm client's TLS config: {what}: {e}"
        ))
    };
    if let Some(ca) = data.get("ca.crt") {
        let certs = reqwest::Certificate::from_pem_bundle(&ca.0)
            .map_err(|e| invalid("invalid 'ca.crt'", &e))?;
        if certs.is_empty() {
            return Err(invalid("invalid 'ca.crt'", &"no certificates found"));
        }
        builder = builder.tls_certs_only(certs);
    }
    match (data.get("tls.crt"), data.get("tls.key")) {
        (Some(cert), Some(key)) => {
            let mut pem = cert.0.clone();
            pem.push(b'\n');
            pem.extend_from_slice(&key.0);
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|e| invalid("invalid 'tls.crt'/'tls.key'", &e))?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => {
            return Err(invalid(
                "client certificate",
                &"both 'tls.crt' and 'tls.key' are required",
            ));
        }
    }
    Ok(builder)
}
