//! `generic` and `generic-hmac`: the event JSON as-is, optionally signed.

use ferroflux_runtime::events::FluxEvent;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{Method, OutgoingRequest, PayloadError, ProviderConfig, ResponseCheck, parse_address};

/// The header naming the controller that reported the event.
pub const COMPONENT_HEADER: &str = "Gotk-Component";
/// The header carrying `sha256=<hex HMAC>` of the body for `generic-hmac`.
pub const SIGNATURE_HEADER: &str = "X-Signature";

/// Hex HMAC-SHA256 of `body` with `key`.
pub fn sign(body: &[u8], key: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// POSTs the event; with `hmac`, signs the body with the Secret's token.
pub fn generic(
    event: &FluxEvent,
    config: &ProviderConfig,
    hmac: bool,
) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "generic")?;
    if hmac && config.token.is_empty() {
        return Err(PayloadError::Invalid("HMAC key is empty".to_owned()));
    }
    let body = serde_json::to_vec(event).expect("events always serialize");
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        (
            COMPONENT_HEADER.to_owned(),
            event.reporting_controller.clone(),
        ),
    ];
    headers.extend(config.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
    if hmac {
        headers.push((
            SIGNATURE_HEADER.to_owned(),
            format!("sha256={}", sign(&body, config.token.as_bytes())),
        ));
    }
    Ok(OutgoingRequest {
        method: Method::Post,
        url: url.to_string(),
        headers,
        body,
        check: ResponseCheck::Success,
    })
}
