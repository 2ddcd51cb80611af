//! A fast path for the YAML that Helm repository tools write (`helm repo index`,
//! ChartMuseum, Bitnami's generators): block mappings and sequences (indentless or not),
//! plain, single- and double-quoted scalars (folded over lines), `|`/`|-` literals and
//! comments. [`to_json`] converts such a document to JSON text in one pass over the lines;
//! anything else (flow collections, anchors, tags, other block styles, tabs...) returns
//! `None` and the caller uses the general YAML parser.
//!
//! Scalars are emitted as JSON strings except `true`/`false` (booleans); `null`, `~` and
//! empty values drop their mapping key, which the typed index reads as "absent". This is
//! how sigs.k8s.io/yaml treats these documents when the target fields are strings.

use std::fmt::Write as _;

/// Converts a block-style YAML document to JSON text, or `None` when it uses anything
/// outside the supported subset.
pub fn to_json(input: &str) -> Option<String> {
    let mut lines = Vec::new();
    let mut start = 0usize;
    for (at, byte) in input.bytes().enumerate() {
        if byte == b'\n' {
            lines.push((u32::try_from(start).ok()?, u32::try_from(at).ok()?));
            start = at + 1;
        }
    }
    if start < input.len() {
        lines.push((u32::try_from(start).ok()?, u32::try_from(input.len()).ok()?));
    }
    let mut parser = Parser {
        input,
        lines,
        next: 0,
        virtual_indent: None,
        out: String::with_capacity(input.len() + input.len() / 4),
    };
    parser.skip_blank();
    if parser.peek().map(|(_, text)| text.trim_end()) == Some("---") {
        parser.next += 1;
        parser.skip_blank();
    }
    let (indent, _) = parser.peek()?;
    if indent != 0 {
        return None;
    }
    parser.node(0)?;
    parser.skip_blank();
    if parser.next < parser.lines.len() {
        return None;
    }
    Some(parser.out)
}

struct Parser<'a> {
    input: &'a str,
    lines: Vec<(u32, u32)>,
    next: usize,
    /// The line after `- ` whose content starts at this column (an item's inline mapping).
    virtual_indent: Option<(usize, usize)>,
    out: String,
}

impl<'a> Parser<'a> {
    fn raw(&self, index: usize) -> &'a str {
        let (start, end) = self.lines[index];
        let line = &self.input[start as usize..end as usize];
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// The current line's indentation and content (after the indentation).
    fn peek(&self) -> Option<(usize, &'a str)> {
        if self.next >= self.lines.len() {
            return None;
        }
        let raw = self.raw(self.next);
        if let Some((line, indent)) = self.virtual_indent
            && line == self.next
        {
            return Some((indent, raw.get(indent..)?));
        }
        let content = raw.trim_start_matches(' ');
        Some((raw.len() - content.len(), content))
    }

    fn is_blank(text: &str) -> bool {
        let trimmed = text.trim();
        trimmed.is_empty() || trimmed.starts_with('#')
    }

    fn skip_blank(&mut self) {
        while self.next < self.lines.len() {
            if matches!(self.virtual_indent, Some((line, _)) if line == self.next) {
                return;
            }
            if !Self::is_blank(self.raw(self.next)) {
                return;
            }
            self.next += 1;
        }
    }

    fn node(&mut self, indent: usize) -> Option<()> {
        let (_, content) = self.peek()?;
        if content.contains('\t') {
            return None;
        }
        if content == "-" || content.starts_with("- ") {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        }
    }

    fn mapping(&mut self, indent: usize) -> Option<()> {
        self.out.push('{');
        let mut first = true;
        loop {
            self.skip_blank();
            let Some((at, content)) = self.peek() else {
                break;
            };
            if at < indent {
                break;
            }
            if at > indent || content == "-" || content.starts_with("- ") {
                if at > indent {
                    return None;
                }
                break;
            }
            let (key, rest) = split_key(content)?;
            self.next += 1;
            let mark = self.out.len();
            if !first {
                self.out.push(',');
            }
            push_string(&mut self.out, key);
            self.out.push(':');
            if self.value(indent, rest)? {
                first = false;
            } else {
                self.out.truncate(mark);
            }
        }
        self.out.push('}');
        Some(())
    }

    /// Writes a mapping value; `false` when it is null (the key is dropped).
    fn value(&mut self, indent: usize, rest: &'a str) -> Option<bool> {
        let rest = strip_comment(rest)?.trim();
        if rest.is_empty() {
            self.skip_blank();
            return match self.peek() {
                Some((at, _)) if at > indent => {
                    self.node(at)?;
                    Some(true)
                }
                Some((at, content))
                    if at == indent && (content == "-" || content.starts_with("- ")) =>
                {
                    self.sequence(indent)?;
                    Some(true)
                }
                _ => Some(false),
            };
        }
        if rest == "|" || rest == "|-" {
            let text = self.literal(indent, rest == "|-")?;
            push_string(&mut self.out, &text);
            return Some(true);
        }
        self.scalar(indent, rest)
    }

    fn sequence(&mut self, indent: usize) -> Option<()> {
        self.out.push('[');
        let mut first = true;
        loop {
            self.skip_blank();
            let Some((at, content)) = self.peek() else {
                break;
            };
            if at != indent || !(content == "-" || content.starts_with("- ")) {
                if at > indent {
                    return None;
                }
                break;
            }
            if !first {
                self.out.push(',');
            }
            first = false;
            let item = content[1..].trim_start_matches(' ');
            let item_indent = indent + (content.len() - item.len());
            if Self::is_blank(item) {
                self.next += 1;
                self.skip_blank();
                match self.peek() {
                    Some((child, _)) if child > indent => self.node(child)?,
                    _ => self.out.push_str("null"),
                }
            } else if item == "-" || item.starts_with("- ") || split_key(item).is_some() {
                self.virtual_indent = Some((self.next, item_indent));
                self.node(item_indent)?;
                self.virtual_indent = None;
            } else {
                self.next += 1;
                if item == "|" || item == "|-" {
                    let text = self.literal(indent, item == "|-")?;
                    push_string(&mut self.out, &text);
                } else if !self.scalar(indent, item)? {
                    self.out.push_str("null");
                }
            }
        }
        self.out.push(']');
        Some(())
    }

    /// A scalar starting on the current (already consumed) line, possibly continued on
    /// following lines indented deeper than `indent`. `false` for null.
    fn scalar(&mut self, indent: usize, first: &'a str) -> Option<bool> {
        match first.as_bytes()[0] {
            b'"' => {
                let text = self.quoted(indent, first, b'"')?;
                let value = unescape_double(&text)?;
                push_string(&mut self.out, &value);
                Some(true)
            }
            b'\'' => {
                let text = self.quoted(indent, first, b'\'')?;
                push_string(&mut self.out, &text.replace("''", "'"));
                Some(true)
            }
            b'[' | b'{' => match first {
                "[]" | "{}" => {
                    self.out.push_str(first);
                    Some(true)
                }
                _ => None,
            },
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'|' | b'>' | b'?' => None,
            _ => {
                if first.contains(": ") || first.ends_with(':') || first.contains('\t') {
                    return None;
                }
                let mut text = first.to_owned();
                let mut blank_lines = 0;
                while let Some(line) = self.lines.get(self.next).map(|_| self.raw(self.next)) {
                    let trimmed = line.trim();
                    if trimmed.is_empty() {
                        blank_lines += 1;
                        self.next += 1;
                        continue;
                    }
                    let at = line.len() - line.trim_start_matches(' ').len();
                    if at <= indent || trimmed.starts_with('#') {
                        break;
                    }
                    let continued = strip_comment(trimmed)?.trim();
                    if continued.contains(": ")
                        || continued.ends_with(':')
                        || continued.contains('\t')
                    {
                        return None;
                    }
                    if blank_lines == 0 {
                        text.push(' ');
                    } else {
                        text.push_str(&"\n".repeat(blank_lines));
                    }
                    blank_lines = 0;
                    text.push_str(continued);
                    self.next += 1;
                }
                if blank_lines > 0 {
                    // Blank lines ended the scalar: step back onto them.
                    self.next -= blank_lines;
                }
                match text.as_str() {
                    "null" | "Null" | "NULL" | "~" => Some(false),
                    "true" | "True" | "TRUE" => {
                        self.out.push_str("true");
                        Some(true)
                    }
                    "false" | "False" | "FALSE" => {
                        self.out.push_str("false");
                        Some(true)
                    }
                    _ => {
                        push_string(&mut self.out, &text);
                        Some(true)
                    }
                }
            }
        }
    }

    /// The body of a quoted scalar (without quotes), folding continuation lines.
    fn quoted(&mut self, indent: usize, first: &'a str, quote: u8) -> Option<String> {
        let mut text = String::new();
        let mut line = &first[1..];
        loop {
            if let Some(end) = closing_quote(line, quote) {
                text.push_str(&line[..end]);
                let after = strip_comment(&line[end + 1..])?.trim();
                return after.is_empty().then_some(text);
            }
            // Folded line break: a space, unless escaped with a trailing backslash.
            let trimmed = line.trim_end();
            if quote == b'"' && trimmed.ends_with('\\') && !trimmed.ends_with("\\\\") {
                text.push_str(&trimmed[..trimmed.len() - 1]);
            } else {
                text.push_str(trimmed);
                text.push(' ');
            }
            let raw = self.lines.get(self.next).map(|_| self.raw(self.next))?;
            let at = raw.len() - raw.trim_start_matches(' ').len();
            if at <= indent || raw.trim().is_empty() {
                return None;
            }
            self.next += 1;
            line = raw.trim_start();
        }
    }

    /// A `|` or `|-` block: lines indented deeper than `indent`.
    #[expect(
        clippy::unnecessary_wraps,
        reason = "same shape as the other node readers"
    )]
    fn literal(&mut self, indent: usize, strip: bool) -> Option<String> {
        let mut block_indent = None;
        let mut lines: Vec<&str> = Vec::new();
        while self.next < self.lines.len() {
            let raw = self.raw(self.next);
            if raw.trim().is_empty() {
                lines.push("");
                self.next += 1;
                continue;
            }
            let at = raw.len() - raw.trim_start_matches(' ').len();
            let block = *block_indent.get_or_insert(at);
            if at <= indent || at < block {
                break;
            }
            lines.push(&raw[block..]);
            self.next += 1;
        }
        while lines.last() == Some(&"") {
            lines.pop();
            self.next -= 1;
        }
        let mut text = lines.join("\n");
        if !strip && !text.is_empty() {
            text.push('\n');
        }
        Some(text)
    }
}

/// Splits `key: rest` (or `key:`) with a plain key; `None` otherwise.
fn split_key(content: &str) -> Option<(&str, &str)> {
    let first = *content.as_bytes().first()?;
    if matches!(
        first,
        b'"' | b'\''
            | b'['
            | b'{'
            | b'&'
            | b'*'
            | b'!'
            | b'?'
            | b'|'
            | b'>'
            | b'#'
            | b'%'
            | b'@'
            | b'`'
    ) {
        return None;
    }
    let (key, rest) = match content.find(": ") {
        Some(at) => (&content[..at], &content[at + 2..]),
        None => (content.strip_suffix(':')?, ""),
    };
    if key.is_empty() || key.contains(" #") || key.ends_with(' ') || key.contains('\t') {
        return None;
    }
    Some((key, rest))
}

/// Drops a trailing ` # comment`; `None` if a `#` could be ambiguous inside quotes.
#[expect(clippy::unnecessary_wraps, reason = "callers chain it with `?`")]
fn strip_comment(text: &str) -> Option<&str> {
    let first = text.trim_start().as_bytes().first().copied();
    if matches!(first, Some(b'"' | b'\'')) {
        return Some(text);
    }
    Some(match text.find(" #") {
        Some(at) => &text[..at],
        None => text,
    })
}

fn closing_quote(text: &str, quote: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if quote == b'"' => at += 2,
            b if b == quote => {
                if quote == b'\'' && bytes.get(at + 1) == Some(&b'\'') {
                    at += 2;
                } else {
                    return Some(at);
                }
            }
            _ => at += 1,
        }
    }
    None
}

/// YAML double-quoted escapes; `None` for unsupported ones.
fn unescape_double(text: &str) -> Option<String> {
    if !text.contains('\\') {
        return Some(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            ' ' => ' ',
            'e' => '\u{1b}',
            'u' => hex_char(&mut chars, 4)?,
            'x' => hex_char(&mut chars, 2)?,
            'U' => hex_char(&mut chars, 8)?,
            _ => return None,
        };
        out.push(escaped);
    }
    Some(out)
}

fn hex_char(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let hex: String = chars.by_ref().take(digits).collect();
    (hex.len() == digits).then_some(())?;
    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)
}

fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::to_json;
    use serde_json::{Value, json};

    fn convert(yaml: &str) -> Value {
        serde_json::from_str(&to_json(yaml).expect("supported")).unwrap()
    }

    #[test]
    fn converts_helm_index_shapes() {
        let yaml = r#"apiVersion: v1
entries:
  a:
  - annotations:
      images: |
        - name: x
          image: y

      empty: ""
    description: a long plain
      scalar folded
    name: a
    urls:
    - a-1.0.0.tgz
    version: 1.0.0   # comment
    deprecated: true
    icon:
    title: "quoted \"x\" \u00e9
      continued"
    other: 'it''s'
  - name: a
    version: 0.9.0
    keywords: []
  b: []
generated: "2024-01-01T00:00:00Z"
"#;
        assert_eq!(
            convert(yaml),
            json!({
                "apiVersion": "v1",
                "entries": {
                    "a": [
                        {
                            "annotations": {"images": "- name: x\n  image: y\n", "empty": ""},
                            "description": "a long plain scalar folded",
                            "name": "a",
                            "urls": ["a-1.0.0.tgz"],
                            "version": "1.0.0",
                            "deprecated": true,
                            "title": "quoted \"x\" é continued",
                            "other": "it's"
                        },
                        {"name": "a", "version": "0.9.0", "keywords": []}
                    ],
                    "b": []
                },
                "generated": "2024-01-01T00:00:00Z"
            })
        );
    }

    #[test]
    fn nested_sequences_and_indented_items() {
        let yaml = "a:\n  - x\n  - - y\n    - z\n  -\n    k: v\nb: 1.10\n";
        assert_eq!(
            convert(yaml),
            json!({"a": ["x", ["y", "z"], {"k": "v"}], "b": "1.10"})
        );
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        for yaml in [
            "a: [1, 2]\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: >\n  folded\n",
            "? complex\n: key\n",
            "a:\n\t- tab\n",
            "a: b: c\n",
        ] {
            assert!(to_json(yaml).is_none(), "{yaml}");
        }
    }
}
