//! Git packfiles as a shallow fetch receives them, read without mapping them.
//!
//! libgit2 (and gitoxide) index a received pack through a memory map of it, so every page
//! of the pack they touch while resolving deltas stays in the process's resident set until
//! the pack is closed: a 66 MiB pack costs 66 MiB of RSS on top of the heap. Here the pack
//! is a plain file read with positioned reads (the kernel's page cache holds it, not the
//! process):
//!
//! 1. [`Pack::index`] reads the entries in order, inflating each to find where it ends and
//!    hashing the whole (non-delta) objects;
//! 2. it then resolves the deltas depth first from each whole object, keeping only the chain
//!    being resolved in memory, and so learns every object's id;
//! 3. [`Pack::read`] and [`Pack::for_each`] give objects back: one object by replaying its
//!    delta chain, or all wanted objects in one more depth-first pass.
//!
//! The object ids are recomputed from the content, so a corrupt or forged pack can only
//! fail to contain the objects asked for.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

use sha1::{Digest, Sha1};

/// A SHA-1 object id.
pub type Oid = [u8; 20];

/// The hex form of an object id.
pub fn hex(oid: &Oid) -> String {
    hex::encode(oid)
}

/// An object id from its hex form.
pub fn parse_oid(text: &str) -> Option<Oid> {
    let mut oid = [0; 20];
    hex::decode_to_slice(text, &mut oid).ok()?;
    Some(oid)
}

/// The four kinds of Git objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A commit.
    Commit,
    /// A tree.
    Tree,
    /// A file's content.
    Blob,
    /// An annotated tag.
    Tag,
}

impl Kind {
    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Commit),
            2 => Some(Self::Tree),
            3 => Some(Self::Blob),
            4 => Some(Self::Tag),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Commit => "commit",
            Self::Tree => "tree",
            Self::Blob => "blob",
            Self::Tag => "tag",
        }
    }
}

/// Why a pack could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The pack is malformed.
    #[error("corrupt packfile: {0}")]
    Corrupt(String),
    /// Reading the file failed.
    #[error("reading packfile: {0}")]
    Io(#[from] std::io::Error),
}

fn corrupt(message: impl Into<String>) -> PackError {
    PackError::Corrupt(message.into())
}

/// Entry type codes of the two delta representations.
const OFS_DELTA: u8 = 6;
const REF_DELTA: u8 = 7;
/// The largest allocation made up front for an object whose header claims a size.
const MAX_PREALLOCATION: u64 = 16 << 20;

/// What a delta applies to.
#[derive(Debug, Clone, Copy)]
enum Base {
    /// An earlier entry (index into the entries).
    Entry(usize),
    /// An object by id.
    Object(Oid),
}

/// One entry of the pack.
#[derive(Debug)]
struct Entry {
    /// Where the entry's header starts.
    offset: u64,
    /// Where its zlib data starts and ends.
    data: (u64, u64),
    /// The inflated size (of the delta, for deltas).
    size: u64,
    /// The object's kind; a delta's is its base's, known once resolved.
    kind: Option<Kind>,
    /// The base of a delta.
    base: Option<Base>,
    /// The object id, known for whole objects after the first pass and for deltas once
    /// resolved.
    oid: Option<Oid>,
}

/// A callback given each object's entry and content.
type Visit<'v, T> = dyn FnMut(usize, &[u8]) -> Result<T, PackError> + 'v;

/// An indexed packfile.
#[derive(Debug)]
pub struct Pack {
    file: File,
    entries: Vec<Entry>,
    by_oid: HashMap<Oid, usize>,
    /// The deltas based on each entry.
    children: HashMap<usize, Vec<usize>>,
    /// The content of every commit, tree and tag, kept while indexing: a checkout reads
    /// them all, and replaying delta chains of trees for each would cost more than keeping
    /// them (they are a small part of a repository).
    cached: HashMap<usize, Vec<u8>>,
}

impl Pack {
    /// Indexes the pack at `path`: every entry's place, kind and object id.
    pub fn index(path: &Path) -> Result<Self, PackError> {
        let file = File::open(path)?;
        let length = file.metadata()?.len();
        let (entries, cached) = scan(&file, length)?;
        let mut pack = Self {
            file,
            entries,
            by_oid: HashMap::new(),
            children: HashMap::new(),
            cached,
        };
        pack.resolve()?;
        Ok(pack)
    }

    /// The entry holding object `oid`.
    pub fn find(&self, oid: &Oid) -> Option<usize> {
        self.by_oid.get(oid).copied()
    }

    /// The kind of the object in `entry`.
    pub fn kind(&self, entry: usize) -> Option<Kind> {
        self.entries.get(entry).and_then(|e| e.kind)
    }

    /// The content of the object in `entry`, its delta chain replayed.
    pub fn read(&self, entry: usize) -> Result<Vec<u8>, PackError> {
        if let Some(content) = self.cached.get(&entry) {
            return Ok(content.clone());
        }
        let mut chain = vec![entry];
        let mut current = entry;
        while let Some(base) = self.entries[current].base {
            current = self.base_entry(base)?;
            if chain.len() > self.entries.len() {
                return Err(corrupt("delta chain loops"));
            }
            chain.push(current);
        }
        let mut content = self.inflate(chain.pop().unwrap_or(entry))?;
        while let Some(delta) = chain.pop() {
            content = apply_delta(&content, &self.inflate(delta)?)?;
        }
        Ok(content)
    }

    /// Calls `visit` with the content of every entry `wanted` accepts, resolving each delta
    /// tree once; whole objects without deltas are read on their own.
    pub fn for_each(
        &self,
        wanted: &dyn Fn(usize) -> bool,
        visit: &mut Visit<'_, ()>,
    ) -> Result<(), PackError> {
        for (index, entry) in self.entries.iter().enumerate() {
            if entry.base.is_some() {
                continue;
            }
            let children = self.children.get(&index);
            if children.is_none() && !wanted(index) {
                continue;
            }
            let content = self.inflate(index)?;
            if wanted(index) {
                visit(index, &content)?;
            }
            if let (Some(_), Some(oid)) = (children, entry.oid) {
                self.descend(
                    index,
                    oid,
                    content,
                    &HashMap::new(),
                    &mut |child, content| {
                        if wanted(child) {
                            visit(child, content)?;
                        }
                        Ok(self.entries[child].oid.unwrap_or_default())
                    },
                )?;
            }
        }
        Ok(())
    }

    /// Learns the id of every delta, resolving them depth first from their whole bases.
    fn resolve(&mut self) -> Result<(), PackError> {
        let mut by_base_id: HashMap<Oid, Vec<usize>> = HashMap::new();
        for (index, entry) in self.entries.iter().enumerate() {
            match entry.base {
                Some(Base::Entry(base)) => self.children.entry(base).or_default().push(index),
                Some(Base::Object(oid)) => by_base_id.entry(oid).or_default().push(index),
                None => {}
            }
        }
        let mut resolved: Vec<(usize, Oid, Kind)> = Vec::new();
        let mut cached = Vec::new();
        for (index, entry) in self.entries.iter().enumerate() {
            let (Some(oid), Some(kind)) = (entry.oid, entry.kind) else {
                continue;
            };
            if !self.children.contains_key(&index) && !by_base_id.contains_key(&oid) {
                continue;
            }
            let content = self.inflate(index)?;
            self.descend(index, oid, content, &by_base_id, &mut |child, content| {
                let oid = object_id(kind, content);
                resolved.push((child, oid, kind));
                if kind != Kind::Blob {
                    cached.push((child, content.to_vec()));
                }
                Ok(oid)
            })?;
        }
        self.cached.extend(cached);
        for (child, oid, kind) in resolved {
            self.entries[child].oid = Some(oid);
            self.entries[child].kind = Some(kind);
        }
        for (index, entry) in self.entries.iter().enumerate() {
            if let Some(oid) = entry.oid {
                self.by_oid.entry(oid).or_insert(index);
            }
        }
        if let Some(delta) = self.entries.iter().find(|e| e.oid.is_none()) {
            return Err(corrupt(format!(
                "delta at offset {} has no base in the pack",
                delta.offset
            )));
        }
        // From now on every delta hangs under the entry that holds its base.
        for (oid, deltas) in by_base_id {
            if let Some(&base) = self.by_oid.get(&oid) {
                self.children.entry(base).or_default().extend(deltas);
            }
        }
        Ok(())
    }

    /// Walks the deltas under `root` (whose id and content are given) depth first, keeping
    /// only the chain being resolved in memory. A delta's children are the entries based on
    /// it by offset and, through `by_base_id`, by the id `visit` returns for it.
    fn descend(
        &self,
        root: usize,
        root_oid: Oid,
        content: Vec<u8>,
        by_base_id: &HashMap<Oid, Vec<usize>>,
        visit: &mut Visit<'_, Oid>,
    ) -> Result<(), PackError> {
        struct Frame {
            content: Vec<u8>,
            children: Vec<usize>,
            next: usize,
        }
        let children_of = |index: usize, oid: &Oid| -> Vec<usize> {
            let by_offset = self.children.get(&index).into_iter().flatten();
            let by_id = by_base_id.get(oid).into_iter().flatten();
            by_offset.chain(by_id).copied().collect()
        };
        let mut stack = vec![Frame {
            content,
            children: children_of(root, &root_oid),
            next: 0,
        }];
        // A forged pack can make a delta its own base (by id): each is resolved once.
        let mut seen = std::collections::HashSet::new();
        while let Some(frame) = stack.last_mut() {
            let Some(&child) = frame.children.get(frame.next) else {
                stack.pop();
                continue;
            };
            frame.next += 1;
            if !seen.insert(child) {
                return Err(corrupt(format!(
                    "delta at offset {} is its own base",
                    self.entries[child].offset
                )));
            }
            let delta = self.inflate(child)?;
            let content = if frame.next == frame.children.len() {
                // The last delta on this base: the base is not needed any more, so a chain
                // of deltas holds one object at a time, not the whole chain.
                let base = stack.pop().map(|frame| frame.content).unwrap_or_default();
                apply_delta(&base, &delta)?
            } else {
                apply_delta(&frame.content, &delta)?
            };
            let oid = visit(child, &content)?;
            stack.push(Frame {
                children: children_of(child, &oid),
                content,
                next: 0,
            });
        }
        Ok(())
    }

    /// The entry a delta's base names.
    fn base_entry(&self, base: Base) -> Result<usize, PackError> {
        match base {
            Base::Entry(index) => Ok(index),
            Base::Object(oid) => self
                .find(&oid)
                .ok_or_else(|| corrupt(format!("delta base {} is not in the pack", hex(&oid)))),
        }
    }

    /// Whether the object in `entry` is stored whole and no delta is based on it: it can
    /// then be streamed (see [`Self::stream`]) instead of read into memory.
    pub fn is_whole_leaf(&self, entry: usize) -> bool {
        self.entries[entry].base.is_none() && !self.children.contains_key(&entry)
    }

    /// The inflated size of the object (or delta) in `entry`.
    pub fn size(&self, entry: usize) -> u64 {
        self.entries[entry].size
    }

    /// Inflates the whole object in `entry` into `out` a buffer at a time, so that a large
    /// file never sits in memory at once.
    pub fn stream(&self, entry: usize, out: &mut impl std::io::Write) -> Result<(), PackError> {
        let entry = &self.entries[entry];
        if entry.base.is_some() {
            return Err(corrupt("a delta cannot be streamed"));
        }
        let (start, end) = entry.data;
        let compressed = BufReader::with_capacity(
            64 << 10,
            Positioned {
                file: &self.file,
                position: start,
                end,
            },
        );
        let mut decoder = flate2::bufread::ZlibDecoder::new(compressed);
        let written = std::io::copy(&mut decoder, out)?;
        if written != entry.size {
            return Err(corrupt(format!(
                "entry at offset {} inflates to {written} bytes, not {}",
                entry.offset, entry.size
            )));
        }
        Ok(())
    }

    /// The inflated data of one entry (a whole object or a delta).
    fn inflate(&self, index: usize) -> Result<Vec<u8>, PackError> {
        let entry = &self.entries[index];
        let (start, end) = entry.data;
        let length = usize::try_from(end - start).map_err(|_| corrupt("entry too large"))?;
        let mut compressed = vec![0; length];
        self.file.read_exact_at(&mut compressed, start)?;
        let mut content =
            Vec::with_capacity(usize::try_from(entry.size.min(MAX_PREALLOCATION)).unwrap_or(0));
        flate2::read::ZlibDecoder::new(compressed.as_slice()).read_to_end(&mut content)?;
        if content.len() as u64 != entry.size {
            return Err(corrupt(format!(
                "entry at offset {} inflates to {} bytes, not {}",
                entry.offset,
                content.len(),
                entry.size
            )));
        }
        Ok(content)
    }
}

/// Git's object id: the SHA-1 of `<kind> <size>\0<content>`.
pub fn object_id(kind: Kind, content: &[u8]) -> Oid {
    let mut hasher = Sha1::new();
    hasher.update(format!("{} {}\0", kind.name(), content.len()).as_bytes());
    hasher.update(content);
    let mut oid = [0; 20];
    oid.copy_from_slice(&hasher.finalize());
    oid
}

/// The entries of a pack, and the content of its whole commits, trees and tags.
type Scanned = (Vec<Entry>, HashMap<usize, Vec<u8>>);

/// Reads the entries in order: header, base and the extent of the zlib data, hashing the
/// whole objects on the way.
fn scan(file: &File, length: u64) -> Result<Scanned, PackError> {
    const TRAILER: u64 = 20;
    let mut reader = Counted {
        inner: BufReader::with_capacity(64 << 10, file),
        position: 0,
    };
    let mut header = [0; 12];
    reader
        .read_exact(&mut header)
        .map_err(|_| corrupt("shorter than its header"))?;
    if &header[..4] != b"PACK" || !matches!(header[4..8], [0, 0, 0, 2 | 3]) {
        return Err(corrupt("not a version 2 or 3 packfile"));
    }
    let count = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    let mut entries: Vec<Entry> = Vec::with_capacity(count.min(1 << 20) as usize);
    let mut buffer = vec![0; 64 << 10];
    let mut cached = HashMap::new();
    for _ in 0..count {
        let offset = reader.position;
        if offset + TRAILER >= length {
            return Err(corrupt("ends before its last entry"));
        }
        let (code, size) = read_entry_header(&mut reader)?;
        let base = match code {
            OFS_DELTA => {
                let distance = read_offset(&mut reader)?;
                let base_offset = offset
                    .checked_sub(distance)
                    .filter(|_| distance > 0)
                    .ok_or_else(|| corrupt(format!("bad delta offset at {offset}")))?;
                let index = entries
                    .binary_search_by_key(&base_offset, |e| e.offset)
                    .map_err(|_| corrupt(format!("no entry at delta base offset {base_offset}")))?;
                Some(Base::Entry(index))
            }
            REF_DELTA => {
                let mut oid = [0; 20];
                reader.read_exact(&mut oid)?;
                Some(Base::Object(oid))
            }
            _ => None,
        };
        let kind =
            match base {
                Some(_) => None,
                None => Some(Kind::from_code(code).ok_or_else(|| {
                    corrupt(format!("unknown entry type {code} at offset {offset}"))
                })?),
            };
        let data_start = reader.position;
        let mut hasher = kind.map(|kind| {
            let mut hasher = Sha1::new();
            hasher.update(format!("{} {size}\0", kind.name()).as_bytes());
            hasher
        });
        let mut decoder = flate2::bufread::ZlibDecoder::new(&mut reader.inner);
        let mut inflated = 0_u64;
        let mut kept = matches!(kind, Some(Kind::Commit | Kind::Tree | Kind::Tag)).then(Vec::new);
        loop {
            let read = decoder.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            inflated += read as u64;
            if inflated > size {
                return Err(corrupt(format!(
                    "entry at offset {offset} is over its size"
                )));
            }
            if let Some(hasher) = &mut hasher {
                hasher.update(&buffer[..read]);
            }
            if let Some(kept) = &mut kept {
                kept.extend_from_slice(&buffer[..read]);
            }
        }
        if let Some(kept) = kept {
            cached.insert(entries.len(), kept);
        }
        if inflated != size {
            return Err(corrupt(format!("entry at offset {offset} is truncated")));
        }
        reader.position = data_start + decoder.total_in();
        let oid = hasher.map(|hasher| {
            let mut oid = [0; 20];
            oid.copy_from_slice(&hasher.finalize());
            oid
        });
        entries.push(Entry {
            offset,
            data: (data_start, reader.position),
            size,
            kind,
            base,
            oid,
        });
    }
    if reader.position + TRAILER != length {
        return Err(corrupt("unexpected data after the last entry"));
    }
    Ok((entries, cached))
}

/// Reads a range of a file with positioned reads.
struct Positioned<'f> {
    file: &'f File,
    position: u64,
    end: u64,
}

impl Read for Positioned<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = usize::try_from(self.end - self.position).unwrap_or(usize::MAX);
        let wanted = buf.len().min(left);
        if wanted == 0 {
            return Ok(0);
        }
        let read = self.file.read_at(&mut buf[..wanted], self.position)?;
        self.position += read as u64;
        Ok(read)
    }
}

/// A buffered reader that counts the bytes taken from it with `read`.
struct Counted<R> {
    inner: R,
    position: u64,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.position += read as u64;
        Ok(read)
    }
}

fn read_byte(reader: &mut impl Read) -> Result<u8, PackError> {
    let mut byte = [0];
    reader
        .read_exact(&mut byte)
        .map_err(|_| corrupt("truncated entry header"))?;
    Ok(byte[0])
}

/// An entry header: the type code and the inflated size.
fn read_entry_header(reader: &mut impl Read) -> Result<(u8, u64), PackError> {
    let mut byte = read_byte(reader)?;
    let code = (byte >> 4) & 0x7;
    let mut size = u64::from(byte & 0x0f);
    let mut shift = 4;
    while byte & 0x80 != 0 {
        byte = read_byte(reader)?;
        if shift > 57 {
            return Err(corrupt("entry size overflows"));
        }
        size |= u64::from(byte & 0x7f) << shift;
        shift += 7;
    }
    Ok((code, size))
}

/// The distance back to an OFS_DELTA's base.
fn read_offset(reader: &mut impl Read) -> Result<u64, PackError> {
    let mut byte = read_byte(reader)?;
    let mut distance = u64::from(byte & 0x7f);
    while byte & 0x80 != 0 {
        byte = read_byte(reader)?;
        distance = distance
            .checked_add(1)
            .and_then(|d| d.checked_mul(128))
            .ok_or_else(|| corrupt("delta offset overflows"))?
            | u64::from(byte & 0x7f);
    }
    Ok(distance)
}

/// Applies a Git delta to `base`.
pub fn apply_delta(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, PackError> {
    let mut position = 0;
    let varint = |position: &mut usize| -> Result<u64, PackError> {
        let mut value = 0_u64;
        let mut shift = 0;
        loop {
            let byte = *delta
                .get(*position)
                .ok_or_else(|| corrupt("truncated delta"))?;
            *position += 1;
            if shift > 63 {
                return Err(corrupt("delta size overflows"));
            }
            value |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
    };
    let source_size = varint(&mut position)?;
    let target_size = varint(&mut position)?;
    if source_size != base.len() as u64 {
        return Err(corrupt("delta base size mismatch"));
    }
    let mut out =
        Vec::with_capacity(usize::try_from(target_size.min(MAX_PREALLOCATION)).unwrap_or(0));
    while let Some(&op) = delta.get(position) {
        position += 1;
        if op & 0x80 != 0 {
            let mut fields = [0_u8; 7];
            for (bit, field) in fields.iter_mut().enumerate() {
                if op & (1 << bit) != 0 {
                    *field = *delta
                        .get(position)
                        .ok_or_else(|| corrupt("truncated delta"))?;
                    position += 1;
                }
            }
            let offset = u32::from_le_bytes([fields[0], fields[1], fields[2], fields[3]]) as usize;
            let mut length = u32::from_le_bytes([fields[4], fields[5], fields[6], 0]) as usize;
            if length == 0 {
                length = 0x10000;
            }
            let chunk = offset
                .checked_add(length)
                .and_then(|end| base.get(offset..end))
                .ok_or_else(|| corrupt("delta copies outside its base"))?;
            out.extend_from_slice(chunk);
        } else if op != 0 {
            let chunk = delta
                .get(position..position + usize::from(op))
                .ok_or_else(|| corrupt("truncated delta"))?;
            out.extend_from_slice(chunk);
            position += usize::from(op);
        } else {
            return Err(corrupt("delta opcode 0"));
        }
    }
    if out.len() as u64 != target_size {
        return Err(corrupt("delta result size mismatch"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let output = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// A repository of similar files over a few commits, so that packing it makes deltas of
    /// deltas; returns it with the ids of all its objects.
    fn repository() -> (tempfile::TempDir, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        for round in 0..3 {
            for file in 0..40 {
                let mut body = String::new();
                for line in 0..60 {
                    let changed = if line == round { "changed" } else { "" };
                    writeln!(body, "key{line}: value {} {changed}", line * file).unwrap();
                }
                let sub = dir.path().join(format!("d{}", file % 4));
                std::fs::create_dir_all(&sub).unwrap();
                std::fs::write(sub.join(format!("f{file}.yaml")), body).unwrap();
            }
            git(dir.path(), &["add", "-A"]);
            git(
                dir.path(),
                &["commit", "-q", "-m", &format!("round {round}")],
            );
        }
        let objects =
            String::from_utf8(git(dir.path(), &["rev-list", "--objects", "--all"])).unwrap();
        let ids = objects
            .lines()
            .map(|line| line.split(' ').next().unwrap().to_owned())
            .collect();
        (dir, ids)
    }

    fn pack_of(dir: &Path, offsets: bool) -> std::path::PathBuf {
        let mut args = vec![
            "pack-objects",
            "--revs",
            "--stdout",
            "--window=50",
            "--depth=50",
        ];
        if offsets {
            args.push("--delta-base-offset");
        }
        let output = Command::new("git")
            .args(&args)
            .current_dir(dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(b"HEAD\n")?;
                child.wait_with_output()
            })
            .unwrap();
        let path = dir.join(if offsets { "ofs.pack" } else { "ref.pack" });
        std::fs::write(&path, output.stdout).unwrap();
        path
    }

    #[test]
    fn packs_with_offset_and_reference_deltas_give_every_object_back() {
        let (dir, ids) = repository();
        for offsets in [true, false] {
            let path = pack_of(dir.path(), offsets);
            let pack = Pack::index(&path).unwrap();
            assert!(
                pack.entries.iter().filter(|e| e.base.is_some()).count() > 20,
                "the fixture makes deltas"
            );
            assert_eq!(pack.entries.len(), ids.len());
            for id in &ids {
                let entry = pack.find(&parse_oid(id).unwrap()).unwrap();
                let kind = pack.kind(entry).unwrap();
                let expected = git(dir.path(), &["cat-file", kind.name(), id]);
                assert_eq!(pack.read(entry).unwrap(), expected, "{id}");
            }
            let mut seen = 0;
            pack.for_each(&|_| true, &mut |entry, content| {
                let kind = pack.kind(entry).unwrap();
                assert_eq!(Some(object_id(kind, content)), pack.entries[entry].oid);
                seen += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(seen, ids.len());
        }
    }

    #[test]
    fn damaged_packs_are_refused_without_panicking() {
        let (dir, _) = repository();
        let path = pack_of(dir.path(), true);
        let good = std::fs::read(&path).unwrap();
        let damaged = dir.path().join("damaged.pack");
        let mut cases = vec![
            good[..good.len() / 2].to_vec(),
            good[..11].to_vec(),
            Vec::new(),
        ];
        for position in [12, 40, good.len() / 3, good.len() - 30] {
            let mut bytes = good.clone();
            bytes[position] ^= 0x5a;
            cases.push(bytes);
        }
        // And a few hundred pseudo-random byte changes in the entries' headers and data.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..300 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut bytes = good.clone();
            let position = 12 + usize::try_from(state % (good.len() as u64 - 32)).unwrap();
            bytes[position] = state.to_le_bytes()[7];
            cases.push(bytes);
        }
        for bytes in cases {
            std::fs::write(&damaged, &bytes).unwrap();
            if let Ok(pack) = Pack::index(&damaged) {
                // A flipped byte inside zlib data may survive inflation: the objects it
                // yields then have other ids, never a panic.
                let _ = pack.for_each(&|_| true, &mut |_, _| Ok(()));
            }
        }
    }

    /// A pack of `(type code, REF_DELTA base, data)` entries, with its checksum.
    fn build_pack(entries: &[(u8, Option<Oid>, Vec<u8>)]) -> Vec<u8> {
        use std::io::Write as _;
        let mut pack = b"PACK\0\0\0\x02".to_vec();
        pack.extend(u32::try_from(entries.len()).unwrap().to_be_bytes());
        for (code, base, data) in entries {
            let mut size = data.len();
            let mut byte = (code << 4) | u8::try_from(size & 0x0f).unwrap();
            size >>= 4;
            while size > 0 {
                pack.push(byte | 0x80);
                byte = u8::try_from(size & 0x7f).unwrap();
                size >>= 7;
            }
            pack.push(byte);
            pack.extend(base.iter().flatten());
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(data).unwrap();
            pack.extend(encoder.finish().unwrap());
        }
        let checksum = Sha1::digest(&pack);
        pack.extend_from_slice(&checksum);
        pack
    }

    #[test]
    fn whole_objects_stream_as_they_read() {
        let (dir, _) = repository();
        let pack = Pack::index(&pack_of(dir.path(), true)).unwrap();
        let leaves: Vec<usize> = (0..pack.entries.len())
            .filter(|entry| pack.is_whole_leaf(*entry))
            .collect();
        assert!(!leaves.is_empty());
        for entry in leaves {
            let mut streamed = Vec::new();
            pack.stream(entry, &mut streamed).unwrap();
            assert_eq!(streamed, pack.read(entry).unwrap());
        }
        let delta = (0..pack.entries.len())
            .find(|entry| pack.entries[*entry].base.is_some())
            .unwrap();
        assert!(!pack.is_whole_leaf(delta));
        assert!(pack.stream(delta, &mut Vec::new()).is_err());
    }

    #[test]
    fn a_delta_that_is_its_own_base_is_refused() {
        let content = b"hello".to_vec();
        let oid = object_id(Kind::Blob, &content);
        // Copies all of its base: the result has the base's id, so by id it is its own base.
        let copy = vec![5, 5, 0x80 | 0x10, 5];
        let bytes = build_pack(&[(3, None, content), (REF_DELTA, Some(oid), copy)]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loop.pack");
        std::fs::write(&path, bytes).unwrap();
        let error = Pack::index(&path).unwrap_err().to_string();
        assert!(error.contains("its own base"), "{error}");
    }

    #[test]
    fn deltas_copy_and_insert() {
        let base = b"hello, world";
        // Source 12 bytes, target 12: copy 7 bytes from 0, insert "there".
        let delta = [
            12,
            12,
            0x80 | 0x01 | 0x10,
            0,
            7,
            5,
            b't',
            b'h',
            b'e',
            b'r',
            b'e',
        ];
        assert_eq!(apply_delta(base, &delta).unwrap(), b"hello, there");
        assert!(apply_delta(base, &[12, 1, 0]).is_err(), "opcode 0");
        assert!(
            apply_delta(base, &[12, 100, 0x80 | 0x01 | 0x10, 0, 100]).is_err(),
            "copy out of the base"
        );
        assert!(apply_delta(b"short", &delta).is_err(), "base size mismatch");
    }
}
