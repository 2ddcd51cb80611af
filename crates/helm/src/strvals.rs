//! Helm's `--set` syntax (pkg/strvals): `a.b=c,d[0]=e,f={x,y}`, backslash escapes,
//! typed values for `--set` (bools, `null`, int64), strings for `--set-string`, JSON for
//! `--set-json`.

use serde_json::{Map, Value as Json};

use crate::error::Error;

/// Helm's limits on list indexes and key nesting.
const MAX_INDEX: usize = 65_536;
const MAX_NESTED_NAME_LEVEL: usize = 30;

/// How values on the right of `=` are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `--set`: `true`/`false`/`null`/integers are typed.
    Typed,
    /// `--set-string`: always strings.
    String,
    /// `--set-json`: JSON values.
    Json,
}

enum Stop {
    Eof,
    At(char),
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    mode: Mode,
    _text: &'a str,
}

type Res<T> = Result<T, String>;

/// Parses `text` into `dest`, like `strvals.ParseInto` and friends.
pub fn parse_into(text: &str, dest: &mut Map<String, Json>, mode: Mode) -> Result<(), Error> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        pos: 0,
        mode,
        _text: text,
    };
    loop {
        match parser.key(dest, 0) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(message) => return Err(Error::Values(message)),
        }
    }
}

impl Parser<'_> {
    fn until(&mut self, stops: &[char]) -> (String, Stop) {
        let mut out = String::new();
        while self.pos < self.chars.len() {
            let c = self.chars[self.pos];
            self.pos += 1;
            if c == '\\' {
                if self.pos < self.chars.len() {
                    out.push(self.chars[self.pos]);
                    self.pos += 1;
                }
                continue;
            }
            if stops.contains(&c) {
                return (out, Stop::At(c));
            }
            out.push(c);
        }
        (out, Stop::Eof)
    }

    /// Returns Ok(true) to continue, Ok(false) at the end of input.
    fn key(&mut self, data: &mut Map<String, Json>, level: usize) -> Res<bool> {
        let (key, stop) = self.until(&['=', '[', ',', '.']);
        match stop {
            Stop::Eof => {
                if key.is_empty() {
                    return Ok(false);
                }
                Err(format!("key {key:?} has no value"))
            }
            Stop::At('[') => {
                let index = self.key_index()?;
                let list = match data.get(&key) {
                    Some(Json::Array(items)) => items.clone(),
                    _ => Vec::new(),
                };
                let (list, more) = self.list_item(list, index, level)?;
                set(data, &key, Json::Array(list));
                Ok(more)
            }
            Stop::At('=') => {
                let (value, more) = self.value()?;
                set(data, &key, value);
                Ok(more)
            }
            Stop::At(',') => {
                set(data, &key, Json::String(String::new()));
                Err(format!("key {key:?} has no value (cannot end with ,)"))
            }
            Stop::At(_) => {
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    ));
                }
                let mut inner = match data.get(&key) {
                    Some(Json::Object(map)) => map.clone(),
                    _ => Map::new(),
                };
                let result = self.key(&mut inner, level);
                if result.is_ok() && inner.is_empty() {
                    return Err(format!("key map {key:?} has no value"));
                }
                if !inner.is_empty() {
                    set(data, &key, Json::Object(inner));
                }
                result
            }
        }
    }

    /// The value after `=`: a `{a,b}` list, JSON, or a scalar up to the next comma.
    fn value(&mut self) -> Res<(Json, bool)> {
        if self.mode == Mode::Json {
            return self.json_value();
        }
        if self.pos >= self.chars.len() {
            return Ok((Json::String(String::new()), false));
        }
        if self.chars[self.pos] == '{' {
            self.pos += 1;
            return self.value_list().map(|list| (Json::Array(list), true));
        }
        let (text, stop) = self.until(&[',']);
        Ok((self.typed(&text), !matches!(stop, Stop::Eof)))
    }

    fn json_value(&mut self) -> Res<(Json, bool)> {
        let rest: String = self.chars[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<Json>();
        match stream.next() {
            Some(Ok(value)) => {
                let consumed = rest[..stream.byte_offset()].chars().count();
                self.pos += consumed;
                let more = self.chars.get(self.pos) == Some(&',');
                if more {
                    self.pos += 1;
                }
                Ok((floatify(value), more || self.pos < self.chars.len()))
            }
            Some(Err(error)) => Err(format!("failed parsing value: {error}")),
            None => Ok((Json::Null, false)),
        }
    }

    fn value_list(&mut self) -> Res<Vec<Json>> {
        let mut list = Vec::new();
        loop {
            let (text, stop) = self.until(&[',', '}']);
            match stop {
                Stop::Eof => return Err("list must terminate with '}'".to_owned()),
                Stop::At('}') => {
                    if self.chars.get(self.pos) == Some(&',') {
                        self.pos += 1;
                    }
                    list.push(self.typed(&text));
                    return Ok(list);
                }
                Stop::At(_) => list.push(self.typed(&text)),
            }
        }
    }

    fn typed(&self, text: &str) -> Json {
        if self.mode == Mode::String {
            return Json::String(text.to_owned());
        }
        if text.eq_ignore_ascii_case("true") {
            return Json::Bool(true);
        }
        if text.eq_ignore_ascii_case("false") {
            return Json::Bool(false);
        }
        if text.eq_ignore_ascii_case("null") {
            return Json::Null;
        }
        if text == "0" {
            return Json::from(0i64);
        }
        if text.len() > 1 && text.starts_with('0') {
            return Json::String(text.to_owned());
        }
        match text.parse::<i64>() {
            Ok(i) if !text.starts_with('+') => Json::from(i),
            _ => Json::String(text.to_owned()),
        }
    }

    fn key_index(&mut self) -> Res<usize> {
        let (text, _) = self.until(&[']']);
        let index: i64 = text
            .parse()
            .map_err(|_| format!("strconv.Atoi: parsing {text:?}: invalid syntax"))?;
        if index < 0 {
            return Err(format!("negative {index} index not allowed"));
        }
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        if index > MAX_INDEX {
            return Err(format!(
                "index of {index} is greater than maximum supported index of {MAX_INDEX}"
            ));
        }
        Ok(index)
    }

    fn list_item(
        &mut self,
        mut list: Vec<Json>,
        index: usize,
        level: usize,
    ) -> Res<(Vec<Json>, bool)> {
        let (text, stop) = self.until(&['[', '.', '=']);
        if !text.is_empty() {
            return Err(format!("unexpected data at end of array index: {text:?}"));
        }
        match stop {
            Stop::Eof => Ok((list, false)),
            Stop::At('=') => {
                let (value, more) = self.value()?;
                set_index(&mut list, index, value);
                Ok((list, more))
            }
            Stop::At('[') => {
                let next = self.key_index()?;
                let inner = match list.get(index) {
                    Some(Json::Array(items)) => items.clone(),
                    _ => Vec::new(),
                };
                let (inner, more) = self.list_item(inner, next, level)?;
                set_index(&mut list, index, Json::Array(inner));
                Ok((list, more))
            }
            Stop::At(_) => {
                let mut inner = match list.get(index) {
                    Some(Json::Object(map)) => map.clone(),
                    _ => Map::new(),
                };
                let more = self.key(&mut inner, level)?;
                set_index(&mut list, index, Json::Object(inner));
                Ok((list, more))
            }
        }
    }
}

fn set(data: &mut Map<String, Json>, key: &str, value: Json) {
    if !key.is_empty() {
        data.insert(key.to_owned(), value);
    }
}

fn set_index(list: &mut Vec<Json>, index: usize, value: Json) {
    if list.len() <= index {
        list.resize(index + 1, Json::Null);
    }
    list[index] = value;
}

/// JSON numbers become float64 in Go (`json.Unmarshal` into `interface{}`).
pub fn floatify(value: Json) -> Json {
    match value {
        Json::Number(n) if !n.is_f64() => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Json::Number(n), Json::Number),
        Json::Array(items) => Json::Array(items.into_iter().map(floatify).collect()),
        Json::Object(map) => Json::Object(map.into_iter().map(|(k, v)| (k, floatify(v))).collect()),
        other => other,
    }
}

/// Helm's `mergeMaps`: later values win, tables merge recursively.
pub fn merge_maps(base: &mut Map<String, Json>, overlay: Map<String, Json>) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Json::Object(existing)), Json::Object(inner)) => merge_maps(existing, inner),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}
