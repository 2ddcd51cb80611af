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
    if let Some(documents) = ferroflux_goyaml::parse_block(text, fast_resolver(yaml11)) {
        return Ok(documents);
    }
    parse_general(text, yaml11)
}

fn fast_resolver(yaml11: bool) -> ferroflux_goyaml::Resolve<'static> {
    if yaml11 {
        &|plain| Some(resolve_plain_v2(plain))
    } else {
        &|plain| Some(resolve_plain_v3(plain))
    }
}

/// The full YAML parser (saphyr events), for what the block fast path leaves.
fn parse_general(text: &str, yaml11: bool) -> Result<Vec<Value>, ParseError> {
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
    let plain = |byte: &u8| matches!(byte, b'\t' | b'\n' | b'\r' | 0x20..=0x7E);
    if text.as_bytes().iter().all(plain) && !text.contains("%YAML") {
        return Ok(());
    }
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

    /// The block fast path must agree with the general parser wherever it answers.
    fn assert_fast_path_agrees(text: &str, origin: &str) -> bool {
        let mut answered = false;
        for yaml11 in [false, true] {
            if check_input(text).is_err() {
                continue;
            }
            if let Some(fast) = ferroflux_goyaml::parse_block(text, fast_resolver(yaml11)) {
                answered = true;
                let general = parse_general(text, yaml11);
                assert_eq!(
                    general.as_ref().ok(),
                    Some(&fast),
                    "{origin} (yaml11 {yaml11}): {text:?} gave {general:?}"
                );
            }
        }
        answered
    }

    #[test]
    fn fast_path_agrees_on_every_test_and_fixture_file() {
        let files = ferroflux_testkit::yaml_corpus::files();
        assert!(files.len() > 500, "only {} YAML files found", files.len());
        let mut answered = 0;
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            if assert_fast_path_agrees(&text, &file.display().to_string()) {
                answered += 1;
            }
        }
        eprintln!("fast path answered {answered} of {} files", files.len());
        // Most real files are in the subset; a drop here means the fast path lost ground.
        assert!(
            answered * 2 > files.len(),
            "fast path answered {answered} of {} files",
            files.len()
        );
    }

    fn scalar_strategy() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            proptest::sample::select(vec![
                "",
                "~",
                "null",
                "yes",
                "no",
                "on",
                "y",
                "true",
                "1",
                "0x1F",
                "1e3",
                "1_000",
                "012",
                "-",
                "- a",
                ": x",
                "a: b",
                "a #b",
                "#x",
                "'q'",
                "\"d\"",
                "[]",
                "{}",
                "&a",
                "*a",
                "!t",
                "|",
                ">",
                "%x",
                "@x",
                "2001-12-14",
                "1:20",
                ".5",
                "-.inf",
                "a\nb",
                "a\n",
                " lead",
                "trail ",
                "x'y",
                "é",
                "---",
                "...",
                "<<",
                "?",
                "a:",
            ])
            .prop_map(|text| Value::String(text.to_owned())),
            "[a-z :#'\"\\-]{0,8}".prop_map(Value::String),
            any::<i32>().prop_map(Value::from),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ]
    }

    fn value_strategy() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        scalar_strategy().prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec(
                    ("[a-z][a-z0-9./-]{0,6}|yes|1|a b|a#b|\"k\"", inner),
                    0..5
                )
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Printed values, and the same text with one character changed, read the same
        /// way on both paths.
        #[test]
        fn fast_path_agrees_on_printed_and_mutated_values(
            value in value_strategy(),
            second in value_strategy(),
            at in proptest::prelude::any::<proptest::sample::Index>(),
            replacement in proptest::sample::select(vec![
                "", " ", "  ", "-", "- ", ":", ": ", "#", " #", "'", "\"", "|", "|-", "\n",
                "\n  ", "\n- ", "---\n", "[]", "{}", "&", "*", "x",
            ]),
        ) {
            let text = format!("{}---\n{}", ferroflux_goyaml::to_yaml(&value), ferroflux_goyaml::to_yaml(&second));
            assert_fast_path_agrees(&text, "printed");
            let mut boundaries: Vec<usize> = text.char_indices().map(|(index, _)| index).collect();
            boundaries.push(text.len());
            let start = boundaries[at.index(boundaries.len())];
            let end = boundaries
                .iter()
                .copied()
                .find(|&index| index > start)
                .unwrap_or(start);
            let mutated = format!("{}{replacement}{}", &text[..start], &text[end..]);
            assert_fast_path_agrees(&mutated, "mutated");
        }
    }

    #[test]
    fn rejects_duplicate_keys_with_line() {
        let error = parse_documents("a: 1\na: 2\n").expect_err("duplicate key");
        assert_eq!(error.line, 2);
    }
}
