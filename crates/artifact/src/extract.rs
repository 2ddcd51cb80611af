//! Safe extraction of untrusted tar.gz artifacts.
//!
//! Every entry is validated before anything touches the disk: only relative paths made of
//! normal components, only regular files and directories (links are skipped, devices and
//! FIFOs refused), and limits on total size and entry count. Nothing is written through a
//! symlink, so the result stays inside the destination.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use flate2::read::MultiGzDecoder;
use tar::EntryType;

/// Flux's default cap on the bytes an archive may expand to (`DefaultMaxUntarSize`).
pub const DEFAULT_MAX_TOTAL_SIZE: u64 = 100 << 20;
/// Default cap on the number of entries, far above real repositories but below inode floods.
pub const DEFAULT_MAX_ENTRIES: u64 = 1_000_000;

/// Bounds on what an archive may expand to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Maximum sum of entry sizes in bytes; `None` is unlimited (kustomize-controller).
    pub max_total_size: Option<u64>,
    /// Maximum number of entries of any type; `None` is unlimited.
    pub max_entries: Option<u64>,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        Self {
            max_total_size: Some(DEFAULT_MAX_TOTAL_SIZE),
            max_entries: Some(DEFAULT_MAX_ENTRIES),
        }
    }
}

impl ExtractLimits {
    /// No limits at all.
    pub fn unlimited() -> Self {
        Self {
            max_total_size: None,
            max_entries: None,
        }
    }
}

/// What an extraction produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Regular files written.
    pub files: u64,
    /// Directory entries created.
    pub directories: u64,
    /// Entries skipped (symlinks, hard links, global headers).
    pub skipped: u64,
    /// Bytes of file content written.
    pub bytes: u64,
}

/// Why an archive was refused or could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The data does not start with a gzip header.
    #[error("requires gzip-compressed body: {0}")]
    NotGzip(io::Error),
    /// The tar stream is corrupt or truncated.
    #[error("tar error: {0}")]
    Tar(io::Error),
    /// An entry name is absolute, climbs with `..`, contains a backslash or NUL, or is empty.
    #[error("tar contained invalid name error {name:?}")]
    InvalidPath {
        /// The entry name as stored.
        name: String,
    },
    /// The entries add up to more than the size limit.
    #[error("tar {name:?} is bigger than max archive size of {limit} bytes")]
    TooLarge {
        /// The entry that crossed the limit.
        name: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The archive has more entries than allowed.
    #[error("tar has more than the maximum of {limit} entries")]
    TooManyEntries {
        /// The limit.
        limit: u64,
    },
    /// An entry is a device, FIFO or other type that is never extracted.
    #[error("tar file entry {name} contained unsupported file type {kind:?}")]
    UnsupportedType {
        /// The entry name.
        name: String,
        /// The tar type flag.
        kind: EntryType,
    },
    /// Extraction would write through a symlink or over a non-regular file.
    #[error("refusing to write through existing non-regular path '{0}'")]
    UnsafeDestination(PathBuf),
    /// A file system operation failed.
    #[error("{action} '{path}': {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ExtractError {
    let path = path.to_path_buf();
    move |source| ExtractError::Io {
        action,
        path,
        source,
    }
}

/// Extracts a gzip-compressed tar stream into `dest` (created if missing) within `limits`.
pub fn extract_tar_gz(
    mut reader: impl Read,
    dest: &Path,
    limits: &ExtractLimits,
) -> Result<ExtractSummary, ExtractError> {
    let mut magic = [0_u8; 2];
    reader
        .read_exact(&mut magic)
        .map_err(ExtractError::NotGzip)?;
    if magic != [0x1f, 0x8b] {
        return Err(ExtractError::NotGzip(io::Error::new(
            io::ErrorKind::InvalidData,
            "invalid gzip header",
        )));
    }
    // Go's gzip reader accepts concatenated members, so multi-member streams are accepted too.
    let decoder = MultiGzDecoder::new(io::Cursor::new(magic).chain(reader));
    Extractor::new(dest, *limits)?.run(tar::Archive::new(decoder))
}

struct Extractor {
    dest: PathBuf,
    limits: ExtractLimits,
    started: SystemTime,
    /// Directories known to be real directories inside `dest` (created or checked).
    safe_dirs: HashSet<PathBuf>,
    summary: ExtractSummary,
    buffer: Vec<u8>,
}

impl Extractor {
    fn new(dest: &Path, limits: ExtractLimits) -> Result<Self, ExtractError> {
        match fs::symlink_metadata(dest) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(ExtractError::UnsafeDestination(dest.to_path_buf())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::DirBuilder::new()
                .recursive(true)
                .mode(0o750)
                .create(dest)
                .map_err(io_error("creating directory", dest))?,
            Err(e) => return Err(io_error("stat", dest)(e)),
        }
        Ok(Self {
            dest: dest.to_path_buf(),
            limits,
            started: SystemTime::now(),
            safe_dirs: HashSet::new(),
            summary: ExtractSummary::default(),
            buffer: vec![0; 64 * 1024],
        })
    }

    fn run<R: Read>(
        mut self,
        mut archive: tar::Archive<R>,
    ) -> Result<ExtractSummary, ExtractError> {
        let mut total_size = 0_u64;
        for (index, entry) in archive.entries().map_err(ExtractError::Tar)?.enumerate() {
            let mut entry = entry.map_err(ExtractError::Tar)?;
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let entries_seen = index as u64 + 1;
            if let Some(limit) = self
                .limits
                .max_entries
                .filter(|limit| entries_seen > *limit)
            {
                return Err(ExtractError::TooManyEntries { limit });
            }
            total_size = total_size.saturating_add(entry.size());
            if let Some(limit) = self
                .limits
                .max_total_size
                .filter(|limit| total_size > *limit)
            {
                return Err(ExtractError::TooLarge { name, limit });
            }
            let kind = entry.header().entry_type();
            if kind.is_pax_global_extensions() {
                // `git archive` writes the commit id here; it describes no file.
                self.summary.skipped += 1;
                continue;
            }
            let relative = entry_relative_path(&entry.path_bytes())
                .ok_or_else(|| ExtractError::InvalidPath { name: name.clone() })?;
            match kind {
                EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                    if relative.as_os_str().is_empty() {
                        return Err(ExtractError::InvalidPath { name });
                    }
                    let mode = entry.header().mode().map_err(ExtractError::Tar)?;
                    let mtime = entry.header().mtime().unwrap_or(0);
                    let size = entry.size();
                    self.write_file(&mut entry, &relative, mode, mtime, size)?;
                }
                EntryType::Directory => {
                    let mode = entry.header().mode().map_err(ExtractError::Tar)?;
                    self.make_dir(&relative, mode)?;
                }
                EntryType::Symlink | EntryType::Link => self.summary.skipped += 1,
                kind => return Err(ExtractError::UnsupportedType { name, kind }),
            }
        }
        Ok(self.summary)
    }

    /// Makes sure every directory from `dest` down to `relative` exists as a real directory,
    /// creating missing ones with `mode`, and returns the absolute path.
    fn ensure_dirs(&mut self, relative: &Path, mode: u32) -> Result<PathBuf, ExtractError> {
        let mut current = self.dest.clone();
        for component in relative.components() {
            current.push(component);
            if self.safe_dirs.contains(&current) {
                continue;
            }
            match fs::symlink_metadata(&current) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(ExtractError::UnsafeDestination(current)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => fs::DirBuilder::new()
                    .mode(mode)
                    .create(&current)
                    .map_err(io_error("creating directory", &current))?,
                Err(e) => return Err(io_error("stat", &current)(e)),
            }
            self.safe_dirs.insert(current.clone());
        }
        Ok(current)
    }

    fn make_dir(&mut self, relative: &Path, mode: u32) -> Result<(), ExtractError> {
        // The owner must always be able to enter, list and clean up what was extracted.
        self.ensure_dirs(relative, (mode & 0o777) | 0o700)?;
        self.summary.directories += 1;
        Ok(())
    }

    fn write_file(
        &mut self,
        entry: &mut impl Read,
        relative: &Path,
        mode: u32,
        mtime: u64,
        size: u64,
    ) -> Result<(), ExtractError> {
        let parent = relative.parent().unwrap_or(Path::new(""));
        let target = self
            .ensure_dirs(parent, 0o750)?
            .join(relative.file_name().unwrap_or_default());
        match fs::symlink_metadata(&target) {
            Ok(m) if !m.is_file() => return Err(ExtractError::UnsafeDestination(target)),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("stat", &target)(e)),
        }
        // Keep owner read/write so consumers can read and later delete what they got;
        // never carry setuid/setgid/sticky bits over from the archive.
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode((mode & 0o777) | 0o600)
            .open(&target)
            .map_err(io_error("creating", &target))?;
        let written =
            copy_with(entry, &mut file, &mut self.buffer).map_err(|source| ExtractError::Io {
                action: "writing",
                path: target.clone(),
                source,
            })?;
        if written != size {
            return Err(ExtractError::Tar(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "only wrote {written} bytes to '{}'; expected {size}",
                    target.display()
                ),
            )));
        }
        self.set_mtime(&file, mtime, &target)?;
        self.summary.files += 1;
        self.summary.bytes += written;
        Ok(())
    }

    /// Keeps the archive's mtime but never one in the future (Flux clamps to "now").
    fn set_mtime(&self, file: &File, mtime: u64, path: &Path) -> Result<(), ExtractError> {
        if mtime == 0 {
            return Ok(());
        }
        let stamp = SystemTime::UNIX_EPOCH
            .checked_add(Duration::from_secs(mtime))
            .unwrap_or(self.started)
            .min(self.started);
        file.set_modified(stamp)
            .map_err(io_error("setting mtime of", path))
    }
}

fn copy_with(
    reader: &mut impl Read,
    writer: &mut impl Write,
    buffer: &mut [u8],
) -> io::Result<u64> {
    let mut total = 0_u64;
    loop {
        let read = match reader.read(buffer) {
            Ok(0) => return Ok(total),
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        writer.write_all(&buffer[..read])?;
        total += read as u64;
    }
}

/// Validates an entry name and returns it as a relative path of normal components (empty for
/// the archive root, `.`). `None` means the name must be refused.
pub fn entry_relative_path(name: &[u8]) -> Option<PathBuf> {
    if name.is_empty() || name.starts_with(b"/") || name.contains(&b'\\') || name.contains(&0) {
        return None;
    }
    let mut path = PathBuf::new();
    for component in name.split(|b| *b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => return None,
            normal => path.push(OsStr::from_bytes(normal)),
        }
    }
    Some(path)
}

#[cfg(test)]
#[path = "extract_tests.rs"]
pub(crate) mod tests;
