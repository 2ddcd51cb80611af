//! Validates values against a [`Compiled`] schema in the same keyword order, with the same
//! early exits and error grouping, as santhosh-tekuri/jsonschema v6.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::compile::{Additional, Compiled, Dependency, Items, Schema, TYPE_NAMES, type_bit};
use super::doc::Doc;
use super::error::{Kind, VError, display_doc, join_quoted, quote};
use super::number::{Decimal, print_int};

/// Properties and items not yet evaluated (for `unevaluated*`).
#[derive(Debug, Clone, Default)]
struct Uneval {
    props: BTreeSet<String>,
    items: BTreeSet<usize>,
}

impl Uneval {
    fn from(value: &Json, schema: &Schema, caller_needs: bool) -> Uneval {
        let mut uneval = Uneval::default();
        match value {
            Json::Object(map)
                if !schema.all_props_evaluated
                    && (caller_needs || schema.unevaluated_properties.is_some()) =>
            {
                uneval.props = map.keys().cloned().collect();
            }
            Json::Array(items)
                if !schema.all_items_evaluated
                    && (caller_needs || schema.unevaluated_items.is_some())
                    && schema.num_items_evaluated < items.len() =>
            {
                uneval.items = (schema.num_items_evaluated..items.len()).collect();
            }
            _ => {}
        }
        uneval
    }

    fn merge(&mut self, other: &Uneval) {
        self.props.retain(|p| other.props.contains(p));
        self.items.retain(|i| other.items.contains(i));
    }

    fn is_empty(&self) -> bool {
        self.props.is_empty() && self.items.is_empty()
    }
}

/// Validates `value` against the root schema; the causes to print on failure.
pub fn validate(compiled: &Compiled, value: &Json) -> Result<(), Vec<VError>> {
    let mut location = Vec::new();
    let scope = [Scope::root(0)];
    let root = Validator {
        compiled,
        schema: 0,
        value,
        location: &mut location,
        uneval: Uneval::from(value, &compiled.nodes[0], false),
        errors: Vec::new(),
        scope: &scope,
    };
    match root.run() {
        Ok(_) => Ok(()),
        Err(error) if error.kind == Kind::Group => Err(error.causes),
        Err(error) => Err(vec![error]),
    }
}

/// A value's JSON type name (every number is `number`).
fn type_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn decimal(value: &Json) -> Option<Decimal> {
    match value {
        Json::Number(n) => Decimal::from_json(n),
        _ => None,
    }
}

/// The library's `equals` between a value and a schema document value.
fn equals(value: &Json, doc: &Doc) -> bool {
    match (value, doc) {
        (Json::Null, Doc::Null) => true,
        (Json::Bool(a), Doc::Bool(b)) => a == b,
        (Json::String(a), Doc::Str(b)) => a == b,
        (Json::Number(_), Doc::Num(text)) => decimal(value) == Decimal::parse(text),
        (Json::Array(a), Doc::Arr(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equals(x, y))
        }
        (Json::Object(a), Doc::Obj(b)) => {
            a.len() == b.len()
                && b.iter()
                    .all(|(k, y)| a.get(k).is_some_and(|x| equals(x, y)))
        }
        _ => false,
    }
}

/// Equality of two values (numbers compared exactly).
fn values_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(_), Json::Number(_)) => decimal(a) == decimal(b),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| values_equal(p, q)))
        }
        _ => a == b,
    }
}

/// The first pair `(j, i)` with `j < i` of equal items.
fn duplicates(items: &[Json]) -> Option<(usize, usize)> {
    (1..items.len()).find_map(|i| {
        (0..i)
            .find(|j| values_equal(&items[i], &items[*j]))
            .map(|j| (j, i))
    })
}

fn enum_message(options: &[Doc]) -> String {
    if options
        .iter()
        .any(|o| matches!(o, Doc::Arr(_) | Doc::Obj(_)))
    {
        return "'enum' failed".to_owned();
    }
    if let [only] = options {
        return format!("value must be {}", display_doc(only));
    }
    let shown: Vec<String> = options.iter().map(display_doc).collect();
    format!("value must be one of {}", shown.join(", "))
}

fn type_message(got: &str, want: u8) -> String {
    let names: Vec<&str> = TYPE_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| want & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    format!("got {got}, want {}", names.join(" or "))
}

fn indexes(list: &[usize]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One step of the path from the root schema to the schema being applied.
#[derive(Debug, Clone, Copy)]
struct Scope {
    schema: usize,
    /// The reference keyword that jumped here, if any.
    keyword: Option<&'static str>,
    /// Depth of the instance value (same value ⇒ same id along one path).
    value_id: usize,
}

impl Scope {
    fn root(schema: usize) -> Scope {
        Scope {
            schema,
            keyword: None,
            value_id: 0,
        }
    }
}

struct Validator<'a, 'l> {
    compiled: &'a Compiled,
    schema: usize,
    value: &'a Json,
    location: &'l mut Vec<String>,
    uneval: Uneval,
    errors: Vec<VError>,
    /// The path here; the last entry is this schema.
    scope: &'l [Scope],
}

impl<'a> Validator<'a, '_> {
    fn s(&self) -> &'a Schema {
        &self.compiled.nodes[self.schema]
    }

    fn error(&self, message: String) -> VError {
        VError::new(self.location, message)
    }

    fn add(&mut self, message: String) {
        let error = self.error(message);
        self.errors.push(error);
    }

    fn add_err(&mut self, result: Result<Uneval, VError>) {
        if let Err(error) = result {
            self.errors.push(error);
        }
    }

    fn add_with_causes(&mut self, message: String, causes: Vec<VError>) {
        let error = VError::with_causes(self.location, Kind::Message(message), causes);
        self.errors.push(error);
    }

    /// The checks that end validation of this value at the first failure.
    fn check_early(&self) -> Result<(), VError> {
        let s = self.s();
        if let Some(b) = s.boolean {
            return if b {
                Ok(())
            } else {
                Err(self.error("false schema".to_owned()))
            };
        }
        if let Some(message) = self.reference_cycle() {
            return Err(self.error(message));
        }
        let got = type_of(self.value);
        if s.types != 0 {
            let is_integer = decimal(self.value).is_some_and(|d| d.is_integer());
            let matched =
                s.types & type_bit(got) != 0 || (s.types & type_bit("integer") != 0 && is_integer);
            if !matched {
                return Err(self.error(type_message(got, s.types)));
            }
        }
        if let Some(constant) = &s.constant
            && !equals(self.value, constant)
        {
            let message = match constant {
                Doc::Arr(_) | Doc::Obj(_) => "'const' failed".to_owned(),
                other => format!("value must be {}", display_doc(other)),
            };
            return Err(self.error(message));
        }
        if let Some(options) = &s.enumeration
            && !options.iter().any(|o| equals(self.value, o))
        {
            return Err(self.error(enum_message(options)));
        }
        if let (Some(format), Json::String(text)) = (&s.format, self.value)
            && let Some(Err(problem)) = super::format::check(format, text)
        {
            return Err(self.error(format!("{} is not valid {format}: {problem}", quote(text))));
        }
        Ok(())
    }

    /// Validates the value; on success returns what is left unevaluated.
    fn run(mut self) -> Result<Uneval, VError> {
        self.check_early()?;
        if self.s().boolean.is_some() {
            return Ok(self.uneval);
        }
        let s = self.s();
        if let Some(target) = s.reference {
            let result = self.validate_ref(target, "$ref");
            if s.draft < 2019 {
                return result.map(|()| self.uneval);
            }
            if let Err(error) = result {
                self.errors.push(error);
            }
        }
        match self.value {
            Json::Object(map) => self.object(map),
            Json::Array(items) => self.array(items),
            Json::String(text) => self.string(text),
            Json::Number(_) => self.number(),
            _ => {}
        }
        if let Some((keyword, target)) = s.dynamic_reference {
            let result = self.validate_ref(target, keyword);
            if let Err(error) = result {
                self.errors.push(error);
            }
        }
        self.conditions();
        if s.draft >= 2019 {
            self.unevaluated();
        }
        match self.errors.len() {
            0 => Ok(self.uneval),
            1 => Err(self.errors.remove(0)),
            _ => Err(VError::with_causes(
                self.location,
                Kind::Group,
                std::mem::take(&mut self.errors),
            )),
        }
    }

    /// The keyword location of scope entry `index` (as the library prints it).
    fn keyword_location(&self, index: usize) -> String {
        let nodes = &self.compiled.nodes;
        (1..=index)
            .map(|i| {
                if let Some(keyword) = self.scope[i].keyword {
                    return format!("/{keyword}");
                }
                let current = &nodes[self.scope[i].schema].location;
                let parent = &nodes[self.scope[i - 1].schema].location;
                current.get(parent.len()..).unwrap_or_default().to_owned()
            })
            .collect()
    }

    /// The library's reference cycle error, when this schema is already being applied to
    /// this same value.
    fn reference_cycle(&self) -> Option<String> {
        let last = self.scope.len().checked_sub(1)?;
        let current = self.scope[last];
        let earlier = (0..last)
            .rev()
            .take_while(|i| self.scope[*i].value_id == current.value_id)
            .find(|i| self.scope[*i].schema == current.schema)?;
        Some(format!(
            "both {} and {} resolve to {:?} causing reference cycle",
            self.keyword_location(last),
            self.keyword_location(earlier),
            self.s().location
        ))
    }

    /// Applies `schema` to this same value (allOf, $ref, if, …).
    fn validate_self(&mut self, schema: usize) -> Result<Uneval, VError> {
        self.validate_self_via(schema, None)
    }

    fn validate_self_via(
        &mut self,
        schema: usize,
        keyword: Option<&'static str>,
    ) -> Result<Uneval, VError> {
        let mut scope = self.scope.to_vec();
        scope.push(Scope {
            schema,
            keyword,
            value_id: self.scope.last().map_or(0, |s| s.value_id),
        });
        let caller_needs = !self.uneval.is_empty();
        let result = Validator {
            compiled: self.compiled,
            schema,
            value: self.value,
            location: self.location,
            uneval: Uneval::from(self.value, &self.compiled.nodes[schema], caller_needs),
            errors: Vec::new(),
            scope: &scope,
        }
        .run();
        if let Ok(left) = &result {
            self.uneval.merge(left);
        }
        result
    }

    /// Applies `schema` to a child value at `token`.
    fn validate_child(&mut self, schema: usize, value: &Json, token: String) -> Result<(), VError> {
        self.location.push(token);
        let mut scope = self.scope.to_vec();
        scope.push(Scope {
            schema,
            keyword: None,
            value_id: self.scope.last().map_or(0, |s| s.value_id) + 1,
        });
        let result = Validator {
            compiled: self.compiled,
            schema,
            value,
            location: self.location,
            uneval: Uneval::from(value, &self.compiled.nodes[schema], false),
            errors: Vec::new(),
            scope: &scope,
        }
        .run();
        self.location.pop();
        result.map(|_| ())
    }

    fn validate_ref(&mut self, target: usize, keyword: &'static str) -> Result<(), VError> {
        match self.validate_self_via(target, Some(keyword)) {
            Ok(_) => Ok(()),
            Err(error) => {
                let causes = if error.kind == Kind::Group {
                    error.causes
                } else {
                    vec![error]
                };
                Err(VError::with_causes(self.location, Kind::Reference, causes))
            }
        }
    }

    fn missing(map: &serde_json::Map<String, Json>, names: &[String]) -> Vec<String> {
        names
            .iter()
            .filter(|n| !map.contains_key(*n))
            .cloned()
            .collect()
    }

    fn object(&mut self, map: &'a serde_json::Map<String, Json>) {
        let s = self.s();
        if let Some(min) = s.min_properties
            && map.len() < min
        {
            self.add(format!(
                "minProperties: got {}, want {}",
                print_int(map.len()),
                print_int(min)
            ));
        }
        if let Some(max) = s.max_properties
            && map.len() > max
        {
            self.add(format!(
                "maxProperties: got {}, want {}",
                print_int(map.len()),
                print_int(max)
            ));
        }
        let missing = Self::missing(map, &s.required);
        match missing.as_slice() {
            [] => {}
            [one] => self.add(format!("missing property {}", quote(one))),
            many => self.add(format!("missing properties {}", join_quoted(many))),
        }
        for (name, dependency) in &s.dependencies {
            if !map.contains_key(name) {
                continue;
            }
            match dependency {
                Dependency::Required(names) => {
                    let missing = Self::missing(map, names);
                    if !missing.is_empty() {
                        self.add(format!(
                            "properties {} required, if {} exists",
                            join_quoted(&missing),
                            quote(name)
                        ));
                    }
                }
                Dependency::Schema(schema) => {
                    let result = self.validate_self(*schema);
                    self.add_err(result);
                }
            }
        }
        self.properties(map);
        if s.draft == 4 {
            return;
        }
        self.property_names(map);
        if s.draft == 6 {
            return;
        }
        for (name, schema) in &s.dependent_schemas {
            if map.contains_key(name) {
                let result = self.validate_self(*schema);
                self.add_err(result);
            }
        }
        for (name, required) in &s.dependent_required {
            if !map.contains_key(name) {
                continue;
            }
            let missing = Self::missing(map, required);
            if !missing.is_empty() {
                self.add(format!(
                    "properties {} required, if {} exists",
                    join_quoted(&missing),
                    quote(name)
                ));
            }
        }
    }

    fn properties(&mut self, map: &'a serde_json::Map<String, Json>) {
        let s = self.s();
        let mut additional = Vec::new();
        for (name, value) in map {
            let mut evaluated = false;
            if let Some((_, schema)) = s.properties.iter().find(|(p, _)| p == name) {
                evaluated = true;
                let result = self.validate_child(*schema, value, name.clone());
                self.errors.extend(result.err());
            }
            for (pattern, schema) in &s.pattern_properties {
                if pattern.regex.is_match(name) {
                    evaluated = true;
                    let result = self.validate_child(*schema, value, name.clone());
                    self.errors.extend(result.err());
                }
            }
            if !evaluated && let Some(extra) = s.additional_properties {
                evaluated = true;
                match extra {
                    Additional::Bool(false) => additional.push(name.clone()),
                    Additional::Bool(true) => {}
                    Additional::Schema(schema) => {
                        let result = self.validate_child(schema, value, name.clone());
                        self.errors.extend(result.err());
                    }
                }
            }
            if evaluated {
                self.uneval.props.remove(name);
            }
        }
        if !additional.is_empty() {
            self.add(format!(
                "additional properties {} not allowed",
                join_quoted(&additional)
            ));
        }
    }

    fn property_names(&mut self, map: &serde_json::Map<String, Json>) {
        let Some(schema) = self.s().property_names else {
            return;
        };
        for name in map.keys() {
            let key = Json::String(name.clone());
            let mut root = Vec::new();
            let scope = [Scope::root(schema)];
            let result = Validator {
                compiled: self.compiled,
                schema,
                value: &key,
                location: &mut root,
                uneval: Uneval::default(),
                errors: Vec::new(),
                scope: &scope,
            }
            .run();
            if let Err(error) = result {
                let causes = if error.kind == Kind::Group {
                    error.causes
                } else {
                    vec![error]
                };
                self.errors.push(VError::with_causes(
                    &[],
                    Kind::Message(format!("invalid propertyName {}", quote(name))),
                    causes,
                ));
            }
        }
    }

    fn array(&mut self, items: &'a [Json]) {
        let s = self.s();
        if let Some(min) = s.min_items
            && items.len() < min
        {
            self.add(format!(
                "minItems: got {}, want {}",
                print_int(items.len()),
                print_int(min)
            ));
        }
        if let Some(max) = s.max_items
            && items.len() > max
        {
            self.add(format!(
                "maxItems: got {}, want {}",
                print_int(items.len()),
                print_int(max)
            ));
        }
        if s.unique_items
            && let Some((j, i)) = duplicates(items)
        {
            self.add(format!("items at {j} and {i} are equal"));
        }
        if s.draft < 2020 {
            self.items_before_2020(items);
        } else {
            self.items_2020(items);
        }
        self.contains(items);
    }

    fn each_item(&mut self, schema: usize, items: &'a [Json], from: usize) {
        for (offset, item) in items.iter().enumerate() {
            let result = self.validate_child(schema, item, (from + offset).to_string());
            self.errors.extend(result.err());
        }
    }

    fn items_before_2020(&mut self, items: &'a [Json]) {
        let s = self.s();
        let mut evaluated = 0;
        match &s.items {
            Some(Items::All(schema)) => {
                self.each_item(*schema, items, 0);
                evaluated = items.len();
            }
            Some(Items::Tuple(schemas)) => {
                evaluated = schemas.len().min(items.len());
                for (i, (schema, item)) in schemas.iter().zip(items).enumerate() {
                    let result = self.validate_child(*schema, item, i.to_string());
                    self.errors.extend(result.err());
                }
            }
            None => {}
        }
        match s.additional_items {
            Some(Additional::Bool(false)) if evaluated != items.len() => {
                self.add(format!(
                    "last {} additionalItem(s) not allowed",
                    print_int(items.len() - evaluated)
                ));
            }
            // The library numbers these items from 0 again.
            Some(Additional::Schema(schema)) => self.each_item(schema, &items[evaluated..], 0),
            _ => {}
        }
    }

    fn items_2020(&mut self, items: &'a [Json]) {
        let s = self.s();
        let evaluated = s.prefix_items.len().min(items.len());
        for (i, (schema, item)) in s.prefix_items.iter().zip(items).enumerate() {
            let result = self.validate_child(*schema, item, i.to_string());
            self.errors.extend(result.err());
        }
        if let Some(schema) = s.items2020 {
            // The library numbers these items from 0 again.
            self.each_item(schema, &items[evaluated..], 0);
        }
    }

    fn contains(&mut self, items: &'a [Json]) {
        let s = self.s();
        let Some(schema) = s.contains else {
            return;
        };
        let mut errors = Vec::new();
        let mut matched = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Err(error) = self.validate_child(schema, item, i.to_string()) {
                errors.push(error);
            } else {
                matched.push(i);
                if s.draft >= 2020 {
                    self.uneval.items.remove(&i);
                }
            }
        }
        if let Some(min) = s.min_contains {
            if matched.len() < min {
                let message = if matched.is_empty() {
                    format!(
                        "min {} items required to match contains schema, but none matched",
                        print_int(min)
                    )
                } else {
                    format!(
                        "min {} items required to match contains schema, but matched {} items at {}",
                        print_int(min),
                        print_int(matched.len()),
                        indexes(&matched)
                    )
                };
                self.add_with_causes(message, errors);
            }
        } else if matched.is_empty() {
            self.add_with_causes("no items match contains schema".to_owned(), errors);
        }
        if let Some(max) = s.max_contains
            && matched.len() > max
        {
            self.add(format!(
                "max {} items required to match contains schema, but matched {} items at {}",
                print_int(max),
                print_int(matched.len()),
                indexes(&matched)
            ));
        }
    }

    fn string(&mut self, text: &str) {
        let s = self.s();
        let length = text.chars().count();
        if let Some(min) = s.min_length
            && length < min
        {
            self.add(format!(
                "minLength: got {}, want {}",
                print_int(length),
                print_int(min)
            ));
        }
        if let Some(max) = s.max_length
            && length > max
        {
            self.add(format!(
                "maxLength: got {}, want {}",
                print_int(length),
                print_int(max)
            ));
        }
        if let Some(pattern) = &s.pattern
            && !pattern.regex.is_match(text)
        {
            self.add(format!(
                "{} does not match pattern {}",
                quote(text),
                quote(&pattern.source)
            ));
        }
    }

    fn number(&mut self) {
        let s = self.s();
        let Some(number) = decimal(self.value) else {
            return;
        };
        let checks = [
            (
                "minimum",
                &s.minimum,
                std::cmp::Ordering::is_lt as fn(_) -> bool,
            ),
            ("maximum", &s.maximum, std::cmp::Ordering::is_gt),
            (
                "exclusiveMinimum",
                &s.exclusive_minimum,
                std::cmp::Ordering::is_le,
            ),
            (
                "exclusiveMaximum",
                &s.exclusive_maximum,
                std::cmp::Ordering::is_ge,
            ),
        ];
        for (name, limit, fails) in checks {
            if let Some(limit) = limit
                && fails(number.cmp(limit))
            {
                self.add(format!(
                    "{name}: got {}, want {}",
                    number.print(),
                    limit.print()
                ));
            }
        }
        if let Some(divisor) = &s.multiple_of
            && !number.is_multiple_of(divisor)
        {
            self.add(format!(
                "multipleOf: got {}, want {}",
                number.print(),
                divisor.print()
            ));
        }
    }

    fn conditions(&mut self) {
        let s = self.s();
        if let Some(not) = s.not
            && self.validate_self(not).is_ok()
        {
            self.add("'not' failed".to_owned());
        }
        if !s.all_of.is_empty() {
            let errors: Vec<VError> = s
                .all_of
                .iter()
                .filter_map(|schema| self.validate_self(*schema).err())
                .collect();
            if !errors.is_empty() {
                self.add_with_causes("'allOf' failed".to_owned(), errors);
            }
        }
        if !s.any_of.is_empty() {
            self.any_of(&s.any_of);
        }
        if !s.one_of.is_empty() {
            self.one_of(&s.one_of);
        }
        if let Some(condition) = s.if_ {
            let branch = if self.validate_self(condition).is_ok() {
                s.then
            } else {
                s.else_
            };
            if let Some(branch) = branch {
                let result = self.validate_self(branch);
                self.add_err(result);
            }
        }
    }

    fn any_of(&mut self, schemas: &[usize]) {
        let mut matched = false;
        let mut errors = Vec::new();
        for schema in schemas {
            if let Err(error) = self.validate_self(*schema) {
                errors.push(error);
            } else {
                matched = true;
                if self.uneval.is_empty() {
                    break;
                }
            }
        }
        if !matched {
            self.add_with_causes("'anyOf' failed".to_owned(), errors);
        }
    }

    fn one_of(&mut self, schemas: &[usize]) {
        let mut matched: Option<usize> = None;
        let mut errors = Vec::new();
        for (i, schema) in schemas.iter().enumerate() {
            match (self.validate_self(*schema), matched) {
                (Err(error), None) => errors.push(error),
                (Err(_), Some(_)) => {}
                (Ok(_), None) => matched = Some(i),
                (Ok(_), Some(first)) => {
                    self.add(format!("'oneOf' failed, subschemas {first}, {i} matched"));
                    return;
                }
            }
        }
        if matched.is_none() {
            self.add_with_causes("'oneOf' failed, none matched".to_owned(), errors);
        }
    }

    fn unevaluated(&mut self) {
        let s = self.s();
        if let (Json::Object(map), Some(schema)) = (self.value, s.unevaluated_properties) {
            let names: Vec<String> = std::mem::take(&mut self.uneval.props).into_iter().collect();
            for name in names {
                if let Some(value) = map.get(&name) {
                    let result = self.validate_child(schema, value, name);
                    self.errors.extend(result.err());
                }
            }
        }
        if let (Json::Array(items), Some(schema)) = (self.value, s.unevaluated_items) {
            let indexes: Vec<usize> = std::mem::take(&mut self.uneval.items).into_iter().collect();
            for i in indexes {
                let result = self.validate_child(schema, &items[i], i.to_string());
                self.errors.extend(result.err());
            }
        }
    }
}
