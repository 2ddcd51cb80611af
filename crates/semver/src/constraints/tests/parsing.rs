//! Which constraint strings parse, how they print, and the errors for the others.

use super::Constraints;
use crate::ConstraintError;
use rstest::rstest;

/// Display gives Masterminds' normal form, which parses back to itself.
#[rstest]
#[case("*", "*")]
#[case(">= 1.2.3", ">=1.2.3")]
#[case("2.x,   >=1.2.3 || >4.5.6, < 5.7", "2.x >=1.2.3 || >4.5.6 <5.7")]
#[case("=> 1 , =<2", "=>1 =<2")]
#[case("1.2 - 1.4.5", ">=1.2 <=1.4.5")]
#[case("1.2 - 1.4.5 || 3", ">=1.2 <=1.4.5 || 3")]
#[case("~> v1.2", "~>v1.2")]
#[case("  1.2.3+meta  ", "1.2.3+meta")]
#[case(">=1.0.0-0\n<2", ">=1.0.0-0 <2")]
#[case("1.0\n", "1.0")]
#[case("12.3.34 ~1.2.3", "12.3.34 ~1.2.3")]
#[case(
    "v2.3.5-20161202202307-sha.e8fc5e5",
    "v2.3.5-20161202202307-sha.e8fc5e5"
)]
#[case("1 - 2 || 3 - 4", ">=1 <=2 || >=3 <=4")]
fn prints_normal_form(#[case] input: &str, #[case] expected: &str) {
    let constraints = Constraints::parse(input).expect("the constraint in the table is valid");
    assert_eq!(constraints.to_string(), expected);
    let reparsed: Constraints = expected.parse().expect("the normal form parses");
    assert_eq!(reparsed.to_string(), expected);
}

#[rstest]
#[case("", r#"improper constraint: """#)]
#[case("   ", r#"improper constraint: "   ""#)]
#[case("foo", r#"improper constraint: "foo""#)]
#[case(">= bar", r#"improper constraint: ">= bar""#)]
#[case("BAR >= 1.2.3", r#"improper constraint: "BAR >= 1.2.3""#)]
#[case("1.2.3.4", r#"improper constraint: "1.2.3.4""#)]
#[case("1.0 ||", r#"improper constraint: """#)]
#[case(">1 || foo", r#"improper constraint: " foo""#)]
#[case(">=1 <", r#"improper constraint: ">=1 <""#)]
#[case("1,,2", r#"improper constraint: "1,,2""#)]
#[case("1,", r#"improper constraint: "1,""#)]
#[case(">1<2", r#"improper constraint: ">1<2""#)]
#[case("1.2.3 -1.4", r#"improper constraint: "1.2.3 -1.4""#)]
#[case("12.3.34~ 1.2.3", r#"improper constraint: "12.3.34~ 1.2.3""#)]
#[case("=>=1", r#"improper constraint: "=>=1""#)]
#[case("1.2.3-beta..1", r#"improper constraint: "1.2.3-beta..1""#)]
#[case("1.2.3-", r#"improper constraint: "1.2.3-""#)]
#[case("V1.2.3", r#"improper constraint: "V1.2.3""#)]
#[case("1.0\0", r#"improper constraint: "1.0\x00""#)]
#[case("1.0 \"x\"", r#"improper constraint: "1.0 \"x\"""#)]
#[case("v1.2.3-beta.01", "constraint parser error")]
#[case("1x", "constraint parser error")]
#[case("1 | 2", "constraint parser error")]
#[case("99999999999999999999", "constraint parser error")]
#[case("1.2.x3", "constraint parser error")]
fn rejects_malformed_constraints(#[case] input: &str, #[case] message: &str) {
    let error = Constraints::parse(input).expect_err("the constraint in the table is malformed");
    assert_eq!(error.to_string(), message);
}

#[test]
fn distinguishes_error_kinds() {
    assert_eq!(
        Constraints::parse("foo").unwrap_err(),
        ConstraintError::Improper("foo".into())
    );
    assert_eq!(
        Constraints::parse("1.2.3-01").unwrap_err(),
        ConstraintError::Parser
    );
}
