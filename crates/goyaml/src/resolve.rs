//! Plain-scalar resolution, as the two YAML libraries inside kustomize do it.
//!
//! kustomize reads files with go-yaml v3 (YAML 1.2 core schema plus a few YAML 1.1
//! leftovers such as `0777` octals and `_` digit separators) and, at output time,
//! round-trips every resource through JSON and go-yaml v2 (YAML 1.1). Both resolvers
//! live here because the quoting decisions of the emitter depend on the second one.

use serde_json::{Number, Value};

/// What a plain scalar means to go-yaml v3 when decoded into a generic value.
pub fn resolve_plain_v3(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let Some(first) = text.chars().next() else {
        return Value::Null;
    };
    if first.is_ascii_digit() || first == '+' || first == '-' || first == '.' {
        if let Some(stamp) = parse_timestamp(text) {
            return Value::String(stamp.to_rfc3339());
        }
        if let Some(number) = parse_number(text) {
            return Value::Number(number);
        }
    }
    Value::String(text.to_owned())
}

/// What a plain scalar means to go-yaml v2 (YAML 1.1 booleans, no base-60 numbers).
pub fn resolve_plain_v2(text: &str) -> Value {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Value::Bool(false),
        _ => resolve_plain_v3(text),
    }
}

/// Parses ints (decimal, 0x, 0o, 0b, legacy leading-zero octal, `_` separators) and
/// YAML-style floats the way go-yaml resolves them.
pub fn parse_number(text: &str) -> Option<Number> {
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(number) = parse_go_int(&plain) {
        return Some(number);
    }
    if is_yaml_style_float(&plain) {
        let value: f64 = plain.parse().ok()?;
        return Number::from_f64(value);
    }
    None
}

/// Go's `strconv.ParseInt(s, 0, 64)` followed by `ParseUint`.
fn parse_go_int(text: &str) -> Option<Number> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if negative {
        let value = i64::try_from(magnitude)
            .ok()
            .map(|v| -v)
            .or_else(|| (magnitude == 1u128 << 63).then_some(i64::MIN))?;
        Some(Number::from(value))
    } else if let Ok(value) = i64::try_from(magnitude) {
        Some(Number::from(value))
    } else {
        u64::try_from(magnitude).ok().map(Number::from)
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    let digits_at = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    if bytes.get(index) == Some(&b'.') {
        let count = digits_at(index + 1);
        if count == 0 {
            return false;
        }
        index += 1 + count;
    } else {
        let count = digits_at(index);
        if count == 0 {
            return false;
        }
        index += count;
        if bytes.get(index) == Some(&b'.') {
            index += 1 + digits_at(index + 1);
        }
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'-' | b'+')) {
            index += 1;
        }
        let count = digits_at(index);
        if count == 0 {
            return false;
        }
        index += count;
    }
    index == bytes.len()
}

/// A calendar timestamp in one of the forms go-yaml accepts.
pub struct Timestamp {
    date: (i64, u32, u32),
    time: Option<(u32, u32, u32, String)>,
    zone: Option<String>,
}

impl Timestamp {
    /// Go's `time.Time` JSON form (RFC 3339 with nanoseconds trimmed).
    pub fn to_rfc3339(&self) -> String {
        let (year, month, day) = self.date;
        let (hour, minute, second, fraction) =
            self.time.clone().unwrap_or((0, 0, 0, String::new()));
        let fraction = fraction.trim_end_matches('0');
        let fraction = if fraction.is_empty() {
            String::new()
        } else {
            format!(".{fraction}")
        };
        let zone = match self.zone.as_deref() {
            None | Some("Z" | "z" | "+00:00") => "Z".to_owned(),
            Some(other) => other.to_owned(),
        };
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}")
    }
}

/// Recognises `2006-1-2`, `2006-1-2T15:4:5.999Z07:00` (T or t) and `2006-1-2 15:4:5.999`.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    if bytes.len() < 5 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    let (date_part, rest) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], Some((text.as_bytes()[at], &text[at + 1..]))),
        None => (text, None),
    };
    let mut fields = date_part.split('-');
    let year: i64 = fields.next()?.parse().ok()?;
    let month = small_number(fields.next()?)?;
    let day = small_number(fields.next()?)?;
    if fields.next().is_some()
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in(year, month)
    {
        return None;
    }
    let Some((separator, rest)) = rest else {
        return Some(Timestamp {
            date: (year, month, day),
            time: None,
            zone: None,
        });
    };
    let zone_at = rest.find(['Z', 'z', '+', '-']);
    let (clock, zone) = match zone_at {
        Some(at) => (&rest[..at], Some(&rest[at..])),
        None => (rest, None),
    };
    if separator == b' ' && zone.is_some() || separator != b' ' && zone.is_none() {
        return None;
    }
    if let Some(zone) = zone
        && !(zone == "Z" || is_offset(zone))
    {
        return None;
    }
    let (clock, fraction) = match clock.split_once('.') {
        Some((clock, fraction))
            if !fraction.is_empty()
                && fraction.len() <= 9
                && fraction.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (clock, fraction.to_owned())
        }
        Some(_) => return None,
        None => (clock, String::new()),
    };
    let mut parts = clock.split(':');
    let hour = small_number(parts.next()?)?;
    let minute = small_number(parts.next()?)?;
    let second = small_number(parts.next()?)?;
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(Timestamp {
        date: (year, month, day),
        time: Some((hour, minute, second, fraction)),
        zone: zone.map(str::to_owned),
    })
}

fn small_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_offset(zone: &str) -> bool {
    let bytes = zone.as_bytes();
    bytes.len() == 6
        && matches!(bytes[0], b'+' | b'-')
        && bytes[1..3].iter().all(u8::is_ascii_digit)
        && bytes[3] == b':'
        && bytes[4..6].iter().all(u8::is_ascii_digit)
}

fn days_in(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Whether go-yaml v2 would read this unquoted text as something other than a string;
/// such strings must be written double-quoted.
pub fn needs_quotes_v2(text: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null",
        "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF",
    ];
    if SPECIAL.contains(&text) {
        return true;
    }
    let Some(first) = text.chars().next() else {
        return true;
    };
    if first.is_ascii_digit() || first == '+' || first == '-' {
        if parse_timestamp(text).is_some() || parse_number(text).is_some() {
            return true;
        }
        let plain: String = text.chars().filter(|c| *c != '_').collect();
        for (prefix, radix) in [("0b", 2), ("-0b", 2)] {
            if let Some(rest) = plain.strip_prefix(prefix)
                && !rest.is_empty()
                && rest.chars().all(|c| c.is_digit(radix))
            {
                return true;
            }
        }
    } else if first == '.' && text[1..].parse::<f64>().is_ok() && go_parse_float(text) {
        return true;
    }
    is_base60_float(text)
}

/// Go's `strconv.ParseFloat` accepts a little more than the YAML regex; for a leading dot
/// only digits and an exponent can follow.
fn go_parse_float(text: &str) -> bool {
    is_yaml_style_float(text)
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (main, fraction) = match body.split_once('.') {
        Some((main, fraction)) => (main, Some(fraction)),
        None => (body, None),
    };
    if let Some(fraction) = fraction
        && !fraction.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let mut groups = main.split(':');
    let Some(head) = groups.next() else {
        return false;
    };
    let head_ok = head.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && head.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let mut count = 0;
    for group in groups {
        count += 1;
        let ok = !group.is_empty()
            && group.len() <= 2
            && group.bytes().all(|b| b.is_ascii_digit())
            && (group.len() == 1 || group.as_bytes()[0] <= b'5');
        if !ok {
            return false;
        }
    }
    head_ok && count > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_resolution_matches_go_yaml() {
        assert_eq!(resolve_plain_v3("010"), Value::from(8));
        assert_eq!(resolve_plain_v3("0x1F"), Value::from(31));
        assert_eq!(resolve_plain_v3("1_000"), Value::from(1000));
        assert_eq!(resolve_plain_v3("yes"), Value::from("yes"));
        assert_eq!(
            resolve_plain_v3("2021-01-01"),
            Value::from("2021-01-01T00:00:00Z")
        );
        assert_eq!(resolve_plain_v3("1.5"), Value::from(1.5));
        assert_eq!(resolve_plain_v3("1.2.3"), Value::from("1.2.3"));
    }

    #[test]
    fn v2_quoting() {
        for quoted in [
            "y",
            "on",
            "12:30",
            "1.",
            ".5",
            "0o10",
            "1_000",
            "0b101",
            "2001-12-14t21:59:43.10-05:00",
        ] {
            assert!(needs_quotes_v2(quoted), "{quoted}");
        }
        for plain in ["tRue", "+", "-", "<<", "=", "1.2.3", "v1"] {
            assert!(!needs_quotes_v2(plain), "{plain}");
        }
    }
}
