//! Garbage collection of an object's old artifacts (Flux §3.4).
//!
//! Candidates are the files in the object's directory other than the current artifact, lock
//! files and symlinks. Candidates older than the TTL are garbage; then, if more than
//! `keep_records` artifact files (the current one included) remain, the oldest candidates go
//! too. Lock files of removed artifacts are removed with them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::storage::{Storage, StorageError};

/// How many files the collector looks at before it stops walking (Flux's `GarbageCountLimit`).
pub const GARBAGE_COUNT_LIMIT: usize = 1000;

struct Candidate {
    path: PathBuf,
    modified: SystemTime,
}

impl Storage {
    /// Removes the garbage in an object's artifact directory and returns what was removed.
    /// `current_file` is the file name of the artifact in use, which is never removed.
    pub fn gc(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        current_file: &str,
        ttl: Duration,
        keep_records: usize,
    ) -> Result<Vec<PathBuf>, StorageError> {
        let dir = self.object_dir(kind, namespace, name)?;
        let current = dir.join(current_file);
        let garbage = garbage_files(&dir, &current, ttl, keep_records, SystemTime::now())?;
        let mut removed = Vec::with_capacity(garbage.len());
        for path in garbage {
            fs::remove_file(&path).map_err(StorageError::io("removing", &path))?;
            let mut lock = path.as_os_str().to_owned();
            lock.push(".lock");
            match fs::remove_file(&lock) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(StorageError::io("removing", PathBuf::from(lock))(e));
                }
                _ => {}
            }
            removed.push(path);
        }
        Ok(removed)
    }
}

/// Decides which files of `dir` are garbage at `now`; pure apart from reading the directory.
fn garbage_files(
    dir: &Path,
    current: &Path,
    ttl: Duration,
    keep_records: usize,
    now: SystemTime,
) -> Result<Vec<PathBuf>, StorageError> {
    let (mut candidates, artifact_count) = collect(dir, current)?;
    // Oldest first; the path breaks ties so the order does not depend on the directory.
    candidates.sort_by(|a, b| {
        a.modified
            .cmp(&b.modified)
            .then_with(|| a.path.cmp(&b.path))
    });
    let expired = |c: &Candidate| now.duration_since(c.modified).is_ok_and(|age| age > ttl);
    let (mut garbage, young): (Vec<Candidate>, Vec<Candidate>) =
        candidates.into_iter().partition(expired);
    let mut remaining = artifact_count - garbage.len();
    for candidate in young {
        if remaining <= keep_records {
            break;
        }
        garbage.push(candidate);
        remaining -= 1;
    }
    Ok(garbage.into_iter().map(|c| c.path).collect())
}

/// Lists removal candidates under `dir` (recursively, at most [`GARBAGE_COUNT_LIMIT`] artifact
/// files) and counts the artifact files seen, the current one included.
fn collect(dir: &Path, current: &Path) -> Result<(Vec<Candidate>, usize), StorageError> {
    let mut candidates = Vec::new();
    let mut count = 0_usize;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StorageError::io("reading directory", dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(StorageError::io("reading directory", &dir))?;
            let path = entry.path();
            let metadata = entry.metadata().map_err(StorageError::io("stat", &path))?;
            if metadata.is_dir() {
                pending.push(path);
                continue;
            }
            if metadata.file_type().is_symlink() || path.extension().is_some_and(|e| e == "lock") {
                continue;
            }
            if count >= GARBAGE_COUNT_LIMIT {
                // Like Flux, stop looking rather than fail: the next run continues the work.
                return Ok((candidates, count));
            }
            count += 1;
            if path != current {
                let modified = metadata
                    .modified()
                    .map_err(StorageError::io("stat", &path))?;
                candidates.push(Candidate { path, modified });
            }
        }
    }
    Ok((candidates, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::fs::File;

    const MINUTE: Duration = Duration::from_secs(60);

    /// Creates `<dir>/<name>` (and its lock) last modified `age` ago.
    fn artifact(dir: &Path, name: &str, age: Duration) {
        let path = dir.join(name);
        fs::write(&path, name).expect("can write");
        fs::write(dir.join(format!("{name}.lock")), "").expect("can write");
        let modified = SystemTime::now() - age;
        File::options()
            .write(true)
            .open(&path)
            .expect("open")
            .set_modified(modified)
            .expect("touch");
    }

    fn names(paths: &[PathBuf]) -> Vec<String> {
        let mut names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().expect("file").to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[rstest]
    // TTL alone: everything older than a minute except the current artifact.
    #[case(&[("cur", 10), ("a", 5), ("b", 1)], "cur", 60, 10, &["a", "b"])]
    #[case(&[("cur", 0), ("a", 0), ("b", 0)], "cur", 60, 10, &[])]
    // Records: keep the two newest (current included).
    #[case(&[("cur", 0), ("a", 0), ("b", 0), ("c", 0)], "cur", 60, 2, &["a", "b"])]
    // Expired ones count towards the records already removed.
    #[case(&[("cur", 0), ("a", 0), ("b", 9), ("c", 0)], "cur", 60, 2, &["a", "b"])]
    #[case(&[("cur", 0), ("a", 0), ("b", 9), ("c", 9)], "cur", 60, 3, &["b", "c"])]
    // The current artifact survives even when it is the oldest.
    #[case(&[("cur", 9), ("a", 0)], "cur", 60, 1, &["a"])]
    fn collects_like_flux(
        #[case] files: &[(&str, u64)],
        #[case] current: &str,
        #[case] ttl_secs: u64,
        #[case] keep: usize,
        #[case] expected: &[&str],
    ) {
        let root = tempfile::tempdir().expect("temp dir");
        let storage = Storage::new(root.path().to_path_buf(), "h".into());
        let dir = storage
            .object_dir("GitRepository", "ns", "n")
            .expect("valid");
        fs::create_dir_all(&dir).expect("can create");
        // Ages are in minutes; ties are broken by giving later-listed files an extra second
        // of youth so "newest" is well defined.
        for (index, (name, minutes)) in files.iter().enumerate() {
            let age = MINUTE * u32::try_from(*minutes).expect("small")
                + Duration::from_secs(30 - index as u64);
            artifact(&dir, name, age);
        }
        std::os::unix::fs::symlink("cur", dir.join("latest.tar.gz")).expect("can symlink");
        let ttl = Duration::from_secs(ttl_secs);
        let removed = storage
            .gc("GitRepository", "ns", "n", current, ttl, keep)
            .expect("gc succeeds");
        assert_eq!(names(&removed), expected);
        for name in expected {
            assert!(
                !dir.join(format!("{name}.lock")).exists(),
                "lock of {name} removed"
            );
        }
        assert!(dir.join(current).exists());
        assert!(
            dir.join("latest.tar.gz").symlink_metadata().is_ok(),
            "symlinks are kept"
        );
    }

    #[test]
    fn missing_directory_is_empty() {
        let root = tempfile::tempdir().expect("temp dir");
        let storage = Storage::new(root.path().to_path_buf(), "h".into());
        let removed = storage
            .gc("Bucket", "ns", "gone", "x", MINUTE, 2)
            .expect("gc succeeds");
        assert!(removed.is_empty());
    }

    #[test]
    fn walk_stops_at_the_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        for index in 0..GARBAGE_COUNT_LIMIT + 5 {
            fs::write(dir.path().join(format!("f{index}")), "").expect("can write");
        }
        let (candidates, count) =
            collect(dir.path(), &dir.path().join("none")).expect("walk succeeds");
        assert_eq!(
            (candidates.len(), count),
            (GARBAGE_COUNT_LIMIT, GARBAGE_COUNT_LIMIT)
        );
    }
}
