//! Tests for the artifact store.

use super::*;

fn store() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().expect("a temporary directory can be created");
    let storage = Storage::new(dir.path().to_path_buf(), "host:9090".into());
    (dir, storage)
}

#[test]
fn copy_from_writes_atomically_with_digest() {
    let (_dir, storage) = store();
    let mut artifact = storage.artifact_for("HelmChart", "ns", "chart", "1.0.0", "chart-1.0.0.tgz");
    assert_eq!(
        artifact.url,
        "http://host:9090/helmchart/ns/chart/chart-1.0.0.tgz"
    );
    storage
        .copy_from(&mut artifact, &b"abc"[..])
        .expect("copy succeeds");
    assert_eq!(
        artifact.digest,
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(artifact.size, Some(3));
    assert!(storage.exists(&artifact));
    storage
        .verify(&artifact)
        .expect("a fresh artifact verifies");
    let dir = storage
        .object_dir("HelmChart", "ns", "chart")
        .expect("valid object dir");
    let mut names: Vec<_> = fs::read_dir(dir)
        .expect("object dir exists")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["chart-1.0.0.tgz", "chart-1.0.0.tgz.lock"],
        "no temporary file is left"
    );
}

#[test]
fn verify_detects_corruption_and_disappearance() {
    let (_dir, storage) = store();
    let mut artifact = storage.artifact_for("Bucket", "ns", "b", "sha256:00", "x.tar.gz");
    assert!(matches!(
        storage.verify(&artifact),
        Err(StorageError::NoDigest)
    ));
    storage
        .copy_from(&mut artifact, &b"data"[..])
        .expect("copy succeeds");
    let local = storage.local_path(&artifact).expect("valid path");
    fs::write(&local, b"tampered").expect("file is writable");
    let err = storage.verify(&artifact).expect_err("tampered file fails");
    assert!(
        err.to_string().starts_with("computed digest doesn't match"),
        "{err}"
    );
    fs::remove_file(&local).expect("file exists");
    assert!(!storage.exists(&artifact));
    assert!(matches!(
        storage.verify(&artifact),
        Err(StorageError::Io { .. })
    ));
}

#[test]
fn refuses_paths_outside_the_root() {
    let (_dir, storage) = store();
    for path in ["", "/etc/passwd", "../x", "a/../../x"] {
        let mut artifact = storage.artifact_for("Bucket", "ns", "b", "r", "x");
        artifact.path = path.to_owned();
        assert!(
            matches!(
                storage.local_path(&artifact),
                Err(StorageError::InvalidPath(_))
            ),
            "{path}"
        );
    }
}

#[test]
fn symlink_points_at_the_artifact() {
    let (_dir, storage) = store();
    let mut artifact = storage.artifact_for("OCIRepository", "ns", "o", "r", "sha256:ab.tar.gz");
    storage
        .copy_from(&mut artifact, &b"one"[..])
        .expect("copy succeeds");
    let url = storage
        .symlink(&artifact, "latest.tar.gz")
        .expect("symlink succeeds");
    assert_eq!(url, "http://host:9090/ocirepository/ns/o/latest.tar.gz");
    // A second call replaces the link rather than failing.
    storage
        .symlink(&artifact, "latest.tar.gz")
        .expect("symlink is replaceable");
    let link = storage
        .object_dir("OCIRepository", "ns", "o")
        .expect("valid")
        .join("latest.tar.gz");
    assert_eq!(fs::read(link).expect("link resolves"), b"one");
}

#[test]
fn removal() {
    let (_dir, storage) = store();
    let mut old = storage.artifact_for("GitRepository", "ns", "g", "r1", "a.tar.gz");
    let mut current = storage.artifact_for("GitRepository", "ns", "g", "r2", "b.tar.gz");
    storage
        .copy_from(&mut old, &b"1"[..])
        .expect("copy succeeds");
    storage
        .copy_from(&mut current, &b"2"[..])
        .expect("copy succeeds");
    storage
        .symlink(&current, "latest.tar.gz")
        .expect("symlink succeeds");
    let mut removed = storage
        .remove_all_but_current(&current)
        .expect("removal succeeds");
    removed.sort();
    let names: Vec<_> = removed
        .iter()
        .map(|p| p.file_name().expect("file").to_owned())
        .collect();
    assert_eq!(names, ["a.tar.gz", "a.tar.gz.lock", "b.tar.gz.lock"]);
    assert!(storage.exists(&current));
    let dir = storage
        .remove_all("GitRepository", "ns", "g")
        .expect("removal succeeds");
    assert!(dir.is_some_and(|d| !d.exists()));
    assert_eq!(
        storage
            .remove_all("GitRepository", "ns", "g")
            .expect("idempotent"),
        None
    );
}

#[test]
fn empty_advertised_host_defaults_like_flux() {
    let storage = Storage::new(PathBuf::from("/data"), String::new());
    assert_eq!(storage.advertised_host(), "localhost:9090");
}
