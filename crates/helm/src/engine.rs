//! Rendering: every template of the chart tree in one template set (so partials are
//! shared across subcharts), parsed deepest path first so parents override, executed
//! with per-chart scoped values, as Helm's `engine.Render`.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferroflux_gotmpl::{MissingKey, Template, Value};

use crate::chart::Chart;
use crate::error::Error;
use crate::functions::{WARN_END, WARN_START};
use crate::objects::{ChartObject, Files, json_to_value};

struct Renderable {
    text: String,
    top: BTreeMap<String, Value>,
    base_path: String,
}

/// Renders every template; keys are `chart/templates/file` paths.
pub fn render(
    chart: &Chart,
    top: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut templates = BTreeMap::new();
    collect(chart, top, chart.name(), true, &mut templates, 0);
    let mut names: Vec<&String> = templates.keys().collect();
    names.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
    let mut set = Template::new("gotpl");
    set.set_missing_key(MissingKey::Zero);
    crate::functions::register(&mut set);
    for name in &names {
        set.parse_named(name, &templates[*name].text)
            .map_err(|e| parse_error(name, &e.to_string()))?;
    }
    let mut rendered = BTreeMap::new();
    for name in names {
        if name
            .rsplit('/')
            .next()
            .is_some_and(|base| base.starts_with('_'))
        {
            continue;
        }
        let renderable = &templates[name];
        let mut top = renderable.top.clone();
        let mut template_info = BTreeMap::new();
        template_info.insert("Name".to_owned(), Value::from(name.as_str()));
        template_info.insert(
            "BasePath".to_owned(),
            Value::from(renderable.base_path.as_str()),
        );
        top.insert("Template".to_owned(), Value::map(template_info));
        let mut out = String::new();
        set.execute_template(&mut out, name, &Value::map(top))
            .map_err(|e| exec_error(name, &e))?;
        rendered.insert(name.clone(), out.replace("<no value>", ""));
    }
    Ok(rendered)
}

fn collect(
    chart: &Chart,
    parent: &BTreeMap<String, Value>,
    full_path: &str,
    is_root: bool,
    out: &mut BTreeMap<String, Renderable>,
    depth: usize,
) -> Value {
    let values = if is_root {
        parent
            .get("Values")
            .cloned()
            .unwrap_or_else(|| Value::map(BTreeMap::new()))
    } else {
        match parent.get("Values") {
            Some(Value::Map(map)) => match map.get(chart.name()) {
                Some(v @ Value::Map(_)) => v,
                _ => Value::map(BTreeMap::new()),
            },
            _ => Value::map(BTreeMap::new()),
        }
    };
    let mut top = BTreeMap::new();
    top.insert(
        "Chart".to_owned(),
        Value::Object(Arc::new(ChartObject {
            metadata: chart.metadata.clone(),
            is_root,
        })),
    );
    top.insert(
        "Files".to_owned(),
        Value::Object(Arc::new(Files::new(&chart.files))),
    );
    for key in ["Release", "Capabilities"] {
        top.insert(key.to_owned(), parent.get(key).cloned().unwrap_or_default());
    }
    top.insert("Values".to_owned(), values);
    let mut subcharts = BTreeMap::new();
    if depth < 64 {
        for sub in &chart.dependencies {
            let sub_path = format!("{full_path}/charts/{}", sub.name());
            subcharts.insert(
                sub.name().to_owned(),
                collect(sub, &top, &sub_path, false, out, depth + 1),
            );
        }
    }
    top.insert("Subcharts".to_owned(), Value::map(subcharts));
    for template in &chart.templates {
        if chart.is_library()
            && !template
                .name
                .rsplit('/')
                .next()
                .is_some_and(|b| b.starts_with('_'))
        {
            continue;
        }
        out.insert(
            format!("{full_path}/{}", template.name),
            Renderable {
                text: String::from_utf8_lossy(&template.data).into_owned(),
                top: top.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    Value::map(top)
}

fn parse_error(name: &str, message: &str) -> Error {
    let tokens: Vec<&str> = message.split(": ").collect();
    if tokens.len() == 1 {
        return Error::Render(format!("parse error in ({name}): {message}"));
    }
    Error::Render(format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    ))
}

fn exec_error(name: &str, error: &ferroflux_gotmpl::Error) -> Error {
    let message = error.to_string();
    if !matches!(error, ferroflux_gotmpl::Error::Exec { .. }) {
        return Error::Render(message);
    }
    let tokens: Vec<&str> = message.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return Error::Render(format!("execution error in ({name}): {message}"));
    }
    if let Some(start) = tokens[2].find(WARN_START)
        && let Some(end) = tokens[2].rfind(WARN_END)
        && end >= start + WARN_START.len()
    {
        return Error::Render(format!(
            "execution error at ({}): {}",
            tokens[1],
            &tokens[2][start + WARN_START.len()..end]
        ));
    }
    Error::Render(message)
}

/// Converts values into the template `.Values` map.
pub fn values_object(values: &serde_json::Map<String, serde_json::Value>) -> Value {
    json_to_value(&serde_json::Value::Object(values.clone()))
}
