//! The CRDs committed under `config/crds/` are what `ferroflux_api::crds()` generates: a
//! type changed without `cargo xtask gen` fails here. The comparison is semantic (both sides
//! parsed to JSON), so YAML layout is `cargo xtask gen --check`'s business, not this test's.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// Whole-number floats as integers: the schema type stores bounds as floats (`0.0`), the
/// committed YAML has them as integers (`0`), as xtask writes them.
fn normalize(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < 9.0e15
                && !number.is_i64()
                && !number.is_u64()
            {
                #[expect(clippy::cast_possible_truncation, reason = "whole number below 2^53")]
                let integer = float as i64;
                *value = Value::from(integer);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => map.values_mut().for_each(normalize),
        _ => {}
    }
}

/// Paths where `committed` and `generated` differ.
fn differences(committed: &Value, generated: &Value, path: &str, out: &mut Vec<String>) {
    match (committed, generated) {
        (Value::Object(left), Value::Object(right)) => {
            let keys: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
            for key in keys {
                let child = format!("{path}.{key}");
                match (left.get(key), right.get(key)) {
                    (Some(l), Some(r)) => differences(l, r, &child, out),
                    (Some(_), None) => out.push(format!("{child}: only in the committed file")),
                    (None, _) => out.push(format!("{child}: only in the generated CRD")),
                }
            }
        }
        (Value::Array(left), Value::Array(right)) if left.len() == right.len() => {
            for (index, (l, r)) in left.iter().zip(right).enumerate() {
                differences(l, r, &format!("{path}[{index}]"), out);
            }
        }
        _ if committed == generated => {}
        _ => out.push(format!(
            "{path}: committed {committed}, generated {generated}"
        )),
    }
}

#[test]
fn committed_crds_match_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/crds");
    let mut failures = Vec::new();
    let mut expected_files = BTreeSet::new();
    for crd in ferroflux_api::crds() {
        expected_files.insert(crd.file_name.clone());
        let path = dir.join(&crd.file_name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            failures.push(format!("{} is missing", path.display()));
            continue;
        };
        let mut committed: Value = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", path.display()));
        let mut generated = serde_json::to_value(&crd.crd).expect("CRDs serialize");
        normalize(&mut committed);
        normalize(&mut generated);
        let mut out = Vec::new();
        differences(&committed, &generated, "", &mut out);
        if !out.is_empty() {
            failures.push(format!("{}:\n    {}", crd.file_name, out.join("\n    ")));
        }
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .filter_map(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for stray in on_disk.difference(&expected_files) {
        failures.push(format!("{stray} is committed but no longer generated"));
    }
    assert!(
        failures.is_empty(),
        "config/crds/ is stale; run `cargo xtask gen` and commit:\n{}",
        failures.join("\n")
    );
}
