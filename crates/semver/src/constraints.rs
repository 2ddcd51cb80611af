//! [`Constraints`]: `||` groups of `,`/space-separated terms, checked like Masterminds v3.

use std::fmt;
use std::str::FromStr;

use crate::comparator::{Comparator, Reason};
use crate::error::ConstraintError;
use crate::scan;
use crate::version::Version;

/// A parsed version constraint such as `>= 1.2, < 2.0 || ^3.1.0-0`.
///
/// Syntax (Masterminds semver v3): terms joined by spaces or commas must all hold; groups
/// joined by `||` are alternatives. Operators: `=` (or none), `!=`, `>`, `<`, `>=`/`=>`,
/// `<=`/`=<`, `~`/`~>`, `^`. Versions may be partial (`1.2`) or use wildcards (`1.2.x`, `1.*`,
/// `X`, `*`), and `A - B` is the inclusive range `>= A, <= B`.
///
/// Prereleases: a version with a prerelease satisfies a group only when some term of that
/// group has a prerelease itself (`>= 1.0.0-0`), or when [`Constraints::with_prereleases`]
/// is on. Within such a group, prereleases of any `major.minor.patch` are compared by normal
/// precedence.
#[derive(Debug, Clone)]
pub struct Constraints {
    groups: Vec<Group>,
    include_prerelease: bool,
}

#[derive(Debug, Clone)]
struct Group {
    comparators: Vec<Comparator>,
    has_prerelease: bool,
}

impl Constraints {
    /// Parses a constraint string like Masterminds' `NewConstraint`.
    pub fn parse(text: &str) -> Result<Self, ConstraintError> {
        let rewritten = scan::rewrite_ranges(text);
        let groups = rewritten
            .split("||")
            .map(|segment| {
                let terms = scan::terms(segment)
                    .ok_or_else(|| ConstraintError::Improper(segment.to_owned()))?;
                let comparators = terms
                    .iter()
                    .map(|term| Comparator::from_term(segment, term))
                    .collect::<Result<Vec<_>, _>>()?;
                let has_prerelease = comparators.iter().any(Comparator::has_prerelease);
                Ok(Group {
                    comparators,
                    has_prerelease,
                })
            })
            .collect::<Result<Vec<_>, ConstraintError>>()?;
        Ok(Self {
            groups,
            include_prerelease: false,
        })
    }

    /// Lets every group match prerelease versions, like setting Masterminds'
    /// `IncludePrerelease`. Flux leaves this off.
    #[must_use]
    pub fn with_prereleases(mut self, include: bool) -> Self {
        self.include_prerelease = include;
        self
    }

    /// Whether [`Constraints::with_prereleases`] is on.
    pub fn includes_prereleases(&self) -> bool {
        self.include_prerelease
    }

    /// Whether `version` satisfies at least one `||` group.
    pub fn check(&self, version: &Version) -> bool {
        self.groups.iter().any(|group| {
            let include = self.include_prerelease || group.has_prerelease;
            group
                .comparators
                .iter()
                .all(|comparator| comparator.check(version, include).is_ok())
        })
    }

    /// Like [`Constraints::check`], and when the version fails, every reason in Masterminds'
    /// words: each failing term of each group, with the prerelease reason reported once.
    /// A satisfied constraint returns `(true, vec![])`.
    pub fn validate(&self, version: &Version) -> (bool, Vec<String>) {
        let mut reasons = Vec::new();
        let mut prerelease_reported = false;
        for group in &self.groups {
            let include = self.include_prerelease || group.has_prerelease;
            let mut satisfied = true;
            for comparator in &group.comparators {
                if version.is_prerelease() && !include {
                    if !prerelease_reported {
                        reasons.push(comparator.message(version, Reason::Prerelease));
                        prerelease_reported = true;
                    }
                    satisfied = false;
                } else if let Err(reason) = comparator.check(version, include) {
                    reasons.push(comparator.message(version, reason));
                    satisfied = false;
                }
            }
            if satisfied {
                return (true, Vec::new());
            }
        }
        (false, reasons)
    }
}

impl FromStr for Constraints {
    type Err = ConstraintError;

    /// Same as [`Constraints::parse`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Constraints {
    /// Masterminds' normal form: terms as `operator version` without inner spaces, joined by
    /// one space; groups joined by ` || `. The output parses back to the same constraints.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (group_index, group) in self.groups.iter().enumerate() {
            if group_index > 0 {
                formatter.write_str(" || ")?;
            }
            for (index, comparator) in group.comparators.iter().enumerate() {
                if index > 0 {
                    formatter.write_str(" ")?;
                }
                write!(formatter, "{comparator}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
