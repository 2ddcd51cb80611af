//! Deterministic benchmark repositories, written straight into bare repositories with
//! `git fast-import` (no working tree, no thousands of `git commit` processes).

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

const AUTHOR: &str = "Bench <bench@ferroflux.invalid>";
const EPOCH: u64 = 1_700_000_000;

/// What a generated repository holds at its tip.
pub struct Generated {
    pub files: usize,
    pub bytes: u64,
    pub commits: usize,
}

/// SplitMix64: small, fast and the same everywhere, so the content is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..high`.
    fn range(&mut self, low: usize, high: usize) -> usize {
        let span = u64::try_from(high - low).expect("usize fits u64");
        low + usize::try_from(self.next() % span).expect("less than a usize span")
    }
}

const WORDS: [&str; 32] = [
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "app",
    "spec",
    "replicas",
    "selector",
    "template",
    "containers",
    "image",
    "ports",
    "containerPort",
    "env",
    "value",
    "resources",
    "limits",
    "requests",
    "cpu",
    "memory",
    "volumeMounts",
    "mountPath",
    "config",
    "data",
    "service",
    "deployment",
    "ingress",
    "podinfo",
    "flux-system",
    "kustomization",
];

/// YAML-like text of about `size` bytes: compresses like real manifests (4-6x).
fn text(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 80);
    while out.len() < size {
        let indent = rng.range(0, 4) * 2;
        out.resize(out.len() + indent, b' ');
        let key = WORDS[rng.range(0, WORDS.len())];
        let value = WORDS[rng.range(0, WORDS.len())];
        let number = rng.next() % 10_000;
        writeln!(out, "{key}: {value}-{number}").expect("writing to a Vec");
    }
    out
}

/// Binary-ish content: 64-byte chunks that are either random or short repeated patterns,
/// so gzip saves something, but not much (like images, archives, compiled assets).
fn binary(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 64);
    while out.len() < size {
        let word = rng.next();
        if word.is_multiple_of(4) {
            let byte = word.to_le_bytes()[1];
            out.extend(std::iter::repeat_n(byte, 64));
        } else {
            for _ in 0..8 {
                out.extend_from_slice(&rng.next().to_le_bytes());
            }
        }
    }
    out.truncate(size);
    out
}

/// A running `git fast-import` into a bare repository.
struct FastImport {
    child: std::process::Child,
    input: BufWriter<std::process::ChildStdin>,
}

impl FastImport {
    fn start(bare: &Path) -> Result<Self> {
        let mut child = Command::new("git")
            .args(["fast-import", "--quiet", "--done"])
            .current_dir(bare)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdin(Stdio::piped())
            .spawn()
            .context("starting git fast-import")?;
        let stdin = child.stdin.take().context("fast-import stdin")?;
        Ok(Self {
            child,
            input: BufWriter::with_capacity(1 << 20, stdin),
        })
    }

    fn commit(&mut self, index: usize, message: &str) -> Result<()> {
        let time = EPOCH + u64::try_from(index)? * 60;
        writeln!(self.input, "commit refs/heads/main")?;
        writeln!(self.input, "author {AUTHOR} {time} +0000")?;
        writeln!(self.input, "committer {AUTHOR} {time} +0000")?;
        self.data(message.as_bytes())
    }

    fn file(&mut self, path: &str, content: &[u8]) -> Result<()> {
        writeln!(self.input, "M 100644 inline {path}")?;
        self.data(content)
    }

    fn data(&mut self, content: &[u8]) -> Result<()> {
        writeln!(self.input, "data {}", content.len())?;
        self.input.write_all(content)?;
        writeln!(self.input)?;
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        writeln!(self.input, "done")?;
        let stdin = self
            .input
            .into_inner()
            .context("flushing fast-import input")?;
        drop(stdin);
        let status = self.child.wait()?;
        if !status.success() {
            bail!("git fast-import failed with {status}");
        }
        Ok(())
    }
}

/// One commit of `files` files, about `total_bytes` in all: 99% YAML-like text of 0.5-4 KiB
/// and 1% binary-ish files that carry the rest of the bytes.
pub fn large_tree(bare: &Path, files: usize, total_bytes: usize) -> Result<Generated> {
    let mut rng = Rng(0x5EED_0001);
    let binaries = (files / 100).max(1);
    let texts = files - binaries;
    let mut import = FastImport::start(bare)?;
    import.commit(0, "A large tree\n")?;
    let mut bytes = 0;
    for i in 0..texts {
        let size = rng.range(512, 4096);
        let content = text(&mut rng, size);
        bytes += content.len();
        import.file(
            &format!(
                "apps/team-{:02}/app-{:03}/manifest-{i:05}.yaml",
                i % 50,
                i % 997
            ),
            &content,
        )?;
    }
    let binary_size = total_bytes.saturating_sub(bytes) / binaries;
    for i in 0..binaries {
        let content = binary(&mut rng, binary_size);
        bytes += content.len();
        import.file(&format!("assets/blob-{i:03}.bin"), &content)?;
    }
    import.finish()?;
    Ok(Generated {
        files,
        bytes: u64::try_from(bytes)?,
        commits: 1,
    })
}

/// `commits` commits of small changes to a tree of a few hundred small files: the first
/// commit adds `initial_files` files; each later one rewrites a line or two of one file, and
/// every 25th adds a file.
pub fn long_history(bare: &Path, commits: usize, initial_files: usize) -> Result<Generated> {
    let mut rng = Rng(0x5EED_0002);
    let mut files: Vec<Vec<String>> = Vec::new();
    let new_file = |rng: &mut Rng| -> Vec<String> {
        let size = rng.range(300, 1500);
        let text = text(rng, size);
        String::from_utf8(text)
            .expect("generated text is ASCII")
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let path = |i: usize| format!("clusters/c-{:02}/config-{i:04}.yaml", i % 20);
    let render = |lines: &[String]| {
        let mut text = lines.join("\n");
        text.push('\n');
        text
    };
    let mut import = FastImport::start(bare)?;
    import.commit(0, "Initial tree\n")?;
    for i in 0..initial_files {
        files.push(new_file(&mut rng));
        import.file(&path(i), render(&files[i]).as_bytes())?;
    }
    for commit in 1..commits {
        if commit % 25 == 0 {
            files.push(new_file(&mut rng));
            let i = files.len() - 1;
            import.commit(commit, &format!("Add config {i}\n"))?;
            import.file(&path(i), render(&files[i]).as_bytes())?;
            continue;
        }
        let i = rng.range(0, files.len());
        for _ in 0..rng.range(1, 3) {
            let line = rng.range(0, files[i].len());
            let key = WORDS[rng.range(0, WORDS.len())];
            files[i][line] = format!("{key}: changed-in-{commit}");
        }
        import.commit(commit, &format!("Change config {i} ({commit})\n"))?;
        import.file(&path(i), render(&files[i]).as_bytes())?;
    }
    import.finish()?;
    let bytes = files.iter().map(|lines| render(lines).len()).sum::<usize>();
    Ok(Generated {
        files: files.len(),
        bytes: u64::try_from(bytes)?,
        commits,
    })
}
