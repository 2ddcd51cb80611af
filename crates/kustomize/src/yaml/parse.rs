//! YAML text to generic values, with go-yaml v3's decoding rules.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};
use serde_json::{Map, Value};

use ferroflux_goyaml::{parse_number, resolve_plain_v2, resolve_plain_v3};

/// A parse failure with the 1-based line where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

enum Frame {
    Sequence {
        items: Vec<Value>,
        anchor: usize,
    },
    Mapping {
        map: Map<String, Value>,
        key: Option<String>,
        anchor: usize,
        merges: Vec<Value>,
    },
}

/// Parses every document of a stream; empty documents come back as `Value::Null`.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, ParseError> {
    parse_documents_with(text, false)
}

/// Parses with YAML 1.1 scalar rules (`yes`, `on`, `y` are booleans), as kustomize does
/// for kustomization files, which it reads through `sigs.k8s.io/yaml` (go-yaml v2).
pub fn parse_documents_yaml11(text: &str) -> Result<Vec<Value>, ParseError> {
    parse_documents_with(text, true)
}

fn parse_documents_with(text: &str, yaml11: bool) -> Result<Vec<Value>, ParseError> {
    check_input(text)?;
    let mut documents = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Value> = HashMap::new();
    let mut current: Option<Value> = None;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|error| ParseError {
            line: error.marker().line(),
            message: error.info().to_owned(),
        })?;
        let line = span.start.line();
        let finished = match event {
            Event::DocumentStart(_) => {
                current = None;
                None
            }
            Event::DocumentEnd => {
                documents.push(current.take().unwrap_or(Value::Null));
                None
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar_value(&text, style, tag.as_deref(), line)?;
                let value = if yaml11 && style == ScalarStyle::Plain && tag.is_none() {
                    resolve_plain_v2(&text)
                } else {
                    value
                };
                remember(&mut anchors, anchor, &value);
                Some(value)
            }
            Event::Alias(id) => Some(anchors.get(&id).cloned().ok_or_else(|| ParseError {
                line,
                message: "unknown anchor".to_owned(),
            })?),
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Sequence {
                    items: Vec::new(),
                    anchor,
                });
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Mapping {
                    map: Map::new(),
                    key: None,
                    anchor,
                    merges: Vec::new(),
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = stack.pop();
                let anchor = frame.as_ref().map_or(0, |frame| match frame {
                    Frame::Sequence { anchor, .. } | Frame::Mapping { anchor, .. } => *anchor,
                });
                let value = close_frame(frame, line)?;
                remember(&mut anchors, anchor, &value);
                Some(value)
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
        };
        if let Some(value) = finished {
            place(&mut stack, &mut current, value, line)?;
        }
    }
    Ok(documents)
}

/// go-yaml refuses raw control characters and any `%YAML` version but 1.1.
fn check_input(text: &str) -> Result<(), ParseError> {
    for (index, line) in text.lines().enumerate() {
        if let Some(version) = line.strip_prefix("%YAML")
            && version.split_whitespace().next() != Some("1.1")
        {
            return Err(ParseError {
                line: index + 1,
                message: "found incompatible YAML document".to_owned(),
            });
        }
        let allowed = |character: char| {
            matches!(character, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
                || u32::from(character) >= 0x10000
        };
        if !line.chars().all(allowed) {
            return Err(ParseError {
                line: index + 1,
                message: "control characters are not allowed".to_owned(),
            });
        }
    }
    Ok(())
}

fn remember(anchors: &mut HashMap<usize, Value>, anchor: usize, value: &Value) {
    if anchor > 0 {
        anchors.insert(anchor, value.clone());
    }
}

fn close_frame(frame: Option<Frame>, line: usize) -> Result<Value, ParseError> {
    match frame {
        Some(Frame::Sequence { items, .. }) => Ok(Value::Array(items)),
        Some(Frame::Mapping {
            mut map, merges, ..
        }) => {
            // Merge keys (`<<`) never override keys written in the mapping itself.
            for merge in merges {
                let sources = match merge {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                for source in sources {
                    let Value::Object(source) = source else {
                        return Err(ParseError {
                            line,
                            message: "map merge requires map or sequence of maps as the value"
                                .to_owned(),
                        });
                    };
                    for (key, value) in source {
                        map.entry(key).or_insert(value);
                    }
                }
            }
            Ok(Value::Object(map))
        }
        None => Err(ParseError {
            line,
            message: "unbalanced collection end".to_owned(),
        }),
    }
}

/// Puts a finished node into its parent, or makes it the document root.
fn place(
    stack: &mut [Frame],
    current: &mut Option<Value>,
    value: Value,
    line: usize,
) -> Result<(), ParseError> {
    let Some(parent) = stack.last_mut() else {
        *current = Some(value);
        return Ok(());
    };
    match parent {
        Frame::Sequence { items, .. } => items.push(value),
        Frame::Mapping {
            map, key, merges, ..
        } => match key.take() {
            None => *key = Some(key_text(value, line)?),
            Some(name) if name == "<<" => merges.push(value),
            Some(name) => {
                if map.contains_key(&name) {
                    return Err(ParseError {
                        line,
                        message: format!("mapping key \"{name}\" already defined"),
                    });
                }
                map.insert(name, value);
            }
        },
    }
    Ok(())
}

/// Kustomize can only represent string keys (resources become JSON objects).
fn key_text(value: Value, line: usize) -> Result<String, ParseError> {
    match value {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null => Ok(String::new()),
        Value::Array(_) | Value::Object(_) => Err(ParseError {
            line,
            message: "complex mapping keys are not supported".to_owned(),
        }),
    }
}

fn scalar_value(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    line: usize,
) -> Result<Value, ParseError> {
    if let Some(tag) = tag
        && (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:")
    {
        return tagged_value(text, &tag.suffix, line);
    }
    if style == ScalarStyle::Plain {
        Ok(resolve_plain_v3(text))
    } else {
        Ok(Value::String(text.to_owned()))
    }
}

fn tagged_value(text: &str, suffix: &str, line: usize) -> Result<Value, ParseError> {
    let invalid = || ParseError {
        line,
        message: format!("cannot decode !!{suffix} `{text}`"),
    };
    match suffix {
        "str" | "binary" | "timestamp" => Ok(Value::String(text.to_owned())),
        "null" => Ok(Value::Null),
        "bool" => match resolve_plain_v3(text) {
            Value::Bool(flag) => Ok(Value::Bool(flag)),
            _ => Err(invalid()),
        },
        "int" | "float" => parse_number(text).map(Value::Number).ok_or_else(invalid),
        _ => Ok(resolve_plain_v3(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multiple_documents_with_anchors_and_merges() {
        let text = "a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n---\n---\n- 1\n";
        let documents = parse_documents(text).expect("valid yaml");
        assert_eq!(documents.len(), 3);
        assert_eq!(documents[0]["c"]["b"], Value::from(1));
        assert_eq!(documents[1], Value::Null);
    }

    #[test]
    fn rejects_duplicate_keys_with_line() {
        let error = parse_documents("a: 1\na: 2\n").expect_err("duplicate key");
        assert_eq!(error.line, 2);
    }
}
