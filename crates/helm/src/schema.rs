//! `values.schema.json` validation for the chart and each subchart, as Helm v3.19 does it
//! with santhosh-tekuri/jsonschema v6: every chart's coalesced values are checked against
//! its own schema, and the failures of all charts are reported together.
//!
//! The pieces: [`doc`] parses the schema like Go's JSON decoder, [`meta`] checks it against
//! its draft's metaschema, [`compile`] resolves keywords and `$ref`s per draft, [`validate`]
//! applies it, [`error`] prints the library's error tree and [`number`] its numbers.

pub mod compile;
pub mod doc;
pub mod error;
pub mod format;
pub mod goregex;
pub mod meta;
pub mod number;
pub mod validate;

use serde_json::{Map, Value as Json};

use crate::chart::Chart;
use crate::error::Error;

/// Validates the coalesced values of `chart` and its subcharts.
pub fn validate_chart(chart: &Chart, values: &Map<String, Json>) -> Result<(), Error> {
    let mut report = String::new();
    validate_recursive(chart, values, &mut report, 0);
    if report.is_empty() {
        return Ok(());
    }
    Err(Error::Schema(format!(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{report}"
    )))
}

/// Helm's `ValidateAgainstSchema`: this chart's report, then each subchart's.
fn validate_recursive(
    chart: &Chart,
    values: &Map<String, Json>,
    report: &mut String,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    if let Some(schema) = &chart.schema
        && let Err(problem) = validate_values(schema, &Json::Object(values.clone()))
    {
        report.push_str(chart.name());
        report.push_str(":\n");
        report.push_str(&problem);
    }
    for sub in &chart.dependencies {
        let sub_values = values
            .get(sub.name())
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        validate_recursive(sub, &sub_values, report, depth + 1);
    }
}

/// Helm's `ValidateAgainstSingleSchema`: a validation failure ends with a newline, a
/// problem with the schema itself does not.
pub fn validate_values(schema: &[u8], values: &Json) -> Result<(), String> {
    let doc = doc::parse(schema)?;
    compile::check_meta_url(&doc)?;
    let draft = compile::document_draft(&doc);
    meta::check(&doc, draft)?;
    let compiled = compile::compile(&doc)?;
    validate::validate(&compiled, values).map_err(|causes| format!("{}\n", error::render(&causes)))
}

#[cfg(test)]
mod tests {
    use super::validate_values;
    use serde_json::json;

    /// Schema fragments combined at random to look for panics.
    const FRAGMENTS: [&str; 24] = [
        r#""type": "integer""#,
        r#""type": ["string", "null"]"#,
        r#""minimum": -1e400"#,
        r#""multipleOf": 0.0001"#,
        r#""multipleOf": 1e-40"#,
        r#""pattern": "^(a|b)*$""#,
        r#""pattern": "(""#,
        r#""format": "date-time""#,
        r##""$ref": "#""##,
        r##""$ref": "#/nowhere""##,
        r##""$ref": "#anchor""##,
        r##""items": {"$ref": "#"}"##,
        r#""items": [true, false]"#,
        r#""prefixItems": [{"const": 1}]"#,
        r#""contains": {"type": "string"}, "minContains": 2, "maxContains": 0"#,
        r##""properties": {"a": {"$ref": "#"}}"##,
        r#""additionalProperties": {"not": {}}"#,
        r#""unevaluatedProperties": false"#,
        r#""unevaluatedItems": {"type": "object"}"#,
        r##""allOf": [{"$ref": "#"}]"##,
        r#""oneOf": [true, {"required": ["a"]}]"#,
        r#""if": {"minProperties": 1}, "then": {"maxProperties": 0}, "else": false"#,
        r##""dependencies": {"a": ["b"], "b": {"$ref": "#"}}"##,
        r#""minLength": -1, "maxItems": 1.5, "required": "a""#,
    ];

    #[test]
    fn random_schemas_never_panic() {
        let values = [
            json!({"a": {"a": [1, "x", {"a": null}]}, "b": 2.5, "c": "2024-01-01T00:00:00Z"}),
            json!({"a": 1, "b": [1, 1, 1], "é": "\u{200b}"}),
        ];
        let drafts = [
            "",
            r#""$schema": "http://json-schema.org/draft-04/schema#","#,
            r#""$schema": "http://json-schema.org/draft-07/schema#","#,
            r#""$schema": "https://json-schema.org/draft/2019-09/schema","#,
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..600 {
            let mut parts = Vec::new();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pick = usize::try_from(seed % FRAGMENTS.len() as u64).unwrap_or(0);
                parts.push(FRAGMENTS[pick]);
            }
            let schema = format!("{{{} {}}}", drafts[round % drafts.len()], parts.join(", "));
            for value in &values {
                let _ = validate_values(schema.as_bytes(), value);
            }
        }
    }

    #[test]
    fn validation_failures_end_with_a_newline_and_schema_problems_do_not() {
        let failed = validate_values(br#"{"required": ["x"]}"#, &json!({})).unwrap_err();
        assert_eq!(failed, "- at '': missing property 'x'\n");
        let broken = validate_values(b"{", &json!({})).unwrap_err();
        assert_eq!(broken, "unexpected EOF");
    }
}
