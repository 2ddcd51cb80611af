//! OIDC-authenticated Receivers: `gcr` (Google Pub/Sub push with a Google-signed ID token)
//! and `generic-oidc` (any issuer the Receiver trusts, discovered at
//! `<issuerURL>/.well-known/openid-configuration`, plus CEL checks of the claims).

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ferroflux_api::notification::v1::OIDCProvider;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::filter;
use crate::jwt::{self, Expectations};

/// Where Google publishes the keys of its ID tokens (RS256 JWKS).
pub const GOOGLE_CERTS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The audience `generic-oidc` expects when the provider names none.
pub const DEFAULT_OIDC_AUDIENCE: &str = "notification-controller";
/// The issuers Google ID tokens carry.
const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];

/// Flux's checks of `spec.oidcProviders` (the `ValidationFailed` ones).
pub fn validate_providers(providers: &[OIDCProvider]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in providers.iter().enumerate() {
        let issuer = &p.issuer_url;
        if issuer.is_empty() {
            return Err(format!("oidcProviders[{i}]: issuerURL is required"));
        }
        if !issuer.starts_with("http://") && !issuer.starts_with("https://") {
            return Err(format!(
                "oidcProviders[{i}]: issuerURL {issuer:?} must start with http:// or https://"
            ));
        }
        if !seen.insert(issuer) {
            return Err(format!(
                "oidcProviders[{i}]: duplicate issuerURL {issuer:?}"
            ));
        }
        if p.validations.is_empty() {
            return Err(format!(
                "oidcProviders[{i}] (issuerURL={issuer:?}): at least one validation is required; without validations any caller able to obtain a token from this issuer can trigger the Receiver"
            ));
        }
        for (j, v) in p.variables.iter().flatten().enumerate() {
            if v.name.is_empty() {
                return Err(format!(
                    "oidcProviders[{i}] (issuerURL={issuer:?}): variables[{j}]: name is required"
                ));
            }
            if v.expression.is_empty() {
                return Err(format!(
                    "oidcProviders[{i}] (issuerURL={issuer:?}): variables[{j}] (name={:?}): expression is required",
                    v.name
                ));
            }
        }
        for (j, v) in p.validations.iter().enumerate() {
            if v.expression.is_empty() {
                return Err(format!(
                    "oidcProviders[{i}] (issuerURL={issuer:?}): validations[{j}]: expression is required"
                ));
            }
            if v.message.is_empty() {
                return Err(format!(
                    "oidcProviders[{i}] (issuerURL={issuer:?}): validations[{j}]: message is required"
                ));
            }
        }
    }
    Ok(())
}

/// Compiles every variable and validation (the `InvalidCELExpression` checks).
pub fn compile_providers(providers: &[OIDCProvider]) -> Result<(), String> {
    for (i, p) in providers.iter().enumerate() {
        let context = |e: String| format!("oidcProviders[{i}] (issuerURL={:?}): {e}", p.issuer_url);
        for v in p.variables.iter().flatten() {
            filter::compile(&v.expression).map_err(|e| {
                context(format!("invalid expression for variable {:?}: {e}", v.name))
            })?;
        }
        for v in &p.validations {
            filter::compile(&v.expression).map_err(|e| {
                context(format!(
                    "invalid expression for validation {:?}: {e}",
                    v.message
                ))
            })?;
        }
    }
    Ok(())
}

/// The bearer token of the request.
fn bearer(headers: &HeaderMap) -> Result<&str, String> {
    let value = headers
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| "the Authorization header is missing or malformed".to_owned())?
        .trim();
    if token.is_empty() {
        return Err("the Authorization header is missing a bearer token".to_owned());
    }
    Ok(token)
}

async fn get_json(client: &reqwest::Client, url: &str, what: &str) -> Result<Value, String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("failed to fetch {what}: {}", e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "failed to fetch {what}: status code {}",
            status.as_u16()
        ));
    }
    response
        .json()
        .await
        .map_err(|e| format!("failed to decode {what}: {}", e.without_url()))
}

/// A Pub/Sub push and the GCR event it wraps.
#[derive(serde::Deserialize)]
struct Push {
    message: PushMessage,
}
#[derive(serde::Deserialize)]
struct PushMessage {
    #[serde(default)]
    data: String,
}
#[derive(serde::Deserialize, serde::Serialize)]
struct GcrData {
    #[serde(default)]
    action: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    tag: String,
}

/// Verifies a `gcr` push: a Google ID token for `audience`, issued to the service
/// account `email` (verified); returns the unwrapped GCR event (`{action, digest, tag}`)
/// that becomes the request body for filters.
pub async fn verify_gcr(
    client: &reqwest::Client,
    certs_url: &str,
    headers: &HeaderMap,
    body: &[u8],
    secret: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<u8>, String> {
    let email = secret
        .get("email")
        .filter(|e| !e.is_empty())
        .ok_or_else(|| "invalid secret data: required field 'email' for GCR receiver".to_owned())?;
    let audience = secret
        .get("audience")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            "invalid secret data: required field 'audience' for GCR receiver".to_owned()
        })?;
    authenticate_gcr(client, certs_url, headers, email, audience)
        .await
        .map_err(|e| format!("cannot authenticate GCR request: {e}"))?;
    let push: Push = serde_json::from_slice(body)
        .map_err(|e| format!("cannot decode GCR webhook payload: {e}"))?;
    let raw = STANDARD.decode(push.message.data).unwrap_or_default();
    let data: GcrData =
        serde_json::from_slice(&raw).map_err(|e| format!("cannot decode GCR webhook body: {e}"))?;
    tracing::info!(
        "handling GCR event from {} for tag {}",
        data.digest,
        data.tag
    );
    Ok(serde_json::to_vec(&data).expect("GCR data always serializes"))
}

async fn authenticate_gcr(
    client: &reqwest::Client,
    certs_url: &str,
    headers: &HeaderMap,
    email: &str,
    audience: &str,
) -> Result<(), String> {
    let token = bearer(headers)?;
    let jwks = get_json(client, certs_url, "Google's ID token certificates").await?;
    let expect = Expectations {
        issuers: &GOOGLE_ISSUERS,
        audience,
        now: Timestamp::now(),
    };
    let claims = jwt::verify(token, &jwks, &expect).map_err(|e| match e {
        jwt::JwtError::Audience(_) => {
            let got = jwt::unverified_claims(token)
                .ok()
                .and_then(|c| c.get("aud").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| "<unknown>".to_owned());
            format!("invalid ID token: audience is '{got}', want '{audience}'")
        }
        jwt::JwtError::Issuer { got, .. } => format!(
            "token issuer is '{got}', want 'accounts.google.com' or 'https://accounts.google.com'"
        ),
        other => format!("invalid ID token: {other}"),
    })?;
    let got_email = claims
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if got_email != email {
        return Err(format!("token email is '{got_email}', want '{email}'"));
    }
    if claims.get("email_verified").and_then(Value::as_bool) != Some(true) {
        return Err(format!("token email '{got_email}' is not verified"));
    }
    Ok(())
}

/// Verifies a `generic-oidc` request; returns the token's claims for the filters.
pub async fn verify_generic(
    client: &reqwest::Client,
    providers: &[OIDCProvider],
    headers: &HeaderMap,
) -> Result<Map<String, Value>, String> {
    if providers.is_empty() {
        return Err("generic-oidc receiver has no oidcProviders configured".to_owned());
    }
    let token = bearer(headers)?;
    let issuer = jwt::unverified_claims(token)
        .map_err(|e| format!("failed to parse bearer token: {e}"))?
        .get("iss")
        .and_then(Value::as_str)
        .filter(|i| !i.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            "failed to parse bearer token: token is missing the 'iss' claim".to_owned()
        })?;
    let provider = providers
        .iter()
        .find(|p| p.issuer_url == issuer)
        .ok_or_else(|| format!("no oidcProvider configured for issuer {issuer:?}"))?;
    let init_error =
        |e: String| format!("failed to initialize OIDC provider for issuer {issuer:?}: {e}");
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let discovery = get_json(client, &discovery_url, "the OIDC discovery document")
        .await
        .map_err(init_error)?;
    let discovered = discovery
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if discovered != issuer {
        return Err(init_error(format!(
            "oidc: issuer did not match the issuer returned by provider, expected {issuer:?} got {discovered:?}"
        )));
    }
    let jwks_uri = discovery
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| init_error("the discovery document has no jwks_uri".to_owned()))?;
    let jwks = get_json(client, jwks_uri, "the issuer's JWKS").await?;
    let audience = provider
        .audience
        .as_deref()
        .filter(|a| !a.is_empty())
        .unwrap_or(DEFAULT_OIDC_AUDIENCE);
    let expect = Expectations {
        issuers: &[issuer.as_str()],
        audience,
        now: Timestamp::now(),
    };
    let claims = jwt::verify(token, &jwks, &expect)
        .map_err(|e| format!("failed to verify OIDC token: {e}"))?;
    evaluate_claims(provider, &claims)?;
    Ok(claims)
}

/// The provider's variables then validations over the claims.
pub fn evaluate_claims(provider: &OIDCProvider, claims: &Map<String, Value>) -> Result<(), String> {
    let claims = Value::Object(claims.clone());
    let mut vars = Map::new();
    for v in provider.variables.iter().flatten() {
        let program = filter::compile(&v.expression)?;
        let value = filter::evaluate_json(
            &program,
            &[("claims", &claims), ("vars", &Value::Object(vars.clone()))],
        )
        .map_err(|e| format!("failed to evaluate variable {:?}: {e}", v.name))?;
        vars.insert(v.name.clone(), value);
    }
    let vars = Value::Object(vars);
    let mut failures = Vec::new();
    for v in &provider.validations {
        let program = filter::compile(&v.expression)?;
        let ok = filter::evaluate_bool(&program, &[("claims", &claims), ("vars", &vars)])
            .map_err(|e| format!("failed to evaluate validation: {e}"))?;
        if !ok {
            failures.push(v.message.clone());
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("token validation failed: {}", failures.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use ferroflux_api::notification::v1::{OIDCValidation, OIDCVariable};
    use serde_json::json;

    use super::*;

    #[test]
    fn claims_variables_and_validations() {
        let provider = OIDCProvider {
            issuer_url: "https://token.actions.githubusercontent.com".to_owned(),
            audience: None,
            variables: Some(vec![OIDCVariable {
                name: "repo".to_owned(),
                expression: "claims.repository".to_owned(),
            }]),
            validations: vec![
                OIDCValidation {
                    expression: "vars.repo == 'org/app'".to_owned(),
                    message: "wrong repository".to_owned(),
                },
                OIDCValidation {
                    expression: "claims.ref == 'refs/heads/main'".to_owned(),
                    message: "wrong branch".to_owned(),
                },
            ],
        };
        let claims = |repo: &str, reference: &str| {
            json!({"repository": repo, "ref": reference})
                .as_object()
                .unwrap()
                .clone()
        };
        assert!(evaluate_claims(&provider, &claims("org/app", "refs/heads/main")).is_ok());
        assert_eq!(
            evaluate_claims(&provider, &claims("org/other", "refs/heads/dev")).unwrap_err(),
            "token validation failed: wrong repository; wrong branch"
        );
    }
}
