//! Dictionary functions: `dict`, `get`, `set`, `unset`, `merge`, `pick`, `dig`, ...
//! `set`, `unset` and the merges change their first argument in place, as in Go.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Registry, arg_str, empty, string_list, strval};
use crate::function::{Arity, FuncError, ParamType as P};
use crate::value::{Map, Value};

pub(crate) fn register(r: &mut Registry) {
    r.any("dict", Arity::AtLeast(0), |a| {
        let mut entries = BTreeMap::new();
        for pair in a.chunks(2) {
            let value = pair.get(1).cloned().unwrap_or_else(|| Value::from(""));
            entries.insert(strval(&pair[0]), value);
        }
        Ok(Value::map(entries))
    });
    r.typed("get", &[P::Any, P::String], None, |a| {
        let map = dict_arg(&a[0], "get")?;
        Ok(map.get(arg_str(a, 1)).unwrap_or_else(|| Value::from("")))
    });
    r.typed("set", &[P::Any, P::String, P::Any], None, |a| {
        dict_arg(&a[0], "set")?.insert(arg_str(a, 1).to_owned(), a[2].clone());
        Ok(a[0].clone())
    });
    r.typed("unset", &[P::Any, P::String], None, |a| {
        dict_arg(&a[0], "unset")?.remove(arg_str(a, 1));
        Ok(a[0].clone())
    });
    r.typed("hasKey", &[P::Any, P::String], None, |a| {
        Ok(Value::Bool(
            dict_arg(&a[0], "hasKey")?.contains_key(arg_str(a, 1)),
        ))
    });
    r.typed("pluck", &[P::String], Some(P::Any), |a| {
        let key = arg_str(a, 0);
        let mut out = Vec::new();
        for d in &a[1..] {
            if let Some(v) = dict_arg(d, "pluck")?.get(key) {
                out.push(v);
            }
        }
        Ok(Value::list(out))
    });
    r.any("keys", Arity::AtLeast(0), |a| {
        let mut out = Vec::new();
        for d in a {
            out.extend(dict_arg(d, "keys")?.keys());
        }
        Ok(string_list(out))
    });
    r.any("values", Arity::Exact(1), |a| {
        Ok(Value::list(
            dict_arg(&a[0], "values")?
                .snapshot()
                .into_values()
                .collect(),
        ))
    });
    r.typed("pick", &[P::Any], Some(P::String), |a| {
        let map = dict_arg(&a[0], "pick")?;
        let entries = a[1..].iter().filter_map(|k| {
            let k = k.as_str()?;
            map.get(k).map(|v| (k.to_owned(), v))
        });
        Ok(Value::map(entries.collect()))
    });
    r.typed("omit", &[P::Any], Some(P::String), |a| {
        let map = dict_arg(&a[0], "omit")?;
        let mut entries = map.snapshot();
        for k in &a[1..] {
            entries.remove(k.as_str().unwrap_or_default());
        }
        Ok(Value::map(entries))
    });
    r.any("dig", Arity::AtLeast(3), |a| {
        let (keys, rest) = a.split_at(a.len() - 2);
        let mut current = rest[1].clone();
        for key in keys {
            let key = key
                .as_str()
                .ok_or_else(|| FuncError::new("dig keys must be strings"))?;
            match dict_arg(&current, "dig")?.get(key) {
                Some(next) => current = next,
                None => return Ok(rest[0].clone()),
            }
        }
        Ok(current)
    });
    register_merge(r);
    for name in ["deepCopy", "mustDeepCopy"] {
        r.any(name, Arity::Exact(1), |a| Ok(deep_copy(&a[0])));
    }
}

fn register_merge(r: &mut Registry) {
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        r.any(name, Arity::AtLeast(1), move |a| {
            let destination = dict_arg(&a[0], name)?;
            for source in &a[1..] {
                let source = dict_arg(source, name)?;
                merge_into(destination, source, overwrite, 0);
            }
            Ok(a[0].clone())
        });
    }
}

/// mergo's `Merge` (`overwrite = false`) and `Merge(..., WithOverride)` for maps.
pub(crate) fn merge_into(destination: &Map, source: &Map, overwrite: bool, depth: usize) {
    if depth > 10_000 {
        return;
    }
    for (key, value) in source.snapshot() {
        let existing = destination.get(&key);
        match (&existing, &value) {
            (Some(Value::Map(d)), Value::Map(s)) if !Arc::ptr_eq(d, s) => {
                merge_into(d, s, overwrite, depth + 1);
            }
            (Some(current), _) if !empty(current) && (!overwrite || empty(&value)) => {}
            _ => destination.insert(key, value),
        }
    }
}

fn dict_arg<'a>(value: &'a Value, _name: &str) -> Result<&'a Map, FuncError> {
    match value {
        Value::Map(m) => Ok(m),
        other => Err(FuncError::new(format!(
            "wrong type for value; expected map[string]interface {{}}; got {}",
            other.type_name()
        ))),
    }
}

/// A copy sharing nothing mutable with the original.
pub(crate) fn deep_copy(value: &Value) -> Value {
    match value {
        Value::Map(m) => Value::typed_map(
            m.elem,
            m.snapshot()
                .iter()
                .map(|(k, v)| (k.clone(), deep_copy(v)))
                .collect(),
        ),
        Value::Slice(s) => Value::typed_list(s.elem, s.items.iter().map(deep_copy).collect()),
        other => other.clone(),
    }
}
