//! List functions (`list`, `append`, `first`, `uniq`, `has`, `slice`, `chunk`, ...).

use super::{FnResult, Registry, arg_int, empty};
use crate::function::{Arity, FuncError, ParamType as P};
use crate::value::Value;

pub(crate) fn register(r: &mut Registry) {
    for name in ["list", "tuple"] {
        r.any(name, Arity::AtLeast(0), |a| Ok(Value::list(a.to_vec())));
    }
    register_pair(r, "append", "mustAppend", |a| {
        let mut items = items_of(&a[0], "push on")?;
        items.push(a[1].clone());
        Ok(Value::list(items))
    });
    register_pair(r, "push", "mustPush", |a| {
        let mut items = items_of(&a[0], "push on")?;
        items.push(a[1].clone());
        Ok(Value::list(items))
    });
    register_pair(r, "prepend", "mustPrepend", |a| {
        let mut items = items_of(&a[0], "prepend on")?;
        items.insert(0, a[1].clone());
        Ok(Value::list(items))
    });
    register_unary(r, "first", "mustFirst", "find first on", |items| {
        Ok(items.first().cloned().unwrap_or_default())
    });
    register_unary(r, "last", "mustLast", "find last on", |items| {
        Ok(items.last().cloned().unwrap_or_default())
    });
    register_unary(r, "rest", "mustRest", "find rest on", |items| {
        Ok(if items.is_empty() {
            Value::Nil
        } else {
            Value::list(items[1..].to_vec())
        })
    });
    register_unary(r, "initial", "mustInitial", "find initial on", |items| {
        Ok(if items.is_empty() {
            Value::Nil
        } else {
            Value::list(items[..items.len() - 1].to_vec())
        })
    });
    register_unary(r, "reverse", "mustReverse", "find reverse on", |items| {
        Ok(Value::list(items.iter().rev().cloned().collect()))
    });
    register_unary(r, "uniq", "mustUniq", "find uniq on", |items| {
        let mut out: Vec<Value> = Vec::new();
        for item in items {
            if !out.iter().any(|o| deep_equal(o, item)) {
                out.push(item.clone());
            }
        }
        Ok(Value::list(out))
    });
    register_unary(r, "compact", "mustCompact", "compact on type", |items| {
        Ok(Value::list(
            items.iter().filter(|v| !empty(v)).cloned().collect(),
        ))
    });
    register_lists(r);
}

fn register_lists(r: &mut Registry) {
    for name in ["without", "mustWithout"] {
        r.any(name, Arity::AtLeast(1), move |a| {
            let items = items_of(&a[0], "find without on")?;
            Ok(Value::list(
                items
                    .into_iter()
                    .filter(|i| !a[1..].iter().any(|o| deep_equal(o, i)))
                    .collect(),
            ))
        });
    }
    for name in ["has", "mustHas"] {
        r.any(name, Arity::Exact(2), move |a| {
            if a[1].is_nil() {
                return Ok(Value::Bool(false));
            }
            let items = items_of(&a[1], "find has on")?;
            Ok(Value::Bool(items.iter().any(|i| deep_equal(i, &a[0]))))
        });
    }
    for name in ["slice", "mustSlice"] {
        r.any(name, Arity::AtLeast(1), slice);
    }
    for name in ["chunk", "mustChunk"] {
        r.typed(name, &[P::Int, P::Any], None, move |a| {
            let size = usize::try_from(arg_int(a, 0)).unwrap_or(0).max(1);
            let items = items_of(&a[1], "chunk")?;
            Ok(Value::list(
                items
                    .chunks(size)
                    .map(|c| Value::list(c.to_vec()))
                    .collect(),
            ))
        });
    }
    r.any("concat", Arity::AtLeast(0), |a| {
        let mut out = Vec::new();
        for list in a {
            out.extend(items_of(list, "concat")?);
        }
        Ok(Value::list(out))
    });
}

fn register_pair(
    r: &mut Registry,
    name: &'static str,
    must: &'static str,
    body: fn(&[Value]) -> FnResult,
) {
    r.any(name, Arity::Exact(2), body);
    r.any(must, Arity::Exact(2), body);
}

fn register_unary(
    r: &mut Registry,
    name: &'static str,
    must: &'static str,
    what: &'static str,
    body: fn(&[Value]) -> FnResult,
) {
    for n in [name, must] {
        r.any(n, Arity::Exact(1), move |a| {
            if a[0].is_nil() && n == name && what != "compact on type" {
                return Ok(Value::Nil);
            }
            body(&items_of(&a[0], what)?)
        });
    }
}

/// Elements of a slice argument, or Sprig's "Cannot ... type" error.
pub(crate) fn items_of(value: &Value, what: &str) -> Result<Vec<Value>, FuncError> {
    match value {
        Value::Slice(s) => Ok(s.items.clone()),
        other => Err(FuncError::new(format!(
            "Cannot {what} type {}",
            other.type_name()
        ))),
    }
}

fn slice(a: &[Value]) -> FnResult {
    let items = items_of(&a[0], "slice")?;
    let len = items.len();
    let index = |v: &Value| usize::try_from(super::to_int64(v)).unwrap_or(0);
    let (from, to) = match &a[1..] {
        [] => (0, len),
        [start] => (index(start), len),
        [start, end, ..] => (index(start), index(end)),
    };
    if from > to || to > len {
        return Err(FuncError::new(format!(
            "runtime error: slice bounds out of range [{from}:{to}] with capacity {len}"
        )));
    }
    Ok(Value::list(items[from..to].to_vec()))
}

/// Go's `reflect.DeepEqual` over template values.
pub(crate) fn deep_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Uint64(x), Value::Uint64(y)) => x == y,
        (Value::Uint8(x), Value::Uint8(y)) => x == y,
        #[expect(clippy::float_cmp, reason = "DeepEqual compares floats exactly")]
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Slice(x), Value::Slice(y)) => {
            x.elem == y.elem
                && x.items.len() == y.items.len()
                && x.items.iter().zip(&y.items).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            if std::sync::Arc::ptr_eq(x, y) {
                return true;
            }
            let (p, q) = (x.snapshot(), y.snapshot());
            x.elem == y.elem
                && p.len() == q.len()
                && p.iter()
                    .all(|(k, v)| q.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Object(x), Value::Object(y)) => std::sync::Arc::ptr_eq(x, y),
        _ => false,
    }
}
