//! What `validate` says, word for word as Masterminds v3 says it: the version in canonical
//! form, the constraint version as written.

use super::{Constraints, Version};
use rstest::rstest;

#[rstest]
#[case(">1.2.3", "1.2.4-beta", &[r#""1.2.4-beta" is a prerelease version and the constraint is only looking for release versions"#])]
#[case(">1, <3 || ^2", "2.0.0-rc.1", &[r#""2.0.0-rc.1" is a prerelease version and the constraint is only looking for release versions"#])]
#[case("=1.2.3", "1.2.4", &[r#""1.2.4" is not equal to "1.2.3""#])]
#[case("= 2.0", "1.2.3", &[r#""1.2.3" is less than "2.0""#])]
#[case("2.x", "1.2.3", &[r#""1.2.3" is less than "2.x""#])]
#[case("!=1.x", "1.2.0", &[r#""1.2.0" is equal to "1.x""#])]
#[case("!=1.2.3", "1.2.3+b", &[r#""1.2.3+b" is equal to "1.2.3""#])]
#[case(">2", "2.5.0", &[r#""2.5.0" is less than or equal to "2""#])]
#[case(">1.2.3-beta.2", "1.2.3-beta.1", &[r#""1.2.3-beta.1" is less than or equal to "1.2.3-beta.2""#])]
#[case("<v1.2", "1.2.0", &[r#""1.2.0" is greater than or equal to "v1.2""#])]
#[case("<1.0.0", "v1.0.0+build.5", &[r#""1.0.0+build.5" is greater than or equal to "1.0.0""#])]
#[case(">=1.2.3-beta", "1.2.3-alpha", &[r#""1.2.3-alpha" is less than "1.2.3-beta""#])]
#[case("<=1.2.x", "1.3.0", &[r#""1.3.0" is greater than "1.2.x""#])]
#[case("<=1.1", "1.2.1", &[r#""1.2.1" is greater than "1.1""#])]
#[case("1.2.3 - 2", "3.0.0", &[r#""3.0.0" is greater than "2""#])]
#[case("^1.2", "2.0.0", &[r#""2.0.0" does not have same major version as "1.2""#])]
#[case("^1.2.7", "1.2.6", &[r#""1.2.6" is less than "1.2.7""#])]
#[case("~1.2", "2.0.0", &[r#""2.0.0" does not have same major version as "1.2""#])]
#[case("~1.2.3", "1.3.0", &[r#""1.3.0" does not have same major and minor version as "1.2.3""#])]
#[case("^0.2", "0.3.1", &[r#""0.3.1" does not have same minor version as "0.2". Expected minor versions to match when constraint major version is 0"#])]
#[case("^0.0.3", "0.1.0", &[r#""0.1.0" does not have same minor version as "0.0.3""#])]
#[case("^0.0.3", "0.0.4", &[r#""0.0.4" does not equal "0.0.3". Expect version and constraint to equal when major and minor versions are 0"#])]
#[case("^0.2", "1.0.0", &[r#""1.0.0" does not have same major version as "0.2""#])]
#[case(">=2, <1 || ~3", "1.5.0", &[r#""1.5.0" is less than "2""#, r#""1.5.0" is greater than or equal to "1""#, r#""1.5.0" is less than "3""#])]
#[case("!= 1.2.5, ^2, <= 1.1.x", "1.2.3", &[r#""1.2.3" is less than "2""#, r#""1.2.3" is greater than "1.1.x""#])]
fn explains_failures(#[case] constraint: &str, #[case] version: &str, #[case] expected: &[&str]) {
    let constraints = Constraints::parse(constraint).expect("the constraint in the table is valid");
    let version = Version::parse(version).expect("the version in the table is valid");
    assert_eq!(
        constraints.validate(&version),
        (false, expected.iter().map(ToString::to_string).collect())
    );
}

#[test]
fn switched_on_prereleases_are_judged_on_their_version() {
    let constraints = Constraints::parse("> 1.2.3")
        .expect("valid constraint")
        .with_prereleases(true);
    let version = Version::parse("1.2.3-beta.1").expect("valid version");
    let (valid, reasons) = constraints.validate(&version);
    assert!(!valid);
    assert_eq!(
        reasons,
        [r#""1.2.3-beta.1" is less than or equal to "1.2.3""#]
    );
}
