//! Odd repository content: symlinks leaving the checkout, broken `.sourceignore` files and
//! a repository larger than consumers' default extraction limit. Flux's archiver stores
//! regular files and directories only, never fails on an ignore pattern, and has no size
//! limit for Git artifacts.

use std::path::Path;

use ferroflux_api::meta::ConditionStatus;
use ferroflux_testkit::git_server::Repo;

use crate::harness::{Harness, spec};

/// Commits whatever `prepare` put in the scratch work tree of `repo` (symlinks, binary
/// files) and pushes it to `main`; returns the commit id.
fn commit_work_tree(
    harness: &Harness,
    repo: &Repo,
    message: &str,
    prepare: impl FnOnce(&Path),
) -> String {
    prepare(&harness.git.root().join("work").join(repo.name()));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", message]);
    repo.git(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
    repo.git(&["rev-parse", "HEAD"])
}

#[tokio::test]
async fn symlinks_are_left_out_of_the_artifact() {
    let harness = Harness::start("git-symlinks").await;
    let repo = harness.git.create_repo("app");
    repo.commit(&[("app/a.yaml", "a")], "one");
    let sha = commit_work_tree(&harness, &repo, "links", |work| {
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(target, work.join(name)).unwrap();
        };
        link("../../../../../../../../etc/passwd", "app/escape.yaml");
        link("/etc/hostname", "absolute.yaml");
        link("/etc", "etc");
        link("a.yaml", "app/inside.yaml");
        link("app", "app-link");
        link("/does/not/exist", "dangling");
    });
    let files = harness
        .stored_files(
            "app",
            spec(&harness.git.public_url(&repo), None),
            &format!("main@sha1:{sha}"),
        )
        .await;
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        ["app/a.yaml"],
        "symlinks, inside or outside the checkout, are never archived nor followed"
    );
}

#[tokio::test]
async fn broken_sourceignore_files_never_fail_the_reconciliation() {
    let harness = Harness::start("git-sourceignore").await;
    let repo = harness.git.create_repo("app");
    repo.commit(
        &[
            ("deploy/a.yaml", "a"),
            ("deploy/notes.md", "notes"),
            ("deploy/keep.md", "keep"),
            ("docs/guide.txt", "guide"),
            ("[x].yaml", "brackets"),
            ("other/b.yaml", "b"),
            ("other/c.txt", "c"),
        ],
        "tree",
    );
    let sha = commit_work_tree(&harness, &repo, "ignore rules", |work| {
        // Invalid globs never match (go-git's gitignore), CRLF line ends, blank lines,
        // comments, negation, trailing spaces.
        let rules = "[\r\n*.md\r\n!keep.md\r\n\r\n# docs/\r\ndocs/   \r\na[b\r\n\\\r\n{x\r\n";
        std::fs::write(work.join(".sourceignore"), rules).unwrap();
        // Not UTF-8: read byte-wise like Go does; the valid line still applies.
        std::fs::write(work.join("other/.sourceignore"), b"\xff\xfe\n*.txt\n").unwrap();
        // A directory named .sourceignore holds no rules, and its files are content.
        std::fs::create_dir_all(work.join("deploy/.sourceignore")).unwrap();
        std::fs::write(work.join("deploy/.sourceignore/readme.yaml"), "r").unwrap();
    });
    harness
        .create("app", spec(&harness.git.public_url(&repo), None))
        .await;
    let object = harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;
    let files = harness.download(&object).await;
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            ".sourceignore",
            "[x].yaml",
            "deploy/.sourceignore/readme.yaml",
            "deploy/a.yaml",
            "deploy/keep.md",
            "other/.sourceignore",
            "other/b.yaml",
        ],
        "{files:?}"
    );

    // An invalid spec.ignore pattern is skipped the same way.
    let mut only_invalid = spec(&harness.git.public_url(&repo), None);
    only_invalid.ignore = Some("[\n".into());
    harness.create("invalid", only_invalid).await;
    let object = harness
        .wait_ready("invalid", ConditionStatus::True, None)
        .await;
    assert!(
        harness
            .download(&object)
            .await
            .contains_key("deploy/keep.md"),
        "an invalid spec.ignore pattern does not fail the artifact"
    );
}

#[tokio::test]
async fn repositories_over_the_consumer_extraction_limit_are_still_stored() {
    const SIZE: usize = (100 << 20) + (1 << 20);
    let harness = Harness::start("git-large").await;
    let repo = harness.git.create_repo("app");
    repo.commit(&[("small.yaml", "s")], "small");
    let sha = commit_work_tree(&harness, &repo, "large", |work| {
        // Zeros compress to almost nothing in Git and in the artifact.
        std::fs::write(work.join("large.bin"), vec![0_u8; SIZE]).unwrap();
    });
    harness
        .create("app", spec(&harness.git.public_url(&repo), None))
        .await;
    let object = harness
        .wait_ready(
            "app",
            ConditionStatus::True,
            Some(&format!("main@sha1:{sha}")),
        )
        .await;
    let artifact = object.status.unwrap().artifact.unwrap();
    assert!(artifact.size.is_some_and(|size| size > 0));

    // A consumer with fluxcd/pkg's default 100 MiB untar limit refuses the archive ...
    let dest = tempfile::tempdir().unwrap();
    let limited = ferroflux_artifact::FetchOptions {
        retries: 0,
        ..Default::default()
    };
    let error = ferroflux_artifact::fetch(&artifact.url, &artifact.digest, dest.path(), &limited)
        .await
        .expect_err("the expanded size is over the default limit");
    assert!(error.to_string().contains("size"), "{error}");
    // ... while the kustomize-controller's (unlimited, as in Flux) extracts it.
    let unlimited = ferroflux_artifact::FetchOptions {
        retries: 0,
        limits: ferroflux_artifact::ExtractLimits::unlimited(),
        ..Default::default()
    };
    let dest = tempfile::tempdir().unwrap();
    ferroflux_artifact::fetch(&artifact.url, &artifact.digest, dest.path(), &unlimited)
        .await
        .expect("no limit, no failure");
    let large = std::fs::metadata(dest.path().join("large.bin")).unwrap();
    assert_eq!(large.len(), SIZE as u64);
}

#[tokio::test]
async fn includes_never_write_through_symlinks_or_above_the_checkout() {
    let harness = Harness::start("git-include-links").await;
    let outside = tempfile::tempdir().unwrap();
    let shared = harness.git.create_repo("shared");
    shared.commit(&[("base/common.yaml", "common")], "shared");
    harness
        .create("shared", spec(&harness.git.public_url(&shared), None))
        .await;
    harness
        .wait_ready("shared", ConditionStatus::True, None)
        .await;
    let app = harness.git.create_repo("app");
    app.commit(&[("app.yaml", "app")], "app");
    let outside_path = outside.path().display().to_string();
    commit_work_tree(&harness, &app, "links", |work| {
        std::os::unix::fs::symlink(&outside_path, work.join("vendor")).unwrap();
    });

    let include = |to_path: &str| ferroflux_api::source::v1::GitRepositoryInclude {
        repository: ferroflux_api::meta::LocalObjectReference {
            name: "shared".into(),
        },
        from_path: Some("base".into()),
        to_path: Some(to_path.into()),
    };
    let mut object = spec(&harness.git.public_url(&app), None);
    object.include = Some(vec![include("vendor/shared"), include("../../escape")]);
    harness.create("app", object).await;
    let object = harness.wait_ready("app", ConditionStatus::True, None).await;
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing is written where the repository's symlink points"
    );
    // As Go's SecureJoin: the absolute symlink target is taken inside the checkout, and
    // `..` stops at the checkout's root.
    let relocated = format!(
        "{}/shared/common.yaml",
        outside_path.trim_start_matches('/')
    );
    assert_eq!(
        harness.download(&object).await.keys().collect::<Vec<_>>(),
        ["app.yaml", "escape/common.yaml", relocated.as_str()]
    );

    // An include over an existing, non-empty directory fails like Flux's rename.
    let mut clash = spec(&harness.git.public_url(&app), None);
    clash.include = Some(vec![include("/")]);
    harness.create("clash", clash).await;
    let object = harness
        .wait_ready("clash", ConditionStatus::False, None)
        .await;
    let (reason, message) = Harness::ready_message(&object);
    assert_eq!(reason, "CopyFailure", "{message}");
    assert_eq!(
        message,
        "failed to copy 'shared' include from base to /: destination '/' exists and is not empty"
    );
}
