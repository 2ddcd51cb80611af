//! The extension points the Sprig/Helm layer builds on: host objects with fields and
//! methods, and context functions that run templates of the set (`include`, `tpl`).

use std::collections::BTreeMap;
use std::sync::Arc;

use ferroflux_gotmpl::{Arity, FuncError, Function, Object, Template, Value};

/// A stand-in for Helm's `.Capabilities.APIVersions`.
#[derive(Debug)]
struct ApiVersions(Vec<&'static str>);

impl Object for ApiVersions {
    fn type_name(&self) -> String {
        "chartutil.VersionSet".to_owned()
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<Function> {
        let versions = self.0.clone();
        (name == "Has").then(|| {
            Function::new(Arity::Exact(1), move |args| {
                let wanted = args[0].as_str().unwrap_or_default();
                Ok(Value::Bool(versions.contains(&wanted)))
            })
        })
    }
}

/// A stand-in for Helm's `.Release`.
#[derive(Debug)]
struct Release;

impl Object for Release {
    fn type_name(&self) -> String {
        "*chart.Release".to_owned()
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Name" => Some(Value::from("demo")),
            "IsUpgrade" => Some(Value::Bool(false)),
            _ => None,
        }
    }

    fn fields(&self) -> Vec<(String, Value)> {
        vec![
            ("Name".to_owned(), Value::from("demo")),
            ("IsUpgrade".to_owned(), Value::Bool(false)),
        ]
    }
}

fn top_level() -> Value {
    let mut entries = BTreeMap::new();
    entries.insert("Release".to_owned(), Value::Object(Arc::new(Release)));
    entries.insert(
        "Capabilities".to_owned(),
        Value::Object(Arc::new(ApiVersions(vec!["apps/v1"]))),
    );
    entries.insert(
        "Values".to_owned(),
        Value::from(serde_json::json!({"replicas": 3, "name": "x"})),
    );
    Value::map(entries)
}

#[test]
fn objects_expose_fields_and_methods() {
    let mut template = Template::new("t");
    template
        .parse(r#"{{.Release.Name}} {{.Capabilities.Has "apps/v1"}} {{.Capabilities.Has "x/v9"}} {{.Release}} {{.Release.Nope}}"#)
        .unwrap();
    let error = template.render("t", &top_level()).unwrap_err().to_string();
    assert_eq!(
        error,
        // Go reports the static type of a value read from map[string]interface{}.
        "template: t:1:102: executing \"t\" at <.Release.Nope>: can't evaluate field Nope in type interface {}"
    );
    template
        .parse(
            r#"{{.Release.Name}} {{.Capabilities.Has "apps/v1"}} {{.Release}} {{.Release.Name 1}}"#,
        )
        .unwrap();
    let mut out = String::new();
    let error = template
        .execute(&mut out, &top_level())
        .unwrap_err()
        .to_string();
    assert_eq!(out, "demo true &{demo false} ");
    assert!(
        error.ends_with("Name has arguments but cannot be invoked as function"),
        "{error}"
    );
}

#[test]
fn helm_values_are_float64() {
    let mut template = Template::new("t");
    template
        .parse(
            "{{.Values.replicas}} {{printf \"%T\" .Values.replicas}} {{eq .Values.replicas 3.0}}",
        )
        .unwrap();
    assert_eq!(
        template.render("t", &top_level()).unwrap(),
        "3 float64 true"
    );
}

/// `include` as Helm defines it: execute a named template of the running set to a string.
fn include() -> Function {
    Function::with_context(Arity::Exact(2), |context, args| {
        let name = args[0]
            .as_str()
            .ok_or_else(|| FuncError::new("include name must be a string"))?;
        let set = context.template().clone();
        context.execute(&set, name, &args[1]).map(Value::from)
    })
}

/// `tpl`: parse text as a new template in a copy of the set and run it.
fn tpl() -> Function {
    Function::with_context(Arity::Exact(2), |context, args| {
        let text = args[0]
            .as_str()
            .ok_or_else(|| FuncError::new("tpl text must be a string"))?;
        let mut set = context.template().clone();
        set.parse_named("tpl", text)
            .map_err(|e| FuncError::new(e.to_string()))?;
        context.execute(&set, "tpl", &args[1]).map(Value::from)
    })
}

#[test]
fn context_functions_implement_include_and_tpl() {
    let mut template = Template::new("t");
    template.add_func("include", include()).unwrap();
    template.add_func("tpl", tpl()).unwrap();
    template
        .parse(r#"{{define "name"}}app-{{.}}{{end}}[{{include "name" "x" | printf "%q"}}] [{{tpl "{{include \"name\" .}}!" "y"}}]"#)
        .unwrap();
    assert_eq!(
        template.render("t", &Value::Nil).unwrap(),
        r#"["app-x"] [app-y!]"#
    );
}

#[test]
fn recursive_include_hits_the_depth_limit() {
    let mut template = Template::new("t");
    template.add_func("include", include()).unwrap();
    template.set_max_depth(20);
    template
        .parse(r#"{{define "loop"}}{{include "loop" .}}{{end}}{{include "loop" .}}"#)
        .unwrap();
    let error = template.render("t", &Value::Nil).unwrap_err().to_string();
    assert!(
        error.contains("exceeded maximum template depth (20)"),
        "{error}"
    );
}

#[test]
fn missing_key_option_and_usage_errors() {
    let mut template = Template::new("t");
    assert!(template.option("missingkey=nope").is_err());
    assert!(template.add_func("bad-name", include()).is_err());
    template.option("missingkey=error").unwrap();
    template.parse("{{.a}}").unwrap();
    let error = template
        .render("t", &Value::from(serde_json::json!({})))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "template: t:1:2: executing \"t\" at <.a>: map has no entry for key \"a\""
    );
    let unknown = template.render("other", &Value::Nil).unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "template: no template \"other\" associated with template \"t\""
    );
}
