//! Error types. Messages repeat Masterminds' wording word for word, because Flux copies them
//! into status conditions and users search for them.

use crate::quote::go_quote;

/// Why a version string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The text is not shaped like a version at all.
    #[error("invalid semantic version")]
    InvalidSemVer,
    /// The strict parser received an empty string.
    #[error("version string empty")]
    Empty,
    /// A major, minor or patch segment holds something other than ASCII digits.
    #[error("invalid characters in version")]
    InvalidCharacters,
    /// A numeric segment has a leading zero (`01`), which semver forbids.
    #[error("version segment starts with 0")]
    SegmentStartsZero,
    /// The build metadata has an empty identifier or a character outside `[0-9A-Za-z-]`.
    #[error("invalid metadata string")]
    InvalidMetadata,
    /// The prerelease has an empty identifier or a character outside `[0-9A-Za-z-]`.
    #[error("invalid prerelease string")]
    InvalidPrerelease,
    /// The lenient parser met a numeric segment larger than `u64::MAX`.
    #[error("error parsing version segment: strconv.ParseUint: parsing {}: value out of range", go_quote(.0))]
    SegmentOutOfRange(String),
    /// The strict parser met a numeric segment it could not read as a `u64`.
    #[error("strconv.ParseUint: parsing {}: {problem}", go_quote(segment))]
    StrictSegment {
        /// The segment's text.
        segment: String,
        /// What was wrong with it.
        problem: NumberProblem,
    },
}

/// Why a numeric segment could not be read, in the words of Go's `strconv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberProblem {
    /// Empty, or not made of digits.
    Syntax,
    /// Larger than `u64::MAX`.
    OutOfRange,
}

impl std::fmt::Display for NumberProblem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::Syntax => "invalid syntax",
            Self::OutOfRange => "value out of range",
        })
    }
}

/// Why a constraint string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    /// An `||`-separated part is not a list of `operator version` terms.
    #[error("improper constraint: {}", go_quote(.0))]
    Improper(String),
    /// A term is well formed but its version does not parse (for example `1x.2`, or a
    /// numeric prerelease identifier with a leading zero).
    #[error("constraint parser error")]
    Parser,
}
