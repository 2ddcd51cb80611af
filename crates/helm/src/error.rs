//! Errors, worded like Helm's so messages read the same in both tools.

/// Everything that can go wrong loading, configuring or rendering a chart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a file or directory failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being read.
        context: String,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The chart is malformed (missing Chart.yaml, bad metadata, bad archive).
    #[error("{0}")]
    Chart(String),
    /// A values file or `--set` expression is invalid.
    #[error("{0}")]
    Values(String),
    /// The values do not satisfy `values.schema.json`.
    #[error("{0}")]
    Schema(String),
    /// A template failed to parse or execute.
    #[error("{0}")]
    Render(String),
    /// Command-line usage error.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
