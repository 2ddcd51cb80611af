//! `toToml`: BurntSushi/toml's encoder for the shapes values take (tables of scalars,
//! arrays and nested tables).

use ferroflux_gotmpl::Value;
use std::fmt::Write as _;

/// Encodes a map as TOML; other values give BurntSushi's error text.
pub fn to_toml(value: &Value) -> String {
    let Value::Map(map) = value else {
        return "toml: top-level values must be Go maps or structs".to_owned();
    };
    let mut out = String::new();
    write_table(&mut out, &map.snapshot(), &[]);
    out
}

fn write_table(
    out: &mut String,
    entries: &std::collections::BTreeMap<String, Value>,
    path: &[String],
) {
    for (key, value) in entries {
        if !matches!(value, Value::Map(_)) {
            let _ = writeln!(
                out,
                "{}{} = {}",
                "  ".repeat(path.len().saturating_sub(1)),
                quote_key(key),
                scalar(value)
            );
        }
    }
    for (key, value) in entries {
        if let Value::Map(inner) = value {
            let mut child = path.to_vec();
            child.push(quote_key(key));
            let _ = write!(out, "\n{}[{}]\n", "  ".repeat(path.len()), child.join("."));
            write_table(out, &inner.snapshot(), &child);
        }
    }
}

fn quote_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{:?}", s.as_ref()),
        Value::Slice(s) => {
            let items: Vec<String> = s.items.iter().map(scalar).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.1}"),
        other => ferroflux_gotmpl::format::sprint(std::slice::from_ref(other)),
    }
}
