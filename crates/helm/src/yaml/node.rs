//! The tree the emitter prints: what go-yaml v2 decodes a JSON document into.

use ferroflux_gotmpl::Value;

/// A YAML node after the JSON round trip of sigs.k8s.io/yaml's `Marshal`.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer, already in its decimal spelling (int64 or uint64 range).
    Int(String),
    /// A float that did not read back as an integer.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with string keys (printing sorts them the way go-yaml v2 does).
    Map(Vec<(String, Node)>),
}

impl Node {
    /// Converts decoded JSON (as `json.Marshal` would print it) into the node go-yaml v2
    /// reads back.
    pub fn from_json(json: &serde_json::Value) -> Node {
        match json {
            serde_json::Value::Null => Node::Null,
            serde_json::Value::Bool(b) => Node::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Node::Int(i.to_string())
                } else if let Some(u) = n.as_u64() {
                    Node::Int(u.to_string())
                } else {
                    float_node(n.as_f64().unwrap_or(0.0))
                }
            }
            serde_json::Value::String(s) => Node::Str(s.clone()),
            serde_json::Value::Array(items) => {
                Node::Seq(items.iter().map(Node::from_json).collect())
            }
            serde_json::Value::Object(entries) => Node::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Node::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The JSON value this node is (what the shared emitter prints). A float that JSON
    /// cannot hold (NaN, infinities) becomes `null`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Node::Null => serde_json::Value::Null,
            Node::Bool(b) => serde_json::Value::Bool(*b),
            Node::Int(text) => text
                .parse::<i64>()
                .map(serde_json::Value::from)
                .or_else(|_| text.parse::<u64>().map(serde_json::Value::from))
                .unwrap_or_else(|_| serde_json::Value::String(text.clone())),
            Node::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Node::Str(s) => serde_json::Value::String(s.clone()),
            Node::Seq(items) => serde_json::Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Converts a template value the way `json.Marshal` then go-yaml v2 would see it.
    pub fn from_value(value: &Value) -> Node {
        match value {
            Value::Nil | Value::Func(_) => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Int(i) | Value::Int64(i) => Node::Int(i.to_string()),
            Value::Uint64(u) => Node::Int(u.to_string()),
            Value::Uint8(u) => Node::Int(u.to_string()),
            Value::Float(f) => float_node(*f),
            Value::String(s) => Node::Str(s.to_string()),
            Value::Slice(s) => Node::Seq(s.items.iter().map(Node::from_value).collect()),
            Value::Map(m) => Node::Map(
                m.snapshot()
                    .iter()
                    .map(|(k, v)| (k.clone(), Node::from_value(v)))
                    .collect(),
            ),
            Value::Object(o) => Node::Map(
                o.fields()
                    .iter()
                    .map(|(k, v)| (k.clone(), Node::from_value(v)))
                    .collect(),
            ),
        }
    }
}

/// A float64 through `json.Marshal` (`'f'` format between 1e-6 and 1e21) and back through
/// go-yaml v2, which reads integral spellings as integers.
fn float_node(f: f64) -> Node {
    let magnitude = f.abs();
    if f.fract() == 0.0 && magnitude < 1e21 {
        #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
        if magnitude < 9.223_372_036_854_776e18 {
            return Node::Int((f as i64).to_string());
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "range checked above"
        )]
        if f > 0.0 && f < 1.844_674_407_370_955_2e19 {
            return Node::Int((f as u64).to_string());
        }
    }
    Node::Float(f)
}
