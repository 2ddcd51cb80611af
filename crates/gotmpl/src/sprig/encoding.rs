//! Encodings and digests: base64/base32, SHA sums, Adler-32, JSON, URLs.

use std::collections::BTreeMap;

use base64::Engine as _;
use sha1::Digest as _;

use super::json::{JsonStyle, marshal};
use super::{FnResult, Registry, arg_str, strval};
use crate::function::{Arity, FuncError, ParamType as P};
use crate::value::{ElemType, Value};

pub(crate) fn register(r: &mut Registry) {
    r.typed("b64enc", &[P::String], None, move |a| {
        Ok(Value::from(
            base64::engine::general_purpose::STANDARD.encode(arg_str(a, 0)),
        ))
    });
    r.typed("b64dec", &[P::String], None, move |a| {
        Ok(Value::from(
            match base64::engine::general_purpose::STANDARD.decode(arg_str(a, 0)) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(error) => go_base64_error(&error),
            },
        ))
    });
    r.typed("b32enc", &[P::String], None, |a| {
        Ok(Value::from(base32_encode(arg_str(a, 0).as_bytes())))
    });
    r.typed("b32dec", &[P::String], None, |a| {
        Ok(Value::from(match base32_decode(arg_str(a, 0)) {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => "illegal base32 data".to_owned(),
        }))
    });
    r.typed("sha1sum", &[P::String], None, |a| {
        Ok(Value::from(hex::encode(sha1::Sha1::digest(
            arg_str(a, 0).as_bytes(),
        ))))
    });
    r.typed("sha256sum", &[P::String], None, |a| {
        Ok(Value::from(hex::encode(sha2::Sha256::digest(
            arg_str(a, 0).as_bytes(),
        ))))
    });
    r.typed("sha512sum", &[P::String], None, |a| {
        Ok(Value::from(hex::encode(sha2::Sha512::digest(
            arg_str(a, 0).as_bytes(),
        ))))
    });
    r.typed("adler32sum", &[P::String], None, |a| {
        Ok(Value::from(adler32(arg_str(a, 0).as_bytes()).to_string()))
    });
    register_json(r);
    r.typed("urlParse", &[P::String], None, |a| url_parse(arg_str(a, 0)));
    r.any("urlJoin", Arity::Exact(1), url_join);
}

fn register_json(r: &mut Registry) {
    let compact = JsonStyle {
        escape_html: true,
        indent: None,
    };
    let pretty = JsonStyle {
        escape_html: true,
        indent: Some("  "),
    };
    let raw = JsonStyle {
        escape_html: false,
        indent: None,
    };
    for (name, style, must) in [
        ("toJson", compact, false),
        ("mustToJson", compact, true),
        ("toPrettyJson", pretty, false),
        ("mustToPrettyJson", pretty, true),
        ("toRawJson", raw, false),
        ("mustToRawJson", raw, true),
    ] {
        r.any(name, Arity::Exact(1), move |a| {
            match marshal(&a[0], style) {
                Ok(text) => Ok(Value::from(text)),
                Err(error) if must => Err(error),
                Err(_) => Ok(Value::from("")),
            }
        });
    }
    r.typed("fromJson", &[P::String], None, |a| {
        Ok(from_json(arg_str(a, 0)).unwrap_or_default())
    });
    r.typed("mustFromJson", &[P::String], None, |a| {
        from_json(arg_str(a, 0))
    });
}

fn from_json(text: &str) -> FnResult {
    serde_json::from_str::<serde_json::Value>(text)
        .map(Value::from)
        .map_err(|error| FuncError::new(error.to_string()))
}

fn go_base64_error(error: &base64::DecodeError) -> String {
    let offset = match error {
        base64::DecodeError::InvalidByte(offset, _)
        | base64::DecodeError::InvalidLastSymbol(offset, _) => *offset,
        _ => 0,
    };
    format!("illegal base64 data at input byte {offset}")
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buffer = [0u8; 5];
        buffer[..chunk.len()].copy_from_slice(chunk);
        let bits = buffer
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let symbols = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < symbols {
                let index = usize::try_from((bits >> (35 - i * 5)) & 31).unwrap_or(0);
                out.push(char::from(BASE32[index]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in trimmed.bytes() {
        let value = BASE32.iter().position(|&b| b == c)?;
        bits = (bits << 5) | u64::try_from(value).ok()?;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).ok()?);
        }
    }
    Some(out)
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in bytes {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "registered as a fallible template function"
)]
fn url_parse(text: &str) -> FnResult {
    let mut entries = BTreeMap::new();
    let (rest, fragment) = text.split_once('#').unwrap_or((text, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (scheme, rest) = match rest.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => ("", rest),
    };
    let (authority, path) = if scheme.is_empty() {
        ("", rest)
    } else {
        rest.find('/')
            .map_or((rest, ""), |at| (&rest[..at], &rest[at..]))
    };
    let (userinfo, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    for (key, value) in [
        ("scheme", scheme),
        ("host", host),
        ("hostname", host.rsplit_once(':').map_or(host, |(h, _)| h)),
        ("path", path),
        ("query", query),
        ("opaque", ""),
        ("fragment", fragment),
        ("userinfo", userinfo),
    ] {
        entries.insert(key.to_owned(), Value::from(value));
    }
    Ok(Value::map(entries))
}

fn url_join(a: &[Value]) -> FnResult {
    let Value::Map(map) = &a[0] else {
        return Err(FuncError::new("urlJoin expects a dict"));
    };
    let part = |k: &str| map.get(k).map(|v| strval(&v)).unwrap_or_default();
    let mut out = String::new();
    if !part("scheme").is_empty() {
        out.push_str(&part("scheme"));
        out.push_str("://");
    }
    if !part("userinfo").is_empty() {
        out.push_str(&part("userinfo"));
        out.push('@');
    }
    out.push_str(&part("host"));
    out.push_str(&part("path"));
    if !part("query").is_empty() {
        out.push('?');
        out.push_str(&part("query"));
    }
    if !part("fragment").is_empty() {
        out.push('#');
        out.push_str(&part("fragment"));
    }
    let _ = ElemType::String;
    Ok(Value::from(out))
}
