//! go-yaml v2's block emitter, reduced to the node shapes JSON can produce.

use std::cmp::Ordering;

use super::node::Node;
use super::resolve::needs_quotes;

/// go-yaml v2 folds plain and quoted scalars at spaces once past this column.
const BEST_WIDTH: usize = 80;

/// Prints `node` as `yaml.Marshal` does (with the trailing newline).
pub fn to_yaml_string(node: &Node) -> String {
    let mut emitter = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
    };
    match node {
        Node::Map(entries) if !entries.is_empty() => emitter.block_map(entries, 0),
        Node::Seq(items) if !items.is_empty() => emitter.block_seq(items, 0),
        other => emitter.inline_value(other, 0),
    }
    emitter.write_indent(0);
    emitter.out
}

struct Emitter {
    out: String,
    column: usize,
    /// The last character written was whitespace (or nothing was written yet).
    whitespace: bool,
    /// Only indentation has been written on the current line.
    indention: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_str(&mut self, s: &str) {
        for c in s.chars() {
            self.put(c);
        }
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn indicator(&mut self, text: &str, need_whitespace: bool) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.put_str(text);
        self.whitespace = false;
        self.indention = false;
    }

    fn block_map(&mut self, entries: &[(String, Node)], indent: usize) {
        let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
        sorted.sort_by(|a, b| key_order(&a.0, &b.0));
        for (key, value) in sorted {
            self.write_indent(indent);
            self.scalar(key, indent, true);
            self.indicator(":", false);
            match value {
                Node::Map(inner) if !inner.is_empty() => self.block_map(inner, indent + 2),
                Node::Seq(items) if !items.is_empty() => self.block_seq(items, indent),
                other => self.inline_value(other, indent + 2),
            }
        }
    }

    fn block_seq(&mut self, items: &[Node], indent: usize) {
        for item in items {
            self.write_indent(indent);
            self.indicator("-", true);
            self.indention = true;
            match item {
                Node::Map(inner) if !inner.is_empty() => self.block_map(inner, indent + 2),
                Node::Seq(inner) if !inner.is_empty() => self.block_seq(inner, indent + 2),
                other => self.inline_value(other, indent + 2),
            }
        }
    }

    /// Scalars and empty collections after `key:` or `-`.
    fn inline_value(&mut self, node: &Node, indent: usize) {
        match node {
            Node::Null => self.plain("null", indent, true),
            Node::Bool(b) => self.plain(if *b { "true" } else { "false" }, indent, true),
            Node::Int(text) => self.plain(text, indent, true),
            Node::Float(f) => self.plain(&float_text(*f), indent, true),
            Node::Str(text) => self.scalar(text, indent, false),
            Node::Seq(_) => self.indicator("[]", true),
            Node::Map(_) => self.indicator("{}", true),
        }
    }

    fn scalar(&mut self, text: &str, indent: usize, simple_key: bool) {
        let requested = if text.contains('\n') {
            Style::Literal
        } else if needs_quotes(text) {
            Style::Double
        } else {
            Style::Plain
        };
        match select_style(text, requested, simple_key) {
            Style::Plain => self.plain(text, indent, !simple_key),
            Style::Single => self.single_quoted(text, indent, !simple_key),
            Style::Double => self.double_quoted(text, indent, !simple_key),
            Style::Literal => self.literal(text, indent),
        }
    }

    fn plain(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn single_quoted(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        self.indicator("'", true);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < chars.len()
                    && !next_is_space
                {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.indicator("'", false);
    }

    fn double_quoted(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        self.indicator("\"", true);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                self.put_str(&escape(c));
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < chars.len()
                {
                    self.write_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false);
    }

    fn literal(&mut self, text: &str, indent: usize) {
        self.indicator("|", true);
        if text.starts_with([' ', '\n']) {
            self.indicator("2", false);
        }
        let chomp = if !text.ends_with('\n') {
            Some("-")
        } else if text == "\n" || text.ends_with("\n\n") {
            Some("+")
        } else {
            None
        };
        if let Some(chomp) = chomp {
            self.indicator(chomp, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in text.chars() {
            if c == '\n' {
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` with YAML's spellings of infinities and NaN.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    ferroflux_gotmpl::format::sprint(&[ferroflux_gotmpl::Value::Float(f)])
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn escape(c: char) -> String {
    match c {
        '\0' => "0".to_owned(),
        '\u{7}' => "a".to_owned(),
        '\u{8}' => "b".to_owned(),
        '\t' => "t".to_owned(),
        '\n' => "n".to_owned(),
        '\u{b}' => "v".to_owned(),
        '\u{c}' => "f".to_owned(),
        '\r' => "r".to_owned(),
        '\u{1b}' => "e".to_owned(),
        '"' => "\"".to_owned(),
        '\\' => "\\".to_owned(),
        '\u{85}' => "N".to_owned(),
        '\u{a0}' => "_".to_owned(),
        '\u{2028}' => "L".to_owned(),
        '\u{2029}' => "P".to_owned(),
        c if u32::from(c) <= 0xff => format!("x{:02X}", u32::from(c)),
        c if u32::from(c) <= 0xffff => format!("u{:04X}", u32::from(c)),
        c => format!("U{:08X}", u32::from(c)),
    }
}

/// libyaml's scalar analysis and style selection for block context.
fn select_style(text: &str, requested: Style, simple_key: bool) -> Style {
    let analysis = analyze(text);
    let mut style = requested;
    if simple_key && analysis.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!analysis.block_plain_allowed || (text.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !analysis.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!analysis.block_allowed || simple_key) {
        style = Style::Double;
    }
    style
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(text: &str) -> Analysis {
    if text.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let mut block_indicators = text.starts_with("---") || text.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| is_blank(n));
        let last = i + 1 == chars.len();
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank(c) || is_break(c);
    }
    let mut block_plain_allowed =
        !(leading_space || leading_break || trailing_space || trailing_break);
    let mut single_quoted_allowed = true;
    let mut block_allowed = !trailing_space;
    if break_space {
        block_plain_allowed = false;
        single_quoted_allowed = false;
    }
    if space_break || special {
        block_plain_allowed = false;
        single_quoted_allowed = false;
        block_allowed = false;
    }
    if line_breaks || block_indicators {
        block_plain_allowed = false;
    }
    Analysis {
        multiline: line_breaks,
        block_plain_allowed,
        single_quoted_allowed,
        block_allowed,
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// go-yaml v2's key order: letters before digits, digit runs compared as numbers.
fn key_order(a: &str, b: &str) -> Ordering {
    if key_less(a, b) {
        Ordering::Less
    } else if key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}
