//! Helm's additions to Sprig: YAML/JSON/TOML conversions, `include`, `tpl`, `required`,
//! `fail`, `lookup` (empty in template mode) and `getHostByName` (empty without DNS).

use std::collections::BTreeMap;

use ferroflux_gotmpl::sprig::json::{JsonStyle, marshal};
use ferroflux_gotmpl::{Arity, FuncError, Function, MissingKey, ParamType, Template, Value};

use crate::objects::json_to_value;
use crate::yaml::{Node, parse_all_documents, parse_document, to_yaml_string};

/// Markers Helm wraps `required`/`fail` messages in, so error clean-up can find them.
pub const WARN_START: &str = "HELM_ERR_START";
/// End marker.
pub const WARN_END: &str = "HELM_ERR_END";

/// Registers Sprig (minus `env`/`expandenv`) and Helm's functions on `template`.
pub fn register(template: &mut Template) {
    for (name, function) in ferroflux_gotmpl::sprig::sprig_functions() {
        if name != "env" && name != "expandenv" {
            template
                .add_func(name, function)
                .expect("sprig names are valid identifiers");
        }
    }
    for (name, function) in helm_functions() {
        template
            .add_func(name, function)
            .expect("helm names are valid identifiers");
    }
}

fn string_param(
    name: &'static str,
    body: impl Fn(&str) -> Value + Send + Sync + 'static,
) -> (&'static str, Function) {
    (
        name,
        Function::new(Arity::Exact(1), move |a| {
            Ok(body(a[0].as_str().unwrap_or_default()))
        })
        .with_params(&[ParamType::String], None),
    )
}

/// `toYaml` as Helm prints it (sigs.k8s.io/yaml, trailing newline trimmed).
pub fn to_yaml(value: &Value) -> String {
    let text = to_yaml_string(&Node::from_value(value));
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}

fn helm_functions() -> Vec<(&'static str, Function)> {
    let mut out = vec![
        (
            "toYaml",
            Function::new(Arity::Exact(1), |a| Ok(Value::from(to_yaml(&a[0])))),
        ),
        (
            "toYamlPretty",
            Function::new(Arity::Exact(1), |a| Ok(Value::from(to_yaml(&a[0])))),
        ),
        (
            "toJson",
            Function::new(Arity::Exact(1), |a| {
                Ok(Value::from(
                    marshal(
                        &a[0],
                        JsonStyle {
                            escape_html: true,
                            indent: None,
                        },
                    )
                    .unwrap_or_default(),
                ))
            }),
        ),
        (
            "toToml",
            Function::new(Arity::Exact(1), |a| {
                Ok(Value::from(crate::toml::to_toml(&a[0])))
            }),
        ),
        (
            "lookup",
            Function::new(Arity::Exact(4), |_| Ok(Value::map(BTreeMap::new())))
                .with_params(&[ParamType::String; 4], None),
        ),
        (
            "required",
            Function::new(Arity::Exact(2), |a| {
                let missing = a[1].is_nil() || a[1].as_str() == Some("");
                if missing {
                    return Err(FuncError::new(format!(
                        "{WARN_START}{}{WARN_END}",
                        a[0].as_str().unwrap_or_default()
                    )));
                }
                Ok(a[1].clone())
            })
            .with_params(&[ParamType::String, ParamType::Any], None),
        ),
        (
            "fail",
            Function::new(Arity::Exact(1), |a| {
                Err(FuncError::new(format!(
                    "{WARN_START}{}{WARN_END}",
                    a[0].as_str().unwrap_or_default()
                )))
            })
            .with_params(&[ParamType::String], None),
        ),
        ("include", include()),
        ("tpl", tpl()),
    ];
    out.push(string_param("fromYaml", |text| match parse_document(text) {
        Ok(serde_json::Value::Object(map)) => json_to_value(&serde_json::Value::Object(map)),
        Ok(serde_json::Value::Null) => Value::map(BTreeMap::new()),
        Ok(_) => error_map("error unmarshaling JSON: json: cannot unmarshal array into Go value of type map[string]interface {}"),
        Err(e) => error_map(&format!("error converting YAML to JSON: {e}")),
    }));
    out.push(string_param("fromYamlArray", |text| match parse_document(text) {
        Ok(serde_json::Value::Array(items)) => json_to_value(&serde_json::Value::Array(items)),
        Ok(serde_json::Value::Null) => Value::list(Vec::new()),
        Ok(_) => Value::list(vec![Value::from("error unmarshaling JSON: json: cannot unmarshal object into Go value of type []interface {}")]),
        Err(e) => Value::list(vec![Value::from(format!("error converting YAML to JSON: {e}"))]),
    }));
    out.push(string_param(
        "fromJson",
        |text| match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => Value::from(serde_json::Value::Object(map)),
            Ok(serde_json::Value::Null) => Value::map(BTreeMap::new()),
            Ok(_) => error_map(
                "json: cannot unmarshal array into Go value of type map[string]interface {}",
            ),
            Err(e) => error_map(&e.to_string()),
        },
    ));
    out.push(string_param(
        "fromJsonArray",
        |text| match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(items)) => Value::from(serde_json::Value::Array(items)),
            Ok(serde_json::Value::Null) => Value::list(Vec::new()),
            Ok(_) => Value::list(vec![Value::from(
                "json: cannot unmarshal object into Go value of type []interface {}",
            )]),
            Err(e) => Value::list(vec![Value::from(e.to_string())]),
        },
    ));
    out.push(string_param("fromToml", |_| {
        error_map("fromToml is not supported by the native renderer yet")
    }));
    out.push(string_param("getHostByName", |_| Value::from("")));
    let _ = parse_all_documents;
    out
}

fn error_map(message: &str) -> Value {
    let mut entries = BTreeMap::new();
    entries.insert("Error".to_owned(), Value::from(message));
    Value::map(entries)
}

fn include() -> Function {
    Function::with_context(Arity::Exact(2), |context, args| {
        let name = args[0].as_str().unwrap_or_default();
        let set = context.template();
        context.execute(set, name, &args[1]).map(Value::from)
    })
    .with_params(&[ParamType::String, ParamType::Any], None)
}

fn tpl() -> Function {
    Function::with_context(Arity::Exact(2), |context, args| {
        let text = args[0].as_str().unwrap_or_default();
        let mut set = context.template().clone();
        set.set_missing_key(MissingKey::Zero);
        let name = set.name().to_owned();
        set.parse_new(&name, text).map_err(|e| {
            FuncError::new(format!(
                "cannot parse template {}: {e}",
                ferroflux_gotmpl::format::quote(text, false)
            ))
        })?;
        let out = context.execute(&set, &name, &args[1]).map_err(|e| {
            FuncError::new(format!(
                "error during tpl function execution for {}: {e}",
                ferroflux_gotmpl::format::quote(text, false)
            ))
        })?;
        Ok(Value::from(out.replace("<no value>", "")))
    })
    .with_params(&[ParamType::String, ParamType::Any], None)
}
