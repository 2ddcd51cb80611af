//! A fetch over Git's smart HTTP protocol (version 0/1, stateless RPC) into a packfile, for
//! GitRepositories over `http(s)://` without submodules: shallow for a branch, tag, semver
//! range or named reference; the branch's history for a commit.
//!
//! libgit2 is still used to ask the remote first (its messages for rejected credentials,
//! unknown hosts and bad certificates are the ones users see) and for everything else (SSH,
//! submodules, commits that need history). What it does not do well is the fetch itself: its
//! indexer maps the received pack and keeps it resident (see [`super::pack`]). Here the
//! reference list is read again (so the commit fetched is the one the remote has now), the
//! one object wanted is asked for with `deepen 1`, and the pack is streamed to a file and
//! checked against its trailing checksum; [`super::checkout::checkout_pack`] reads it.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;

use super::checkout::{CheckoutOptions, GitReference, Resolved};
use super::pack::{Oid, parse_oid};
use super::remote::Remote;
use crate::error::SourceError;

/// The user agent sent: smart HTTP servers look for the `git/` prefix.
const AGENT: &str = concat!("git/2.0 (ferroflux/", env!("CARGO_PKG_VERSION"), ")");
/// The largest reference advertisement read (a repository with very many tags).
const MAX_ADVERTISEMENT: usize = 64 << 20;
/// The reference advertisement's path below the repository URL.
const INFO_REFS: &str = "/info/refs?service=git-upload-pack";
/// The largest pkt-line (four hex digits).
const MAX_PKT: usize = 0xffff;

/// A fetched pack and what it was fetched for.
#[derive(Debug)]
pub struct Fetched {
    /// The reference resolved from the advertisement the pack was fetched after.
    pub resolved: Resolved,
    /// The object the reference names: the commit, or an annotated tag's object.
    pub target: Oid,
    /// The packfile.
    pub pack: PathBuf,
}

/// Whether this fetch can serve `remote`: an HTTP(S) URL and no submodules.
pub fn eligible(remote: &Remote, options: &CheckoutOptions) -> bool {
    let scheme = remote.url.split_once("://").map(|(scheme, _)| scheme);
    matches!(scheme, Some("http" | "https")) && !options.submodules
}

/// Lists the remote's references, resolves `reference` and fetches what it needs (see
/// [`plan`]) into the file `pack`.
pub async fn fetch(
    remote: &Remote,
    reference: &GitReference,
    pack: &Path,
) -> Result<Fetched, SourceError> {
    let client = super::bridge::http_client(remote)?;
    let mut endpoint = Endpoint::of(remote)?;

    let request = client
        .get(format!("{}{INFO_REFS}", endpoint.base))
        .header("Pragma", "no-cache");
    let response = endpoint.send(remote, request).await?;
    check_content_type(
        remote,
        &response,
        "application/x-git-upload-pack-advertisement",
    )?;
    // A moved repository answers with a redirect: the pack is asked from where it went, as
    // git does.
    if let Some(base) = response.url().as_str().strip_suffix(INFO_REFS) {
        base.clone_into(&mut endpoint.base);
    }
    let body = read_limited(remote, response, MAX_ADVERTISEMENT).await?;
    let advertisement =
        parse_advertisement(&body).map_err(|message| clone_error(remote, &message))?;
    let plan =
        plan(&advertisement, reference).map_err(|e| super::checkout::checkout_error(remote, e))?;
    let target = parse_oid(&plan.target)
        .ok_or_else(|| clone_error(remote, &format!("invalid object id '{}'", plan.target)))?;

    let capabilities = advertisement.request_capabilities();
    let mut body = Vec::new();
    for (index, want) in plan.wants.iter().enumerate() {
        let line = if index == 0 {
            format!("want {want} {}\n", capabilities.join(" "))
        } else {
            format!("want {want}\n")
        };
        write_pkt(&mut body, &line);
    }
    let shallow = plan.shallow && advertisement.has("shallow");
    if shallow {
        write_pkt(&mut body, "deepen 1\n");
    }
    body.extend_from_slice(b"0000");
    write_pkt(&mut body, "done\n");
    let request = client
        .post(format!("{}/git-upload-pack", endpoint.base))
        .header(CONTENT_TYPE, "application/x-git-upload-pack-request")
        .header(ACCEPT, "application/x-git-upload-pack-result")
        .body(body);
    let response = endpoint.send(remote, request).await?;
    check_content_type(remote, &response, "application/x-git-upload-pack-result")?;
    let mut reader = PktReader {
        stream: Box::pin(response.bytes_stream()),
        buffer: Vec::new(),
        start: 0,
        remote,
    };
    if shallow {
        // The shallow boundary, ended by a flush.
        while let Some(line) = reader.next().await? {
            if !(line.starts_with(b"shallow ") || line.starts_with(b"unshallow ")) {
                return Err(server_error(remote, &line));
            }
        }
    }
    match reader.next().await? {
        Some(line) if line.starts_with(b"NAK") => {}
        Some(line) => return Err(server_error(remote, &line)),
        None => return Err(clone_error(remote, "upload-pack sent no acknowledgement")),
    }
    let mut writer = PackWriter::create(pack)
        .await
        .map_err(|e| clone_error(remote, &format!("failed to write the packfile: {e}")))?;
    let write_error =
        |e: std::io::Error| clone_error(remote, &format!("failed to write the packfile: {e}"));
    if advertisement.sideband().is_some() {
        while let Some(packet) = reader.next().await? {
            match packet.split_first() {
                Some((1, data)) => writer.write(data).await.map_err(write_error)?,
                Some((2, _)) => {}
                Some((3, message)) => {
                    return Err(clone_error(
                        remote,
                        &format!("remote error: {}", String::from_utf8_lossy(message).trim()),
                    ));
                }
                _ => return Err(server_error(remote, &packet)),
            }
        }
    } else {
        let rest = reader.buffer.split_off(reader.start);
        writer.write(&rest).await.map_err(write_error)?;
        while let Some(chunk) = reader.stream.next().await {
            let chunk = chunk.map_err(|e| transfer_error(remote, e))?;
            writer.write(&chunk).await.map_err(write_error)?;
        }
    }
    writer
        .finish()
        .await
        .map_err(|message| clone_error(remote, &message))?;
    Ok(Fetched {
        resolved: plan.resolved,
        target,
        pack: pack.to_owned(),
    })
}

/// What to ask upload-pack for.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    resolved: Resolved,
    /// The object the reference names (hex).
    target: String,
    /// The tips to fetch (hex).
    wants: Vec<String>,
    /// Whether the tips alone are enough (`deepen 1`), or history is needed to find a commit.
    shallow: bool,
}

/// Resolves `reference` against the advertisement: a branch, tag, semver range or name is
/// fetched shallowly at its tip; a commit is looked for in the full history of its branch, or
/// of every branch when none is given (as Flux clones for `ref.commit`).
fn plan(advertisement: &Advertisement, reference: &GitReference) -> Result<Plan, SourceError> {
    let heads = &advertisement.heads;
    if let GitReference::Commit { sha, branch } = reference {
        let wants: Vec<String> = if let Some(branch) = branch {
            let refname = format!("refs/heads/{branch}");
            let (_, tip) = heads
                .iter()
                .find(|(name, _)| *name == refname)
                .ok_or_else(|| {
                    SourceError::Fetch(format!("couldn't find remote ref \"{refname}\""))
                })?;
            vec![tip.clone()]
        } else {
            let mut tips: Vec<String> = heads
                .iter()
                .filter(|(name, _)| name.starts_with("refs/heads/"))
                .map(|(_, oid)| oid.clone())
                .collect();
            tips.sort();
            tips.dedup();
            tips
        };
        if wants.is_empty() {
            return Err(SourceError::Fetch(
                "couldn't find remote ref \"refs/heads/*\": the repository has no branches"
                    .to_owned(),
            ));
        }
        let commit = sha.to_lowercase();
        return Ok(Plan {
            resolved: Resolved {
                refname: branch.as_ref().map(|b| format!("refs/heads/{b}")),
                revision_name: branch.clone(),
                commit: commit.clone(),
            },
            target: commit,
            wants,
            shallow: false,
        });
    }
    let resolved = super::checkout::select(heads, reference)?;
    let target = resolved
        .refname
        .as_deref()
        .and_then(|refname| heads.iter().find(|(name, _)| name == refname))
        .map_or_else(|| resolved.commit.clone(), |(_, oid)| oid.clone());
    Ok(Plan {
        resolved,
        wants: vec![target.clone()],
        target,
        shallow: true,
    })
}

/// Where requests go and with which credentials.
struct Endpoint {
    /// The repository URL without credentials or trailing slash.
    base: String,
    /// User and password from the Secret or, failing that, the URL.
    basic: Option<(String, String)>,
}

impl Endpoint {
    fn of(remote: &Remote) -> Result<Self, SourceError> {
        let mut url = reqwest::Url::parse(&remote.url).map_err(|e| SourceError::InvalidSpec {
            reason: "URLInvalid",
            message: format!("invalid URL '{}': {e}", remote.url),
        })?;
        let from_url = (!url.username().is_empty()).then(|| {
            (
                percent_decode(url.username()),
                url.password().map(percent_decode).unwrap_or_default(),
            )
        });
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let basic = match (&remote.auth.username, &remote.auth.password) {
            (Some(user), Some(password)) => Some((user.clone(), password.clone())),
            _ => from_url,
        };
        Ok(Self {
            base: url.as_str().trim_end_matches('/').to_owned(),
            basic,
        })
    }

    /// Sends `request` with the credentials; anything but 200 is an error.
    async fn send(
        &self,
        remote: &Remote,
        mut request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SourceError> {
        request = request.header(USER_AGENT, AGENT);
        if let Some(token) = &remote.auth.bearer_token {
            request = request.bearer_auth(token);
        } else if let Some((user, password)) = &self.basic {
            request = request.basic_auth(user, Some(password));
        }
        let response = request
            .send()
            .await
            .map_err(|e| transfer_error(remote, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let credentials = remote.auth.bearer_token.is_some() || self.basic.is_some();
        let message = match status.as_u16() {
            401 | 403 if credentials => {
                "authentication required but the provided credentials were rejected".to_owned()
            }
            401 => "authentication required but no credentials were provided".to_owned(),
            code => format!("unexpected http status code: {code}"),
        };
        Err(clone_error(remote, &message))
    }
}

/// Decodes `%XX` escapes of a URL's user information.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(byte) = text
                .get(index + 1..index + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Flux's wording for a failed fetch, naming the remote but no credentials.
fn clone_error(remote: &Remote, message: &str) -> SourceError {
    SourceError::Fetch(format!(
        "failed to checkout and determine revision: unable to clone {}: {message}",
        remote.describe()
    ))
}

fn transfer_error(remote: &Remote, error: reqwest::Error) -> SourceError {
    clone_error(remote, &super::bridge::error_chain(&error.without_url()))
}

/// An unexpected line from upload-pack (its `ERR` lines say why).
fn server_error(remote: &Remote, line: &[u8]) -> SourceError {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    match text.strip_prefix("ERR ") {
        Some(message) => clone_error(remote, &format!("remote error: {message}")),
        None => clone_error(remote, &format!("unexpected upload-pack response '{text}'")),
    }
}

/// A smart server answers with its own content type; anything else (a dumb server, a login
/// page) is refused.
fn check_content_type(
    remote: &Remote,
    response: &reqwest::Response,
    expected: &str,
) -> Result<(), SourceError> {
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with(expected) {
        Ok(())
    } else {
        Err(clone_error(
            remote,
            &format!(
                "the server does not speak Git's smart HTTP protocol (content type '{content_type}', expected '{expected}')"
            ),
        ))
    }
}

async fn read_limited(
    remote: &Remote,
    response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, SourceError> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| transfer_error(remote, e))?;
        if body.len() + chunk.len() > limit {
            return Err(clone_error(
                remote,
                &format!("the reference advertisement is over {} MiB", limit >> 20),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The references and capabilities a server advertised.
#[derive(Debug, Default, PartialEq, Eq)]
struct Advertisement {
    /// `(refname, hex id)`, peeled tags as `refs/tags/<name>^{}`.
    heads: Vec<(String, String)>,
    capabilities: Vec<String>,
}

impl Advertisement {
    fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    fn sideband(&self) -> Option<&'static str> {
        ["side-band-64k", "side-band"]
            .into_iter()
            .find(|band| self.has(band))
    }

    /// The capabilities asked for: those of the ones this client uses the server has.
    fn request_capabilities(&self) -> Vec<String> {
        // With `done` in the first request and nothing to offer, multi_ack changes nothing
        // in the answer, but some servers (Azure DevOps) expect clients to ask for it.
        let multi_ack = ["multi_ack_detailed", "multi_ack"]
            .into_iter()
            .find(|c| self.has(c));
        let mut wanted: Vec<String> = multi_ack
            .into_iter()
            .chain(
                ["ofs-delta", "shallow", "no-progress"]
                    .into_iter()
                    .filter(|c| self.has(c)),
            )
            .map(str::to_owned)
            .collect();
        wanted.extend(self.sideband().map(str::to_owned));
        if self.capabilities.iter().any(|c| c.starts_with("agent=")) {
            wanted.push(format!("agent={}", AGENT.replace(' ', "-")));
        }
        wanted
    }
}

/// Parses the body of `info/refs?service=git-upload-pack`.
fn parse_advertisement(body: &[u8]) -> Result<Advertisement, String> {
    let mut packets = Packets { data: body };
    let mut advertisement = Advertisement::default();
    let mut first = true;
    while let Some(packet) = packets.next()? {
        let Packet::Line(line) = packet else {
            continue;
        };
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        if first && line.starts_with(b"# service=") {
            continue;
        }
        if line.starts_with(b"version ") {
            continue;
        }
        let (line, capabilities) = match line.iter().position(|b| *b == 0) {
            Some(nul) => (&line[..nul], Some(&line[nul + 1..])),
            None => (line, None),
        };
        if let Some(capabilities) = capabilities {
            first = false;
            advertisement.capabilities = String::from_utf8_lossy(capabilities)
                .split(' ')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect();
        }
        let text = String::from_utf8_lossy(line);
        let Some((oid, name)) = text.split_once(' ') else {
            return Err(format!("malformed reference advertisement line '{text}'"));
        };
        if parse_oid(oid).is_none() {
            return Err(format!("malformed reference advertisement line '{text}'"));
        }
        if name != "capabilities^{}" {
            advertisement.heads.push((name.to_owned(), oid.to_owned()));
        }
    }
    Ok(advertisement)
}

/// Appends one pkt-line.
fn write_pkt(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(format!("{:04x}", line.len() + 4).as_bytes());
    out.extend_from_slice(line.as_bytes());
}

/// The length of a pkt-line from its four hex digits: `None` for a flush (or delimiter).
fn pkt_length(header: &[u8]) -> Result<Option<usize>, String> {
    let length = std::str::from_utf8(header)
        .ok()
        .and_then(|h| usize::from_str_radix(h, 16).ok())
        .ok_or_else(|| format!("bad pkt-line length '{}'", String::from_utf8_lossy(header)))?;
    match length {
        0..=2 => Ok(None),
        3 => Err("bad pkt-line length 3".to_owned()),
        n => Ok(Some(n - 4)),
    }
}

/// One pkt-line of a buffered body.
enum Packet<'a> {
    /// A flush (or delimiter) packet.
    Flush,
    /// A line's payload.
    Line(&'a [u8]),
}

/// The pkt-lines of a buffered body.
struct Packets<'a> {
    data: &'a [u8],
}

impl<'a> Packets<'a> {
    fn next(&mut self) -> Result<Option<Packet<'a>>, String> {
        if self.data.is_empty() {
            return Ok(None);
        }
        let header = self.data.get(..4).ok_or("truncated pkt-line")?;
        let Some(length) = pkt_length(header)? else {
            self.data = &self.data[4..];
            return Ok(Some(Packet::Flush));
        };
        let line = self.data.get(4..4 + length).ok_or("truncated pkt-line")?;
        self.data = &self.data[4 + length..];
        Ok(Some(Packet::Line(line)))
    }
}

/// pkt-lines of a streamed response.
struct PktReader<'r, S> {
    stream: std::pin::Pin<Box<S>>,
    buffer: Vec<u8>,
    start: usize,
    remote: &'r Remote,
}

impl<S, B> PktReader<'_, S>
where
    S: futures::Stream<Item = reqwest::Result<B>>,
    B: AsRef<[u8]>,
{
    /// Buffers at least `wanted` unread bytes; false at the end of the stream.
    async fn fill(&mut self, wanted: usize) -> Result<bool, SourceError> {
        while self.buffer.len() - self.start < wanted {
            if self.start > 0 && self.start * 2 >= self.buffer.len() {
                self.buffer.drain(..self.start);
                self.start = 0;
            }
            match self.stream.next().await {
                Some(chunk) => self
                    .buffer
                    .extend_from_slice(chunk.map_err(|e| transfer_error(self.remote, e))?.as_ref()),
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    /// The next pkt-line, `None` for a flush.
    async fn next(&mut self) -> Result<Option<Vec<u8>>, SourceError> {
        let truncated = || clone_error(self.remote, "the upload-pack response ended early");
        if !self.fill(4).await? {
            return Err(truncated());
        }
        let length = pkt_length(&self.buffer[self.start..self.start + 4])
            .map_err(|message| clone_error(self.remote, &message))?;
        self.start += 4;
        let Some(length) = length else {
            return Ok(None);
        };
        debug_assert!(length <= MAX_PKT);
        if !self.fill(length).await? {
            return Err(clone_error(
                self.remote,
                "the upload-pack response ended early",
            ));
        }
        let line = self.buffer[self.start..self.start + length].to_vec();
        self.start += length;
        Ok(Some(line))
    }
}

/// Writes a received pack to its file, hashing all but the trailing 20-byte checksum.
struct PackWriter {
    file: tokio::io::BufWriter<tokio::fs::File>,
    hasher: Sha1,
    /// The last bytes received, not hashed yet: the checksum once all is received.
    tail: Vec<u8>,
}

impl PackWriter {
    async fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: tokio::io::BufWriter::with_capacity(
                256 << 10,
                tokio::fs::File::create(path).await?,
            ),
            hasher: Sha1::new(),
            tail: Vec::new(),
        })
    }

    async fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.file.write_all(data).await?;
        self.tail.extend_from_slice(data);
        if self.tail.len() > 20 {
            let hashed = self.tail.len() - 20;
            self.hasher.update(&self.tail[..hashed]);
            self.tail.drain(..hashed);
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<(), String> {
        self.file
            .flush()
            .await
            .map_err(|e| format!("failed to write the packfile: {e}"))?;
        if self.tail.len() < 20 || self.hasher.finalize().as_slice() != self.tail.as_slice() {
            return Err("the received packfile does not match its checksum".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertisements_give_references_and_capabilities() {
        let mut body = Vec::new();
        write_pkt(&mut body, "# service=git-upload-pack\n");
        body.extend_from_slice(b"0000");
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        write_pkt(
            &mut body,
            &format!("{a} HEAD\0multi_ack side-band-64k ofs-delta shallow agent=git/2.39\n"),
        );
        write_pkt(&mut body, &format!("{a} refs/heads/main\n"));
        write_pkt(&mut body, &format!("{b} refs/tags/v1^{{}}\n"));
        body.extend_from_slice(b"0000");
        let advertisement = parse_advertisement(&body).unwrap();
        assert_eq!(advertisement.heads.len(), 3);
        assert_eq!(advertisement.heads[2], ("refs/tags/v1^{}".to_owned(), b));
        assert_eq!(advertisement.sideband(), Some("side-band-64k"));
        let requested = advertisement.request_capabilities();
        assert_eq!(
            &requested[..4],
            ["multi_ack", "ofs-delta", "shallow", "side-band-64k"]
        );
        assert!(requested[4].starts_with("agent=git/2.0"));

        let mut empty = Vec::new();
        write_pkt(
            &mut empty,
            &format!("{} capabilities^{{}}\0side-band\n", "0".repeat(40)),
        );
        empty.extend_from_slice(b"0000");
        let advertisement = parse_advertisement(&empty).unwrap();
        assert!(advertisement.heads.is_empty());
        assert_eq!(advertisement.sideband(), Some("side-band"));
        assert!(parse_advertisement(b"0010not a ref\n").is_err());
        assert!(parse_advertisement(b"00zz").is_err());
    }

    #[test]
    fn user_information_is_percent_decoded() {
        assert_eq!(percent_decode("p%40ss%3Aword"), "p@ss:word");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn plans_fetch_tips_shallowly_and_history_for_commits() {
        let (a, b, c, t) = (
            "a".repeat(40),
            "b".repeat(40),
            "c".repeat(40),
            "d".repeat(40),
        );
        let advertisement = Advertisement {
            heads: vec![
                ("HEAD".into(), a.clone()),
                ("refs/heads/main".into(), a.clone()),
                ("refs/heads/dev".into(), b.clone()),
                ("refs/tags/v1".into(), t.clone()),
                ("refs/tags/v1^{}".into(), c.clone()),
            ],
            capabilities: Vec::new(),
        };
        let tag = plan(&advertisement, &GitReference::Tag("v1".into())).unwrap();
        assert_eq!(
            (tag.target.as_str(), tag.wants.clone(), tag.shallow),
            (t.as_str(), vec![t.clone()], true),
            "an annotated tag is fetched as its tag object"
        );
        assert_eq!(tag.resolved.revision(), format!("v1@sha1:{c}"));
        let on_branch = GitReference::Commit {
            sha: c.to_uppercase(),
            branch: Some("dev".into()),
        };
        let commit = plan(&advertisement, &on_branch).unwrap();
        assert_eq!(
            (commit.wants.clone(), commit.shallow),
            (vec![b.clone()], false)
        );
        assert_eq!(commit.resolved.revision(), format!("dev@sha1:{c}"));
        let anywhere = GitReference::Commit {
            sha: c.clone(),
            branch: None,
        };
        let commit = plan(&advertisement, &anywhere).unwrap();
        assert_eq!(commit.wants, vec![a, b], "every branch tip, once");
        assert_eq!(commit.resolved.revision(), format!("sha1:{c}"));
        let missing = GitReference::Commit {
            sha: c,
            branch: Some("gone".into()),
        };
        let error = plan(&advertisement, &missing).unwrap_err().to_string();
        assert!(error.contains("refs/heads/gone"), "{error}");
    }
}
