//! Credentials for a Git remote, read from the GitRepository's Secret.
//!
//! Keys are Flux's: `username` + `password` or `bearerToken` for HTTP(S); `identity`
//! (+ optional `password` as its passphrase) and `known_hosts` for SSH; `ca.crt` (or the
//! legacy `caFile`) for a private CA. Values never appear in errors or logs.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;

use crate::error::SourceError;

/// What is needed to authenticate to one remote.
#[derive(Clone, Default)]
pub struct GitAuth {
    /// HTTP basic auth user name.
    pub username: Option<String>,
    /// HTTP basic auth password (or SSH key passphrase).
    pub password: Option<String>,
    /// HTTP bearer token.
    pub bearer_token: Option<String>,
    /// SSH private key in PEM/OpenSSH form.
    pub identity: Option<String>,
    /// SSH known_hosts content the server's host key must appear in.
    pub known_hosts: Option<String>,
    /// PEM CA bundle trusted for HTTPS.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate (chain) presented to HTTPS servers (`tls.crt`).
    pub client_cert_pem: Option<Vec<u8>>,
    /// PEM private key of [`Self::client_cert_pem`] (`tls.key`).
    pub client_key_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secret values.
        f.debug_struct("GitAuth")
            .field("username", &self.username.is_some())
            .field("password", &self.password.is_some())
            .field("bearer_token", &self.bearer_token.is_some())
            .field("identity", &self.identity.is_some())
            .field("known_hosts", &self.known_hosts.is_some())
            .field("ca_pem", &self.ca_pem.is_some())
            .field("client_cert_pem", &self.client_cert_pem.is_some())
            .field("client_key_pem", &self.client_key_pem.is_some())
            .finish()
    }
}

fn text(
    data: &BTreeMap<String, ByteString>,
    key: &str,
    secret: &str,
) -> Result<Option<String>, SourceError> {
    data.get(key)
        .map(|value| {
            String::from_utf8(value.0.clone()).map_err(|_| {
                SourceError::Authentication(format!(
                    "invalid '{key}' in Secret '{secret}': not valid UTF-8"
                ))
            })
        })
        .transpose()
}

/// The bytes of `key`, unless missing or empty.
fn non_empty(data: &BTreeMap<String, ByteString>, key: &str) -> Option<Vec<u8>> {
    data.get(key)
        .filter(|value| !value.0.is_empty())
        .map(|value| value.0.clone())
}

impl GitAuth {
    /// `tls.crt` followed by `tls.key`, when both are set (Flux ignores one without the
    /// other).
    pub fn client_identity_pem(&self) -> Option<Vec<u8>> {
        let (certificate, key) = (
            self.client_cert_pem.as_ref()?,
            self.client_key_pem.as_ref()?,
        );
        let mut pem = certificate.clone();
        pem.push(b'\n');
        pem.extend_from_slice(key);
        Some(pem)
    }

    /// Reads and validates the credentials for a `scheme` URL from the data of the Secret
    /// `namespace/name`, with Flux's rules (fluxcd/pkg `git.NewAuthOptions`): SSH needs
    /// `identity` and `known_hosts`; HTTP(S) uses `bearerToken` when present, otherwise
    /// `username`/`password`, and a password needs a user name.
    pub fn from_secret(
        namespace: &str,
        name: &str,
        data: &BTreeMap<String, ByteString>,
        scheme: &str,
    ) -> Result<Self, SourceError> {
        let mut auth = Self {
            username: text(data, "username", name)?,
            password: text(data, "password", name)?,
            bearer_token: text(data, "bearerToken", name)?,
            identity: text(data, "identity", name)?,
            known_hosts: text(data, "known_hosts", name)?,
            ca_pem: non_empty(data, "ca.crt").or_else(|| non_empty(data, "caFile")),
            client_cert_pem: non_empty(data, "tls.crt"),
            client_key_pem: non_empty(data, "tls.key"),
        };
        if scheme == "ssh" {
            auth.client_cert_pem = None;
            auth.client_key_pem = None;
            Self::validate_ssh(auth.identity.as_deref(), auth.known_hosts.as_deref())?;
            if auth.password.as_deref().is_none_or(str::is_empty)
                && auth.identity.as_deref().is_some_and(identity_is_encrypted)
            {
                return Err(SourceError::Authentication(format!(
                    "SSH identity key is encrypted but no 'password' field was provided in the secret '{namespace}/{name}'"
                )));
            }
        } else if auth.bearer_token.is_some() {
            // The token wins; user name and password are not used.
            auth.username = None;
            auth.password = None;
        } else if auth.username.as_deref().is_none_or(str::is_empty)
            && auth.password.as_deref().is_some_and(|p| !p.is_empty())
        {
            return Err(invalid_option(
                scheme,
                "'password' requires 'username' to be set",
            ));
        }
        Ok(auth)
    }

    /// The credentials of a remote without `secretRef` (SSH cannot do without one).
    pub fn without_secret(scheme: &str) -> Result<Self, SourceError> {
        if scheme == "ssh" {
            Self::validate_ssh(None, None)?;
        }
        Ok(Self::default())
    }

    fn validate_ssh(identity: Option<&str>, known_hosts: Option<&str>) -> Result<(), SourceError> {
        if identity.is_none_or(str::is_empty) {
            return Err(invalid_option("ssh", "'identity' is required"));
        }
        if known_hosts.is_none_or(str::is_empty) {
            return Err(invalid_option("ssh", "'known_hosts' is required"));
        }
        Ok(())
    }
}

/// Flux's `failed to configure authentication options: invalid '<transport>' auth option: …`.
fn invalid_option(transport: &str, why: &str) -> SourceError {
    SourceError::Authentication(format!(
        "failed to configure authentication options: invalid '{transport}' auth option: {why}"
    ))
}

/// Whether an SSH private key (OpenSSH or legacy PEM) needs a passphrase.
fn identity_is_encrypted(identity: &str) -> bool {
    if identity.contains("Proc-Type: 4,ENCRYPTED")
        || identity.contains("BEGIN ENCRYPTED PRIVATE KEY")
    {
        return true;
    }
    ssh_key::PrivateKey::from_openssh(identity).is_ok_and(|key| key.is_encrypted())
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::secret_data as data;

    #[test]
    fn ssh_needs_identity_and_known_hosts() {
        let error =
            GitAuth::from_secret("ns", "s", &data(&[("identity", "key")]), "ssh").unwrap_err();
        assert_eq!(
            error.to_string(),
            "failed to configure authentication options: invalid 'ssh' auth option: 'known_hosts' is required"
        );
        let error = GitAuth::without_secret("ssh").unwrap_err();
        assert!(
            error.to_string().ends_with("'identity' is required"),
            "{error}"
        );
        assert!(
            GitAuth::from_secret(
                "ns",
                "s",
                &data(&[("identity", "k"), ("known_hosts", "h")]),
                "ssh"
            )
            .is_ok()
        );
    }

    #[test]
    fn encrypted_identity_without_password_is_refused() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let secret = data(&[("identity", pem), ("known_hosts", "h")]);
        let error = GitAuth::from_secret("ns", "s", &secret, "ssh").unwrap_err();
        assert_eq!(
            error.to_string(),
            "SSH identity key is encrypted but no 'password' field was provided in the secret 'ns/s'"
        );
    }

    #[test]
    fn http_rules_follow_flux_and_never_print_values() {
        let error =
            GitAuth::from_secret("ns", "s", &data(&[("password", "x")]), "https").unwrap_err();
        assert_eq!(
            error.to_string(),
            "failed to configure authentication options: invalid 'https' auth option: 'password' requires 'username' to be set"
        );
        let user_only = GitAuth::from_secret("ns", "s", &data(&[("username", "flux")]), "http");
        assert!(user_only.is_ok(), "a user name alone is accepted");
        let token = GitAuth::from_secret(
            "ns",
            "s",
            &data(&[("bearerToken", "t"), ("username", "u"), ("password", "p")]),
            "https",
        )
        .unwrap();
        assert!(
            token.username.is_none() && token.password.is_none(),
            "the token wins"
        );
        let auth = GitAuth::from_secret(
            "ns",
            "s",
            &data(&[("username", "flux"), ("password", "hunter2")]),
            "https",
        )
        .unwrap();
        assert!(!format!("{auth:?}").contains("hunter2"));
    }
}
