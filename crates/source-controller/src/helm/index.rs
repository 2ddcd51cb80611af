//! Helm repository indexes as Flux reads and stores them.
//!
//! Flux loads `index.yaml` (YAML or JSON) into Helm's `repo.IndexFile`, drops chart
//! versions that fail validation, sorts each chart's versions newest first and stores the
//! result with Go's `json.MarshalIndent(index, "", "  ")`. [`IndexFile`] mirrors those Go
//! structs field for field (same JSON names, order and `omitempty` rules), and
//! [`IndexFile::write_json`] prints what Go prints (two-space indent, `<`, `>`, `&`
//! escaped). Parsing streams from a reader into these typed structs, so memory stays
//! close to the size of the data kept, not of a generic YAML tree.
//!
//! [`chart_versions`] reads one chart's versions back from a stored JSON index without
//! materializing the others, and [`select_version`] resolves a version constraint the
//! way Flux's `ChartRepository.GetChartVersion` does.
//!
//! This file depends on external crates only, so the benchmark example can include it.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};

use ferroflux_semver::{Constraints, Version};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::fast_yaml;

/// Indexes below this size keep their raw bytes while parsing (for the fallback parser).
const SMALL_INDEX: usize = 8 << 20;

/// Go's zero `time.Time` as `encoding/json` prints it.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Why an index could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The document is empty (Helm's `ErrEmptyIndexYaml`).
    #[error("empty index.yaml file")]
    Empty,
    /// No `apiVersion` (Helm's `ErrNoAPIVersion`).
    #[error("no API version specified")]
    NoApiVersion,
    /// YAML or JSON syntax or shape errors.
    #[error("{0}")]
    Syntax(String),
    /// A timestamp that is not RFC 3339.
    #[error("parsing time {0:?}: not an RFC 3339 time")]
    Time(String),
}

/// Helm's `repo.IndexFile`.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct IndexFile {
    /// ChartMuseum's server information (kept as read).
    #[serde(
        rename = "serverInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub server_info: Option<serde_json::Map<String, Value>>,
    /// The index format version.
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    /// When the index was generated.
    #[serde(default)]
    pub generated: String,
    /// Chart versions by chart name.
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<ChartVersion>>,
    /// Provenance keys.
    #[serde(rename = "publicKeys", default, skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<String>,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Helm's `repo.ChartVersion`: chart metadata plus where to download the package.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartVersion {
    /// Chart name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Project home page.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub home: String,
    /// Source URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Chart version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// One-line description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Search keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Maintainers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintainers: Vec<Maintainer>,
    /// Icon URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    /// Chart API version (`v1` when absent, as Flux sets it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Enabling condition (v1 charts).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    /// Tags (v1 charts).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tags: String,
    /// Application version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    /// Deprecated chart.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Kubernetes version constraint.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kube_version: String,
    /// Dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    /// `application` or `library`.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub chart_type: String,
    /// Download URLs (the first is used).
    #[serde(default)]
    pub urls: Vec<String>,
    /// Creation time (Go prints the zero time when absent).
    #[serde(default)]
    pub created: String,
    /// Removed from the repository.
    #[serde(default, skip_serializing_if = "is_false")]
    pub removed: bool,
    /// Package digest.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// Deprecated checksum field.
    #[serde(rename = "checksum", default, skip_serializing_if = "String::is_empty")]
    pub checksum_deprecated: String,
    /// Deprecated engine field.
    #[serde(rename = "engine", default, skip_serializing_if = "String::is_empty")]
    pub engine_deprecated: String,
    /// Deprecated Tiller version field.
    #[serde(
        rename = "tillerVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub tiller_version_deprecated: String,
    /// Deprecated single URL field.
    #[serde(rename = "url", default, skip_serializing_if = "String::is_empty")]
    pub url_deprecated: String,
}

/// Helm's `chart.Maintainer`.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct Maintainer {
    /// Name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Email address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
}

/// Helm's `chart.Dependency` as it appears in an index.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct Dependency {
    /// Chart name.
    #[serde(default)]
    pub name: String,
    /// Version constraint.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Repository URL.
    #[serde(default)]
    pub repository: String,
    /// Enabling condition.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Enabled.
    #[serde(default, skip_serializing_if = "is_false")]
    pub enabled: bool,
    /// Imported values.
    #[serde(
        rename = "import-values",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub import_values: Vec<Value>,
    /// Alias.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's signature")]
fn is_false(value: &bool) -> bool {
    !*value
}

impl IndexFile {
    /// Reads an index (JSON when the whole document is valid JSON, YAML otherwise, as
    /// Flux decides), validates it like Flux's `IndexFromBytes` and sorts it.
    pub fn parse(bytes: &[u8]) -> Result<Self, IndexError> {
        if bytes.is_empty() {
            return Err(IndexError::Empty);
        }
        let index: Self = if looks_like_json(bytes) {
            match serde_json::from_slice(bytes) {
                Ok(index) => index,
                Err(_) => parse_yaml(bytes)?,
            }
        } else {
            match fast_path(bytes) {
                Some(index) => index,
                None => parse_yaml(bytes)?,
            }
        };
        index.normalize()
    }

    /// [`Self::parse`] taking ownership, so the raw bytes are freed before the typed index
    /// is built (peak memory: the JSON form plus the typed index, not the raw bytes too).
    pub fn parse_owned(bytes: Vec<u8>) -> Result<Self, IndexError> {
        if bytes.is_empty() || looks_like_json(&bytes) {
            return Self::parse(&bytes);
        }
        let Some(json) = std::str::from_utf8(&bytes)
            .ok()
            .and_then(fast_yaml::to_json)
        else {
            return parse_yaml(&bytes)?.normalize();
        };
        // Small documents keep their bytes for the general parser should the typed read of
        // the fast path refuse them; large ones are freed first to bound memory.
        let fallback = (bytes.len() < SMALL_INDEX).then_some(bytes);
        match serde_json::from_str::<Self>(&json) {
            Ok(index) => index.normalize(),
            Err(error) => match fallback {
                Some(bytes) => parse_yaml(&bytes)?.normalize(),
                None => Err(IndexError::Syntax(error.to_string())),
            },
        }
    }

    /// Flux's post-processing: API version required, chart versions defaulted and
    /// validated (invalid ones dropped), times in Go's format, versions sorted newest
    /// first.
    fn normalize(mut self) -> Result<Self, IndexError> {
        if self.api_version.is_empty() {
            return Err(IndexError::NoApiVersion);
        }
        self.generated = go_time(&self.generated)?;
        for versions in self.entries.values_mut() {
            normalize_versions(versions)?;
        }
        Ok(self)
    }

    /// Writes the index as Go's `json.MarshalIndent(index, "", "  ")` does.
    pub fn write_json(&self, writer: impl Write) -> io::Result<()> {
        let mut serializer = serde_json::Serializer::with_formatter(writer, GoFormatter::new());
        self.serialize(&mut serializer).map_err(io::Error::other)
    }

    /// The number of chart versions in the index.
    pub fn version_count(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }
}

/// Converts a raw index to the stored Go-style JSON, one chart at a time when the fast
/// path applies: the typed form of all charts never exists at once, so memory stays near
/// the size of the document's JSON text. Returns the number of chart versions written.
pub fn convert_to_json(bytes: Vec<u8>, writer: impl Write) -> Result<usize, IndexError> {
    if bytes.is_empty() {
        return Err(IndexError::Empty);
    }
    let json = if looks_like_json(&bytes) {
        None
    } else {
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(fast_yaml::to_json)
    };
    let Some(json) = json else {
        let index = IndexFile::parse_owned(bytes)?;
        index
            .write_json(writer)
            .map_err(|e| IndexError::Syntax(e.to_string()))?;
        return Ok(index.version_count());
    };
    drop(bytes);
    let header: Header =
        serde_json::from_str(&json).map_err(|e| IndexError::Syntax(e.to_string()))?;
    if header.api_version.is_empty() {
        return Err(IndexError::NoApiVersion);
    }
    if !header.entries.names.is_sorted() {
        let index: IndexFile =
            serde_json::from_str(&json).map_err(|e| IndexError::Syntax(e.to_string()))?;
        let index = index.normalize()?;
        index
            .write_json(writer)
            .map_err(|e| IndexError::Syntax(e.to_string()))?;
        return Ok(index.version_count());
    }
    let entries = StreamedEntries {
        json: &json,
        failure: std::cell::RefCell::new(None),
        count: std::cell::Cell::new(0),
    };
    let out = IndexOut {
        server_info: header.server_info.as_ref(),
        api_version: &header.api_version,
        generated: go_time(&header.generated)?,
        entries: &entries,
        public_keys: &header.public_keys,
        annotations: &header.annotations,
    };
    let mut serializer = serde_json::Serializer::with_formatter(writer, GoFormatter::new());
    let written = out.serialize(&mut serializer);
    if let Some(failure) = entries.failure.take() {
        return Err(failure);
    }
    written.map_err(|e| IndexError::Syntax(e.to_string()))?;
    Ok(entries.count.get())
}

/// The index without its entries (their names only).
#[derive(Deserialize)]
struct Header {
    #[serde(rename = "serverInfo", default)]
    server_info: Option<serde_json::Map<String, Value>>,
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    generated: String,
    #[serde(default)]
    entries: EntryNames,
    #[serde(rename = "publicKeys", default)]
    public_keys: Vec<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Chart names in document order, values skipped.
#[derive(Default)]
struct EntryNames {
    names: Vec<String>,
}

impl<'de> Deserialize<'de> for EntryNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = EntryNames;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("index entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntryNames, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    names.push(name);
                }
                Ok(EntryNames { names })
            }
        }
        deserializer.deserialize_map(Names)
    }
}

/// Helm's `IndexFile` field order for output, entries streamed.
#[derive(Serialize)]
struct IndexOut<'a> {
    #[serde(rename = "serverInfo", skip_serializing_if = "Option::is_none")]
    server_info: Option<&'a serde_json::Map<String, Value>>,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    generated: String,
    entries: &'a StreamedEntries<'a>,
    #[serde(rename = "publicKeys", skip_serializing_if = "<[String]>::is_empty")]
    public_keys: &'a [String],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// Serializes the `entries` of a JSON document chart by chart, normalized and sorted.
struct StreamedEntries<'a> {
    json: &'a str,
    failure: std::cell::RefCell<Option<IndexError>>,
    count: std::cell::Cell<usize>,
}

impl Serialize for StreamedEntries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap};
        let mut map = serializer.serialize_map(None)?;
        let mut deserializer = serde_json::Deserializer::from_str(self.json);
        let mut write_error = None;
        let seed = TopSeed {
            map: &mut map,
            write_error: &mut write_error,
            entries: self,
        };
        if let Err(e) = seed.deserialize(&mut deserializer) {
            if let Some(error) = write_error {
                return Err(error);
            }
            if self.failure.borrow().is_none() {
                *self.failure.borrow_mut() = Some(IndexError::Syntax(e.to_string()));
            }
            return Err(S::Error::custom("index conversion failed"));
        }
        map.end()
    }
}

struct TopSeed<'m, 'e, M: serde::ser::SerializeMap> {
    map: &'m mut M,
    write_error: &'m mut Option<M::Error>,
    entries: &'m StreamedEntries<'e>,
}

impl<'de, M: serde::ser::SerializeMap> DeserializeSeed<'de> for TopSeed<'_, '_, M> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, M: serde::ser::SerializeMap> Visitor<'de> for TopSeed<'_, '_, M> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Helm repository index")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        while let Some(key) = access.next_key::<String>()? {
            if key != "entries" {
                access.next_value::<IgnoredAny>()?;
                continue;
            }
            access.next_value_seed(ChartsSeed {
                map: &mut *self.map,
                write_error: &mut *self.write_error,
                entries: self.entries,
            })?;
        }
        Ok(())
    }
}

struct ChartsSeed<'m, 'e, M: serde::ser::SerializeMap> {
    map: &'m mut M,
    write_error: &'m mut Option<M::Error>,
    entries: &'m StreamedEntries<'e>,
}

impl<'de, M: serde::ser::SerializeMap> DeserializeSeed<'de> for ChartsSeed<'_, '_, M> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, M: serde::ser::SerializeMap> Visitor<'de> for ChartsSeed<'_, '_, M> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("index entries")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        while let Some(name) = access.next_key::<String>()? {
            let mut versions: Vec<ChartVersion> = access.next_value()?;
            if let Err(e) = normalize_versions(&mut versions) {
                *self.entries.failure.borrow_mut() = Some(e);
                return Err(A::Error::custom("invalid chart version"));
            }
            self.entries
                .count
                .set(self.entries.count.get() + versions.len());
            if let Err(e) = self.map.serialize_entry(&name, &versions) {
                *self.write_error = Some(e);
                return Err(A::Error::custom("writing failed"));
            }
        }
        Ok(())
    }
}

/// Flux's per-chart post-processing: invalid versions dropped, defaults, Go times, sort.
fn normalize_versions(versions: &mut Vec<ChartVersion>) -> Result<(), IndexError> {
    versions.retain(ChartVersion::is_valid);
    for version in versions.iter_mut() {
        if version.api_version.is_empty() {
            "v1".clone_into(&mut version.api_version);
        }
        version.created = go_time(&version.created)?;
    }
    sort_versions(versions);
    Ok(())
}

/// Whether the first non-blank byte opens a JSON object.
fn looks_like_json(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// The block-style subset of YAML that index generators write, through JSON.
fn fast_path(bytes: &[u8]) -> Option<IndexFile> {
    let json = fast_yaml::to_json(std::str::from_utf8(bytes).ok()?)?;
    serde_json::from_str(&json).ok()
}

/// Streams YAML into the typed index with budgets sized for large repositories.
fn parse_yaml(bytes: &[u8]) -> Result<IndexFile, IndexError> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = None;
    budget.max_events = usize::MAX;
    budget.max_nodes = usize::MAX;
    budget.max_total_scalar_bytes = usize::MAX;
    let options = serde_saphyr::options! { budget: Some(budget) };
    serde_saphyr::from_slice_with_options(bytes, options)
        .map_err(|e| IndexError::Syntax(e.to_string()))
}

impl ChartVersion {
    /// Helm's `Metadata.Validate` for the rules that matter in an index.
    fn is_valid(&self) -> bool {
        !self.name.is_empty()
            && !self.name.contains('/')
            && !self.version.is_empty()
            && Version::parse(&self.version).is_ok()
            && matches!(self.chart_type.as_str(), "" | "application" | "library")
            && self.maintainers.iter().all(|m| !m.name.is_empty())
            && self.dependencies.iter().all(|d| !d.name.is_empty())
    }
}

/// Helm's `SortEntries`: newest first; versions that do not parse compare as strings.
fn sort_versions(versions: &mut [ChartVersion]) {
    versions.sort_by(|a, b| compare_versions(b, a));
}

fn compare_versions(a: &ChartVersion, b: &ChartVersion) -> Ordering {
    match (Version::parse(&a.version), Version::parse(&b.version)) {
        (Ok(left), Ok(right)) => left.cmp(&right),
        _ => a.version.cmp(&b.version),
    }
}

/// An RFC 3339 time as Go's `time.Time` marshals it: fractional seconds without trailing
/// zeros, `Z` for a zero offset; the zero time when empty.
pub fn go_time(text: &str) -> Result<String, IndexError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(ZERO_TIME.to_owned());
    }
    if text.parse::<jiff::Timestamp>().is_err() {
        return Err(IndexError::Time(text.to_owned()));
    }
    let (clock, offset) = match text.rfind(['Z', 'z', '+']) {
        Some(at) if at > 10 => text.split_at(at),
        _ => match text.rfind('-') {
            Some(at) if at > 10 => text.split_at(at),
            _ => return Err(IndexError::Time(text.to_owned())),
        },
    };
    let offset = match offset {
        "Z" | "z" | "+00:00" | "-00:00" => "Z",
        other => other,
    };
    let clock = clock.replacen(['t', ' '], "T", 1);
    let clock = match clock.split_once('.') {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                whole.to_owned()
            } else {
                format!("{whole}.{fraction}")
            }
        }
        None => clock,
    };
    Ok(format!("{clock}{offset}"))
}

/// `serde_json`'s pretty printer with Go's HTML-safe string escaping.
struct GoFormatter<'a> {
    pretty: serde_json::ser::PrettyFormatter<'a>,
}

impl GoFormatter<'_> {
    fn new() -> Self {
        Self {
            pretty: serde_json::ser::PrettyFormatter::with_indent(b"  "),
        }
    }
}

impl serde_json::ser::Formatter for GoFormatter<'_> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, ch) in fragment.char_indices() {
            let escaped = match ch {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..at])?;
            writer.write_all(escaped.as_bytes())?;
            start = at + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_array(writer)
    }
    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array(writer)
    }
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(writer, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(writer)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_object(writer)
    }
    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object(writer)
    }
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(writer, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(writer)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(writer)
    }
}

/// Reads the versions of one chart from a stored (JSON) index, skipping every other
/// chart without building it. `Ok(None)` when the chart is not in the index.
pub fn chart_versions(
    reader: impl Read,
    chart: &str,
) -> Result<Option<Vec<ChartVersion>>, IndexError> {
    let mut deserializer = serde_json::Deserializer::from_reader(io::BufReader::new(reader));
    IndexSeed { chart }
        .deserialize(&mut deserializer)
        .map_err(|e| IndexError::Syntax(e.to_string()))
}

struct IndexSeed<'a> {
    chart: &'a str,
}

impl<'de> DeserializeSeed<'de> for IndexSeed<'_> {
    type Value = Option<Vec<ChartVersion>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for IndexSeed<'_> {
    type Value = Option<Vec<ChartVersion>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Helm repository index")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "entries" {
                found = map.next_value_seed(EntriesSeed { chart: self.chart })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

struct EntriesSeed<'a> {
    chart: &'a str,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = Option<Vec<ChartVersion>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = Option<Vec<ChartVersion>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("index entries")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.chart {
                found = Some(map.next_value::<Vec<ChartVersion>>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Why no chart version was selected (Helm's and Flux's messages).
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The chart is not in the index.
    #[error("no chart name found")]
    NoChartName,
    /// The chart has no versions.
    #[error("no chart version found")]
    NoChartVersion,
    /// The constraint does not parse.
    #[error("{0}")]
    Constraint(String),
    /// Nothing satisfies the constraint.
    #[error("no '{chart}' chart with version matching '{constraint}' found")]
    NoMatch {
        /// Chart name.
        chart: String,
        /// The constraint as written.
        constraint: String,
    },
}

/// Flux's `getChartVersion`: an exact version string first, else the highest version
/// (strict semver, optional `v`) satisfying the constraint (`*` or empty: latest stable);
/// equal versions are ordered by creation time, the newest winning.
pub fn select_version(
    chart: &str,
    versions: Option<Vec<ChartVersion>>,
    constraint: &str,
) -> Result<ChartVersion, SelectError> {
    let versions = versions.ok_or(SelectError::NoChartName)?;
    if versions.is_empty() {
        return Err(SelectError::NoChartVersion);
    }
    if !constraint.is_empty()
        && let Some(exact) = versions.iter().find(|v| v.version == constraint)
    {
        return Ok(exact.clone());
    }
    let range = if constraint.is_empty() {
        "*"
    } else {
        constraint
    };
    let constraints =
        Constraints::parse(range).map_err(|e| SelectError::Constraint(e.to_string()))?;
    versions
        .into_iter()
        .filter_map(|candidate| {
            let version = Version::parse_tag(&candidate.version).ok()?;
            constraints
                .check(&version)
                .then(|| (version, created(&candidate.created), candidate))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
        .map(|(_, _, chosen)| chosen)
        .ok_or_else(|| SelectError::NoMatch {
            chart: chart.to_owned(),
            constraint: constraint.to_owned(),
        })
}

fn created(text: &str) -> Option<jiff::Timestamp> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"apiVersion: v1
entries:
  podinfo:
  - name: podinfo
    version: 6.0.0
    urls: [podinfo-6.0.0.tgz]
    created: "2021-01-01T00:00:00.500000000+00:00"
    description: "a <b> & c"
  - name: podinfo
    version: 6.1.0
    urls: [podinfo-6.1.0.tgz]
    appVersion: 6.1
  - name: podinfo
    version: 7.0.0-rc.1
    urls: [podinfo-7.0.0-rc.1.tgz]
  - version: 1.0.0
  broken:
  - name: broken
    version: not-a-version
generated: 2024-05-01T10:00:00Z
"#;

    #[test]
    fn parses_sorts_and_drops_invalid_versions() {
        let index = IndexFile::parse(INDEX.as_bytes()).unwrap();
        let versions: Vec<&str> = index.entries["podinfo"]
            .iter()
            .map(|v| v.version.as_str())
            .collect();
        assert_eq!(versions, ["7.0.0-rc.1", "6.1.0", "6.0.0"]);
        assert!(index.entries["broken"].is_empty());
        assert_eq!(index.entries["podinfo"][1].app_version, "6.1");
        assert_eq!(index.entries["podinfo"][1].api_version, "v1");
        assert_eq!(
            index.entries["podinfo"][2].created,
            "2021-01-01T00:00:00.5Z"
        );
        assert_eq!(index.entries["podinfo"][1].created, ZERO_TIME);
    }

    #[test]
    fn writes_go_json() {
        let index = IndexFile::parse(INDEX.as_bytes()).unwrap();
        let mut out = Vec::new();
        index.write_json(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("{\n  \"apiVersion\": \"v1\",\n  \"generated\": \"2024-05-01T10:00:00Z\",\n  \"entries\": {\n    \"broken\": [],\n"), "{text}");
        assert!(text.contains("\"a \\u003cb\\u003e \\u0026 c\""), "{text}");
        let versions = chart_versions(text.as_bytes(), "podinfo").unwrap().unwrap();
        assert_eq!(versions.len(), 3);
        assert!(chart_versions(text.as_bytes(), "nope").unwrap().is_none());
        let json = IndexFile::parse(text.as_bytes()).unwrap();
        assert_eq!(json.version_count(), 3);
    }

    #[test]
    fn streamed_conversion_matches_the_in_memory_one() {
        let mut expected = Vec::new();
        IndexFile::parse(INDEX.as_bytes())
            .unwrap()
            .write_json(&mut expected)
            .unwrap();
        let mut streamed = Vec::new();
        let count = convert_to_json(INDEX.as_bytes().to_vec(), &mut streamed).unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        assert_eq!(count, 3);
        let unsorted = "apiVersion: v1\nentries:\n  b:\n  - name: b\n    version: 1.0.0\n  a: []\n";
        let mut out = Vec::new();
        convert_to_json(unsorted.as_bytes().to_vec(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.find("\"a\"").unwrap() < text.find("\"b\"").unwrap(),
            "{text}"
        );
    }

    #[test]
    fn selects_versions_like_flux() {
        let index = IndexFile::parse(INDEX.as_bytes()).unwrap();
        let versions = || Some(index.entries["podinfo"].clone());
        let pick = |c: &str| select_version("podinfo", versions(), c).map(|v| v.version);
        assert_eq!(pick("*").unwrap(), "6.1.0");
        assert_eq!(pick("").unwrap(), "6.1.0");
        assert_eq!(pick("6.0.x").unwrap(), "6.0.0");
        assert_eq!(pick(">=6.0.0 <6.1.0 || ^5").unwrap(), "6.0.0");
        assert_eq!(pick("7.0.0-rc.1").unwrap(), "7.0.0-rc.1");
        assert_eq!(pick(">=7.0.0-0").unwrap(), "7.0.0-rc.1");
        assert_eq!(
            pick("9.x").unwrap_err().to_string(),
            "no 'podinfo' chart with version matching '9.x' found"
        );
        assert_eq!(
            select_version("x", None, "*").unwrap_err().to_string(),
            "no chart name found"
        );
    }

    #[test]
    fn rejects_empty_and_versionless_indexes() {
        assert!(matches!(IndexFile::parse(b""), Err(IndexError::Empty)));
        assert!(matches!(
            IndexFile::parse(b"entries: {}\n"),
            Err(IndexError::NoApiVersion)
        ));
    }
}
