//! Patch targets: kustomize's selector with anchored regexes and label selectors.

use regex::Regex;

use crate::Error;
use crate::kustomization::Selector;
use crate::resid::ResId;
use crate::resource::Resource;

/// A selector field: kustomize anchors it as a regex; text without regex syntax is
/// compared as it is (the same answer, without compiling a regex per patch).
enum Pattern<'a> {
    Literal(&'a str),
    Regex(Regex),
}

impl Pattern<'_> {
    fn is_match(&self, text: &str) -> bool {
        match self {
            Pattern::Literal(literal) => *literal == text,
            Pattern::Regex(regex) => regex.is_match(text),
        }
    }
}

fn anchored(pattern: &str) -> Result<Option<Pattern<'_>>, Error> {
    if pattern.is_empty() {
        return Ok(None);
    }
    if pattern
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'/' | b':'))
    {
        return Ok(Some(Pattern::Literal(pattern)));
    }
    Regex::new(&format!("^(?:{pattern})$"))
        .map(|regex| Some(Pattern::Regex(regex)))
        .map_err(|error| Error::build(format!("invalid selector pattern '{pattern}': {error}")))
}

/// Does a `key=value,key!=value,key in (a,b),!key,key` selector match these pairs?
pub fn matches_label_selector(selector: &str, pairs: &[(String, String)]) -> bool {
    let lookup = |key: &str| {
        pairs
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    };
    split_requirements(selector).iter().all(|requirement| {
        let requirement = requirement.trim();
        if requirement.is_empty() {
            return true;
        }
        if let Some((key, values)) = requirement.split_once(" notin ") {
            let values = set_values(values);
            return lookup(key.trim()).is_none_or(|value| !values.contains(&value));
        }
        if let Some((key, values)) = requirement.split_once(" in ") {
            let values = set_values(values);
            return lookup(key.trim()).is_some_and(|value| values.contains(&value));
        }
        if let Some((key, value)) = requirement.split_once("!=") {
            return lookup(key.trim()) != Some(value.trim());
        }
        if let Some((key, value)) = requirement
            .split_once("==")
            .or_else(|| requirement.split_once('='))
        {
            return lookup(key.trim()) == Some(value.trim());
        }
        if let Some(key) = requirement.strip_prefix('!') {
            return lookup(key.trim()).is_none();
        }
        lookup(requirement).is_some()
    })
}

fn set_values(text: &str) -> Vec<&str> {
    text.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .collect()
}

/// Splits on commas that are not inside parentheses.
fn split_requirements(selector: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for character in selector.chars() {
        match character {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(character);
    }
    parts.push(current);
    parts
}

/// Indexes of the resources a selector picks.
pub fn select(resources: &[Resource], selector: &Selector) -> Result<Vec<usize>, Error> {
    let name = anchored(&selector.name)?;
    let namespace = anchored(&selector.namespace)?;
    let kind = anchored(&selector.kind)?;
    let mut result = Vec::new();
    for (index, resource) in resources.iter().enumerate() {
        let (api_version, resource_kind, current_name, current_namespace) = resource.id_key();
        let original = resource.tracking.previous.first();
        if let Some(pattern) = &namespace
            && !pattern.is_match(original.map_or(current_namespace, ResId::effective_namespace))
            && !pattern.is_match(current_namespace)
        {
            continue;
        }
        if let Some(pattern) = &name
            && !pattern.is_match(original.map_or(current_name, |id| id.name.as_str()))
            && !pattern.is_match(current_name)
        {
            continue;
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let group_version_ok = (selector.group.is_empty() || selector.group == group)
            && (selector.version.is_empty() || selector.version == version);
        if !group_version_ok
            || kind
                .as_ref()
                .is_some_and(|pattern| !pattern.is_match(resource_kind))
        {
            continue;
        }
        if !selector.label_selector.is_empty()
            && !matches_label_selector(&selector.label_selector, &resource.string_map("labels"))
        {
            continue;
        }
        if !selector.annotation_selector.is_empty()
            && !matches_label_selector(
                &selector.annotation_selector,
                &resource.string_map("annotations"),
            )
        {
            continue;
        }
        result.push(index);
    }
    Ok(result)
}
