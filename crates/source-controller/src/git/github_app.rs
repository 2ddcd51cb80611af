//! `provider: github`: HTTPS credentials from a GitHub App installation, as Flux gets them
//! (fluxcd/pkg auth/githubapp). The Secret holds `githubAppID`, `githubAppPrivateKey`, one of
//! `githubAppInstallationID` / `githubAppInstallationOwner`, and optionally
//! `githubAppBaseURL` (GitHub Enterprise's API URL, used exactly as given) and `ca.crt`.
//!
//! A JWT signed with the App's RSA key (RS256, issued 30 s in the past, valid 2 minutes)
//! authenticates `POST <api>/app/installations/<id>/access_tokens`; the installation token it
//! returns is the password of user `x-access-token`. Tokens are cached per App, installation,
//! API URL and key until shortly before they expire.

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::ByteString;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use sha2::{Digest as _, Sha256};

use crate::error::SourceError;

/// The Secret key that marks GitHub App data.
pub const KEY_APP_ID: &str = "githubAppID";
const KEY_INSTALLATION_ID: &str = "githubAppInstallationID";
const KEY_INSTALLATION_OWNER: &str = "githubAppInstallationOwner";
const KEY_PRIVATE_KEY: &str = "githubAppPrivateKey";
const KEY_BASE_URL: &str = "githubAppBaseURL";
/// The user name that goes with an installation token.
pub const ACCESS_TOKEN_USERNAME: &str = "x-access-token";
/// GitHub's public API.
const DEFAULT_API_URL: &str = "https://api.github.com/";
/// A cached token is renewed this long before it expires.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// Installation tokens by [`App::cache_key`], with their expiry.
static TOKENS: LazyLock<Mutex<HashMap<String, (String, SystemTime)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Whether the Secret's data is GitHub App data.
pub fn has_app_data(data: &BTreeMap<String, ByteString>) -> bool {
    data.contains_key(KEY_APP_ID)
}

/// A GitHub App installation, from a Secret.
pub struct App {
    id: i64,
    installation_id: i64,
    installation_owner: String,
    key: RsaKeyPair,
    key_pem: Vec<u8>,
    api_url: String,
}

impl App {
    /// Reads and validates the App data, with Flux's messages.
    pub fn from_secret(data: &BTreeMap<String, ByteString>) -> Result<Self, SourceError> {
        let text = |key: &str| {
            data.get(key)
                .map(|v| String::from_utf8_lossy(&v.0).trim().to_owned())
                .unwrap_or_default()
        };
        let number = |key: &str| text(key).parse::<i64>().unwrap_or(0);
        let fail = |why: &str| {
            SourceError::Authentication(format!(
                "failed to configure authentication options: {why}"
            ))
        };
        let app_id = number(KEY_APP_ID);
        if app_id == 0 {
            return Err(fail(
                "app ID must be provided to use github app authentication",
            ));
        }
        let installation_id = number(KEY_INSTALLATION_ID);
        let installation_owner = text(KEY_INSTALLATION_OWNER);
        match (installation_id, installation_owner.is_empty()) {
            (0, true) => {
                return Err(fail(
                    "app installation owner or ID must be provided to use github app authentication",
                ));
            }
            (id, false) if id != 0 => {
                return Err(fail(
                    "only one of app installation owner or ID must be provided to use github app authentication",
                ));
            }
            _ => {}
        }
        let key_pem = data
            .get(KEY_PRIVATE_KEY)
            .map(|v| v.0.clone())
            .unwrap_or_default();
        if key_pem.is_empty() {
            return Err(fail(
                "private key must be provided to use github app authentication",
            ));
        }
        let key = parse_rsa_key(&key_pem)
            .map_err(|why| fail(&format!("could not parse private key: {why}")))?;
        let base = text(KEY_BASE_URL);
        let api_url = if base.is_empty() {
            DEFAULT_API_URL.to_owned()
        } else if base.ends_with('/') {
            base
        } else {
            format!("{base}/")
        };
        Ok(Self {
            id: app_id,
            installation_id,
            installation_owner,
            key,
            key_pem,
            api_url,
        })
    }

    /// An installation token (cached until shortly before it expires), fetched with `client`.
    pub async fn token(&self, client: &reqwest::Client) -> Result<String, SourceError> {
        let key = self.cache_key();
        if let Some((token, expiry)) = TOKENS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            && SystemTime::now() + RENEW_BEFORE_EXPIRY < *expiry
        {
            return Ok(token.clone());
        }
        let (token, expiry) = self.create_token(client).await.map_err(|why| {
            SourceError::Authentication(format!(
                "failed to configure authentication options: {why}"
            ))
        })?;
        TOKENS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, (token.clone(), expiry));
        Ok(token)
    }

    async fn create_token(&self, client: &reqwest::Client) -> Result<(String, SystemTime), String> {
        let jwt = self.jwt()?;
        let installation = if self.installation_id == 0 {
            self.find_installation(client, &jwt).await?
        } else {
            self.installation_id
        };
        let url = format!(
            "{}app/installations/{installation}/access_tokens",
            self.api_url
        );
        let answer: TokenAnswer = call(client.post(&url), &jwt, "POST", &url).await?;
        let expiry = answer.expires_at.parse::<jiff::Timestamp>().map_or_else(
            |_| SystemTime::now() + Duration::from_secs(3600),
            SystemTime::from,
        );
        Ok((answer.token, expiry))
    }

    /// The installation of the owner: as an organization, then as a user.
    async fn find_installation(&self, client: &reqwest::Client, jwt: &str) -> Result<i64, String> {
        let owner = &self.installation_owner;
        let org = format!("{}orgs/{owner}/installation", self.api_url);
        let org_error = match call::<Installation>(client.get(&org), jwt, "GET", &org).await {
            Ok(found) => return Ok(found.id),
            Err(why) => why,
        };
        let user = format!("{}users/{owner}/installation", self.api_url);
        match call::<Installation>(client.get(&user), jwt, "GET", &user).await {
            Ok(found) => Ok(found.id),
            Err(why) => Err(format!(
                "failed to find organization installation: {org_error}\nfailed to find user installation: {why}"
            )),
        }
    }

    /// The App's JWT: RS256, `iss` = App ID, issued 30 s ago, expiring 2 minutes later.
    fn jwt(&self) -> Result<String, String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let issued = now.saturating_sub(30);
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"iss": self.id.to_string(), "iat": issued, "exp": issued + 120})
                .to_string(),
        );
        let signed = format!("{header}.{claims}");
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "could not sign the GitHub App JWT".to_owned())?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// Identifies the App, installation, API and key (hashed: the key never leaves).
    fn cache_key(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(format!(
            "{}|{}|{}|{}|",
            self.id, self.installation_id, self.installation_owner, self.api_url
        ));
        hasher.update(&self.key_pem);
        hex::encode(hasher.finalize())
    }
}

/// An RSA private key in PKCS#1 (`RSA PRIVATE KEY`, what GitHub hands out) or PKCS#8 PEM.
fn parse_rsa_key(pem: &[u8]) -> Result<RsaKeyPair, String> {
    let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| e.to_string())?;
    match der {
        PrivateKeyDer::Pkcs1(key) => RsaKeyPair::from_der(key.secret_pkcs1_der()),
        PrivateKeyDer::Pkcs8(key) => RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()),
        _ => return Err("not an RSA private key".to_owned()),
    }
    .map_err(|e| e.to_string())
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    token: String,
    #[serde(default)]
    expires_at: String,
}

#[derive(serde::Deserialize)]
struct Installation {
    id: i64,
}

#[derive(serde::Deserialize)]
struct ApiError {
    #[serde(default)]
    message: String,
}

/// Sends a GitHub API request authenticated by `jwt`; errors read as go-github's
/// (`POST <url>: 401 <message>`).
async fn call<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
    jwt: &str,
    method: &str,
    url: &str,
) -> Result<T, String> {
    let response = request
        .bearer_auth(jwt)
        .header("Accept", "application/vnd.github.v3+json")
        .header("User-Agent", "ferroflux-source-controller")
        .send()
        .await
        .map_err(|e| format!("{method} {url}: {}", super::bridge::error_chain(&e)))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?;
    if !status.is_success() {
        let message = serde_json::from_slice::<ApiError>(&body)
            .map(|e| e.message)
            .unwrap_or_default();
        return Err(format!("{method} {url}: {} {message}", status.as_u16())
            .trim_end()
            .to_owned());
    }
    serde_json::from_slice(&body).map_err(|e| format!("{method} {url}: invalid answer: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::secret_data as data;

    fn message(pairs: &[(&str, &str)]) -> String {
        match App::from_secret(&data(pairs)) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn flux_messages_for_incomplete_app_data() {
        assert_eq!(
            message(&[("githubAppID", "x")]),
            "failed to configure authentication options: app ID must be provided to use github app authentication"
        );
        assert_eq!(
            message(&[("githubAppID", "1")]),
            "failed to configure authentication options: app installation owner or ID must be provided to use github app authentication"
        );
        assert_eq!(
            message(&[
                ("githubAppID", "1"),
                ("githubAppInstallationID", "2"),
                ("githubAppInstallationOwner", "org")
            ]),
            "failed to configure authentication options: only one of app installation owner or ID must be provided to use github app authentication"
        );
        assert_eq!(
            message(&[("githubAppID", "1"), ("githubAppInstallationID", "2")]),
            "failed to configure authentication options: private key must be provided to use github app authentication"
        );
        let bad_key = message(&[
            ("githubAppID", "1"),
            ("githubAppInstallationID", "2"),
            ("githubAppPrivateKey", "not a key"),
        ]);
        assert!(
            bad_key.starts_with(
                "failed to configure authentication options: could not parse private key:"
            ),
            "{bad_key}"
        );
        assert!(!bad_key.contains("not a key"), "{bad_key}");
    }
}
