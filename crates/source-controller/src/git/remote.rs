//! The remote of a GitRepository: URL, credentials from `secretRef`, proxy from
//! `proxySecretRef` and the operation timeout, with Flux's messages when a Secret is missing
//! or malformed; and the libgit2 callbacks and options that use them (credentials tried once,
//! SSH host keys against `known_hosts`, the Secret's CA for HTTPS, the proxy).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use ferroflux_api::source::v1::{GitProvider, GitRepository};
use ferroflux_runtime::driver::Context;
use git2::{
    CertificateCheckStatus, Cred, CredentialType, FetchOptions, ProxyOptions, RemoteCallbacks,
};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};

use super::auth::GitAuth;
use super::known_hosts;
use crate::error::SourceError;

/// The remote of a GitRepository with its credentials, proxy and timeout.
pub async fn from_object(context: &Context, object: &GitRepository) -> Result<Remote, SourceError> {
    let spec = &object.spec;
    let scheme = spec
        .url
        .split_once("://")
        .map(|(scheme, _)| scheme)
        .unwrap_or_default();
    if !matches!(scheme, "http" | "https" | "ssh") {
        return Err(SourceError::InvalidSpec {
            reason: "URLInvalid",
            message: format!(
                "failed to configure authentication options: git URL scheme '{scheme}' not supported"
            ),
        });
    }
    let namespace = object.namespace().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(context.client.clone(), &namespace);
    let provider = spec.provider.unwrap_or(GitProvider::Generic);
    let mut app = None;
    let auth = if let Some(reference) = &spec.secret_ref {
        let secret = secrets.get_opt(&reference.name).await?.ok_or_else(|| {
            SourceError::Authentication(format!(
                "failed to get secret '{namespace}/{0}': secrets \"{0}\" not found",
                reference.name
            ))
        })?;
        let data = secret.data.unwrap_or_default();
        app = provider_app(provider, &namespace, &reference.name, &data)?;
        GitAuth::from_secret(&namespace, &reference.name, &data, scheme)?
    } else {
        provider_app(provider, &namespace, "", &BTreeMap::new())?;
        GitAuth::without_secret(scheme)?
    };
    let proxy = match &spec.proxy_secret_ref {
        Some(reference) => {
            let secret = secrets.get_opt(&reference.name).await?.ok_or_else(|| {
                SourceError::Authentication(format!(
                    "failed to configure proxy options: secret '{namespace}/{}' not found",
                    reference.name
                ))
            })?;
            Some(super::proxy::proxy_url(
                &namespace,
                &reference.name,
                &secret.data.unwrap_or_default(),
            )?)
        }
        None => None,
    };
    let timeout = spec
        .timeout
        .as_deref()
        .map(ferroflux_runtime::duration::parse)
        .transpose()
        .map_err(|e| SourceError::InvalidSpec {
            reason: "InvalidDuration",
            message: e.to_string(),
        })?
        .unwrap_or(Duration::from_secs(60));
    let mut remote = Remote {
        url: spec.url.clone(),
        auth,
        proxy,
        timeout,
        bridge: None,
    };
    if let Some(app) = app {
        let client = super::bridge::http_client(&remote)?;
        remote.auth.password = Some(app.token(&client).await?);
        remote.auth.username = Some(super::github_app::ACCESS_TOKEN_USERNAME.to_owned());
        remote.auth.bearer_token = None;
    }
    Ok(remote)
}

/// The GitHub App behind `provider: github`, with Flux's checks of the Secret `name`'s `data`
/// against the provider (an empty `name`: no `secretRef`).
fn provider_app(
    provider: GitProvider,
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, ByteString>,
) -> Result<Option<super::github_app::App>, SourceError> {
    const NEEDS_APP_DATA: &str =
        "secretRef with github app data must be specified when provider is set to github";
    let has_app_data = super::github_app::has_app_data(data);
    match provider {
        GitProvider::Github if name.is_empty() => Err(SourceError::InvalidSpec {
            reason: "InvalidProviderConfiguration",
            message: NEEDS_APP_DATA.to_owned(),
        }),
        GitProvider::Github if !has_app_data => {
            Err(SourceError::Provider(NEEDS_APP_DATA.to_owned()))
        }
        GitProvider::Github => super::github_app::App::from_secret(data).map(Some),
        GitProvider::Generic if has_app_data => Err(SourceError::Provider(format!(
            "secretRef '{namespace}/{name}' has github app data but provider is not set to github"
        ))),
        GitProvider::Generic => Ok(None),
        GitProvider::Aws | GitProvider::Azure => {
            let provider = format!("{provider:?}").to_lowercase();
            Err(SourceError::InvalidSpec {
                reason: "AuthenticationFailed",
                message: format!(
                    "failed to configure authentication options: the '{provider}' provider (cloud workload identity) is not supported by ferroflux yet; use provider 'generic' with a secretRef"
                ),
            })
        }
    }
}

/// A remote and how to reach it.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The repository URL.
    pub url: String,
    /// Credentials.
    pub auth: GitAuth,
    /// The proxy URL (with credentials embedded), if any.
    pub proxy: Option<String>,
    /// How long one operation may take.
    pub timeout: Duration,
    /// The loopback bridge libgit2 talks to instead of `url` (see [`super::bridge`]).
    pub bridge: Option<BridgeEndpoint>,
}

/// The local end of a running [`super::bridge`].
#[derive(Debug, Clone)]
pub struct BridgeEndpoint {
    /// `http://127.0.0.1:P/<token>/<path of the remote>`.
    pub url: String,
    /// Why the last forwarded request failed, if it did.
    pub error: Arc<Mutex<Option<String>>>,
}

impl Remote {
    pub(super) fn host_and_port(&self) -> (String, u16) {
        let without_scheme = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest);
        let authority = without_scheme.split('/').next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        match host_port.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (
                host.trim_matches(['[', ']']).to_owned(),
                port.parse().unwrap_or(22),
            ),
            _ => (host_port.trim_matches(['[', ']']).to_owned(), 22),
        }
    }

    /// `'<url>'`, plus `via proxy '<proxy>'` (without credentials) when one is set.
    pub(super) fn describe(&self) -> String {
        match &self.proxy {
            Some(proxy) => format!(
                "'{}' via proxy '{}'",
                self.url,
                super::proxy::redacted(proxy)
            ),
            None => format!("'{}'", self.url),
        }
    }

    /// The URL libgit2 connects to: the bridge's when one runs.
    pub(super) fn connect_url(&self) -> &str {
        self.bridge.as_ref().map_or(&self.url, |bridge| &bridge.url)
    }

    /// Why the bridge could not reach the remote, if it could not.
    pub(super) fn bridge_error(&self) -> Option<String> {
        let bridge = self.bridge.as_ref()?;
        bridge
            .error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(super) fn callbacks(&self, deadline: Instant) -> RemoteCallbacks<'_> {
        let mut callbacks = RemoteCallbacks::new();
        let mut attempts = 0;
        callbacks.credentials(move |_url, username_from_url, allowed| {
            attempts += 1;
            if attempts > 1 {
                return Err(git2::Error::from_str(
                    "authentication required but the provided credentials were rejected",
                ));
            }
            if allowed.contains(CredentialType::SSH_KEY)
                && let Some(identity) = &self.auth.identity
            {
                return Cred::ssh_key_from_memory(
                    username_from_url.unwrap_or("git"),
                    None,
                    identity,
                    self.auth.password.as_deref(),
                );
            }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT)
                && let (Some(user), Some(password)) = (&self.auth.username, &self.auth.password)
            {
                return Cred::userpass_plaintext(user, password);
            }
            if allowed.contains(CredentialType::USERNAME) {
                return Cred::username(username_from_url.unwrap_or("git"));
            }
            Err(git2::Error::from_str(
                "authentication required but no credentials were provided",
            ))
        });
        let (host, port) = self.host_and_port();
        callbacks.certificate_check(move |certificate, _hostname| {
            if let Some(hostkey) = certificate.as_hostkey() {
                let Some(known) = &self.auth.known_hosts else {
                    return Err(git2::Error::from_str("no known_hosts given to verify the SSH host key"));
                };
                let key = hostkey.hostkey().unwrap_or_default();
                if known_hosts::is_known(known, &host, port, key) {
                    return Ok(CertificateCheckStatus::CertificateOk);
                }
                return Err(git2::Error::from_str(&format!(
                    "ssh: handshake failed: knownhosts: key mismatch or unknown host for {host}:{port}"
                )));
            }
            if let (Some(x509), Some(ca)) = (certificate.as_x509(), &self.auth.ca_pem) {
                return match super::tls::verify_with_ca(x509.data(), ca, &host) {
                    Ok(()) => Ok(CertificateCheckStatus::CertificateOk),
                    Err(why) => Err(git2::Error::from_str(&format!("x509: certificate signed by unknown authority: {why}"))),
                };
            }
            Ok(CertificateCheckStatus::CertificatePassthrough)
        });
        callbacks.transfer_progress(move |_| Instant::now() < deadline);
        callbacks.sideband_progress(move |_| Instant::now() < deadline);
        callbacks
    }

    pub(super) fn proxy_options(&self) -> ProxyOptions<'_> {
        let mut options = ProxyOptions::new();
        // A bridge applies the proxy itself.
        if let (Some(proxy), None) = (&self.proxy, &self.bridge) {
            options.url(proxy);
        }
        options
    }

    pub(super) fn fetch_options(
        &self,
        deadline: Instant,
        depth: Option<i32>,
    ) -> (FetchOptions<'_>, Vec<String>) {
        let mut options = FetchOptions::new();
        options.remote_callbacks(self.callbacks(deadline));
        options.proxy_options(self.proxy_options());
        options.download_tags(git2::AutotagOption::None);
        if let Some(depth) = depth {
            options.depth(depth);
        }
        let headers: Vec<String> = self
            .auth
            .bearer_token
            .iter()
            .map(|token| format!("Authorization: Bearer {token}"))
            .collect();
        (options, headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_from_urls() {
        let remote = |url: &str| Remote {
            url: url.into(),
            auth: GitAuth::default(),
            proxy: None,
            timeout: Duration::from_secs(1),
            bridge: None,
        };
        assert_eq!(
            remote("ssh://git@github.com/org/repo").host_and_port(),
            ("github.com".into(), 22)
        );
        assert_eq!(
            remote("ssh://root@127.0.0.1:2222/srv/repo.git").host_and_port(),
            ("127.0.0.1".into(), 2222)
        );
        assert_eq!(
            remote("https://user@example.org:8443/x.git").host_and_port(),
            ("example.org".into(), 8443)
        );
    }
}
