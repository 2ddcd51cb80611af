//! Go literal syntax: `strconv.Unquote`, `strconv.UnquoteChar` and the integer and float
//! grammars of `strconv.ParseInt`/`ParseUint`/`ParseFloat` with base 0, which the
//! template parser uses for string, character and number constants.

use crate::ast::Number;

/// Go's `strconv.ErrSyntax` text.
pub const SYNTAX: &str = "invalid syntax";

fn hex_value(c: char) -> Option<u32> {
    c.to_digit(16)
}

/// Decodes one (possibly escaped) character of a quoted literal; returns it and the rest.
pub fn unquote_char(s: &str, quote: char) -> Result<(char, &str), &'static str> {
    let mut chars = s.chars();
    let c = chars.next().ok_or(SYNTAX)?;
    if c == quote && (quote == '\'' || quote == '"') {
        return Err(SYNTAX);
    }
    if c != '\\' {
        return Ok((c, chars.as_str()));
    }
    let escape = chars.next().ok_or(SYNTAX)?;
    let value = match escape {
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        '\\' => '\\',
        '\'' | '"' => {
            if escape != quote {
                return Err(SYNTAX);
            }
            escape
        }
        'x' | 'u' | 'U' => {
            let count = match escape {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let mut code = 0u32;
            for _ in 0..count {
                code = code * 16 + chars.next().and_then(hex_value).ok_or(SYNTAX)?;
            }
            if escape == 'x' {
                // \x gives a byte; in a rune context a byte above 0x7f is that code point.
                char::from_u32(code).ok_or(SYNTAX)?
            } else {
                char::from_u32(code).ok_or(SYNTAX)?
            }
        }
        '0'..='7' => {
            let mut code = escape.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                code = code * 8 + chars.next().and_then(|c| c.to_digit(8)).ok_or(SYNTAX)?;
            }
            if code > 255 {
                return Err(SYNTAX);
            }
            char::from_u32(code).ok_or(SYNTAX)?
        }
        _ => return Err(SYNTAX),
    };
    Ok((value, chars.as_str()))
}

/// `strconv.Unquote` for double-quoted and raw (backquoted) strings.
///
/// Go strings are bytes; `\x80`-style escapes that are not valid UTF-8 are kept as the
/// code point of the same value, a documented divergence.
pub fn unquote(literal: &str) -> Result<String, &'static str> {
    if let Some(body) = literal.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
        if body.contains('`') {
            return Err(SYNTAX);
        }
        // Go drops carriage returns from raw strings.
        return Ok(body.replace('\r', ""));
    }
    let body = literal
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|_| literal.len() >= 2)
        .ok_or(SYNTAX)?;
    if body.contains('\n') {
        return Err(SYNTAX);
    }
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        let (c, tail) = unquote_char(rest, '"')?;
        out.push(c);
        rest = tail;
    }
    Ok(out)
}

/// Go's rule for where `_` may appear in a base-0 number literal.
fn underscore_ok(text: &str) -> bool {
    let s = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    let mut saw = b'^';
    let mut index = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        index = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    while index < s.len() {
        let c = s[index];
        index += 1;
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
            continue;
        }
        if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

/// `strconv.ParseUint(text, 0, 64)`.
fn parse_uint(text: &str) -> Option<u64> {
    if text.is_empty() || text.starts_with(['+', '-']) {
        return None;
    }
    if text.contains('_') && !underscore_ok(text) {
        return None;
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let (digits, radix) = if let Some(rest) = lower.strip_prefix("0x") {
        (rest, 16)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (rest, 8)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (rest, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if digits.is_empty() || digits.starts_with('+') {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `strconv.ParseInt(text, 0, 64)`.
fn parse_int(text: &str) -> Option<i64> {
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let value = parse_uint(magnitude)?;
    if negative {
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
}

/// `strconv.ParseFloat(text, 64)` for the literals the lexer can produce.
fn parse_float(text: &str) -> Option<f64> {
    if text.contains('_') && !underscore_ok(text) {
        return None;
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let (negative, body) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean).to_owned()),
    };
    let lower = body.to_ascii_lowercase();
    let value = if let Some(hex) = lower.strip_prefix("0x") {
        parse_hex_float(hex)?
    } else {
        if !lower.bytes().any(|b| b.is_ascii_digit()) || lower.contains(['x', 'p', 'i', 'n']) {
            return None;
        }
        lower.parse::<f64>().ok()?
    };
    if value.is_infinite() {
        // Go reports out-of-range literals as an error.
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Hexadecimal float `h.hhhp±d` (the exponent is mandatory in Go).
fn parse_hex_float(text: &str) -> Option<f64> {
    let (mantissa, exponent) = text.split_once('p')?;
    let exponent: i32 = exponent.parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in whole.chars() {
        value = value * 16.0 + f64::from(hex_value(c)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in fraction.chars() {
        value += f64::from(hex_value(c)?) * scale;
        scale /= 16.0;
    }
    Some(value * 2f64.powi(exponent))
}

/// Parses a number token as Go's `parse.newNumber` does, with its error messages.
pub fn parse_number(text: &str, is_char: bool) -> Result<Number, String> {
    let mut number = Number {
        text: text.to_owned(),
        ..Number::default()
    };
    if is_char {
        let body = &text[1..];
        let (c, tail) = unquote_char(body, '\'').map_err(str::to_owned)?;
        if tail != "'" {
            return Err(format!("malformed character constant: {text}"));
        }
        number.int = Some(i64::from(u32::from(c)));
        number.uint = Some(u64::from(u32::from(c)));
        number.float = Some(f64::from(u32::from(c)));
        return Ok(number);
    }
    if let Some(imaginary) = text.strip_suffix('i')
        && parse_float(imaginary).is_some()
    {
        number.is_complex = true;
        return Ok(number);
    }
    number.uint = parse_uint(text);
    number.int = parse_int(text);
    if number.int == Some(0) {
        number.uint = Some(0);
    }
    if let Some(int) = number.int {
        #[expect(clippy::cast_precision_loss, reason = "Go converts the same way")]
        let float = int as f64;
        number.float = Some(float);
    } else if let Some(uint) = number.uint {
        #[expect(clippy::cast_precision_loss, reason = "Go converts the same way")]
        let float = uint as f64;
        number.float = Some(float);
    } else if let Some(float) = parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!(
                "integer overflow: {}",
                crate::format::quote(text, false)
            ));
        }
        number.float = Some(float);
        number.int = exact_i64(float);
        number.uint = exact_u64(float);
    }
    if number.int.is_none() && number.uint.is_none() && number.float.is_none() {
        return Err(format!(
            "illegal number syntax: {}",
            crate::format::quote(text, false)
        ));
    }
    Ok(number)
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::float_cmp,
    reason = "exactness is checked"
)]
fn exact_i64(float: f64) -> Option<i64> {
    let int = float as i64;
    (int as f64 == float && float.abs() < 9.3e18).then_some(int)
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::float_cmp,
    reason = "exactness is checked"
)]
fn exact_u64(float: f64) -> Option<u64> {
    let uint = float as u64;
    (float >= 0.0 && uint as f64 == float && float < 1.8e19).then_some(uint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_go_syntax() {
        assert_eq!(parse_number("0x1F", false).unwrap().int, Some(31));
        assert_eq!(parse_number("0o17", false).unwrap().int, Some(15));
        assert_eq!(parse_number("017", false).unwrap().int, Some(15));
        assert_eq!(parse_number("1_000", false).unwrap().int, Some(1000));
        assert_eq!(parse_number("1.5", false).unwrap().float, Some(1.5));
        assert_eq!(parse_number("0x1p4", false).unwrap().float, Some(16.0));
        assert!(parse_number("09", false).is_err());
        assert_eq!(parse_number("'a'", true).unwrap().int, Some(97));
    }

    #[test]
    fn strings_unquote_like_strconv() {
        assert_eq!(unquote(r#""a\tb\u00e9""#).unwrap(), "a\tbé");
        assert_eq!(unquote("`a\\n`").unwrap(), "a\\n");
        assert!(unquote(r#""\'""#).is_err());
    }
}
