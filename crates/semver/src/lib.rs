//! Semantic versions and version constraints with the semantics of Go's
//! `github.com/Masterminds/semver/v3`, which Flux uses for GitRepository `ref.semver`,
//! HelmChart `version` and Helm `kubeVersion`.
//!
//! Pipeline: text → [`Version::parse`] (lenient, like `NewVersion`), [`Version::parse_strict`]
//! (`StrictNewVersion`) or [`Version::parse_tag`] (Flux's tag rule); constraint text →
//! hyphen ranges rewritten → split on `||` → each part split into `operator version` terms →
//! [`Constraints`], which [`Constraints::check`]s or [`Constraints::validate`]s a version.
//! [`latest_matching`] picks the highest satisfying tag or chart version, as Flux does.
//!
//! Where Masterminds has quirks (`^*` rejects 1.x, a `|` inside a version is read as a
//! digit, error texts), this crate keeps them so that Flux manifests resolve the same way.

mod comparator;
mod constraints;
mod error;
mod quote;
mod scan;
mod version;

pub use constraints::Constraints;
pub use error::{ConstraintError, NumberProblem, VersionError};
pub use version::Version;

/// The highest candidate that parses as a version and satisfies `constraints`, with the
/// candidate string it came from.
///
/// Candidates are read like Flux reads Git tags and chart versions
/// ([`Version::parse_tag`]: strict semver with an optional leading `v`); others are skipped.
/// Among candidates of equal precedence (they differ only in build metadata) the later one
/// wins, so passing candidates oldest first reproduces Flux's chronological tie-break.
pub fn latest_matching<'a>(
    constraints: &Constraints,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<(Version, &'a str)> {
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let version = Version::parse_tag(candidate).ok()?;
            constraints.check(&version).then_some((version, candidate))
        })
        .reduce(|best, next| if next.0 >= best.0 { next } else { best })
}

#[cfg(test)]
mod tests {
    use super::{Constraints, latest_matching};
    use rstest::rstest;

    #[rstest]
    #[case("*", &["1.0.0", "v2.1.0", "2.0.0"], Some("v2.1.0"))]
    #[case("~1.2", &["1.2.0", "1.2.9", "1.3.0", "v1.2.10"], Some("v1.2.10"))]
    #[case("^1", &["1.0.0", "2.0.0-rc.1", "1.9.0-rc.1"], Some("1.0.0"))]
    #[case(">=1.0.0-0", &["1.0.0", "2.0.0-rc.1", "1.9.0-rc.1"], Some("2.0.0-rc.1"))]
    #[case(">=1", &["1.2", "v1", "latest", "01.2.3", "vv1.2.3", "1.0.0"], Some("1.0.0"))]
    #[case("<1", &["1.0.0", "2.0.0"], None)]
    #[case("1.x", &["1.0.0+build.1", "1.0.0+build.2"], Some("1.0.0+build.2"))]
    #[case("*", &[], None)]
    fn picks_the_highest_matching_candidate(
        #[case] constraint: &str,
        #[case] candidates: &[&str],
        #[case] expected: Option<&str>,
    ) {
        let constraints = Constraints::parse(constraint).expect("the constraint is valid");
        let picked = latest_matching(&constraints, candidates.iter().copied());
        assert_eq!(picked.map(|(_, text)| text), expected);
    }
}
