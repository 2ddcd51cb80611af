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

impl GitAuth {
    /// Reads and validates the credentials for `url` from a Secret's data.
    pub fn from_secret(
        secret: &str,
        data: &BTreeMap<String, ByteString>,
        scheme: &str,
    ) -> Result<Self, SourceError> {
        let auth = Self {
            username: text(data, "username", secret)?,
            password: text(data, "password", secret)?,
            bearer_token: text(data, "bearerToken", secret)?,
            identity: text(data, "identity", secret)?,
            known_hosts: text(data, "known_hosts", secret)?,
            ca_pem: data
                .get("ca.crt")
                .or_else(|| data.get("caFile"))
                .map(|v| v.0.clone()),
        };
        if scheme == "ssh" {
            if auth.identity.is_none() {
                return Err(SourceError::Authentication(format!(
                    "invalid '{secret}' secret data: required fields 'identity' and 'known_hosts' for SSH"
                )));
            }
            if auth
                .known_hosts
                .as_deref()
                .is_none_or(|k| k.trim().is_empty())
            {
                return Err(SourceError::Authentication(format!(
                    "invalid '{secret}' secret data: required field 'known_hosts' for SSH"
                )));
            }
        } else {
            if auth.username.is_some() != auth.password.is_some() && auth.identity.is_none() {
                return Err(SourceError::Authentication(format!(
                    "invalid '{secret}' secret data: 'username' and 'password' must both be set"
                )));
            }
            if auth.bearer_token.is_some() && auth.username.is_some() {
                return Err(SourceError::Authentication(format!(
                    "invalid '{secret}' secret data: 'bearerToken' cannot be combined with 'username'/'password'"
                )));
            }
        }
        Ok(auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, ByteString> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
            .collect()
    }

    #[test]
    fn ssh_needs_identity_and_known_hosts() {
        let error = GitAuth::from_secret("s", &data(&[("identity", "key")]), "ssh").unwrap_err();
        assert!(error.to_string().contains("known_hosts"), "{error}");
        assert!(
            GitAuth::from_secret(
                "s",
                &data(&[("identity", "k"), ("known_hosts", "h")]),
                "ssh"
            )
            .is_ok()
        );
    }

    #[test]
    fn basic_auth_needs_both_halves_and_never_prints_values() {
        let error = GitAuth::from_secret("s", &data(&[("username", "flux")]), "https").unwrap_err();
        assert!(error.to_string().contains("must both be set"));
        let auth = GitAuth::from_secret(
            "s",
            &data(&[("username", "flux"), ("password", "hunter2")]),
            "https",
        )
        .unwrap();
        assert!(!format!("{auth:?}").contains("hunter2"));
    }
}
