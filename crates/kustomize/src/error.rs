//! The single error type of the engine.

use std::path::PathBuf;

/// Everything that can make a build fail. Messages name the file (and the chain of
/// kustomizations that led to it) so a user can find the culprit without a debugger.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory named by a kustomization does not exist or cannot be read.
    #[error("{chain}cannot read '{}': {source}", path.display())]
    Io {
        path: PathBuf,
        chain: Chain,
        source: std::io::Error,
    },
    /// No kustomization file was found in a directory used as a kustomization root.
    #[error(
        "{chain}unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
        dir.display()
    )]
    MissingKustomization { dir: PathBuf, chain: Chain },
    /// A directory holds more than one kustomization file name.
    #[error("{chain}found multiple kustomization files under: {}", dir.display())]
    MultipleKustomizations { dir: PathBuf, chain: Chain },
    /// A file is not well-formed YAML.
    #[error("{chain}invalid YAML in '{}' at line {line}: {message}", path.display())]
    Yaml {
        path: PathBuf,
        line: usize,
        message: String,
        chain: Chain,
    },
    /// A kustomization or resource file is well-formed YAML with the wrong shape.
    #[error("{chain}invalid content in '{}': {message}", path.display())]
    Invalid {
        path: PathBuf,
        message: String,
        chain: Chain,
    },
    /// Two resources share the same group, version, kind, namespace and name.
    #[error("may not add resource with an already registered id: {id}")]
    DuplicateId { id: String },
    /// A file lies outside the kustomization root while load restrictions are on.
    #[error(
        "security; file '{}' is not in or below '{}' (load restrictor RootOnly)",
        path.display(),
        root.display()
    )]
    OutsideRoot { path: PathBuf, root: PathBuf },
    /// A kustomization (directly or indirectly) includes itself.
    #[error("cycle detected: '{}' is already being built ({chain})", dir.display())]
    Cycle { dir: PathBuf, chain: String },
    /// A patch selected nothing where kustomize requires a match.
    #[error("no resource matches the patch target {target}")]
    PatchTargetNotFound { target: String },
    /// A patch could not be applied.
    #[error("patch failed: {message}")]
    Patch { message: String },
    /// A remote resource was requested but remote loading is disabled or unsupported.
    #[error("remote resource '{url}' is not allowed: {reason}")]
    Remote { url: String, reason: String },
    /// A kustomization field this engine does not implement.
    #[error("'{field}' is not supported by the native kustomize engine")]
    Unsupported { field: String },
    /// Any other semantic failure, worded like kustomize's message.
    #[error("{0}")]
    Build(String),
}

/// The kustomization directories that led to an error, outermost first.
#[derive(Debug, Clone, Default)]
pub struct Chain(pub Vec<PathBuf>);

impl std::fmt::Display for Chain {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for dir in &self.0 {
            write!(formatter, "in '{}': ", dir.display())?;
        }
        Ok(())
    }
}

impl Error {
    /// Builds a free-form semantic error.
    pub(crate) fn build(message: impl Into<String>) -> Self {
        Self::Build(message.into())
    }
}
