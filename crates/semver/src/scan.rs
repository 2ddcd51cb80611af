//! Hand-written matchers for the regular expressions Masterminds applies to versions and
//! constraints. Each one reproduces what Go's leftmost-first regexp engine would capture; the
//! comments say why greedy matching is enough where a backtracking engine could try more.

use std::ops::Range;

/// `[0-9]`: the number class of a version.
pub(crate) fn is_digit(byte: u8) -> bool {
    byte.is_ascii_digit()
}

/// `[0-9|xX*]`: the number class of a constraint version. The `|` is a quirk of Masterminds'
/// character class (it was meant as alternation); we keep it so that the same inputs fail the
/// same way.
pub(crate) fn is_constraint_number(byte: u8) -> bool {
    byte.is_ascii_digit() || matches!(byte, b'|' | b'x' | b'X' | b'*')
}

/// `[0-9A-Za-z-]`: a prerelease or metadata identifier character.
pub(crate) fn is_identifier(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-'
}

/// Go's `\s`: tab, newline, form feed, carriage return, space (not vertical tab).
pub(crate) fn is_space(byte: u8) -> bool {
    byte.is_ascii_whitespace()
}

fn is_operator(byte: u8) -> bool {
    matches!(byte, b'=' | b'!' | b'>' | b'<' | b'~' | b'^')
}

/// The operators Masterminds accepts, the empty one included.
const OPERATORS: [&str; 12] = [
    "", "=", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^",
];

/// Where the parts of a version sit in the scanned text.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    /// The first byte, the `v` prefix included.
    pub start: usize,
    pub major: Range<usize>,
    /// The minor digits, without their dot.
    pub minor: Option<Range<usize>>,
    /// The patch digits, without their dot.
    pub patch: Option<Range<usize>>,
    /// The prerelease, without its dash.
    pub prerelease: Option<Range<usize>>,
    /// The metadata, without its plus.
    pub metadata: Option<Range<usize>>,
    /// One past the last byte.
    pub end: usize,
}

fn skip(text: &[u8], mut position: usize, class: impl Fn(u8) -> bool) -> usize {
    while position < text.len() && class(text[position]) {
        position += 1;
    }
    position
}

fn skip_spaces(text: &[u8], position: usize) -> usize {
    skip(text, position, is_space)
}

/// `<lead>` followed by at least one byte of `class`, returning the range of that run.
fn led_run(
    text: &[u8],
    position: usize,
    lead: u8,
    class: impl Fn(u8) -> bool + Copy,
) -> Option<Range<usize>> {
    let first = position + 1;
    (text.get(position) == Some(&lead) && text.get(first).is_some_and(|&byte| class(byte)))
        .then(|| first..skip(text, first, class))
}

/// `[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*` after `lead`.
fn dotted_identifiers(text: &[u8], position: usize, lead: u8) -> Option<Range<usize>> {
    let first = led_run(text, position, lead, is_identifier)?;
    let mut end = first.end;
    while let Some(next) = led_run(text, end, b'.', is_identifier) {
        end = next.end;
    }
    Some(first.start..end)
}

/// Matches `v?(N+)(\.N+)?(\.N+)?(-ids)?(\+ids)?` at `start`, where `N` is `number_class`.
///
/// Greedy matching is what Go captures: every optional part starts with a byte (`.`, `-`, `+`)
/// that cannot continue the part before it, and each caller requires the byte after the match
/// to be a space, a comma or the end, which a shorter match would never leave.
pub(crate) fn version_shape(
    text: &[u8],
    start: usize,
    number_class: fn(u8) -> bool,
) -> Option<Shape> {
    let has_prefix = text.get(start) == Some(&b'v')
        && text.get(start + 1).is_some_and(|&byte| number_class(byte));
    let major_start = start + usize::from(has_prefix);
    if !text
        .get(major_start)
        .is_some_and(|&byte| number_class(byte))
    {
        return None;
    }
    let major = major_start..skip(text, major_start, number_class);
    let mut end = major.end;
    let minor = led_run(text, end, b'.', number_class);
    end = minor.as_ref().map_or(end, |range| range.end);
    let patch = led_run(text, end, b'.', number_class);
    end = patch.as_ref().map_or(end, |range| range.end);
    let prerelease = dotted_identifiers(text, end, b'-');
    end = prerelease.as_ref().map_or(end, |range| range.end);
    let metadata = dotted_identifiers(text, end, b'+');
    end = metadata.as_ref().map_or(end, |range| range.end);
    Some(Shape {
        start,
        major,
        minor,
        patch,
        prerelease,
        metadata,
        end,
    })
}

/// One `operator version` term of a constraint.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    /// One of Masterminds' operators, possibly empty.
    pub operator: &'static str,
    pub version: Shape,
}

/// The operator at `position`: the whole run of operator bytes, which must be a known
/// operator (an operator byte can never start the version that follows, so a regexp could not
/// stop earlier).
fn operator_at(text: &[u8], position: usize) -> Option<(&'static str, usize)> {
    let end = skip(text, position, is_operator);
    let found = &text[position..end];
    OPERATORS
        .iter()
        .find(|operator| operator.as_bytes() == found)
        .map(|operator| (*operator, end))
}

/// Splits one `||`-free part of a constraint into its terms, or `None` when Masterminds'
/// validation expression would reject it. Terms are separated by spaces or by one comma with
/// optional spaces around it; an operator may be followed by spaces.
pub(crate) fn terms(segment: &str) -> Option<Vec<Term>> {
    let text = segment.as_bytes();
    let mut terms = Vec::new();
    let mut position = skip_spaces(text, 0);
    loop {
        let (operator, after_operator) = operator_at(text, position)?;
        let version_start = skip_spaces(text, after_operator);
        let version = version_shape(text, version_start, is_constraint_number)?;
        let after_version = version.end;
        terms.push(Term { operator, version });
        position = skip_spaces(text, after_version);
        if position == text.len() {
            return Some(terms);
        }
        if text[position] == b',' {
            position = skip_spaces(text, position + 1);
        } else if position == after_version {
            return None;
        }
    }
}

/// Rewrites hyphen ranges `A - B` into `>= A, <= B `, exactly as Masterminds does: find every
/// non-overlapping `\s*A\s+-\s+B\s*` in the original text, then replace the first occurrence of
/// each matched text in turn.
pub(crate) fn rewrite_ranges(input: &str) -> String {
    let text = input.as_bytes();
    let mut found = Vec::new();
    let mut position = 0;
    while position < text.len() {
        match range_at(text, position) {
            Some((end, low, high)) => {
                found.push((position..end, low, high));
                position = end;
            }
            None => position += 1,
        }
    }
    let mut output = input.to_owned();
    for (whole, low, high) in found {
        let replacement = format!(">= {}, <= {} ", &input[low], &input[high]);
        output = output.replacen(&input[whole], &replacement, 1);
    }
    output
}

/// A hyphen range starting exactly at `position`: its end and the two version ranges.
fn range_at(text: &[u8], position: usize) -> Option<(usize, Range<usize>, Range<usize>)> {
    let low = version_shape(text, skip_spaces(text, position), is_constraint_number)?;
    let dash = skip_spaces(text, low.end);
    if dash == low.end || text.get(dash) != Some(&b'-') {
        return None;
    }
    let high_start = skip_spaces(text, dash + 1);
    if high_start == dash + 1 {
        return None;
    }
    let high = version_shape(text, high_start, is_constraint_number)?;
    Some((
        skip_spaces(text, high.end),
        low.start..low.end,
        high.start..high.end,
    ))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    #[rstest]
    #[case("2 - 3", ">= 2, <= 3 ")]
    #[case("2 - 3, 2 - 3", ">= 2, <= 3 ,>= 2, <= 3 ")]
    #[case("2 - 3, 4.0.0 - 5.1", ">= 2, <= 3 ,>= 4.0.0, <= 5.1 ")]
    #[case("2 - 3 4.0.0 - 5.1", ">= 2, <= 3 >= 4.0.0, <= 5.1 ")]
    #[case("1.0.0 - 2.0.0 <=2.0.0", ">= 1.0.0, <= 2.0.0 <=2.0.0")]
    #[case("  v1.2-beta.1 -\t2.x  ", ">= v1.2-beta.1, <= 2.x ")]
    #[case("1 -2", "1 -2")]
    #[case("1- 2", "1- 2")]
    #[case("1 - 2 - 3", ">= 1, <= 2 - 3")]
    #[case(">=1.0 || 2 - 3", ">=1.0 ||>= 2, <= 3 ")]
    fn rewrites_hyphen_ranges(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(super::rewrite_ranges(input), expected);
    }

    #[rstest]
    #[case(">= 1.2", &[">="])]
    #[case("1.2 3", &["", ""])]
    #[case(" 1 , > 2 ,<3 ", &["", ">", "<"])]
    #[case("~> 1 =< 2 => 3 != 4 ^5 =6", &["~>", "=<", "=>", "!=", "^", "="])]
    fn splits_terms(#[case] input: &str, #[case] operators: &[&str]) {
        let terms = super::terms(input).expect("the segment is well formed");
        let found: Vec<&str> = terms.iter().map(|term| term.operator).collect();
        assert_eq!(found, operators);
    }

    #[rstest]
    #[case("")]
    #[case("   ")]
    #[case("1,,2")]
    #[case(",1")]
    #[case("1,")]
    #[case(">1<2")]
    #[case("> =1")]
    #[case("==1")]
    #[case("1.2.3.4")]
    #[case("1.2.3-")]
    #[case("foo")]
    fn rejects_malformed_segments(#[case] input: &str) {
        assert!(super::terms(input).is_none());
    }
}
