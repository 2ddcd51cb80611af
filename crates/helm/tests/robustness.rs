//! Bad charts never panic or hang: files of real charts (podinfo and the test corpus) are
//! mutated one edit at a time (proptest) and loaded and rendered through the library; the
//! packaged podinfo archive is truncated and corrupted and loaded. Errors are expected,
//! panics are not, and every render finishes within a bound.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ferroflux_helm::chart::File;
use ferroflux_helm::{TemplateOptions, loader};
use proptest::prelude::*;

fn charts() -> Vec<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut charts = vec![manifest.join("../../../shared/fixtures/charts/podinfo")];
    if let Ok(entries) = std::fs::read_dir(manifest.join("tests/charts")) {
        let mut corpus: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
        corpus.sort();
        // The crypto chart derives scrypt passwords and RSA keys: seconds per render in a
        // debug build, without any parsing to break.
        charts.extend(
            corpus
                .into_iter()
                .filter(|path| path.join("Chart.yaml").is_file() && !path.ends_with("crypto")),
        );
    }
    charts
}

const EDITS: &[&str] = &[
    "",
    "{{",
    "}}",
    "{{ end }}",
    "{{ if }}",
    "{{ range . }}",
    "{{ template \"x\" . }}",
    "{{ include \"x\" . }}",
    "{{ tpl .Values . }}",
    "{{ fail \"boom\" }}",
    "{{ required \"r\" nil }}",
    "{{/*",
    "*/}}",
    "{{- ",
    " -}}",
    "$",
    "| toYaml",
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\t",
    "'",
    "\"",
    "[",
    "]",
    "{",
    "}",
    "&a",
    "*a",
    "!!int",
    "null",
    "~",
    "---\n",
    "apiVersion: v1\n",
    "version: x\n",
    "0",
    "-1",
    "1e999",
    "\u{0}",
    "é",
];

fn render(files: Vec<File>) {
    let start = Instant::now();
    let Ok(chart) = loader::load_files(files, 0) else {
        return;
    };
    let _ = ferroflux_helm::template(&chart, &TemplateOptions::default());
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "render took {:?}",
        start.elapsed()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// One file of a real chart with one edit (a replaced span of up to 8 bytes).
    #[test]
    fn mutated_charts_fail_cleanly(
        chart in any::<prop::sample::Index>(),
        file in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        length in 0usize..8,
        edit in prop::sample::select(EDITS),
    ) {
        let charts = charts();
        let dir = &charts[chart.index(charts.len())];
        let mut files = loader::collect_dir_files(dir).expect("test chart readable");
        let index = file.index(files.len());
        let data = &files[index].data;
        let start = at.index(data.len() + 1);
        let end = (start + length).min(data.len());
        let mut mutated = data[..start].to_vec();
        mutated.extend_from_slice(edit.as_bytes());
        mutated.extend_from_slice(&data[end..]);
        files[index].data = mutated;
        render(files);
    }

    /// The packaged podinfo chart, truncated or with bytes overwritten.
    #[test]
    fn corrupted_archives_fail_cleanly(
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let archive = podinfo_archive();
        let mut data = archive[..cut.index(archive.len() + 1)].to_vec();
        for (at, byte) in flips {
            if !data.is_empty() {
                let index = at.index(data.len());
                data[index] = byte;
            }
        }
        if let Ok(chart) = loader::load_archive(&data) {
            let _ = ferroflux_helm::template(&chart, &TemplateOptions::default());
        }
    }
}

fn podinfo_archive() -> Vec<u8> {
    static ARCHIVE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ARCHIVE
        .get_or_init(|| {
            let out = tempfile::tempdir().expect("temp dir");
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            let path = ferroflux_helm::package::package(
                &manifest.join("../../../shared/fixtures/charts/podinfo"),
                out.path(),
            )
            .expect("podinfo packages");
            std::fs::read(path).expect("archive readable")
        })
        .clone()
}

/// The harness itself: the unmodified charts load and podinfo renders through it.
#[test]
fn unmodified_podinfo_renders() {
    let charts = charts();
    assert!(charts.len() > 5, "test charts missing: {charts:?}");
    let files = loader::collect_dir_files(&charts[0]).expect("podinfo readable");
    let chart = loader::load_files(files, 0).expect("podinfo loads");
    let rendered = ferroflux_helm::template(&chart, &TemplateOptions::default()).expect("renders");
    assert!(rendered.files.len() > 5);
}
