//! gobwas/glob with `/` as separator, as `.Files.Glob` uses it: `*` stays within a path
//! segment, `**` crosses segments, `?`, `[...]`, `{a,b}` alternatives.

/// Whether `name` matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob(&p, &n, 0)
}

fn glob(p: &[char], n: &[char], depth: usize) -> bool {
    if depth > 256 {
        return false;
    }
    let Some(&first) = p.first() else {
        return n.is_empty();
    };
    match first {
        '*' if p.get(1) == Some(&'*') => (0..=n.len()).any(|k| glob(&p[2..], &n[k..], depth + 1)),
        '*' => {
            let mut k = 0;
            loop {
                if glob(&p[1..], &n[k..], depth + 1) {
                    return true;
                }
                if k >= n.len() || n[k] == '/' {
                    return false;
                }
                k += 1;
            }
        }
        '?' => !n.is_empty() && n[0] != '/' && glob(&p[1..], &n[1..], depth + 1),
        '{' => {
            let Some(close) = p.iter().position(|&c| c == '}') else {
                return !n.is_empty() && n[0] == '{' && glob(&p[1..], &n[1..], depth + 1);
            };
            let inner: String = p[1..close].iter().collect();
            inner.split(',').any(|alternative| {
                let mut candidate: Vec<char> = alternative.chars().collect();
                candidate.extend_from_slice(&p[close + 1..]);
                glob(&candidate, n, depth + 1)
            })
        }
        '[' => {
            let Some(close) = p.iter().position(|&c| c == ']') else {
                return false;
            };
            let Some(&c) = n.first() else {
                return false;
            };
            let class = &p[1..close];
            let (negate, class) = match class.first() {
                Some('!' | '^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negate && glob(&p[close + 1..], &n[1..], depth + 1)
        }
        '\\' if p.len() > 1 => !n.is_empty() && n[0] == p[1] && glob(&p[2..], &n[1..], depth + 1),
        c => !n.is_empty() && n[0] == c && glob(&p[1..], &n[1..], depth + 1),
    }
}
