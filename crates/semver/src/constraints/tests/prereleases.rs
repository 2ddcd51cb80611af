//! The prerelease rule: a prerelease version satisfies a `||` group only when a term of that
//! group has a prerelease, unless prereleases are switched on for the whole constraint.

use super::{Constraints, Version, assert_satisfies};
use rstest::rstest;

#[rstest]
#[case(">=1.0.0", "1.1.0-rc.1", false)]
#[case(">=1.0.0-0", "1.1.0-rc.1", true)]
#[case(">=1.0.0-0 <2.0.0", "2.0.0-rc.1", true)]
#[case(">=1.0.0-0 <2.0.0", "1.0.0-0", true)]
#[case("*", "1.0.0-rc.1", false)]
#[case("*-0", "1.0.0-rc.1", true)]
#[case("", "1.0.0", false)]
#[case("^1.2.0", "1.2.1-alpha.1", false)]
#[case("^1.2.0-alpha.0", "1.2.1-alpha.1", true)]
#[case("^1.2.0-alpha.2", "1.2.0-alpha.1", false)]
#[case("~1.1-alpha", "1.1.1-beta", true)]
#[case("~1.1.1-beta", "1.1.1-alpha", false)]
#[case("~1.1.1-beta", "1.1.1", true)]
#[case("<2.0.0 || >=1.0.0-0", "1.5.0-rc.1", true)]
#[case("<2.0.0 || >=3.0.0-0", "1.5.0-rc.1", false)]
#[case(">= 1.0.0  <= 2.0.0-beta", "1.0.1-beta", true)]
#[case(">= 1.0.0  <= 2.0.0-beta || > 3", "3.0.1-beta", false)]
#[case(">= 1.0.0  <= 2.0.0-beta != 1.0.1-beta", "1.0.1-beta", false)]
#[case(">1.2.3-alpha.1", "1.3.3-alpha.2", true)]
#[case(">0", "0.0.1-alpha", false)]
#[case(">=0.0", "0.0.1-alpha", false)]
#[case(">=0.0-0", "0.0.1-alpha", true)]
fn prerelease_versions_need_a_prerelease_term(
    #[case] constraint: &str,
    #[case] version: &str,
    #[case] expected: bool,
) {
    if constraint.is_empty() {
        // An empty constraint is malformed in Masterminds v3, not "anything".
        assert!(Constraints::parse(constraint).is_err());
        return;
    }
    assert_satisfies(constraint, version, expected);
}

#[rstest]
#[case(">=1.1", "4.1.0-beta", true)]
#[case(">1.1", "1.1.1-beta", false)]
#[case(">1.1", "1.2.0-beta", true)]
#[case("<1.1", "1.1.0-alpha", true)]
#[case("<=1.2.3", "1.2.3-beta", true)]
#[case("> 1.2.3", "1.2.3-beta.1", false)]
#[case("*", "1.0.0-rc.1", true)]
#[case("^1.x", "1.1.1-beta1", true)]
#[case("=2.0", "2.0.1-beta", true)]
#[case("~1.1", "1.1.1-alpha", true)]
#[case("!=1.2.3", "1.2.3-beta", true)]
#[case("^1.2.3", "1.2.3-beta", false)]
#[case("1.2.3", "1.2.3-beta", false)]
fn switched_on_prereleases(
    #[case] constraint: &str,
    #[case] version: &str,
    #[case] expected: bool,
) {
    let constraints = Constraints::parse(constraint)
        .expect("the constraint in the table is valid")
        .with_prereleases(true);
    assert!(constraints.includes_prereleases());
    let version = Version::parse(version).expect("the version in the table is valid");
    assert_eq!(constraints.check(&version), expected);
    assert_eq!(constraints.validate(&version).0, expected);
}

#[test]
fn release_versions_are_unaffected_by_the_switch() {
    let version = Version::parse("1.5.0").expect("valid version");
    for constraint in [">=1.0.0-0 <2", "^1.2", "1.x", "!=1.5.0"] {
        let constraints = Constraints::parse(constraint).expect("valid constraint");
        let switched = constraints.clone().with_prereleases(true);
        assert_eq!(
            constraints.check(&version),
            switched.check(&version),
            "{constraint}"
        );
    }
}
