//! Loading charts from a directory (honouring `.helmignore`) or a `.tgz` archive, then
//! sorting files into metadata, values, templates, subcharts and plain files as Helm's
//! `loader.LoadFiles` does.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use crate::chart::{Chart, Dependency, File, Metadata};
use crate::error::Error;
use crate::ignore::Rules;

/// Largest archive (decompressed) or directory Helm accepts: 100 MiB.
const MAX_CHART_BYTES: u64 = 100 << 20;
/// Deepest nesting of subcharts accepted.
const MAX_NESTING: usize = 64;

/// Loads a chart from a directory or a `.tgz` file.
pub fn load(path: &Path) -> Result<Chart, Error> {
    let metadata = std::fs::metadata(path).map_err(|e| {
        Error::io(
            format!("path {:?} not found", path.display().to_string()),
            e,
        )
    })?;
    if metadata.is_dir() {
        load_dir(path)
    } else {
        let data = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), e))?;
        load_archive(&data)
    }
}

/// Loads a chart directory.
pub fn load_dir(root: &Path) -> Result<Chart, Error> {
    let rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(text) => Rules::parse(&text),
        Err(_) => Rules::parse(""),
    };
    let mut files = Vec::new();
    let mut total = 0u64;
    walk(root, "", &rules, &mut files, &mut total)?;
    load_files(files, 0)
}

/// The files of a chart directory that `.helmignore` keeps, in lexical walk order.
pub fn collect_dir_files(root: &Path) -> Result<Vec<File>, Error> {
    let rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(text) => Rules::parse(&text),
        Err(_) => Rules::parse(""),
    };
    let mut files = Vec::new();
    let mut total = 0u64;
    walk(root, "", &rules, &mut files, &mut total)?;
    Ok(files)
}

fn walk(
    dir: &Path,
    prefix: &str,
    rules: &Rules,
    files: &mut Vec<File>,
    total: &mut u64,
) -> Result<(), Error> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir.display().to_string(), e))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        let is_dir = std::fs::metadata(&path).is_ok_and(|m| m.is_dir());
        if rules.ignored(&relative, is_dir) {
            continue;
        }
        if is_dir {
            walk(&path, &relative, rules, files, total)?;
        } else {
            let data =
                std::fs::read(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
            *total += data.len() as u64;
            if *total > MAX_CHART_BYTES {
                return Err(Error::Chart(format!(
                    "chart exceeds the maximum size of {MAX_CHART_BYTES} bytes"
                )));
            }
            files.push(File {
                name: relative,
                data,
            });
        }
    }
    Ok(())
}

/// Loads a gzipped tar archive whose entries sit under one top-level directory.
pub fn load_archive(data: &[u8]) -> Result<Chart, Error> {
    load_archive_nested(data, 0)
}

fn load_archive_nested(data: &[u8], depth: usize) -> Result<Chart, Error> {
    let decoder = flate2::read::GzDecoder::new(data);
    let mut archive = tar::Archive::new(decoder.take(MAX_CHART_BYTES + 1));
    let mut files = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| Error::io("reading chart archive", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::io("reading chart archive", e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| Error::io("reading chart archive", e))?
            .to_string_lossy()
            .replace('\\', "/");
        let Some((_, name)) = path.split_once('/') else {
            continue;
        };
        if name.is_empty() || name.split('/').any(|part| part == "..") {
            return Err(Error::Chart(format!(
                "chart illegally contains a path outside its root: {path}"
            )));
        }
        let mut contents = Vec::new();
        entry
            .read_to_end(&mut contents)
            .map_err(|e| Error::io("reading chart archive", e))?;
        files.push(File {
            name: name.to_owned(),
            data: contents,
        });
    }
    if files.is_empty() {
        return Err(Error::Chart("no files in chart archive".to_owned()));
    }
    load_files(files, depth)
}

/// Sorts loaded files into a chart (Helm's `LoadFiles`).
pub fn load_files(files: Vec<File>, depth: usize) -> Result<Chart, Error> {
    if depth > MAX_NESTING {
        return Err(Error::Chart("subcharts nested too deeply".to_owned()));
    }
    let mut chart = Chart::default();
    let mut metadata: Option<Metadata> = None;
    let mut requirements: Vec<Dependency> = Vec::new();
    let mut subcharts: BTreeMap<String, Vec<File>> = BTreeMap::new();
    let mut subchart_archives: Vec<File> = Vec::new();
    for file in files {
        match file.name.as_str() {
            "Chart.yaml" => {
                metadata = Some(Metadata::from_yaml(&file.data)?);
                chart.raw.push(file);
            }
            "values.yaml" => {
                chart.values = parse_values(&file.data, "values.yaml")?;
                chart.raw.push(file);
            }
            "values.schema.json" => chart.schema = Some(file.data),
            "requirements.yaml" => {
                let json = crate::yaml::parse_document(&String::from_utf8_lossy(&file.data))
                    .map_err(|e| Error::Chart(format!("cannot load requirements.yaml: {e}")))?;
                requirements = json
                    .get("dependencies")
                    .and_then(|d| d.as_array())
                    .map(|d| d.iter().map(Dependency::from_json).collect())
                    .unwrap_or_default();
                chart.files.push(file);
            }
            "Chart.lock" | "requirements.lock" => chart.raw.push(file),
            name if name.starts_with("templates/") => chart.templates.push(file),
            name if name.starts_with("charts/") => {
                let rest = &name["charts/".len()..];
                if Path::new(rest)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("prov"))
                {
                    chart.files.push(file);
                } else if let Some((sub, inner)) = rest.split_once('/') {
                    subcharts.entry(sub.to_owned()).or_default().push(File {
                        name: inner.to_owned(),
                        data: file.data,
                    });
                } else if Path::new(rest)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("tgz"))
                {
                    subchart_archives.push(file);
                }
            }
            _ => chart.files.push(file),
        }
    }
    let Some(mut metadata) = metadata else {
        return Err(Error::Chart("Chart.yaml file is missing".to_owned()));
    };
    if metadata.api_version.is_empty() {
        "v1".clone_into(&mut metadata.api_version);
    }
    if metadata.api_version == "v1" && metadata.dependencies.is_empty() {
        metadata.dependencies = requirements;
    }
    metadata.validate()?;
    chart.metadata = metadata;
    for archive in subchart_archives {
        let sub = load_archive_nested(&archive.data, depth + 1).map_err(|e| {
            Error::Chart(format!(
                "error unpacking subchart {} in {}: {e}",
                archive.name, chart.metadata.name
            ))
        })?;
        chart.dependencies.push(sub);
    }
    for (name, files) in subcharts {
        let sub = load_files(files, depth + 1).map_err(|e| {
            Error::Chart(format!(
                "error unpacking subchart {name} in {}: {e}",
                chart.metadata.name
            ))
        })?;
        chart.dependencies.push(sub);
    }
    Ok(chart)
}

/// Parses a values document into a map (`null` or empty becomes `{}`).
pub fn parse_values(
    data: &[u8],
    what: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let text = String::from_utf8_lossy(data);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match crate::yaml::parse_document(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(serde_json::Value::Null) => Ok(serde_json::Map::new()),
        Ok(_) => Err(Error::Values(format!(
            "failed to parse {what}: error unmarshaling JSON: json: cannot unmarshal array into Go value of type map[string]interface {{}}"
        ))),
        Err(e) => Err(Error::Values(format!(
            "failed to parse {what}: error converting YAML to JSON: {e}"
        ))),
    }
}
