//! Remote resources: `resources:` entries that are URLs, loaded as kustomize v5 does.
//!
//! An `http(s)://` entry is first fetched as a file of resources; an HTTP error status stops
//! there, anything else that is not a resource file falls back to a Git repository. Git
//! entries follow kustomize's repository spec (`https://host/org/repo//path?ref=v1`,
//! `github.com/org/repo/path`, `git@host:org/repo.git/path`, `ssh://`, `file://`, the
//! `_git/` marker, and the `ref`/`version`, `timeout` and `submodules` query parameters) and
//! are cloned shallowly with libgit2 into a temporary directory that lives as long as the
//! build.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// kustomize's default clone timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(27);

/// A Git repository reference parsed from a resource URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    /// What to clone (scheme, user, host and repository path).
    pub clone_url: String,
    /// The kustomization's path inside the repository.
    pub root_path: String,
    /// The ref to check out (branch, tag or commit); the remote's HEAD when empty.
    pub reference: String,
    /// How long the clone may take.
    pub timeout: Duration,
    /// Whether submodules are cloned too.
    pub submodules: bool,
}

/// Parses a Git resource URL with kustomize's rules.
pub fn parse_repo_spec(raw: &str) -> Result<RepoSpec, String> {
    if Path::new(raw).is_absolute() {
        return Err(format!("uri looks like abs path: {raw}"));
    }
    let (rest, query) = raw.split_once('?').unwrap_or((raw, ""));
    let (reference, timeout, submodules) = parse_query(query);
    let (host, rest) = extract_host(rest)?;
    let default_segments = if host.starts_with("file://") {
        None
    } else {
        Some(2)
    };
    let (repo_path, root_path) = split_path(rest, default_segments)
        .filter(|(repo, _)| !repo.is_empty())
        .ok_or_else(|| "failed to parse repo path segment".to_owned())?;
    let root_path = root_path.trim_start_matches('/').to_owned();
    if root_path
        .split('/')
        .find(|segment| !segment.is_empty() && *segment != ".")
        == Some("..")
    {
        return Err(format!("url path exits repo: {rest}"));
    }
    Ok(RepoSpec {
        clone_url: format!("{host}{repo_path}"),
        root_path,
        reference,
        timeout,
        submodules,
    })
}

fn parse_query(query: &str) -> (String, Duration, bool) {
    let mut reference = String::new();
    let mut version = String::new();
    let mut timeout = DEFAULT_TIMEOUT;
    let mut submodules = true;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "ref" if reference.is_empty() => value.clone_into(&mut reference),
            "version" if version.is_empty() => value.clone_into(&mut version),
            "timeout" => {
                if let Some(parsed) = value
                    .parse::<u64>()
                    .ok()
                    .filter(|seconds| *seconds > 0)
                    .map(Duration::from_secs)
                    .or_else(|| parse_go_duration(value))
                {
                    timeout = parsed;
                }
            }
            "submodules" => {
                if let Some(parsed) = parse_go_bool(value) {
                    submodules = parsed;
                }
            }
            _ => {}
        }
    }
    if reference.is_empty() {
        reference = version;
    }
    (reference, timeout, submodules)
}

/// Go's `time.ParseDuration` for the simple forms people write (`30s`, `1m`, `1m30s`).
fn parse_go_duration(value: &str) -> Option<Duration> {
    let mut total = 0.0_f64;
    let mut number = String::new();
    let mut chars = value.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next()?);
        }
        let amount: f64 = number.parse().ok()?;
        number.clear();
        total += amount
            * match unit.as_str() {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                _ => return None,
            };
        any = true;
    }
    (any && number.is_empty() && total > 0.0).then(|| Duration::from_secs_f64(total))
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Splits off `scheme + user + host` (with its trailing `/` or `:`) from the rest.
fn extract_host(raw: &str) -> Result<(String, &str), String> {
    let raw = strip_prefix_ignore_case(raw, "git::").unwrap_or(raw);
    let (scheme, rest) = ["ssh://", "https://", "http://", "file://"]
        .iter()
        .find_map(|scheme| strip_prefix_ignore_case(raw, scheme).map(|rest| (*scheme, rest)))
        .unwrap_or(("", raw));
    let (user, rest) = extract_user(rest);
    let lower = rest.to_ascii_lowercase();
    let github = lower.starts_with("github.com/") || lower.starts_with("github.com:");
    let scp = scheme.is_empty() && (!user.is_empty() || github);
    if scheme.is_empty() && !scp {
        return Err("failed to parse scheme".to_owned());
    }
    if scheme == "file://" {
        return Ok((format!("{scheme}{user}"), rest));
    }
    let separator = {
        let slash = rest.find('/');
        let colon = rest.find(':').filter(|_| scp);
        match (slash, colon) {
            (Some(slash), Some(colon)) if colon > 0 && colon < slash => Some(colon),
            (None, Some(colon)) => Some(colon),
            (slash, _) => slash,
        }
    };
    let (host, rest) = match separator {
        Some(index) => (&rest[..=index], &rest[index + 1..]),
        None => (rest, ""),
    };
    // github.com is normalised: SSH (scheme or user given) as `github.com:`, else HTTPS.
    let (scheme, user, host) = match (github, scheme.starts_with("ssh://") || !user.is_empty()) {
        (true, true) => ("", user, "github.com:"),
        (true, false) => ("https://", "", "github.com/"),
        (false, _) => (scheme, user, host),
    };
    if host.is_empty() {
        return Err("failed to parse host segment".to_owned());
    }
    Ok((format!("{scheme}{user}{host}"), rest))
}

fn extract_user(text: &str) -> (&str, &str) {
    let bytes = text.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        return ("", text);
    }
    let end = bytes
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
        .unwrap_or(bytes.len());
    if bytes.get(end) == Some(&b'@') {
        text.split_at(end + 1)
    } else {
        ("", text)
    }
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    (text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &text[prefix.len()..])
}

/// Splits the repository path from the path inside it: at `_git/<repo>`, `//` or `.git`,
/// else after `default_segments` segments (all of them when `None`).
fn split_path(path: &str, default_segments: Option<usize>) -> Option<(String, String)> {
    if let Some(index) = path.find("_git/") {
        let after = &path[index + "_git/".len()..];
        let (repo, sub) = after.split_once('/').unwrap_or((after, ""));
        return Some((
            format!("{}{repo}", &path[..index + "_git/".len()]),
            sub.to_owned(),
        ));
    }
    if let Some(index) = path.find("//") {
        return Some((path[..index].to_owned(), path[index + 2..].to_owned()));
    }
    if let Some(index) = path.find(".git") {
        let end = index + ".git".len();
        return Some((path[..end].to_owned(), path[end..].to_owned()));
    }
    let Some(count) = default_segments else {
        return Some((path.to_owned(), String::new()));
    };
    let segments: Vec<&str> = path.split('/').collect();
    (segments.len() >= count).then(|| (segments[..count].join("/"), segments[count..].join("/")))
}

/// Why fetching a remote file failed.
#[derive(Debug)]
pub enum FetchError {
    /// The server answered with an error status: kustomize stops here.
    Http(String),
    /// The request failed otherwise: kustomize tries the URL as a repository.
    Other(String),
}

/// Fetches an `http(s)://` resource file. An error status on a URL that reads as a Git
/// repository is not an HTTP error (the caller clones it instead), as in kustomize.
pub fn fetch_file(url: &str) -> Result<String, FetchError> {
    let client = reqwest::blocking::Client::builder()
        .timeout(DEFAULT_TIMEOUT)
        .build()
        .map_err(|e| FetchError::Other(e.to_string()))?;
    let response = client
        .get(url)
        .send()
        .map_err(|e| FetchError::Other(e.to_string()))?;
    let status = response.status();
    if !status.is_success() && parse_repo_spec(url).is_ok() {
        return Err(FetchError::Other("URL is a git repository".to_owned()));
    }
    if !status.is_success() {
        return Err(FetchError::Http(format!(
            "HTTP Error: status code {} ({})",
            status.as_u16(),
            status.canonical_reason().unwrap_or("unknown")
        )));
    }
    response
        .text()
        .map_err(|e| FetchError::Other(e.to_string()))
}

/// A cloned repository; the directory is removed when this is dropped.
#[derive(Debug)]
pub struct Clone {
    dir: tempfile::TempDir,
}

impl Clone {
    /// The directory of the kustomization inside the clone.
    pub fn root(&self, spec: &RepoSpec) -> PathBuf {
        if spec.root_path.is_empty() {
            self.dir.path().to_owned()
        } else {
            self.dir.path().join(&spec.root_path)
        }
    }
}

/// Clones `spec` shallowly at its ref (the remote's HEAD when none), as kustomize's
/// `git fetch --depth=1 origin <ref>` + `checkout FETCH_HEAD` does.
pub fn clone(spec: &RepoSpec) -> Result<Clone, String> {
    let dir = tempfile::Builder::new()
        .prefix("kustomize-remote-")
        .tempdir()
        .map_err(|e| format!("failed to create a directory for the clone: {e}"))?;
    let repository = git2::Repository::init(dir.path()).map_err(|e| e.message().to_owned())?;
    let deadline = std::time::Instant::now() + spec.timeout;
    let fetch = |refspec: &str| -> Result<(), git2::Error> {
        let mut remote = repository.remote_anonymous(&spec.clone_url)?;
        let mut callbacks = git2::RemoteCallbacks::new();
        callbacks.transfer_progress(|_| std::time::Instant::now() < deadline);
        let mut options = git2::FetchOptions::new();
        options.remote_callbacks(callbacks).depth(1);
        remote.fetch(&[refspec], Some(&mut options), None)
    };
    let reference = if spec.reference.is_empty() {
        "HEAD"
    } else {
        spec.reference.as_str()
    };
    fetch(reference).map_err(|e| {
        if std::time::Instant::now() >= deadline {
            format!(
                "git fetch of '{}' timed out after {:?}",
                spec.clone_url, spec.timeout
            )
        } else {
            format!(
                "failed to run 'git fetch --depth=1 origin {reference}' for '{}': {}",
                spec.clone_url,
                e.message()
            )
        }
    })?;
    let head = repository
        .find_reference("FETCH_HEAD")
        .and_then(|fetched| fetched.peel_to_commit())
        .map_err(|e| format!("no commit fetched for '{reference}': {}", e.message()))?;
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.force();
    repository
        .checkout_tree(head.as_object(), Some(&mut checkout))
        .and_then(|()| repository.set_head_detached(head.id()))
        .map_err(|e| format!("failed to check out '{reference}': {}", e.message()))?;
    if spec.submodules {
        update_submodules(&repository)?;
    }
    Ok(Clone { dir })
}

fn update_submodules(repository: &git2::Repository) -> Result<(), String> {
    let submodules = repository
        .submodules()
        .map_err(|e| e.message().to_owned())?;
    for mut submodule in submodules {
        submodule
            .update(true, None)
            .map_err(|e| format!("failed to update submodule: {}", e.message()))?;
        if let Ok(inner) = submodule.open() {
            update_submodules(&inner)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(raw: &str) -> (String, String, String) {
        let spec = parse_repo_spec(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        (spec.clone_url, spec.root_path, spec.reference)
    }

    #[test]
    fn parses_kustomize_repo_specs() {
        let cases = [
            (
                "https://github.com/org/repo//deploy/base?ref=v1.0.0",
                ("https://github.com/org/repo", "deploy/base", "v1.0.0"),
            ),
            (
                "github.com/org/repo/deploy?ref=main",
                ("https://github.com/org/repo", "deploy", "main"),
            ),
            (
                "git@github.com:org/repo.git/path?version=v2",
                ("git@github.com:org/repo.git", "path", "v2"),
            ),
            (
                "ssh://git@example.com/org/repo.git//x",
                ("ssh://git@example.com/org/repo.git", "x", ""),
            ),
            (
                "https://dev.azure.com/org/project/_git/repo/path/to?ref=r",
                (
                    "https://dev.azure.com/org/project/_git/repo",
                    "path/to",
                    "r",
                ),
            ),
            (
                "http://127.0.0.1:8080/app.git//base",
                ("http://127.0.0.1:8080/app.git", "base", ""),
            ),
            (
                "git::https://example.com/org/repo?ref=a&timeout=10",
                ("https://example.com/org/repo", "", "a"),
            ),
            ("file:///tmp/repo//sub", ("file:///tmp/repo", "sub", "")),
        ];
        for (raw, (url, path, reference)) in cases {
            assert_eq!(
                spec(raw),
                (url.to_owned(), path.to_owned(), reference.to_owned()),
                "{raw}"
            );
        }
        let timed =
            parse_repo_spec("https://example.com/o/r?timeout=1m30s&submodules=false").unwrap();
        assert_eq!(timed.timeout, Duration::from_secs(90));
        assert!(!timed.submodules);
    }

    #[test]
    fn rejects_what_kustomize_rejects() {
        assert_eq!(
            parse_repo_spec("example.com/org/repo").unwrap_err(),
            "failed to parse scheme"
        );
        assert!(
            parse_repo_spec("ftp://example.com/org/repo")
                .unwrap_err()
                .contains("scheme")
        );
        assert!(
            parse_repo_spec("https://example.com/org/repo//../../etc")
                .unwrap_err()
                .starts_with("url path exits repo")
        );
    }
}
