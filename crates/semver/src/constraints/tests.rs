//! Behaviour tables for constraints, re-expressed from Masterminds semver v3's documented and
//! tested behaviour (each case was cross-checked against the Go library).

mod checks;
mod messages;
mod parsing;
mod prereleases;

use super::Constraints;
use crate::Version;

/// Asserts `check` and `validate` agree with `expected`, and that `validate` explains a failure.
fn assert_satisfies(constraint: &str, version: &str, expected: bool) {
    let constraints = Constraints::parse(constraint).expect("the constraint in the table is valid");
    let version = Version::parse(version).expect("the version in the table is valid");
    assert_eq!(
        constraints.check(&version),
        expected,
        "check({constraint:?}, {version})"
    );
    let (valid, reasons) = constraints.validate(&version);
    assert_eq!(valid, expected, "validate({constraint:?}, {version})");
    assert_eq!(
        reasons.is_empty(),
        expected,
        "reasons for {constraint:?}, {version}: {reasons:?}"
    );
}
