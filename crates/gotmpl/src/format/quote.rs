//! Go's `strconv` quoting (`Quote`, `QuoteToASCII`, `QuoteRune`, `CanBackquote`), used by
//! `%q` and by `%#v` of strings.

use std::fmt::Write as _;

/// Approximates Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space. Rust has no general-category table, so the non-printing ranges that
/// matter in practice (controls, format characters, odd spaces, private use) are listed.
pub fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0xFFFE | 0xFFFF | 0xE000..=0xF8FF | 0xF0000..)
}

/// `strconv.Quote` (ascii_only = false) and `strconv.QuoteToASCII` (true).
pub fn quote(s: &str, ascii_only: bool) -> String {
    quote_with(s, '"', ascii_only)
}

/// `strconv.QuoteRune` / `QuoteRuneToASCII`.
pub fn quote_rune(c: char, ascii_only: bool) -> String {
    quote_with(c.encode_utf8(&mut [0; 4]), '\'', ascii_only)
}

fn quote_with(s: &str, delimiter: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(delimiter);
    for c in s.chars() {
        append_escaped(&mut out, c, delimiter, ascii_only);
    }
    out.push(delimiter);
    out
}

fn append_escaped(out: &mut String, c: char, delimiter: char, ascii_only: bool) {
    if c == delimiter || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii_only {
        if c.is_ascii() && is_print(c) {
            out.push(c);
            return;
        }
    } else if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Quotes raw bytes that may not be UTF-8: invalid bytes become `\x..` like Go does.
pub fn quote_bytes(bytes: &[u8], ascii_only: bool) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        quote(s, ascii_only)
    } else {
        {
            let mut out = String::from("\"");
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    append_escaped(&mut out, c, '"', ascii_only);
                }
                for b in chunk.invalid() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            out.push('"');
            out
        }
    }
}

/// `strconv.CanBackquote`: no backquote, no control characters other than tab, no U+FEFF.
pub fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !(c < ' ' || c == '\x7f')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_strconv() {
        assert_eq!(quote("a\"b\n\u{1}é", false), "\"a\\\"b\\n\\x01é\"");
        assert_eq!(quote("é☺", true), "\"\\u00e9\\u263a\"");
        assert_eq!(quote_rune('\'', false), "'\\''");
        assert!(can_backquote("a b\tc"));
        assert!(!can_backquote("a`b"));
    }
}
