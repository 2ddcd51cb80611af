//! `values.schema.json` validation for the chart and each subchart (Helm validates each
//! chart's values against its own schema).

use serde_json::{Map, Value as Json};
use std::fmt::Write as _;

use crate::chart::Chart;
use crate::error::Error;

/// Validates the coalesced values of `chart` and its subcharts.
pub fn validate_chart(chart: &Chart, values: &Map<String, Json>) -> Result<(), Error> {
    let mut report = String::new();
    validate_recursive(chart, values, &mut report, 0)?;
    if report.is_empty() {
        return Ok(());
    }
    Err(Error::Schema(format!(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{report}"
    )))
}

fn validate_recursive(
    chart: &Chart,
    values: &Map<String, Json>,
    report: &mut String,
    depth: usize,
) -> Result<(), Error> {
    if depth > 64 {
        return Ok(());
    }
    if let Some(schema) = &chart.schema {
        let schema: Json = serde_json::from_slice(schema).map_err(|e| {
            Error::Schema(format!("{}: invalid values.schema.json: {e}", chart.name()))
        })?;
        let mut problems = Vec::new();
        check(&schema, &Json::Object(values.clone()), "", &mut problems, 0);
        if !problems.is_empty() {
            let _ = writeln!(report, "{}:", chart.name());
            let lines: Vec<String> = problems.iter().map(|p| format!("- {p}")).collect();
            report.push_str(&lines.join("\n"));
            report.push('\n');
        }
    }
    for sub in &chart.dependencies {
        let sub_values = values
            .get(sub.name())
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        validate_recursive(sub, &sub_values, report, depth + 1)?;
    }
    Ok(())
}

fn type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn type_matches(expected: &str, value: &Json) -> bool {
    let actual = type_name(value);
    actual == expected || (expected == "number" && actual == "integer")
}

/// santhosh-tekuri/jsonschema's `at '/json/pointer'` prefix.
fn location(path: &str) -> String {
    format!("at '{path}'")
}

fn check(schema: &Json, value: &Json, path: &str, problems: &mut Vec<String>, depth: usize) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    if depth > 256 {
        return;
    }
    if let Some(expected) = schema.get("type") {
        let types: Vec<&str> = match expected {
            Json::String(s) => vec![s.as_str()],
            Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
            problems.push(format!(
                "{}: got {}, want {}",
                location(path),
                type_name(value),
                types.join(" or ")
            ));
            return;
        }
    }
    if let Some(Json::Array(options)) = schema.get("enum")
        && !options.contains(value)
    {
        let printed: Vec<String> = options.iter().map(ToString::to_string).collect();
        problems.push(format!(
            "{}: value must be one of {}",
            location(path),
            printed.join(", ")
        ));
    }
    check_numbers_and_strings(schema, value, path, problems);
    if let Json::Object(map) = value {
        if let Some(Json::Array(required)) = schema.get("required") {
            let missing: Vec<String> = required
                .iter()
                .filter_map(Json::as_str)
                .filter(|k| !map.contains_key(*k))
                .map(|k| format!("'{k}'"))
                .collect();
            match missing.len() {
                0 => {}
                1 => problems.push(format!(
                    "{}: missing property {}",
                    location(path),
                    missing[0]
                )),
                _ => problems.push(format!(
                    "{}: missing properties {}",
                    location(path),
                    missing.join(", ")
                )),
            }
        }
        let properties = schema.get("properties").and_then(Json::as_object);
        for (key, item) in map {
            let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => check(sub, item, &child, problems, depth + 1),
                None => {
                    if schema.get("additionalProperties") == Some(&Json::Bool(false)) {
                        problems.push(format!(
                            "{}: additional properties '{key}' not allowed",
                            location(path)
                        ));
                    } else if let Some(extra @ Json::Object(_)) = schema.get("additionalProperties")
                    {
                        check(extra, item, &child, problems, depth + 1);
                    }
                }
            }
        }
    }
    if let (Json::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (index, item) in items.iter().enumerate() {
            check(
                item_schema,
                item,
                &format!("{path}/{index}"),
                problems,
                depth + 1,
            );
        }
    }
}

fn check_numbers_and_strings(
    schema: &Map<String, Json>,
    value: &Json,
    path: &str,
    problems: &mut Vec<String>,
) {
    if let Some(number) = value.as_f64() {
        if let Some(minimum) = schema.get("minimum").and_then(Json::as_f64)
            && number < minimum
        {
            problems.push(format!(
                "{}: minimum: got {}, want {}",
                location(path),
                crate::sprint_number(number),
                crate::sprint_number(minimum)
            ));
        }
        if let Some(maximum) = schema.get("maximum").and_then(Json::as_f64)
            && number > maximum
        {
            problems.push(format!(
                "{}: maximum: got {}, want {}",
                location(path),
                crate::sprint_number(number),
                crate::sprint_number(maximum)
            ));
        }
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count();
        if let Some(min) = schema.get("minLength").and_then(Json::as_u64)
            && (length as u64) < min
        {
            problems.push(format!(
                "{}: minLength: got {length}, want {min}",
                location(path)
            ));
        }
        if let Some(max) = schema.get("maxLength").and_then(Json::as_u64)
            && (length as u64) > max
        {
            problems.push(format!(
                "{}: maxLength: got {length}, want {max}",
                location(path)
            ));
        }
        if let Some(pattern) = schema.get("pattern").and_then(Json::as_str)
            && let Ok(re) = regex::Regex::new(pattern)
            && !re.is_match(text)
        {
            problems.push(format!(
                "{}: '{text}' does not match pattern '{pattern}'",
                location(path)
            ));
        }
    }
}
