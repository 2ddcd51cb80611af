//! Artifact digests in the OCI `<algorithm>:<hex>` form Flux writes to `status.artifact.digest`,
//! and writers/readers that hash bytes as they stream past.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use sha2::Digest as _;

/// A hash algorithm an artifact digest may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// SHA-256, Flux's canonical algorithm and the default when a digest names none.
    #[default]
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used before the `:` of a digest.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the hex-encoded hash.
    fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }
}

/// Why a digest string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The digest is the empty string.
    #[error("empty digest")]
    Empty,
    /// The algorithm before the `:` is not one we can compute.
    #[error("unsupported digest algorithm '{0}'")]
    UnsupportedAlgorithm(String),
    /// The encoded part is not lowercase hex of the algorithm's length.
    #[error("invalid digest '{0}': encoded part must be lowercase hex of the algorithm's length")]
    InvalidEncoding(String),
}

/// A parsed `<algorithm>:<hex>` digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses a strict `<algorithm>:<hex>` digest.
    pub fn parse(value: &str) -> Result<Self, DigestError> {
        if value.is_empty() {
            return Err(DigestError::Empty);
        }
        let Some((algorithm, hex)) = value.split_once(':') else {
            return Err(DigestError::InvalidEncoding(value.to_owned()));
        };
        let algorithm = match algorithm {
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            other => return Err(DigestError::UnsupportedAlgorithm(other.to_owned())),
        };
        let well_formed = hex.len() == algorithm.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(DigestError::InvalidEncoding(value.to_owned()));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// Parses a digest the way Flux consumers do: a value without an algorithm prefix is a
    /// sha256 hex string (older source-controllers published bare checksums).
    pub fn parse_lenient(value: &str) -> Result<Self, DigestError> {
        if value.is_empty() {
            return Err(DigestError::Empty);
        }
        if value.contains(':') {
            Self::parse(value)
        } else {
            Self::parse(&format!("sha256:{value}"))
        }
    }

    /// The algorithm of this digest.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The lowercase hex encoding of the hash.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

/// An incremental hash for one of the supported algorithms.
#[derive(Clone)]
pub enum Hasher {
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-384 state.
    Sha384(sha2::Sha384),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hash state for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Self::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Self::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds bytes into the hash.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(bytes),
            Self::Sha384(h) => h.update(bytes),
            Self::Sha512(h) => h.update(bytes),
        }
    }

    /// Finishes the hash.
    pub fn finalize(self) -> Digest {
        let (algorithm, hex) = match self {
            Self::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            Self::Sha384(h) => (Algorithm::Sha384, hex::encode(h.finalize())),
            Self::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest { algorithm, hex }
    }
}

/// Computes the digest of everything `reader` yields.
pub fn digest_reader(algorithm: Algorithm, mut reader: impl Read) -> io::Result<Digest> {
    let mut hasher = Hasher::new(algorithm);
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            return Ok(hasher.finalize());
        }
        hasher.update(&buffer[..read]);
    }
}

/// A writer that hashes and counts the bytes it passes on, so an artifact's digest and size
/// come out of the single pass that writes it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Hasher::new(Algorithm::Sha256),
            written: 0,
        }
    }

    /// Returns the inner writer, the digest and the byte count.
    pub(crate) fn finish(self) -> (W, Digest, u64) {
        (self.inner, self.hasher.finalize(), self.written)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(bytes)?;
        // Hash only what the inner writer accepted, or a short write would desync the two.
        self.hasher.update(&bytes[..written]);
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn hashes_like_sha256sum() {
        let digest = digest_reader(Algorithm::Sha256, &b""[..]).expect("reading a slice succeeds");
        assert_eq!(digest.to_string(), format!("sha256:{EMPTY_SHA256}"));
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"abc").expect("writing to a Vec succeeds");
        let (bytes, digest, size) = writer.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(size, 3);
        assert_eq!(
            digest.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[rstest]
    #[case::strict(&format!("sha256:{EMPTY_SHA256}"), Ok(Algorithm::Sha256))]
    #[case::bare_hex(EMPTY_SHA256, Ok(Algorithm::Sha256))]
    #[case::empty("", Err(DigestError::Empty))]
    #[case::md5("md5:abc", Err(DigestError::UnsupportedAlgorithm("md5".into())))]
    #[case::short("sha256:abc", Err(DigestError::InvalidEncoding("sha256:abc".into())))]
    #[case::upper(&format!("sha256:{}", EMPTY_SHA256.to_uppercase()), Err(DigestError::InvalidEncoding(format!("sha256:{}", EMPTY_SHA256.to_uppercase()))))]
    fn lenient_parsing(#[case] input: &str, #[case] expected: Result<Algorithm, DigestError>) {
        assert_eq!(
            Digest::parse_lenient(input).map(|d| d.algorithm()),
            expected
        );
    }

    #[test]
    fn strict_parsing_requires_an_algorithm() {
        assert!(Digest::parse(EMPTY_SHA256).is_err());
        let sha512 = digest_reader(Algorithm::Sha512, &b"x"[..]).expect("reading a slice succeeds");
        assert_eq!(Digest::parse(&sha512.to_string()), Ok(sha512));
    }
}
