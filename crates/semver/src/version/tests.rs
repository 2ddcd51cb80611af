//! Behaviour tables for versions, re-expressed from Masterminds semver v3 (each case was
//! cross-checked against the Go library).

use std::cmp::Ordering;
use std::collections::HashSet;

use super::Version;
use crate::{NumberProblem, VersionError};
use rstest::rstest;

#[rstest]
#[case("1.2.3", "1.2.3")]
#[case("v1.2.3", "1.2.3")]
#[case("1", "1.0.0")]
#[case("v1", "1.0.0")]
#[case("1.2", "1.2.0")]
#[case("v1.0", "1.0.0")]
#[case("1.2-5", "1.2.0-5")]
#[case("v1.2-beta.5", "1.2.0-beta.5")]
#[case("01.02.03", "1.2.3")]
#[case("000001", "1.0.0")]
#[case("1.2.3-0abc", "1.2.3-0abc")]
#[case("1.2.3-alpha.-1", "1.2.3-alpha.-1")]
#[case("1.2.3+test.01", "1.2.3+test.01")]
#[case("1.2.3-rc1-with-hyphen+meta-x", "1.2.3-rc1-with-hyphen+meta-x")]
#[case("1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata")]
#[case(
    "20221209-update-renovatejson-v4",
    "20221209.0.0-update-renovatejson-v4"
)]
#[case("18446744073709551615.0.0", "18446744073709551615.0.0")]
#[case("2147483648.3.0", "2147483648.3.0")]
#[case("1.0.0-99999999999999999999", "1.0.0-99999999999999999999")]
fn parses_leniently(#[case] input: &str, #[case] canonical: &str) {
    let version = Version::parse(input).expect("the version in the table is valid");
    assert_eq!(version.to_canonical(), canonical);
    assert_eq!(version.original(), input);
    assert_eq!(version.to_string(), input);
}

#[rstest]
#[case("", VersionError::InvalidSemVer)]
#[case("foo", VersionError::InvalidSemVer)]
#[case("V1.2.3", VersionError::InvalidSemVer)]
#[case("vv1.2.3", VersionError::InvalidSemVer)]
#[case(" 1.2.3", VersionError::InvalidSemVer)]
#[case("1.2.3\n", VersionError::InvalidSemVer)]
#[case("1.2.3.4", VersionError::InvalidSemVer)]
#[case("1.2.beta", VersionError::InvalidSemVer)]
#[case("1.2.x", VersionError::InvalidSemVer)]
#[case("1.2.3-", VersionError::InvalidSemVer)]
#[case("1.2.3+", VersionError::InvalidSemVer)]
#[case("1.0.0-alpha..1", VersionError::InvalidSemVer)]
#[case("1.0.0-alpha_beta", VersionError::InvalidSemVer)]
#[case("9.8.7+meta+meta", VersionError::InvalidSemVer)]
#[case("1.1.2+.123", VersionError::InvalidSemVer)]
#[case("1.2.3-01", VersionError::SegmentStartsZero)]
#[case("1.2.3-beta.01", VersionError::SegmentStartsZero)]
#[case(
    "1.2.31----RC-SNAPSHOT.12.09.1--.12+788",
    VersionError::SegmentStartsZero
)]
#[case("18446744073709551616.0.0", VersionError::SegmentOutOfRange("18446744073709551616".into()))]
#[case("1.99999999999999999999", VersionError::SegmentOutOfRange("99999999999999999999".into()))]
fn rejects_leniently(#[case] input: &str, #[case] error: VersionError) {
    assert_eq!(Version::parse(input).unwrap_err(), error);
}

#[rstest]
#[case("1.2.3")]
#[case("0.0.0")]
#[case("1.2.3-alpha.-1")]
#[case("1.2.3+test.01")]
#[case("1.2.3-0abc123")]
#[case("1.2.0-x.Y.0+metadata-with-hyphen")]
#[case("1.2.3-rc1-with-hyphen")]
#[case("18446744073709551615.1.2")]
fn parses_strictly(#[case] input: &str) {
    let version = Version::parse_strict(input).expect("the version in the table is strict semver");
    assert_eq!(version.to_canonical(), input);
}

#[rstest]
#[case("", VersionError::Empty)]
#[case("1", VersionError::InvalidSemVer)]
#[case("1.2", VersionError::InvalidSemVer)]
#[case("1.2-5", VersionError::InvalidSemVer)]
#[case("v1.2.3", VersionError::InvalidCharacters)]
#[case("1.2.3.4", VersionError::InvalidCharacters)]
#[case("1.2-beta.5", VersionError::InvalidCharacters)]
#[case("1.2.x", VersionError::InvalidCharacters)]
#[case("\n1.2.3", VersionError::InvalidCharacters)]
#[case("01.1.1", VersionError::SegmentStartsZero)]
#[case("1.01.1", VersionError::SegmentStartsZero)]
#[case("1.1.01", VersionError::SegmentStartsZero)]
#[case("1.2.3-beta.01", VersionError::SegmentStartsZero)]
#[case("1.2.3-", VersionError::InvalidPrerelease)]
#[case("1.2.3-alpha..1", VersionError::InvalidPrerelease)]
#[case("1.2.3-alpha_beta", VersionError::InvalidPrerelease)]
#[case("01.2.3-a_b", VersionError::InvalidPrerelease)]
#[case("1.2.3+", VersionError::InvalidMetadata)]
#[case("1.1.2+.123", VersionError::InvalidMetadata)]
#[case("9.8.7+meta+meta", VersionError::InvalidMetadata)]
#[case("1.2.3-a_b+x_y", VersionError::InvalidMetadata)]
#[case("1..3", VersionError::StrictSegment { segment: String::new(), problem: NumberProblem::Syntax })]
#[case("18446744073709551616.0.0", VersionError::StrictSegment { segment: "18446744073709551616".into(), problem: NumberProblem::OutOfRange })]
fn rejects_strictly(#[case] input: &str, #[case] error: VersionError) {
    assert_eq!(Version::parse_strict(input).unwrap_err(), error);
}

#[rstest]
#[case(VersionError::InvalidSemVer, "invalid semantic version")]
#[case(VersionError::Empty, "version string empty")]
#[case(VersionError::InvalidCharacters, "invalid characters in version")]
#[case(VersionError::SegmentStartsZero, "version segment starts with 0")]
#[case(VersionError::InvalidMetadata, "invalid metadata string")]
#[case(VersionError::InvalidPrerelease, "invalid prerelease string")]
#[case(
    VersionError::SegmentOutOfRange("18446744073709551616".into()),
    r#"error parsing version segment: strconv.ParseUint: parsing "18446744073709551616": value out of range"#
)]
#[case(
    VersionError::StrictSegment { segment: String::new(), problem: NumberProblem::Syntax },
    r#"strconv.ParseUint: parsing "": invalid syntax"#
)]
fn error_messages_match_masterminds(#[case] error: VersionError, #[case] message: &str) {
    assert_eq!(error.to_string(), message);
}

/// Flux's tag rule: strict semver, one optional leading `v`, which `original` keeps.
#[rstest]
#[case("v1.2.3", Some("1.2.3"))]
#[case("1.2.3-rc.1+b", Some("1.2.3-rc.1+b"))]
#[case("v0.0.0", Some("0.0.0"))]
#[case("vv1.2.3", None)]
#[case("V1.2.3", None)]
#[case("v1.2", None)]
#[case("v01.2.3", None)]
#[case("release-1.2.3", None)]
fn parses_tags_like_flux(#[case] input: &str, #[case] canonical: Option<&str>) {
    let parsed = Version::parse_tag(input).ok();
    assert_eq!(
        parsed.as_ref().map(Version::to_canonical).as_deref(),
        canonical
    );
    if let Some(version) = parsed {
        assert_eq!(version.original(), input);
    }
}

#[rstest]
#[case("1.2.3", "1.5.1", Ordering::Less)]
#[case("2.2.3", "1.5.1", Ordering::Greater)]
#[case("1.3", "1.1.4", Ordering::Greater)]
#[case("1.10.0", "1.9.0", Ordering::Greater)]
#[case("4.2", "4.2-beta", Ordering::Greater)]
#[case("4.2-alpha", "4.2-beta", Ordering::Less)]
#[case("3.2-beta", "3.2-beta", Ordering::Equal)]
#[case("4.2-beta.2", "4.2-beta.1", Ordering::Greater)]
#[case("4.2-beta.10", "4.2-beta.9", Ordering::Greater)]
#[case("4.2-beta2", "4.2-beta10", Ordering::Greater)]
#[case("4.2-beta", "4.2-beta.2", Ordering::Less)]
#[case("4.2-beta.foo", "4.2-beta", Ordering::Greater)]
#[case("1.0.0-1", "1.0.0-alpha", Ordering::Less)]
#[case("1.0.0-Z", "1.0.0-a", Ordering::Less)]
#[case("1.2+bar", "1.2+baz", Ordering::Equal)]
#[case("v1.2.3", "1.2.3", Ordering::Equal)]
#[case("1.0.0-beta.4", "1.0.0-beta.-2", Ordering::Less)]
#[case("1.0.0-beta.-2", "1.0.0-beta.-3", Ordering::Less)]
#[case("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.103", Ordering::Less)]
#[case("7.43.0-SNAPSHOT.FOO", "7.43.0-SNAPSHOT.103", Ordering::Greater)]
#[case("1.0.0-99999999999999999999", "1.0.0-5", Ordering::Greater)]
#[case("1.0.0-99999999999999999999", "1.0.0-a", Ordering::Less)]
fn orders_by_precedence(#[case] left: &str, #[case] right: &str, #[case] expected: Ordering) {
    let left = Version::parse(left).expect("valid version");
    let right = Version::parse(right).expect("valid version");
    assert_eq!(left.cmp(&right), expected);
    assert_eq!(right.cmp(&left), expected.reverse());
}

#[test]
fn exposes_parts() {
    let version = Version::parse("v1.2.3-beta.1+build.123").expect("valid version");
    assert_eq!(
        (version.major(), version.minor(), version.patch()),
        (1, 2, 3)
    );
    assert_eq!(version.prerelease(), "beta.1");
    assert_eq!(version.metadata(), "build.123");
    assert!(version.is_prerelease());
    assert_eq!(version.to_string(), "v1.2.3-beta.1+build.123");
    assert_eq!(version.to_canonical(), "1.2.3-beta.1+build.123");
}

#[test]
fn equality_and_hash_ignore_metadata_and_prefix() {
    let versions: HashSet<Version> = ["1.0.0+a", "v1.0.0+b", "1.0", "1.0.0-rc.1"]
        .into_iter()
        .map(|text| text.parse().expect("valid version"))
        .collect();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        Version::new(1, 2, 3),
        Version::parse("v1.2.3+x").expect("valid version")
    );
    assert_eq!(Version::new(1, 2, 3).original(), "1.2.3");
}
