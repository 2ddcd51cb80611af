//! [`Version`]: parsing (lenient, strict, and Flux's tag rule) and semver precedence.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::error::{NumberProblem, VersionError};
use crate::scan::{self, Shape};

/// A semantic version, as Masterminds semver v3 reads it.
///
/// Ordering follows semver 2.0 precedence: major, minor and patch numerically, a prerelease
/// sorts before its release, prerelease identifiers compare numerically when both are numbers,
/// numbers sort before words, and build metadata is ignored. Equality and hashing agree with
/// that ordering, so `1.0.0+a == 1.0.0+b`; [`Version::metadata`] and [`Version::original`]
/// still keep what was written.
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    prerelease: String,
    metadata: String,
    original: String,
}

impl Version {
    /// A release version `major.minor.patch` without prerelease or metadata.
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self {
            major,
            minor,
            patch,
            prerelease: String::new(),
            metadata: String::new(),
            original: format!("{major}.{minor}.{patch}"),
        }
    }

    /// Parses leniently, like Masterminds' `NewVersion`: an optional lowercase `v`, missing
    /// minor or patch read as 0 (`1.2` is `1.2.0`), leading zeros in the three numbers
    /// accepted (`01.02.03` is `1.2.3`), then an optional `-prerelease` and `+metadata`.
    /// Numeric prerelease identifiers must not have leading zeros.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let shape = scan::version_shape(text.as_bytes(), 0, scan::is_digit)
            .filter(|shape| shape.end == text.len())
            .ok_or(VersionError::InvalidSemVer)?;
        Self::from_shape(text, &shape)
    }

    /// Parses strictly, like Masterminds' `StrictNewVersion`: exactly `major.minor.patch`, no
    /// `v` prefix, no leading zeros, then an optional `-prerelease` and `+metadata`.
    pub fn parse_strict(text: &str) -> Result<Self, VersionError> {
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        let mut parts = text.splitn(3, '.');
        let (Some(major), Some(minor), Some(mut patch)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(VersionError::InvalidSemVer);
        };
        let mut metadata = "";
        if let Some((rest, found)) = patch.split_once('+') {
            validate_metadata(found)?;
            metadata = found;
            patch = rest;
        }
        let mut prerelease = "";
        if let Some((rest, found)) = patch.split_once('-') {
            validate_prerelease(found)?;
            prerelease = found;
            patch = rest;
        }
        for segment in [major, minor, patch] {
            if !segment.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(VersionError::InvalidCharacters);
            }
            if segment.len() > 1 && segment.starts_with('0') {
                return Err(VersionError::SegmentStartsZero);
            }
        }
        let number = |segment: &str| {
            parse_number(segment).map_err(|problem| VersionError::StrictSegment {
                segment: segment.to_owned(),
                problem,
            })
        };
        Ok(Self {
            major: number(major)?,
            minor: number(minor)?,
            patch: number(patch)?,
            prerelease: prerelease.to_owned(),
            metadata: metadata.to_owned(),
            original: text.to_owned(),
        })
    }

    /// Parses a Git tag or chart version the way Flux does (`fluxcd/pkg/version.ParseVersion`):
    /// strict semver, except that one leading `v` is allowed and kept in [`Version::original`].
    pub fn parse_tag(text: &str) -> Result<Self, VersionError> {
        let mut version = Self::parse_strict(text.strip_prefix('v').unwrap_or(text))?;
        text.clone_into(&mut version.original);
        Ok(version)
    }

    fn from_shape(text: &str, shape: &Shape) -> Result<Self, VersionError> {
        let number = |range: Option<std::ops::Range<usize>>| match range {
            None => Ok(0),
            Some(range) => parse_number(&text[range.clone()])
                .map_err(|_| VersionError::SegmentOutOfRange(text[range].to_owned())),
        };
        let prerelease = shape.prerelease.clone().map_or("", |range| &text[range]);
        let metadata = shape.metadata.clone().map_or("", |range| &text[range]);
        let version = Self {
            major: number(Some(shape.major.clone()))?,
            minor: number(shape.minor.clone())?,
            patch: number(shape.patch.clone())?,
            prerelease: prerelease.to_owned(),
            metadata: metadata.to_owned(),
            original: text.to_owned(),
        };
        if !prerelease.is_empty() {
            validate_prerelease(prerelease)?;
        }
        if !metadata.is_empty() {
            validate_metadata(metadata)?;
        }
        Ok(version)
    }

    /// The major number.
    pub fn major(&self) -> u64 {
        self.major
    }

    /// The minor number (0 when the text omitted it).
    pub fn minor(&self) -> u64 {
        self.minor
    }

    /// The patch number (0 when the text omitted it).
    pub fn patch(&self) -> u64 {
        self.patch
    }

    /// The prerelease without its `-`, or `""`.
    pub fn prerelease(&self) -> &str {
        &self.prerelease
    }

    /// The build metadata without its `+`, or `""`.
    pub fn metadata(&self) -> &str {
        &self.metadata
    }

    /// Whether the version has a prerelease part.
    pub fn is_prerelease(&self) -> bool {
        !self.prerelease.is_empty()
    }

    /// The text the version was parsed from, exactly (`v1.2`), like Masterminds' `Original()`.
    /// This is also what [`Display`](fmt::Display) prints.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The normalised form `major.minor.patch[-prerelease][+metadata]` without a `v`, like
    /// Masterminds' `String()`.
    pub fn to_canonical(&self) -> String {
        let mut canonical = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.prerelease.is_empty() {
            canonical.push('-');
            canonical.push_str(&self.prerelease);
        }
        if !self.metadata.is_empty() {
            canonical.push('+');
            canonical.push_str(&self.metadata);
        }
        canonical
    }
}

impl fmt::Display for Version {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.original)
    }
}

impl FromStr for Version {
    type Err = VersionError;

    /// Same as [`Version::parse`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(
                || match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => compare_prerelease(&self.prerelease, &other.prerelease),
                },
            )
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Metadata and the original text do not take part in equality, so not in the hash.
        (self.major, self.minor, self.patch, &self.prerelease).hash(state);
    }
}

/// Compares two prerelease strings identifier by identifier; a missing identifier sorts first.
pub(crate) fn compare_prerelease(left: &str, right: &str) -> Ordering {
    let mut left_parts = left.split('.');
    let mut right_parts = right.split('.');
    loop {
        match (left_parts.next(), right_parts.next()) {
            (None, None) => return Ordering::Equal,
            (left_part, right_part) => {
                let order = compare_identifier(left_part.unwrap_or(""), right_part.unwrap_or(""));
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Numbers compare numerically and sort before words; words compare byte-wise. Identifiers
/// too large for a `u64` count as words, as in Masterminds.
fn compare_identifier(left: &str, right: &str) -> Ordering {
    if left == right {
        return Ordering::Equal;
    }
    if left.is_empty() {
        return Ordering::Less;
    }
    if right.is_empty() {
        return Ordering::Greater;
    }
    match (parse_number(left), parse_number(right)) {
        (Ok(left_number), Ok(right_number)) => left_number.cmp(&right_number),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => left.cmp(right),
    }
}

/// Reads ASCII digits as a `u64`, with Go's `strconv.ParseUint` failure kinds.
fn parse_number(text: &str) -> Result<u64, NumberProblem> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(NumberProblem::Syntax);
    }
    text.bytes().try_fold(0_u64, |number, digit| {
        number
            .checked_mul(10)
            .and_then(|number| number.checked_add(u64::from(digit - b'0')))
            .ok_or(NumberProblem::OutOfRange)
    })
}

fn validate_prerelease(prerelease: &str) -> Result<(), VersionError> {
    for identifier in prerelease.split('.') {
        if identifier.is_empty() {
            return Err(VersionError::InvalidPrerelease);
        }
        if identifier.bytes().all(|byte| byte.is_ascii_digit()) {
            if identifier.len() > 1 && identifier.starts_with('0') {
                return Err(VersionError::SegmentStartsZero);
            }
        } else if !identifier.bytes().all(scan::is_identifier) {
            return Err(VersionError::InvalidPrerelease);
        }
    }
    Ok(())
}

fn validate_metadata(metadata: &str) -> Result<(), VersionError> {
    let valid =
        |identifier: &str| !identifier.is_empty() && identifier.bytes().all(scan::is_identifier);
    if metadata.split('.').all(valid) {
        Ok(())
    } else {
        Err(VersionError::InvalidMetadata)
    }
}

#[cfg(test)]
mod tests;
