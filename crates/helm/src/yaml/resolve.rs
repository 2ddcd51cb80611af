//! go-yaml v2's implicit typing of plain scalars (YAML 1.1 flavoured).

/// What a plain scalar means.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A timestamp, already in Go's `time.Time` JSON form (RFC 3339 with nanoseconds).
    Timestamp(String),
    Str,
    Merge,
}

/// go-yaml v2's float syntax, `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`,
/// matched by hand (compiling the regex cost more than a whole small chart's parse).
fn is_yaml_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |at: &mut usize| {
        let start = *at;
        while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at - start
    };
    let mut at = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        if digits(&mut at) == 0 {
            return false;
        }
    } else {
        if digits(&mut at) == 0 {
            return false;
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            digits(&mut at);
        }
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        if digits(&mut at) == 0 {
            return false;
        }
    }
    at == bytes.len()
}

/// Resolves a plain scalar as go-yaml v2 does with an empty tag.
pub fn resolve(text: &str) -> Resolved {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        "<<" => return Resolved::Merge,
        _ => {}
    }
    let first = text.as_bytes()[0];
    match first {
        b'.' => text
            .parse::<f64>()
            .ok()
            .filter(|_| go_float_syntax(text))
            .map_or(Resolved::Str, Resolved::Float),
        b'+' | b'-' | b'0'..=b'9' => resolve_number(text),
        _ => Resolved::Str,
    }
}

/// Go's `ParseFloat` accepts a few spellings Rust's does not and vice versa; the
/// ones that matter here are letters (`inf`, `nan`), which Go only takes in full words.
fn go_float_syntax(text: &str) -> bool {
    !text
        .bytes()
        .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
}

fn resolve_number(text: &str) -> Resolved {
    if let Some(timestamp) = parse_timestamp(text) {
        return Resolved::Timestamp(timestamp);
    }
    let plain = text.replace('_', "");
    if let Some(i) = go_parse_int(&plain) {
        return Resolved::Int(i);
    }
    if let Some(u) = go_parse_uint(&plain) {
        return Resolved::Uint(u);
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Resolved::Float(f);
    }
    if let Some(bits) = plain.strip_prefix("0b") {
        if let Ok(i) = i64::from_str_radix(bits, 2) {
            return Resolved::Int(i);
        }
        if let Ok(u) = u64::from_str_radix(bits, 2) {
            return Resolved::Uint(u);
        }
    } else if let Some(bits) = plain.strip_prefix("-0b")
        && let Ok(i) = i64::from_str_radix(&format!("-{bits}"), 2)
    {
        return Resolved::Int(i);
    }
    Resolved::Str
}

/// `strconv.ParseInt(s, 0, 64)`: sign, then `0x`, `0o`, `0b`, a leading `0` for octal.
fn go_parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = go_parse_magnitude(digits)?;
    if negative {
        if magnitude == 1u64 << 63 {
            return Some(i64::MIN);
        }
        i64::try_from(magnitude).ok().map(|m| -m)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseUint(s, 0, 64)`.
fn go_parse_uint(text: &str) -> Option<u64> {
    go_parse_magnitude(text)
}

fn go_parse_magnitude(digits: &str) -> Option<u64> {
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(rest) = lower.strip_prefix("0x") {
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
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(body, radix).ok()
}

/// go-yaml v2 reads `YYYY-M-D`, `YYYY-M-DTh:m:s[.frac]Z07:00` and `YYYY-M-D h:m:s[.frac]`.
fn parse_timestamp(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.len() < 5 || !bytes[..=3].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], Some((&text[at..=at], &text[at + 1..]))),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u32 = short_field(parts.next()?)?;
    let day: u32 = short_field(parts.next()?)?;
    if parts.next().is_some()
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in(year, month)
    {
        return None;
    }
    let date_text = format!("{year:04}-{month:02}-{day:02}");
    let Some((separator, time)) = time else {
        return Some(format!("{date_text}T00:00:00Z"));
    };
    let (clock, zone) = if separator == " " {
        (time, "Z")
    } else if let Some(clock) = time.strip_suffix('Z') {
        (clock, "Z")
    } else {
        let at = time.rfind(['+', '-'])?;
        (&time[..at], &time[at..])
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, fraction))
            if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (hms, fraction.trim_end_matches('0'))
        }
        Some(_) => return None,
        None => (clock, ""),
    };
    let mut fields = hms.split(':');
    let hour = short_field(fields.next()?)?;
    let minute = short_field(fields.next()?)?;
    let second = short_field(fields.next()?)?;
    if fields.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let fraction = if fraction.is_empty() {
        String::new()
    } else {
        format!(".{fraction}")
    };
    let zone = if zone == "Z" || zone == "+00:00" {
        "Z"
    } else {
        zone
    };
    Some(format!(
        "{date_text}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"
    ))
}

fn short_field(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::is_yaml_float;

    /// Agrees with go-yaml's float regex on every short string over its alphabet.
    #[test]
    fn float_syntax_agrees_with_the_regex() {
        let float = regex::Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
            .expect("valid regex");
        let parts = ["1", "0", ".", "e", "E", "+", "-", "x"];
        let mut stack = vec![String::new()];
        while let Some(text) = stack.pop() {
            assert_eq!(is_yaml_float(&text), float.is_match(&text), "{text:?}");
            if text.len() < 6 {
                stack.extend(parts.iter().map(|p| format!("{text}{p}")));
            }
        }
    }
}
