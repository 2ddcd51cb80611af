//! Go's `%q` formatting, which Masterminds uses to show user input inside error messages.

use std::fmt::Write as _;

/// Quotes `text` the way Go's `strconv.Quote` does for printable text: backslash escapes for
/// quotes, backslashes and control characters, `\xNN` for other ASCII control bytes, `\uNNNN`
/// for other non-printable characters. Non-ASCII letters and symbols are kept as they are.
pub(crate) fn go_quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\u{7}' => quoted.push_str("\\a"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{b}' => quoted.push_str("\\v"),
            ' ' => quoted.push(' '),
            control if control < ' ' || control == '\u{7f}' => {
                let _ = write!(quoted, "\\x{:02x}", u32::from(control));
            }
            hidden if hidden.is_control() || hidden.is_whitespace() || is_format(hidden) => {
                let code = u32::from(hidden);
                if code < 0x1_0000 {
                    let _ = write!(quoted, "\\u{code:04x}");
                } else {
                    let _ = write!(quoted, "\\U{code:08x}");
                }
            }
            printable => quoted.push(printable),
        }
    }
    quoted.push('"');
    quoted
}

/// The invisible formatting characters (Unicode category Cf) most likely to appear in pasted
/// text; Go escapes them, and so do we.
fn is_format(character: char) -> bool {
    matches!(
        character,
        '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::go_quote;
    use rstest::rstest;

    #[rstest]
    #[case("", r#""""#)]
    #[case("1.2.3", r#""1.2.3""#)]
    #[case("a\"b\\c", r#""a\"b\\c""#)]
    #[case("\n\t\r", r#""\n\t\r""#)]
    #[case("\u{1}\u{7f}", r#""\x01\x7f""#)]
    #[case("\u{a0}\u{feff}", r#""\u00a0\ufeff""#)]
    #[case("é≥", r#""é≥""#)]
    fn quotes_like_go(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(go_quote(input), expected);
    }
}
