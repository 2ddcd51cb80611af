//! Checks a schema document against its draft's metaschema, reproducing the error tree the
//! library builds when the schema itself is malformed (the common keyword shapes: types,
//! counts, numbers, strings, regexes, string arrays and subschema containers).

use super::doc::Doc;
use super::error::{Kind, VError, quote, render};
use super::goregex::regex_error;
use super::number::Decimal;

/// The value shape a metaschema requires for a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Schema,
    /// draft-04 `additionalProperties`/`additionalItems`: boolean or schema.
    BoolOrSchema,
    SchemaMap,
    SchemaArray,
    /// draft ≤ 2019-09 `items`: a schema or an array of schemas.
    ItemsLegacy,
    NonNegInt,
    NonNegIntDefault0,
    Number,
    PositiveNumber,
    Str,
    Regex,
    StringArray,
    Bool,
    Type,
    Array,
    Dependencies,
    DependentRequired,
}

fn shape(draft: u16, keyword: &str) -> Option<Shape> {
    use Shape::{
        Array, Bool, BoolOrSchema, Dependencies, DependentRequired, ItemsLegacy, NonNegInt,
        NonNegIntDefault0, Number, PositiveNumber, Regex, Schema, SchemaArray, SchemaMap, Str,
        StringArray, Type,
    };
    let shape = match keyword {
        "properties" | "patternProperties" | "definitions" => SchemaMap,
        "$defs" | "dependentSchemas" if draft >= 2019 => SchemaMap,
        "additionalProperties" | "additionalItems" if draft == 4 => BoolOrSchema,
        "additionalProperties" | "additionalItems" | "not" => Schema,
        "contains" | "propertyNames" if draft >= 6 => Schema,
        "if" | "then" | "else" if draft >= 7 => Schema,
        "unevaluatedItems" | "unevaluatedProperties" | "contentSchema" if draft >= 2019 => Schema,
        "items" if draft >= 2020 => Schema,
        "items" => ItemsLegacy,
        "prefixItems" if draft >= 2020 => SchemaArray,
        "allOf" | "anyOf" | "oneOf" => SchemaArray,
        "maxLength" | "maxItems" | "maxProperties" => NonNegInt,
        "minContains" | "maxContains" if draft >= 2019 => NonNegInt,
        "minLength" | "minItems" | "minProperties" => NonNegIntDefault0,
        "multipleOf" => PositiveNumber,
        "exclusiveMaximum" | "exclusiveMinimum" if draft == 4 => Bool,
        "maximum" | "minimum" | "exclusiveMaximum" | "exclusiveMinimum" => Number,
        "pattern" => Regex,
        "required" => StringArray,
        "uniqueItems" => Bool,
        "readOnly" | "writeOnly" if draft >= 7 => Bool,
        "deprecated" | "$recursiveAnchor" if draft >= 2019 => Bool,
        "type" => Type,
        "enum" => Array,
        "examples" if draft >= 6 => Array,
        "dependencies" => Dependencies,
        "dependentRequired" if draft >= 2019 => DependentRequired,
        "title" | "description" | "format" | "$schema" | "$ref" => Str,
        "id" if draft == 4 => Str,
        "$id" if draft >= 6 => Str,
        "$comment" | "contentEncoding" | "contentMediaType" if draft >= 7 => Str,
        "$anchor" | "$recursiveRef" if draft >= 2019 => Str,
        "$dynamicRef" | "$dynamicAnchor" if draft >= 2020 => Str,
        _ => return None,
    };
    Some(shape)
}

/// For 2019-09/2020-12: which `allOf` branch (vocabulary metaschema) checks `keyword`;
/// `None` for the root metaschema's own properties.
fn vocabulary(draft: u16, keyword: &str) -> Option<usize> {
    let core = matches!(
        keyword,
        "$id" | "$schema" | "$ref" | "$anchor" | "$dynamicRef" | "$dynamicAnchor" | "$comment"
    ) || keyword == "$defs"
        || (draft == 2019 && matches!(keyword, "$recursiveRef" | "$recursiveAnchor"));
    if core {
        return Some(0);
    }
    let applicator = matches!(
        keyword,
        "prefixItems"
            | "items"
            | "contains"
            | "additionalProperties"
            | "properties"
            | "patternProperties"
            | "dependentSchemas"
            | "propertyNames"
            | "if"
            | "then"
            | "else"
            | "allOf"
            | "anyOf"
            | "oneOf"
            | "not"
    ) || (draft == 2019
        && matches!(
            keyword,
            "additionalItems" | "unevaluatedItems" | "unevaluatedProperties"
        ));
    if applicator {
        return Some(1);
    }
    if draft == 2020 && matches!(keyword, "unevaluatedItems" | "unevaluatedProperties") {
        return Some(2);
    }
    match keyword {
        "title" | "description" | "default" | "deprecated" | "readOnly" | "writeOnly"
        | "examples" => Some(4),
        "format" => Some(5),
        "contentEncoding" | "contentMediaType" | "contentSchema" => Some(6),
        "definitions" | "dependencies" | "$recursiveRef" | "$recursiveAnchor" => None,
        _ => Some(3),
    }
}

fn draft_url(draft: u16) -> &'static str {
    match draft {
        4 => "http://json-schema.org/draft-04/schema#",
        6 => "http://json-schema.org/draft-06/schema#",
        7 => "http://json-schema.org/draft-07/schema#",
        2019 => "https://json-schema.org/draft/2019-09/schema#",
        _ => "https://json-schema.org/draft/2020-12/schema#",
    }
}

/// The library's JSON type of a document value.
fn doc_type(doc: &Doc) -> &'static str {
    match doc {
        Doc::Null => "null",
        Doc::Bool(_) => "boolean",
        Doc::Num(_) => "number",
        Doc::Str(_) => "string",
        Doc::Arr(_) => "array",
        Doc::Obj(_) => "object",
    }
}

const SIMPLE_TYPES: [&str; 7] = [
    "array", "boolean", "integer", "null", "number", "object", "string",
];

/// The enum failure of `simpleTypes`.
fn simple_types_message() -> String {
    let names: Vec<String> = SIMPLE_TYPES.iter().map(|t| quote(t)).collect();
    format!("value must be one of {}", names.join(", "))
}

/// Checks `doc`; the full error message when it does not satisfy its metaschema.
pub fn check(doc: &Doc, draft: u16) -> Result<(), String> {
    let mut meta = Meta {
        draft,
        location: Vec::new(),
    };
    let errors = meta.node(doc);
    let Some(error) = collapse(&[], errors) else {
        return Ok(());
    };
    let causes = if error.kind == Kind::Group {
        error.causes
    } else {
        vec![error]
    };
    Err(format!(
        "\"{}#\" is not valid against metaschema: jsonschema validation failed with {}\n{}",
        super::compile::ROOT_URL,
        quote(draft_url(draft)),
        render(&causes)
    ))
}

/// One error, several as a group at `location`, or none.
fn collapse(location: &[String], mut errors: Vec<VError>) -> Option<VError> {
    match errors.len() {
        0 => None,
        1 => errors.pop(),
        _ => Some(VError::with_causes(location, Kind::Group, errors)),
    }
}

struct Meta {
    draft: u16,
    location: Vec<String>,
}

impl Meta {
    fn leaf(&self, message: String) -> VError {
        VError::new(&self.location, message)
    }

    fn wrong_type(&self, doc: &Doc, want: &str) -> VError {
        self.leaf(format!("got {}, want {want}", doc_type(doc)))
    }

    fn at<T>(&mut self, token: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.location.push(token.to_owned());
        let result = f(self);
        self.location.pop();
        result
    }

    /// The errors of the schema at the current location.
    fn node(&mut self, doc: &Doc) -> Vec<VError> {
        match doc {
            Doc::Bool(_) if self.draft >= 6 => return Vec::new(),
            Doc::Obj(_) => {}
            _ if self.draft == 4 => return vec![self.wrong_type(doc, "object")],
            _ => return vec![self.wrong_type(doc, "boolean or object")],
        }
        let members = doc.as_obj().unwrap_or_default();
        if self.draft < 2019 {
            let mut errors = self.draft4_dependencies(doc);
            errors.extend(
                members
                    .iter()
                    .filter_map(|(key, value)| self.keyword(key, value)),
            );
            return errors;
        }
        let mut branches: Vec<Vec<VError>> = vec![Vec::new(); 7];
        let mut outside = Vec::new();
        for (key, value) in members {
            let Some(error) = self.keyword(key, value) else {
                continue;
            };
            match vocabulary(self.draft, key) {
                Some(branch) => branches[branch].push(error),
                None => outside.push(error),
            }
        }
        let location = self.location.clone();
        let failed: Vec<VError> = branches
            .into_iter()
            .filter_map(|errors| collapse(&location, errors))
            .collect();
        let mut errors = Vec::new();
        if !failed.is_empty() {
            errors.push(VError::with_causes(
                &location,
                Kind::Message("'allOf' failed".to_owned()),
                failed,
            ));
        }
        errors.extend(outside);
        errors
    }

    /// draft-04's metaschema requires `maximum`/`minimum` beside the boolean exclusives.
    fn draft4_dependencies(&self, doc: &Doc) -> Vec<VError> {
        if self.draft != 4 {
            return Vec::new();
        }
        [
            ("exclusiveMaximum", "maximum"),
            ("exclusiveMinimum", "minimum"),
        ]
        .iter()
        .filter(|(flag, limit)| doc.get(flag).is_some() && doc.get(limit).is_none())
        .map(|(flag, limit)| {
            self.leaf(format!(
                "properties {} required, if {} exists",
                quote(limit),
                quote(flag)
            ))
        })
        .collect()
    }

    /// The error of one keyword's value, if any.
    fn keyword(&mut self, key: &str, value: &Doc) -> Option<VError> {
        let shape = shape(self.draft, key)?;
        self.at(key, |meta| meta.shaped(shape, value))
    }

    fn shaped(&mut self, shape: Shape, value: &Doc) -> Option<VError> {
        match shape {
            Shape::Schema => {
                let errors = self.node(value);
                collapse(&self.location.clone(), errors)
            }
            Shape::BoolOrSchema => {
                if matches!(value, Doc::Bool(_)) {
                    return None;
                }
                let as_schema = self.shaped(Shape::Schema, value)?;
                Some(VError::with_causes(
                    &self.location,
                    Kind::Message("'anyOf' failed".to_owned()),
                    vec![self.wrong_type(value, "boolean"), as_schema],
                ))
            }
            Shape::SchemaMap => self.schema_map(value),
            Shape::SchemaArray => self.schema_array(value),
            Shape::ItemsLegacy => self.items_legacy(value),
            Shape::NonNegInt => self.non_negative(value),
            Shape::NonNegIntDefault0 => {
                let error = self.non_negative(value)?;
                if self.draft >= 2019 {
                    return Some(error);
                }
                Some(VError::with_causes(
                    &self.location,
                    Kind::Message("'allOf' failed".to_owned()),
                    vec![error],
                ))
            }
            Shape::Number | Shape::PositiveNumber => self.number(shape, value),
            Shape::Str => (!matches!(value, Doc::Str(_))).then(|| self.wrong_type(value, "string")),
            Shape::Regex => self.regex(value),
            Shape::StringArray => self.string_array(value),
            Shape::Bool => {
                (!matches!(value, Doc::Bool(_))).then(|| self.wrong_type(value, "boolean"))
            }
            Shape::Type => self.type_keyword(value),
            Shape::Array => self.array(value),
            Shape::Dependencies => self.dependencies(value),
            Shape::DependentRequired => self.dependent_required(value),
        }
    }

    fn schema_map(&mut self, value: &Doc) -> Option<VError> {
        let Some(members) = value.as_obj() else {
            return Some(self.wrong_type(value, "object"));
        };
        let mut errors = Vec::new();
        for (key, child) in members {
            errors.extend(self.at(key, |meta| {
                let errors = meta.node(child);
                collapse(&meta.location.clone(), errors)
            }));
        }
        if self
            .location
            .last()
            .is_some_and(|k| k == "patternProperties")
        {
            errors.extend(Self::property_name_regexes(members));
        }
        collapse(&self.location.clone(), errors)
    }

    fn property_name_regexes(members: &[(String, Doc)]) -> Vec<VError> {
        members
            .iter()
            .filter_map(|(key, _)| {
                let problem = regex_error(key)?;
                let inner =
                    VError::new(&[], format!("{} is not valid regex: {problem}", quote(key)));
                Some(VError::with_causes(
                    &[],
                    Kind::Message(format!("invalid propertyName {}", quote(key))),
                    vec![inner],
                ))
            })
            .collect()
    }

    fn schema_array(&mut self, value: &Doc) -> Option<VError> {
        let Some(items) = value.as_arr() else {
            return Some(self.wrong_type(value, "array"));
        };
        let mut errors = Vec::new();
        if items.is_empty() {
            errors.push(self.leaf("minItems: got 0, want 1".to_owned()));
        }
        for (i, child) in items.iter().enumerate() {
            errors.extend(self.at(&i.to_string(), |meta| {
                let errors = meta.node(child);
                collapse(&meta.location.clone(), errors)
            }));
        }
        collapse(&self.location.clone(), errors)
    }

    fn items_legacy(&mut self, value: &Doc) -> Option<VError> {
        let as_schema = self.shaped(Shape::Schema, value)?;
        let as_array = self.schema_array(value)?;
        Some(VError::with_causes(
            &self.location,
            Kind::Message("'anyOf' failed".to_owned()),
            vec![as_schema, as_array],
        ))
    }

    fn non_negative(&self, value: &Doc) -> Option<VError> {
        let Doc::Num(text) = value else {
            return Some(self.wrong_type(value, "integer"));
        };
        let number = Decimal::parse(text)?;
        if !number.is_integer() {
            return Some(self.wrong_type(value, "integer"));
        }
        let zero = Decimal::parse("0")?;
        (number < zero).then(|| {
            self.leaf(format!(
                "minimum: got {}, want {}",
                number.print(),
                zero.print()
            ))
        })
    }

    fn number(&self, shape: Shape, value: &Doc) -> Option<VError> {
        let Doc::Num(text) = value else {
            return Some(self.wrong_type(value, "number"));
        };
        let number = Decimal::parse(text)?;
        let zero = Decimal::parse("0")?;
        (shape == Shape::PositiveNumber && number <= zero).then(|| {
            self.leaf(format!(
                "exclusiveMinimum: got {}, want {}",
                number.print(),
                zero.print()
            ))
        })
    }

    fn regex(&self, value: &Doc) -> Option<VError> {
        let Doc::Str(source) = value else {
            return Some(self.wrong_type(value, "string"));
        };
        let problem = regex_error(source)?;
        Some(self.leaf(format!("{} is not valid regex: {problem}", quote(source))))
    }

    fn string_items(&mut self, items: &[Doc]) -> Vec<VError> {
        let mut errors = Vec::new();
        if self.draft == 4 && items.is_empty() {
            errors.push(self.leaf("minItems: got 0, want 1".to_owned()));
        }
        let duplicate =
            (1..items.len()).find_map(|i| (0..i).find(|j| items[*j] == items[i]).map(|j| (j, i)));
        if let Some((j, i)) = duplicate {
            errors.push(self.leaf(format!("items at {j} and {i} are equal")));
        }
        for (i, item) in items.iter().enumerate() {
            if !matches!(item, Doc::Str(_)) {
                errors.push(self.at(&i.to_string(), |meta| meta.wrong_type(item, "string")));
            }
        }
        errors
    }

    fn string_array(&mut self, value: &Doc) -> Option<VError> {
        let Some(items) = value.as_arr() else {
            return Some(self.wrong_type(value, "array"));
        };
        let errors = self.string_items(items);
        collapse(&self.location.clone(), errors)
    }

    fn type_keyword(&mut self, value: &Doc) -> Option<VError> {
        let enum_error = |meta: &Self| meta.leaf(simple_types_message());
        let causes = match value {
            Doc::Str(name) if SIMPLE_TYPES.contains(&name.as_str()) => return None,
            Doc::Arr(items) => {
                let mut errors = Vec::new();
                if items.is_empty() {
                    errors.push(self.leaf("minItems: got 0, want 1".to_owned()));
                }
                for (i, item) in items.iter().enumerate() {
                    let known = item.as_str().is_some_and(|t| SIMPLE_TYPES.contains(&t));
                    if !known {
                        errors.push(
                            self.at(&i.to_string(), |meta| meta.leaf(simple_types_message())),
                        );
                    }
                }
                let duplicate = (1..items.len())
                    .find_map(|i| (0..i).find(|j| items[*j] == items[i]).map(|j| (j, i)));
                if let Some((j, i)) = duplicate {
                    errors.push(self.leaf(format!("items at {j} and {i} are equal")));
                }
                let array_error = collapse(&self.location.clone(), errors)?;
                vec![enum_error(self), array_error]
            }
            other => vec![enum_error(self), self.wrong_type(other, "array")],
        };
        Some(VError::with_causes(
            &self.location,
            Kind::Message("'anyOf' failed".to_owned()),
            causes,
        ))
    }

    fn array(&mut self, value: &Doc) -> Option<VError> {
        let Some(items) = value.as_arr() else {
            return Some(self.wrong_type(value, "array"));
        };
        if self.draft == 4 && self.location.last().is_some_and(|k| k == "enum") {
            if items.is_empty() {
                return Some(self.leaf("minItems: got 0, want 1".to_owned()));
            }
            let duplicate = (1..items.len())
                .find_map(|i| (0..i).find(|j| items[*j] == items[i]).map(|j| (j, i)));
            if let Some((j, i)) = duplicate {
                return Some(self.leaf(format!("items at {j} and {i} are equal")));
            }
        }
        None
    }

    fn dependencies(&mut self, value: &Doc) -> Option<VError> {
        let Some(members) = value.as_obj() else {
            return Some(self.wrong_type(value, "object"));
        };
        let mut errors = Vec::new();
        for (key, child) in members {
            errors.extend(self.at(key, |meta| {
                if let Some(items) = child.as_arr() {
                    let errors = meta.string_items(items);
                    let as_array = collapse(&meta.location.clone(), errors)?;
                    let as_schema = meta.wrong_type(child, "boolean or object");
                    return Some(VError::with_causes(
                        &meta.location,
                        Kind::Message("'anyOf' failed".to_owned()),
                        vec![as_schema, as_array],
                    ));
                }
                let as_schema = meta.shaped(Shape::Schema, child)?;
                let as_array = meta.wrong_type(child, "array");
                Some(VError::with_causes(
                    &meta.location,
                    Kind::Message("'anyOf' failed".to_owned()),
                    vec![as_schema, as_array],
                ))
            }));
        }
        collapse(&self.location.clone(), errors)
    }

    fn dependent_required(&mut self, value: &Doc) -> Option<VError> {
        let Some(members) = value.as_obj() else {
            return Some(self.wrong_type(value, "object"));
        };
        let mut errors = Vec::new();
        for (key, child) in members {
            errors.extend(self.at(key, |meta| meta.string_array(child)));
        }
        collapse(&self.location.clone(), errors)
    }
}
