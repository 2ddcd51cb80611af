//! Deterministic tar.gz archives of a directory, written straight into storage.
//!
//! The same tree always yields the same bytes (and so the same digest): entries are walked
//! depth-first in byte order of their names within each directory (Go's `filepath.Walk`),
//! headers carry no owner, no timestamps and a mode derived only from the entry type, and
//! the gzip header has mtime 0.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

use crate::digest::HashingWriter;
use crate::record::ArtifactRecord;
use crate::storage::{Storage, StorageError};

/// Mode of regular files inside an archive.
pub const DEFAULT_FILE_MODE: u32 = 0o600;
/// Mode of files that had any execute bit set.
pub const DEFAULT_EXE_FILE_MODE: u32 = 0o700;
/// Mode of directories inside an archive.
pub const DEFAULT_DIR_MODE: u32 = 0o750;

/// Decides which paths are left out of an archive. Paths are relative to the archived
/// directory, with `/` separators.
pub trait ArchiveFilter {
    /// Whether `path` is excluded.
    fn excludes(&self, path: &Path, is_dir: bool) -> bool;

    /// Whether the walk may skip everything below an excluded directory. Flux walks into
    /// excluded directories because a negated pattern may re-include a child; a filter that
    /// knows no child can come back says `true` and saves the walk.
    fn prune_excluded_dirs(&self) -> bool {
        false
    }
}

impl<F: Fn(&Path, bool) -> bool> ArchiveFilter for F {
    fn excludes(&self, path: &Path, is_dir: bool) -> bool {
        self(path, is_dir)
    }
}

/// A filter that keeps everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoFilter;

impl ArchiveFilter for NoFilter {
    fn excludes(&self, _path: &Path, _is_dir: bool) -> bool {
        false
    }
}

impl Storage {
    /// Archives `source_dir` as the artifact's tar.gz, atomically, under the artifact's lock,
    /// setting digest, size and update time on the record. Only regular files and directories
    /// are stored (symlinks and special files are dropped); `filter` excludes paths.
    pub fn archive(
        &self,
        artifact: &mut ArtifactRecord,
        source_dir: &Path,
        filter: &dyn ArchiveFilter,
    ) -> Result<(), StorageError> {
        if !fs::metadata(source_dir).is_ok_and(|m| m.is_dir()) {
            return Err(StorageError::InvalidDir(source_dir.to_path_buf()));
        }
        self.write_atomically(artifact, |file, temp_path| {
            let hashing = HashingWriter::new(BufWriter::with_capacity(128 * 1024, file));
            let gzip = GzBuilder::new()
                .mtime(0)
                .write(hashing, Compression::default());
            let mut builder = tar::Builder::new(gzip);
            write_tree(&mut builder, source_dir, filter)?;
            let finish = |e: io::Error| StorageError::io("writing", temp_path)(e);
            let gzip = builder.into_inner().map_err(finish)?;
            let hashing = gzip.finish().map_err(finish)?;
            let (buffered, digest, size) = hashing.finish();
            buffered.into_inner().map_err(|e| finish(e.into_error()))?;
            Ok((digest, size))
        })
    }
}

/// Walks `root` depth-first in name order and appends every kept entry, starting with the
/// root itself as `.` (as Flux's archives do).
fn write_tree<W: Write>(
    builder: &mut tar::Builder<W>,
    root: &Path,
    filter: &dyn ArchiveFilter,
) -> Result<(), StorageError> {
    append_dir(builder, Path::new("."), root)?;
    // A stack of directories still to list, each followed by its sorted children.
    let mut pending: Vec<PathBuf> = Vec::new();
    push_children(&mut pending, root, Path::new(""))?;
    while let Some(relative) = pending.pop() {
        let absolute = root.join(&relative);
        let metadata =
            fs::symlink_metadata(&absolute).map_err(StorageError::io("stat", &absolute))?;
        let file_type = metadata.file_type();
        if !file_type.is_file() && !file_type.is_dir() {
            continue; // symlinks, sockets, devices: never archived
        }
        let is_dir = file_type.is_dir();
        if filter.excludes(&relative, is_dir) {
            if is_dir && !filter.prune_excluded_dirs() {
                push_children(&mut pending, &absolute, &relative)?;
            }
            continue;
        }
        if is_dir {
            append_dir(builder, &relative, &absolute)?;
            push_children(&mut pending, &absolute, &relative)?;
        } else {
            append_file(builder, &relative, &absolute, &metadata)?;
        }
    }
    Ok(())
}

/// Pushes the children of `dir` so that popping yields them in ascending name order.
fn push_children(
    pending: &mut Vec<PathBuf>,
    dir: &Path,
    relative: &Path,
) -> Result<(), StorageError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(StorageError::io("reading directory", dir))? {
        let entry = entry.map_err(StorageError::io("reading directory", dir))?;
        names.push(entry.file_name());
    }
    names.sort_unstable_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    pending.extend(names.into_iter().rev().map(|name| relative.join(name)));
    Ok(())
}

fn base_header(entry_type: EntryType, mode: u32, size: u64) -> Header {
    let mut header = Header::new_ustar();
    header.set_entry_type(entry_type);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

fn append_dir<W: Write>(
    builder: &mut tar::Builder<W>,
    relative: &Path,
    absolute: &Path,
) -> Result<(), StorageError> {
    let mut header = base_header(EntryType::Directory, DEFAULT_DIR_MODE, 0);
    builder
        .append_data(&mut header, relative, io::empty())
        .map_err(StorageError::io("archiving", absolute))
}

fn append_file<W: Write>(
    builder: &mut tar::Builder<W>,
    relative: &Path,
    absolute: &Path,
    metadata: &fs::Metadata,
) -> Result<(), StorageError> {
    let executable = metadata.permissions().mode() & 0o111 != 0;
    let mode = if executable {
        DEFAULT_EXE_FILE_MODE
    } else {
        DEFAULT_FILE_MODE
    };
    let size = metadata.len();
    let mut header = base_header(EntryType::Regular, mode, size);
    let file = File::open(absolute).map_err(StorageError::io("opening", absolute))?;
    // The header already promised `size` bytes: cap the read there and check we got them
    // all, or a file changing underneath us would corrupt the archive.
    let mut reader = CountingReader {
        inner: file.take(size),
        count: 0,
    };
    builder
        .append_data(&mut header, relative, &mut reader)
        .map_err(StorageError::io("archiving", absolute))?;
    if reader.count != size {
        return Err(StorageError::io("archiving", absolute)(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "file shrank while archiving: read {} of {size} bytes",
                reader.count
            ),
        )));
    }
    Ok(())
}

struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.count += read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;

    fn write(path: &Path, contents: &str, mode: u32) {
        fs::create_dir_all(path.parent().expect("has parent")).expect("can create dirs");
        fs::write(path, contents).expect("can write");
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("can chmod");
    }

    fn sample_tree(root: &Path) {
        write(&root.join("b.yaml"), "b", 0o644);
        write(&root.join("a/z.txt"), "z", 0o640);
        write(&root.join("a.txt"), "a", 0o755);
        write(&root.join(".git/HEAD"), "ref", 0o644);
        fs::create_dir_all(root.join("empty")).expect("can create dir");
        std::os::unix::fs::symlink("b.yaml", root.join("link.yaml")).expect("can symlink");
    }

    fn listing(storage: &Storage, artifact: &ArtifactRecord) -> Vec<(String, u32, EntryType)> {
        let file =
            File::open(storage.local_path(artifact).expect("valid")).expect("archive exists");
        let mut archive = tar::Archive::new(GzDecoder::new(file));
        archive
            .entries()
            .expect("readable")
            .map(|e| {
                let e = e.expect("valid entry");
                let h = e.header();
                assert_eq!(
                    (
                        h.uid().expect("uid"),
                        h.gid().expect("gid"),
                        h.mtime().expect("mtime")
                    ),
                    (0, 0, 0)
                );
                assert_eq!(h.username_bytes(), Some(&b""[..]));
                let path = String::from_utf8(e.path_bytes().into_owned()).expect("utf-8");
                (path, h.mode().expect("mode"), h.entry_type())
            })
            .collect()
    }

    #[test]
    fn archives_deterministically_with_sanitised_headers() {
        let source = tempfile::tempdir().expect("temp dir");
        sample_tree(source.path());
        let store_dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::new(store_dir.path().to_path_buf(), "h".into());
        let mut first = storage.artifact_for("GitRepository", "ns", "n", "r", "one.tar.gz");
        let mut second = storage.artifact_for("GitRepository", "ns", "n", "r", "two.tar.gz");
        storage
            .archive(&mut first, source.path(), &NoFilter)
            .expect("archive succeeds");
        // Touching mtimes and owner-irrelevant bits must not change the bytes.
        let later = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        File::options()
            .write(true)
            .open(source.path().join("b.yaml"))
            .expect("open")
            .set_modified(later)
            .expect("touch");
        storage
            .archive(&mut second, source.path(), &NoFilter)
            .expect("archive succeeds");
        assert_eq!(first.digest, second.digest);
        assert_eq!(first.size, second.size);
        let one = fs::read(storage.local_path(&first).expect("valid")).expect("exists");
        assert_eq!(
            one,
            fs::read(storage.local_path(&second).expect("valid")).expect("exists")
        );
        assert_eq!(
            u64::try_from(first.size.expect("size set")).expect("positive"),
            one.len() as u64
        );
        assert_eq!(&one[4..8], &[0, 0, 0, 0], "gzip mtime is zero");
        storage.verify(&first).expect("digest matches the file");

        let entries = listing(&storage, &first);
        let expected = [
            (".", 0o750, EntryType::Directory),
            (".git", 0o750, EntryType::Directory),
            (".git/HEAD", 0o600, EntryType::Regular),
            ("a", 0o750, EntryType::Directory),
            ("a/z.txt", 0o600, EntryType::Regular),
            ("a.txt", 0o700, EntryType::Regular),
            ("b.yaml", 0o600, EntryType::Regular),
            ("empty", 0o750, EntryType::Directory),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(p, m, t)| ((*p).to_owned(), *m, *t))
            .collect();
        assert_eq!(entries, expected, "sorted per directory, symlink dropped");
    }

    #[test]
    fn filter_excludes_and_walks_into_excluded_dirs() {
        let source = tempfile::tempdir().expect("temp dir");
        sample_tree(source.path());
        let store_dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::new(store_dir.path().to_path_buf(), "h".into());
        let mut artifact = storage.artifact_for("Bucket", "ns", "n", "r", "x.tar.gz");
        // Excluding the directory "a" but not its child: Flux keeps the child.
        let filter = |p: &Path, _dir: bool| p == Path::new("a") || p.starts_with(".git");
        storage
            .archive(&mut artifact, source.path(), &filter)
            .expect("archive succeeds");
        let names: Vec<_> = listing(&storage, &artifact)
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(names, [".", "a/z.txt", "a.txt", "b.yaml", "empty"]);
    }

    #[test]
    fn missing_source_dir_is_an_error() {
        let store_dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::new(store_dir.path().to_path_buf(), "h".into());
        let mut artifact = storage.artifact_for("Bucket", "ns", "n", "r", "x.tar.gz");
        let err = storage
            .archive(&mut artifact, &store_dir.path().join("nope"), &NoFilter)
            .expect_err("missing dir fails");
        assert!(err.to_string().starts_with("invalid dir path"), "{err}");
    }
}
