//! `format` assertions (drafts 4 to 7 only, as in the library), with its reasons.

use super::error::quote;

/// Checks `text` against `format`; `None` when the format is not one the library knows
/// (unknown formats always pass).
pub fn check(format: &str, text: &str) -> Option<Result<(), String>> {
    let result = match format {
        "email" => email(text),
        "hostname" => hostname(text),
        "ipv4" => ipv4(text),
        "ipv6" => ipv6(text),
        "uuid" => uuid(text),
        "duration" => duration(text),
        "date" => date(text),
        "time" => time(text),
        "date-time" => date_time(text),
        "json-pointer" => json_pointer(text),
        "relative-json-pointer" => relative_json_pointer(text),
        "semver" => semver(text),
        "regex" => super::goregex::regex_error(text).map_or(Ok(()), Err),
        "uri" | "iri" => uri(text),
        "uri-reference" | "iri-reference" => {
            if text.contains('\\') {
                Err(r"contains \".to_owned())
            } else {
                Ok(())
            }
        }
        _ => return None,
    };
    Some(result)
}

/// Go's `%q` of a rune.
fn rune(c: char) -> String {
    match c {
        '\'' => r"'\''".to_owned(),
        '\\' => r"'\\'".to_owned(),
        '\n' => r"'\n'".to_owned(),
        '\t' => r"'\t'".to_owned(),
        c if c.is_control() => format!("'\\x{:02x}'", u32::from(c)),
        c => format!("'{c}'"),
    }
}

fn json_pointer(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let Some(rest) = s.strip_prefix('/') else {
        return Err("not starting with /".to_owned());
    };
    for token in rest.split('/') {
        let mut chars = token.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err("~ must be followed by 0 or 1".to_owned());
            }
        }
    }
    Ok(())
}

fn relative_json_pointer(s: &str) -> Result<(), String> {
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return Err("must start with non-negative integer".to_owned());
    }
    if digits > 1 && s.starts_with('0') {
        return Err("starts with zero".to_owned());
    }
    let rest = &s[digits..];
    if rest == "#" {
        return Ok(());
    }
    json_pointer(rest)
}

fn uuid(s: &str) -> Result<(), String> {
    let groups: Vec<&str> = s.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    if groups.len() != lengths.len() {
        return Err("must have 5 elements".to_owned());
    }
    for (i, (group, want)) in groups.iter().zip(lengths).enumerate() {
        if group.len() != want {
            return Err(format!("element {} must be {want} characters long", i + 1));
        }
        if let Some(c) = group.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(format!("non-hex character {}", rune(c)));
        }
    }
    Ok(())
}

fn duration_units(s: &str) -> Result<(), String> {
    let all = ["YMD", "HMS"];
    for (i, part) in s.split('T').enumerate() {
        if i != 0 && part.is_empty() {
            return Err("no time elements".to_owned());
        }
        let Some(mut units) = all.get(i).copied() else {
            return Err("more than one T".to_owned());
        };
        let mut rest = part;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err("missing number".to_owned());
            }
            rest = &rest[digits..];
            let Some(unit) = rest.chars().next() else {
                return Err("missing unit".to_owned());
            };
            match units.find(unit) {
                Some(j) => units = &units[j + 1..],
                None if all[i].contains(unit) => {
                    return Err(format!("unit {} out of order", rune(unit)));
                }
                None => return Err(format!("invalid unit {}", rune(unit))),
            }
            rest = &rest[unit.len_utf8()..];
        }
    }
    Ok(())
}

fn duration(s: &str) -> Result<(), String> {
    let Some(s) = s.strip_prefix('P') else {
        return Err("must start with P".to_owned());
    };
    if s.is_empty() {
        return Err("nothing after P".to_owned());
    }
    if let Some(weeks) = s.strip_suffix('W') {
        if weeks.is_empty() {
            return Err("no number in week".to_owned());
        }
        if !weeks.bytes().all(|b| b.is_ascii_digit()) {
            return Err("invalid week".to_owned());
        }
        return Ok(());
    }
    duration_units(s)
}

fn ipv4(s: &str) -> Result<(), String> {
    let groups: Vec<&str> = s.split('.').collect();
    if groups.len() != 4 {
        return Err("expected four decimals".to_owned());
    }
    for group in groups {
        if group.len() > 1 && group.starts_with('0') {
            return Err("leading zeros".to_owned());
        }
        let n: i64 = group
            .parse()
            .map_err(|_| format!("strconv.Atoi: parsing {}: invalid syntax", go_quote(group)))?;
        if !(0..=255).contains(&n) {
            return Err("decimal must be between 0 and 255".to_owned());
        }
    }
    Ok(())
}

fn go_quote(s: &str) -> String {
    let quoted = quote(s);
    format!("\"{}\"", &quoted[1..quoted.len() - 1].replace("\\'", "'"))
}

fn ipv6(s: &str) -> Result<(), String> {
    if !s.contains(':') {
        return Err("missing colon".to_owned());
    }
    if s.contains('%') {
        return Err("zone id is not a part of ipv6 address".to_owned());
    }
    s.parse::<std::net::Ipv6Addr>()
        .map(|_| ())
        .map_err(|_| format!("ParseAddr({}): unable to parse IP", go_quote(s)))
}

fn hostname(s: &str) -> Result<(), String> {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.len() > 253 {
        return Err("more than 253 characters long".to_owned());
    }
    for label in s.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("label must be 1 to 63 characters long".to_owned());
        }
        if label.starts_with('-') {
            return Err("label starts with hyphen".to_owned());
        }
        if label.ends_with('-') {
            return Err("label ends with hyphen".to_owned());
        }
        if let Some(c) = label
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
        {
            return Err(format!("invalid character {}", rune(c)));
        }
    }
    Ok(())
}

fn email_local(local: &str) -> Result<(), String> {
    if local.len() > 1 && local.starts_with('"') {
        let inner = local.get(1..local.len() - 1).unwrap_or(local);
        if inner.contains(['\\', '"']) {
            return Err("backslash and quote are not allowed within quoted local part".to_owned());
        }
        return Ok(());
    }
    if local.starts_with('.') {
        return Err("starts with dot".to_owned());
    }
    if local.ends_with('.') {
        return Err("ends with dot".to_owned());
    }
    if local.contains("..") {
        return Err("consecutive dots".to_owned());
    }
    if let Some(c) = local
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !".!#$%&'*+-/=?^_`{|}~".contains(*c))
    {
        return Err(format!("invalid character {}", rune(c)));
    }
    Ok(())
}

fn email(s: &str) -> Result<(), String> {
    if s.len() > 254 {
        return Err("more than 255 characters long".to_owned());
    }
    let Some(at) = s.rfind('@') else {
        return Err("missing @".to_owned());
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.len() > 64 {
        return Err("local part more than 64 characters long".to_owned());
    }
    email_local(local)?;
    if let Some(inner) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        if let Some(v6) = inner.strip_prefix("IPv6:") {
            return ipv6(v6).map_err(|e| format!("invalid ipv6 address: {e}"));
        }
        return ipv4(inner).map_err(|e| format!("invalid ipv4 address: {e}"));
    }
    hostname(domain).map_err(|e| format!("invalid domain: {e}"))
}

/// Go's `time.Parse("2006-01-02", s)`.
fn date(s: &str) -> Result<(), String> {
    let prefix = format!(
        "parsing time {} as \"2006-01-02\": cannot parse ",
        go_quote(s)
    );
    let cannot = |rest: &str, element: &str| format!("{prefix}{} as \"{element}\"", go_quote(rest));
    let bytes = s.as_bytes();
    let digits_at = |from: usize, count: usize| {
        bytes.len() >= from + count && bytes[from..from + count].iter().all(u8::is_ascii_digit)
    };
    if !digits_at(0, 4) {
        return Err(cannot(s, "2006"));
    }
    for (dash, field, element) in [(4, 5, "01"), (7, 8, "02")] {
        if bytes.get(dash) != Some(&b'-') {
            return Err(cannot(&s[dash.min(s.len())..], "-"));
        }
        if !digits_at(field, 2) {
            return Err(cannot(&s[field.min(s.len())..], element));
        }
    }
    let range = |what: &str| format!("parsing time {}: {what} out of range", go_quote(s));
    let year: u32 = s[0..4].parse().unwrap_or(0);
    let month: u32 = s[5..7].parse().unwrap_or(0);
    let day: u32 = s[8..10].parse().unwrap_or(0);
    if !(1..=12).contains(&month) {
        return Err(range("month"));
    }
    if s.len() > 10 {
        return Err(format!(
            "parsing time {}: extra text: {}",
            go_quote(s),
            go_quote(&s[10..])
        ));
    }
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days {
        return Err(range("day"));
    }
    Ok(())
}

fn time_offset(rest: &str) -> Result<i64, String> {
    if rest.len() != 6 {
        return Err("offset must be 6 characters long".to_owned());
    }
    let sign = match rest.as_bytes()[0] {
        b'+' => -1,
        b'-' => 1,
        _ => return Err("offset must begin with plus/minus".to_owned()),
    };
    let rest = &rest[1..];
    if rest.as_bytes()[2] != b':' {
        return Err("missing colon in offset in correct place".to_owned());
    }
    let parse = |t: Option<&str>| {
        t.and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| "invalid hour/min in offset".to_owned())
    };
    let (hours, minutes) = (parse(rest.get(..2))?, parse(rest.get(3..))?);
    if hours < 0 || minutes < 0 {
        return Err("non-positive hour/min in offset".to_owned());
    }
    if hours > 23 || minutes > 59 {
        return Err("hour/min in offset out of range".to_owned());
    }
    Ok(sign * (hours * 60 + minutes))
}

fn time(s: &str) -> Result<(), String> {
    if s.len() < 9 {
        return Err("less than 9 characters long".to_owned());
    }
    let bytes = s.as_bytes();
    if bytes[2] != b':' || bytes[5] != b':' || !s.is_char_boundary(8) {
        return Err("missing colon in correct place".to_owned());
    }
    let mut hms = [0i64; 3];
    for (slot, token) in hms.iter_mut().zip(s[..8].splitn(3, ':')) {
        *slot = token
            .parse()
            .map_err(|_| "invalid hour/min/sec".to_owned())?;
        if *slot < 0 {
            return Err("non-positive hour/min/sec".to_owned());
        }
    }
    let [mut h, mut m, sec] = hms;
    if h > 23 || m > 59 || sec > 60 {
        return Err("hour/min/sec out of range".to_owned());
    }
    let mut rest = &s[8..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("no digits in second fraction".to_owned());
        }
        rest = &fraction[digits..];
    }
    if rest != "z" && rest != "Z" {
        let shift = time_offset(rest)?;
        let mut minutes = h * 60 + m + shift;
        if minutes < 0 {
            minutes += 24 * 60;
        }
        (h, m) = (minutes / 60, minutes % 60);
    }
    if sec >= 60 && (h != 23 || m != 59) {
        return Err("invalid leap second".to_owned());
    }
    Ok(())
}

fn date_time(s: &str) -> Result<(), String> {
    if s.len() < 20 {
        return Err("less than 20 characters long".to_owned());
    }
    if !matches!(s.as_bytes()[10], b't' | b'T') || !s.is_char_boundary(11) {
        return Err("11th character must be t or T".to_owned());
    }
    date(&s[..10]).map_err(|e| format!("invalid date element: {e}"))?;
    time(&s[11..]).map_err(|e| format!("invalid time element: {e}"))
}

fn semver_identifiers(part: &str, what: &str) -> Result<(), String> {
    for id in part.split('.') {
        if id.is_empty() {
            return Err(format!("{what} identifier is empty"));
        }
        if let Some(c) = id.chars().find(|c| !c.is_ascii_alphanumeric() && *c != '-') {
            return Err(format!(
                "invalid character {} in {what} identifier",
                rune(c)
            ));
        }
        if what == "pre-release"
            && id.bytes().all(|b| b.is_ascii_digit())
            && id.len() > 1
            && id.starts_with('0')
        {
            return Err("pre-release numeric identifier starts with zero".to_owned());
        }
    }
    Ok(())
}

fn semver(s: &str) -> Result<(), String> {
    let mut s = s;
    if let Some(i) = s.find('+') {
        if s[i + 1..].is_empty() {
            return Err("build is empty".to_owned());
        }
        semver_identifiers(&s[i + 1..], "build")?;
        s = &s[..i];
    }
    if let Some(i) = s.find('-') {
        semver_identifiers(&s[i + 1..], "pre-release")?;
        s = &s[..i];
    }
    let versions: Vec<&str> = s.split('.').collect();
    if versions.len() != 3 {
        return Err("versionCore must have 3 numbers separated by dot".to_owned());
    }
    for (version, name) in versions.iter().zip(["major", "minor", "patch"]) {
        if version.is_empty() {
            return Err(format!("{name} is empty"));
        }
        if version.len() > 1 && version.starts_with('0') {
            return Err(format!("{name} starts with zero"));
        }
        if !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{name} contains non-digit"));
        }
    }
    Ok(())
}

/// An absolute URL has a scheme: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`.
fn uri(s: &str) -> Result<(), String> {
    let scheme_end = s.find(':');
    let valid_scheme = scheme_end.is_some_and(|end| {
        let scheme = &s[..end];
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if valid_scheme {
        Ok(())
    } else if scheme_end == Some(0) {
        Err(format!("parse {}: missing protocol scheme", go_quote(s)))
    } else {
        Err("relative url".to_owned())
    }
}
