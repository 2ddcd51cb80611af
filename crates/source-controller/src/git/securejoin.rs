//! Joining an untrusted relative path to a root so that the result stays below the root,
//! as Go's `securejoin.SecureJoin` does for Flux's `include.toPath`: `..` stops at the root,
//! and symlinks met on the way are resolved as if the root were `/`.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// How many symlinks one join may follow (Go's limit).
const MAX_SYMLINKS: usize = 255;

/// Why a path could not be joined.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The path loops through symlinks.
    #[error("too many levels of symbolic links in '{0}'")]
    TooManyLinks(String),
    /// A symlink on the way could not be read.
    #[error("reading symlink '{path}': {source}")]
    ReadLink {
        /// The symlink.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// `root` joined with `unsafe_path`, every `..` and symlink resolved inside `root`.
/// Components that do not exist yet are taken as they are.
pub fn secure_join(root: &Path, unsafe_path: &str) -> Result<PathBuf, JoinError> {
    let mut pending: VecDeque<OsString> = components(Path::new(unsafe_path)).collect();
    let mut resolved: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate = join_all(root, &resolved).join(&part);
        let is_link = std::fs::symlink_metadata(&candidate).is_ok_and(|m| m.is_symlink());
        if !is_link {
            resolved.push(part);
            continue;
        }
        links += 1;
        if links > MAX_SYMLINKS {
            return Err(JoinError::TooManyLinks(unsafe_path.to_owned()));
        }
        let target = std::fs::read_link(&candidate).map_err(|source| JoinError::ReadLink {
            path: candidate.clone(),
            source,
        })?;
        if target.is_absolute() {
            resolved.clear();
        }
        for (index, component) in components(&target).enumerate() {
            pending.insert(index, component);
        }
    }
    Ok(join_all(root, &resolved))
}

/// The normal and `..` components of `path` (root, `.` and prefixes dropped).
fn components(path: &Path) -> impl Iterator<Item = OsString> + '_ {
    path.components().filter_map(|component| match component {
        Component::Normal(part) => Some(part.to_os_string()),
        Component::ParentDir => Some(OsString::from("..")),
        Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
    })
}

fn join_all(root: &Path, parts: &[OsString]) -> PathBuf {
    parts
        .iter()
        .fold(root.to_path_buf(), |path, part| path.join(part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn parent_directories_stop_at_the_root() {
        let root = Path::new("/checkout");
        assert_eq!(
            secure_join(root, "../../etc/x").unwrap(),
            Path::new("/checkout/etc/x")
        );
        assert_eq!(
            secure_join(root, "/a/./b/../c").unwrap(),
            Path::new("/checkout/a/c")
        );
        assert_eq!(secure_join(root, "").unwrap(), root);
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("real")).unwrap();
        symlink("/etc", root.join("absolute")).unwrap();
        symlink("../../../../tmp", root.join("relative")).unwrap();
        symlink("real", root.join("inside")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        assert_eq!(secure_join(root, "absolute/x").unwrap(), root.join("etc/x"));
        assert_eq!(secure_join(root, "relative/x").unwrap(), root.join("tmp/x"));
        assert_eq!(secure_join(root, "inside/x").unwrap(), root.join("real/x"));
        assert!(matches!(
            secure_join(root, "loop/x"),
            Err(JoinError::TooManyLinks(_))
        ));
    }
}
