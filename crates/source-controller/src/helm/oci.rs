//! Charts from an OCI HelmRepository (`type: oci`), as Flux's `OCIChartRepository`: the
//! chart `<name>` lives in the repository `<url>/<name>`, its versions are the tags (Helm
//! stores `+` as `_`), and the package is the manifest's Helm chart layer.
//!
//! Credentials come from `secretRef` (a `kubernetes.io/dockerconfigjson` Secret or
//! `username`/`password`), TLS from `certSecretRef` (or, deprecated, TLS keys in
//! `secretRef`), plain HTTP from `insecure`.

use std::collections::BTreeMap;

use ferroflux_api::source::v1::{HelmRepository, OCIProvider};
use ferroflux_semver::{Constraints, Version};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client, ResourceExt};

use super::error::{BuildReason, HelmError};
use super::http::secret;
use crate::oci::client::{
    ClientOptions, Credentials, OciError, RegistryClient, Repository, TlsOptions,
};

/// The layer media type of a Helm chart package.
pub const CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// The chart layer media type before Helm 3.8, still accepted by Helm's client.
const LEGACY_CHART_LAYER: &str = "application/tar+gzip";

/// A Helm chart registry: a client with the HelmRepository's credentials and the base
/// repository charts are found under.
pub struct ChartRegistry {
    client: RegistryClient,
    base: Repository,
    /// `spec.url` without a trailing slash, for messages.
    url: String,
}

impl ChartRegistry {
    /// A client for `repo` (type `oci`), reading its Secrets. Bad URLs stall; unusable
    /// credentials are `AuthenticationFailed`.
    pub async fn connect(kube: &Client, repo: &HelmRepository) -> Result<Self, HelmError> {
        let url = repo.spec.url.trim_end_matches('/').to_owned();
        let base = Repository::parse_url(&url)
            .map_err(|e| HelmError::InvalidUrl(format!("invalid OCI registry URL: {url}: {e}")))?;
        let namespace = repo.namespace().unwrap_or_default();
        let secrets: Api<Secret> = Api::namespaced(kube.clone(), &namespace);
        let timeout = super::http::timeout(repo);
        let mut tls = TlsOptions::default();
        if let Some(reference) = &repo.spec.cert_secret_ref {
            let (_, data) =
                secret(&secrets, &namespace, &reference.name, "TLS authentication").await?;
            tls = tls_options(&reference.name, &data)?;
        }
        let mut credentials = None;
        if let Some(reference) = &repo.spec.secret_ref {
            let (type_, data) =
                secret(&secrets, &namespace, &reference.name, "authentication").await?;
            if repo.spec.cert_secret_ref.is_none() && has_tls(&data) {
                tls = tls_options(&reference.name, &legacy_tls(&data))?;
            }
            let docker = type_.as_deref() == Some(DOCKER_CONFIG_JSON);
            credentials = secret_credentials(&reference.name, docker, &data, &base.registry)
                .map_err(|message| {
                    HelmError::Authentication(format!(
                        "failed to configure OCI registry authentication: {message}"
                    ))
                })?;
        } else if let Some(provider) = repo.spec.provider.filter(|p| *p != OCIProvider::Generic) {
            let provider = format!("{provider:?}").to_lowercase();
            return Err(HelmError::Authentication(format!(
                "failed to get credential from '{provider}': the '{provider}' provider is not supported by ferroflux yet; use provider 'generic' with a secretRef"
            )));
        }
        let client = RegistryClient::new(ClientOptions {
            credentials,
            tls,
            insecure: repo.spec.insecure.unwrap_or(false),
            timeout,
            proxy: None,
        })
        .map_err(|e| HelmError::Source {
            reason: "Failed",
            message: format!("failed to construct Helm client: {e}"),
            stalled: false,
        })?;
        Ok(Self { client, base, url })
    }

    /// The version of chart `name` that `constraint` selects (Flux's `GetChartVersion`):
    /// an exact version is taken as the tag without listing; otherwise the highest tag
    /// matching the range (empty: the latest stable version).
    pub async fn version(&self, name: &str, constraint: &str) -> Result<String, HelmError> {
        let failed = |message: String| {
            HelmError::build(
                BuildReason::ChartPull,
                format!("failed to get chart version for remote reference: {message}"),
            )
        };
        if Version::parse_tag(constraint).is_ok() {
            return Ok(constraint.to_owned());
        }
        let repository = self.base.join(name);
        let tags = self.client.list_tags(&repository).await.map_err(|e| {
            let reference = format!("{}/{name}", self.url);
            self.authentication(&e).unwrap_or_else(|| {
                failed(format!(
                    "could not get tags for \"{name}\": could not fetch tags for \"{reference}\": {e}"
                ))
            })
        })?;
        let tags = helm_tags(&tags);
        if tags.is_empty() {
            return Err(failed(format!(
                "unable to locate any tags in provided repository: {name}"
            )));
        }
        latest_matching(&tags, constraint).map_err(failed)
    }

    /// Downloads the package of chart `name` at `version`, at most `max_size` bytes
    /// (Flux's `DownloadChart`).
    pub async fn download(
        &self,
        name: &str,
        version: &str,
        max_size: u64,
    ) -> Result<Vec<u8>, HelmError> {
        let reference = format!("{}/{name}:{version}", self.url);
        let failed = |message: String| {
            HelmError::build(
                BuildReason::ChartPull,
                format!(
                    "failed to download chart for remote reference: failed to get '{reference}': {message}"
                ),
            )
        };
        let repository = self.base.join(name);
        // OCI tags cannot hold `+`: Helm pushes `1.0.0+build` as `1.0.0_build`.
        let tag = version.replace('+', "_");
        let resolved = self.client.resolve(&repository, &tag).await.map_err(|e| {
            self.authentication(&e)
                .unwrap_or_else(|| failed(e.to_string()))
        })?;
        let layer = resolved
            .manifest
            .layers
            .iter()
            .find(|layer| layer.media_type == CHART_LAYER)
            .or_else(|| {
                resolved
                    .manifest
                    .layers
                    .iter()
                    .find(|layer| layer.media_type == LEGACY_CHART_LAYER)
            })
            .ok_or_else(|| {
                failed(format!(
                    "manifest does not contain a layer with mediatype {CHART_LAYER}"
                ))
            })?;
        if layer.size > max_size {
            return Err(failed(format!(
                "chart exceeds the maximum chart size of {max_size} bytes"
            )));
        }
        self.client
            .fetch_blob(&repository, layer, max_size)
            .await
            .map_err(|e| match e {
                OciError::TooLarge { .. } => failed(format!(
                    "chart exceeds the maximum chart size of {max_size} bytes"
                )),
                e => self
                    .authentication(&e)
                    .unwrap_or_else(|| failed(e.to_string())),
            })
    }

    /// Checks the cosign signature of chart `name` at `version` against `keys` (Flux's
    /// `VerifyChart`, run before every build when `spec.verify` is set).
    pub async fn verify(
        &self,
        name: &str,
        version: &str,
        keys: &[crate::oci::cosign::PublicKey],
    ) -> Result<(), HelmError> {
        let reference = format!("{}/{name}:{version}", self.url);
        let failed = |message: String| {
            HelmError::build(
                BuildReason::Verification,
                format!("failed to verify {reference}: {message}"),
            )
        };
        let repository = self.base.join(name);
        let digest = self
            .client
            .resolve_digest(&repository, &version.replace('+', "_"))
            .await
            .map_err(|e| failed(e.to_string()))?;
        crate::oci::cosign::verify(&self.client, &repository, &digest, keys)
            .await
            .map_err(|e| failed(e.to_string()))
    }

    /// A refused or missing login is `AuthenticationFailed`, as Flux's login step reports.
    fn authentication(&self, error: &OciError) -> Option<HelmError> {
        error.is_unauthorized().then(|| {
            HelmError::Authentication(format!(
                "failed to authenticate with the Helm repository: failed to login to OCI registry '{}': {error}",
                self.base.registry
            ))
        })
    }
}

/// The type of a Secret holding a Docker config.
const DOCKER_CONFIG_JSON: &str = "kubernetes.io/dockerconfigjson";

/// Flux's `KeychainFromSecret`: a Docker config for the registry's host, or `username` and
/// `password`; anonymous when both are empty. `docker`: the Secret's type is
/// `kubernetes.io/dockerconfigjson`.
fn secret_credentials(
    name: &str,
    docker: bool,
    data: &BTreeMap<String, ByteString>,
    registry: &str,
) -> Result<Option<Credentials>, String> {
    let text = |key: &str| {
        data.get(key)
            .map(|v| String::from_utf8_lossy(&v.0).into_owned())
            .unwrap_or_default()
    };
    if docker {
        let config = data
            .get(".dockerconfigjson")
            .map(|v| v.0.as_slice())
            .unwrap_or_default();
        return match Credentials::from_docker_config(config, registry) {
            Ok(Some(credentials)) => Ok(Some(credentials)),
            Ok(None) => Err(format!(
                "no auth config for '{registry}' in the docker-registry Secret '{name}'"
            )),
            Err(e) => Err(format!(
                "unable to load Docker config from Secret '{name}': {e}"
            )),
        };
    }
    match (text("username"), text("password")) {
        (user, password) if user.is_empty() && password.is_empty() => Ok(None),
        (user, password) if user.is_empty() || password.is_empty() => Err(format!(
            "invalid '{name}' secret data: required fields 'username' and 'password'"
        )),
        (username, password) => Ok(Some(Credentials::Basic { username, password })),
    }
}

fn has_tls(data: &BTreeMap<String, ByteString>) -> bool {
    ["ca.crt", "tls.crt", "caFile", "certFile"]
        .iter()
        .any(|key| data.contains_key(*key))
}

/// TLS keys of a `secretRef` under `certSecretRef`'s names (`caFile` → `ca.crt`, ...).
fn legacy_tls(data: &BTreeMap<String, ByteString>) -> BTreeMap<String, ByteString> {
    let mut out = BTreeMap::new();
    for (legacy, key) in [
        ("caFile", "ca.crt"),
        ("certFile", "tls.crt"),
        ("keyFile", "tls.key"),
    ] {
        if let Some(value) = data.get(key).or_else(|| data.get(legacy)) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    out
}

fn tls_options(secret: &str, data: &BTreeMap<String, ByteString>) -> Result<TlsOptions, HelmError> {
    TlsOptions::from_secret_data(secret, data).map_err(|e| {
        HelmError::Authentication(format!("failed to construct Helm client's TLS config: {e}"))
    })
}

/// Helm's `Client.Tags`: the tags that are strict semantic versions once `_` is read as
/// `+`, highest first, in their canonical form.
fn helm_tags(tags: &[String]) -> Vec<String> {
    let mut versions: Vec<Version> = tags
        .iter()
        .filter_map(|tag| Version::parse_strict(&tag.replace('_', "+")).ok())
        .collect();
    versions.sort_by(|a, b| b.cmp(a));
    versions.iter().map(Version::to_canonical).collect()
}

/// Flux's `getLastMatchingVersionOrConstraint`: an exact tag first, else the highest
/// version the constraint accepts (empty or `*`: the latest stable version).
fn latest_matching(tags: &[String], constraint: &str) -> Result<String, String> {
    if !constraint.is_empty()
        && let Some(tag) = tags.iter().find(|tag| *tag == constraint)
    {
        return Ok(tag.clone());
    }
    let range = if constraint.is_empty() {
        "*"
    } else {
        constraint
    };
    let constraints = Constraints::parse(range).map_err(|e| e.to_string())?;
    ferroflux_semver::latest_matching(&constraints, tags.iter().map(String::as_str))
        .map(|(_, tag)| tag.to_owned())
        .ok_or_else(|| {
            format!("could not locate a version matching provided version string {constraint}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn tags_are_strict_versions_with_underscores_as_plus() {
        let tags = strings(&[
            "latest",
            "v1.0.0",
            "1.0.0",
            "1.2.0_build.3",
            "1.1",
            "2.0.0-rc.1",
        ]);
        assert_eq!(
            helm_tags(&tags),
            strings(&["2.0.0-rc.1", "1.2.0+build.3", "1.0.0"])
        );
    }

    #[test]
    fn versions_match_as_flux_picks_them() {
        let tags = strings(&["2.0.0-rc.1", "1.2.0+build.3", "1.0.0"]);
        assert_eq!(latest_matching(&tags, "").unwrap(), "1.2.0+build.3");
        assert_eq!(latest_matching(&tags, "*").unwrap(), "1.2.0+build.3");
        assert_eq!(latest_matching(&tags, "1.0.x").unwrap(), "1.0.0");
        assert_eq!(latest_matching(&tags, ">=2.0.0-0").unwrap(), "2.0.0-rc.1");
        assert_eq!(
            latest_matching(&tags, "9.x").unwrap_err(),
            "could not locate a version matching provided version string 9.x"
        );
        assert!(latest_matching(&tags, "not a range").is_err());
    }

    #[test]
    fn credentials_follow_flux_keychain_rules() {
        let data = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            secret_credentials("s", false, &data(&[]), "r:5000"),
            Ok(None)
        );
        assert_eq!(
            secret_credentials("s", false, &data(&[("username", "u")]), "r:5000").unwrap_err(),
            "invalid 's' secret data: required fields 'username' and 'password'"
        );
        assert!(matches!(
            secret_credentials(
                "s",
                false,
                &data(&[("username", "u"), ("password", "p")]),
                "r:5000"
            ),
            Ok(Some(Credentials::Basic { .. }))
        ));
        let docker = data(&[(
            ".dockerconfigjson",
            r#"{"auths":{"other:5000":{"auth":"dTpw"}}}"#,
        )]);
        assert_eq!(
            secret_credentials("s", true, &docker, "r:5000").unwrap_err(),
            "no auth config for 'r:5000' in the docker-registry Secret 's'"
        );
    }
}
