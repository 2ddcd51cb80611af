//! Flux's source ignore rules: default exclusions, `.sourceignore` files and `spec.ignore`,
//! with gitignore semantics.
//!
//! Patterns are kept in order, each with the directory ("domain") it applies to: a pattern
//! from `sub/.sourceignore` only matches below `sub/`. The last pattern that matches a path
//! decides, so a later `!pattern` re-includes what an earlier one excluded.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::archive::ArchiveFilter;

/// Name of the per-directory ignore file.
pub const IGNORE_FILE: &str = ".sourceignore";
/// Version-control files, always excluded.
pub const EXCLUDE_VCS: &str = ".git/,.gitignore,.gitmodules,.gitattributes";
/// Binary and archive extensions excluded by default.
pub const EXCLUDE_EXT: &str = "*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,*.zip";
/// CI configuration excluded by default.
pub const EXCLUDE_CI: &str = ".github/,.circleci/,.travis.yml,.gitlab-ci.yml,appveyor.yml,.drone.yml,cloudbuild.yaml,codeship-services.yml,codeship-steps.yml";
/// Tooling files excluded by default.
pub const EXCLUDE_EXTRA: &str = "**/.goreleaser.yml,**/.sops.yaml,**/.flux.yaml";

/// Why ignore rules could not be loaded or compiled.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    /// An ignore file or directory could not be read.
    #[error("reading '{path}': {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A pattern is not valid gitignore syntax.
    #[error("invalid ignore pattern '{pattern}' (in '{domain}'): {message}")]
    Pattern {
        /// The pattern as written.
        pattern: String,
        /// The directory it applies to, relative to the root.
        domain: String,
        /// What is wrong with it.
        message: String,
    },
}

/// One pattern line and the directory (relative to the root) it applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    domain: PathBuf,
    line: String,
}

/// Collects patterns in order, then builds an [`IgnoreMatcher`].
#[derive(Clone, Debug, Default)]
pub struct IgnoreMatcherBuilder {
    user: Vec<Pattern>,
}

impl IgnoreMatcherBuilder {
    /// Adds the lines of a gitignore-syntax text applying to `domain` (relative to the root;
    /// empty for the root). Blank lines and `#` comments are skipped.
    pub fn add_patterns(&mut self, domain: &Path, text: &str) -> &mut Self {
        for line in text.lines() {
            if !line.starts_with('#') && !line.trim().is_empty() {
                self.user.push(Pattern {
                    domain: domain.to_path_buf(),
                    line: line.to_owned(),
                });
            }
        }
        self
    }

    /// Loads every `.sourceignore` below `root` (not descending into `.git`), each applying
    /// to its own directory, parents before children and siblings in name order.
    pub fn add_sourceignore_files(&mut self, root: &Path) -> Result<&mut Self, IgnoreError> {
        let mut pending = vec![PathBuf::new()];
        while let Some(relative) = pending.pop() {
            let dir = root.join(&relative);
            let file = dir.join(IGNORE_FILE);
            // Like Flux: bytes, not necessarily UTF-8; a directory named `.sourceignore`
            // (or a dangling link) holds no rules.
            match fs::read(&file) {
                Ok(bytes) => {
                    self.add_patterns(&relative, &String::from_utf8_lossy(&bytes));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::IsADirectory
                    ) => {}
                Err(source) => return Err(IgnoreError::Io { path: file, source }),
            }
            let read_error = |source| IgnoreError::Io {
                path: dir.clone(),
                source,
            };
            let mut children = Vec::new();
            for entry in fs::read_dir(&dir).map_err(read_error)? {
                let entry = entry.map_err(read_error)?;
                let is_dir = entry.file_type().map_err(read_error)?.is_dir();
                if is_dir && entry.file_name() != ".git" {
                    children.push(entry.file_name());
                }
            }
            children.sort_unstable_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
            pending.extend(children.into_iter().rev().map(|name| relative.join(name)));
        }
        Ok(self)
    }

    /// Compiles the matcher. With no user patterns it excludes the VCS files and all default
    /// exclusions; with some, Flux drops the non-VCS defaults and uses VCS + user patterns.
    pub fn build(&self) -> Result<IgnoreMatcher, IgnoreError> {
        let mut patterns = split_defaults(EXCLUDE_VCS);
        if self.user.is_empty() {
            for defaults in [EXCLUDE_EXT, EXCLUDE_CI, EXCLUDE_EXTRA] {
                patterns.extend(split_defaults(defaults));
            }
        } else {
            patterns.extend(self.user.iter().cloned());
        }
        IgnoreMatcher::compile(&patterns)
    }
}

fn split_defaults(list: &str) -> Vec<Pattern> {
    list.split(',')
        .map(|line| Pattern {
            domain: PathBuf::new(),
            line: line.to_owned(),
        })
        .collect()
}

/// A compiled set of ignore rules, answering "is this path excluded?".
#[derive(Clone, Debug)]
pub struct IgnoreMatcher {
    /// Runs of consecutive patterns sharing a domain, in pattern order.
    groups: Vec<(PathBuf, Gitignore)>,
    has_negations: bool,
}

impl IgnoreMatcher {
    /// A builder to add `.sourceignore` files and user patterns to.
    pub fn builder() -> IgnoreMatcherBuilder {
        IgnoreMatcherBuilder::default()
    }

    /// The matcher source-controller uses for a checkout: `.sourceignore` files found in
    /// `dir` plus the object's `spec.ignore`, over the defaults as Flux combines them.
    pub fn for_directory(dir: &Path, spec_ignore: Option<&str>) -> Result<Self, IgnoreError> {
        let mut builder = Self::builder();
        builder.add_sourceignore_files(dir)?;
        if let Some(text) = spec_ignore {
            builder.add_patterns(Path::new(""), text);
        }
        builder.build()
    }

    fn compile(patterns: &[Pattern]) -> Result<Self, IgnoreError> {
        let mut groups: Vec<(PathBuf, Gitignore)> = Vec::new();
        let mut has_negations = false;
        for run in patterns.chunk_by(|a, b| a.domain == b.domain) {
            let domain = run[0].domain.clone();
            // Paths are made relative to the domain before matching, so every group is
            // rooted at ".", which tells the ignore crate not to strip anything itself.
            let mut builder = GitignoreBuilder::new(".");
            for pattern in run {
                // An invalid glob never matches in Flux (go-git's gitignore ignores the
                // `filepath.Match` error), so it is skipped rather than failing the artifact.
                if builder.add_line(None, &pattern.line).is_ok() {
                    has_negations |= pattern.line.starts_with('!');
                }
            }
            let matcher = builder.build().map_err(|e| invalid(&run[0], &e))?;
            groups.push((domain, matcher));
        }
        Ok(Self {
            groups,
            has_negations,
        })
    }

    /// Whether `path` (relative to the archived root, `/`-separated) is excluded.
    pub fn is_excluded(&self, path: &Path, is_dir: bool) -> bool {
        let path = path.strip_prefix("./").unwrap_or(path);
        for (domain, matcher) in self.groups.iter().rev() {
            let Ok(relative) = path.strip_prefix(domain) else {
                continue;
            };
            if relative.as_os_str().is_empty() {
                continue; // the domain directory itself is outside its own patterns
            }
            match matcher.matched_path_or_any_parents(relative, is_dir) {
                Match::None => {}
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
            }
        }
        false
    }
}

fn invalid(pattern: &Pattern, error: &ignore::Error) -> IgnoreError {
    IgnoreError::Pattern {
        pattern: pattern.line.clone(),
        domain: pattern.domain.display().to_string(),
        message: error.to_string(),
    }
}

impl ArchiveFilter for IgnoreMatcher {
    fn excludes(&self, path: &Path, is_dir: bool) -> bool {
        self.is_excluded(path, is_dir)
    }

    fn prune_excluded_dirs(&self) -> bool {
        // Without negations nothing below an excluded directory can be re-included.
        !self.has_negations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn defaults() -> IgnoreMatcher {
        IgnoreMatcher::builder().build().expect("defaults compile")
    }

    #[rstest]
    #[case(".git", true, true)]
    #[case(".git/config", false, true)]
    #[case("sub/.git/HEAD", false, true)]
    #[case(".gitignore", false, true)]
    #[case("logo.png", false, true)]
    #[case("deep/dir/image.jpg", false, true)]
    #[case("release.tar.gz", false, true)]
    #[case(".github/workflows/ci.yaml", false, true)]
    #[case(".travis.yml", false, true)]
    #[case("apps/.sops.yaml", false, true)]
    #[case("deploy.yaml", false, false)]
    #[case("png", true, false)]
    #[case("kustomization.yaml", false, false)]
    fn default_exclusions(#[case] path: &str, #[case] is_dir: bool, #[case] excluded: bool) {
        assert_eq!(
            defaults().is_excluded(Path::new(path), is_dir),
            excluded,
            "{path}"
        );
    }

    #[test]
    fn user_patterns_replace_non_vcs_defaults() {
        let mut builder = IgnoreMatcher::builder();
        builder.add_patterns(Path::new(""), "# comment\n\n*.txt\n!keep.txt\n/docs/\n");
        let matcher = builder.build().expect("valid patterns");
        assert!(matcher.is_excluded(Path::new("a/b.txt"), false));
        assert!(
            !matcher.is_excluded(Path::new("a/keep.txt"), false),
            "negation re-includes"
        );
        assert!(
            matcher.is_excluded(Path::new("docs/index.md"), false),
            "anchored dir pattern"
        );
        assert!(
            !matcher.is_excluded(Path::new("x/docs/index.md"), false),
            "anchored to the root"
        );
        assert!(
            matcher.is_excluded(Path::new(".git/HEAD"), false),
            "VCS stays excluded"
        );
        assert!(
            !matcher.is_excluded(Path::new("logo.png"), false),
            "extension defaults dropped"
        );
        assert!(!matcher.prune_excluded_dirs());
    }

    #[test]
    fn sourceignore_files_apply_to_their_directory() {
        let root = tempfile::tempdir().expect("temp dir");
        let write = |rel: &str, text: &str| {
            let path = root.path().join(rel);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, text).expect("write");
        };
        write(".sourceignore", "/root-only.yaml\n");
        write("apps/.sourceignore", "secret.yaml\n/local.yaml\n");
        write(".git/.sourceignore", "everything\n");
        let matcher =
            IgnoreMatcher::for_directory(root.path(), Some("spec-ignored/\n")).expect("loads");
        let excluded = |p: &str| matcher.is_excluded(Path::new(p), false);
        assert!(excluded("root-only.yaml"));
        assert!(!excluded("apps/root-only.yaml"));
        assert!(excluded("apps/secret.yaml"));
        assert!(excluded("apps/nested/secret.yaml"));
        assert!(
            !excluded("secret.yaml"),
            "sub-directory rules stay in their directory"
        );
        assert!(excluded("apps/local.yaml"));
        assert!(!excluded("apps/nested/local.yaml"));
        assert!(
            !excluded("everything"),
            ".git is not searched for ignore files"
        );
        assert!(excluded("spec-ignored/file"));
        assert!(
            !excluded("apps-like/secret.yaml"),
            "domains match whole components"
        );
    }

    #[test]
    fn malformed_patterns_never_match_like_flux() {
        let mut builder = IgnoreMatcher::builder();
        builder.add_patterns(Path::new("apps"), "ok.yaml\n{a,b\n[\n\\\n");
        let matcher = builder.build().expect("invalid globs are skipped");
        assert!(matcher.is_excluded(Path::new("apps/ok.yaml"), false));
        assert!(!matcher.is_excluded(Path::new("apps/{a,b"), false));
        assert!(!matcher.is_excluded(Path::new("apps/[x].yaml"), false));
        assert!(
            !matcher.is_excluded(Path::new("logo.png"), false),
            "user patterns, even invalid ones, still replace the defaults"
        );
    }
}
