//! Logs as Flux writes them: one JSON object per line with zap's keys (`level`, `ts`,
//! `msg`, `error`) and controller-runtime's context (`controller`, `name`, `namespace`,
//! `reconcileID`, ...), which `flux logs` parses.

use std::fmt::Write as _;
use std::io::Write as _;

use jiff::Timestamp;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Installs the global logger: `level` is Flux's `--log-level`, `encoding` `json` or
/// `console`.
pub fn init(level: &str, encoding: &str) {
    let directive = match level {
        "trace" => "trace",
        "debug" => "debug",
        "error" => "error",
        _ => "info",
    };
    // Our crates log at the chosen level; libraries only report their errors.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "error,ferroflux={directive},{}={directive}",
            binary_target()
        ))
    });
    let filter = add_controller_targets(filter, directive);
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if encoding == "console" {
        registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init()
    } else {
        registry.with(JsonLayer).try_init()
    };
}

fn binary_target() -> String {
    std::env::args()
        .next()
        .and_then(|arg| {
            std::path::Path::new(&arg)
                .file_name()
                .map(|n| n.to_string_lossy().replace('-', "_"))
        })
        .unwrap_or_default()
}

fn add_controller_targets(mut filter: EnvFilter, directive: &str) -> EnvFilter {
    for target in [
        "ferroflux_runtime",
        "source_controller",
        "kustomize_controller",
        "helm_controller",
        "notification_controller",
    ] {
        if let Ok(d) = format!("{target}={directive}").parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// Formats events as Flux's JSON log lines.
pub struct JsonLayer;

#[derive(Default)]
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.0.insert(key(field), Value::String(text));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(key(field), Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(key(field), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(key(field), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(key(field), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(key(field), Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(key(field), Value::String(value.to_string()));
    }
}

fn key(field: &Field) -> String {
    match field.name() {
        "message" => "msg".to_owned(),
        "reconcile_id" => "reconcileID".to_owned(),
        other => other.to_owned(),
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for JsonLayer {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        line.insert(
            "level".into(),
            Value::from(level_name(*event.metadata().level())),
        );
        line.insert(
            "ts".into(),
            Value::from(
                Timestamp::now()
                    .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string(),
            ),
        );
        line.insert("msg".into(), Value::from(""));
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<Fields>() {
                    line.extend(fields.0.clone());
                }
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        line.extend(fields.0);
        let mut out = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        out.push(b'\n');
        let _ = std::io::stderr().lock().write_all(&out);
    }
}
