//! Values as Helm computes them: coalescing user values over chart defaults (with `null`
//! deleting keys), `global` propagation into subcharts, dependency conditions and tags,
//! aliases, and `import-values` (chartutil `coalesce.go` and `dependencies.go`).

use serde_json::{Map, Value as Json};

use crate::chart::Chart;

type Table = Map<String, Json>;

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}.{b}")
    }
}

/// `chartutil.CoalesceValues` (`merge = false`) and `MergeValues` (`merge = true`).
pub fn coalesce_values(chart: &Chart, values: &Table, merge: bool) -> Table {
    let mut dest = values.clone();
    coalesce(chart, &mut dest, "", merge);
    dest
}

fn coalesce(chart: &Chart, dest: &mut Table, prefix: &str, merge: bool) {
    coalesce_chart_values(chart, dest, merge);
    for sub in &chart.dependencies {
        let name = sub.name().to_owned();
        match dest.get(&name) {
            None => {
                dest.insert(name.clone(), Json::Object(Map::new()));
            }
            Some(Json::Object(_)) => {}
            Some(_) => continue,
        }
        let sub_prefix = concat_prefix(prefix, chart.name());
        let mut sub_values = match dest.remove(&name) {
            Some(Json::Object(map)) => map,
            _ => Map::new(),
        };
        coalesce_globals(&mut sub_values, dest);
        coalesce(sub, &mut sub_values, &sub_prefix, merge);
        dest.insert(name, Json::Object(sub_values));
    }
}

fn coalesce_globals(dest: &mut Table, src: &Table) {
    let mut dest_globals = match dest.get("global") {
        None => Map::new(),
        Some(Json::Object(map)) => map.clone(),
        Some(_) => return,
    };
    let src_globals = match src.get("global") {
        None => Map::new(),
        Some(Json::Object(map)) => map.clone(),
        Some(_) => return,
    };
    for (key, value) in src_globals {
        match value {
            Json::Object(table) => {
                let mut copy = table.clone();
                match dest_globals.get(&key) {
                    None => {
                        dest_globals.insert(key, Json::Object(copy));
                    }
                    Some(Json::Object(existing)) => {
                        coalesce_tables(&mut copy, existing, true);
                        dest_globals.insert(key, Json::Object(copy));
                    }
                    Some(_) => {}
                }
            }
            other => {
                if !matches!(dest_globals.get(&key), Some(Json::Object(_))) {
                    dest_globals.insert(key, other);
                }
            }
        }
    }
    dest.insert("global".to_owned(), Json::Object(dest_globals));
}

fn coalesce_chart_values(chart: &Chart, values: &mut Table, merge: bool) {
    for (key, default) in &chart.values {
        match values.get_mut(key) {
            Some(Json::Null) if !merge => {
                values.remove(key);
            }
            Some(Json::Object(dest)) => {
                if let Json::Object(src) = default {
                    let child_merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(dest, src, child_merge);
                }
            }
            Some(_) => {}
            None => {
                values.insert(key.clone(), default.clone());
            }
        }
    }
}

/// `coalesceTablesFullKey`: fills `dst` from `src`; `dst` wins; a `null` in `dst`
/// deletes the key unless merging.
pub fn coalesce_tables(dst: &mut Table, src: &Table, merge: bool) {
    for (key, value) in src {
        match dst.get_mut(key) {
            Some(Json::Null) if !merge => {
                dst.remove(key);
            }
            None => {
                dst.insert(key.clone(), value.clone());
            }
            Some(Json::Object(inner)) => {
                if let Json::Object(src_inner) = value {
                    coalesce_tables(inner, src_inner, merge);
                }
            }
            Some(_) => {}
        }
    }
}

/// Looks up a dotted path of tables (`Values.Table`).
fn table_at<'a>(values: &'a Table, path: &str) -> Option<&'a Table> {
    let mut current = values;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        current = current.get(part)?.as_object()?;
    }
    Some(current)
}

/// `Values.PathValue`: the value at a dotted path whose last element is not a table.
fn path_value<'a>(values: &'a Table, path: &str) -> Option<&'a Json> {
    let (parents, last) = path.rsplit_once('.').unwrap_or(("", path));
    let table = table_at(values, parents)?;
    table.get(last).filter(|v| !v.is_object())
}

/// `ProcessDependenciesWithMerge`: drops disabled subcharts, applies aliases, then
/// imports values.
pub fn process_dependencies(chart: &mut Chart, values: &Table) {
    process_enabled(chart, values, "", 0);
    process_import_values(chart, 0);
}

fn process_enabled(chart: &mut Chart, values: &Table, path: &str, depth: usize) {
    if chart.metadata.dependencies.is_empty() || depth > 64 {
        return;
    }
    let compatible =
        |req_version: &str, version: &str| crate::kube::is_compatible_range(req_version, version);
    let mut kept: Vec<Chart> = chart
        .dependencies
        .iter()
        .filter(|existing| {
            !chart.metadata.dependencies.iter().any(|r| {
                r.name == existing.name() && compatible(&r.version, &existing.metadata.version)
            })
        })
        .cloned()
        .collect();
    for req in &mut chart.metadata.dependencies {
        if let Some(found) = chart
            .dependencies
            .iter()
            .find(|c| c.name() == req.name && compatible(&req.version, &c.metadata.version))
        {
            let mut copy = found.clone();
            if !req.alias.is_empty() {
                copy.metadata.name.clone_from(&req.alias);
            }
            kept.push(copy);
        }
        if !req.alias.is_empty() {
            req.name.clone_from(&req.alias);
        }
        req.enabled = true;
    }
    chart.dependencies = kept;
    let cvals = coalesce_values(chart, values, false);
    apply_tags(chart, &cvals);
    apply_conditions(chart, &cvals, path);
    let disabled: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    chart
        .dependencies
        .retain(|c| !disabled.contains(&c.metadata.name));
    chart
        .metadata
        .dependencies
        .retain(|r| !disabled.contains(&r.name));
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.metadata.name);
        process_enabled(sub, &cvals, &sub_path, depth + 1);
    }
}

fn apply_tags(chart: &mut Chart, cvals: &Table) {
    let Some(tags) = cvals.get("tags").and_then(Json::as_object) else {
        return;
    };
    for req in &mut chart.metadata.dependencies {
        let (mut has_true, mut has_false) = (false, false);
        for tag in &req.tags {
            match tags.get(tag) {
                Some(Json::Bool(true)) => has_true = true,
                Some(Json::Bool(false)) => has_false = true,
                _ => {}
            }
        }
        req.enabled = has_true || !has_false;
    }
}

fn apply_conditions(chart: &mut Chart, cvals: &Table, path: &str) {
    for req in &mut chart.metadata.dependencies {
        for condition in req.condition.trim().split(',') {
            if condition.is_empty() {
                continue;
            }
            if let Some(Json::Bool(enabled)) = path_value(cvals, &format!("{path}{condition}")) {
                req.enabled = *enabled;
                break;
            }
        }
    }
}

fn path_to_map(path: &str, data: Table) -> Table {
    if path == "." {
        return data;
    }
    let mut current = data;
    for part in path
        .split('.')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        let mut wrapper = Map::new();
        wrapper.insert(part.to_owned(), Json::Object(current));
        current = wrapper;
    }
    current
}

fn process_import_values(chart: &mut Chart, depth: usize) {
    if depth > 64 {
        return;
    }
    for sub in &mut chart.dependencies {
        process_import_values(sub, depth + 1);
    }
    if chart.metadata.dependencies.is_empty() {
        return;
    }
    let cvals = coalesce_values(chart, &Map::new(), true);
    let mut imported = Map::new();
    for req in &chart.metadata.dependencies {
        for entry in &req.import_values {
            let (child, parent) = match entry {
                Json::Object(map) => (go_print(map.get("child")), go_print(map.get("parent"))),
                Json::String(name) => (format!("exports.{name}"), ".".to_owned()),
                _ => continue,
            };
            let Some(table) = table_at(&cvals, &format!("{}.{child}", req.name)) else {
                continue;
            };
            let addition = path_to_map(&parent, table.clone());
            coalesce_tables(&mut imported, &addition, true);
        }
    }
    let mut values = cvals;
    coalesce_tables(&mut values, &imported, true);
    chart.values = values;
}

fn go_print(value: Option<&Json>) -> String {
    match value {
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "<nil>".to_owned(),
    }
}
