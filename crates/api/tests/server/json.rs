//! JSON helpers: readable path-by-path diffs, "the server kept what we sent" checks, and
//! JSON merge patches (RFC 7386) for deriving variants of an example.

use serde_json::Value;

/// Every difference between `expected` and `actual`, one line per path.
pub fn diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at(expected, actual, "", &mut out);
    out
}

fn diff_at(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(left), Value::Object(right)) => {
            for (key, value) in left {
                let child = format!("{path}.{key}");
                match right.get(key) {
                    Some(other) => diff_at(value, other, &child, out),
                    None => out.push(format!("{child}: missing (expected {value})")),
                }
            }
            for (key, value) in right {
                if !left.contains_key(key) {
                    out.push(format!("{path}.{key}: unexpected {value}"));
                }
            }
        }
        (Value::Array(left), Value::Array(right)) if left.len() == right.len() => {
            for (index, (l, r)) in left.iter().zip(right).enumerate() {
                diff_at(l, r, &format!("{path}[{index}]"), out);
            }
        }
        _ if same_value(expected, actual) => {}
        _ => out.push(format!("{path}: expected {expected}, got {actual}")),
    }
}

/// Equality that treats `1` and `1.0` alike (YAML, the server and serde disagree on which
/// numbers are floats) and ignores key order.
pub fn same_value(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(l), Value::Number(r)) => l == r || l.as_f64() == r.as_f64(),
        (Value::Object(l), Value::Object(r)) => {
            l.len() == r.len()
                && l.iter()
                    .all(|(key, value)| r.get(key).is_some_and(|other| same_value(value, other)))
        }
        (Value::Array(l), Value::Array(r)) => {
            l.len() == r.len() && l.iter().zip(r).all(|(a, b)| same_value(a, b))
        }
        _ => left == right,
    }
}

/// Paths where `sent` sets something `stored` lost or changed. `stored` may add fields
/// (schema defaults), but must keep every field that was sent.
pub fn lost(sent: &Value, stored: &Value) -> Vec<String> {
    let mut out = Vec::new();
    lost_at(sent, stored, "", &mut out);
    out
}

fn lost_at(sent: &Value, stored: &Value, path: &str, out: &mut Vec<String>) {
    match (sent, stored) {
        (Value::Object(left), Value::Object(right)) => {
            for (key, value) in left {
                let child = format!("{path}.{key}");
                match right.get(key) {
                    Some(other) => lost_at(value, other, &child, out),
                    None => out.push(format!("{child}: dropped by the server (sent {value})")),
                }
            }
        }
        (Value::Array(left), Value::Array(right)) if left.len() == right.len() => {
            for (index, (l, r)) in left.iter().zip(right).enumerate() {
                lost_at(l, r, &format!("{path}[{index}]"), out);
            }
        }
        _ if same_value(sent, stored) => {}
        _ => out.push(format!("{path}: sent {sent}, stored {stored}")),
    }
}

/// Applies a JSON merge patch: objects merge key by key, `null` removes, anything else
/// replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Formats a list of problems under a heading, for assertion messages.
pub fn report(heading: &str, problems: &[String]) -> String {
    let mut text = format!("{heading}:");
    for problem in problems {
        text.push_str("\n    ");
        text.push_str(problem);
    }
    text
}
