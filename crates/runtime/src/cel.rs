//! CEL expressions with the semantics of Flux's `fluxcd/pkg/runtime/cel`: boolean
//! expressions over a Kubernetes object whose top-level fields (`apiVersion`, `kind`,
//! `metadata`, `spec`, `status`, …) are the variables, and the status evaluator of
//! `healthCheckExprs` (inProgress → failed → current, first true wins, none ⇒ InProgress).

use std::sync::{Arc, LazyLock};

use ferroflux_api::meta::CustomHealthCheck;
use serde_json::Value;

/// The standard library with the extensions Flux enables (strings, encoders, lists).
static ENV: LazyLock<Arc<::cel::Env>> = LazyLock::new(|| {
    let mut env = ::cel::Env::stdlib();
    for extension in [
        ::cel::extensions::strings,
        ::cel::extensions::encoders,
        ::cel::extensions::lists,
    ] {
        if let Err(e) = env.add_extension(extension) {
            tracing::error!(error = ?e, "failed to load a CEL extension");
        }
    }
    Arc::new(env)
});

/// A CEL error, with Flux's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CelError {
    /// The expression does not parse.
    #[error("failed to parse the CEL expression '{expression}': {message}")]
    Parse {
        /// The expression.
        expression: String,
        /// The parser's message.
        message: String,
    },
    /// Evaluating failed (e.g. a field that does not exist).
    #[error("failed to evaluate the CEL expression '{expression}': {message}")]
    Evaluate {
        /// The expression.
        expression: String,
        /// The evaluator's message.
        message: String,
    },
    /// The result is not a boolean.
    #[error("failed to evaluate CEL expression as boolean: '{0}'")]
    NotBoolean(String),
    /// The health check configuration is invalid.
    #[error("{0}")]
    Config(String),
}

/// A compiled expression.
pub struct Expression {
    text: String,
    program: ::cel::Program,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expression").field(&self.text).finish()
    }
}

impl Expression {
    /// Parses `text`.
    pub fn new(text: &str) -> Result<Self, CelError> {
        let program = ENV.compile(text).map_err(|e| CelError::Parse {
            expression: text.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self {
            text: text.to_owned(),
            program,
        })
    }

    /// The expression's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates with the top-level fields of `data` (a JSON object) as variables.
    pub fn evaluate_bool(&self, data: &Value) -> Result<bool, CelError> {
        let evaluate = |message: String| CelError::Evaluate {
            expression: self.text.clone(),
            message,
        };
        let mut context = ::cel::Context::with_env(ENV.clone());
        for (name, value) in data.as_object().into_iter().flatten() {
            let value = ::cel::to_value(value).map_err(|e| evaluate(e.to_string()))?;
            context.add_variable_from_value(name.clone(), value);
        }
        match self.program.execute(&context) {
            Ok(::cel::Value::Bool(result)) => Ok(result),
            Ok(_) => Err(CelError::NotBoolean(self.text.clone())),
            Err(e) => Err(evaluate(e.to_string())),
        }
    }
}

impl CelError {
    /// Whether only a spec change can help: the expression does not parse, or does not
    /// yield a boolean (Flux fails those at compile time, as a terminal error).
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::Evaluate { .. })
    }
}

/// Flux's `dependsOn[].readyExpr`: a boolean expression over `self` (the object that
/// depends) and `dep` (the dependency), both as their JSON.
pub fn dependency_ready(
    expression: &str,
    own: &Value,
    dependency: &Value,
) -> Result<bool, CelError> {
    let variables = serde_json::json!({ "self": own, "dep": dependency });
    Expression::new(expression)?.evaluate_bool(&variables)
}

/// What a dependency's `readyExpr` decided, with Flux's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyCheck {
    /// The expression holds.
    Ready,
    /// It does not hold, or could not be evaluated (retried): why, to follow
    /// `dependency '<ns>/<name>' `.
    NotReady(String),
    /// It cannot work (does not parse, not a boolean): the terminal message.
    Invalid(String),
}

/// Evaluates `expression` for the dependency `name` with `self` = `own`, `dep` =
/// `dependency`.
pub fn check_dependency<T: serde::Serialize>(
    expression: &str,
    name: &str,
    own: &T,
    dependency: &T,
) -> DependencyCheck {
    let json = |object: &T| serde_json::to_value(object).unwrap_or_default();
    match dependency_ready(expression, &json(own), &json(dependency)) {
        Ok(true) => DependencyCheck::Ready,
        Ok(false) => {
            DependencyCheck::NotReady("is not ready according to readyExpr eval".to_owned())
        }
        Err(e) if e.is_terminal() => DependencyCheck::Invalid(format!(
            "Reconciliation failed terminally due to configuration error: failed to evaluate dependency {name}: {e}"
        )),
        Err(e) => DependencyCheck::NotReady(format!("could not be evaluated: {e}")),
    }
}

/// The status a health check expression decides (kstatus' vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not ready yet.
    InProgress,
    /// Will not become ready.
    Failed,
    /// Ready.
    Current,
}

/// The expressions of one `CustomHealthCheck`.
#[derive(Debug)]
pub struct StatusEvaluator {
    current: Expression,
    failed: Option<Expression>,
    in_progress: Option<Expression>,
}

impl StatusEvaluator {
    /// Compiles the expressions of `check` (`current` is required).
    pub fn new(check: &CustomHealthCheck) -> Result<Self, CelError> {
        if check.current.is_empty() {
            return Err(CelError::Config(
                "expression Current not specified".to_owned(),
            ));
        }
        let optional = |text: Option<&String>, name: &str| {
            text.filter(|t| !t.is_empty())
                .map(|t| {
                    Expression::new(t).map_err(|e| {
                        CelError::Config(format!("failed to parse the expression {name}: {e}"))
                    })
                })
                .transpose()
        };
        Ok(Self {
            current: Expression::new(&check.current).map_err(|e| {
                CelError::Config(format!("failed to parse the expression Current: {e}"))
            })?,
            failed: optional(check.failed.as_ref(), "Failed")?,
            in_progress: optional(check.in_progress.as_ref(), "InProgress")?,
        })
    }

    /// The status of `object`: InProgress while `status.observedGeneration` lags
    /// `metadata.generation`, else the first expression that is true (inProgress, failed,
    /// current), else InProgress.
    pub fn evaluate(&self, object: &Value) -> Result<Status, CelError> {
        let observed = object
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64);
        let generation = object
            .pointer("/metadata/generation")
            .and_then(Value::as_i64);
        if let (Some(observed), Some(generation)) = (observed, generation)
            && observed != generation
        {
            return Ok(Status::InProgress);
        }
        for (expression, status) in [
            (self.in_progress.as_ref(), Status::InProgress),
            (self.failed.as_ref(), Status::Failed),
            (Some(&self.current), Status::Current),
        ] {
            if let Some(expression) = expression
                && expression.evaluate_bool(object)?
            {
                return Ok(status);
            }
        }
        Ok(Status::InProgress)
    }
}

/// The evaluators of a `healthCheckExprs` list, by group and kind.
#[derive(Debug, Default)]
pub struct StatusReaders {
    entries: Vec<(String, Option<String>, StatusEvaluator)>,
}

impl StatusReaders {
    /// Compiles every check; duplicates (same group and kind) are refused, as in Flux.
    pub fn new(checks: &[CustomHealthCheck]) -> Result<Self, CelError> {
        let mut entries: Vec<(String, Option<String>, StatusEvaluator)> = Vec::new();
        for (index, check) in checks.iter().enumerate() {
            let group = group_of(&check.api_version).to_owned();
            let kind = check.kind.clone().filter(|k| !k.is_empty());
            if entries.iter().any(|(g, k, _)| *g == group && *k == kind) {
                let shown = match &kind {
                    Some(kind) if group.is_empty() => kind.clone(),
                    Some(kind) => format!("{kind}.{group}"),
                    None => format!(".{group}"),
                };
                return Err(CelError::Config(format!(
                    "duplicate custom health check for GroupKind {shown} at healthchecks[{index}]"
                )));
            }
            let evaluator = StatusEvaluator::new(check).map_err(|e| {
                CelError::Config(format!(
                    "failed to create custom status evaluator for healthchecks[{index}]: {e}"
                ))
            })?;
            entries.push((group, kind, evaluator));
        }
        Ok(Self { entries })
    }

    /// True when no check is configured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The evaluator for objects of `api_version`/`kind`: a check naming the kind wins over
    /// one for the whole group; the version is ignored.
    pub fn find(&self, api_version: &str, kind: &str) -> Option<&StatusEvaluator> {
        let group = group_of(api_version);
        self.entries
            .iter()
            .find(|(g, k, _)| g == group && k.as_deref() == Some(kind))
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|(g, k, _)| g == group && k.is_none())
            })
            .map(|(_, _, evaluator)| evaluator)
    }
}

impl StatusReaders {
    /// The health of `live` by its kind's check, `None` when no check covers the kind (the
    /// built-in kstatus rules apply then).
    pub fn health(&self, live: &Value) -> Option<crate::health::HealthResult> {
        use crate::health::{HealthResult, Status as Health};
        let api_version = live.get("apiVersion").and_then(Value::as_str)?;
        let kind = live.get("kind").and_then(Value::as_str)?;
        let evaluator = self.find(api_version, kind)?;
        Some(match evaluator.evaluate(live) {
            Ok(Status::Current) => HealthResult::current("Resource is current"),
            Ok(Status::Failed) => HealthResult::new(Health::Failed, "Resource has failed"),
            Ok(Status::InProgress) => {
                HealthResult::new(Health::InProgress, "Resource is in progress")
            }
            Err(error) => HealthResult::new(Health::Unknown, error.to_string()),
        })
    }
}

/// The group of an apiVersion (`""` for the core group).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(kind: Option<&str>, current: &str, failed: Option<&str>) -> CustomHealthCheck {
        CustomHealthCheck {
            api_version: "example.com/v1".to_owned(),
            kind: kind.map(str::to_owned),
            in_progress: None,
            failed: failed.map(str::to_owned),
            current: current.to_owned(),
        }
    }

    #[test]
    fn dependency_expressions_see_self_and_dep() {
        let own = json!({"metadata": {"namespace": "apps", "name": "web"}});
        let dep = json!({"metadata": {"namespace": "apps", "name": "db"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        let same_namespace = "self.metadata.namespace == dep.metadata.namespace";
        assert_eq!(dependency_ready(same_namespace, &own, &dep), Ok(true));
        let ready = "dep.status.conditions.filter(c, c.type == 'Ready').all(c, c.status == 'True')";
        assert_eq!(dependency_ready(ready, &own, &dep), Ok(false));
        let missing = dependency_ready("dep.status.phase == 'Running'", &own, &dep).unwrap_err();
        assert!(!missing.is_terminal(), "{missing}");
        let unparsable = dependency_ready("dep.metadata.name ==", &own, &dep).unwrap_err();
        assert!(unparsable.is_terminal(), "{unparsable}");
        let not_boolean = dependency_ready("dep.metadata.name", &own, &dep).unwrap_err();
        assert!(not_boolean.is_terminal(), "{not_boolean}");
    }

    #[test]
    fn evaluates_in_flux_order() {
        let evaluator = StatusEvaluator::new(&check(
            None,
            "status.phase == 'Ready'",
            Some("status.phase == 'Broken'"),
        ))
        .unwrap();
        let object = |phase: &str| json!({"metadata": {"generation": 1}, "status": {"phase": phase, "observedGeneration": 1}});
        assert_eq!(evaluator.evaluate(&object("Ready")), Ok(Status::Current));
        assert_eq!(evaluator.evaluate(&object("Broken")), Ok(Status::Failed));
        assert_eq!(
            evaluator.evaluate(&object("Pending")),
            Ok(Status::InProgress)
        );
        let stale = json!({"metadata": {"generation": 2}, "status": {"phase": "Ready", "observedGeneration": 1}});
        assert_eq!(evaluator.evaluate(&stale), Ok(Status::InProgress));
    }

    #[test]
    fn kind_beats_group_and_duplicates_are_refused() {
        let readers = StatusReaders::new(&[
            check(None, "true", None),
            check(Some("Widget"), "false", None),
        ])
        .unwrap();
        let widget = readers.find("example.com/v2", "Widget").unwrap();
        assert_eq!(widget.current.text(), "false");
        assert_eq!(
            readers
                .find("example.com/v1", "Other")
                .unwrap()
                .current
                .text(),
            "true"
        );
        assert!(readers.find("other.com/v1", "Widget").is_none());
        let duplicate = StatusReaders::new(&[check(None, "true", None), check(None, "true", None)]);
        assert!(duplicate.unwrap_err().to_string().contains("duplicate"));
    }

    #[test]
    fn bad_expressions_are_reported() {
        assert!(Expression::new("status.(").is_err());
        let expression = Expression::new("status.phase").unwrap();
        assert!(matches!(
            expression.evaluate_bool(&json!({"status": {"phase": "x"}})),
            Err(CelError::NotBoolean(_))
        ));
    }
}
