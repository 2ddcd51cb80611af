//! Compiles a schema document into an arena of [`Schema`] nodes, keyword by keyword and
//! draft by draft as santhosh-tekuri/jsonschema v6 does (what each draft reads, `$ref`
//! siblings ignored before 2019-09, format assertions only up to draft-07).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::doc::Doc;
use super::number::Decimal;

/// Where Helm registers the chart's schema.
pub const ROOT_URL: &str = "file:///values.schema.json";

/// A compiled regular expression with its source text.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Compiled form.
    pub regex: regex::Regex,
    /// As written in the schema.
    pub source: String,
}

/// `additionalProperties` / `additionalItems`.
#[derive(Debug, Clone, Copy)]
pub enum Additional {
    /// `true` / `false`.
    Bool(bool),
    /// A subschema.
    Schema(usize),
}

/// Draft ≤ 2019-09 `items`.
#[derive(Debug, Clone)]
pub enum Items {
    /// One schema for every item.
    All(usize),
    /// One schema per position.
    Tuple(Vec<usize>),
}

/// A `dependencies` entry.
#[derive(Debug, Clone)]
pub enum Dependency {
    /// Property names that must be present too.
    Required(Vec<String>),
    /// A schema the whole object must satisfy.
    Schema(usize),
}

/// One compiled (sub)schema; subschemas are arena indices.
#[derive(Debug, Clone, Default)]
#[expect(
    missing_docs,
    reason = "fields are the JSON Schema keywords of the same name"
)]
pub struct Schema {
    pub draft: u16,
    pub location: String,
    pub boolean: Option<bool>,
    pub reference: Option<usize>,
    pub dynamic_reference: Option<(&'static str, usize)>,
    pub types: u8,
    pub enumeration: Option<Vec<Doc>>,
    pub constant: Option<Doc>,
    pub format: Option<String>,
    pub not: Option<usize>,
    pub all_of: Vec<usize>,
    pub any_of: Vec<usize>,
    pub one_of: Vec<usize>,
    pub if_: Option<usize>,
    pub then: Option<usize>,
    pub else_: Option<usize>,
    pub min_properties: Option<usize>,
    pub max_properties: Option<usize>,
    pub required: Vec<String>,
    pub property_names: Option<usize>,
    pub properties: Vec<(String, usize)>,
    pub pattern_properties: Vec<(Pattern, usize)>,
    pub additional_properties: Option<Additional>,
    pub dependencies: Vec<(String, Dependency)>,
    pub dependent_required: Vec<(String, Vec<String>)>,
    pub dependent_schemas: Vec<(String, usize)>,
    pub unevaluated_properties: Option<usize>,
    pub min_items: Option<usize>,
    pub max_items: Option<usize>,
    pub unique_items: bool,
    pub contains: Option<usize>,
    pub min_contains: Option<usize>,
    pub max_contains: Option<usize>,
    pub items: Option<Items>,
    pub additional_items: Option<Additional>,
    pub prefix_items: Vec<usize>,
    pub items2020: Option<usize>,
    pub unevaluated_items: Option<usize>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<Pattern>,
    pub maximum: Option<Decimal>,
    pub minimum: Option<Decimal>,
    pub exclusive_maximum: Option<Decimal>,
    pub exclusive_minimum: Option<Decimal>,
    pub multiple_of: Option<Decimal>,
    pub all_props_evaluated: bool,
    pub all_items_evaluated: bool,
    pub num_items_evaluated: usize,
}

/// JSON types as the library's bit set, in its display order.
pub const TYPE_NAMES: [&str; 7] = [
    "null", "boolean", "number", "integer", "string", "array", "object",
];

/// The bit of a type name.
pub fn type_bit(name: &str) -> u8 {
    TYPE_NAMES
        .iter()
        .position(|t| *t == name)
        .map_or(0, |i| 1 << i)
}

/// The draft of a `$schema` URL the library knows.
pub fn draft_from_url(url: &str) -> Option<u16> {
    let (url, fragment) = url.split_once('#').unwrap_or((url, ""));
    if !fragment.is_empty() {
        return None;
    }
    let url = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    match url {
        "json-schema.org/schema" | "json-schema.org/draft/2020-12/schema" => Some(2020),
        "json-schema.org/draft/2019-09/schema" => Some(2019),
        "json-schema.org/draft-07/schema" => Some(7),
        "json-schema.org/draft-06/schema" => Some(6),
        "json-schema.org/draft-04/schema" => Some(4),
        _ => None,
    }
}

/// The draft of a document (2020-12 unless `$schema` names another).
pub fn document_draft(doc: &Doc) -> u16 {
    doc.get("$schema")
        .and_then(Doc::as_str)
        .and_then(|url| draft_from_url(url.split('#').next().unwrap_or_default()))
        .unwrap_or(2020)
}

/// Helm would download a `$schema` that names no known draft to find its draft; ferroflux
/// renders offline, so such a schema fails with the library's load error shape.
pub fn check_meta_url(doc: &Doc) -> Result<(), String> {
    let Some(url) = doc.get("$schema").and_then(Doc::as_str) else {
        return Ok(());
    };
    if draft_from_url(url).is_some() {
        return Ok(());
    }
    let base = url.split('#').next().unwrap_or_default();
    if draft_from_url(base).is_some() {
        return Ok(());
    }
    Err(format!(
        "failing loading {base:?}: metaschema is not fetched by ferroflux"
    ))
}

/// A compiled schema document.
#[derive(Debug, Default)]
pub struct Compiled {
    /// All nodes; the root is index 0.
    pub nodes: Vec<Schema>,
}

/// Compiles `doc`, resolving local references.
pub fn compile(doc: &Doc) -> Result<Compiled, String> {
    let mut compiler = Compiler {
        root: doc,
        draft: document_draft(doc),
        nodes: Vec::new(),
        by_pointer: HashMap::new(),
        anchors: HashMap::new(),
        ids: HashMap::new(),
    };
    compiler.collect_anchors(doc, "");
    compiler.node("")?;
    Ok(Compiled {
        nodes: compiler.nodes,
    })
}

struct Compiler<'a> {
    root: &'a Doc,
    draft: u16,
    nodes: Vec<Schema>,
    by_pointer: HashMap<String, usize>,
    anchors: HashMap<String, String>,
    ids: HashMap<String, String>,
}

/// Percent-encodes what Go's `url.PathEscape` escapes in each pointer token.
fn encode_pointer(pointer: &str) -> String {
    let mut out = String::new();
    for c in pointer.chars() {
        if c.is_ascii_alphanumeric() || "-._~/$&+,:;=@!'()*".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

fn unescape_token(token: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl<'a> Compiler<'a> {
    fn url_of(pointer: &str) -> String {
        format!("{ROOT_URL}#{}", encode_pointer(pointer))
    }

    fn lookup(&self, pointer: &str) -> Result<&'a Doc, String> {
        let mut doc = self.root;
        for token in pointer.split('/').skip(1) {
            let token = unescape_token(token)
                .ok_or_else(|| format!("invalid json-pointer {:?}", Self::url_of(pointer)))?;
            let next = match doc {
                Doc::Obj(_) => doc.get(&token),
                Doc::Arr(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            doc = next
                .ok_or_else(|| format!("json-pointer in {:?} not found", Self::url_of(pointer)))?;
        }
        Ok(doc)
    }

    /// Records `$anchor`s, `$dynamicAnchor`s, pre-2019 `id` fragments and `$id`s.
    fn collect_anchors(&mut self, doc: &Doc, pointer: &str) {
        let Some(members) = doc.as_obj() else {
            if let Some(items) = doc.as_arr() {
                for (i, item) in items.iter().enumerate() {
                    self.collect_anchors(item, &format!("{pointer}/{i}"));
                }
            }
            return;
        };
        let id_key = if self.draft == 4 { "id" } else { "$id" };
        if let Some(id) = doc.get(id_key).and_then(Doc::as_str) {
            match id.split_once('#') {
                Some((url, anchor)) if self.draft < 2019 && !anchor.is_empty() => {
                    self.anchors.insert(anchor.to_owned(), pointer.to_owned());
                    if !url.is_empty() {
                        self.ids.insert(url.to_owned(), pointer.to_owned());
                    }
                }
                _ => {
                    let url = id.split('#').next().unwrap_or_default();
                    self.ids.insert(url.to_owned(), pointer.to_owned());
                }
            }
        }
        for key in ["$anchor", "$dynamicAnchor"] {
            if self.draft >= 2019
                && let Some(anchor) = doc.get(key).and_then(Doc::as_str)
            {
                self.anchors.insert(anchor.to_owned(), pointer.to_owned());
            }
        }
        for (key, value) in members {
            if matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                continue;
            }
            self.collect_anchors(value, &format!("{pointer}/{}", super::error::escape(key)));
        }
    }

    /// Resolves a reference to a pointer in this document.
    fn resolve(&self, reference: &str) -> Result<String, String> {
        let (url, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let fragment = percent_decode(fragment).ok_or_else(|| {
            format!("error in parsing {reference:?}: invalid URL escape in fragment")
        })?;
        let base = if url.is_empty() || url == ROOT_URL || url == "values.schema.json" {
            String::new()
        } else if let Some(pointer) = self.ids.get(url) {
            pointer.clone()
        } else {
            return Err(format!(
                "failing loading {url:?}: no remote references in ferroflux"
            ));
        };
        if fragment.is_empty() || fragment.starts_with('/') {
            return Ok(format!("{base}{fragment}"));
        }
        self.anchors.get(&fragment).cloned().ok_or_else(|| {
            format!("anchor in \"{ROOT_URL}#{fragment}\" not found in schema \"{ROOT_URL}\"")
        })
    }

    /// The node for the schema at `pointer`, compiling it on first use.
    fn node(&mut self, pointer: &str) -> Result<usize, String> {
        if let Some(index) = self.by_pointer.get(pointer) {
            return Ok(*index);
        }
        let doc = self.lookup(pointer)?;
        let index = self.nodes.len();
        self.nodes.push(Schema {
            draft: self.draft,
            location: Self::url_of(pointer),
            ..Schema::default()
        });
        self.by_pointer.insert(pointer.to_owned(), index);
        let mut schema = Schema {
            draft: self.draft,
            location: Self::url_of(pointer),
            ..Schema::default()
        };
        match doc {
            Doc::Bool(b) => schema.boolean = Some(*b),
            Doc::Obj(members) if members.is_empty() => schema.boolean = Some(true),
            Doc::Obj(_) => self.object(doc, pointer, &mut schema)?,
            _ => {}
        }
        finish_evaluation_flags(&mut schema);
        self.nodes[index] = schema;
        Ok(index)
    }

    fn child(&mut self, pointer: &str, key: &str) -> Result<usize, String> {
        self.node(&format!("{pointer}/{}", super::error::escape(key)))
    }

    fn prop(&mut self, doc: &Doc, pointer: &str, key: &str) -> Result<Option<usize>, String> {
        if doc.get(key).is_none() {
            return Ok(None);
        }
        self.child(pointer, key).map(Some)
    }

    fn array_of(&mut self, doc: &Doc, pointer: &str, key: &str) -> Result<Vec<usize>, String> {
        let Some(items) = doc.get(key).and_then(Doc::as_arr) else {
            return Ok(Vec::new());
        };
        (0..items.len())
            .map(|i| self.node(&format!("{pointer}/{key}/{i}")))
            .collect()
    }

    fn map_of(
        &mut self,
        doc: &Doc,
        pointer: &str,
        key: &str,
    ) -> Result<Vec<(String, usize)>, String> {
        let Some(members) = doc.get(key).and_then(Doc::as_obj) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(members.len());
        for (name, _) in members {
            let index = self.node(&format!("{pointer}/{key}/{}", super::error::escape(name)))?;
            out.push((name.clone(), index));
        }
        Ok(out)
    }

    fn additional(
        &mut self,
        doc: &Doc,
        pointer: &str,
        key: &str,
    ) -> Result<Option<Additional>, String> {
        match doc.get(key) {
            Some(Doc::Bool(b)) => Ok(Some(Additional::Bool(*b))),
            Some(_) => Ok(Some(Additional::Schema(self.child(pointer, key)?))),
            None => Ok(None),
        }
    }

    fn reference(&mut self, doc: &Doc, key: &str) -> Result<Option<usize>, String> {
        match doc.get(key).and_then(Doc::as_str) {
            Some(reference) => {
                let target = self.resolve(reference)?;
                self.node(&target).map(Some)
            }
            None => Ok(None),
        }
    }

    fn object(&mut self, doc: &Doc, pointer: &str, s: &mut Schema) -> Result<(), String> {
        s.reference = self.reference(doc, "$ref")?;
        if self.draft < 2019 && s.reference.is_some() {
            return Ok(());
        }
        self.applicators(doc, pointer, s)?;
        validation_keywords(doc, pointer, s)?;
        if self.draft < 2019 {
            s.format = doc.get("format").and_then(Doc::as_str).map(str::to_owned);
        }
        if self.draft >= 6 {
            s.contains = self.prop(doc, pointer, "contains")?;
            s.property_names = self.prop(doc, pointer, "propertyNames")?;
            s.constant = doc.get("const").cloned();
        }
        if self.draft >= 7 {
            self.conditionals(doc, pointer, s)?;
        }
        if self.draft >= 2019 {
            self.draft2019(doc, pointer, s)?;
        }
        if self.draft >= 2020 {
            s.dynamic_reference = self
                .reference(doc, "$dynamicRef")?
                .map(|i| ("$dynamicRef", i));
            s.prefix_items = self.array_of(doc, pointer, "prefixItems")?;
            s.items2020 = self.prop(doc, pointer, "items")?;
        }
        Ok(())
    }

    fn applicators(&mut self, doc: &Doc, pointer: &str, s: &mut Schema) -> Result<(), String> {
        s.all_of = self.array_of(doc, pointer, "allOf")?;
        s.any_of = self.array_of(doc, pointer, "anyOf")?;
        s.one_of = self.array_of(doc, pointer, "oneOf")?;
        s.not = self.prop(doc, pointer, "not")?;
        if self.draft < 2020 {
            match doc.get("items") {
                Some(Doc::Arr(_)) => {
                    s.items = Some(Items::Tuple(self.array_of(doc, pointer, "items")?));
                    s.additional_items = self.additional(doc, pointer, "additionalItems")?;
                }
                Some(_) => s.items = Some(Items::All(self.child(pointer, "items")?)),
                None => {}
            }
        }
        s.properties = self.map_of(doc, pointer, "properties")?;
        for (source, index) in self.map_of(doc, pointer, "patternProperties")? {
            let regex =
                regex::Regex::new(&super::goregex::to_rust_syntax(&source)).map_err(|e| {
                    format!(
                        "invalid regex {source:?} at {:?}: {e}",
                        Self::url_of(&format!("{pointer}/patternProperties"))
                    )
                })?;
            s.pattern_properties
                .push((Pattern { regex, source }, index));
        }
        s.additional_properties = self.additional(doc, pointer, "additionalProperties")?;
        if let Some(members) = doc.get("dependencies").and_then(Doc::as_obj) {
            for (name, value) in members {
                let dependency = match value {
                    Doc::Arr(items) => Dependency::Required(strings(items)),
                    _ => Dependency::Schema(self.node(&format!(
                        "{pointer}/dependencies/{}",
                        super::error::escape(name)
                    ))?),
                };
                s.dependencies.push((name.clone(), dependency));
            }
        }
        Ok(())
    }

    fn conditionals(&mut self, doc: &Doc, pointer: &str, s: &mut Schema) -> Result<(), String> {
        s.if_ = self.prop(doc, pointer, "if")?;
        if s.if_.is_some() {
            let condition = match doc.get("if") {
                Some(Doc::Bool(b)) => Some(*b),
                _ => None,
            };
            if condition != Some(false) {
                s.then = self.prop(doc, pointer, "then")?;
            }
            if condition != Some(true) {
                s.else_ = self.prop(doc, pointer, "else")?;
            }
        }
        Ok(())
    }

    fn draft2019(&mut self, doc: &Doc, pointer: &str, s: &mut Schema) -> Result<(), String> {
        if s.dynamic_reference.is_none() {
            s.dynamic_reference = self
                .reference(doc, "$recursiveRef")?
                .map(|i| ("$recursiveRef", i));
        }
        if s.contains.is_some() {
            s.min_contains = int_value(doc, "minContains");
            s.max_contains = int_value(doc, "maxContains");
        }
        if let Some(members) = doc.get("dependentRequired").and_then(Doc::as_obj) {
            for (name, value) in members {
                if let Some(items) = value.as_arr() {
                    s.dependent_required.push((name.clone(), strings(items)));
                }
            }
        }
        s.dependent_schemas = self.map_of(doc, pointer, "dependentSchemas")?;
        s.unevaluated_items = self.prop(doc, pointer, "unevaluatedItems")?;
        s.unevaluated_properties = self.prop(doc, pointer, "unevaluatedProperties")?;
        Ok(())
    }
}

fn strings(items: &[Doc]) -> Vec<String> {
    items
        .iter()
        .filter_map(Doc::as_str)
        .map(str::to_owned)
        .collect()
}

fn number_value(doc: &Doc, key: &str) -> Option<Decimal> {
    match doc.get(key) {
        Some(Doc::Num(text)) => Decimal::parse(text),
        _ => None,
    }
}

fn int_value(doc: &Doc, key: &str) -> Option<usize> {
    let number = number_value(doc, key)?;
    if !number.is_integer() {
        return None;
    }
    let value = number.to_f64();
    // Negative counts are rejected by the metaschema before compilation.
    (0.0..9.0e15)
        .contains(&value)
        .then(|| format!("{value}").parse().ok())?
}

fn types_of(doc: &Doc) -> u8 {
    match doc {
        Doc::Str(name) => type_bit(name),
        Doc::Arr(items) => items
            .iter()
            .filter_map(Doc::as_str)
            .fold(0, |bits, name| bits | type_bit(name)),
        _ => 0,
    }
}

fn validation_keywords(doc: &Doc, pointer: &str, s: &mut Schema) -> Result<(), String> {
    s.types = doc.get("type").map_or(0, types_of);
    s.enumeration = doc.get("enum").and_then(Doc::as_arr).map(<[Doc]>::to_vec);
    s.multiple_of = number_value(doc, "multipleOf");
    s.maximum = number_value(doc, "maximum");
    if doc.get("exclusiveMaximum") == Some(&Doc::Bool(true)) {
        s.exclusive_maximum = s.maximum.take();
    } else {
        s.exclusive_maximum = number_value(doc, "exclusiveMaximum");
    }
    s.minimum = number_value(doc, "minimum");
    if doc.get("exclusiveMinimum") == Some(&Doc::Bool(true)) {
        s.exclusive_minimum = s.minimum.take();
    } else {
        s.exclusive_minimum = number_value(doc, "exclusiveMinimum");
    }
    s.min_length = int_value(doc, "minLength");
    s.max_length = int_value(doc, "maxLength");
    if let Some(source) = doc.get("pattern").and_then(Doc::as_str) {
        let regex = regex::Regex::new(&super::goregex::to_rust_syntax(source)).map_err(|e| {
            format!(
                "invalid regex {source:?} at {:?}: {e}",
                Compiler::url_of(&format!("{pointer}/pattern"))
            )
        })?;
        s.pattern = Some(Pattern {
            regex,
            source: source.to_owned(),
        });
    }
    s.min_items = int_value(doc, "minItems");
    s.max_items = int_value(doc, "maxItems");
    s.unique_items = doc.get("uniqueItems") == Some(&Doc::Bool(true));
    s.max_properties = int_value(doc, "maxProperties");
    s.min_properties = int_value(doc, "minProperties");
    if let Some(items) = doc.get("required").and_then(Doc::as_arr) {
        s.required = strings(items);
    }
    Ok(())
}

fn finish_evaluation_flags(s: &mut Schema) {
    s.all_props_evaluated = s.additional_properties.is_some();
    if s.draft < 2020 {
        s.all_items_evaluated = s.additional_items.is_some();
        match &s.items {
            Some(Items::All(_)) => s.all_items_evaluated = true,
            Some(Items::Tuple(items)) => s.num_items_evaluated = items.len(),
            None => {}
        }
    } else {
        s.all_items_evaluated = s.items2020.is_some();
        s.num_items_evaluated = s.prefix_items.len();
    }
}
