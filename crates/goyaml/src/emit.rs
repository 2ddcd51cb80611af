//! Generic values to YAML text, spelled exactly like `sigs.k8s.io/yaml.JSONToYAML`.
//!
//! kustomize prints each resource by marshalling it to JSON and converting that JSON to
//! YAML with go-yaml v2. So keys come out sorted (v2's "natural" order), numbers take the
//! shape a JSON round trip gives them, and strings are quoted by the libyaml-style emitter
//! (80-column folding included). This module reproduces that emitter for block context.

use std::cmp::Ordering;

use serde_json::Value;

use super::number::format_number;
use super::resolve::needs_quotes_v2;
use super::scalar::{Style, analyze, is_break, is_printable, select_style};

const BEST_INDENT: usize = 2;
const BEST_WIDTH: usize = 80;
const MAX_SIMPLE_KEY_LENGTH: usize = 128;

/// Renders one document (no `---` marker), ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut emitter = Emitter {
        out: String::with_capacity(1024),
        whitespace: true,
        indention: true,
        ..Emitter::default()
    };
    emitter.node(value, Context::Root, None);
    emitter.document_end();
    emitter.out
}

#[derive(Default)]
struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    MappingValue,
    SequenceItem,
    Key { simple: bool },
}

impl Emitter {
    fn put(&mut self, character: char) {
        self.out.push(character);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_break(&mut self, character: char) {
        if character == '\n' {
            self.put_break();
        } else {
            self.out.push(character);
            self.column = 0;
        }
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

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for character in indicator.chars() {
            self.put(character);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn document_end(&mut self) {
        if self.column > 0 || !self.indention {
            self.put_break();
        }
        if self.open_ended {
            self.write_indicator("...", true, false, false);
            self.put_break();
        }
    }

    /// `indent` is the indentation of the enclosing collection (None at the root).
    fn node(&mut self, value: &Value, context: Context, indent: Option<usize>) {
        match value {
            Value::Object(map) if map.is_empty() => self.empty_collection("{}"),
            Value::Array(items) if items.is_empty() => self.empty_collection("[]"),
            Value::Object(map) => self.mapping(map, indent),
            Value::Array(items) => {
                let indentless = context == Context::MappingValue && !self.indention;
                let own = match indent {
                    None => 0,
                    Some(parent) if indentless => parent,
                    Some(parent) => parent + BEST_INDENT,
                };
                for item in items {
                    self.write_indent(own);
                    self.write_indicator("-", true, false, true);
                    self.node(item, Context::SequenceItem, Some(own));
                }
            }
            Value::String(text) => self.string(text, context, indent),
            Value::Number(number) => {
                self.scalar(&format_number(number), Style::Plain, context, indent);
            }
            Value::Bool(flag) => self.scalar(
                if *flag { "true" } else { "false" },
                Style::Plain,
                context,
                indent,
            ),
            Value::Null => self.scalar("null", Style::Plain, context, indent),
        }
    }

    fn string(&mut self, text: &str, context: Context, indent: Option<usize>) {
        let requested = if text.contains('\n') {
            Style::Literal
        } else if needs_quotes_v2(text) {
            Style::DoubleQuoted
        } else {
            Style::Plain
        };
        self.scalar(text, requested, context, indent);
    }

    fn empty_collection(&mut self, text: &str) {
        self.write_indicator(&text[..1], true, true, false);
        self.write_indicator(&text[1..], false, false, false);
    }

    fn mapping(&mut self, map: &serde_json::Map<String, Value>, indent: Option<usize>) {
        let own = indent.map_or(0, |parent| parent + BEST_INDENT);
        let mut keys: Vec<&String> = map.keys().collect();
        insertion_sort(&mut keys);
        for key in keys {
            self.write_indent(own);
            let simple = key.len() <= MAX_SIMPLE_KEY_LENGTH && !key.chars().any(is_break);
            if simple {
                self.string(key, Context::Key { simple: true }, Some(own));
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.string(key, Context::Key { simple: false }, Some(own));
                self.write_indent(own);
                self.write_indicator(":", true, false, true);
            }
            self.node(&map[key.as_str()], Context::MappingValue, Some(own));
        }
    }

    fn scalar(&mut self, text: &str, requested: Style, context: Context, indent: Option<usize>) {
        let simple_key = matches!(context, Context::Key { simple: true });
        let analysis = analyze(text);
        let style = select_style(requested, &analysis, simple_key);
        // Scalars are written one indentation step deeper than their collection.
        let indent = indent.map_or(0, |parent| parent + BEST_INDENT);
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(text, indent, allow_breaks, context == Context::Root),
            Style::SingleQuoted => self.write_single_quoted(text, indent, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(text, indent, allow_breaks),
            Style::Literal => self.write_literal(text, indent),
        }
    }

    fn write_plain(&mut self, text: &str, indent: usize, allow_breaks: bool, root: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        if !text.contains(|character: char| character == ' ' || is_break(character)) {
            // No space to fold at and no line break: the text goes out as it is.
            self.out.push_str(text);
            self.column += text.chars().count();
            self.whitespace = false;
            self.indention = false;
            if root {
                self.open_ended = true;
            }
            return;
        }
        let chars: Vec<char> = text.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (index, &character) in chars.iter().enumerate() {
            if character == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(index + 1) != Some(&' ')
                {
                    self.write_indent(indent);
                } else {
                    self.put(character);
                }
                spaces = true;
            } else if is_break(character) {
                if !breaks && character == '\n' {
                    self.put_break();
                }
                self.write_break(character);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(character);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
        if root {
            self.open_ended = true;
        }
    }

    fn write_single_quoted(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (index, &character) in chars.iter().enumerate() {
            if character == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && index != 0
                    && index + 1 != chars.len()
                    && chars.get(index + 1) != Some(&' ')
                {
                    self.write_indent(indent);
                } else {
                    self.put(character);
                }
                spaces = true;
            } else if is_break(character) {
                if !breaks && character == '\n' {
                    self.put_break();
                }
                self.write_break(character);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if character == '\'' {
                    self.put('\'');
                }
                self.put(character);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_double_quoted(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (index, &character) in chars.iter().enumerate() {
            if !is_printable(character)
                || character == '\u{FEFF}'
                || is_break(character)
                || character == '"'
                || character == '\\'
            {
                self.put('\\');
                for escaped in escape(character).chars() {
                    self.put(escaped);
                }
                spaces = false;
            } else if character == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && index != 0
                    && index + 1 != chars.len()
                {
                    self.write_indent(indent);
                    if chars.get(index + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(character);
                }
                spaces = true;
            } else {
                self.put(character);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
    }

    fn write_literal(&mut self, text: &str, indent: usize) {
        self.write_indicator("|", true, false, false);
        let first = text.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        self.open_ended = false;
        let chars: Vec<char> = text.chars().collect();
        let chomp = match chars.as_slice() {
            [] => Some("-"),
            [.., last] if !is_break(*last) => Some("-"),
            [_] => Some("+"),
            [.., before, _] if is_break(*before) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            if chomp == "+" {
                self.open_ended = true;
            }
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &character in &chars {
            if is_break(character) {
                self.write_break(character);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(character);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

fn escape(character: char) -> String {
    match character {
        '\0' => "0".to_owned(),
        '\u{07}' => "a".to_owned(),
        '\u{08}' => "b".to_owned(),
        '\t' => "t".to_owned(),
        '\n' => "n".to_owned(),
        '\u{0B}' => "v".to_owned(),
        '\u{0C}' => "f".to_owned(),
        '\r' => "r".to_owned(),
        '\u{1B}' => "e".to_owned(),
        '"' => "\"".to_owned(),
        '\\' => "\\".to_owned(),
        '\u{85}' => "N".to_owned(),
        '\u{A0}' => "_".to_owned(),
        '\u{2028}' => "L".to_owned(),
        '\u{2029}' => "P".to_owned(),
        other => {
            let code = u32::from(other);
            if code <= 0xFF {
                format!("x{code:02X}")
            } else if code <= 0xFFFF {
                format!("u{code:04X}")
            } else {
                format!("U{code:08X}")
            }
        }
    }
}

/// Sorts keys by `natural_order`. That order is not transitive for some key sets (Go's
/// output then depends on map iteration order), so a plain insertion sort is used: it is
/// deterministic and, unlike `slice::sort_by`, cannot panic on an inconsistent order.
fn insertion_sort(keys: &mut [&String]) {
    for index in 1..keys.len() {
        let mut position = index;
        while position > 0 && natural_order(keys[position], keys[position - 1]) == Ordering::Less {
            keys.swap(position, position - 1);
            position -= 1;
        }
    }
}

/// go-yaml v2's key order: letters compare as characters, digit runs compare as numbers,
/// and a non-letter sorts before a letter.
pub fn natural_order(left: &str, right: &str) -> Ordering {
    if left.is_ascii() && right.is_ascii() {
        return natural_order_of(left.as_bytes(), right.as_bytes());
    }
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    natural_order_of(&left, &right)
}

/// [`natural_order`] over characters (or ASCII bytes, without collecting them).
fn natural_order_of<C: Copy + Into<char>>(left: &[C], right: &[C]) -> Ordering {
    for index in 0..left.len().min(right.len()) {
        let (a, b): (char, char) = (left[index].into(), right[index].into());
        if a == b {
            continue;
        }
        let (a_letter, b_letter) = (a.is_alphabetic(), b.is_alphabetic());
        if a_letter && b_letter {
            return a.cmp(&b);
        }
        if a_letter || b_letter {
            return if b_letter {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut a_number, mut b_number) = (0i128, 0i128);
        if a == '0' || b == '0' {
            let mut back = index;
            while back > 0 && left[back - 1].into().is_ascii_digit() {
                back -= 1;
                if left[back].into() != '0' {
                    a_number = 1;
                    b_number = 1;
                    break;
                }
            }
        }
        let a_end = digits_from(left, index, &mut a_number);
        let b_end = digits_from(right, index, &mut b_number);
        if a_number != b_number {
            return a_number.cmp(&b_number);
        }
        if a_end != b_end {
            return a_end.cmp(&b_end);
        }
        return a.cmp(&b);
    }
    left.len().cmp(&right.len())
}

fn digits_from<C: Copy + Into<char>>(text: &[C], start: usize, number: &mut i128) -> usize {
    let mut end = start;
    while end < text.len() && text[end].into().is_ascii_digit() {
        let digit = text[end].into() as u8 - b'0';
        *number = number.saturating_mul(10).saturating_add(i128::from(digit));
        end += 1;
    }
    end
}
