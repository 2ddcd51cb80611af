//! String functions: case, trimming, quoting, indentation, splitting and joining.

use std::collections::BTreeMap;

use super::{Registry, arg_int, arg_str, string_list, strslice, strval};
use crate::function::{Arity, ParamType as P};
use crate::value::{ElemType, Value};

pub(crate) fn register(r: &mut Registry) {
    register_case(r);
    register_trim(r);
    register_quote(r);
    register_split(r);
    r.typed("hello", &[], None, |_| Ok(Value::from("Hello!")));
    r.typed("repeat", &[P::Int, P::String], None, |a| {
        let count = usize::try_from(arg_int(a, 0))
            .map_err(|_| crate::FuncError::new("strings: negative Repeat count"))?;
        let text = arg_str(a, 1);
        if text.len().saturating_mul(count) > 64 << 20 {
            return Err(crate::FuncError::new(
                "strings: Repeat output length overflow",
            ));
        }
        Ok(Value::from(text.repeat(count)))
    });
    r.typed("substr", &[P::Int, P::Int, P::String], None, |a| {
        Ok(Value::from(substring(
            arg_int(a, 0),
            arg_int(a, 1),
            arg_str(a, 2),
        )))
    });
    r.typed("trunc", &[P::Int, P::String], None, |a| {
        Ok(Value::from(truncate(arg_int(a, 0), arg_str(a, 1))))
    });
    r.typed("abbrev", &[P::Int, P::String], None, |a| {
        let (width, text) = (arg_int(a, 0), arg_str(a, 1));
        if width < 4 {
            return Ok(Value::from(text));
        }
        Ok(Value::from(abbreviate_full(text, 0, width)))
    });
    r.typed("abbrevboth", &[P::Int, P::Int, P::String], None, |a| {
        let (left, right, text) = (arg_int(a, 0), arg_int(a, 1), arg_str(a, 2));
        if right < 4 || (left > 0 && right < 7) {
            return Ok(Value::from(text));
        }
        Ok(Value::from(abbreviate_full(text, left, right)))
    });
    r.typed("indent", &[P::Int, P::String], None, |a| {
        Ok(Value::from(indent(arg_int(a, 0), arg_str(a, 1))))
    });
    r.typed("nindent", &[P::Int, P::String], None, |a| {
        Ok(Value::from(format!(
            "\n{}",
            indent(arg_int(a, 0), arg_str(a, 1))
        )))
    });
    r.typed("replace", &[P::String, P::String, P::String], None, |a| {
        Ok(Value::from(
            arg_str(a, 2).replace(arg_str(a, 0), arg_str(a, 1)),
        ))
    });
    r.typed("plural", &[P::String, P::String, P::Int], None, |a| {
        Ok(Value::from(if arg_int(a, 2) == 1 {
            arg_str(a, 0)
        } else {
            arg_str(a, 1)
        }))
    });
    r.typed("wrap", &[P::Int, P::String], None, |a| {
        Ok(Value::from(wrap(arg_str(a, 1), arg_int(a, 0), "\n")))
    });
    r.typed("wrapWith", &[P::Int, P::String, P::String], None, |a| {
        Ok(Value::from(wrap(
            arg_str(a, 2),
            arg_int(a, 0),
            arg_str(a, 1),
        )))
    });
    r.any("cat", Arity::AtLeast(0), |a| {
        let kept: Vec<Value> = a.iter().filter(|v| !v.is_nil()).cloned().collect();
        let format = "%v ".repeat(kept.len());
        Ok(Value::from(crate::format::sprintf(format.trim(), &kept)))
    });
    r.any("toString", Arity::Exact(1), |a| {
        Ok(Value::from(strval(&a[0])))
    });
    r.typed("atoi", &[P::String], None, |a| {
        Ok(Value::Int(arg_str(a, 0).parse::<i64>().unwrap_or(0)))
    });
}

fn register_case(r: &mut Registry) {
    r.typed("upper", &[P::String], None, |a| {
        Ok(Value::from(arg_str(a, 0).to_uppercase()))
    });
    r.typed("lower", &[P::String], None, |a| {
        Ok(Value::from(arg_str(a, 0).to_lowercase()))
    });
    r.typed("title", &[P::String], None, |a| {
        Ok(Value::from(title(arg_str(a, 0))))
    });
    r.typed("untitle", &[P::String], None, |a| {
        Ok(Value::from(untitle(arg_str(a, 0))))
    });
    r.typed("swapcase", &[P::String], None, |a| {
        Ok(Value::from(swapcase(arg_str(a, 0))))
    });
    r.typed("snakecase", &[P::String], None, |a| {
        Ok(Value::from(delimited_case(arg_str(a, 0), '_')))
    });
    r.typed("kebabcase", &[P::String], None, |a| {
        Ok(Value::from(delimited_case(arg_str(a, 0), '-')))
    });
    r.typed("camelcase", &[P::String], None, |a| {
        Ok(Value::from(pascal_case(arg_str(a, 0))))
    });
    r.typed("initials", &[P::String], None, |a| {
        let initials: String = arg_str(a, 0)
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .collect();
        Ok(Value::from(initials))
    });
}

fn register_trim(r: &mut Registry) {
    r.typed("trim", &[P::String], None, |a| {
        Ok(Value::from(arg_str(a, 0).trim()))
    });
    for name in ["trimall", "trimAll"] {
        r.typed(name, &[P::String, P::String], None, |a| {
            let cut: Vec<char> = arg_str(a, 0).chars().collect();
            Ok(Value::from(arg_str(a, 1).trim_matches(cut.as_slice())))
        });
    }
    r.typed("trimSuffix", &[P::String, P::String], None, |a| {
        let (suffix, text) = (arg_str(a, 0), arg_str(a, 1));
        Ok(Value::from(text.strip_suffix(suffix).unwrap_or(text)))
    });
    r.typed("trimPrefix", &[P::String, P::String], None, |a| {
        let (prefix, text) = (arg_str(a, 0), arg_str(a, 1));
        Ok(Value::from(text.strip_prefix(prefix).unwrap_or(text)))
    });
    r.typed("nospace", &[P::String], None, |a| {
        Ok(Value::from(
            arg_str(a, 0)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>(),
        ))
    });
    r.typed("contains", &[P::String, P::String], None, |a| {
        Ok(Value::Bool(arg_str(a, 1).contains(arg_str(a, 0))))
    });
    r.typed("hasPrefix", &[P::String, P::String], None, |a| {
        Ok(Value::Bool(arg_str(a, 1).starts_with(arg_str(a, 0))))
    });
    r.typed("hasSuffix", &[P::String, P::String], None, |a| {
        Ok(Value::Bool(arg_str(a, 1).ends_with(arg_str(a, 0))))
    });
}

fn register_quote(r: &mut Registry) {
    r.any("quote", Arity::AtLeast(0), |a| {
        let quoted: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| crate::format::quote(&strval(v), false))
            .collect();
        Ok(Value::from(quoted.join(" ")))
    });
    r.any("squote", Arity::AtLeast(0), |a| {
        let quoted: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", strval(v)))
            .collect();
        Ok(Value::from(quoted.join(" ")))
    });
}

fn register_split(r: &mut Registry) {
    r.typed("split", &[P::String, P::String], None, |a| {
        let parts: Vec<&str> = go_split(arg_str(a, 1), arg_str(a, 0), -1);
        Ok(indexed_map(&parts))
    });
    r.typed("splitn", &[P::String, P::Int, P::String], None, |a| {
        let parts = go_split(arg_str(a, 2), arg_str(a, 0), arg_int(a, 1));
        Ok(indexed_map(&parts))
    });
    r.typed("splitList", &[P::String, P::String], None, |a| {
        let parts = go_split(arg_str(a, 1), arg_str(a, 0), -1);
        Ok(string_list(parts.into_iter().map(str::to_owned).collect()))
    });
    r.any("toStrings", Arity::Exact(1), |a| {
        Ok(string_list(strslice(&a[0])))
    });
    r.typed("join", &[P::String, P::Any], None, |a| {
        Ok(Value::from(strslice(&a[1]).join(arg_str(a, 0))))
    });
    r.any("sortAlpha", Arity::Exact(1), |a| {
        let mut items = match &a[0] {
            Value::Slice(_) => strslice(&a[0]),
            other => vec![strval(other)],
        };
        items.sort();
        Ok(string_list(items))
    });
}

fn indexed_map(parts: &[&str]) -> Value {
    let entries: BTreeMap<String, Value> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| (format!("_{i}"), Value::from(*part)))
        .collect();
    Value::typed_map(ElemType::String, entries)
}

/// Go's `strings.SplitN` (`n < 0` means all); an empty separator splits into characters.
pub(crate) fn go_split<'a>(text: &'a str, separator: &str, n: i64) -> Vec<&'a str> {
    if n == 0 {
        return Vec::new();
    }
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    if separator.is_empty() {
        let mut parts: Vec<&str> = Vec::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if parts.len() + 1 == limit {
                break;
            }
            parts.push(&rest[..c.len_utf8()]);
            rest = &rest[c.len_utf8()..];
        }
        if !rest.is_empty() {
            parts.push(rest);
        }
        return parts;
    }
    text.splitn(limit, separator).collect()
}

fn substring(start: i64, end: i64, text: &str) -> String {
    let bytes = text.as_bytes();
    let len = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let range = if start < 0 {
        0..end.clamp(0, len)
    } else if end < 0 || end > len {
        start.min(len)..len
    } else {
        start.min(end)..end
    };
    let (from, to) = (
        usize::try_from(range.start).unwrap_or(0),
        usize::try_from(range.end).unwrap_or(0),
    );
    String::from_utf8_lossy(&bytes[from..to]).into_owned()
}

fn truncate(count: i64, text: &str) -> String {
    let len = i64::try_from(text.len()).unwrap_or(i64::MAX);
    let bytes = text.as_bytes();
    if count < 0 && len + count > 0 {
        let from = usize::try_from(len + count).unwrap_or(0);
        return String::from_utf8_lossy(&bytes[from..]).into_owned();
    }
    if count >= 0 && len > count {
        let to = usize::try_from(count).unwrap_or(0);
        return String::from_utf8_lossy(&bytes[..to]).into_owned();
    }
    text.to_owned()
}

fn abbreviate_full(text: &str, offset: i64, width: i64) -> String {
    let len = i64::try_from(text.len()).unwrap_or(i64::MAX);
    if len <= width {
        return text.to_owned();
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    let slice = |from: i64, to: i64| {
        let (from, to) = (
            usize::try_from(from).unwrap_or(0),
            usize::try_from(to).unwrap_or(0),
        );
        String::from_utf8_lossy(&text.as_bytes()[from.min(to)..to]).into_owned()
    };
    if offset <= 4 {
        return format!("{}...", slice(0, width - 3));
    }
    if width < 7 {
        return String::new();
    }
    if offset + width - 3 < len {
        return format!("...{}", abbreviate_full(&slice(offset, len), 0, width - 3));
    }
    format!("...{}", slice(len - (width - 3), len))
}

fn indent(spaces: i64, text: &str) -> String {
    let pad = " ".repeat(usize::try_from(spaces).unwrap_or(0));
    format!("{pad}{}", text.replace('\n', &format!("\n{pad}")))
}

/// Go's `strings.Title`: upper-cases letters that start words.
fn title(text: &str) -> String {
    let mut previous = ' ';
    text.chars()
        .map(|c| {
            let out = if is_separator(previous) {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c
            };
            previous = c;
            out
        })
        .collect()
}

fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    !c.is_alphanumeric() && c.is_whitespace()
}

fn untitle(text: &str) -> String {
    let mut previous_space = true;
    text.chars()
        .map(|c| {
            let out = if previous_space {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                c
            };
            previous_space = c.is_whitespace();
            out
        })
        .collect()
}

fn swapcase(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_uppercase() {
                c.to_lowercase().next().unwrap_or(c)
            } else if c.is_lowercase() {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// Splits identifiers into words at case changes and punctuation (xstrings' rules).
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && previous.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn delimited_case(text: &str, delimiter: char) -> String {
    words(text)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(&delimiter.to_string())
}

fn pascal_case(text: &str) -> String {
    text.split(['_', ' ', '-', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// goutils `WrapCustom(text, width, newline, false)`.
fn wrap(text: &str, width: i64, newline: &str) -> String {
    let width = usize::try_from(width.max(1)).unwrap_or(1);
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let mut rest = line.trim_start_matches(' ');
        while rest.len() > width {
            let slice_end = rest
                .char_indices()
                .map(|(i, _)| i)
                .take_while(|&i| i <= width)
                .last()
                .unwrap_or(0);
            match rest[..=slice_end.min(rest.len() - 1)].rfind(' ') {
                Some(space) if space > 0 => {
                    lines.push(rest[..space].to_owned());
                    rest = rest[space + 1..].trim_start_matches(' ');
                }
                _ => match rest.find(' ') {
                    Some(space) => {
                        lines.push(rest[..space].to_owned());
                        rest = rest[space + 1..].trim_start_matches(' ');
                    }
                    None => break,
                },
            }
        }
        lines.push(rest.to_owned());
    }
    lines.join(newline)
}
