//! Go's template comparison functions `eq`, `ne`, `lt`, `le`, `gt`, `ge`: basic kinds
//! compare by value, signed and unsigned integers mix, anything else is an error with
//! Go's wording.

use std::sync::Arc;

use crate::exec::Val;
use crate::format::format_value;
use crate::function::FuncError;
use crate::value::Value;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Uint,
}

/// Unwraps the interface: a nil interface compares as Go's invalid value.
fn concrete(value: &Val) -> Option<&Value> {
    value.value.as_ref().filter(|v| !v.is_nil())
}

fn basic_kind(value: Option<&Value>) -> Kind {
    match value {
        Some(Value::Bool(_)) => Kind::Bool,
        Some(Value::Int(_) | Value::Int64(_)) => Kind::Int,
        Some(Value::Uint64(_) | Value::Uint8(_)) => Kind::Uint,
        Some(Value::Float(_)) => Kind::Float,
        Some(Value::String(_)) => Kind::String,
        _ => Kind::Invalid,
    }
}

fn signed(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::Int(i) | Value::Int64(i)) => *i,
        _ => 0,
    }
}

fn unsigned(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::Uint64(u)) => *u,
        Some(Value::Uint8(u)) => u64::from(*u),
        _ => 0,
    }
}

fn float(value: Option<&Value>) -> f64 {
    match value {
        Some(Value::Float(f)) => *f,
        _ => 0.0,
    }
}

fn string(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or("")
}

fn type_name(value: Option<&Value>) -> String {
    value.map_or_else(|| "<invalid reflect.Value>".to_owned(), Value::type_name)
}

/// Reflect kind names for the non-basic values, to decide `canCompare`.
fn reflect_kind(value: Option<&Value>) -> &'static str {
    match value {
        None => "invalid",
        Some(Value::Slice(_)) => "slice",
        Some(Value::Map(_)) => "map",
        Some(Value::Func(_)) => "func",
        Some(_) => "ptr",
    }
}

fn incompatible(left: Option<&Value>, right: Option<&Value>) -> FuncError {
    FuncError::new(format!(
        "incompatible types for comparison: {} and {}",
        type_name(left),
        type_name(right)
    ))
}

/// `eq arg1 arg2...`: true when arg1 equals any of the others.
#[expect(clippy::float_cmp, reason = "Go's eq compares floats exactly")]
pub(crate) fn compare_equal(first: &Val, others: &[Val]) -> Result<bool, FuncError> {
    if others.is_empty() {
        return Err(FuncError::new("missing argument for comparison"));
    }
    let left = concrete(first);
    let left_kind = basic_kind(left);
    for other in others {
        let right = concrete(other);
        let right_kind = basic_kind(right);
        let truth = if left_kind == right_kind {
            match left_kind {
                Kind::Bool => {
                    matches!((left, right), (Some(Value::Bool(a)), Some(Value::Bool(b))) if a == b)
                }
                Kind::Int => signed(left) == signed(right),
                Kind::Uint => unsigned(left) == unsigned(right),
                Kind::Float => float(left) == float(right),
                Kind::String => string(left) == string(right),
                Kind::Invalid => equal_non_basic(left, right)?,
            }
        } else {
            match (left_kind, right_kind) {
                (Kind::Int, Kind::Uint) => {
                    u64::try_from(signed(left)).is_ok_and(|l| l == unsigned(right))
                }
                (Kind::Uint, Kind::Int) => {
                    u64::try_from(signed(right)).is_ok_and(|r| r == unsigned(left))
                }
                _ if left.is_some() && right.is_some() => return Err(incompatible(left, right)),
                _ => false,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn equal_non_basic(left: Option<&Value>, right: Option<&Value>) -> Result<bool, FuncError> {
    let (left_kind, right_kind) = (reflect_kind(left), reflect_kind(right));
    if left_kind != right_kind && left.is_some() && right.is_some() {
        let (l, r) = (left.unwrap_or(&Value::Nil), right.unwrap_or(&Value::Nil));
        return Err(FuncError::new(format!(
            "non-comparable types {}: {}, {}: {}",
            format_value(l, 's'),
            l.type_name(),
            r.type_name(),
            format_value(r, 'v')
        )));
    }
    let (Some(l), Some(r)) = (left, right) else {
        return Ok(left.is_none() && right.is_none());
    };
    match (l, r) {
        (Value::Object(a), Value::Object(b)) => Ok(Arc::ptr_eq(a, b)),
        _ => Err(FuncError::new(format!(
            "non-comparable type {}: {}",
            format_value(r, 's'),
            r.type_name()
        ))),
    }
}

/// `lt arg1 arg2`.
pub(crate) fn compare_less(first: &Val, second: &Val) -> Result<bool, FuncError> {
    let (left, right) = (concrete(first), concrete(second));
    let (left_kind, right_kind) = (basic_kind(left), basic_kind(right));
    if left_kind == Kind::Invalid || right_kind == Kind::Invalid {
        return Err(FuncError::new("invalid type for comparison"));
    }
    if left_kind != right_kind {
        return match (left_kind, right_kind) {
            (Kind::Int, Kind::Uint) => {
                Ok(u64::try_from(signed(left)).map_or(true, |l| l < unsigned(right)))
            }
            (Kind::Uint, Kind::Int) => {
                Ok(u64::try_from(signed(right)).is_ok_and(|r| unsigned(left) < r))
            }
            _ => Err(incompatible(left, right)),
        };
    }
    match left_kind {
        Kind::Float => Ok(float(left) < float(right)),
        Kind::Int => Ok(signed(left) < signed(right)),
        Kind::String => Ok(string(left) < string(right)),
        Kind::Uint => Ok(unsigned(left) < unsigned(right)),
        Kind::Bool | Kind::Invalid => Err(FuncError::new("invalid type for comparison")),
    }
}
