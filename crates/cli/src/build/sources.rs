//! Where the Flux sources of an offline build live on disk: the local repository for the
//! GitRepository that syncs it, directories named with `--source`, and the artifacts an
//! ArtifactGenerator would make, staged with its copy rules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::Value;

/// `Kind/namespace/name` of a source.
pub type SourceKey = (String, String, String);

/// Parses `Kind/namespace/name=DIR`.
pub fn parse_override(text: &str) -> anyhow::Result<(SourceKey, PathBuf)> {
    let (reference, dir) = text
        .split_once('=')
        .with_context(|| format!("--source '{text}': expected Kind/namespace/name=DIR"))?;
    let parts: Vec<&str> = reference.split('/').collect();
    let [kind, namespace, name] = parts.as_slice() else {
        bail!("--source '{text}': expected Kind/namespace/name=DIR");
    };
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        bail!("--source '{text}': {} is not a directory", dir.display());
    }
    Ok((
        (
            (*kind).to_owned(),
            (*namespace).to_owned(),
            (*name).to_owned(),
        ),
        dir,
    ))
}

/// What a source reference resolves to.
pub enum Resolved {
    /// Its files are in this directory.
    Dir(PathBuf),
    /// It is made by an ArtifactGenerator not seen yet: try again later.
    Pending,
    /// It cannot be read offline; the reason.
    Unavailable(String),
}

/// The sources of one build.
pub struct Sources {
    /// The local repository.
    pub root: PathBuf,
    /// The source that syncs the local repository (`GitRepository/flux-system/flux-system`
    /// unless the build says otherwise).
    pub local: SourceKey,
    /// Directories given with `--source`.
    pub overrides: BTreeMap<SourceKey, PathBuf>,
    /// The ArtifactGenerators seen so far.
    pub generators: Vec<Value>,
    /// Staged ExternalArtifacts, by namespace and name.
    staged: BTreeMap<(String, String), PathBuf>,
    /// Where artifacts are staged.
    work: PathBuf,
}

impl Sources {
    /// Sources with `root` as the local repository; artifacts are staged under `work`.
    pub fn new(root: PathBuf, overrides: BTreeMap<SourceKey, PathBuf>, work: PathBuf) -> Self {
        Self {
            root,
            local: (
                "GitRepository".to_owned(),
                "flux-system".to_owned(),
                "flux-system".to_owned(),
            ),
            overrides,
            generators: Vec::new(),
            staged: BTreeMap::new(),
            work,
        }
    }

    /// The directory of the source `kind` `namespace/name`.
    pub fn resolve(&mut self, kind: &str, namespace: &str, name: &str) -> anyhow::Result<Resolved> {
        let key = (kind.to_owned(), namespace.to_owned(), name.to_owned());
        if let Some(dir) = self.overrides.get(&key) {
            return Ok(Resolved::Dir(dir.clone()));
        }
        if key == self.local {
            return Ok(Resolved::Dir(self.root.clone()));
        }
        if kind != "ExternalArtifact" {
            return Ok(Resolved::Unavailable(format!(
                "{kind}/{namespace}/{name} is not the local repository; pass --source {kind}/{namespace}/{name}=DIR"
            )));
        }
        if let Some(dir) = self.staged.get(&(namespace.to_owned(), name.to_owned())) {
            return Ok(Resolved::Dir(dir.clone()));
        }
        let Some((generator, artifact)) = self.generator_of(namespace, name) else {
            return Ok(Resolved::Pending);
        };
        let dir = self.work.join("artifacts").join(namespace).join(name);
        std::fs::create_dir_all(&dir)?;
        let generator_namespace = text(&generator, "/metadata/namespace").unwrap_or("default");
        for copy in artifact
            .get("copy")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match self.copy(&generator, generator_namespace, copy, &dir)? {
                Ok(()) => {}
                Err(why) => return Ok(why),
            }
        }
        self.staged
            .insert((namespace.to_owned(), name.to_owned()), dir.clone());
        Ok(Resolved::Dir(dir))
    }

    /// The ArtifactGenerator (and its `artifacts[]` entry) that makes `namespace/name`.
    fn generator_of(&self, namespace: &str, name: &str) -> Option<(Value, Value)> {
        self.generators.iter().find_map(|generator| {
            if text(generator, "/metadata/namespace").unwrap_or("default") != namespace {
                return None;
            }
            let artifact = generator
                .pointer("/spec/artifacts")?
                .as_array()?
                .iter()
                .find(|a| a.get("name").and_then(Value::as_str) == Some(name))?;
            Some((generator.clone(), artifact.clone()))
        })
    }

    /// One `copy` rule: `from: "@alias/glob"`, `to: "@artifact/path"`, `exclude`.
    fn copy(
        &mut self,
        generator: &Value,
        namespace: &str,
        copy: &Value,
        dir: &Path,
    ) -> anyhow::Result<Result<(), Resolved>> {
        let from = copy.get("from").and_then(Value::as_str).unwrap_or_default();
        let to = copy.get("to").and_then(Value::as_str).unwrap_or_default();
        let strategy = copy
            .get("strategy")
            .and_then(Value::as_str)
            .unwrap_or("Overwrite");
        if strategy != "Overwrite" {
            return Ok(Err(Resolved::Unavailable(format!(
                "copy strategy '{strategy}' is not supported offline"
            ))));
        }
        let Some((alias, pattern)) = from.strip_prefix('@').and_then(|f| f.split_once('/')) else {
            bail!("copy from '{from}': expected @<alias>/<pattern>");
        };
        let Some(destination) = to.strip_prefix("@artifact") else {
            bail!("copy to '{to}': expected @artifact/<path>");
        };
        let Some(source) = generator
            .pointer("/spec/sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|s| s.get("alias").and_then(Value::as_str) == Some(alias))
        else {
            bail!("copy from '{from}': no source with alias '{alias}'");
        };
        let kind = text(source, "/kind").unwrap_or_default().to_owned();
        let name = text(source, "/name").unwrap_or_default().to_owned();
        let source_namespace = text(source, "/namespace")
            .filter(|n| !n.is_empty())
            .unwrap_or(namespace)
            .to_owned();
        let root = match self.resolve(&kind, &source_namespace, &name)? {
            Resolved::Dir(root) => root,
            other => return Ok(Err(other)),
        };
        let excludes: Vec<String> = copy
            .get("exclude")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_str().map(str::to_owned))
            .collect();
        let rule = CopyRule {
            pattern: pattern.trim_start_matches("./").to_owned(),
            destination: destination.trim_start_matches('/').to_owned(),
            excludes,
        };
        rule.apply(&root, dir)?;
        Ok(Ok(()))
    }
}

/// A copy rule with cp-like semantics: a glob copies what it matches into the destination
/// directory (`dir/**` without its `dir/` prefix); a file goes to `dest/<name>` when the
/// destination ends with `/` or is a directory, else to `dest`; a directory goes to
/// `dest/<dirname>/`.
struct CopyRule {
    pattern: String,
    destination: String,
    excludes: Vec<String>,
}

impl CopyRule {
    fn apply(&self, root: &Path, artifact: &Path) -> anyhow::Result<()> {
        let destination = artifact.join(&self.destination);
        let files = files_under(root, root)?;
        let is_glob = self.pattern.contains(['*', '?', '[', '{']);
        if !is_glob {
            let source = root.join(&self.pattern);
            if source.is_file() {
                let target = if self.destination.is_empty()
                    || self.destination.ends_with('/')
                    || destination.is_dir()
                {
                    destination.join(source.file_name().unwrap_or_default())
                } else {
                    destination
                };
                return copy_file(&source, &target);
            }
            if !source.is_dir() {
                bail!("copy from '{}': no such file or directory", self.pattern);
            }
            let base = Path::new(&self.pattern)
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_default();
            for file in files.iter().filter(|f| f.starts_with(&self.pattern)) {
                let relative = Path::new(file).strip_prefix(&self.pattern)?;
                if !self.excluded(&relative.to_string_lossy()) {
                    copy_file(&root.join(file), &destination.join(&base).join(relative))?;
                }
            }
            return Ok(());
        }
        let strip = self
            .pattern
            .strip_suffix("/**")
            .filter(|p| !p.contains('*'));
        for file in &files {
            if !matches_file_or_parent(&self.pattern, file) {
                continue;
            }
            let relative = strip
                .and_then(|prefix| file.strip_prefix(prefix)?.strip_prefix('/'))
                .unwrap_or(file);
            if !self.excluded(relative) && !self.excluded(file) {
                copy_file(&root.join(file), &destination.join(relative))?;
            }
        }
        Ok(())
    }

    /// `exclude` patterns: without a `/` they match the file name at any depth.
    fn excluded(&self, path: &str) -> bool {
        self.excludes.iter().any(|pattern| {
            if pattern.contains('/') {
                matches_file_or_parent(pattern, path)
            } else {
                path.split('/')
                    .any(|segment| ferroflux_helm::glob::matches(pattern, segment))
            }
        })
    }
}

/// Whether `pattern` matches `file` or one of the directories above it.
fn matches_file_or_parent(pattern: &str, file: &str) -> bool {
    let mut candidate = file;
    loop {
        if ferroflux_helm::glob::matches(pattern, candidate) {
            return true;
        }
        match candidate.rsplit_once('/') {
            Some((parent, _)) => candidate = parent,
            None => return false,
        }
    }
}

/// Every regular file under `dir`, as `/`-separated paths relative to `root`, sorted;
/// `.git` is skipped and symbolic links are not followed.
pub fn files_under(root: &Path, dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries = std::fs::read_dir(&current)
            .with_context(|| format!("reading {}", current.display()))?;
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            if entry.file_name() == ".git" {
                continue;
            }
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                let relative = entry.path().strip_prefix(root)?.to_path_buf();
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Copies the tree `from` (without `.git`) to `to`.
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    for file in files_under(from, from)? {
        copy_file(&from.join(&file), &to.join(&file))?;
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        dir
    }

    fn copied(pattern: &str, destination: &str, excludes: &[&str]) -> Vec<String> {
        let source = tree(&[
            "apps/base/a.yaml",
            "apps/base/sub/b.yaml",
            "apps/README.md",
            "top.yaml",
        ]);
        let out = tempfile::tempdir().unwrap();
        CopyRule {
            pattern: pattern.to_owned(),
            destination: destination.to_owned(),
            excludes: excludes.iter().map(|e| (*e).to_owned()).collect(),
        }
        .apply(source.path(), out.path())
        .unwrap();
        files_under(out.path(), out.path()).unwrap()
    }

    #[test]
    fn copy_rules_follow_cp() {
        assert_eq!(
            copied("apps/base/**", "base/", &[]),
            ["base/a.yaml", "base/sub/b.yaml"]
        );
        assert_eq!(
            copied("apps/**", "", &["*.md"]),
            ["base/a.yaml", "base/sub/b.yaml"]
        );
        assert_eq!(copied("*.yaml", "x/", &[]), ["x/top.yaml"]);
        assert_eq!(copied("apps/base", "y/", &["sub/**"]), ["y/base/a.yaml"]);
        assert_eq!(copied("top.yaml", "renamed.yaml", &[]), ["renamed.yaml"]);
        assert_eq!(copied("top.yaml", "d/", &[]), ["d/top.yaml"]);
    }

    #[test]
    fn overrides_need_kind_namespace_name_and_a_directory() {
        assert!(parse_override("GitRepository/flux-system=.").is_err());
        assert!(parse_override("GitRepository/a/b=/nonexistent/dir").is_err());
        let ((kind, namespace, name), _) = parse_override("GitRepository/a/b=.").unwrap();
        assert_eq!(
            (kind.as_str(), namespace.as_str(), name.as_str()),
            ("GitRepository", "a", "b")
        );
    }
}
