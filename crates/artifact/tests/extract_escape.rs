//! Property tests: whatever an archive contains, extraction never panics, never writes outside
//! the destination and never leaves a symlink or special file behind.

use std::io::Write;
use std::path::{Component, Path};

use ferroflux_artifact::{ExtractLimits, entry_relative_path, extract_tar_gz};
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use tar::{EntryType, Header};

fn component() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "b", "..", ".", "", "c d", "x\\..", "ü", "..."])
}

fn kind() -> impl Strategy<Value = EntryType> {
    prop::sample::select(vec![
        EntryType::Regular,
        EntryType::Regular,
        EntryType::Directory,
        EntryType::Symlink,
        EntryType::Link,
        EntryType::Fifo,
        EntryType::Char,
        EntryType::XGlobalHeader,
    ])
}

/// (leading slash, components, entry type, link target, content)
type EntrySpec = (bool, Vec<&'static str>, EntryType, &'static str, Vec<u8>);

fn entry() -> impl Strategy<Value = EntrySpec> {
    (
        any::<bool>(),
        prop::collection::vec(component(), 1..5),
        kind(),
        prop::sample::select(vec!["/etc", "..", "../..", "a", "/tmp/x"]),
        prop::collection::vec(any::<u8>(), 0..64),
    )
}

fn build(entries: &[EntrySpec]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (absolute, components, kind, link, data) in entries {
        let mut name = if *absolute {
            String::from("/")
        } else {
            String::new()
        };
        name.push_str(&components.join("/"));
        let mut header = Header::new_gnu();
        let old = header.as_old_mut();
        let len = name.len().min(old.name.len());
        old.name[..len].copy_from_slice(&name.as_bytes()[..len]);
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(*kind);
        let data: &[u8] = if *kind == EntryType::Regular {
            data
        } else {
            &[]
        };
        header.set_size(data.len() as u64);
        header.set_mode(0o777);
        header.set_cksum();
        builder
            .append(&header, data)
            .expect("appending to a Vec succeeds");
    }
    let tar = builder.into_inner().expect("finishing a Vec succeeds");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(&tar).expect("writing to a Vec succeeds");
    encoder.finish().expect("finishing a Vec succeeds")
}

fn assert_only_files_and_dirs(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("extracted dirs are readable") {
        let entry = entry.expect("entry");
        let file_type = entry.file_type().expect("type");
        assert!(
            file_type.is_file() || file_type.is_dir(),
            "{} is {file_type:?}",
            entry.path().display()
        );
        if file_type.is_dir() {
            assert_only_files_and_dirs(&entry.path());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn extraction_never_escapes(entries in prop::collection::vec(entry(), 0..8)) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dest = tmp.path().join("out");
        let archive = build(&entries);
        let _ = extract_tar_gz(archive.as_slice(), &dest, &ExtractLimits::default());
        let siblings: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("temp dir readable")
            .map(|e| e.expect("entry").file_name())
            .collect();
        prop_assert_eq!(siblings, vec![std::ffi::OsString::from("out")]);
        assert_only_files_and_dirs(&dest);
    }

    #[test]
    fn accepted_names_are_plain_relative_paths(name in prop::collection::vec(any::<u8>(), 0..40)) {
        if let Some(path) = entry_relative_path(&name) {
            prop_assert!(path.components().all(|c| matches!(c, Component::Normal(_))));
        }
    }

    #[test]
    fn garbage_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut gzipped = GzEncoder::new(Vec::new(), Compression::fast());
        gzipped.write_all(&bytes).expect("writing to a Vec succeeds");
        let gzipped = gzipped.finish().expect("finishing a Vec succeeds");
        let _ = extract_tar_gz(gzipped.as_slice(), &tmp.path().join("out"), &ExtractLimits::default());
        let _ = extract_tar_gz(bytes.as_slice(), &tmp.path().join("raw"), &ExtractLimits::default());
    }
}
