//! Go's conversions as Sprig applies them: `strval`, `strslice`, spf13/cast's `ToInt64`
//! and `ToFloat64`, and Sprig's `empty`.

use crate::value::Value;

/// Sprig's `strval`: strings as they are, everything else printed with `%v`.
pub fn strval(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        Value::Slice(s) if s.elem == crate::value::ElemType::Uint8 => {
            let bytes: Vec<u8> = s
                .items
                .iter()
                .map(|v| u8::try_from(v.as_i64().unwrap_or_default()).unwrap_or_default())
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        other => crate::format::sprint(std::slice::from_ref(other)),
    }
}

/// Sprig's `strslice`: a list of strings from any list (nils dropped) or one value.
pub fn strslice(value: &Value) -> Vec<String> {
    match value {
        Value::Slice(s) => s
            .items
            .iter()
            .filter(|v| !v.is_nil() || s.elem != crate::value::ElemType::Interface)
            .map(strval)
            .collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

/// spf13/cast `ToInt64`: numbers truncate, strings parse (`0x`, `0o`, trailing `.0`),
/// bools are 0/1, anything else 0.
pub fn to_int64(value: &Value) -> i64 {
    match value {
        Value::Int(i) | Value::Int64(i) => *i,
        #[expect(
            clippy::cast_possible_wrap,
            reason = "Go converts uint64 to int64 by wrapping"
        )]
        Value::Uint64(u) => *u as i64,
        Value::Uint8(u) => i64::from(*u),
        #[expect(
            clippy::cast_possible_truncation,
            reason = "Go truncates float64 to int64"
        )]
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(&trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// spf13/cast `ToFloat64`.
pub fn to_float64(value: &Value) -> f64 {
    match value {
        #[expect(clippy::cast_precision_loss, reason = "Go converts int64 to float64")]
        Value::Int(i) | Value::Int64(i) => *i as f64,
        #[expect(clippy::cast_precision_loss, reason = "Go converts uint64 to float64")]
        Value::Uint64(u) => *u as f64,
        Value::Uint8(u) => f64::from(*u),
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.parse::<f64>().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn trim_zero_decimal(s: &str) -> String {
    if let Some((whole, fraction)) = s.split_once('.')
        && !whole.is_empty()
        && fraction.bytes().all(|b| b == b'0')
    {
        return whole.to_owned();
    }
    s.to_owned()
}

/// `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let body = body.replace('_', "");
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest.to_owned())
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest.to_owned())
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest.to_owned())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_owned())
    } else {
        (10, lower.clone())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = i128::from(u64::from_str_radix(&digits, radix).ok()?);
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).ok()
}

/// Sprig's `empty`: nil, zero numbers, false, and empty strings, lists and maps.
pub fn empty(value: &Value) -> bool {
    match value {
        Value::Object(_) | Value::Func(_) => false,
        other => !other.is_true(),
    }
}
