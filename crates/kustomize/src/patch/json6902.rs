//! RFC 6902 JSON patch over generic values.

use serde_json::Value;

use crate::Error;

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn tokens(pointer: &str) -> Result<Vec<String>, Error> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(Error::Patch {
            message: format!("invalid JSON pointer '{pointer}'"),
        });
    };
    Ok(rest.split('/').map(unescape).collect())
}

fn missing(pointer: &str) -> Error {
    Error::Patch {
        message: format!("path '{pointer}' does not exist in the resource"),
    }
}

fn parent_of<'a>(
    root: &'a mut Value,
    tokens: &[String],
    pointer: &str,
) -> Result<&'a mut Value, Error> {
    let mut current = root;
    for token in tokens {
        current = match current {
            Value::Object(map) => map.get_mut(token).ok_or_else(|| missing(pointer))?,
            Value::Array(items) => {
                let index: usize = token.parse().map_err(|_| missing(pointer))?;
                items.get_mut(index).ok_or_else(|| missing(pointer))?
            }
            _ => return Err(missing(pointer)),
        };
    }
    Ok(current)
}

fn get(root: &Value, pointer: &str) -> Result<Value, Error> {
    let mut path = String::new();
    for token in tokens(pointer)? {
        path.push('/');
        path.push_str(&token.replace('~', "~0").replace('/', "~1"));
    }
    root.pointer(&path).cloned().ok_or_else(|| missing(pointer))
}

fn add(root: &mut Value, pointer: &str, value: Value) -> Result<(), Error> {
    let tokens = tokens(pointer)?;
    let Some((last, parents)) = tokens.split_last() else {
        *root = value;
        return Ok(());
    };
    match parent_of(root, parents, pointer)? {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse().map_err(|_| missing(pointer))?
            };
            if index > items.len() {
                return Err(missing(pointer));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(missing(pointer)),
    }
}

fn remove(root: &mut Value, pointer: &str) -> Result<Value, Error> {
    let tokens = tokens(pointer)?;
    let Some((last, parents)) = tokens.split_last() else {
        return Err(missing(pointer));
    };
    match parent_of(root, parents, pointer)? {
        Value::Object(map) => map.shift_remove(last).ok_or_else(|| missing(pointer)),
        Value::Array(items) => {
            let index: usize = last.parse().map_err(|_| missing(pointer))?;
            if index >= items.len() {
                return Err(missing(pointer));
            }
            Ok(items.remove(index))
        }
        _ => Err(missing(pointer)),
    }
}

fn text_field(operation: &Value, field: &str) -> Result<String, Error> {
    operation
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Patch {
            message: format!("JSON patch operation lacks '{field}': {operation}"),
        })
}

/// Applies every operation in order; the first failure aborts.
pub fn apply(target: &mut Value, operations: &[Value]) -> Result<(), Error> {
    for operation in operations {
        let op = text_field(operation, "op")?;
        let path = text_field(operation, "path")?;
        let value = || operation.get("value").cloned().unwrap_or(Value::Null);
        match op.as_str() {
            "add" => add(target, &path, value())?,
            "remove" => {
                remove(target, &path)?;
            }
            "replace" => {
                remove(target, &path)?;
                add(target, &path, value())?;
            }
            "move" => {
                let from = text_field(operation, "from")?;
                let moved = remove(target, &from)?;
                add(target, &path, moved)?;
            }
            "copy" => {
                let from = text_field(operation, "from")?;
                let copied = get(target, &from)?;
                add(target, &path, copied)?;
            }
            "test" => {
                if get(target, &path)? != value() {
                    return Err(Error::Patch {
                        message: format!("test operation failed at '{path}'"),
                    });
                }
            }
            other => {
                return Err(Error::Patch {
                    message: format!("unknown JSON patch operation '{other}'"),
                });
            }
        }
    }
    Ok(())
}
