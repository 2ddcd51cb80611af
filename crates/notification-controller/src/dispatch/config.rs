//! A Provider's spec and Secrets turned into a [`ProviderConfig`]: pure, so that the
//! precedence rules are tested without a cluster.

use std::collections::BTreeMap;

use ferroflux_api::notification::v1beta3::Provider;
use kube::ResourceExt;
use reqwest::Url;

use crate::provider::{DEFAULT_TIMEOUT, ProviderConfig};

/// The longest address a Secret may hold, as the CRD allows for `spec.address`.
const MAX_ADDRESS_LENGTH: usize = 2048;

type SecretData = BTreeMap<String, Vec<u8>>;

fn text(data: &SecretData, key: &str) -> Option<String> {
    data.get(key)
        .map(|v| String::from_utf8_lossy(v).trim().to_owned())
}

/// Builds the configuration. `secret` is the `secretRef` Secret (name, data), `proxy` the
/// `proxySecretRef` one and `certificates` the `certSecretRef` one. Returns the values to
/// mask in messages too; errors name the Secret and what is wrong with it.
pub fn build(
    provider: &Provider,
    secret: Option<(String, SecretData)>,
    proxy: Option<&SecretData>,
    certificates: Option<&SecretData>,
) -> Result<(ProviderConfig, Vec<String>), (String, String)> {
    let spec = &provider.spec;
    let mut config = ProviderConfig {
        type_: spec.type_,
        uid: provider.uid().unwrap_or_default(),
        address: spec.address.clone().unwrap_or_default(),
        channel: spec.channel.clone().unwrap_or_default(),
        username: spec.username.clone().unwrap_or_default(),
        proxy: spec.proxy.clone().filter(|p| !p.is_empty()),
        timeout: spec
            .timeout
            .as_deref()
            .and_then(|t| ferroflux_runtime::duration::parse(t).ok())
            .unwrap_or(DEFAULT_TIMEOUT),
        ..ProviderConfig::default()
    };
    let mut secrets = Vec::new();
    if let Some((name, data)) = secret {
        apply_secret(&mut config, &mut secrets, &data).map_err(|e| (name, e))?;
    }
    if let Some(data) = proxy {
        let name = spec
            .proxy_secret_ref
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let url = proxy_url(data).map_err(|e| (name, e))?;
        if let Some(password) = text(data, "password") {
            secrets.push(password);
        }
        config.proxy = Some(url);
    }
    if let Some(data) = certificates {
        config.ca_pem = data.get("ca.crt").or_else(|| data.get("caFile")).cloned();
        let certificate = data.get("tls.crt").or_else(|| data.get("certFile"));
        let key = data.get("tls.key").or_else(|| data.get("keyFile"));
        if let (Some(certificate), Some(key)) = (certificate, key) {
            let mut identity = certificate.clone();
            identity.push(b'\n');
            identity.extend_from_slice(key);
            config.client_identity_pem = Some(identity);
        }
    }
    Ok((config, secrets))
}

fn apply_secret(
    config: &mut ProviderConfig,
    secrets: &mut Vec<String>,
    data: &SecretData,
) -> Result<(), String> {
    config.secret_keys = data.keys().cloned().collect();
    if let Some(address) = text(data, "address") {
        if address.len() > MAX_ADDRESS_LENGTH {
            return Err(format!(
                "invalid address in secret: address exceeds maximum length of {MAX_ADDRESS_LENGTH} bytes"
            ));
        }
        secrets.push(address.clone());
        config.address = address;
    }
    if let Some(proxy) = text(data, "proxy") {
        Url::parse(&proxy).map_err(|_| "invalid 'proxy' in secret".to_owned())?;
        config.proxy = Some(proxy);
    }
    if let Some(headers) = data.get("headers") {
        let text = String::from_utf8_lossy(headers);
        config.headers = serde_saphyr::from_str::<BTreeMap<String, String>>(&text)
            .map_err(|e| format!("failed to read headers from secret: {e}"))?;
        secrets.extend(config.headers.values().cloned());
    }
    if let Some(token) = text(data, "token") {
        secrets.push(token.clone());
        config.token = token;
    }
    if let (Some(username), Some(password)) = (text(data, "username"), text(data, "password")) {
        secrets.push(password.clone());
        config.username = username;
        config.password = password;
    }
    Ok(())
}

fn proxy_url(data: &SecretData) -> Result<String, String> {
    let address = text(data, "address").ok_or("secret has no 'address' key")?;
    let mut url = Url::parse(&address).map_err(|_| "invalid proxy 'address'".to_owned())?;
    if let Some(username) = text(data, "username") {
        let password = text(data, "password").unwrap_or_default();
        let _ = url.set_username(&username);
        let _ = url.set_password(Some(&password));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ferroflux_api::notification::v1beta3::{ProviderSpec, ProviderType};

    use super::*;

    fn provider(spec: ProviderSpec) -> Provider {
        let mut provider = Provider::new("slack", spec);
        provider.metadata.uid = Some("uid-1".to_owned());
        provider
    }

    fn data(entries: &[(&str, &str)]) -> SecretData {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn secret_address_and_credentials_win() {
        let provider = provider(ProviderSpec {
            type_: ProviderType::Slack,
            address: Some("https://spec.example.com".to_owned()),
            username: Some("spec-user".to_owned()),
            timeout: Some("30s".to_owned()),
            ..ProviderSpec::default()
        });
        let secret = data(&[
            ("address", " https://hooks.slack.com/services/T/B/SECRET \n"),
            ("token", "xoxb-1"),
            ("headers", "X-A: one\nX-B: two\n"),
        ]);
        let (config, secrets) =
            build(&provider, Some(("s".to_owned(), secret)), None, None).unwrap();
        assert_eq!(
            config.address,
            "https://hooks.slack.com/services/T/B/SECRET"
        );
        assert_eq!(config.token, "xoxb-1");
        assert_eq!(
            config.username, "spec-user",
            "username alone does not override"
        );
        assert_eq!(config.headers.get("X-B").unwrap(), "two");
        assert_eq!(config.timeout, Duration::from_secs(30));
        assert_eq!(config.uid, "uid-1");
        assert!(secrets.contains(&"xoxb-1".to_owned()));
        assert!(secrets.contains(&"https://hooks.slack.com/services/T/B/SECRET".to_owned()));
    }

    #[test]
    fn defaults_and_basic_auth() {
        let provider = provider(ProviderSpec {
            type_: ProviderType::Alertmanager,
            ..ProviderSpec::default()
        });
        let secret = data(&[("username", "u"), ("password", "p")]);
        let (config, secrets) =
            build(&provider, Some(("s".to_owned(), secret)), None, None).unwrap();
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert_eq!(
            (config.username.as_str(), config.password.as_str()),
            ("u", "p")
        );
        assert_eq!(secrets, ["p"]);
    }

    #[test]
    fn proxy_and_certificates() {
        let provider = provider(ProviderSpec::default());
        let proxy = data(&[
            ("address", "http://proxy:3128"),
            ("username", "u"),
            ("password", "p"),
        ]);
        let certificates = data(&[("ca.crt", "CA"), ("tls.crt", "CRT"), ("tls.key", "KEY")]);
        let (config, _) = build(&provider, None, Some(&proxy), Some(&certificates)).unwrap();
        assert_eq!(config.proxy.as_deref(), Some("http://u:p@proxy:3128/"));
        assert_eq!(config.ca_pem.as_deref(), Some(&b"CA"[..]));
        assert_eq!(
            config.client_identity_pem.as_deref(),
            Some(&b"CRT\nKEY"[..])
        );
    }

    #[test]
    fn bad_headers_name_the_secret() {
        let provider = provider(ProviderSpec::default());
        let secret = data(&[("headers", "- not\n- a map\n")]);
        let (name, message) =
            build(&provider, Some(("creds".to_owned(), secret)), None, None).unwrap_err();
        assert_eq!(name, "creds");
        assert!(message.starts_with("failed to read headers"), "{message}");
    }
}
