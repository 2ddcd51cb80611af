//! The consumer side: download an artifact over HTTP with retries, verify its digest while it
//! streams to a temporary file, then extract it safely (kustomize-controller, helm-controller).

use std::io::{self, Seek};
use std::path::Path;
use std::time::Duration;

use reqwest::{StatusCode, Url};
use tokio::io::AsyncWriteExt;

use crate::digest::{Digest, DigestError, Hasher};
use crate::extract::{ExtractError, ExtractLimits, ExtractSummary, extract_tar_gz};

/// How a fetch retries, limits and rewrites its download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// Retries after the first attempt on connection errors, 429 and 5xx (`--http-retry`).
    pub retries: u32,
    /// Wait before the first retry; doubled each time up to `backoff_max`.
    pub backoff_min: Duration,
    /// Longest wait between retries.
    pub backoff_max: Duration,
    /// Limit on the downloaded (compressed) size; `None` is unlimited.
    pub max_download_size: Option<u64>,
    /// Limits on what the archive may expand to.
    pub limits: ExtractLimits,
    /// Replaces the URL's `host[:port]` (`SOURCE_CONTROLLER_LOCALHOST`), for running outside
    /// the cluster.
    pub host_override: Option<String>,
}

impl Default for FetchOptions {
    /// Flux's defaults: 9 retries waiting 5s to 30s, no download limit, 100 MiB untar limit.
    fn default() -> Self {
        Self {
            retries: 9,
            backoff_min: Duration::from_secs(5),
            backoff_max: Duration::from_secs(30),
            max_download_size: None,
            limits: ExtractLimits::default(),
            host_override: None,
        }
    }
}

/// Why an artifact could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL (or the host override applied to it) does not parse.
    #[error("invalid artifact URL '{url}': {message}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The expected digest is empty or malformed.
    #[error("failed to verify archive: {0}")]
    Digest(#[from] DigestError),
    /// The server answered 404: the source has not (or no longer) produced this artifact.
    #[error("file not found")]
    NotFound {
        /// The URL requested.
        url: String,
    },
    /// The server kept failing, or answered another non-200 status.
    #[error("failed to download archive from {url} (status: {status})")]
    Status {
        /// The URL requested.
        url: String,
        /// The last status received.
        status: StatusCode,
    },
    /// The request failed without a response (after retries for connection errors).
    #[error("failed to download archive from {url}: {source}")]
    Http {
        /// The URL requested.
        url: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The body exceeded `max_download_size`.
    #[error("artifact is bigger than the max download size of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The downloaded bytes do not hash to the expected digest.
    #[error("failed to verify archive: computed digest doesn't match provided '{expected}'")]
    DigestMismatch {
        /// The digest the source advertised.
        expected: String,
        /// What the downloaded bytes hash to.
        computed: String,
    },
    /// A local file operation failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The verified archive could not be extracted.
    #[error("failed to extract archive: {0}")]
    Extract(#[from] ExtractError),
}

fn io_error(action: &'static str) -> impl FnOnce(io::Error) -> FetchError {
    move |source| FetchError::Io { action, source }
}

/// The host override a Flux consumer applies to `url`: `SOURCE_WATCHER_LOCALHOST` for
/// source-watcher URLs, else `SOURCE_CONTROLLER_LOCALHOST`; `None` when unset or empty.
pub fn host_override_from_env(url: &str) -> Option<String> {
    let variable = if url.contains("//source-watcher") {
        "SOURCE_WATCHER_LOCALHOST"
    } else {
        "SOURCE_CONTROLLER_LOCALHOST"
    };
    std::env::var(variable).ok().filter(|v| !v.is_empty())
}

/// Downloads, verifies and extracts artifacts with one reusable HTTP client.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    options: FetchOptions,
}

impl Fetcher {
    /// A fetcher with a default HTTP client.
    pub fn new(options: FetchOptions) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .build()
            .map_err(|source| FetchError::Http {
                url: String::new(),
                source,
            })?;
        Ok(Self { client, options })
    }

    /// A fetcher using the given client (timeouts, proxies and TLS are the client's).
    pub fn with_client(client: reqwest::Client, options: FetchOptions) -> Self {
        Self { client, options }
    }

    /// Downloads the tar.gz at `url`, checks it against `expected_digest` and extracts it
    /// into `dest_dir`.
    pub async fn fetch(
        &self,
        url: &str,
        expected_digest: &str,
        dest_dir: &Path,
    ) -> Result<ExtractSummary, FetchError> {
        let expected = Digest::parse_lenient(expected_digest)?;
        let temp = tempfile::tempfile().map_err(io_error("creating temporary file"))?;
        let mut file = tokio::fs::File::from_std(temp);
        self.download_verified(url, &expected, &mut file).await?;
        let mut temp = file.into_std().await;
        temp.rewind()
            .map_err(io_error("rewinding temporary file"))?;
        let dest = dest_dir.to_path_buf();
        let limits = self.options.limits;
        let reader = io::BufReader::with_capacity(64 * 1024, temp);
        let summary = tokio::task::spawn_blocking(move || extract_tar_gz(reader, &dest, &limits))
            .await
            .map_err(|e| io_error("extracting")(io::Error::other(e)))??;
        Ok(summary)
    }

    /// Downloads the file at `url` to `dest_file` without extracting it (a Helm chart),
    /// checking `expected_digest`; the file appears atomically, only once verified.
    pub async fn download(
        &self,
        url: &str,
        expected_digest: &str,
        dest_file: &Path,
    ) -> Result<u64, FetchError> {
        let expected = Digest::parse_lenient(expected_digest)?;
        let dir = dest_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp =
            tempfile::NamedTempFile::new_in(dir).map_err(io_error("creating temporary file"))?;
        let (std_file, temp_path) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let size = self.download_verified(url, &expected, &mut file).await?;
        drop(file);
        temp_path
            .persist(dest_file)
            .map_err(|e| io_error("renaming downloaded file")(e.error))?;
        Ok(size)
    }

    /// Streams the body into `file` while hashing it, then compares digests.
    async fn download_verified(
        &self,
        url: &str,
        expected: &Digest,
        file: &mut tokio::fs::File,
    ) -> Result<u64, FetchError> {
        let target = self.target_url(url)?;
        let mut response = self.get_with_retries(&target).await?;
        let mut hasher = Hasher::new(expected.algorithm());
        let mut size = 0_u64;
        let mut writer = tokio::io::BufWriter::with_capacity(64 * 1024, file);
        while let Some(chunk) = response.chunk().await.map_err(|source| FetchError::Http {
            url: target.to_string(),
            source,
        })? {
            size += chunk.len() as u64;
            if let Some(limit) = self.options.max_download_size.filter(|limit| size > *limit) {
                return Err(FetchError::TooLarge { limit });
            }
            hasher.update(&chunk);
            writer
                .write_all(&chunk)
                .await
                .map_err(io_error("writing download"))?;
        }
        writer.flush().await.map_err(io_error("writing download"))?;
        let computed = hasher.finalize();
        if &computed != expected {
            return Err(FetchError::DigestMismatch {
                expected: expected.to_string(),
                computed: computed.to_string(),
            });
        }
        Ok(size)
    }

    fn target_url(&self, url: &str) -> Result<Url, FetchError> {
        let invalid = |message: String| FetchError::InvalidUrl {
            url: url.to_owned(),
            message,
        };
        let mut parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if let Some(host) = self
            .options
            .host_override
            .as_deref()
            .filter(|h| !h.is_empty())
        {
            // Go replaces `u.Host` wholesale: the override's port (or none) replaces the URL's.
            let authority =
                Url::parse(&format!("http://{host}")).map_err(|e| invalid(e.to_string()))?;
            parsed
                .set_host(authority.host_str())
                .map_err(|e| invalid(e.to_string()))?;
            parsed
                .set_port(authority.port())
                .map_err(|()| invalid("cannot set port".to_owned()))?;
        }
        Ok(parsed)
    }

    async fn get_with_retries(&self, url: &Url) -> Result<reqwest::Response, FetchError> {
        let mut attempt = 0_u32;
        loop {
            let outcome = self.client.get(url.clone()).send().await;
            let retryable = match &outcome {
                Ok(response) => is_retryable_status(response.status()),
                Err(error) => !(error.is_builder() || error.is_redirect()),
            };
            if !retryable || attempt >= self.options.retries {
                return match outcome {
                    Ok(response) if response.status() == StatusCode::OK => Ok(response),
                    Ok(response) if response.status() == StatusCode::NOT_FOUND => {
                        Err(FetchError::NotFound {
                            url: url.to_string(),
                        })
                    }
                    Ok(response) => Err(FetchError::Status {
                        url: url.to_string(),
                        status: response.status(),
                    }),
                    Err(source) => Err(FetchError::Http {
                        url: url.to_string(),
                        source,
                    }),
                };
            }
            tracing::debug!(%url, attempt, "artifact download failed, retrying");
            tokio::time::sleep(backoff(&self.options, attempt)).await;
            attempt += 1;
        }
    }
}

/// go-retryablehttp's policy: retry throttling and server errors, except 501 Not Implemented.
fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED)
}

/// Exponential backoff: `min * 2^attempt`, capped at `max`.
fn backoff(options: &FetchOptions, attempt: u32) -> Duration {
    let factor = 2_u32.checked_pow(attempt).unwrap_or(u32::MAX);
    options
        .backoff_min
        .checked_mul(factor)
        .unwrap_or(options.backoff_max)
        .min(options.backoff_max)
}

/// Fetches one artifact with a fresh client: download, verify, extract into `dest_dir`.
pub async fn fetch(
    url: &str,
    expected_digest: &str,
    dest_dir: &Path,
    options: &FetchOptions,
) -> Result<ExtractSummary, FetchError> {
    Fetcher::new(options.clone())?
        .fetch(url, expected_digest, dest_dir)
        .await
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
