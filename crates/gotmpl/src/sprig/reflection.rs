//! Types and defaults (`typeOf`, `kindIs`, `default`, `empty`, `coalesce`, `ternary`),
//! paths, semantic versions, regular expressions and the environment.

use std::sync::Arc;

use regex::Regex;

use super::collections::deep_equal;
use super::{FnResult, Registry, arg_bool, arg_str, empty, string_list};
use crate::function::{Arity, FuncError, Function, ParamType as P};
use crate::value::{Object, Value};

pub(crate) fn register(r: &mut Registry) {
    r.any("typeOf", Arity::Exact(1), |a| {
        Ok(Value::from(a[0].type_name()))
    });
    r.typed("typeIs", &[P::String, P::Any], None, |a| {
        Ok(Value::Bool(arg_str(a, 0) == a[1].type_name()))
    });
    r.typed("typeIsLike", &[P::String, P::Any], None, |a| {
        let name = a[1].type_name();
        Ok(Value::Bool(
            arg_str(a, 0) == name || arg_str(a, 0) == format!("*{name}"),
        ))
    });
    r.any("kindOf", Arity::Exact(1), |a| Ok(Value::from(kind(&a[0]))));
    r.typed("kindIs", &[P::String, P::Any], None, |a| {
        Ok(Value::Bool(arg_str(a, 0) == kind(&a[1])))
    });
    r.any("deepEqual", Arity::Exact(2), |a| {
        Ok(Value::Bool(deep_equal(&a[0], &a[1])))
    });
    r.any("default", Arity::AtLeast(1), |a| {
        Ok(match a.get(1) {
            Some(given) if !empty(given) => given.clone(),
            _ => a[0].clone(),
        })
    });
    r.any("empty", Arity::Exact(1), |a| Ok(Value::Bool(empty(&a[0]))));
    r.any("coalesce", Arity::AtLeast(0), |a| {
        Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or_default())
    });
    r.any("all", Arity::AtLeast(0), |a| {
        Ok(Value::Bool(a.iter().all(|v| !empty(v))))
    });
    r.any("any", Arity::AtLeast(0), |a| {
        Ok(Value::Bool(a.iter().any(|v| !empty(v))))
    });
    r.typed("ternary", &[P::Any, P::Any, P::Bool], None, |a| {
        Ok(if arg_bool(a, 2) {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    r.typed("fail", &[P::String], None, |a| {
        Err(FuncError::new(arg_str(a, 0)))
    });
    r.typed("getHostByName", &[P::String], None, |_| Ok(Value::from("")));
    r.typed("env", &[P::String], None, |a| {
        Ok(Value::from(
            std::env::var(arg_str(a, 0)).unwrap_or_default(),
        ))
    });
    r.typed("expandenv", &[P::String], None, |a| {
        Ok(Value::from(arg_str(a, 0)))
    });
    register_paths(r);
    register_semver(r);
    register_regex(r);
}

/// Go's `reflect.Kind` names.
fn kind(value: &Value) -> String {
    match value {
        Value::Nil => "invalid".to_owned(),
        Value::Slice(_) => "slice".to_owned(),
        Value::Map(_) => "map".to_owned(),
        Value::Object(o) => if o.is_pointer() { "ptr" } else { "struct" }.to_owned(),
        Value::Func(_) => "func".to_owned(),
        other => other.type_name(),
    }
}

fn register_paths(r: &mut Registry) {
    for (name, os) in [
        ("base", "osBase"),
        ("dir", "osDir"),
        ("clean", "osClean"),
        ("ext", "osExt"),
        ("isAbs", "osIsAbs"),
    ] {
        for n in [name, os] {
            r.typed(n, &[P::String], None, move |a| {
                let text = arg_str(a, 0);
                Ok(match name {
                    "base" => Value::from(path_base(text)),
                    "dir" => Value::from(path_dir(text)),
                    "clean" => Value::from(path_clean(text)),
                    "ext" => Value::from(path_ext(text)),
                    _ => Value::Bool(text.starts_with('/')),
                })
            });
        }
    }
}

/// Go's `path.Clean`.
pub fn path_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Go's `path.Base`.
pub fn path_base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `path.Dir`.
pub fn path_dir(path: &str) -> String {
    let cut = path.rfind('/').map_or(0, |at| at + 1);
    path_clean(&path[..cut])
}

/// Go's `path.Ext`.
pub fn path_ext(path: &str) -> String {
    for (i, c) in path.char_indices().rev() {
        match c {
            '/' => break,
            '.' => return path[i..].to_owned(),
            _ => {}
        }
    }
    String::new()
}

#[derive(Debug)]
struct SemverObject(ferroflux_semver::Version);

impl Object for SemverObject {
    fn type_name(&self) -> String {
        "*semver.Version".to_owned()
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<Function> {
        let version = self.0.clone();
        let value = match name {
            #[expect(clippy::cast_possible_wrap, reason = "versions fit in int64")]
            "Major" => Value::Int64(version.major() as i64),
            #[expect(clippy::cast_possible_wrap, reason = "versions fit in int64")]
            "Minor" => Value::Int64(version.minor() as i64),
            #[expect(clippy::cast_possible_wrap, reason = "versions fit in int64")]
            "Patch" => Value::Int64(version.patch() as i64),
            "Prerelease" => Value::from(version.prerelease()),
            "Metadata" => Value::from(version.metadata()),
            "Original" => Value::from(version.original()),
            "String" => Value::from(version.to_string()),
            _ => return None,
        };
        Some(Function::new(Arity::Exact(0), move |_| Ok(value.clone())))
    }

    fn to_go_string(&self) -> Option<String> {
        Some(self.0.to_string())
    }
}

fn register_semver(r: &mut Registry) {
    r.typed("semver", &[P::String], None, |a| {
        let version = ferroflux_semver::Version::parse(arg_str(a, 0))
            .map_err(|e| FuncError::new(e.to_string()))?;
        Ok(Value::Object(Arc::new(SemverObject(version))))
    });
    r.typed("semverCompare", &[P::String, P::String], None, |a| {
        let constraints = ferroflux_semver::Constraints::parse(arg_str(a, 0))
            .map_err(|e| FuncError::new(e.to_string()))?;
        let version = ferroflux_semver::Version::parse(arg_str(a, 1))
            .map_err(|e| FuncError::new(e.to_string()))?;
        Ok(Value::Bool(constraints.check(&version)))
    });
}

fn compile(pattern: &str) -> Result<Regex, FuncError> {
    Regex::new(pattern).map_err(|e| FuncError::new(format!("error parsing regexp: {e}")))
}

fn register_regex(r: &mut Registry) {
    for (name, must) in [("regexMatch", false), ("mustRegexMatch", true)] {
        r.typed(name, &[P::String, P::String], None, move |a| {
            soft(
                must,
                compile(arg_str(a, 0)).map(|re| Value::Bool(re.is_match(arg_str(a, 1)))),
                Value::Bool(false),
            )
        });
    }
    for (name, must) in [("regexFind", false), ("mustRegexFind", true)] {
        r.typed(name, &[P::String, P::String], None, move |a| {
            let found = compile(arg_str(a, 0))
                .map(|re| Value::from(re.find(arg_str(a, 1)).map_or("", |m| m.as_str())));
            soft(must, found, Value::from(""))
        });
    }
    for (name, must) in [("regexFindAll", false), ("mustRegexFindAll", true)] {
        r.typed(name, &[P::String, P::String, P::Int], None, move |a| {
            let limit = usize::try_from(super::arg_int(a, 2)).unwrap_or(usize::MAX);
            let found = compile(arg_str(a, 0)).map(|re| {
                string_list(
                    re.find_iter(arg_str(a, 1))
                        .take(limit)
                        .map(|m| m.as_str().to_owned())
                        .collect(),
                )
            });
            soft(must, found, string_list(Vec::new()))
        });
    }
    for (name, must, literal) in [
        ("regexReplaceAll", false, false),
        ("mustRegexReplaceAll", true, false),
        ("regexReplaceAllLiteral", false, true),
        ("mustRegexReplaceAllLiteral", true, true),
    ] {
        r.typed(name, &[P::String, P::String, P::String], None, move |a| {
            let replaced = compile(arg_str(a, 0)).map(|re| {
                let out = if literal {
                    re.replace_all(arg_str(a, 1), regex::NoExpand(arg_str(a, 2)))
                } else {
                    re.replace_all(arg_str(a, 1), arg_str(a, 2))
                };
                Value::from(out.into_owned())
            });
            soft(must, replaced, Value::from(""))
        });
    }
    for (name, must) in [("regexSplit", false), ("mustRegexSplit", true)] {
        r.typed(name, &[P::String, P::String, P::Int], None, move |a| {
            let limit = super::arg_int(a, 2);
            let split = compile(arg_str(a, 0)).map(|re| {
                let text = arg_str(a, 1);
                let parts: Vec<String> = if limit < 0 {
                    re.split(text).map(str::to_owned).collect()
                } else {
                    re.splitn(text, usize::try_from(limit).unwrap_or(0))
                        .map(str::to_owned)
                        .collect()
                };
                string_list(parts)
            });
            soft(must, split, string_list(Vec::new()))
        });
    }
    r.typed("regexQuoteMeta", &[P::String], None, |a| {
        Ok(Value::from(regex::escape(arg_str(a, 0))))
    });
}

/// Sprig's non-`must` regex functions panic on a bad pattern; text/template turns the
/// panic into an error, so both flavours fail here.
fn soft(_must: bool, result: Result<Value, FuncError>, _fallback: Value) -> FnResult {
    result
}
