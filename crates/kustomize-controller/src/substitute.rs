//! Flux's postBuild variable substitution (`${var}` and bash-like operators).
//!
//! Only the braced form is expanded: `$var` stays as written and `$${var}` yields a
//! literal `${var}`. Supported operators: `${#v}` `${v^}` `${v^^}` `${v,}` `${v,,}`
//! `${v:pos}` `${v:pos:len}` `${v#p}` `${v##p}` `${v%p}` `${v%%p}` `${v/p/r}` `${v//p/r}`
//! `${v/#p/r}` `${v/%p/r}` `${v-d}` `${v:-d}` `${v=d}` `${v:=d}`; patterns are globs with
//! `*` and `?`. In strict mode a variable that is not set and has no default is an error.

use std::collections::BTreeMap;

/// Why substitution failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstituteError {
    /// Strict mode and a referenced variable is not set.
    #[error("variable not set (strict mode): \"{0}\"")]
    NotSet(String),
    /// A `${` without its closing brace, or an unknown operator.
    #[error("bad substitution: {0}")]
    Syntax(String),
}

/// Whether a variable name is acceptable (`^[_[:alpha:]][_[:alpha:][:digit:]]*$`).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Expands `${...}` in `text` with `vars`.
pub fn substitute(
    text: &str,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<String, SubstituteError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(escaped) = tail.strip_prefix("$${") {
            // `$${var}` is a literal `${var}`.
            out.push_str("${");
            rest = escaped;
            continue;
        }
        let Some(body_start) = tail.strip_prefix("${") else {
            out.push('$');
            rest = &tail[1..];
            continue;
        };
        let end =
            closing_brace(body_start).ok_or_else(|| SubstituteError::Syntax(truncate(tail)))?;
        let expression = &body_start[..end];
        out.push_str(&expand(expression, vars, strict)?);
        rest = &body_start[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// The index of the `}` closing an expression, allowing nested `${...}` in defaults.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (index, character) in body.char_indices() {
        match character {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(index),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn expand(
    expression: &str,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<String, SubstituteError> {
    if let Some(name) = expression.strip_prefix('#').filter(|n| valid_name(n)) {
        return Ok(value(name, vars, strict)?.chars().count().to_string());
    }
    let name_end = expression
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(expression.len());
    let (name, operator) = expression.split_at(name_end);
    if !valid_name(name) {
        return Err(SubstituteError::Syntax(format!("${{{expression}}}")));
    }
    let set = vars.get(name);
    // Operators that supply a default for unset (or, with ':', empty) variables.
    for (prefix, empty_counts) in [(":-", true), (":=", true), ("-", false), ("=", false)] {
        if let Some(default) = operator.strip_prefix(prefix) {
            return match set {
                Some(v) if !(empty_counts && v.is_empty()) => Ok(v.clone()),
                _ => substitute(default, vars, strict),
            };
        }
    }
    let current = value(name, vars, strict)?;
    apply_operator(&current, operator, expression, vars, strict)
}

fn value(
    name: &str,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<String, SubstituteError> {
    match vars.get(name) {
        Some(value) => Ok(value.clone()),
        None if strict => Err(SubstituteError::NotSet(name.to_owned())),
        None => Ok(String::new()),
    }
}

fn apply_operator(
    current: &str,
    operator: &str,
    expression: &str,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<String, SubstituteError> {
    let syntax = || SubstituteError::Syntax(format!("${{{expression}}}"));
    Ok(match operator {
        "" => current.to_owned(),
        "^" => change_first(current, |c| c.to_uppercase().collect()),
        "^^" => current.to_uppercase(),
        "," => change_first(current, |c| c.to_lowercase().collect()),
        ",," => current.to_lowercase(),
        _ if operator.starts_with("##") => {
            trim_prefix(current, &substitute(&operator[2..], vars, strict)?, true)
        }
        _ if operator.starts_with('#') => {
            trim_prefix(current, &substitute(&operator[1..], vars, strict)?, false)
        }
        _ if operator.starts_with("%%") => {
            trim_suffix(current, &substitute(&operator[2..], vars, strict)?, true)
        }
        _ if operator.starts_with('%') => {
            trim_suffix(current, &substitute(&operator[1..], vars, strict)?, false)
        }
        _ if operator.starts_with('/') => replace(current, &operator[1..], vars, strict)?,
        _ if operator.starts_with(':') => {
            let mut parts = operator[1..].splitn(2, ':');
            let position: i64 = parts
                .next()
                .unwrap_or_default()
                .trim()
                .parse()
                .map_err(|_| syntax())?;
            let length: Option<i64> = parts
                .next()
                .map(|l| l.trim().parse().map_err(|_| syntax()))
                .transpose()?;
            substring(current, position, length)
        }
        _ => return Err(syntax()),
    })
}

fn change_first(text: &str, change: impl Fn(char) -> String) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |first| change(first) + chars.as_str())
}

fn substring(text: &str, position: i64, length: Option<i64>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let count = i64::try_from(chars.len()).unwrap_or(i64::MAX);
    let start = if position < 0 {
        (count + position).max(0)
    } else {
        position.min(count)
    };
    let end = match length {
        Some(length) if length < 0 => (count + length).max(start),
        Some(length) => (start + length).min(count),
        None => count,
    };
    let (start, end) = (
        usize::try_from(start).unwrap_or(0),
        usize::try_from(end).unwrap_or(0),
    );
    chars[start..end.max(start)].iter().collect()
}

/// Glob match of a whole string (`*` any run, `?` one character).
fn glob(pattern: &[char], text: &[char]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some('*'), _) => {
            glob(&pattern[1..], text) || (!text.is_empty() && glob(pattern, &text[1..]))
        }
        (Some('?'), Some(_)) => glob(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

fn trim_prefix(text: &str, pattern: &str, longest: bool) -> String {
    let (chars, pattern): (Vec<char>, Vec<char>) =
        (text.chars().collect(), pattern.chars().collect());
    let mut ends: Vec<usize> = (0..=chars.len()).collect();
    if longest {
        ends.reverse();
    }
    for end in ends {
        if glob(&pattern, &chars[..end]) {
            return chars[end..].iter().collect();
        }
    }
    text.to_owned()
}

fn trim_suffix(text: &str, pattern: &str, longest: bool) -> String {
    let (chars, pattern): (Vec<char>, Vec<char>) =
        (text.chars().collect(), pattern.chars().collect());
    let mut starts: Vec<usize> = (0..=chars.len()).rev().collect();
    if longest {
        starts.reverse();
    }
    for start in starts {
        if glob(&pattern, &chars[start..]) {
            return chars[..start].iter().collect();
        }
    }
    text.to_owned()
}

fn replace(
    text: &str,
    spec: &str,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<String, SubstituteError> {
    let (all, anchor, spec) = match spec.chars().next() {
        Some('/') => (true, None, &spec[1..]),
        Some('#') => (false, Some('#'), &spec[1..]),
        Some('%') => (false, Some('%'), &spec[1..]),
        _ => (false, None, spec),
    };
    let (pattern, replacement) = spec.split_once('/').unwrap_or((spec, ""));
    let pattern = substitute(pattern, vars, strict)?;
    let replacement = substitute(replacement, vars, strict)?;
    if pattern.is_empty() {
        return Ok(text.to_owned());
    }
    Ok(match anchor {
        Some('#') => text
            .strip_prefix(pattern.as_str())
            .map_or_else(|| text.to_owned(), |rest| format!("{replacement}{rest}")),
        Some('%') => text
            .strip_suffix(pattern.as_str())
            .map_or_else(|| text.to_owned(), |rest| format!("{rest}{replacement}")),
        _ if all => text.replace(pattern.as_str(), &replacement),
        _ => text.replacen(pattern.as_str(), &replacement, 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn vars() -> BTreeMap<String, String> {
        [
            ("APP", "podinfo"),
            ("EMPTY", ""),
            ("PATH_", "/usr/local/bin"),
            ("MIXED", "hello World"),
            ("N", "3"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    #[rstest]
    #[case("name: ${APP}", "name: podinfo")]
    #[case("${APP}-${N}", "podinfo-3")]
    #[case("$APP stays", "$APP stays")]
    #[case("$${APP} is literal", "${APP} is literal")]
    #[case("cost: $5", "cost: $5")]
    #[case("${#APP}", "7")]
    #[case("${MIXED^}", "Hello World")]
    #[case("${MIXED^^}", "HELLO WORLD")]
    #[case("${MIXED,,}", "hello world")]
    #[case("${APP:3}", "info")]
    #[case("${APP:0:3}", "pod")]
    #[case("${APP:-4}", "podinfo")]
    #[case("${PATH_#*/}", "usr/local/bin")]
    #[case("${PATH_##*/}", "bin")]
    #[case("${PATH_%/*}", "/usr/local")]
    #[case("${PATH_%%/l*}", "/usr")]
    #[case("${APP/o/0}", "p0dinfo")]
    #[case("${APP//o/0}", "p0dinf0")]
    #[case("${APP/#pod/svc}", "svcinfo")]
    #[case("${APP/%info/cast}", "podcast")]
    #[case("${UNSET:=default}", "default")]
    #[case("${UNSET-dash}", "dash")]
    #[case("${EMPTY-dash}", "")]
    #[case("${EMPTY:-dash}", "dash")]
    #[case("${UNSET:=${APP}-x}", "podinfo-x")]
    #[case("replicas: ${REPLICAS:=2}", "replicas: 2")]
    fn expands(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(substitute(input, &vars(), true).unwrap(), expected);
    }

    #[test]
    fn strict_mode_names_the_missing_variable() {
        assert_eq!(
            substitute("x: ${MISSING}", &vars(), true).unwrap_err(),
            SubstituteError::NotSet("MISSING".into())
        );
        assert_eq!(substitute("x: ${MISSING}", &vars(), false).unwrap(), "x: ");
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(matches!(
            substitute("x: ${APP", &vars(), true),
            Err(SubstituteError::Syntax(_))
        ));
        assert!(matches!(
            substitute("x: ${APP?oops}", &vars(), true),
            Err(SubstituteError::Syntax(_))
        ));
        assert!(matches!(
            substitute("x: ${1abc}", &vars(), true),
            Err(SubstituteError::Syntax(_))
        ));
    }

    #[test]
    fn names() {
        assert!(valid_name("_a1") && valid_name("cluster_env"));
        assert!(!valid_name("1a") && !valid_name("a-b") && !valid_name(""));
    }
}
