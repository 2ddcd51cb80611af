//! Reading YAML into JSON values the way sigs.k8s.io/yaml does (go-yaml v2 decoding into
//! `interface{}`, then conversion to JSON-compatible values).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Value as Json};

use super::resolve::{Resolved, resolve};

/// Nesting limit for collections, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 10_000;

/// Parses the first document of `text` (an empty stream is `null`).
pub fn parse_document(text: &str) -> Result<Json, String> {
    let mut documents = parse_stream(text, true, false)?;
    Ok(documents.pop().unwrap_or(Json::Null))
}

/// Parses every document of `text`.
pub fn parse_all_documents(text: &str) -> Result<Vec<Json>, String> {
    parse_stream(text, false, false)
}

/// Like [`parse_document`], with the same errors, but keeps only what Helm's
/// `SimpleHead` reads: top-level scalars, `kind`, and `metadata.name` and
/// `metadata.annotations`; every other value is checked and dropped (`null`).
pub fn parse_document_head(text: &str) -> Result<Json, String> {
    let mut documents = parse_stream(text, true, true)?;
    Ok(documents.pop().unwrap_or(Json::Null))
}

/// Which parts of a node to build.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The whole value.
    All,
    /// A document head: `kind` and the `metadata` head.
    Head,
    /// `metadata`: `name` and `annotations`.
    Metadata,
    /// Nothing: check it, return `null`.
    Nothing,
}

impl Want {
    /// What to build of the value under `key` of a mapping.
    fn entry(self, key: &Json) -> Want {
        match (self, key.as_str()) {
            (Want::All, _) => Want::All,
            (Want::Head, Some("kind")) | (Want::Metadata, Some("name" | "annotations")) => {
                Want::All
            }
            (Want::Head, Some("metadata")) => Want::Metadata,
            _ => Want::Nothing,
        }
    }
}

/// Plain scalars for the block fast path: what [`scalar`] makes of them, or `None` for the
/// ones that fail (the general parser then reports them).
fn fast_scalar(text: &str) -> Option<Json> {
    resolved_json(&resolve(text), text, 0).ok()
}

fn parse_stream(text: &str, first_only: bool, head_only: bool) -> Result<Vec<Json>, String> {
    if let Some(mut documents) = ferroflux_goyaml::parse_block(text, &fast_scalar) {
        if first_only {
            documents.truncate(1);
        }
        return Ok(documents);
    }
    parse_general(text, first_only, head_only)
}

/// The full YAML parser (saphyr events), for what the block fast path leaves.
fn parse_general(text: &str, first_only: bool, head_only: bool) -> Result<Vec<Json>, String> {
    if head_only {
        let mut reader = Reader::new(text, true);
        match reader.documents(first_only, Want::Head) {
            Err(_) if reader.fallback => {}
            result => return result,
        }
    }
    Reader::new(text, false).documents(first_only, Want::All)
}

struct Reader<'input> {
    parser: Parser<'input, saphyr_parser::StrInput<'input>>,
    anchors: HashMap<usize, Json>,
    depth: usize,
    /// Building only part of the tree: anchors, aliases and merge keys give up instead
    /// (setting `fallback`), as they could copy dropped values into kept ones.
    partial: bool,
    fallback: bool,
}

fn yaml_error(line: usize, message: &str) -> String {
    format!("yaml: line {line}: {message}")
}

impl<'input> Reader<'input> {
    fn new(text: &'input str, partial: bool) -> Self {
        Reader {
            parser: Parser::new_from_str(text),
            anchors: HashMap::new(),
            depth: 0,
            partial,
            fallback: false,
        }
    }

    fn documents(&mut self, first_only: bool, want: Want) -> Result<Vec<Json>, String> {
        let mut documents = Vec::new();
        loop {
            match self.next()? {
                (Event::StreamEnd, _) => break,
                (Event::DocumentStart(_), _) => {
                    let (event, span) = self.next()?;
                    let value = if matches!(event, Event::DocumentEnd) {
                        Json::Null
                    } else {
                        let value = self.node(event, span, want)?;
                        self.expect_document_end()?;
                        value
                    };
                    documents.push(value);
                    if first_only {
                        break;
                    }
                }
                _ => {}
            }
        }
        Ok(documents)
    }

    fn next(&mut self) -> Result<(Event<'input>, Span), String> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(yaml_error(error.marker().line(), error.info())),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn expect_document_end(&mut self) -> Result<(), String> {
        loop {
            if let (Event::DocumentEnd | Event::StreamEnd, _) = self.next()? {
                return Ok(());
            }
        }
    }

    /// Gives up on a partial build (see [`Reader::partial`]).
    fn give_up(&mut self) -> Result<Json, String> {
        self.fallback = true;
        Err(String::new())
    }

    fn node(&mut self, event: Event<'input>, span: Span, want: Want) -> Result<Json, String> {
        if self.partial
            && matches!(
                event,
                Event::Alias(_)
                    | Event::Scalar(_, _, 1.., _)
                    | Event::SequenceStart(1.., _)
                    | Event::MappingStart(1.., _)
            )
        {
            return self.give_up();
        }
        match event {
            Event::Scalar(text, style, _, tag) if want == Want::Nothing => {
                check_scalar(&text, style, tag.as_deref(), span.start.line())?;
                Ok(Json::Null)
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(&text, style, tag.as_deref(), span.start.line())?;
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::Alias(anchor) => self
                .anchors
                .get(&anchor)
                .cloned()
                .ok_or_else(|| yaml_error(span.start.line(), "unknown anchor referenced")),
            Event::SequenceStart(anchor, _) => {
                self.enter(span)?;
                let mut items = Vec::new();
                let item_want = if want == Want::All {
                    Want::All
                } else {
                    Want::Nothing
                };
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    let item = self.node(event, span, item_want)?;
                    if item_want == Want::All {
                        items.push(item);
                    }
                }
                self.depth -= 1;
                let value = Json::Array(items);
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::MappingStart(anchor, _) => {
                self.enter(span)?;
                let value = Json::Object(self.mapping(want)?);
                self.depth -= 1;
                self.remember(anchor, &value);
                Ok(value)
            }
            _ => Err(yaml_error(
                span.start.line(),
                "did not find expected node content",
            )),
        }
    }

    fn enter(&mut self, span: Span) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(yaml_error(span.start.line(), "exceeded max depth of 10000"));
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, value: &Json) {
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
    }

    fn mapping(&mut self, want: Want) -> Result<Map<String, Json>, String> {
        let mut entries = Map::new();
        let mut merged: Vec<Map<String, Json>> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let is_merge =
                matches!(&event, Event::Scalar(text, ScalarStyle::Plain, _, None) if text == "<<");
            if is_merge && self.partial {
                self.give_up()?;
            }
            let key = self.node(event, span, Want::All)?;
            let (event, span) = self.next()?;
            let entry_want = want.entry(&key);
            let value = self.node(event, span, entry_want)?;
            if is_merge {
                match value {
                    Json::Object(map) => merged.push(map),
                    Json::Array(items) => {
                        for item in items.into_iter().rev() {
                            match item {
                                Json::Object(map) => merged.push(map),
                                _ => {
                                    return Err(yaml_error(
                                        span.start.line(),
                                        "map merge requires map or sequence of maps as the value",
                                    ));
                                }
                            }
                        }
                    }
                    _ => {
                        return Err(yaml_error(
                            span.start.line(),
                            "map merge requires map or sequence of maps as the value",
                        ));
                    }
                }
                continue;
            }
            let key = key_string(&key)?;
            if entry_want != Want::Nothing {
                entries.insert(key, value);
            }
        }
        if merged.is_empty() {
            return Ok(entries);
        }
        let mut result = Map::new();
        for map in merged {
            for (k, v) in map {
                result.insert(k, v);
            }
        }
        for (k, v) in entries {
            result.insert(k, v);
        }
        Ok(result)
    }
}

/// sigs.k8s.io/yaml's conversion of non-string keys.
fn key_string(key: &Json) -> Result<String, String> {
    match key {
        Json::String(s) => Ok(s.clone()),
        Json::Bool(b) => Ok(b.to_string()),
        Json::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            if n.is_i64() || n.is_u64() {
                Ok(n.to_string())
            } else if f.fract() == 0.0 && f.abs() < 1e15 {
                #[expect(clippy::cast_possible_truncation, reason = "integral and in range")]
                Ok((f as i64).to_string())
            } else {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "Go formats float keys as float32"
                )]
                let short = n.as_f64().unwrap_or(0.0) as f32;
                Ok(ferroflux_gotmpl::format::sprint(&[
                    ferroflux_gotmpl::Value::Float(f64::from(short)),
                ]))
            }
        }
        other => Err(format!("unsupported map key of type: {}", go_kind(other))),
    }
}

fn go_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "<nil>",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[interface {}]interface {}",
        _ => "unknown",
    }
}

fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>, line: usize) -> Result<Json, String> {
    if let Some(tag) = tag {
        return tagged_scalar(text, tag, line);
    }
    if style != ScalarStyle::Plain {
        return Ok(Json::String(text.to_owned()));
    }
    resolved_json(&resolve(text), text, line)
}

/// The errors [`scalar`] would return, without building the value.
fn check_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    line: usize,
) -> Result<(), String> {
    if let Some(tag) = tag {
        return tagged_scalar(text, tag, line).map(drop);
    }
    if style == ScalarStyle::Plain
        && let resolved @ Resolved::Float(f) = resolve(text)
        && !f.is_finite()
    {
        resolved_json(&resolved, text, line)?;
    }
    Ok(())
}

fn resolved_json(resolved: &Resolved, text: &str, line: usize) -> Result<Json, String> {
    Ok(match resolved {
        Resolved::Null => Json::Null,
        Resolved::Bool(b) => Json::Bool(*b),
        // sigs.k8s.io/yaml goes through JSON, so every number ends up a float64.
        #[expect(
            clippy::cast_precision_loss,
            reason = "Go's json.Unmarshal makes float64"
        )]
        Resolved::Int(i) => float_json(*i as f64),
        #[expect(
            clippy::cast_precision_loss,
            reason = "Go's json.Unmarshal makes float64"
        )]
        Resolved::Uint(u) => float_json(*u as f64),
        Resolved::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| {
                yaml_error(
                    line,
                    &format!(
                        "json: unsupported value: {}",
                        ferroflux_gotmpl::format::sprint(&[ferroflux_gotmpl::Value::Float(*f)])
                    ),
                )
            })?,
        // go-yaml v2 keeps timestamp-looking scalars as strings inside interface{}.
        Resolved::Timestamp(_) | Resolved::Str | Resolved::Merge => Json::String(text.to_owned()),
    })
}

fn tagged_scalar(text: &str, tag: &Tag, line: usize) -> Result<Json, String> {
    let name = if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
        tag.suffix.as_str()
    } else {
        return Ok(Json::String(text.to_owned()));
    };
    let resolved = resolve(text);
    let ok = match (name, &resolved) {
        ("str" | "binary", _) => return Ok(Json::String(text.to_owned())),
        ("null", Resolved::Null)
        | ("bool", Resolved::Bool(_))
        | ("int", Resolved::Int(_) | Resolved::Uint(_))
        | ("float", Resolved::Float(_))
        | ("timestamp", Resolved::Timestamp(_)) => true,
        ("float", Resolved::Int(i)) => {
            #[expect(
                clippy::cast_precision_loss,
                reason = "Go converts int to float64 here"
            )]
            return resolved_json(&Resolved::Float(*i as f64), text, line);
        }
        _ => false,
    };
    if ok {
        resolved_json(&resolved, text, line)
    } else {
        Err(format!(
            "yaml: cannot decode {} `{text}` as a !!{name}",
            short_tag(&resolved)
        ))
    }
}

fn short_tag(resolved: &Resolved) -> &'static str {
    match resolved {
        Resolved::Null => "!!null",
        Resolved::Bool(_) => "!!bool",
        Resolved::Int(_) | Resolved::Uint(_) => "!!int",
        Resolved::Float(_) => "!!float",
        Resolved::Timestamp(_) => "!!timestamp",
        Resolved::Str | Resolved::Merge => "!!str",
    }
}

fn float_json(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

#[cfg(test)]
mod tests {
    use super::{fast_scalar, parse_document, parse_document_head, parse_general};

    /// The block fast path reads every test and fixture file it accepts as the general
    /// parser does (sigs.k8s.io/yaml's rules).
    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        let files = ferroflux_testkit::yaml_corpus::files();
        assert!(files.len() > 500, "only {} YAML files found", files.len());
        let mut answered = 0;
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            if let Some(fast) = ferroflux_goyaml::parse_block(&text, &fast_scalar) {
                answered += 1;
                assert_eq!(
                    parse_general(&text, false, false).as_ref(),
                    Ok(&fast),
                    "{}",
                    file.display()
                );
            }
        }
        assert!(
            answered * 2 > files.len(),
            "answered {answered} of {}",
            files.len()
        );
    }

    /// The head parse fails exactly when the full parse does, with the same message, and
    /// agrees on what Helm reads from a document head.
    #[test]
    fn head_parse_agrees_with_the_full_parse() {
        let documents = [
            "kind: ConfigMap\nmetadata:\n  name: a\n  annotations: {helm.sh/hook: test}\ndata: {x: 1}",
            "kind: A\nspec: {x: .nan}",
            "kind: A\nspec: [1, {? [a] : b}]",
            "kind: A\nspec: !!int x",
            "kind: A\nbase: &b {kind: B}\nmetadata: *b",
            "kind: A\nspec:\n  <<: {a: 1}",
            "kind: A\nspec: [a, b\n",
            "kind: A\nkind: B\nmetadata: {name: x, name: y}",
            "- kind: A\n- b",
            "metadata: [name]\nkind: 1.5",
            "spec: {~: 1}\nkind: A",
            "",
            "kind: A\n---\nkind: B",
        ];
        for text in documents {
            let full = parse_document(text);
            let head = parse_document_head(text);
            match (&full, &head) {
                (Ok(full), Ok(head)) => {
                    for pointer in ["/kind", "/metadata/name", "/metadata/annotations"] {
                        assert_eq!(full.pointer(pointer), head.pointer(pointer), "{text:?}");
                    }
                }
                _ => assert_eq!(full.err(), head.err(), "{text:?}"),
            }
        }
    }
}
