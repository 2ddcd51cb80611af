//! ferroflux's own fetch: Git's upload-pack protocol (version 0/1), spoken over smart HTTP
//! ([`super::smart_http`], stateless) or SSH ([`super::ssh_fetch`]), into a packfile that
//! [`super::checkout::checkout_pack`] reads.
//!
//! libgit2 is still used to ask the remote first (its messages for rejected credentials,
//! unknown hosts and bad certificates are the ones users see) and for submodules. What it
//! does not do well is the fetch itself: its indexer maps the received pack and keeps it
//! resident (see [`super::pack`]). Here the reference list is read again (so the commit
//! fetched is the one the remote has now), the one object wanted is asked for with
//! `deepen 1` (a commit reference fetches its branch's history instead), and the pack is
//! streamed to a file and checked against its trailing checksum.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use super::checkout::{CheckoutOptions, GitReference, Resolved};
use super::pack::{Oid, parse_oid};
use super::remote::Remote;
use crate::error::SourceError;

/// The agent announced (smart HTTP servers look for the `git/` prefix of the user agent).
pub(super) const AGENT: &str = concat!("git/2.0 (ferroflux/", env!("CARGO_PKG_VERSION"), ")");

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

/// Whether this fetch can serve `remote`: an HTTP(S) or SSH URL and no submodules (libgit2
/// checks those out).
pub fn eligible(remote: &Remote, options: &CheckoutOptions) -> bool {
    let scheme = remote.url.split_once("://").map(|(scheme, _)| scheme);
    matches!(scheme, Some("http" | "https" | "ssh")) && !options.submodules
}

/// Fetches what `reference` needs from `remote` into the file `pack`.
pub async fn fetch(
    remote: &Remote,
    reference: &GitReference,
    pack: &Path,
) -> Result<Fetched, SourceError> {
    if !remote.url.starts_with("ssh://") {
        return super::smart_http::fetch(remote, reference, pack).await;
    }
    let (remote, reference, pack) = (remote.clone(), reference.clone(), pack.to_owned());
    tokio::task::spawn_blocking(move || super::ssh_fetch::fetch(&remote, &reference, &pack))
        .await
        .map_err(|e| SourceError::Fetch(format!("git operation failed: {e}")))?
}

/// Flux's wording for a failed fetch, naming the remote but no credentials.
pub(super) fn clone_error(remote: &Remote, message: &str) -> SourceError {
    SourceError::Fetch(format!(
        "failed to checkout and determine revision: unable to clone {}: {message}",
        remote.describe()
    ))
}

/// The references and capabilities a server advertised.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Advertisement {
    /// `(refname, hex id)`, peeled tags as `refs/tags/<name>^{}`.
    pub heads: Vec<(String, String)>,
    pub capabilities: Vec<String>,
}

impl Advertisement {
    pub(super) fn has(&self, capability: &str) -> bool {
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

/// Reads a reference advertisement: the `# service=` header smart HTTP puts first (and its
/// flush), then the references up to a flush.
pub(super) fn read_advertisement(reader: &mut impl Read) -> Result<Advertisement, String> {
    let mut packets = PktLines { reader };
    let mut advertisement = Advertisement::default();
    let mut first = true;
    loop {
        let line = match packets.next()? {
            Some(Packet::Line(line)) => line,
            Some(Packet::Flush) if first => continue,
            None | Some(Packet::Flush) => break,
        };
        let line = line.strip_suffix(b"\n").unwrap_or(&line);
        if line.starts_with(b"# service=") || line.starts_with(b"version ") {
            continue;
        }
        let (line, capabilities) = match line.iter().position(|b| *b == 0) {
            Some(nul) => (&line[..nul], Some(&line[nul + 1..])),
            None => (line, None),
        };
        if let Some(capabilities) = capabilities {
            advertisement.capabilities = String::from_utf8_lossy(capabilities)
                .split(' ')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect();
        }
        first = false;
        let text = String::from_utf8_lossy(line);
        let Some((oid, name)) = text
            .split_once(' ')
            .filter(|(oid, _)| parse_oid(oid).is_some())
        else {
            return Err(format!("malformed reference advertisement line '{text}'"));
        };
        if name != "capabilities^{}" {
            advertisement.heads.push((name.to_owned(), oid.to_owned()));
        }
    }
    Ok(advertisement)
}

/// What to ask upload-pack for.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Plan {
    pub resolved: Resolved,
    /// The object the reference names (hex).
    target: String,
    /// The tips to fetch (hex).
    wants: Vec<String>,
    /// Whether the tips alone are enough (`deepen 1`), or history is needed to find a commit.
    shallow: bool,
}

impl Plan {
    /// The object the reference names.
    pub(super) fn target(&self, remote: &Remote) -> Result<Oid, SourceError> {
        parse_oid(&self.target)
            .ok_or_else(|| clone_error(remote, &format!("invalid object id '{}'", self.target)))
    }

    /// The request: the wants with the capabilities, `deepen 1` when shallow and the server
    /// can, a flush and `done`; and whether it is shallow.
    pub(super) fn request(&self, advertisement: &Advertisement) -> (Vec<u8>, bool) {
        let capabilities = advertisement.request_capabilities();
        let mut body = Vec::new();
        for (index, want) in self.wants.iter().enumerate() {
            let line = if index == 0 {
                format!("want {want} {}\n", capabilities.join(" "))
            } else {
                format!("want {want}\n")
            };
            write_pkt(&mut body, &line);
        }
        let shallow = self.shallow && advertisement.has("shallow");
        if shallow {
            write_pkt(&mut body, "deepen 1\n");
        }
        body.extend_from_slice(b"0000");
        write_pkt(&mut body, "done\n");
        (body, shallow)
    }
}

/// Resolves `reference` against the advertisement: a branch, tag, semver range or name is
/// fetched shallowly at its tip; a commit is looked for in the full history of its branch, or
/// of every branch when none is given (as Flux clones for `ref.commit`).
pub(super) fn plan(
    advertisement: &Advertisement,
    reference: &GitReference,
) -> Result<Plan, SourceError> {
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

/// Reads upload-pack's answer to [`Plan::request`] and writes the pack to the file `pack`:
/// the shallow boundary (when `shallow`), the `NAK`, then the pack, multiplexed when the
/// server has a side band.
pub(super) fn receive(
    reader: &mut impl Read,
    advertisement: &Advertisement,
    shallow: bool,
    pack: &Path,
) -> Result<(), String> {
    let mut packets = PktLines { reader };
    let ended = || "the upload-pack response ended early".to_owned();
    if shallow {
        // The shallow boundary, ended by a flush.
        loop {
            match packets.next()?.ok_or_else(ended)? {
                Packet::Flush => break,
                Packet::Line(line)
                    if line.starts_with(b"shallow ") || line.starts_with(b"unshallow ") => {}
                Packet::Line(line) => return Err(unexpected(&line)),
            }
        }
    }
    match packets.next()?.ok_or_else(ended)? {
        Packet::Line(line) if line.starts_with(b"NAK") => {}
        Packet::Line(line) => return Err(unexpected(&line)),
        Packet::Flush => return Err("upload-pack sent no acknowledgement".to_owned()),
    }
    let write_error = |e: std::io::Error| format!("failed to write the packfile: {e}");
    let mut writer = PackWriter::create(pack).map_err(write_error)?;
    if advertisement.sideband().is_some() {
        loop {
            let packet = match packets.next()?.ok_or_else(ended)? {
                Packet::Flush => break,
                Packet::Line(packet) => packet,
            };
            match packet.split_first() {
                Some((1, data)) => writer.write(data).map_err(write_error)?,
                Some((2, _)) => {}
                Some((3, message)) => {
                    return Err(format!(
                        "remote error: {}",
                        String::from_utf8_lossy(message).trim()
                    ));
                }
                _ => return Err(unexpected(&packet)),
            }
        }
    } else {
        let mut buffer = vec![0; 64 << 10];
        loop {
            let read = packets
                .reader
                .read(&mut buffer)
                .map_err(|e| io_message(&e))?;
            if read == 0 {
                break;
            }
            writer.write(&buffer[..read]).map_err(write_error)?;
        }
    }
    writer.finish()
}

/// An unexpected line from upload-pack (its `ERR` lines say why).
fn unexpected(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    match text.strip_prefix("ERR ") {
        Some(message) => format!("remote error: {message}"),
        None => format!("unexpected upload-pack response '{text}'"),
    }
}

/// An I/O error with its sources (a transport's own message is terse).
fn io_message(error: &std::io::Error) -> String {
    super::bridge::error_chain(error)
}

/// Appends one pkt-line.
fn write_pkt(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(format!("{:04x}", line.len() + 4).as_bytes());
    out.extend_from_slice(line.as_bytes());
}

/// One pkt-line.
enum Packet {
    /// A flush (or delimiter) packet.
    Flush,
    /// A line's payload.
    Line(Vec<u8>),
}

/// The pkt-lines of a stream.
struct PktLines<'r, R> {
    reader: &'r mut R,
}

impl<R: Read> PktLines<'_, R> {
    /// The next pkt-line, `None` at the end of the stream.
    fn next(&mut self) -> Result<Option<Packet>, String> {
        let mut header = [0; 4];
        let mut filled = 0;
        while filled < 4 {
            let read = self
                .reader
                .read(&mut header[filled..])
                .map_err(|e| io_message(&e))?;
            if read == 0 {
                return if filled == 0 {
                    Ok(None)
                } else {
                    Err("truncated pkt-line".to_owned())
                };
            }
            filled += read;
        }
        let length = std::str::from_utf8(&header)
            .ok()
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("bad pkt-line length '{}'", String::from_utf8_lossy(&header)))?;
        match length {
            0..=2 => Ok(Some(Packet::Flush)),
            3 => Err("bad pkt-line length 3".to_owned()),
            length => {
                let mut line = vec![0; length - 4];
                self.reader.read_exact(&mut line).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        "truncated pkt-line".to_owned()
                    } else {
                        io_message(&e)
                    }
                })?;
                Ok(Some(Packet::Line(line)))
            }
        }
    }
}

/// Writes a received pack to its file, hashing all but the trailing 20-byte checksum.
struct PackWriter {
    file: BufWriter<std::fs::File>,
    hasher: Sha1,
    /// The last bytes received, not hashed yet: the checksum once all is received.
    tail: Vec<u8>,
}

impl PackWriter {
    fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: BufWriter::with_capacity(256 << 10, std::fs::File::create(path)?),
            hasher: Sha1::new(),
            tail: Vec::new(),
        })
    }

    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.file.write_all(data)?;
        self.tail.extend_from_slice(data);
        if self.tail.len() > 20 {
            let hashed = self.tail.len() - 20;
            self.hasher.update(&self.tail[..hashed]);
            self.tail.drain(..hashed);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), String> {
        self.file
            .flush()
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

    fn advertisement_body(lines: &[String], service: bool) -> Vec<u8> {
        let mut body = Vec::new();
        if service {
            write_pkt(&mut body, "# service=git-upload-pack\n");
            body.extend_from_slice(b"0000");
        }
        for line in lines {
            write_pkt(&mut body, line);
        }
        body.extend_from_slice(b"0000");
        body
    }

    #[test]
    fn advertisements_give_references_and_capabilities() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let lines = [
            format!("{a} HEAD\0multi_ack side-band-64k ofs-delta shallow agent=git/2.39\n"),
            format!("{a} refs/heads/main\n"),
            format!("{b} refs/tags/v1^{{}}\n"),
        ];
        for service in [true, false] {
            // Smart HTTP puts a service header first; SSH starts with the references.
            let body = advertisement_body(&lines, service);
            let advertisement = read_advertisement(&mut body.as_slice()).unwrap();
            assert_eq!(advertisement.heads.len(), 3);
            assert_eq!(
                advertisement.heads[2],
                ("refs/tags/v1^{}".to_owned(), b.clone())
            );
            assert_eq!(advertisement.sideband(), Some("side-band-64k"));
            let requested = advertisement.request_capabilities();
            assert_eq!(
                &requested[..4],
                ["multi_ack", "ofs-delta", "shallow", "side-band-64k"]
            );
            assert!(requested[4].starts_with("agent=git/2.0"));
        }

        let empty = advertisement_body(
            &[format!("{} capabilities^{{}}\0side-band\n", "0".repeat(40))],
            true,
        );
        let advertisement = read_advertisement(&mut empty.as_slice()).unwrap();
        assert!(advertisement.heads.is_empty());
        assert_eq!(advertisement.sideband(), Some("side-band"));
        assert!(read_advertisement(&mut &b"0010not a ref\n"[..]).is_err());
        assert!(read_advertisement(&mut &b"00zz"[..]).is_err());
        assert!(read_advertisement(&mut &b"0030abc"[..]).is_err());
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
            capabilities: vec!["shallow".into()],
        };
        let tag = plan(&advertisement, &GitReference::Tag("v1".into())).unwrap();
        assert_eq!(
            (tag.target.as_str(), tag.wants.clone(), tag.shallow),
            (t.as_str(), vec![t.clone()], true),
            "an annotated tag is fetched as its tag object"
        );
        assert_eq!(tag.resolved.revision(), format!("v1@sha1:{c}"));
        let (request, shallow) = tag.request(&advertisement);
        assert!(shallow);
        assert_eq!(
            String::from_utf8(request).unwrap(),
            format!("003awant {t} shallow\n000ddeepen 1\n00000009done\n")
        );
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

    #[test]
    fn responses_are_checked_before_the_pack_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join("p.pack");
        let advertisement = Advertisement {
            heads: Vec::new(),
            capabilities: vec!["side-band-64k".into()],
        };
        let mut error = Vec::new();
        write_pkt(&mut error, "ERR upload-pack: not our ref\n");
        assert_eq!(
            receive(&mut error.as_slice(), &advertisement, false, &pack).unwrap_err(),
            "remote error: upload-pack: not our ref"
        );
        let mut band3 = Vec::new();
        write_pkt(&mut band3, "NAK\n");
        write_pkt(&mut band3, "\u{3}disk full\n");
        assert_eq!(
            receive(&mut band3.as_slice(), &advertisement, false, &pack).unwrap_err(),
            "remote error: disk full"
        );
        let mut bad_checksum = Vec::new();
        write_pkt(&mut bad_checksum, "NAK\n");
        write_pkt(&mut bad_checksum, &format!("\u{1}PACK{}", "x".repeat(30)));
        bad_checksum.extend_from_slice(b"0000");
        assert!(
            receive(&mut bad_checksum.as_slice(), &advertisement, false, &pack)
                .unwrap_err()
                .contains("checksum")
        );
        assert!(
            receive(&mut &b"0008NAK\n"[..], &advertisement, false, &pack)
                .unwrap_err()
                .contains("ended early")
        );
    }
}
