//! Git operations with libgit2: resolve a reference on the remote (ls-remote), then fetch
//! shallowly and check out exactly that commit.
//!
//! Everything here is blocking; callers run it on a blocking thread with a deadline.
//! Credentials, host-key and certificate checks and the proxy come from
//! [`super::remote::Remote`]; failures become Flux's GitOperationFailed messages.

use std::path::Path;
use std::time::Instant;

use git2::{Direction, Repository};

pub use super::remote::Remote;
use crate::error::SourceError;

/// What to check out, with Flux's precedence: commit, name, semver, tag, branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitReference {
    /// The tip of a branch.
    Branch(String),
    /// A tag (lightweight or annotated).
    Tag(String),
    /// The highest tag matching a semver range.
    Semver(String),
    /// A full reference name such as `refs/pull/1/head`.
    Name(String),
    /// A commit, optionally on a branch (fetched to find it).
    Commit {
        /// The SHA-1 hex.
        sha: String,
        /// The branch to fetch it from.
        branch: Option<String>,
    },
}

impl GitReference {
    /// The reference a GitRepository's `spec.ref` names (branch `master` when empty).
    pub fn from_spec(reference: Option<&ferroflux_api::source::v1::GitRepositoryRef>) -> Self {
        let non_empty = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        let Some(reference) = reference else {
            return Self::Branch("master".to_owned());
        };
        if let Some(sha) = non_empty(&reference.commit) {
            return Self::Commit {
                sha,
                branch: non_empty(&reference.branch),
            };
        }
        if let Some(name) = non_empty(&reference.name) {
            return Self::Name(name);
        }
        if let Some(range) = non_empty(&reference.semver) {
            return Self::Semver(range);
        }
        if let Some(tag) = non_empty(&reference.tag) {
            return Self::Tag(tag);
        }
        Self::Branch(non_empty(&reference.branch).unwrap_or_else(|| "master".to_owned()))
    }
}

/// A reference resolved to a commit on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The full reference to fetch (`refs/heads/main`), or `None` to fetch by commit.
    pub refname: Option<String>,
    /// The name used in the revision (`main`, `v1.2.3`, `refs/pull/1/head`), or `None`
    /// for a bare commit.
    pub revision_name: Option<String>,
    /// The commit SHA-1 hex.
    pub commit: String,
}

impl Resolved {
    /// Flux's revision string: `<name>@sha1:<hex>`, or `sha1:<hex>` for a bare commit.
    pub fn revision(&self) -> String {
        match &self.revision_name {
            Some(name) => format!("{name}@sha1:{}", self.commit),
            None => format!("sha1:{}", self.commit),
        }
    }
}

/// Turns a libgit2 error into Flux's GitOperationFailed, naming the remote but no secret.
fn git_error(remote: &Remote, action: &str, error: &git2::Error) -> SourceError {
    let mut message = remote
        .bridge_error()
        .unwrap_or_else(|| error.message().to_owned());
    let lower = message.to_lowercase();
    if lower.contains("hostkey") || lower.contains("host key") {
        // libgit2 replaces the certificate callback's error with its own text.
        "ssh: handshake failed: knownhosts: the host key is unknown or does not match known_hosts"
            .clone_into(&mut message);
    }
    if lower.contains("status code: 400")
        && remote.url.starts_with("https://")
        && remote.auth.client_identity_pem().is_none()
    {
        // What nginx and most servers answer when they require a client certificate.
        message.push_str(
            " (the server may require a TLS client certificate: set 'tls.crt' and 'tls.key' in the secretRef)",
        );
    }
    // Flux reports every failure of the Git client itself, rejected credentials included,
    // as GitOperationFailed with this prefix.
    let action = match action {
        "list references of" | "fetch" => "clone",
        other => other,
    };
    SourceError::Fetch(format!(
        "failed to checkout and determine revision: unable to {action} {}: {message}",
        remote.describe()
    ))
}

/// Asks the remote which commit `reference` points at, without fetching any objects.
/// Returns `None` when the remote cannot be asked cheaply (bearer-token HTTP, where
/// libgit2 cannot send the header on a bare connection) or the reference is a commit.
pub fn resolve(remote: &Remote, reference: &GitReference) -> Result<Option<Resolved>, SourceError> {
    if let GitReference::Commit { sha, branch } = reference {
        return Ok(Some(Resolved {
            refname: branch.as_ref().map(|b| format!("refs/heads/{b}")),
            revision_name: branch.clone(),
            commit: sha.to_lowercase(),
        }));
    }
    if remote.auth.bearer_token.is_some() {
        return Ok(None);
    }
    let deadline = Instant::now() + remote.timeout;
    let mut detached = git2::Remote::create_detached(remote.connect_url()).map_err(|e| {
        SourceError::InvalidSpec {
            reason: "URLInvalid",
            message: format!("invalid URL '{}': {}", remote.url, e.message()),
        }
    })?;
    let connection = detached
        .connect_auth(
            Direction::Fetch,
            Some(remote.callbacks(deadline)),
            Some(remote.proxy_options()),
        )
        .map_err(|e| git_error(remote, "list references of", &e))?;
    let heads: Vec<(String, String)> = connection
        .list()
        .map_err(|e| git_error(remote, "list references of", &e))?
        .iter()
        .map(|head| (head.name().to_owned(), head.oid().to_string()))
        .collect();
    select(&heads, reference)
        .map(Some)
        .map_err(|e| checkout_error(remote, e))
}

/// Picks the commit for `reference` from an ls-remote listing (`name`, `oid`), preferring
/// peeled (`^{}`) entries of annotated tags.
pub fn select(
    heads: &[(String, String)],
    reference: &GitReference,
) -> Result<Resolved, SourceError> {
    let find = |refname: &str| -> Option<String> {
        let peeled = format!("{refname}^{{}}");
        heads
            .iter()
            .find(|(name, _)| *name == peeled)
            .or_else(|| heads.iter().find(|(name, _)| name == refname))
            .map(|(_, oid)| oid.clone())
    };
    let resolved = |refname: String, name: String| -> Result<Resolved, SourceError> {
        let commit = find(&refname)
            .ok_or_else(|| SourceError::Fetch(format!("couldn't find remote ref \"{refname}\"")))?;
        Ok(Resolved {
            refname: Some(refname),
            revision_name: Some(name),
            commit,
        })
    };
    match reference {
        GitReference::Branch(branch) => resolved(format!("refs/heads/{branch}"), branch.clone()),
        GitReference::Tag(tag) => resolved(format!("refs/tags/{tag}"), tag.clone()),
        GitReference::Name(name) => resolved(name.clone(), name.clone()),
        GitReference::Semver(range) => {
            let constraints = ferroflux_semver::Constraints::parse(range).map_err(|e| {
                SourceError::InvalidSpec {
                    reason: "GitOperationFailed",
                    message: format!("semver parse error: {e}"),
                }
            })?;
            let tags: Vec<&str> = heads
                .iter()
                .filter_map(|(name, _)| name.strip_prefix("refs/tags/"))
                .map(|tag| tag.trim_end_matches("^{}"))
                .collect();
            let (_, tag) = ferroflux_semver::latest_matching(&constraints, tags.iter().copied())
                .ok_or_else(|| SourceError::Fetch(format!("no match found for semver: {range}")))?;
            resolved(format!("refs/tags/{tag}"), tag.to_owned())
        }
        GitReference::Commit { sha, branch } => Ok(Resolved {
            refname: branch.as_ref().map(|b| format!("refs/heads/{b}")),
            revision_name: branch.clone(),
            commit: sha.clone(),
        }),
    }
}

/// Flux's wording for a reference the remote does not have or no tag matching the range:
/// `failed to checkout and determine revision: [unable to clone '<url>': ]<why>`.
pub(super) fn checkout_error(remote: &Remote, error: SourceError) -> SourceError {
    match error {
        SourceError::Fetch(message) if message.starts_with("couldn't find remote ref") => {
            SourceError::Fetch(format!(
                "failed to checkout and determine revision: unable to clone {}: {message}",
                remote.describe()
            ))
        }
        SourceError::Fetch(message) => SourceError::Fetch(format!(
            "failed to checkout and determine revision: {message}"
        )),
        other => other,
    }
}

/// What was checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOut {
    /// The resolved reference, completed with the fetched commit.
    pub resolved: Resolved,
    /// The commit message's first line.
    pub subject: String,
    /// The commit's signature and signed content.
    pub commit_signature: super::verify::Signed,
    /// The tag object, when the reference was a tag.
    pub tag: Option<super::verify::TagObject>,
}

/// Options of a checkout.
#[derive(Debug, Clone, Default)]
pub struct CheckoutOptions {
    /// Only these directories are written to the work tree.
    pub sparse: Vec<String>,
    /// Initialise and update submodules recursively.
    pub submodules: bool,
}

/// Fetches the resolved commit (or resolves `reference` while fetching) into `dir` and
/// checks it out.
pub fn checkout(
    remote: &Remote,
    reference: &GitReference,
    resolved: Option<&Resolved>,
    dir: &Path,
    options: &CheckoutOptions,
) -> Result<CheckedOut, SourceError> {
    let deadline = Instant::now() + remote.timeout;
    let storage = |e: std::io::Error| SourceError::Storage {
        reason: "DirectoryCreationFailed",
        message: format!("failed to create working directory: {e}"),
    };
    std::fs::create_dir_all(dir).map_err(storage)?;
    let repository =
        Repository::init(dir).map_err(|e| git_error(remote, "initialise a repository for", &e))?;
    let mut origin = repository
        .remote_anonymous(remote.connect_url())
        .map_err(|e| git_error(remote, "configure remote", &e))?;

    let (refspecs, depth) = fetch_plan(reference, resolved);
    let (mut fetch_options, headers) = remote.fetch_options(deadline, depth);
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    fetch_options.custom_headers(&header_refs);
    origin
        .fetch(&refspecs, Some(&mut fetch_options), None)
        .map_err(|e| {
            if Instant::now() >= deadline {
                timeout_error(remote)
            } else {
                git_error(remote, "fetch", &e)
            }
        })?;

    let resolved = if let Some(resolved) = resolved {
        resolved.clone()
    } else {
        let heads: Vec<(String, String)> = origin
            .list()
            .map_err(|e| git_error(remote, "list references of", &e))?
            .iter()
            .map(|head| (head.name().to_owned(), head.oid().to_string()))
            .collect();
        select(&heads, reference).map_err(|e| checkout_error(remote, e))?
    };
    let oid = git2::Oid::from_str(&resolved.commit).map_err(|_| SourceError::InvalidSpec {
        reason: "GitOperationFailed",
        message: format!("invalid commit '{}'", resolved.commit),
    })?;
    let commit = repository.find_commit(oid).map_err(|_| {
        SourceError::Fetch(format!(
            "failed to checkout and determine revision: unable to resolve commit object for '{}': object not found",
            resolved.commit
        ))
    })?;
    if options.submodules {
        // Submodules need libgit2's index and gitlinks: let libgit2 write the work tree.
        let mut builder = git2::build::CheckoutBuilder::new();
        builder.force();
        for path in &options.sparse {
            builder.path(path.trim_start_matches("./").trim_end_matches('/'));
        }
        repository
            .checkout_tree(commit.as_object(), Some(&mut builder))
            .map_err(|e| git_error(remote, "check out commit of", &e))?;
    }
    repository
        .set_head_detached(oid)
        .map_err(|e| git_error(remote, "check out commit of", &e))?;
    if options.submodules {
        update_submodules(&repository, remote, deadline, SUBMODULE_RECURSION_DEPTH)?;
    }
    let subject = short_message(&String::from_utf8_lossy(commit.message_bytes()));
    let commit_signature = match repository.extract_signature(&oid, None) {
        Ok((signature, payload)) => super::verify::Signed {
            signature: String::from_utf8_lossy(&signature).into_owned(),
            payload: payload.to_vec(),
        },
        Err(_) => super::verify::Signed {
            signature: String::new(),
            payload: Vec::new(),
        },
    };
    let tag = tag_object(&repository, &resolved);
    if !options.submodules {
        let tree = commit.tree_id();
        // Every mapped pack window is released with the last handle on the repository.
        drop(commit);
        drop(origin);
        drop(repository);
        write_work_tree(dir, tree, &options.sparse)
            .map_err(|e| git_error(remote, "check out commit of", &e))?;
    }
    Ok(CheckedOut {
        resolved,
        subject,
        commit_signature,
        tag,
    })
}

/// Checks out the commit of a pack fetched by [`super::upload_pack::fetch`] into `dir`: the
/// tree is walked first (commit and trees read on their own), then every wanted blob is
/// written in one pass over the pack's delta trees.
pub fn checkout_pack(
    remote: &Remote,
    fetched: &super::upload_pack::Fetched,
    dir: &Path,
    options: &CheckoutOptions,
) -> Result<CheckedOut, SourceError> {
    use super::object;
    use super::pack::{Kind, Pack};

    let corrupt = |message: String| super::upload_pack::clone_error(remote, &message);
    let pack = Pack::index(&fetched.pack).map_err(|e| corrupt(e.to_string()))?;
    let read = |oid: &super::pack::Oid, kind: Kind| -> Result<Vec<u8>, SourceError> {
        let entry = pack
            .find(oid)
            .filter(|entry| pack.kind(*entry) == Some(kind))
            .ok_or_else(|| {
                corrupt(format!(
                    "the fetched pack has no {kind:?} {}",
                    super::pack::hex(oid)
                ))
            })?;
        pack.read(entry).map_err(|e| corrupt(e.to_string()))
    };
    let resolved = fetched.resolved.clone();
    let tag = match resolved
        .refname
        .as_deref()
        .and_then(|r| r.strip_prefix("refs/tags/"))
    {
        Some(name) => {
            let signed = match pack.find(&fetched.target).map(|e| (e, pack.kind(e))) {
                Some((entry, Some(Kind::Tag))) => {
                    super::verify::split_tag(&pack.read(entry).map_err(|e| corrupt(e.to_string()))?)
                }
                _ => super::verify::Signed {
                    signature: String::new(),
                    payload: Vec::new(),
                },
            };
            Some(super::verify::TagObject {
                name: name.to_owned(),
                oid: super::pack::hex(&fetched.target),
                signed,
            })
        }
        None => None,
    };
    let commit_oid = super::pack::parse_oid(&resolved.commit)
        .ok_or_else(|| corrupt(format!("invalid commit '{}'", resolved.commit)))?;
    let commit = read(&commit_oid, Kind::Commit).map_err(|_| {
        SourceError::Fetch(format!(
            "failed to checkout and determine revision: unable to resolve commit object for '{}': object not found",
            resolved.commit
        ))
    })?;
    let tree = object::commit_tree(&commit)
        .ok_or_else(|| corrupt(format!("commit {} has no tree", resolved.commit)))?;
    let subject = short_message(&String::from_utf8_lossy(object::commit_message(&commit)));
    let commit_signature = object::split_commit(&commit);

    // Which pack entries go to which paths.
    let sparse = Sparse::new(&options.sparse);
    let checkout_failed = |message: String| {
        SourceError::Fetch(format!(
            "failed to checkout and determine revision: unable to check out commit of {}: {message}",
            remote.describe()
        ))
    };
    let mut files: std::collections::HashMap<usize, Vec<(std::path::PathBuf, u32)>> =
        std::collections::HashMap::new();
    let mut trees = vec![(tree, String::new())];
    let io = |e: std::io::Error| checkout_failed(e.to_string());
    std::fs::create_dir_all(dir).map_err(io)?;
    while let Some((tree, root)) = trees.pop() {
        let items = object::tree_items(&read(&tree, Kind::Tree)?).map_err(corrupt)?;
        for item in items {
            let name = String::from_utf8_lossy(&item.name);
            if let Some(why) = invalid_name(&root, &name) {
                return Err(checkout_failed(why));
            }
            let path = format!("{root}{name}");
            match item.mode {
                object::MODE_TREE => trees.push((item.oid, format!("{path}/"))),
                object::MODE_GITLINK => {
                    if sparse.contains(&path) {
                        std::fs::create_dir_all(dir.join(&path)).map_err(io)?;
                    }
                }
                mode => {
                    if !sparse.contains(&path) {
                        continue;
                    }
                    let entry = pack
                        .find(&item.oid)
                        .filter(|entry| pack.kind(*entry) == Some(Kind::Blob))
                        .ok_or_else(|| {
                            corrupt(format!(
                                "the fetched pack has no blob {} for '{path}'",
                                super::pack::hex(&item.oid)
                            ))
                        })?;
                    files
                        .entry(entry)
                        .or_default()
                        .push((dir.join(&path), mode));
                }
            }
        }
    }
    // Large files stored whole are streamed from the pack, so that no file needs its size in
    // memory; the rest come out of one pass over the delta trees.
    let (streamed, files): (
        std::collections::HashMap<_, _>,
        std::collections::HashMap<_, _>,
    ) = files.into_iter().partition(|(entry, targets)| {
        pack.size(*entry) > STREAM_ABOVE
            && pack.is_whole_leaf(*entry)
            && targets
                .iter()
                .all(|(_, mode)| i32::try_from(*mode).ok() != Some(MODE_SYMLINK))
    });
    // Writing a file fails as I/O, a damaged pack as corrupt.
    let pack_error = |e: super::pack::PackError| match e {
        super::pack::PackError::Io(error) => io(error),
        other @ super::pack::PackError::Corrupt(_) => corrupt(other.to_string()),
    };
    for (entry, targets) in &streamed {
        for (target, mode) in targets {
            stream_file(&pack, *entry, target, *mode).map_err(pack_error)?;
        }
    }
    pack.for_each(
        &|entry| files.contains_key(&entry),
        &mut |entry, content| {
            for (target, mode) in &files[&entry] {
                target
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| {
                        write_entry(target, content, i32::try_from(*mode).unwrap_or(0))
                    })?;
            }
            Ok(())
        },
    )
    .map_err(pack_error)?;
    Ok(CheckedOut {
        resolved,
        subject,
        commit_signature,
        tag,
    })
}

/// Files larger than this (stored whole in the pack) are streamed to disk; smaller ones are
/// written from memory, as they come out of the pass over the delta trees.
const STREAM_ABOVE: u64 = 4 << 20;

/// Writes the whole object `entry` of `pack` to the file `target`, executable when `mode`
/// says so.
fn stream_file(
    pack: &super::pack::Pack,
    entry: usize,
    target: &Path,
    mode: u32,
) -> Result<(), super::pack::PackError> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::io::BufWriter::with_capacity(64 << 10, std::fs::File::create(target)?);
    pack.stream(entry, &mut file)?;
    std::io::Write::flush(&mut file)?;
    if i32::try_from(mode).ok() == Some(MODE_EXECUTABLE) {
        std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Blob bytes read through one opened repository before it is reopened. libgit2 maps its
/// packfiles in windows of 1 GiB and keeps every page it touched resident until the pack is
/// closed, which only happens when the last handle on the repository goes; reopening it
/// now and then keeps the mapped part of the pack (counted in the process's RSS) small.
const BLOB_BYTES_PER_OPEN: usize = 8 << 20;

/// Git's file modes for executables and symbolic links.
const MODE_EXECUTABLE: i32 = 0o100_755;
const MODE_SYMLINK: i32 = 0o120_000;

/// Writes the files of `tree` into the work tree `dir` (whose `.git` holds the objects),
/// only under `sparse` directories when some are given. Blobs are read one at a time with
/// the repository reopened every [`BLOB_BYTES_PER_OPEN`] bytes; submodule gitlinks become
/// empty directories, as libgit2's checkout leaves them. No attribute filters are applied
/// (go-git, which Flux uses, applies none either).
fn write_work_tree(dir: &Path, tree: git2::Oid, sparse: &[String]) -> Result<(), git2::Error> {
    let sparse = Sparse::new(sparse);
    let entries = tree_entries(&Repository::open(dir)?, tree)?;
    let mut repository = Repository::open(dir)?;
    let mut read_since_open = 0;
    for entry in entries {
        if !sparse.contains(&entry.path.to_string_lossy()) {
            continue;
        }
        let target = dir.join(&entry.path);
        let Some(oid) = entry.blob else {
            std::fs::create_dir_all(&target).map_err(|e| io_error(&e))?;
            continue;
        };
        if read_since_open >= BLOB_BYTES_PER_OPEN {
            drop(repository);
            repository = Repository::open(dir)?;
            read_since_open = 0;
        }
        let blob = repository.find_blob(oid)?;
        read_since_open += blob.size();
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(&e))?;
        }
        write_entry(&target, blob.content(), entry.mode).map_err(|e| io_error(&e))?;
    }
    Ok(())
}

/// The directories of `spec.sparseCheckout` (all of the tree when none).
struct Sparse<'a>(Vec<&'a str>);

impl<'a> Sparse<'a> {
    fn new(paths: &'a [String]) -> Self {
        Self(
            paths
                .iter()
                .map(|path| path.trim_start_matches("./").trim_end_matches('/'))
                .filter(|path| !path.is_empty() && *path != ".")
                .collect(),
        )
    }

    /// Whether the file at `path` (relative to the work tree) is checked out.
    fn contains(&self, path: &str) -> bool {
        self.0.is_empty()
            || self
                .0
                .iter()
                .any(|s| path == *s || path.strip_prefix(s).is_some_and(|r| r.starts_with('/')))
    }
}

/// Why a tree entry's name cannot be checked out: it could escape the work tree or write
/// into `.git` (libgit2's checkout refuses the same names).
fn invalid_name(root: &str, name: &str) -> Option<String> {
    (name.is_empty()
        || name == "."
        || name == ".."
        || name.eq_ignore_ascii_case(".git")
        || name.contains(['/', '\0']))
    .then(|| format!("invalid path '{root}{name}'"))
}

/// One blob or gitlink of a tree, with its path relative to the work tree.
struct TreeEntry {
    path: std::path::PathBuf,
    /// The blob, or `None` for a submodule gitlink.
    blob: Option<git2::Oid>,
    mode: i32,
}

/// The blobs and gitlinks of `tree`, in tree order, refusing names that could escape the
/// work tree or write into `.git` (as libgit2's checkout does).
fn tree_entries(repository: &Repository, tree: git2::Oid) -> Result<Vec<TreeEntry>, git2::Error> {
    let tree = repository.find_tree(tree)?;
    let mut entries = Vec::new();
    let mut invalid = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
        let name = String::from_utf8_lossy(entry.name_bytes());
        if let Some(why) = invalid_name(root, &name) {
            invalid = Some(why);
            return git2::TreeWalkResult::Abort;
        }
        let path = Path::new(root).join(name.as_ref());
        match entry.kind() {
            Some(git2::ObjectType::Blob) => entries.push(TreeEntry {
                path,
                blob: Some(entry.id()),
                mode: entry.filemode(),
            }),
            Some(git2::ObjectType::Commit) => entries.push(TreeEntry {
                path,
                blob: None,
                mode: entry.filemode(),
            }),
            _ => {}
        }
        git2::TreeWalkResult::Ok
    })?;
    match invalid {
        Some(message) => Err(git2::Error::from_str(&message)),
        None => Ok(entries),
    }
}

/// Writes one blob as a file (executable when its mode says so) or a symbolic link.
fn write_entry(target: &Path, content: &[u8], mode: i32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if mode == MODE_SYMLINK {
        let link = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(content);
        return std::os::unix::fs::symlink(link, target);
    }
    std::fs::write(target, content)?;
    if mode == MODE_EXECUTABLE {
        std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

fn io_error(error: &std::io::Error) -> git2::Error {
    git2::Error::from_str(&error.to_string())
}

/// The first line of a commit message, cut at 50 characters with `...` (Flux's
/// `Commit.ShortMessage`, used in the NewArtifact event).
pub fn short_message(message: &str) -> String {
    let subject = message.split('\n').next().unwrap_or_default();
    if subject.chars().count() > 50 {
        format!("{}...", subject.chars().take(50).collect::<String>())
    } else {
        subject.to_owned()
    }
}

/// The fetched tag object behind a tag reference (a lightweight tag has no signature).
fn tag_object(repository: &Repository, resolved: &Resolved) -> Option<super::verify::TagObject> {
    let refname = resolved.refname.as_deref()?;
    let name = refname.strip_prefix("refs/tags/")?;
    let target = repository.find_reference(refname).ok()?.target()?;
    let signed = match repository.odb().ok()?.read(target) {
        Ok(object) if object.kind() == git2::ObjectType::Tag => {
            super::verify::split_tag(object.data())
        }
        _ => super::verify::Signed {
            signature: String::new(),
            payload: Vec::new(),
        },
    };
    Some(super::verify::TagObject {
        name: name.to_owned(),
        oid: target.to_string(),
        signed,
    })
}

/// Which refspecs to fetch and how deep: shallow for a branch or tag tip, everything the
/// branch (or every branch) has when looking for a given commit.
fn fetch_plan(reference: &GitReference, resolved: Option<&Resolved>) -> (Vec<String>, Option<i32>) {
    match (reference, resolved) {
        (
            GitReference::Commit {
                branch: Some(branch),
                ..
            },
            _,
        ) => (
            vec![format!("+refs/heads/{branch}:refs/remotes/origin/{branch}")],
            None,
        ),
        (GitReference::Commit { branch: None, .. }, _) => {
            (vec!["+refs/heads/*:refs/remotes/origin/*".to_owned()], None)
        }
        (
            _,
            Some(Resolved {
                refname: Some(refname),
                ..
            }),
        ) => (vec![format!("+{refname}:{refname}")], Some(1)),
        (GitReference::Branch(branch), None) => (
            vec![format!("+refs/heads/{branch}:refs/heads/{branch}")],
            Some(1),
        ),
        (GitReference::Tag(tag), None) => {
            (vec![format!("+refs/tags/{tag}:refs/tags/{tag}")], Some(1))
        }
        (GitReference::Name(name), None) => (vec![format!("+{name}:{name}")], Some(1)),
        (GitReference::Semver(_), _) | (_, Some(_)) => {
            (vec!["+refs/tags/*:refs/tags/*".to_owned()], Some(1))
        }
    }
}

pub(super) fn timeout_error(remote: &Remote) -> SourceError {
    SourceError::Fetch(format!(
        "failed to fetch '{}': timed out after {}",
        remote.url,
        ferroflux_runtime::duration::format(remote.timeout)
    ))
}

/// How deep submodules of submodules are followed (go-git's default, which Flux uses).
const SUBMODULE_RECURSION_DEPTH: u32 = 10;

/// Initialises and updates the submodules of `repository`, `depth` levels down, with the
/// remote's credentials.
fn update_submodules(
    repository: &Repository,
    remote: &Remote,
    deadline: Instant,
    depth: u32,
) -> Result<(), SourceError> {
    if depth == 0 {
        return Ok(());
    }
    let submodules = repository
        .submodules()
        .map_err(|e| git_error(remote, "list submodules of", &e))?;
    for mut submodule in submodules {
        let mut options = git2::SubmoduleUpdateOptions::new();
        let (fetch_options, _) = remote.fetch_options(deadline, None);
        options.fetch(fetch_options);
        submodule
            .update(true, Some(&mut options))
            .map_err(|e| git_error(remote, "update submodules of", &e))?;
        if let Ok(sub_repository) = submodule.open() {
            update_submodules(&sub_repository, remote, deadline, depth - 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferroflux_api::source::v1::GitRepositoryRef;

    fn heads() -> Vec<(String, String)> {
        [
            ("HEAD", "aaaa"),
            ("refs/heads/main", "aaaa"),
            ("refs/heads/dev", "bbbb"),
            ("refs/tags/v1.0.0", "cccc"),
            ("refs/tags/v1.2.0", "dddd"),
            ("refs/tags/v1.2.0^{}", "eeee"),
            ("refs/tags/v2.0.0-rc.1", "ffff"),
            ("refs/pull/1/head", "1111"),
        ]
        .iter()
        .map(|(n, o)| ((*n).to_owned(), (*o).to_owned()))
        .collect()
    }

    #[test]
    fn precedence_follows_flux() {
        let all = GitRepositoryRef {
            branch: Some("main".into()),
            tag: Some("v1".into()),
            semver: Some(">=1".into()),
            name: Some("refs/pull/1/head".into()),
            commit: Some("abc".into()),
        };
        assert_eq!(
            GitReference::from_spec(Some(&all)),
            GitReference::Commit {
                sha: "abc".into(),
                branch: Some("main".into())
            }
        );
        let no_commit = GitRepositoryRef {
            commit: None,
            ..all.clone()
        };
        assert_eq!(
            GitReference::from_spec(Some(&no_commit)),
            GitReference::Name("refs/pull/1/head".into())
        );
        let no_name = GitRepositoryRef {
            name: None,
            ..no_commit
        };
        assert_eq!(
            GitReference::from_spec(Some(&no_name)),
            GitReference::Semver(">=1".into())
        );
        assert_eq!(
            GitReference::from_spec(None),
            GitReference::Branch("master".into())
        );
    }

    #[test]
    fn short_messages_are_first_lines_cut_at_fifty_characters() {
        assert_eq!(short_message("one\ntwo\n\nbody"), "one");
        assert_eq!(short_message(""), "");
        let long = "ä".repeat(51);
        assert_eq!(short_message(&long), format!("{}...", "ä".repeat(50)));
        assert_eq!(short_message(&"x".repeat(50)), "x".repeat(50));
    }

    #[test]
    fn selects_refs_and_formats_revisions() {
        let heads = heads();
        let branch = select(&heads, &GitReference::Branch("main".into())).unwrap();
        assert_eq!(branch.revision(), "main@sha1:aaaa");
        let tag = select(&heads, &GitReference::Tag("v1.2.0".into())).unwrap();
        assert_eq!(
            tag.commit, "eeee",
            "annotated tags resolve to the commit they point at"
        );
        assert_eq!(tag.revision(), "v1.2.0@sha1:eeee");
        let name = select(&heads, &GitReference::Name("refs/pull/1/head".into())).unwrap();
        assert_eq!(name.revision(), "refs/pull/1/head@sha1:1111");
        let semver = select(&heads, &GitReference::Semver("1.x".into())).unwrap();
        assert_eq!(semver.revision(), "v1.2.0@sha1:eeee");
        let missing = select(&heads, &GitReference::Branch("nope".into())).unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("couldn't find remote ref \"refs/heads/nope\""),
            "{missing}"
        );
        let none = select(&heads, &GitReference::Semver(">=3".into())).unwrap_err();
        assert!(none.to_string().contains("no match found for semver: >=3"));
    }
}
