//! Runs a case with ferroflux-gotmpl, mirroring what the Go program does: the same test
//! functions, the same data decoding and the same options.

use std::collections::BTreeMap;

use ferroflux_gotmpl::{
    Arity, ElemType, FuncError, Function, NumberMode, ParamType, Template, Value, format,
};

use crate::cases::{Case, Outcome};

pub fn run(case: &Case) -> Outcome {
    let (output, error) = match execute(case) {
        Ok(output) => (output, String::new()),
        Err((output, error)) => (output, error),
    };
    Outcome {
        name: case.id.clone(),
        output,
        error,
    }
}

fn execute(case: &Case) -> Result<String, (String, String)> {
    let (first_name, _) = &case.templates[0];
    let mut template = Template::new(first_name.clone());
    for (name, function) in test_functions() {
        template
            .add_func(name, declare_go_types(name, function))
            .expect("test function names are valid");
    }
    let mut mode = NumberMode::IntWhenIntegral;
    let mut exec_name = None;
    for option in &case.options {
        if option == "numbers=float" {
            mode = NumberMode::Float64;
        } else if option == "numbers=int" {
            mode = NumberMode::IntWhenIntegral;
        } else if let Some(name) = option.strip_prefix("exec=") {
            exec_name = Some(name.to_owned());
        } else if let Some(delims) = option.strip_prefix("delims=") {
            let (left, right) = delims.split_once(',').expect("delims=L,R");
            template.delims(left, right);
        } else {
            template
                .option(option)
                .map_err(|e| (String::new(), e.to_string()))?;
        }
    }
    for (name, text) in &case.templates {
        template
            .parse_named(name, text)
            .map_err(|e| (String::new(), e.to_string()))?;
    }
    let data = match &case.data {
        Some(text) => decode(
            &serde_json::from_str(text).expect("case data is JSON"),
            mode,
        ),
        None => Value::Nil,
    };
    let mut out = String::new();
    let result = match exec_name {
        Some(name) => template.execute_template(&mut out, &name, &data),
        None => template.execute(&mut out, &data),
    };
    match result {
        Ok(()) => Ok(out),
        Err(error) => Err((out, error.to_string())),
    }
}

/// `Value::from_json` plus the `$`-tagged typed values the Go program understands.
fn decode(json: &serde_json::Value, mode: NumberMode) -> Value {
    match json {
        serde_json::Value::Array(items) => {
            Value::list(items.iter().map(|v| decode(v, mode)).collect())
        }
        serde_json::Value::Object(entries) => {
            if entries.len() == 1
                && let Some((key, inner)) = entries.iter().next()
                && key.starts_with('$')
            {
                return typed(key, inner);
            }
            let map: BTreeMap<String, Value> = entries
                .iter()
                .map(|(k, v)| (k.clone(), decode(v, mode)))
                .collect();
            Value::map(map)
        }
        other => Value::from_json(other, mode),
    }
}

fn typed(key: &str, inner: &serde_json::Value) -> Value {
    let int = || inner.as_i64().expect("integer payload");
    match key {
        "$int64" => Value::Int64(int()),
        "$uint64" => Value::Uint64(inner.as_u64().expect("unsigned payload")),
        "$uint8" => Value::Uint8(u8::try_from(int()).expect("byte payload")),
        "$strings" => {
            let items = inner.as_array().expect("array payload");
            Value::typed_list(
                ElemType::String,
                items
                    .iter()
                    .map(|s| Value::from(s.as_str().unwrap_or("")))
                    .collect(),
            )
        }
        "$ints" => {
            let items = inner.as_array().expect("array payload");
            Value::typed_list(
                ElemType::Int,
                items
                    .iter()
                    .map(|i| Value::Int(i.as_i64().unwrap_or(0)))
                    .collect(),
            )
        }
        "$stringmap" => {
            let entries = inner.as_object().expect("object payload");
            let map = entries
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str().unwrap_or(""))))
                .collect();
            Value::typed_map(ElemType::String, map)
        }
        other => panic!("unknown typed value {other}"),
    }
}

/// The Go signatures of the test functions, so argument errors match Go's.
fn declare_go_types(name: &str, function: Function) -> Function {
    match name {
        "fail" => function.with_params(&[ParamType::String], None),
        "seq" => function.with_params(&[ParamType::Int], None),
        "add" => function.with_params(&[ParamType::Int, ParamType::Int], None),
        "strs" => function.with_params(&[], Some(ParamType::String)),
        _ => function,
    }
}

fn int_arg(args: &[Value], index: usize) -> Result<i64, FuncError> {
    args[index]
        .as_i64()
        .ok_or_else(|| FuncError::new("expected an int"))
}

/// Mirrors `testFuncs` in conformance/gorender/main.go.
fn test_functions() -> Vec<(&'static str, Function)> {
    vec![
        (
            "fail",
            Function::new(Arity::Exact(1), |args| {
                Err(FuncError::new(format!(
                    "boom: {}",
                    args[0].as_str().unwrap_or("")
                )))
            }),
        ),
        (
            "echo",
            Function::new(Arity::AtLeast(0), |args| Ok(Value::list(args.to_vec()))),
        ),
        (
            "typeOf",
            Function::new(Arity::Exact(1), |args| {
                Ok(Value::from(format::format_value(&args[0], 'T')))
            }),
        ),
        (
            "seq",
            Function::new(Arity::Exact(1), |args| {
                let n = int_arg(args, 0)?;
                Ok(Value::typed_list(
                    ElemType::Int,
                    (0..n).map(Value::Int).collect(),
                ))
            }),
        ),
        (
            "dict",
            Function::new(Arity::AtLeast(0), |args| {
                let map = args
                    .chunks_exact(2)
                    .map(|pair| (format::sprint(&pair[..1]), pair[1].clone()))
                    .collect();
                Ok(Value::map(map))
            }),
        ),
        (
            "strs",
            Function::new(Arity::AtLeast(0), |args| {
                Ok(Value::typed_list(ElemType::String, args.to_vec()))
            }),
        ),
        ("nilfn", Function::new(Arity::Exact(0), |_| Ok(Value::Nil))),
        (
            "add",
            Function::new(Arity::Exact(2), |args| {
                Ok(Value::Int(int_arg(args, 0)? + int_arg(args, 1)?))
            }),
        ),
    ]
}
