//! The dynamic values templates operate on, modelled on the Go values Helm hands to
//! text/template: `interface{}` holding nil, bools, numbers, strings, `[]interface{}`,
//! `map[string]interface{}` and a few typed slices and maps that Sprig functions return.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::function::Function;

/// A Go value as seen through `interface{}`.
///
/// Cloning is cheap: strings, slices and maps are reference counted, like Go's headers.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// The nil interface (JSON `null`).
    #[default]
    Nil,
    /// Go `bool`.
    Bool(bool),
    /// Go `int` (64 bits, as on every platform Helm ships for).
    Int(i64),
    /// Go `int64`, what Sprig's arithmetic returns.
    Int64(i64),
    /// Go `uint64`.
    Uint64(u64),
    /// Go `uint8`, what `index` on a string returns.
    Uint8(u8),
    /// Go `float64`, what every number in Helm values decodes to.
    Float(f64),
    /// Go `string`.
    String(Arc<str>),
    /// A Go slice with its element type.
    Slice(Arc<Slice>),
    /// A Go map with string keys; iteration and printing use sorted keys like Go.
    Map(Arc<Map>),
    /// A host struct (Helm's `.Release`, `.Chart`, `.Capabilities`, `.Files`).
    Object(Arc<dyn Object>),
    /// A function value, usable with `call`.
    Func(Function),
}

/// Element type of a typed slice or map, needed for `%T`, zero values and `%#v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ElemType {
    /// `interface {}`: elements keep their own dynamic type.
    #[default]
    Interface,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `int64`
    Int64,
    /// `uint64`
    Uint64,
    /// `uint8`
    Uint8,
    /// `float64`
    Float64,
    /// `string`
    String,
}

impl ElemType {
    /// Go's spelling of the type.
    pub fn go_name(self) -> &'static str {
        match self {
            ElemType::Interface => "interface {}",
            ElemType::Bool => "bool",
            ElemType::Int => "int",
            ElemType::Int64 => "int64",
            ElemType::Uint64 => "uint64",
            ElemType::Uint8 => "uint8",
            ElemType::Float64 => "float64",
            ElemType::String => "string",
        }
    }

    /// The zero value of the type; for `interface {}` that is nil.
    pub fn zero(self) -> Value {
        match self {
            ElemType::Interface => Value::Nil,
            ElemType::Bool => Value::Bool(false),
            ElemType::Int => Value::Int(0),
            ElemType::Int64 => Value::Int64(0),
            ElemType::Uint64 => Value::Uint64(0),
            ElemType::Uint8 => Value::Uint8(0),
            ElemType::Float64 => Value::Float(0.0),
            ElemType::String => Value::from(""),
        }
    }
}

/// A Go slice: `[]interface {}` unless `elem` says otherwise.
#[derive(Clone, Debug, Default)]
pub struct Slice {
    /// Declared element type.
    pub elem: ElemType,
    /// The elements.
    pub items: Vec<Value>,
}

/// A Go map with string keys.
///
/// Go maps are references: Sprig's `set`, `unset` and `merge` change a map that other
/// variables also see, so the entries sit behind a lock and every [`Value::Map`] sharing
/// this `Arc` observes the change.
#[derive(Debug, Default)]
pub struct Map {
    /// Declared element type.
    pub elem: ElemType,
    /// Entries, kept sorted by key because Go sorts keys when printing and ranging.
    entries: RwLock<BTreeMap<String, Value>>,
}

impl Clone for Map {
    fn clone(&self) -> Self {
        Map::new(self.elem, self.snapshot())
    }
}

impl Map {
    /// A map of this element type holding `entries`.
    pub fn new(elem: ElemType, entries: BTreeMap<String, Value>) -> Self {
        Map {
            elem,
            entries: RwLock::new(entries),
        }
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read(|entries| entries.get(key).cloned())
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.read(|entries| entries.contains_key(key))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.read(BTreeMap::len)
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.read(BTreeMap::is_empty)
    }

    /// A copy of the entries, sorted by key (what `range` iterates over).
    pub fn snapshot(&self) -> BTreeMap<String, Value> {
        self.read(Clone::clone)
    }

    /// The keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.read(|entries| entries.keys().cloned().collect())
    }

    /// Stores `value` under `key`, visible through every reference to this map.
    pub fn insert(&self, key: String, value: Value) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, value);
    }

    /// Removes `key`, returning its value.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
    }

    fn read<T>(&self, f: impl FnOnce(&BTreeMap<String, Value>) -> T) -> T {
        f(&self.entries.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A host-provided struct. Fields and methods are looked up by name, like Go's reflection.
pub trait Object: fmt::Debug + Send + Sync {
    /// Go type name for `%T` and errors, e.g. `*chart.Metadata`.
    fn type_name(&self) -> String;
    /// An exported field.
    fn field(&self, name: &str) -> Option<Value>;
    /// A method bound to this receiver; templates call it with arguments.
    fn method(&self, _name: &str) -> Option<Function> {
        None
    }
    /// Field names and values in declaration order, for `%v` printing.
    fn fields(&self) -> Vec<(String, Value)> {
        Vec::new()
    }
    /// What Go prints for `%v`/`%s`, when the type implements `fmt.Stringer`.
    fn to_go_string(&self) -> Option<String> {
        None
    }
    /// Whether the Go value is a pointer (printed with a leading `&`).
    fn is_pointer(&self) -> bool {
        true
    }
}

/// How JSON numbers become Go numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NumberMode {
    /// Every number is a `float64`: what Helm's values end up as after sigs.k8s.io/yaml
    /// (YAML → JSON → `json.Unmarshal` into `interface{}`).
    #[default]
    Float64,
    /// Integral literals that fit become `int`, the rest `float64`; handy for tests.
    IntWhenIntegral,
}

impl Value {
    /// Builds a `[]interface {}`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::Slice(Arc::new(Slice {
            elem: ElemType::Interface,
            items,
        }))
    }

    /// Builds a typed slice.
    pub fn typed_list(elem: ElemType, items: Vec<Value>) -> Value {
        Value::Slice(Arc::new(Slice { elem, items }))
    }

    /// Builds a `map[string]interface {}`.
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Arc::new(Map::new(ElemType::Interface, entries)))
    }

    /// Builds a typed map.
    pub fn typed_map(elem: ElemType, entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Arc::new(Map::new(elem, entries)))
    }

    /// Converts decoded JSON into Go values the way `encoding/json` would.
    pub fn from_json(json: &serde_json::Value, mode: NumberMode) -> Value {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => number_from_json(n, mode),
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(|v| Value::from_json(v, mode)).collect())
            }
            serde_json::Value::Object(entries) => Value::map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v, mode)))
                    .collect(),
            ),
        }
    }

    /// Go's `%T` spelling of the dynamic type.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".to_owned(),
            Value::Bool(_) => "bool".to_owned(),
            Value::Int(_) => "int".to_owned(),
            Value::Int64(_) => "int64".to_owned(),
            Value::Uint64(_) => "uint64".to_owned(),
            Value::Uint8(_) => "uint8".to_owned(),
            Value::Float(_) => "float64".to_owned(),
            Value::String(_) => "string".to_owned(),
            Value::Slice(s) => format!("[]{}", s.elem.go_name()),
            Value::Map(m) => format!("map[string]{}", m.elem.go_name()),
            Value::Object(o) => o.type_name(),
            Value::Func(f) => f.type_name().to_owned(),
        }
    }

    /// Go's template truthiness: false for zero numbers, empty strings and collections, nil.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Uint64(u) => *u != 0,
            Value::Uint8(u) => *u != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Slice(s) => !s.items.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(_) | Value::Func(_) => true,
        }
    }

    /// The string, when this is a Go string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a signed integer, when it is of an integer kind and fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::Int64(i) => Some(*i),
            Value::Uint64(u) => i64::try_from(*u).ok(),
            Value::Uint8(u) => Some(i64::from(*u)),
            _ => None,
        }
    }

    /// Whether this is nil.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}

fn number_from_json(n: &serde_json::Number, mode: NumberMode) -> Value {
    if mode == NumberMode::IntWhenIntegral {
        let text = n.to_string();
        if !text.contains(['.', 'e', 'E'])
            && let Ok(i) = text.parse::<i64>()
        {
            return Value::Int(i);
        }
    }
    // serde_json parses with correct rounding, as strconv.ParseFloat does.
    Value::Float(n.as_f64().unwrap_or(f64::NAN))
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(Arc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Arc::from(s))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<serde_json::Value> for Value {
    /// Helm's decoding: every number becomes `float64`.
    fn from(json: serde_json::Value) -> Self {
        Value::from_json(&json, NumberMode::Float64)
    }
}

impl fmt::Display for Value {
    /// Prints like Go's `fmt.Print` of the value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::format::sprint(std::slice::from_ref(self)))
    }
}
