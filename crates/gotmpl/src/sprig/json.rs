//! Go's `encoding/json` marshalling of template values (`json.Marshal`,
//! `json.MarshalIndent`, and an encoder with `SetEscapeHTML(false)`).

use crate::function::FuncError;
use crate::value::{ElemType, Value};

/// Options of one marshalling.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonStyle<'a> {
    /// Escape `<`, `>` and `&` as `json.Marshal` does.
    pub escape_html: bool,
    /// `MarshalIndent`'s indent string; `None` prints compactly.
    pub indent: Option<&'a str>,
}

/// Marshals `value` like Go's `encoding/json`.
pub fn marshal(value: &Value, style: JsonStyle<'_>) -> Result<String, FuncError> {
    let mut out = String::new();
    write_value(&mut out, value, style, 0)?;
    Ok(out)
}

fn write_value(
    out: &mut String,
    value: &Value,
    style: JsonStyle<'_>,
    depth: usize,
) -> Result<(), FuncError> {
    if depth > 10_000 {
        return Err(FuncError::new(
            "json: unsupported value: encountered a cycle",
        ));
    }
    match value {
        Value::Nil | Value::Func(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Uint64(u) => out.push_str(&u.to_string()),
        Value::Uint8(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&float(*f)?),
        Value::String(s) => write_string(out, s, style.escape_html),
        Value::Slice(s) if s.elem == ElemType::Uint8 => {
            use base64::Engine as _;
            let bytes: Vec<u8> = s
                .items
                .iter()
                .map(|v| u8::try_from(v.as_i64().unwrap_or(0)).unwrap_or(0))
                .collect();
            write_string(
                out,
                &base64::engine::general_purpose::STANDARD.encode(bytes),
                false,
            );
        }
        Value::Slice(s) => {
            let items: Vec<&Value> = s.items.iter().collect();
            write_sequence(out, '[', ']', &items, style, depth, |out, item, depth| {
                write_value(out, item, style, depth)
            })?;
        }
        Value::Map(m) => {
            let entries: Vec<(String, Value)> = m.snapshot().into_iter().collect();
            write_entries(out, &entries, style, depth)?;
        }
        Value::Object(o) => write_entries(out, &o.fields(), style, depth)?,
    }
    Ok(())
}

fn write_entries(
    out: &mut String,
    entries: &[(String, Value)],
    style: JsonStyle<'_>,
    depth: usize,
) -> Result<(), FuncError> {
    let refs: Vec<&(String, Value)> = entries.iter().collect();
    write_sequence(
        out,
        '{',
        '}',
        &refs,
        style,
        depth,
        |out, (key, value), depth| {
            write_string(out, key, style.escape_html);
            out.push(':');
            if style.indent.is_some() {
                out.push(' ');
            }
            write_value(out, value, style, depth)
        },
    )
}

fn write_sequence<T>(
    out: &mut String,
    open: char,
    close: char,
    items: &[T],
    style: JsonStyle<'_>,
    depth: usize,
    mut each: impl FnMut(&mut String, &T, usize) -> Result<(), FuncError>,
) -> Result<(), FuncError> {
    out.push(open);
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        if let Some(indent) = style.indent {
            out.push('\n');
            out.push_str(&indent.repeat(depth + 1));
        }
        each(out, item, depth + 1)?;
    }
    if let Some(indent) = style.indent
        && !items.is_empty()
    {
        out.push('\n');
        out.push_str(&indent.repeat(depth));
    }
    out.push(close);
    Ok(())
}

/// `json.Marshal` of a float64: `'f'` format, or `'e'` below 1e-6 and from 1e21.
pub fn float(f: f64) -> Result<String, FuncError> {
    if !f.is_finite() {
        let printed = crate::format::sprint(&[Value::Float(f)]);
        return Err(FuncError::new(format!(
            "json: unsupported value: {printed}"
        )));
    }
    let magnitude = f.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        return Ok(shortest_exponent(f));
    }
    // Rust's `{}` is the shortest round-trip in plain digits, like Go's 'f' with -1.
    Ok(format!("{f}"))
}

/// Shortest round-trip `'e'` formatting with Go's exponent clean-up (`e-07` → `e-7`).
fn shortest_exponent(f: f64) -> String {
    let text = format!("{f:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < 0 {
        format!("{mantissa}e-{}", -exponent)
    } else {
        format!("{mantissa}e+{exponent}")
    }
}

fn write_string(out: &mut String, text: &str, escape_html: bool) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => unicode_escape(out, c),
            '\u{2028}' | '\u{2029}' => unicode_escape(out, c),
            c if u32::from(c) < 0x20 => unicode_escape(out, c),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn unicode_escape(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let _ = write!(out, "\\u{:04x}", u32::from(c));
}
