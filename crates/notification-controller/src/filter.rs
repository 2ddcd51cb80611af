//! CEL expressions: Receiver `resourceFilter` / `resources[].filter`, the claims checks of
//! `generic-oidc` Receivers and the Provider's `commitStatusExpr`.
//!
//! Variables are plain JSON (objects as Kubernetes serializes them), as Flux converts them
//! to unstructured maps before evaluating.

use std::sync::{Arc, LazyLock};

use cel::{Context, Env, Program, Value as CelValue};
use ferroflux_api::notification::v1beta3::{Alert, Provider};
use ferroflux_runtime::events::FluxEvent;
use serde_json::Value;

/// The standard library with the extensions Flux enables (strings, encoders, lists,
/// math).
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    for extension in [
        cel::extensions::strings,
        cel::extensions::encoders,
        cel::extensions::lists,
        cel::extensions::math,
    ] {
        if let Err(e) = env.add_extension(extension) {
            tracing::error!(error = ?e, "failed to load a CEL extension");
        }
    }
    Arc::new(env)
});

/// Compiles `expression` (syntax only: CEL here is dynamically typed).
pub fn compile(expression: &str) -> Result<Program, String> {
    ENV.compile(expression)
        .map_err(|e| format!("failed to parse expression '{expression}': {e}"))
}

fn context(variables: &[(&str, &Value)]) -> Result<Context<'static, 'static>, String> {
    let mut context = Context::with_env(ENV.clone());
    for (name, value) in variables {
        let value = cel::to_value(value).map_err(|e| format!("invalid variable '{name}': {e}"))?;
        context.add_variable_from_value(*name, value);
    }
    Ok(context)
}

/// Evaluates `program` with `variables`.
pub fn evaluate(program: &Program, variables: &[(&str, &Value)]) -> Result<CelValue, String> {
    let context = context(variables)?;
    program
        .execute(&context)
        .map_err(|e| format!("failed to evaluate expression: {e}"))
}

/// Evaluates to a boolean, as Flux's `EvaluateBoolean`.
pub fn evaluate_bool(program: &Program, variables: &[(&str, &Value)]) -> Result<bool, String> {
    match evaluate(program, variables)? {
        CelValue::Bool(b) => Ok(b),
        other => Err(format!(
            "expression result is not a boolean: {}",
            cel_type(&other)
        )),
    }
}

/// Evaluates to JSON (OIDC claim variables).
pub fn evaluate_json(program: &Program, variables: &[(&str, &Value)]) -> Result<Value, String> {
    let value = evaluate(program, variables)?;
    value
        .json()
        .map_err(|e| format!("expression result cannot be used as a variable: {e}"))
}

fn cel_type(value: &CelValue) -> &'static str {
    match value {
        CelValue::String(_) => "string",
        CelValue::Int(_) => "int",
        CelValue::UInt(_) => "uint",
        CelValue::Float(_) => "double",
        CelValue::Null => "null",
        CelValue::List(_) => "list",
        CelValue::Map(_) => "map",
        _ => "other",
    }
}

/// `spec.commitStatusExpr` with `event`, `alert` and `provider` as Flux binds them; the
/// result must be a string.
pub fn commit_status(
    expression: &str,
    event: &FluxEvent,
    alert: &Alert,
    provider: &Provider,
) -> Result<String, String> {
    let program = compile(expression).map_err(|e| format!("failed to compile expression: {e}"))?;
    let to_json = |v: Result<Value, serde_json::Error>| v.map_err(|e| e.to_string());
    let event = to_json(serde_json::to_value(event))?;
    let alert = to_json(serde_json::to_value(alert))?;
    let provider = to_json(serde_json::to_value(provider))?;
    let result = evaluate(
        &program,
        &[
            ("event", &event),
            ("alert", &alert),
            ("provider", &provider),
        ],
    )
    .map_err(|e| {
        format!("failed to evaluate the spec.commitStatusExpr CEL expression for the event: {e}")
    })?;
    match result {
        CelValue::String(s) => Ok(s.to_string()),
        other => Err(format!(
            "failed to evaluate the spec.commitStatusExpr CEL expression for the event: expression result is not a string: {}",
            cel_type(&other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn filters_over_resource_and_request() {
        let program =
            compile("res.metadata.name == 'app' && req.ref == 'refs/heads/main'").unwrap();
        let res = json!({"metadata": {"name": "app", "labels": {"team": "a"}}});
        let req = json!({"ref": "refs/heads/main"});
        assert!(evaluate_bool(&program, &[("res", &res), ("req", &req)]).unwrap());
        let other = json!({"ref": "refs/heads/dev"});
        assert!(!evaluate_bool(&program, &[("res", &res), ("req", &other)]).unwrap());
        let not_bool = compile("res.metadata.name").unwrap();
        assert!(evaluate_bool(&not_bool, &[("res", &res)]).is_err());
        assert!(compile("res.metadata.name ==").is_err());
        let split =
            compile("req.repository.split('/')[1] == 'app' && req.tag.endsWith(':v2')").unwrap();
        let req = json!({"repository": "org/app", "tag": "img:v2"});
        assert!(evaluate_bool(&split, &[("req", &req)]).unwrap());
    }

    #[test]
    fn commit_status_expression() {
        let event = crate::event::test_event("info", &[]);
        let alert = Alert::new(
            "a",
            ferroflux_api::notification::v1beta3::AlertSpec::default(),
        );
        let mut provider = Provider::new(
            "github",
            ferroflux_api::notification::v1beta3::ProviderSpec::default(),
        );
        provider.metadata.uid = Some("1234".to_owned());
        let id = commit_status(
            "event.involvedObject.kind + '/' + event.involvedObject.name + '/' + provider.metadata.uid",
            &event,
            &alert,
            &provider,
        )
        .unwrap();
        assert_eq!(id, "Kustomization/webapp/1234");
        assert!(commit_status("1 + 1", &event, &alert, &provider).is_err());
    }
}
