//! Request verification per Receiver type: pure functions over the headers and body.

use axum::http::HeaderMap;
use ferroflux_api::notification::v1::ReceiverType;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

/// What a verified request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Annotate the Receiver's resources.
    Reconcile,
    /// A GitHub `ping` (sent when the webhook is created): answered 200, nothing
    /// reconciled.
    Ping,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Whether `event` is allowed by the Receiver's `events` (all when empty).
fn allowed(event: &str, events: &[String], sender: &str) -> Result<(), String> {
    if events.is_empty() || events.iter().any(|e| e.eq_ignore_ascii_case(event)) {
        Ok(())
    } else {
        Err(format!("the {sender} event {event:?} is not authorised"))
    }
}

fn verify_mac<M: Mac + KeyInit>(key: &[u8], body: &[u8], hex_signature: &str) -> bool {
    let Ok(expected) = hex::decode(hex_signature) else {
        return false;
    };
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Checks `<algorithm>=<hex HMAC>` (sha1, sha256 or sha512), as go-github does.
pub fn verify_signature(signature: &str, body: &[u8], key: &[u8]) -> Result<(), String> {
    let (algorithm, hex_signature) = signature
        .split_once('=')
        .ok_or_else(|| "missing or malformed signature".to_owned())?;
    let valid = match algorithm {
        "sha1" => verify_mac::<Hmac<Sha1>>(key, body, hex_signature),
        "sha256" => verify_mac::<Hmac<Sha256>>(key, body, hex_signature),
        "sha512" => verify_mac::<Hmac<Sha512>>(key, body, hex_signature),
        other => return Err(format!("unsupported signature algorithm {other:?}")),
    };
    if valid {
        Ok(())
    } else {
        Err("payload signature check failed".to_owned())
    }
}

/// GitHub-style validation (also Bitbucket Server): `X-Hub-Signature-256`, else
/// `X-Hub-Signature`, over the raw body; skipped when the token is empty.
fn verify_github_signature(headers: &HeaderMap, body: &[u8], token: &str) -> Result<(), String> {
    let content_type = header(headers, "Content-Type");
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type != "application/json" && media_type != "application/x-www-form-urlencoded" {
        return Err(format!(
            "webhook request has unsupported Content-Type {content_type:?}"
        ));
    }
    if token.is_empty() {
        return Ok(());
    }
    let signature = match header(headers, "X-Hub-Signature-256") {
        "" => header(headers, "X-Hub-Signature"),
        signature => signature,
    };
    if signature.is_empty() {
        return Err("missing signature".to_owned());
    }
    verify_signature(signature, body, token.as_bytes())
}

fn constant_time_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn json_object(body: &[u8], sender: &str) -> Result<(), String> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(format!("cannot decode {sender} webhook payload")),
    }
}

/// Verifies a request for a Receiver of `type_` with `token` and `events`.
pub fn validate(
    type_: ReceiverType,
    events: &[String],
    token: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verdict, String> {
    match type_ {
        ReceiverType::Generic => Ok(Verdict::Reconcile),
        ReceiverType::GenericHmac => {
            verify_signature(header(headers, "X-Signature"), body, token.as_bytes())
                .map_err(|e| format!("unable to validate HMAC signature: {e}"))?;
            Ok(Verdict::Reconcile)
        }
        ReceiverType::Github => {
            verify_github_signature(headers, body, token)
                .map_err(|e| format!("the GitHub signature header is invalid, err: {e}"))?;
            let event = header(headers, "X-GitHub-Event");
            if event == "ping" {
                return Ok(Verdict::Ping);
            }
            allowed(event, events, "GitHub")?;
            Ok(Verdict::Reconcile)
        }
        ReceiverType::Gitlab => {
            if !constant_time_equal(header(headers, "X-Gitlab-Token"), token) {
                return Err(
                    "the X-Gitlab-Token header value does not match the receiver token".to_owned(),
                );
            }
            allowed(header(headers, "X-Gitlab-Event"), events, "GitLab")?;
            Ok(Verdict::Reconcile)
        }
        ReceiverType::Bitbucket => {
            verify_github_signature(headers, body, token).map_err(|e| {
                format!("the Bitbucket server signature header is invalid, err: {e}")
            })?;
            allowed(header(headers, "X-Event-Key"), events, "Bitbucket server")?;
            Ok(Verdict::Reconcile)
        }
        ReceiverType::Harbor => {
            if !constant_time_equal(header(headers, "Authorization"), token) {
                return Err(
                    "the Harbor Authorization header value does not match the receiver token"
                        .to_owned(),
                );
            }
            Ok(Verdict::Reconcile)
        }
        ReceiverType::Dockerhub => json_object(body, "DockerHub").map(|()| Verdict::Reconcile),
        ReceiverType::Quay => json_object(body, "Quay").map(|()| Verdict::Reconcile),
        ReceiverType::Acr => json_object(body, "ACR").map(|()| Verdict::Reconcile),
        ReceiverType::Nexus => {
            let signature = header(headers, "X-Nexus-Webhook-Signature");
            if signature.is_empty() {
                return Err("the Nexus signature is missing from header".to_owned());
            }
            if !verify_mac::<Hmac<Sha1>>(token.as_bytes(), body, signature) {
                return Err("invalid Nexus signature".to_owned());
            }
            json_object(body, "Nexus").map(|()| Verdict::Reconcile)
        }
        ReceiverType::Cdevents => {
            let event: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| format!("unable to validate CDEvent event: {e}"))?;
            if !event
                .get("context")
                .is_some_and(serde_json::Value::is_object)
            {
                return Err("unable to validate CDEvent event: missing context".to_owned());
            }
            allowed(header(headers, "Ce-Type"), events, "CDEvent")?;
            Ok(Verdict::Reconcile)
        }
        ReceiverType::Gcr | ReceiverType::GenericOidc => Err(format!(
            "receiver type {type_:?} is verified with OIDC tokens (receiver::oidc)"
        )),
    }
}

#[cfg(test)]
mod tests;
