//! A fast reader for the block-style YAML that Kubernetes manifests, kustomizations and
//! values files are written in: block mappings (plain or quoted one-line keys) and
//! sequences (indentless too), plain, single- and double-quoted one-line scalars, `|`/`|-` literals, empty `[]`/`{}` and
//! comments, in one or more `---`-separated documents.
//!
//! [`parse_block`] returns `None` for anything else (flow collections, anchors, aliases,
//! tags, merge keys, multi-line plain or quoted scalars, escapes, tabs, `\r`, duplicate or
//! non-string keys, empty documents, anything invalid) and the caller uses its general YAML
//! parser, which also gives the errors. When it returns a value, that value is what the
//! general parser would build with the same plain-scalar resolution (`resolve`).

use serde_json::{Map, Value};

/// Nesting beyond this goes to the general parser.
const MAX_DEPTH: usize = 128;

/// How a caller resolves plain scalars (YAML 1.1 or 1.2 rules, as its general parser
/// does); `None` leaves the text to the general parser (a value it would refuse).
pub type Resolve<'r> = &'r dyn Fn(&str) -> Option<Value>;

/// The documents of `text`, or `None` when it uses anything outside the supported subset.
/// Keys must resolve to strings.
pub fn parse_block(text: &str, resolve: Resolve<'_>) -> Option<Vec<Value>> {
    // Tabs, carriage returns, control characters, and byte-order marks (U+FEFF starts with
    // 0xEF; so do a few other characters, which only cost the fast path).
    if text
        .bytes()
        .any(|byte| (byte < 0x20 && byte != b'\n') || byte == 0x7F || byte == 0xEF)
    {
        return None;
    }
    if !text.is_ascii()
        && text
            .chars()
            .any(|character| matches!(character, '\u{80}'..='\u{9F}' | '\u{2028}' | '\u{2029}'))
    {
        return None;
    }
    if text
        .rsplit('\n')
        .next()
        .is_some_and(|last| !last.is_empty() && last.trim_start_matches(' ').is_empty())
    {
        // Spaces after the last line break: the general parser's call (it reads them as
        // one more line of a literal that runs to the end).
        return None;
    }
    let mut lines: Vec<Line> = text.split('\n').map(Line::new).collect();
    let mut separators = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if line.indent > 0 {
            continue;
        }
        if line.text.starts_with("---") || line.text.starts_with("...") {
            if line.text.trim_end() != "---" {
                return None;
            }
            separators.push(index);
        } else if line.text.starts_with('%') {
            return None;
        }
    }
    separators.push(lines.len());
    let mut documents = Vec::new();
    let mut start = 0;
    for (number, end) in separators.into_iter().enumerate() {
        push_document(&mut lines[start..end], number == 0, resolve, &mut documents)?;
        start = end + 1;
    }
    if documents.is_empty() {
        return None;
    }
    Some(documents)
}

fn push_document(
    lines: &mut [Line<'_>],
    first: bool,
    resolve: Resolve<'_>,
    documents: &mut Vec<Value>,
) -> Option<()> {
    let mut reader = Reader {
        lines,
        next: 0,
        resolve,
        depth: 0,
    };
    reader.skip_blank();
    if reader.next == reader.lines.len() {
        // Nothing before the first `---` is no document; an empty one elsewhere is left to
        // the general parser.
        return if first { Some(()) } else { None };
    }
    let (indent, _) = reader.peek()?;
    if indent != 0 {
        return None;
    }
    let value = reader.node(0)?;
    reader.skip_blank();
    if reader.next != reader.lines.len() {
        return None;
    }
    documents.push(value);
    Some(())
}

#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    /// The line without its indentation.
    text: &'a str,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str) -> Self {
        let text = raw.trim_start_matches(' ');
        Self {
            indent: raw.len() - text.len(),
            text,
        }
    }

    fn is_blank(&self) -> bool {
        self.text.is_empty() || self.text.starts_with('#')
    }
}

struct Reader<'a, 'l, 'r> {
    /// The document's lines; the line of a `- key: value` item is rewritten in place to
    /// start at `key`.
    lines: &'l mut [Line<'a>],
    next: usize,
    resolve: Resolve<'r>,
    depth: usize,
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

impl<'a> Reader<'a, '_, '_> {
    fn skip_blank(&mut self) {
        while self.next < self.lines.len() && self.lines[self.next].is_blank() {
            self.next += 1;
        }
    }

    /// The next content line's indentation and text.
    fn peek(&mut self) -> Option<(usize, &'a str)> {
        self.skip_blank();
        self.lines
            .get(self.next)
            .map(|line| (line.indent, line.text))
    }

    /// The block node whose first line is the next content line, at `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let (_, text) = self.peek()?;
        let value = if is_item(text) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        };
        self.depth -= 1;
        value
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        while let Some((line_indent, text)) = self.peek() {
            if line_indent < indent || (line_indent == indent && is_item(text)) {
                break;
            }
            if line_indent > indent {
                return None;
            }
            let (key, rest) = split_key(text)?;
            let key = match key {
                Key::Plain(plain) => match (self.resolve)(plain) {
                    Some(Value::String(key)) => key,
                    _ => return None,
                },
                Key::Quoted(key) => key,
            };
            if key.len() > 1024 || key == "<<" || map.contains_key(&key) {
                return None;
            }
            self.next += 1;
            let value = if rest.is_empty() || rest.starts_with('#') {
                match self.peek() {
                    Some((next_indent, _)) if next_indent > indent => self.node(next_indent)?,
                    Some((next_indent, next)) if next_indent == indent && is_item(next) => {
                        self.depth += 1;
                        let items = self.sequence(indent)?;
                        self.depth -= 1;
                        items
                    }
                    _ => Value::Null,
                }
            } else {
                self.scalar(rest, indent)?
            };
            map.insert(key, value);
        }
        Some(Value::Object(map))
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some((line_indent, text)) = self.peek() {
            if line_indent != indent || !is_item(text) {
                if line_indent > indent {
                    return None;
                }
                break;
            }
            let after_dash = &text[1..];
            let rest = after_dash.trim_start_matches(' ');
            let column = indent + 1 + (after_dash.len() - rest.len());
            if rest.is_empty() || rest.starts_with('#') {
                self.next += 1;
                items.push(match self.peek() {
                    Some((next_indent, _)) if next_indent > indent => self.node(next_indent)?,
                    _ => Value::Null,
                });
            } else if is_item(rest) {
                return None;
            } else if split_key(rest).is_some() {
                // `- key: value` starts a mapping at the column of `key`: read it as if that
                // line were indented there.
                self.lines[self.next] = Line {
                    indent: column,
                    text: rest,
                };
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                items.push(self.mapping(column)?);
                self.depth -= 1;
            } else {
                self.next += 1;
                items.push(self.scalar(rest, indent)?);
            }
        }
        Some(Value::Array(items))
    }

    /// A scalar written after `key: ` or `- ` on a line of a collection at `indent`.
    fn scalar(&mut self, text: &str, indent: usize) -> Option<Value> {
        let value = match text.as_bytes()[0] {
            b'|' => return self.literal(text, indent),
            b'"' => {
                let end = text[1..].find('"')? + 1;
                let content = &text[1..end];
                if content.contains('\\') {
                    return None;
                }
                trailing_comment_only(&text[end + 1..])?;
                Value::String(content.to_owned())
            }
            b'\'' => {
                let (content, after) = single_quoted(text)?;
                trailing_comment_only(after)?;
                Value::String(content)
            }
            b'[' => {
                let (items, after) = self.flow_sequence(text)?;
                trailing_comment_only(after)?;
                items
            }
            b'{' => {
                trailing_comment_only(text.strip_prefix("{}")?)?;
                Value::Object(Map::new())
            }
            _ => {
                let plain = plain_scalar(text)?;
                (self.resolve)(plain)?
            }
        };
        // A more indented line after a one-line scalar would continue it.
        if self.peek().is_some_and(|(next, _)| next > indent) {
            return None;
        }
        Some(value)
    }

    /// A one-line flow sequence of scalars, `[a, 'b', "c"]`, and the text after it.
    fn flow_sequence<'t>(&self, text: &'t str) -> Option<(Value, &'t str)> {
        let mut items = Vec::new();
        let mut rest = text[1..].trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(']') {
            return Some((Value::Array(items), after));
        }
        loop {
            let (item, after) = match rest.as_bytes().first()? {
                b'"' => {
                    let end = rest[1..].find('"')? + 1;
                    let content = &rest[1..end];
                    if content.contains('\\') {
                        return None;
                    }
                    (Value::String(content.to_owned()), &rest[end + 1..])
                }
                b'\'' => {
                    let (content, after) = single_quoted(rest)?;
                    (Value::String(content), after)
                }
                _ => {
                    let end = rest.find([',', ']'])?;
                    let plain = rest[..end].trim_end_matches(' ');
                    if plain.is_empty()
                        || starts_with_indicator(plain)
                        || plain.contains([':', '#', '[', '{', '}'])
                    {
                        return None;
                    }
                    ((self.resolve)(plain)?, &rest[end..])
                }
            };
            items.push(item);
            let after = after.trim_start_matches(' ');
            if let Some(after) = after.strip_prefix(']') {
                return Some((Value::Array(items), after));
            }
            rest = after.strip_prefix(',')?.trim_start_matches(' ');
            if rest.starts_with(']') {
                // A trailing comma: left to the general parser.
                return None;
            }
        }
    }

    /// A `|` or `|-` literal block scalar of a collection at `indent`; the header line has
    /// been consumed.
    fn literal(&mut self, header: &str, indent: usize) -> Option<Value> {
        let keep_final_break = match header {
            "|" => true,
            "|-" => false,
            _ => return None,
        };
        let first = self.lines.get(self.next)?;
        if first.text.is_empty() || first.indent <= indent {
            return None;
        }
        let content_indent = first.indent;
        let mut text = String::new();
        let mut pending_breaks = 0;
        let mut end = self.next;
        while let Some(line) = self.lines.get(end) {
            if line.text.is_empty() {
                if line.indent > content_indent {
                    return None;
                }
                pending_breaks += 1;
                end += 1;
                continue;
            }
            if line.indent < content_indent {
                break;
            }
            for _ in 0..pending_breaks {
                text.push('\n');
            }
            pending_breaks = 0;
            if !text.is_empty() {
                text.push('\n');
            }
            for _ in content_indent..line.indent {
                text.push(' ');
            }
            text.push_str(line.text);
            end += 1;
            // Continue past this line; trailing empty lines are dropped below.
            self.next = end;
        }
        if keep_final_break {
            text.push('\n');
        }
        Some(Value::String(text))
    }
}

/// What follows a quoted key: `:` and a space (or the end of the line), then the value.
fn after_colon(after: &str) -> Option<&str> {
    let rest = after.strip_prefix(':')?;
    if rest.is_empty() || rest.starts_with(' ') {
        Some(rest.trim_start_matches(' '))
    } else {
        None
    }
}

/// A mapping key as written: plain (resolved by the caller) or quoted (always a string).
enum Key<'a> {
    Plain(&'a str),
    Quoted(String),
}

/// Splits `key: rest` (or `key:` at the end of the line); `None` when the line is not a
/// mapping entry with a one-line plain or quoted key.
fn split_key(text: &str) -> Option<(Key<'_>, &str)> {
    match text.as_bytes()[0] {
        b'"' => {
            let end = text[1..].find('"')? + 1;
            let key = &text[1..end];
            if key.contains('\\') {
                return None;
            }
            Some((Key::Quoted(key.to_owned()), after_colon(&text[end + 1..])?))
        }
        b'\'' => {
            let (key, after) = single_quoted(text)?;
            Some((Key::Quoted(key), after_colon(after)?))
        }
        _ => {
            let bytes = text.as_bytes();
            let colon = text
                .match_indices(':')
                .map(|(at, _)| at)
                .find(|&at| at + 1 == bytes.len() || bytes[at + 1] == b' ')?;
            let key = &text[..colon];
            if key.is_empty()
                || key.ends_with(' ')
                || starts_with_indicator(key)
                || key.contains(" #")
            {
                return None;
            }
            Some((Key::Plain(key), text[colon + 1..].trim_start_matches(' ')))
        }
    }
}

/// Characters that cannot start a plain scalar (or start one only when not followed by a
/// space), which this reader leaves to the general parser.
fn starts_with_indicator(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes[0] {
        b'-' | b'?' | b':' => bytes.get(1).is_none_or(|&next| next == b' '),
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => true,
        _ => false,
    }
}

/// A plain scalar running to the end of the line or to a ` #` comment.
fn plain_scalar(text: &str) -> Option<&str> {
    if starts_with_indicator(text) {
        return None;
    }
    let value = text.find(" #").map_or(text, |at| &text[..at]).trim_end();
    if value.ends_with(':') || value.contains(": ") {
        return None;
    }
    Some(value)
}

fn single_quoted(text: &str) -> Option<(String, &str)> {
    let mut content = String::new();
    let mut rest = &text[1..];
    loop {
        let at = rest.find('\'')?;
        content.push_str(&rest[..at]);
        if rest[at + 1..].starts_with('\'') {
            content.push('\'');
            rest = &rest[at + 2..];
        } else {
            return Some((content, &rest[at + 1..]));
        }
    }
}

/// After a quoted scalar only spaces and a ` #` comment may follow.
fn trailing_comment_only(after: &str) -> Option<()> {
    let trimmed = after.trim_start_matches(' ');
    if trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < after.len()) {
        Some(())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve_plain_v3;

    fn parse(text: &str) -> Option<Vec<Value>> {
        parse_block(text, &|plain| Some(resolve_plain_v3(plain)))
    }

    #[test]
    fn reads_manifests() {
        let text = "# head\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # c\n  labels:\n    app: x\ndata:\n  script: |\n    echo 1\n\n      two\n  list:\n  - a\n  - 'b''c'\n  - \"d\"\n  - k: 1\n    l: [] \n  -\n    m: true\n---\nkind: B\n";
        let documents = parse(text).expect("supported");
        assert_eq!(documents.len(), 2);
        let first = &documents[0];
        assert_eq!(first["metadata"]["name"], "a");
        assert_eq!(first["data"]["script"], "echo 1\n\n  two\n");
        assert_eq!(first["data"]["list"][1], "b'c");
        assert_eq!(first["data"]["list"][3]["k"], 1);
        assert_eq!(first["data"]["list"][3]["l"], Value::Array(Vec::new()));
        assert_eq!(first["data"]["list"][4]["m"], true);
        assert_eq!(documents[1]["kind"], "B");
        assert_eq!(parse("- a\n- b: 1\n").expect("sequence")[0][1]["b"], 1);
        let quoted =
            parse("\"helm.sh/hook\": test\n'a''b': 1\n\"yes\": \"\"\n").expect("quoted keys");
        assert_eq!(quoted[0]["helm.sh/hook"], "test");
        assert_eq!(quoted[0]["a'b"], 1);
        assert_eq!(quoted[0]["yes"], "");
        let flow = parse("a: ['x', \"y\", 1 , z]  # c\nb: []\n").expect("flow sequence");
        assert_eq!(flow[0]["a"], serde_json::json!(["x", "y", 1, "z"]));
        let literal = parse("a: |-\n  x\n  ---\n  y\n\nb: 1\n").expect("literal");
        assert_eq!(literal[0]["a"], "x\n---\ny");
    }

    #[test]
    fn leaves_the_rest_to_the_general_parser() {
        for text in [
            "a: &x 1\n",
            "a: [1\n",
            "a: [1,]\n",
            "a: [[1]]\n",
            "a: [b: 1]\n",
            "a: b\n  c\n",
            "a: 1\na: 2\n",
            "a:\tb\n",
            "a: \"x\\ny\"\n",
            "a: >\n  folded\n",
            "a: 1\n---\n",
            "a: b: c\n",
            "? a\n",
            "\"a\":b\n",
            "'a' : b\n",
            "a: [\n",
            "a: \u{85}\n",
            "",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
