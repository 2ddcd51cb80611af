//! Validation errors as santhosh-tekuri/jsonschema v6 builds and prints them: a tree of
//! `at '/instance/path': message` lines, nested with two spaces per level.

use std::fmt::Write as _;

use super::doc::Doc;

/// What an error node is, for display purposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An ordinary keyword failure with its message.
    Message(String),
    /// Several failures of one schema (`validation failed`).
    Group,
    /// A `$ref`-like jump; hidden when it has exactly one cause.
    Reference,
}

/// One node of the error tree.
#[derive(Debug, Clone)]
pub struct VError {
    /// The kind and message.
    pub kind: Kind,
    /// JSON pointer tokens of the failing instance value.
    pub location: Vec<String>,
    /// Nested errors.
    pub causes: Vec<VError>,
}

impl VError {
    /// A leaf error.
    pub fn new(location: &[String], message: String) -> VError {
        VError {
            kind: Kind::Message(message),
            location: location.to_vec(),
            causes: Vec::new(),
        }
    }

    /// An error with causes.
    pub fn with_causes(location: &[String], kind: Kind, causes: Vec<VError>) -> VError {
        VError {
            kind,
            location: location.to_vec(),
            causes,
        }
    }

    fn hidden(&self) -> bool {
        self.kind == Kind::Reference && self.causes.len() == 1
    }

    /// Appends this error as the library prints a cause at `indent` (≥ 1).
    pub fn display(&self, out: &mut String, mut indent: usize) {
        if !self.hidden() {
            out.push('\n');
            for _ in 1..indent {
                out.push_str("  ");
            }
            out.push_str("- at ");
            out.push_str(&quote(&pointer(&self.location)));
            out.push_str(": ");
            out.push_str(match &self.kind {
                Kind::Message(message) => message,
                Kind::Group | Kind::Reference => "validation failed",
            });
            indent += 1;
        }
        for cause in &self.causes {
            cause.display(out, indent);
        }
    }
}

/// Prints the causes of a failed validation (what Helm shows after trimming the first line).
pub fn render(errors: &[VError]) -> String {
    let mut out = String::new();
    for error in errors {
        error.display(&mut out, 1);
    }
    out.trim_start_matches('\n').to_owned()
}

/// Escapes a JSON pointer token.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The JSON pointer of `tokens`.
pub fn pointer(tokens: &[String]) -> String {
    tokens.iter().fold(String::new(), |mut out, t| {
        out.push('/');
        out.push_str(&escape(t));
        out
    })
}

/// Whether Go's `unicode.IsPrint` would print `c` as is (approximated for rare classes).
fn printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E000}'..='\u{F8FF}'
            | '\u{F0000}'..
    )
}

/// Go's `strconv.Quote` body (without the surrounding quotes).
fn go_quote_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if printable(c) => out.push(c),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if u32::from(c) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out
}

/// The library's single-quoted string: Go `%q`, then `\"` → `"` and `'` → `\'`.
pub fn quote(text: &str) -> String {
    let body = go_quote_body(text)
        .replace("\\\"", "\"")
        .replace('\'', "\\'");
    format!("'{body}'")
}

/// Quoted strings joined with `, `.
pub fn join_quoted<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| quote(s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a schema value (`enum`/`const` member) appears in messages.
pub fn display_doc(doc: &Doc) -> String {
    match doc {
        Doc::Null => "<nil>".to_owned(),
        Doc::Bool(b) => b.to_string(),
        Doc::Num(text) => text.clone(),
        Doc::Str(s) => quote(s),
        Doc::Arr(_) | Doc::Obj(_) => "value".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_the_library() {
        assert_eq!(quote("it's \"q\"\n"), r#"'it\'s "q"\n'"#);
        assert_eq!(quote("é\u{200b}"), r"'é\u200b'");
    }

    #[test]
    fn nests_causes_and_hides_single_references() {
        let leaf = VError::new(&["a".to_owned()], "false schema".to_owned());
        let reference = VError::with_causes(&[], Kind::Reference, vec![leaf.clone()]);
        let group = VError::with_causes(&["b".to_owned()], Kind::Group, vec![leaf, reference]);
        assert_eq!(
            render(&[group]),
            "- at '/b': validation failed\n  - at '/a': false schema\n  - at '/a': false schema"
        );
    }
}
