//! The parts of raw Git objects a checkout needs: a commit's tree and message, a tag's
//! target, a tree's entries, and a commit's signature split from what it signs.

use super::pack::{Oid, parse_oid};
use super::verify::Signed;

/// The headers of a raw commit or tag, up to the blank line, and the message after it.
fn headers_and_message(raw: &[u8]) -> (&[u8], &[u8]) {
    if let Some(end) = raw.windows(2).position(|pair| pair == b"\n\n") {
        (&raw[..=end], &raw[end + 2..])
    } else {
        (raw, &[])
    }
}

/// The value of the first header `name` of a raw commit or tag.
fn header<'a>(raw: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let (headers, _) = headers_and_message(raw);
    headers.split(|b| *b == b'\n').find_map(|line| {
        line.strip_prefix(name.as_bytes())
            .and_then(|rest| rest.strip_prefix(b" "))
    })
}

fn oid_header(raw: &[u8], name: &str) -> Option<Oid> {
    parse_oid(std::str::from_utf8(header(raw, name)?).ok()?)
}

/// The tree of a raw commit.
pub fn commit_tree(raw: &[u8]) -> Option<Oid> {
    oid_header(raw, "tree")
}

/// The message of a raw commit.
pub fn commit_message(raw: &[u8]) -> &[u8] {
    headers_and_message(raw).1
}

/// A raw commit's `gpgsig` signature (continuation lines unindented) and the commit without
/// that header, which is what was signed; as libgit2's `git_commit_extract_signature`.
pub fn split_commit(raw: &[u8]) -> Signed {
    let (headers, message) = headers_and_message(raw);
    let mut payload = Vec::with_capacity(raw.len());
    let mut signature: Vec<&[u8]> = Vec::new();
    let mut in_signature = false;
    let mut found = false;
    for line in headers.split_inclusive(|b| *b == b'\n') {
        if in_signature && line.first() == Some(&b' ') {
            signature.push(trim_newline(&line[1..]));
            continue;
        }
        in_signature = false;
        if !found && let Some(value) = line.strip_prefix(b"gpgsig ") {
            found = true;
            in_signature = true;
            signature.push(trim_newline(value));
            continue;
        }
        payload.extend_from_slice(line);
    }
    if !found {
        return Signed {
            signature: String::new(),
            payload: Vec::new(),
        };
    }
    payload.push(b'\n');
    payload.extend_from_slice(message);
    Signed {
        signature: String::from_utf8_lossy(&signature.join(&b'\n')).into_owned(),
        payload,
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// One entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeItem {
    /// Git's file mode (`0o100644`, `0o40000`, ...).
    pub mode: u32,
    /// The entry's name.
    pub name: Vec<u8>,
    /// The object it names.
    pub oid: Oid,
}

/// Git's mode of a subtree and of a submodule's commit.
pub const MODE_TREE: u32 = 0o40_000;
/// Git's mode of a gitlink (submodule commit).
pub const MODE_GITLINK: u32 = 0o160_000;

/// The entries of a raw tree.
pub fn tree_items(raw: &[u8]) -> Result<Vec<TreeItem>, String> {
    let mut items = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or("malformed tree entry: no mode")?;
        let mode = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|mode| u32::from_str_radix(mode, 8).ok())
            .ok_or("malformed tree entry: bad mode")?;
        rest = &rest[space + 1..];
        let nul = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or("malformed tree entry: no name end")?;
        let name = rest[..nul].to_vec();
        let oid: Oid = rest
            .get(nul + 1..nul + 21)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("malformed tree entry: truncated id")?;
        rest = &rest[nul + 21..];
        items.push(TreeItem { mode, name, oid });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_parse_into_modes_names_and_ids() {
        let mut raw = b"100644 a.yaml\0".to_vec();
        raw.extend([1; 20]);
        raw.extend(b"40000 dir\0");
        raw.extend([2; 20]);
        let items = tree_items(&raw).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            (items[0].mode, items[0].name.as_slice()),
            (0o100_644, &b"a.yaml"[..])
        );
        assert_eq!((items[1].mode, items[1].oid), (MODE_TREE, [2; 20]));
        assert!(tree_items(&raw[..raw.len() - 1]).is_err());
        assert!(tree_items(b"zz name\0").is_err());
    }

    #[test]
    fn commits_give_their_tree_message_and_signature() {
        let tree = "4b825dc642cb6eb9a060e54bf8d69288fbe4904e";
        let raw = format!(
            "tree {tree}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\nsubject\n\nbody\n"
        );
        assert_eq!(
            commit_tree(raw.as_bytes()).map(hex::encode),
            Some(tree.to_owned())
        );
        assert_eq!(commit_message(raw.as_bytes()), b"subject\n\nbody\n");
        let signed = split_commit(raw.as_bytes());
        assert_eq!(
            signed.signature,
            "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----"
        );
        assert_eq!(
            String::from_utf8(signed.payload).unwrap(),
            format!(
                "tree {tree}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nsubject\n\nbody\n"
            )
        );
        let unsigned = split_commit(b"tree x\n\nm\n");
        assert!(unsigned.signature.is_empty() && unsigned.payload.is_empty());
    }

    #[test]
    fn signatures_split_as_libgit2_extracts_them() {
        let dir = tempfile::tempdir().unwrap();
        let repository = git2::Repository::init(dir.path()).unwrap();
        let tree = repository.treebuilder(None).unwrap().write().unwrap();
        let content = format!(
            "tree {tree}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nsigned\n\nwith a body\n"
        );
        let signature =
            "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\nAAAA\n-----END SSH SIGNATURE-----";
        let oid = repository.commit_signed(&content, signature, None).unwrap();
        let raw = repository.odb().unwrap().read(oid).unwrap().data().to_vec();
        let (expected_signature, expected_payload) =
            repository.extract_signature(&oid, None).unwrap();
        let signed = split_commit(&raw);
        assert_eq!(signed.signature.as_bytes(), &*expected_signature);
        assert_eq!(signed.payload, &*expected_payload);
        assert_eq!(commit_message(&raw), b"signed\n\nwith a body\n");
    }
}
