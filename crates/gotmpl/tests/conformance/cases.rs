//! The case file format and the recorded Go results.
//!
//! A case file (`tests/cases/*.txt`) holds two forms of case. The one-line form:
//!
//! ```text
//! - name [option option] :: template text :: {"json": "data"}
//! ```
//!
//! (options and data are optional; the template runs to the last ` :: `). The block form,
//! for multi-line templates, several templates or trailing newlines:
//!
//! ```text
//! === name
//! --- options
//! missingkey=error numbers=float
//! --- data
//! {"a": 1}
//! --- template t
//! text, up to the next line starting with "--- ", "=== " or "- "
//! ```
//!
//! A section's text excludes the newline before the next marker; an empty line at the end
//! of a section therefore gives the text a trailing newline. Lines starting with `#`
//! outside block sections are comments.
//!
//! Options: `numbers=int` (default: integral JSON numbers are Go `int`), `numbers=float`
//! (every number `float64`, as Helm values), `missingkey=...`, `delims=L,R`, `exec=NAME`.
//! Results recorded from Go live next to the cases as `*.expected.jsonl`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

/// One conformance case.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: String,
    pub templates: Vec<(String, String)>,
    pub data: Option<String>,
    pub options: Vec<String>,
}

impl Case {
    /// The JSON line the Go program reads.
    pub fn to_go_json(&self) -> String {
        let data: serde_json::Value = match &self.data {
            Some(text) => serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("case {} has invalid JSON data: {e}", self.id)),
            None => serde_json::Value::Null,
        };
        json!({
            "name": self.id,
            "templates": self.templates.iter().map(|(n, t)| [n, t]).collect::<Vec<_>>(),
            "data": data,
            "options": self.options,
        })
        .to_string()
    }
}

/// What Go (or we) produced for a case.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Outcome {
    pub name: String,
    pub output: String,
    pub error: String,
}

pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// Every case file, sorted by name.
pub fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases must exist")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

pub fn expected_path(case_file: &Path) -> PathBuf {
    case_file.with_extension("expected.jsonl")
}

pub fn parse_case_file(path: &Path) -> Vec<Case> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("UTF-8 file name");
    let text = std::fs::read_to_string(path).expect("case file must be readable");
    let mut cases = Vec::new();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("- ") {
            cases.push(parse_one_line(stem, rest));
        } else if let Some(name) = line.strip_prefix("=== ") {
            let mut case = Case {
                id: format!("{stem}/{}", name.trim()),
                templates: Vec::new(),
                data: None,
                options: Vec::new(),
            };
            while let Some(marker) = lines.peek().and_then(|l| l.strip_prefix("--- ")) {
                let marker = marker.trim().to_owned();
                lines.next();
                let mut body = Vec::new();
                while let Some(next) = lines.peek() {
                    if next.starts_with("--- ")
                        || next.starts_with("=== ")
                        || next.starts_with("- ")
                    {
                        break;
                    }
                    body.push(*next);
                    lines.next();
                }
                let body = body.join("\n");
                apply_section(&mut case, &marker, body);
            }
            assert!(
                !case.templates.is_empty(),
                "case {} has no template",
                case.id
            );
            cases.push(case);
        }
    }
    cases
}

fn apply_section(case: &mut Case, marker: &str, body: String) {
    match marker
        .split_once(' ')
        .map_or((marker, ""), |(a, b)| (a, b.trim()))
    {
        ("options", _) => case.options = body.split_whitespace().map(str::to_owned).collect(),
        ("data", _) => case.data = Some(body),
        ("template", name) => {
            let name = if name.is_empty() { "t" } else { name };
            case.templates.push((name.to_owned(), body));
        }
        (other, _) => panic!("case {}: unknown section {other}", case.id),
    }
}

fn parse_one_line(stem: &str, rest: &str) -> Case {
    let (head, body) = rest
        .split_once(" :: ")
        .unwrap_or_else(|| panic!("bad case line: {rest}"));
    let (name, options) = match head.split_once(" [") {
        Some((name, options)) => {
            let options = options.trim_end_matches(']');
            (
                name,
                options.split_whitespace().map(str::to_owned).collect(),
            )
        }
        None => (head, Vec::new()),
    };
    let (template, data) = match body.rsplit_once(" :: ") {
        Some((template, data)) => (template, Some(data.to_owned())),
        None => (body, None),
    };
    Case {
        id: format!("{stem}/{}", name.trim()),
        templates: vec![("t".to_owned(), template.to_owned())],
        data,
        options,
    }
}

pub fn read_expected(path: &Path) -> BTreeMap<String, Outcome> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let outcome: Outcome =
                serde_json::from_str(line).expect("expected file lines are JSON");
            (outcome.name.clone(), outcome)
        })
        .collect()
}

pub fn write_expected(path: &Path, outcomes: &[Outcome]) {
    let mut text = String::new();
    for outcome in outcomes {
        text.push_str(&serde_json::to_string(outcome).expect("outcomes serialize"));
        text.push('\n');
    }
    std::fs::write(path, text).expect("expected file must be writable");
}

/// Cases whose Go result we knowingly do not reproduce: `id<TAB>reason` (ids contain spaces).
pub fn known_differences() -> BTreeMap<String, String> {
    let path = cases_dir().join("known-differences.tsv");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (id, reason) = line.split_once('\t').unwrap_or((line, ""));
            (id.to_owned(), reason.trim().to_owned())
        })
        .collect()
}
