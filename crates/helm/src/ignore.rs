//! `.helmignore` rules: Helm's own matcher (not full gitignore): `filepath.Match` on the
//! base name, or on the whole path when the pattern has a slash; `dir/` matches
//! directories only; `!` negates; the default rule hides dotfiles under templates/.

/// Parsed ignore rules.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

#[derive(Clone, Debug)]
struct Pattern {
    raw: String,
    negate: bool,
    must_dir: bool,
}

impl Rules {
    /// Parses `.helmignore` text and adds Helm's default (`templates/.?*`).
    pub fn parse(text: &str) -> Rules {
        let mut rules = Rules::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line == "!" {
                continue;
            }
            let (negate, rest) = line.strip_prefix('!').map_or((false, line), |r| (true, r));
            let (must_dir, rest) = rest.strip_suffix('/').map_or((false, rest), |r| (true, r));
            let raw = rest.strip_prefix('/').unwrap_or(rest).to_owned();
            if raw.contains("**") {
                continue;
            }
            rules.patterns.push(Pattern {
                raw,
                negate,
                must_dir,
            });
        }
        rules.patterns.push(Pattern {
            raw: "templates/.?*".to_owned(),
            negate: false,
            must_dir: false,
        });
        rules
    }

    /// Whether `path` (slash-separated, relative) is ignored.
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for pattern in &self.patterns {
            if pattern.must_dir && !is_dir {
                continue;
            }
            let matched = if pattern.raw.contains('/') {
                go_match(&pattern.raw, path)
            } else {
                let base = path.rsplit('/').next().unwrap_or(path);
                go_match(&pattern.raw, base)
            };
            if pattern.negate {
                if matched {
                    return false;
                }
            } else if matched {
                return true;
            }
        }
        false
    }
}

/// Go's `filepath.Match` (`*`, `?`, `[...]`, `\` escapes; `*` does not cross `/`).
pub fn go_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n, 0)
}

fn match_from(p: &[char], n: &[char], depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    let (mut pi, mut ni) = (0, 0);
    while pi < p.len() {
        match p[pi] {
            '*' => {
                let rest = &p[pi + 1..];
                let mut k = ni;
                loop {
                    if match_from(rest, &n[k..], depth + 1) {
                        return true;
                    }
                    if k >= n.len() || n[k] == '/' {
                        return false;
                    }
                    k += 1;
                }
            }
            '?' => {
                if ni >= n.len() || n[ni] == '/' {
                    return false;
                }
                pi += 1;
                ni += 1;
            }
            '[' => {
                let Some((matched, next)) = class(p, pi, n.get(ni).copied()) else {
                    return false;
                };
                if !matched {
                    return false;
                }
                pi = next;
                ni += 1;
            }
            '\\' if pi + 1 < p.len() => {
                if n.get(ni) != Some(&p[pi + 1]) {
                    return false;
                }
                pi += 2;
                ni += 1;
            }
            c => {
                if n.get(ni) != Some(&c) {
                    return false;
                }
                pi += 1;
                ni += 1;
            }
        }
    }
    ni == n.len()
}

fn class(p: &[char], start: usize, c: Option<char>) -> Option<(bool, usize)> {
    let c = c?;
    if c == '/' {
        return Some((false, start + 1));
    }
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('^' | '!'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() && (first || p[i] != ']') {
        first = false;
        let low = p[i];
        let high = if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
            i += 2;
            p[i]
        } else {
            low
        };
        if low <= c && c <= high {
            matched = true;
        }
        i += 1;
    }
    if i >= p.len() {
        return None;
    }
    Some((matched != negate, i + 1))
}
