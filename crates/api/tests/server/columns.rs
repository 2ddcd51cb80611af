//! `kubectl get` prints Flux's printer columns, filled from spec and from a Ready condition
//! written through the status subresource.

use std::process::Command;

use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::json::merge_patch;
use crate::kinds::{self, Kind};
use crate::rejection::minimal;

const READY_MESSAGE: &str = "Applied revision: main@sha1:0a1b2c3d";

/// Runs kubectl against the test cluster (`KUBECONFIG` is inherited) and returns stdout.
fn kubectl(args: &[&str]) -> String {
    let output = Command::new("kubectl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running kubectl {args:?} (is it on PATH?): {e}"));
    assert!(
        output.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("kubectl prints UTF-8")
}

/// One table kubectl printed: its header names and rows, each cell cut at the column the
/// header starts (cells such as STATUS hold spaces, so splitting on whitespace would not do).
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn tables(output: &str) -> Vec<Table> {
    output
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut lines = block.lines();
            let header_line = lines.next().expect("a table has a header");
            let mut starts = Vec::new();
            let mut previous = ' ';
            for (index, character) in header_line.char_indices() {
                // Column names are separated by at least two spaces ("SOURCE KIND" is one).
                let gap_before = index < 2 || header_line[index - 2..index] == *"  ";
                if character != ' ' && previous == ' ' && gap_before {
                    starts.push(index);
                }
                previous = character;
            }
            let cut = |line: &str| -> Vec<String> {
                starts
                    .iter()
                    .enumerate()
                    .map(|(i, &start)| {
                        let end = starts
                            .get(i + 1)
                            .copied()
                            .unwrap_or(line.len())
                            .min(line.len());
                        line.get(start.min(end)..end)
                            .unwrap_or_default()
                            .trim()
                            .to_owned()
                    })
                    .collect()
            };
            Table {
                header: cut(header_line),
                rows: lines.map(cut).collect(),
            }
        })
        .collect()
}

/// The column headers kubectl should print for `kind`, from its generated CRD.
fn crd_columns(kind: &Kind) -> Vec<(String, String)> {
    let crd = ferroflux_api::crds()
        .into_iter()
        .find(|crd| crd.crd.spec.names.kind == kind.name)
        .expect("every kind has a CRD");
    let columns = crd.crd.spec.versions[0]
        .additional_printer_columns
        .clone()
        .unwrap_or_default();
    columns
        .into_iter()
        .map(|c| (c.name.to_uppercase(), c.json_path))
        .collect()
}

/// The value a printer column's JSON path selects in `object`, for the paths Flux uses.
fn column_value(object: &Value, json_path: &str) -> Option<String> {
    if let Some(rest) = json_path.strip_prefix(r#".status.conditions[?(@.type=="Ready")]."#) {
        let conditions = object["status"]["conditions"].as_array()?;
        let ready = conditions.iter().find(|c| c["type"] == "Ready")?;
        return ready[rest].as_str().map(str::to_owned);
    }
    if json_path == ".metadata.creationTimestamp" {
        return None; // shown as an age; checked separately
    }
    let mut value = object;
    for segment in json_path.trim_start_matches('.').split('.') {
        value = value.get(segment)?;
    }
    value.as_str().map(str::to_owned)
}

/// Creates a minimal object of `kind` named `name` with a Ready=True condition; returns the
/// object as the server stores it.
async fn ready_object(cluster: &Cluster, kind: &Kind, name: &str) -> Value {
    let mut object = cluster.localize(&minimal(&kind.name), name);
    if kind.name == "ExternalArtifact" {
        let source = json!({"sourceRef": {"apiVersion": "source.extensions.fluxcd.io/v1beta1",
            "kind": "ArtifactGenerator", "name": "monorepo"}});
        merge_patch(&mut object["spec"], &source);
    }
    cluster
        .create(kind, &object)
        .await
        .unwrap_or_else(|s| panic!("creating {} {name}: {}", kind.name, s.message));
    if !kind.has_status() {
        return cluster.get(kind, name).await;
    }
    let ready = json!({"conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
        "message": READY_MESSAGE, "lastTransitionTime": "2026-07-01T10:00:00Z"}]});
    cluster
        .write_status(kind, name, &ready)
        .await
        .unwrap_or_else(|s| panic!("writing the status of {} {name}: {}", kind.name, s.message))
}

/// Checks one printed table against the CRD's columns and the stored objects.
fn check_table(
    table: &Table,
    kind: &Kind,
    objects: &[(String, Value)],
    namespaced: bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut expected_header: Vec<String> = Vec::new();
    if namespaced {
        expected_header.push("NAMESPACE".to_owned());
    }
    expected_header.push("NAME".to_owned());
    let columns = crd_columns(kind);
    expected_header.extend(columns.iter().map(|(name, _)| name.clone()));
    if table.header != expected_header {
        failures.push(format!(
            "{}: header {:?}, expected {expected_header:?}",
            kind.name, table.header
        ));
        return failures;
    }
    let offset = usize::from(namespaced);
    for (name, object) in objects {
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
        let printed_name = format!(
            "{}.{}/{name}",
            kind.name.to_lowercase(),
            kind.resource.group
        );
        let Some(row) = table.rows.iter().find(|row| {
            // kubectl prefixes names with kind.group only when it prints several kinds.
            (row[offset] == printed_name || row[offset] == *name)
                && (!namespaced || row[0] == namespace)
        }) else {
            failures.push(format!(
                "{}: no row for {printed_name} in {:?}",
                kind.name, table.rows
            ));
            continue;
        };
        for (index, (column, path)) in columns.iter().enumerate() {
            let cell = &row[offset + 1 + index];
            let ok = match column_value(object, path) {
                Some(expected) => *cell == expected,
                None => column == "AGE" && cell.ends_with('s'),
            };
            if !ok {
                failures.push(format!(
                    "{} {name}: column {column} ({path}) shows {cell:?}",
                    kind.name
                ));
            }
        }
    }
    failures
}

/// `kubectl get gitrepositories,kustomizations,helmreleases` (in the namespace and with -A)
/// prints NAME, Flux's columns and the values of a Ready object.
#[tokio::test]
async fn kubectl_get_prints_flux_columns() {
    let cluster = Cluster::new("api-columns").await;
    let wanted = [
        (
            "GitRepository",
            vec!["NAME", "URL", "AGE", "READY", "STATUS"],
        ),
        ("Kustomization", vec!["NAME", "AGE", "READY", "STATUS"]),
        ("HelmRelease", vec!["NAME", "AGE", "READY", "STATUS"]),
    ];
    let mut stored = Vec::new();
    for (kind_name, header) in &wanted {
        let kind = kinds::by_name(kind_name);
        let mut names = vec!["NAME".to_owned()];
        names.extend(crd_columns(&kind).into_iter().map(|(name, _)| name));
        assert_eq!(
            names, *header,
            "{kind_name}: the CRD's printer columns differ from Flux's"
        );
        let object = ready_object(&cluster, &kind, "podinfo").await;
        stored.push((kind, vec![("podinfo".to_owned(), object)]));
    }
    let resources = "gitrepositories,kustomizations,helmreleases";
    let mut failures = Vec::new();
    for all_namespaces in [false, true] {
        let scope = if all_namespaces {
            vec!["-A"]
        } else {
            vec!["-n", cluster.namespace()]
        };
        let output = kubectl(&[&["get", resources][..], &scope].concat());
        let printed = tables(&output);
        assert_eq!(
            printed.len(),
            wanted.len(),
            "one table per kind in:\n{output}"
        );
        for (table, (kind, objects)) in printed.iter().zip(&stored) {
            failures.extend(check_table(table, kind, objects, all_namespaces));
        }
    }
    cluster.finish().await;
    assert!(
        failures.is_empty(),
        "kubectl get printed:\n  {}",
        failures.join("\n  ")
    );
}

/// Every kind: `kubectl get <plural>` prints exactly the generated CRD's columns, filled in.
#[tokio::test]
async fn kubectl_get_prints_every_kinds_columns() {
    let cluster = Cluster::new("api-columns-all").await;
    let mut failures = Vec::new();
    for kind in kinds::all() {
        let object = ready_object(&cluster, &kind, "sample").await;
        let output = kubectl(&["get", &kind.resource.plural, "-n", cluster.namespace()]);
        let printed = tables(&output);
        assert_eq!(printed.len(), 1, "one table in:\n{output}");
        failures.extend(check_table(
            &printed[0],
            &kind,
            &[("sample".to_owned(), object)],
            false,
        ));
    }
    cluster.finish().await;
    assert!(
        failures.is_empty(),
        "kubectl get printed:\n  {}",
        failures.join("\n  ")
    );
}
