//! One `operator version` term and the rule each operator applies, including how `x`
//! wildcards and the `^`/`~` rules for 0.x versions behave in Masterminds v3.

use std::cmp::Ordering;
use std::fmt;

use crate::error::ConstraintError;
use crate::scan::Term;
use crate::version::{Version, compare_prerelease};

/// What a term asks of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    /// `=` or no operator: equality, or `~` when the version has a wildcard.
    Equal,
    NotEqual,
    Greater,
    Less,
    GreaterOrEqual,
    LessOrEqual,
    /// `~` or `~>`.
    Tilde,
    /// `^`.
    Caret,
}

impl Operator {
    fn from_text(text: &str) -> Self {
        match text {
            "!=" => Self::NotEqual,
            ">" => Self::Greater,
            "<" => Self::Less,
            ">=" | "=>" => Self::GreaterOrEqual,
            "<=" | "=<" => Self::LessOrEqual,
            "~" | "~>" => Self::Tilde,
            "^" => Self::Caret,
            _ => Self::Equal,
        }
    }
}

/// Which part of the constraint version was a wildcard (`x`, `X`, `*`) or left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wildcard {
    /// `1.2.3`: every part given.
    None,
    /// `*` or `x.…`: the major part. Masterminds then compares against 0.0.0 and does *not*
    /// mark minor or patch as wild, which gives `^*` and `>*` their particular results.
    Major,
    /// `1`, `1.x`: the minor part (and so the patch part).
    Minor,
    /// `1.2`, `1.2.x`: the patch part.
    Patch,
}

/// Why a version failed a term; turned into Masterminds' message only when asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    Prerelease,
    NotEqual,
    EqualTo,
    LessOrEqual,
    GreaterOrEqual,
    Less,
    Greater,
    MajorDiffers,
    MinorDiffers,
    MajorMinorDiffers,
    MinorDiffersUnderZero,
    PatchDiffersUnderZero,
}

/// One parsed term: operator, the version it compares with, and the text it came from.
#[derive(Debug, Clone)]
pub(crate) struct Comparator {
    operator_text: &'static str,
    operator: Operator,
    /// The version as written (`1.x`), used in messages and [`fmt::Display`].
    written: String,
    version: Version,
    wildcard: Wildcard,
}

fn is_wild(part: &str) -> bool {
    matches!(part, "x" | "X" | "*")
}

impl Comparator {
    /// Builds a comparator from a scanned term of `segment`.
    pub(crate) fn from_term(segment: &str, term: &Term) -> Result<Self, ConstraintError> {
        let shape = &term.version;
        let major = &segment[shape.major.clone()];
        let minor = shape.minor.clone().map(|range| &segment[range]);
        let patch = shape.patch.clone().map(|range| &segment[range]);
        let dashed_prerelease = shape
            .prerelease
            .clone()
            .map_or(String::new(), |range| format!("-{}", &segment[range]));
        // Wildcard versions drop their metadata and fill the wild parts with zeros.
        let (wildcard, text) = if is_wild(major) {
            (Wildcard::Major, format!("0.0.0{dashed_prerelease}"))
        } else if minor.is_none_or(is_wild) {
            (Wildcard::Minor, format!("{major}.0.0{dashed_prerelease}"))
        } else if patch.is_none_or(is_wild) {
            let minor = minor.unwrap_or_default();
            (
                Wildcard::Patch,
                format!("{major}.{minor}.0{dashed_prerelease}"),
            )
        } else {
            (Wildcard::None, segment[shape.start..shape.end].to_owned())
        };
        let version = Version::parse(&text).map_err(|_| ConstraintError::Parser)?;
        Ok(Self {
            operator_text: term.operator,
            operator: Operator::from_text(term.operator),
            written: segment[shape.start..shape.end].to_owned(),
            version,
            wildcard,
        })
    }

    /// Whether the constraint version carries a prerelease, which lets its `||` group match
    /// prerelease versions.
    pub(crate) fn has_prerelease(&self) -> bool {
        self.version.is_prerelease()
    }

    /// Checks `candidate`; prereleases fail unless `include_prerelease`.
    pub(crate) fn check(
        &self,
        candidate: &Version,
        include_prerelease: bool,
    ) -> Result<(), Reason> {
        if candidate.is_prerelease() && !include_prerelease {
            return Err(Reason::Prerelease);
        }
        match self.operator {
            Operator::Equal if self.wildcard == Wildcard::None => {
                require(*candidate == self.version, Reason::NotEqual)
            }
            Operator::Equal | Operator::Tilde => self.tilde(candidate),
            Operator::NotEqual => self.not_equal(candidate),
            Operator::Greater => self.greater(candidate),
            Operator::Less => require(*candidate < self.version, Reason::GreaterOrEqual),
            Operator::GreaterOrEqual => require(*candidate >= self.version, Reason::Less),
            Operator::LessOrEqual => self.less_or_equal(candidate),
            Operator::Caret => self.caret(candidate),
        }
    }

    fn not_equal(&self, candidate: &Version) -> Result<(), Reason> {
        let own = &self.version;
        if self.wildcard != Wildcard::None {
            if own.major() != candidate.major() {
                return Ok(());
            }
            match self.wildcard {
                Wildcard::Minor => return Err(Reason::EqualTo),
                _ if own.minor() != candidate.minor() => return Ok(()),
                Wildcard::Patch => {
                    let differs = (candidate.is_prerelease() || own.is_prerelease())
                        && compare_prerelease(candidate.prerelease(), own.prerelease())
                            != Ordering::Equal;
                    return require(differs, Reason::EqualTo);
                }
                _ if own.patch() != candidate.patch() => return Ok(()),
                _ => {}
            }
        }
        require(*candidate != *own, Reason::EqualTo)
    }

    fn greater(&self, candidate: &Version) -> Result<(), Reason> {
        let own = &self.version;
        let greater = match self.wildcard {
            Wildcard::None => *candidate > *own,
            _ if candidate.major() != own.major() => candidate.major() > own.major(),
            // `>1` needs 2.0.0 or more; `>1.1` needs 1.2.0 or more.
            Wildcard::Minor => false,
            Wildcard::Patch => candidate.minor() > own.minor(),
            Wildcard::Major => *candidate > *own,
        };
        require(greater, Reason::LessOrEqual)
    }

    fn less_or_equal(&self, candidate: &Version) -> Result<(), Reason> {
        let own = &self.version;
        let within = match self.wildcard {
            Wildcard::None => *candidate <= *own,
            _ if candidate.major() > own.major() => false,
            Wildcard::Minor => true,
            _ => candidate.major() != own.major() || candidate.minor() <= own.minor(),
        };
        require(within, Reason::Greater)
    }

    /// `~1.2.3` is `>=1.2.3 <1.3.0`; `~1` and `~1.x` are `>=1.0.0 <2.0.0`; `~0.0.0` and `~*`
    /// accept anything from 0.0.0 up.
    fn tilde(&self, candidate: &Version) -> Result<(), Reason> {
        let own = &self.version;
        if *candidate < *own {
            return Err(Reason::Less);
        }
        let all_zero = own.major() == 0 && own.minor() == 0 && own.patch() == 0;
        if all_zero && matches!(self.wildcard, Wildcard::None | Wildcard::Major) {
            return Ok(());
        }
        if candidate.major() != own.major() {
            return Err(Reason::MajorDiffers);
        }
        require(
            candidate.minor() == own.minor() || self.wildcard == Wildcard::Minor,
            Reason::MajorMinorDiffers,
        )
    }

    /// `^1.2.3` is `>=1.2.3 <2.0.0`; `^0.2.3` is `>=0.2.3 <0.3.0`; `^0.0.3` is exactly 0.0.3;
    /// `^0.0` is `<0.1.0`; `^0` is `<1.0.0`.
    fn caret(&self, candidate: &Version) -> Result<(), Reason> {
        let own = &self.version;
        if *candidate < *own {
            return Err(Reason::Less);
        }
        if own.major() > 0 || self.wildcard == Wildcard::Minor {
            return require(candidate.major() == own.major(), Reason::MajorDiffers);
        }
        if candidate.major() > 0 {
            return Err(Reason::MajorDiffers);
        }
        if own.minor() > 0 || self.wildcard == Wildcard::Patch {
            return require(
                candidate.minor() == own.minor(),
                Reason::MinorDiffersUnderZero,
            );
        }
        if candidate.minor() > 0 {
            return Err(Reason::MinorDiffers);
        }
        require(
            candidate.patch() == own.patch(),
            Reason::PatchDiffersUnderZero,
        )
    }

    /// Masterminds' message for `reason`, with the version in canonical form.
    pub(crate) fn message(&self, candidate: &Version, reason: Reason) -> String {
        let version = candidate.to_canonical();
        let written = &self.written;
        let relation = match reason {
            Reason::Prerelease => {
                return format!(
                    "\"{version}\" is a prerelease version and the constraint is only looking for release versions"
                );
            }
            Reason::NotEqual => "is not equal to",
            Reason::EqualTo => "is equal to",
            Reason::LessOrEqual => "is less than or equal to",
            Reason::GreaterOrEqual => "is greater than or equal to",
            Reason::Less => "is less than",
            Reason::Greater => "is greater than",
            Reason::MajorDiffers => "does not have same major version as",
            Reason::MinorDiffers | Reason::MinorDiffersUnderZero => {
                "does not have same minor version as"
            }
            Reason::MajorMinorDiffers => "does not have same major and minor version as",
            Reason::PatchDiffersUnderZero => "does not equal",
        };
        let suffix = match reason {
            Reason::MinorDiffersUnderZero => {
                ". Expected minor versions to match when constraint major version is 0"
            }
            Reason::PatchDiffersUnderZero => {
                ". Expect version and constraint to equal when major and minor versions are 0"
            }
            _ => "",
        };
        format!("\"{version}\" {relation} \"{written}\"{suffix}")
    }
}

fn require(condition: bool, reason: Reason) -> Result<(), Reason> {
    if condition { Ok(()) } else { Err(reason) }
}

impl fmt::Display for Comparator {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}{}", self.operator_text, self.written)
    }
}
