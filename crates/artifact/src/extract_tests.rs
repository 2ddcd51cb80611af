//! Tests for safe extraction, with hand-crafted hostile archives.

use super::*;
use std::os::unix::fs::PermissionsExt;

use flate2::Compression;
use flate2::write::GzEncoder;
use rstest::rstest;
use tar::Header;

/// One entry of a crafted archive. Names are written raw into the header, bypassing the
/// `tar` crate's own path validation, so any byte string can be tested.
pub(crate) struct Spec {
    pub name: Vec<u8>,
    pub kind: EntryType,
    pub data: Vec<u8>,
    pub mode: u32,
    pub link: Vec<u8>,
    pub mtime: u64,
}

pub(crate) fn file(name: &str, data: &str) -> Spec {
    Spec {
        name: name.as_bytes().to_vec(),
        kind: EntryType::Regular,
        data: data.as_bytes().to_vec(),
        mode: 0o644,
        link: Vec::new(),
        mtime: 0,
    }
}

pub(crate) fn of_kind(name: &str, kind: EntryType) -> Spec {
    Spec {
        kind,
        data: Vec::new(),
        mode: 0o755,
        ..file(name, "")
    }
}

pub(crate) fn tar_bytes(specs: &[Spec]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for spec in specs {
        let mut header = Header::new_gnu();
        let old = header.as_old_mut();
        let name_len = spec.name.len().min(old.name.len());
        old.name[..name_len].copy_from_slice(&spec.name[..name_len]);
        let link_len = spec.link.len().min(old.linkname.len());
        old.linkname[..link_len].copy_from_slice(&spec.link[..link_len]);
        header.set_entry_type(spec.kind);
        header.set_size(spec.data.len() as u64);
        header.set_mode(spec.mode);
        header.set_mtime(spec.mtime);
        header.set_cksum();
        builder
            .append(&header, spec.data.as_slice())
            .expect("appending to a Vec succeeds");
    }
    builder.into_inner().expect("finishing a Vec succeeds")
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("writing to a Vec succeeds");
    encoder.finish().expect("finishing a Vec succeeds")
}

/// Extracts into `<tmp>/out` and returns the temp dir (to check nothing landed beside `out`).
fn extract(
    specs: &[Spec],
    limits: &ExtractLimits,
) -> (tempfile::TempDir, Result<ExtractSummary, ExtractError>) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let archive = gzip(&tar_bytes(specs));
    let result = extract_tar_gz(archive.as_slice(), &tmp.path().join("out"), limits);
    (tmp, result)
}

fn siblings_of_out(tmp: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(tmp)
        .expect("temp dir readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).expect("exists").permissions().mode() & 0o7777
}

#[test]
fn extracts_files_and_directories() {
    let mut exe = file("./bin/run.sh", "#!/bin/sh");
    exe.mode = 0o4755;
    let mut locked = of_kind("locked", EntryType::Directory);
    locked.mode = 0o000;
    let specs = [
        of_kind(".", EntryType::Directory),
        of_kind("apps", EntryType::Directory),
        file("apps/app.yaml", "kind: Deployment"),
        file("deep/nested//file.txt", "x"),
        exe,
        locked,
        file("locked/inner", "y"),
    ];
    let (tmp, result) = extract(&specs, &ExtractLimits::default());
    let summary = result.expect("a clean archive extracts");
    assert_eq!(
        summary,
        ExtractSummary {
            files: 4,
            directories: 3,
            skipped: 0,
            bytes: 27
        }
    );
    let out = tmp.path().join("out");
    assert_eq!(
        fs::read_to_string(out.join("apps/app.yaml")).expect("file"),
        "kind: Deployment"
    );
    assert_eq!(
        fs::read_to_string(out.join("deep/nested/file.txt")).expect("file"),
        "x"
    );
    assert_eq!(
        mode_of(&out.join("bin/run.sh")) & 0o7000,
        0,
        "setuid is dropped"
    );
    assert_eq!(mode_of(&out.join("bin/run.sh")) & 0o700, 0o700);
    assert_eq!(
        mode_of(&out.join("locked")) & 0o700,
        0o700,
        "directories stay usable"
    );
}

#[rstest]
#[case::absolute("/etc/passwd")]
#[case::parent("../evil")]
#[case::nested_parent("a/../../evil")]
#[case::trailing_parent("a/..")]
#[case::only_parent("..")]
#[case::backslash("a\\..\\evil")]
#[case::empty("")]
fn rejects_dangerous_names(#[case] name: &str) {
    let (tmp, result) = extract(&[file(name, "pwned")], &ExtractLimits::default());
    assert!(
        matches!(result, Err(ExtractError::InvalidPath { .. })),
        "{name}: {result:?}"
    );
    assert_eq!(siblings_of_out(tmp.path()), ["out"], "nothing escaped");
}

#[test]
fn rejects_dangerous_pax_and_gnu_long_names() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_pax_extensions([("path", &b"../../pax-evil"[..])])
        .expect("pax header");
    let mut header = Header::new_ustar();
    header.set_path("innocent").expect("valid path");
    header.set_size(1);
    header.set_cksum();
    builder.append(&header, &b"x"[..]).expect("append");
    let archive = gzip(&builder.into_inner().expect("finish"));
    let result = extract_tar_gz(
        archive.as_slice(),
        &tmp.path().join("out"),
        &ExtractLimits::default(),
    );
    assert!(
        matches!(result, Err(ExtractError::InvalidPath { ref name }) if name == "../../pax-evil"),
        "{result:?}"
    );

    let long = format!("{}/../../../long-evil", "d".repeat(120));
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = Header::new_gnu();
    // The crate writes a GNU long-name entry for names over 100 bytes, but refuses `..`:
    // write the long-name entry by hand.
    let mut long_header = Header::new_gnu();
    long_header.as_gnu_mut().expect("gnu").name[..13].copy_from_slice(b"././@LongLink");
    long_header.set_entry_type(EntryType::GNULongName);
    long_header.set_size(long.len() as u64 + 1);
    long_header.set_cksum();
    let mut name = long.into_bytes();
    name.push(0);
    builder
        .append(&long_header, name.as_slice())
        .expect("append");
    header.set_size(0);
    header.set_cksum();
    builder.append(&header, io::empty()).expect("append");
    let archive = gzip(&builder.into_inner().expect("finish"));
    let result = extract_tar_gz(
        archive.as_slice(),
        &tmp.path().join("out2"),
        &ExtractLimits::default(),
    );
    assert!(
        matches!(result, Err(ExtractError::InvalidPath { .. })),
        "{result:?}"
    );
}

#[test]
fn skips_links_and_never_follows_them() {
    let mut symlink = of_kind("link", EntryType::Symlink);
    symlink.link = b"/tmp".to_vec();
    let mut hardlink = of_kind("hard", EntryType::Link);
    hardlink.link = b"/etc/passwd".to_vec();
    let specs = [symlink, hardlink, file("link/inside", "ok")];
    let (tmp, result) = extract(&specs, &ExtractLimits::default());
    assert_eq!(result.expect("links are skipped").skipped, 2);
    let out = tmp.path().join("out");
    assert!(
        fs::symlink_metadata(out.join("link"))
            .expect("exists")
            .is_dir(),
        "created as a real dir"
    );
    assert!(!out.join("hard").exists());
}

#[test]
fn refuses_to_write_through_existing_symlinks() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&out).expect("mkdir");
    fs::create_dir_all(&outside).expect("mkdir");
    std::os::unix::fs::symlink(&outside, out.join("escape")).expect("symlink");
    std::os::unix::fs::symlink(outside.join("f"), out.join("file-link")).expect("symlink");
    for name in ["escape/evil", "file-link"] {
        let archive = gzip(&tar_bytes(&[file(name, "pwned")]));
        let result = extract_tar_gz(archive.as_slice(), &out, &ExtractLimits::default());
        assert!(
            matches!(result, Err(ExtractError::UnsafeDestination(_))),
            "{name}: {result:?}"
        );
    }
    assert_eq!(
        fs::read_dir(&outside).expect("readable").count(),
        0,
        "nothing written outside"
    );
}

#[rstest]
#[case::fifo(EntryType::Fifo)]
#[case::char_device(EntryType::Char)]
#[case::block_device(EntryType::Block)]
fn rejects_special_files(#[case] kind: EntryType) {
    let (_tmp, result) = extract(&[of_kind("dev", kind)], &ExtractLimits::default());
    assert!(
        matches!(result, Err(ExtractError::UnsupportedType { kind: k, .. }) if k == kind),
        "{result:?}"
    );
}

#[test]
fn enforces_the_size_limit() {
    let specs = [file("a", "12345"), file("b", "67890")];
    let limits = ExtractLimits {
        max_total_size: Some(9),
        max_entries: None,
    };
    let (_tmp, result) = extract(&specs, &limits);
    assert!(
        matches!(result, Err(ExtractError::TooLarge { ref name, limit: 9 }) if name == "b"),
        "{result:?}"
    );
    let (_tmp, result) = extract(&specs, &ExtractLimits::unlimited());
    assert_eq!(result.expect("unlimited").bytes, 10);
}

#[test]
fn enforces_the_entry_limit() {
    let specs: Vec<_> = (0..4)
        .map(|i| of_kind(&format!("d{i}"), EntryType::Directory))
        .collect();
    let limits = ExtractLimits {
        max_total_size: None,
        max_entries: Some(3),
    };
    let (_tmp, result) = extract(&specs, &limits);
    assert!(
        matches!(result, Err(ExtractError::TooManyEntries { limit: 3 })),
        "{result:?}"
    );
}

#[test]
fn requires_gzip_and_a_complete_tar() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let plain = tar_bytes(&[file("a", "x")]);
    for input in [plain.as_slice(), b"", b"\x1f"] {
        let result = extract_tar_gz(input, &tmp.path().join("out"), &ExtractLimits::default());
        assert!(
            matches!(result, Err(ExtractError::NotGzip(_))),
            "{result:?}"
        );
    }
    let mut big = file("big", &"y".repeat(4096));
    big.mode = 0o600;
    let tar = tar_bytes(&[big]);
    let truncated = gzip(&tar[..1024]);
    let result = extract_tar_gz(
        truncated.as_slice(),
        &tmp.path().join("out"),
        &ExtractLimits::default(),
    );
    assert!(matches!(result, Err(ExtractError::Tar(_))), "{result:?}");
}

#[test]
fn clamps_future_mtimes_and_skips_global_headers() {
    let mut past = file("past", "p");
    past.mtime = 1_000_000;
    let mut future = file("future", "f");
    future.mtime = 32_503_680_000; // year 3000
    let global = of_kind("pax_global_header", EntryType::XGlobalHeader);
    let (tmp, result) = extract(&[global, past, future], &ExtractLimits::default());
    assert_eq!(result.expect("extracts").skipped, 1);
    let out = tmp.path().join("out");
    let modified = |n: &str| {
        fs::metadata(out.join(n))
            .expect("exists")
            .modified()
            .expect("mtime")
    };
    assert_eq!(
        modified("past"),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)
    );
    assert!(modified("future") <= SystemTime::now());
    assert!(!out.join("pax_global_header").exists());
}

#[test]
fn round_trips_an_archived_tree() {
    let source = tempfile::tempdir().expect("temp dir");
    fs::create_dir_all(source.path().join("a/b")).expect("mkdir");
    fs::write(source.path().join("a/b/c.yaml"), "c").expect("write");
    fs::write(source.path().join("top.yaml"), "t").expect("write");
    let store = tempfile::tempdir().expect("temp dir");
    let storage = crate::Storage::new(store.path().to_path_buf(), "h".into());
    let mut artifact = storage.artifact_for("GitRepository", "ns", "n", "r", "x.tar.gz");
    storage
        .archive(&mut artifact, source.path(), &crate::NoFilter)
        .expect("archive");
    let out = store.path().join("unpacked");
    let file = File::open(storage.local_path(&artifact).expect("valid")).expect("exists");
    let summary = extract_tar_gz(file, &out, &ExtractLimits::default()).expect("extracts");
    assert_eq!((summary.files, summary.directories), (2, 3));
    assert_eq!(
        fs::read_to_string(out.join("a/b/c.yaml")).expect("file"),
        "c"
    );
    assert_eq!(fs::read_to_string(out.join("top.yaml")).expect("file"), "t");
}
