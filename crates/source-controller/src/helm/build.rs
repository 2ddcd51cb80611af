//! Chart building blocks over in-memory file lists: reading a packaged chart, version
//! metadata (Masterminds `SetMetadata`), values files merged into `values.yaml`, and
//! packaging `<name>/...` entries into a `.tgz` like `helm package`.

use std::io::{Read as _, Write as _};
use std::path::Path;

use ferroflux_helm::chart::{File, Metadata};
use ferroflux_semver::Version;
use serde_json::{Map, Value};

/// Reads a packaged chart (`.tgz`): its files relative to the chart root, refusing files
/// over `file_max` bytes, archives over `total_max` bytes and paths leaving the root.
pub fn read_archive(data: &[u8], file_max: u64, total_max: u64) -> Result<Vec<File>, String> {
    let decoder = flate2::read::GzDecoder::new(data);
    let mut archive = tar::Archive::new(decoder);
    let mut files = Vec::new();
    let mut total = 0u64;
    let entries = archive
        .entries()
        .map_err(|e| format!("failed to read chart archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("failed to read chart archive: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| format!("failed to read chart archive: {e}"))?
            .to_string_lossy()
            .replace('\\', "/");
        let Some((_, name)) = path.split_once('/') else {
            continue;
        };
        if name.is_empty() || name.split('/').any(|part| part == "..") {
            return Err(format!(
                "chart illegally contains a path outside its root: {path}"
            ));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > file_max {
            return Err(format!(
                "size of '{name}' exceeds the maximum file size of {file_max} bytes"
            ));
        }
        total += size;
        if total > total_max {
            return Err(format!(
                "chart exceeds the maximum chart size of {total_max} bytes"
            ));
        }
        let mut contents = Vec::new();
        entry
            .read_to_end(&mut contents)
            .map_err(|e| format!("failed to read chart archive: {e}"))?;
        files.push(File {
            name: name.to_owned(),
            data: contents,
        });
    }
    Ok(files)
}

/// The chart's metadata (`Chart.yaml`), validated like Helm's `Metadata.Validate`.
pub fn metadata(files: &[File]) -> Result<Metadata, String> {
    let chart_yaml = files
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .ok_or_else(|| "Chart.yaml file is missing".to_owned())?;
    let metadata = Metadata::from_yaml(&chart_yaml.data).map_err(|e| e.to_string())?;
    validate(&metadata)?;
    Ok(metadata)
}

/// The metadata at a chart directory.
pub fn metadata_at(dir: &Path) -> Result<Metadata, String> {
    let data = std::fs::read(dir.join("Chart.yaml")).map_err(|e| {
        format!(
            "failed to load chart metadata from '{}': {e}",
            dir.display()
        )
    })?;
    let metadata = Metadata::from_yaml(&data).map_err(|e| e.to_string())?;
    validate(&metadata)?;
    Ok(metadata)
}

fn validate(metadata: &Metadata) -> Result<(), String> {
    if metadata.name.is_empty() {
        return Err("validation: chart.metadata.name is required".to_owned());
    }
    if metadata.name.contains('/') || metadata.name.contains('\\') {
        return Err(format!(
            "validation: chart.metadata.name \"{}\" is invalid",
            metadata.name
        ));
    }
    if metadata.version.is_empty() {
        return Err("validation: chart.metadata.version is required".to_owned());
    }
    if Version::parse(&metadata.version).is_err() {
        return Err(format!(
            "validation: chart.metadata.version \"{}\" is invalid",
            metadata.version
        ));
    }
    Ok(())
}

/// Masterminds `NewVersion(version).SetMetadata(meta).String()`.
pub fn with_metadata(version: &str, meta: &str) -> Result<String, String> {
    let parsed = Version::parse(version)
        .map_err(|e| format!("failed to parse version from chart metadata as SemVer: {e}"))?;
    let valid = !meta.is_empty()
        && meta.split('.').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !valid {
        return Err(
            "failed to set SemVer metadata on chart version: invalid metadata string".to_owned(),
        );
    }
    let mut text = format!("{}.{}.{}", parsed.major(), parsed.minor(), parsed.patch());
    if !parsed.prerelease().is_empty() {
        text.push('-');
        text.push_str(parsed.prerelease());
    }
    text.push('+');
    text.push_str(meta);
    Ok(text)
}

/// Flux's `MergeMaps`: `source` over `target`, recursing into maps.
pub fn merge_maps(target: &mut Map<String, Value>, source: Map<String, Value>) {
    for (key, value) in source {
        match (target.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => {
                merge_maps(existing, incoming);
            }
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}

/// Parses a values file into a map.
pub fn parse_values(name: &str, data: &[u8]) -> Result<Map<String, Value>, String> {
    let text = String::from_utf8_lossy(data);
    match ferroflux_helm::yaml::parse_document(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(format!(
            "unmarshaling values from '{name}' failed: not a map"
        )),
        Err(e) => Err(format!("unmarshaling values from '{name}' failed: {e}")),
    }
}

/// Replaces the chart's version (the top-level `version:` line of `Chart.yaml`) and,
/// when given, its `values.yaml`.
pub fn patch(files: &mut Vec<File>, version: &str, values: Option<&Map<String, Value>>) {
    if let Some(chart_yaml) = files.iter_mut().find(|f| f.name == "Chart.yaml") {
        let text = String::from_utf8_lossy(&chart_yaml.data);
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            if line.starts_with("version:") {
                out.push_str("version: ");
                out.push_str(version);
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        chart_yaml.data = out.into_bytes();
    }
    if let Some(values) = values {
        let node = ferroflux_helm::yaml::Node::from_json(&Value::Object(values.clone()));
        let data = ferroflux_helm::yaml::to_yaml_string(&node).into_bytes();
        match files.iter_mut().find(|f| f.name == "values.yaml") {
            Some(file) => file.data = data,
            None => files.push(File {
                name: "values.yaml".to_owned(),
                data,
            }),
        }
    }
}

/// Packages `files` as `<name>/<file>` entries of a gzipped tar, as `helm package` does.
pub fn write_archive(name: &str, files: &[File]) -> Result<Vec<u8>, String> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    let error = |e: std::io::Error| format!("failed to write chart archive: {e}");
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                format!("{name}/{}", file.name),
                file.data.as_slice(),
            )
            .map_err(error)?;
    }
    let mut encoder = builder.into_inner().map_err(error)?;
    encoder.flush().map_err(error)?;
    encoder.finish().map_err(error)
}

/// Go's `%v` of a string slice: `[a.yaml b.yaml]`.
pub fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_metadata_like_masterminds() {
        assert_eq!(
            with_metadata("6.0.3", "4e5cbb7b97d0").unwrap(),
            "6.0.3+4e5cbb7b97d0"
        );
        assert_eq!(with_metadata("6.0.3+old", "2").unwrap(), "6.0.3+2");
        assert_eq!(
            with_metadata("v1.2-rc.1", "abc.3").unwrap(),
            "1.2.0-rc.1+abc.3"
        );
        assert!(with_metadata("1.0.0", "a_b").is_err());
    }

    #[test]
    fn values_merge_deeply_and_package_round_trips() {
        let mut merged = parse_values("a", b"a: 1\nb:\n  c: 1\n  d: 1\n").unwrap();
        merge_maps(
            &mut merged,
            parse_values("b", b"b:\n  c: 2\ne: x\n").unwrap(),
        );
        assert_eq!(merged["b"]["c"].as_f64(), Some(2.0));
        assert_eq!(merged["b"]["d"].as_f64(), Some(1.0));
        assert_eq!(merged["a"].as_f64(), Some(1.0));
        assert_eq!(merged["e"], "x");
        let mut files = vec![File {
            name: "Chart.yaml".to_owned(),
            data: b"apiVersion: v2\nname: demo\nversion: 1.0.0\n".to_vec(),
        }];
        patch(&mut files, "1.0.0+3", Some(&merged));
        let archive = write_archive("demo", &files).unwrap();
        let back = read_archive(&archive, 1 << 20, 1 << 20).unwrap();
        let meta = metadata(&back).unwrap();
        assert_eq!(meta.version, "1.0.0+3");
        let values = back.iter().find(|f| f.name == "values.yaml").unwrap();
        assert!(String::from_utf8_lossy(&values.data).contains("c: 2"));
        assert!(read_archive(&archive, 10, 1 << 20).is_err());
    }
}
