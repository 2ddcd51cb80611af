//! Properties over generated input: parsing never panics, and simple bounds agree with the
//! ordering of versions.

use ferroflux_semver::{Constraints, Version, latest_matching};
use proptest::prelude::*;

/// Text made of the characters the parsers care about, so that generated strings reach deep
/// into the grammar instead of failing on the first byte.
fn grammar_text() -> impl Strategy<Value = String> {
    "[0-9vxX*|=<>!~^,. +\t-]{0,24}|[0-9a-zA-Z.+-]{0,16}"
}

fn release() -> impl Strategy<Value = Version> {
    (0_u64..4, 0_u64..4, 0_u64..4)
        .prop_map(|(major, minor, patch)| Version::new(major, minor, patch))
}

fn any_version() -> impl Strategy<Value = Version> {
    let prerelease = prop_oneof![
        Just(""),
        Just("-0"),
        Just("-alpha"),
        Just("-alpha.1"),
        Just("-beta"),
        Just("-rc.2")
    ];
    (release(), prerelease).prop_map(|(version, prerelease)| {
        Version::parse(&format!("{}{prerelease}", version.to_canonical()))
            .expect("generated versions are valid")
    })
}

proptest! {
    #[test]
    fn parsing_arbitrary_text_never_panics(text in any::<String>()) {
        let _ = Version::parse(&text);
        let _ = Version::parse_strict(&text);
        let _ = Version::parse_tag(&text);
        let _ = Constraints::parse(&text);
    }

    #[test]
    fn parsing_grammar_text_never_panics(text in grammar_text(), version in any_version()) {
        let _ = Version::parse(&text);
        if let Ok(constraints) = Constraints::parse(&text) {
            let _ = constraints.check(&version);
            let _ = constraints.validate(&version);
            // The normal form parses back to itself.
            let printed = constraints.to_string();
            let reparsed = Constraints::parse(&printed).expect("the normal form parses");
            prop_assert_eq!(reparsed.to_string(), printed);
        }
    }

    #[test]
    fn bounds_agree_with_ordering(version in release(), bound in release()) {
        let at_least = Constraints::parse(&format!(">={}", bound.to_canonical())).expect("valid");
        let below = Constraints::parse(&format!("<{}", bound.to_canonical())).expect("valid");
        prop_assert_eq!(at_least.check(&version), version >= bound);
        prop_assert_eq!(below.check(&version), version < bound);
        let range = Constraints::parse(&format!(">={0}, <{0}", bound.to_canonical())).expect("valid");
        prop_assert!(!range.check(&version));
    }

    #[test]
    fn prerelease_bounds_agree_with_ordering(version in any_version(), low in any_version(), high in any_version()) {
        // A prerelease in the lower bound opens the group to prereleases, so the answer is the
        // plain ordering for every version.
        if low.is_prerelease() {
            return Ok(());
        }
        let text = format!(">={}-0, <{}", low.to_canonical(), high.to_canonical());
        let constraints = Constraints::parse(&text).expect("valid");
        let low_open = Version::parse(&format!("{}-0", low.to_canonical())).expect("valid");
        prop_assert_eq!(constraints.check(&version), version >= low_open && version < high);
        let (valid, reasons) = constraints.validate(&version);
        prop_assert_eq!(valid, constraints.check(&version));
        prop_assert_eq!(reasons.is_empty(), valid);
    }

    #[test]
    fn without_a_prerelease_term_prereleases_never_match(version in any_version(), bound in release()) {
        let constraints = Constraints::parse(&format!(">={}", bound.to_canonical())).expect("valid");
        if version.is_prerelease() {
            prop_assert!(!constraints.check(&version));
        }
    }

    #[test]
    fn canonical_form_round_trips(version in any_version()) {
        let reparsed = Version::parse_strict(&version.to_canonical()).expect("canonical is strict");
        prop_assert_eq!(&reparsed, &version);
        prop_assert_eq!(reparsed.to_canonical(), version.to_canonical());
    }

    #[test]
    fn latest_matching_is_the_maximum(versions in proptest::collection::vec(any_version(), 0..8), bound in release()) {
        let texts: Vec<String> = versions.iter().map(Version::to_canonical).collect();
        let constraints = Constraints::parse(&format!(">={}-0", bound.to_canonical())).expect("valid");
        let expected = versions.iter().filter(|version| constraints.check(version)).max();
        let picked = latest_matching(&constraints, texts.iter().map(String::as_str));
        prop_assert_eq!(picked.map(|(version, _)| version), expected.cloned());
    }
}
