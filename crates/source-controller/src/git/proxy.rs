//! `spec.proxySecretRef`: the proxy URL from a Secret's `address` (+ `username`,
//! `password`), validated with Flux's rules and messages (fluxcd/pkg runtime/secrets).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;

use crate::error::SourceError;

/// Flux refuses longer proxy URLs.
const MAX_PROXY_URL_LENGTH: usize = 2048;
/// The proxy schemes Flux accepts.
const SUPPORTED_SCHEMES: [&str; 3] = ["http", "https", "socks5"];

/// The proxy URL, credentials embedded, for the Secret `namespace/name` with `data`.
/// Errors carry Flux's `failed to configure proxy options: …` message (AuthenticationFailed).
pub fn proxy_url(
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, ByteString>,
) -> Result<String, SourceError> {
    let fail = |why: String| {
        SourceError::Authentication(format!(
            "failed to configure proxy options: secret '{namespace}/{name}': {why}"
        ))
    };
    let text = |key: &str| {
        data.get(key)
            .map(|value| String::from_utf8_lossy(&value.0).into_owned())
    };
    let address = text("address").ok_or_else(|| fail("key 'address' not found".to_owned()))?;
    if address.is_empty() {
        return Err(fail("proxy address is empty".to_owned()));
    }
    if address.len() > MAX_PROXY_URL_LENGTH {
        return Err(fail(format!(
            "proxy URL exceeds maximum length of {MAX_PROXY_URL_LENGTH} characters"
        )));
    }
    let (scheme, rest) = address.split_once("://").unwrap_or(("", &address));
    if !SUPPORTED_SCHEMES.contains(&scheme) {
        return Err(fail(format!(
            "proxy URL must use one of the supported schemes ({}), got '{scheme}'",
            SUPPORTED_SCHEMES.join(", ")
        )));
    }
    let userinfo = match (text("username"), text("password")) {
        (Some(user), Some(password)) => {
            format!("{}:{}@", escape_userinfo(&user), escape_userinfo(&password))
        }
        (Some(user), None) => format!("{}@", escape_userinfo(&user)),
        _ => String::new(),
    };
    Ok(format!("{scheme}://{userinfo}{rest}"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters, as Go's
/// `url.UserPassword` does for the userinfo part.
fn escape_userinfo(value: &str) -> String {
    value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// The proxy URL without credentials, for messages.
pub fn redacted(proxy: &str) -> String {
    match proxy.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{host}")
        }
        None => proxy.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::secret_data as data;

    #[test]
    fn flux_messages_for_bad_secrets() {
        let message =
            |pairs: &[(&str, &str)]| proxy_url("ns", "p", &data(pairs)).unwrap_err().to_string();
        assert_eq!(
            message(&[]),
            "failed to configure proxy options: secret 'ns/p': key 'address' not found"
        );
        assert_eq!(
            message(&[("address", "")]),
            "failed to configure proxy options: secret 'ns/p': proxy address is empty"
        );
        assert_eq!(
            message(&[("address", "ftp://proxy")]),
            "failed to configure proxy options: secret 'ns/p': proxy URL must use one of the supported schemes (http, https, socks5), got 'ftp'"
        );
        assert!(message(&[("address", &"x".repeat(3000))]).contains("maximum length of 2048"));
    }

    #[test]
    fn credentials_are_escaped_and_redacted() {
        let url = proxy_url(
            "ns",
            "p",
            &data(&[
                ("address", "http://proxy:3128"),
                ("username", "me"),
                ("password", "p@ss:word"),
            ]),
        )
        .unwrap();
        assert_eq!(url, "http://me:p%40ss%3Aword@proxy:3128");
        assert_eq!(redacted(&url), "http://proxy:3128");
        let user_only = proxy_url(
            "ns",
            "p",
            &data(&[("address", "http://proxy"), ("username", "me")]),
        )
        .unwrap();
        assert_eq!(user_only, "http://me@proxy");
    }
}
