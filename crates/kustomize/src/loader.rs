//! File access with kustomize's load restrictions.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::error::Chain;
use crate::{Error, LoadRestrictions};

const KUSTOMIZATION_FILE_NAMES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Loads files relative to one kustomization root.
#[derive(Debug, Clone)]
pub struct Loader {
    pub root: PathBuf,
    pub restrictions: LoadRestrictions,
    pub chain: Chain,
    /// This root relative to the top-level kustomization (for origin annotations).
    pub origin_dir: PathBuf,
    /// The file name of this root's kustomization file.
    pub kustomization_name: String,
    /// The root with symlinks resolved, computed on first use.
    real_root: std::sync::OnceLock<PathBuf>,
    /// Real paths of directories, shared by every loader of one build.
    pub real_paths: RealPaths,
}

/// A per-build cache of directories' real paths: a file's real path is its directory's
/// (resolved once) joined with its name, unless the file itself is a symlink. This spares
/// `canonicalize`'s `readlink` of every path component on every file read.
#[derive(Debug, Clone, Default)]
pub struct RealPaths(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<PathBuf, PathBuf>>>);

impl RealPaths {
    /// `std::fs::canonicalize` of a directory, remembered for the rest of the build.
    pub fn directory(&self, dir: &Path) -> std::io::Result<PathBuf> {
        if let Some(real) = self.lock().get(dir) {
            return Ok(real.clone());
        }
        let real = std::fs::canonicalize(dir)?;
        self.lock().insert(dir.to_owned(), real.clone());
        Ok(real)
    }

    /// `std::fs::canonicalize` of any path (same result, same errors).
    pub fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        self.entry(path).map(|(real, _)| real)
    }

    /// The real path of `path` and whether it is a directory (symlinks followed), with one
    /// `lstat` when the directory holding it was seen before.
    pub fn entry(&self, path: &Path) -> std::io::Result<(PathBuf, bool)> {
        let resolve_fully = |path: &Path| {
            let real = std::fs::canonicalize(path)?;
            let is_dir = real.is_dir();
            Ok((real, is_dir))
        };
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return resolve_fully(path);
        };
        if parent.as_os_str().is_empty() {
            return resolve_fully(path);
        }
        let candidate = self.directory(parent)?.join(name);
        let file_type = std::fs::symlink_metadata(&candidate)?.file_type();
        if file_type.is_symlink() {
            resolve_fully(&candidate)
        } else {
            Ok((candidate, file_type.is_dir()))
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<PathBuf, PathBuf>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `path` relative to `base`, lexically (both absolute and clean).
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let path_parts: Vec<Component> = path.components().collect();
    let base_parts: Vec<Component> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(left, right)| left == right)
        .count();
    let mut result = PathBuf::new();
    for _ in common..base_parts.len() {
        result.push("..");
    }
    for part in &path_parts[common..] {
        result.push(part.as_os_str());
    }
    result
}

/// Lexically normalises `a/./b/../c` without touching the file system.
pub fn clean(path: &Path) -> PathBuf {
    let mut result = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !result.pop() {
                    result.push("..");
                }
            }
            Component::CurDir => {}
            other => result.push(other.as_os_str()),
        }
    }
    result
}

/// File contents as text, invalid UTF-8 replaced (kustomize reads files as Go strings).
fn text_of(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    }
}

pub fn is_remote(target: &str) -> bool {
    target.contains("://") || target.starts_with("git@") || target.starts_with("github.com/")
}

impl Loader {
    pub fn new(
        root: PathBuf,
        restrictions: LoadRestrictions,
        chain: Chain,
        real_paths: RealPaths,
    ) -> Self {
        Self {
            root,
            restrictions,
            chain,
            origin_dir: PathBuf::new(),
            kustomization_name: "kustomization.yaml".to_owned(),
            real_root: std::sync::OnceLock::new(),
            real_paths,
        }
    }

    /// The root with symlinks resolved (the root itself when that fails).
    pub fn real_root(&self) -> &Path {
        self.real_root.get_or_init(|| {
            self.real_paths
                .directory(&self.root)
                .unwrap_or_else(|_| self.root.clone())
        })
    }

    pub fn resolve(&self, relative: &str) -> PathBuf {
        clean(&self.root.join(relative))
    }

    /// Reads a file, refusing (under RootOnly) anything whose real path leaves the root.
    pub fn read(&self, relative: &str) -> Result<String, Error> {
        Ok(text_of(self.read_bytes(relative)?))
    }

    /// [`read`](Self::read) without the text conversion (generator files keep their bytes).
    pub fn read_bytes(&self, relative: &str) -> Result<Vec<u8>, Error> {
        let path = self.resolve(relative);
        let real = self
            .real_paths
            .canonicalize(&path)
            .map_err(|source| self.io(&path, source))?;
        self.read_real_bytes(&path, real)
    }

    /// Reads the file at `real` (the real path of `path`), under the load restrictions.
    pub fn read_real(&self, path: &Path, real: PathBuf) -> Result<String, Error> {
        Ok(text_of(self.read_real_bytes(path, real)?))
    }

    fn read_real_bytes(&self, path: &Path, real: PathBuf) -> Result<Vec<u8>, Error> {
        if self.restrictions == LoadRestrictions::RootOnly {
            let root = self.real_root();
            if !real.starts_with(root) {
                return Err(Error::OutsideRoot {
                    path: real,
                    root: root.to_owned(),
                });
            }
        }
        std::fs::read(&real).map_err(|source| self.io(path, source))
    }

    pub fn io(&self, path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_owned(),
            chain: self.chain.clone(),
            source,
        }
    }

    /// Parses YAML text into documents, naming the file on failure.
    pub fn parse(&self, relative: &str, text: &str) -> Result<Vec<Value>, Error> {
        self.parse_as(relative, crate::yaml::parse_documents(text))
    }

    /// Parses a kustomization file, which kustomize reads with YAML 1.1 rules.
    pub fn parse_kustomization(&self, relative: &str, text: &str) -> Result<Vec<Value>, Error> {
        self.parse_as(relative, crate::yaml::parse_documents_yaml11(text))
    }

    fn parse_as(
        &self,
        relative: &str,
        parsed: Result<Vec<Value>, crate::yaml::ParseError>,
    ) -> Result<Vec<Value>, Error> {
        parsed.map_err(|error| Error::Yaml {
            path: self.resolve(relative),
            line: error.line,
            message: error.message,
            chain: self.chain.clone(),
        })
    }

    /// Finds the kustomization file of a directory.
    pub fn kustomization_file(dir: &Path, chain: &Chain) -> Result<PathBuf, Error> {
        let found: Vec<PathBuf> = KUSTOMIZATION_FILE_NAMES
            .iter()
            .map(|name| dir.join(name))
            .filter(|path| path.is_file())
            .collect();
        match found.len() {
            0 => Err(Error::MissingKustomization {
                dir: dir.to_owned(),
                chain: chain.clone(),
            }),
            1 => Ok(found.into_iter().next().unwrap_or_default()),
            _ => Err(Error::MultipleKustomizations {
                dir: dir.to_owned(),
                chain: chain.clone(),
            }),
        }
    }
}
