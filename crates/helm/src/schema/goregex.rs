//! Which regular expressions Go's `regexp/syntax` rejects, and its error texts (the
//! `format: regex` assertion of the metaschemas). Matching itself uses the `regex` crate,
//! whose syntax is close to RE2's.

/// Whether `pattern` is a valid Go regexp; Go's error text when it is not.
pub fn regex_error(pattern: &str) -> Option<String> {
    let problem = Scanner::new(pattern).scan().or_else(|| {
        regex::Regex::new(pattern)
            .err()
            .map(|_| format!("invalid or unsupported Perl syntax: `{pattern}`"))
    })?;
    Some(format!("error parsing regexp: {problem}"))
}

struct Scanner<'a> {
    pattern: &'a str,
    chars: Vec<char>,
    pos: usize,
    /// Start positions of the open groups.
    groups: Vec<usize>,
    /// Whether the last item can take a repetition operator, and the text of the
    /// repetition just applied (for nested repetition errors).
    operand: bool,
    last_repeat: Option<String>,
}

const MAX_REPEAT: u32 = 1000;

impl<'a> Scanner<'a> {
    fn new(pattern: &'a str) -> Self {
        Scanner {
            pattern,
            chars: pattern.chars().collect(),
            pos: 0,
            groups: Vec::new(),
            operand: false,
            last_repeat: None,
        }
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars[from..to.min(self.chars.len())].iter().collect()
    }

    fn rest(&self, from: usize) -> String {
        self.text(from, self.chars.len())
    }

    fn scan(mut self) -> Option<String> {
        while self.pos < self.chars.len() {
            let c = self.chars[self.pos];
            let problem = match c {
                '\\' => self.escape(),
                '[' => self.class(),
                '(' => self.group(),
                ')' => self.close(),
                '|' => {
                    self.pos += 1;
                    self.operand = false;
                    self.last_repeat = None;
                    None
                }
                '*' | '+' | '?' => self.repeat(1),
                '{' => self.brace(),
                _ => {
                    self.pos += 1;
                    self.literal();
                    None
                }
            };
            if problem.is_some() {
                return problem;
            }
        }
        (!self.groups.is_empty()).then(|| format!("missing closing ): `{}`", self.pattern))
    }

    fn literal(&mut self) {
        self.operand = true;
        self.last_repeat = None;
    }

    /// A repetition operator of `length` characters at `pos` (plus a lazy `?`).
    fn repeat(&mut self, length: usize) -> Option<String> {
        let start = self.pos;
        self.pos += length;
        if self.chars.get(self.pos) == Some(&'?') {
            self.pos += 1;
        }
        let op = self.text(start, self.pos);
        if let Some(previous) = &self.last_repeat {
            return Some(format!(
                "invalid nested repetition operator: `{previous}{}`",
                self.text(start, start + length)
            ));
        }
        if !self.operand {
            return Some(format!(
                "missing argument to repetition operator: `{}`",
                self.text(start, start + length)
            ));
        }
        self.last_repeat = Some(op);
        None
    }

    /// `{n}`, `{n,}` or `{n,m}`; anything else is a literal brace.
    fn brace(&mut self) -> Option<String> {
        let start = self.pos;
        let Some(close) = (start..self.chars.len()).find(|i| self.chars[*i] == '}') else {
            self.pos += 1;
            self.literal();
            return None;
        };
        let inner = self.text(start + 1, close);
        let (low, high) = inner.split_once(',').unwrap_or((&inner, &inner));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(low) || !(high.is_empty() || digits(high)) {
            self.pos += 1;
            self.literal();
            return None;
        }
        let low: u32 = low.parse().unwrap_or(u32::MAX);
        let high: Option<u32> = (!high.is_empty()).then(|| high.parse().unwrap_or(u32::MAX));
        if low > MAX_REPEAT || high.is_some_and(|h| h > MAX_REPEAT || h < low) {
            return Some(format!(
                "invalid repeat count: `{}`",
                self.text(start, close + 1)
            ));
        }
        self.repeat(close + 1 - start)
    }

    fn escape(&mut self) -> Option<String> {
        let start = self.pos;
        let Some(&c) = self.chars.get(start + 1) else {
            return Some("trailing backslash at end of expression: ``".to_owned());
        };
        self.pos += 2;
        self.literal();
        match c {
            'Q' => {
                let end = self.rest(self.pos).find("\\E");
                self.pos = end.map_or(self.chars.len(), |e| {
                    self.pos + self.text(self.pos, self.chars.len())[..e].chars().count() + 2
                });
                None
            }
            'p' | 'P' if self.chars.get(self.pos) == Some(&'{') => {
                let close = (self.pos..self.chars.len()).find(|i| self.chars[*i] == '}');
                self.pos = close.map_or(self.chars.len(), |i| i + 1);
                None
            }
            '1'..='7' if !matches!(self.chars.get(self.pos), Some('0'..='7')) => Some(format!(
                "invalid escape sequence: `{}`",
                self.text(start, self.pos)
            )),
            c if !c.is_ascii_alphanumeric() || "afnrtvxAbBzdDsSwWpP01234567".contains(c) => None,
            _ => Some(format!(
                "invalid escape sequence: `{}`",
                self.text(start, self.pos)
            )),
        }
    }

    fn class(&mut self) -> Option<String> {
        let start = self.pos;
        let mut i = start + 1;
        if self.chars.get(i) == Some(&'^') {
            i += 1;
        }
        let mut first = true;
        while i < self.chars.len() {
            let c = self.chars[i];
            if c == ']' && !first {
                self.pos = i + 1;
                self.literal();
                return None;
            }
            first = false;
            if c == '[' && self.chars.get(i + 1) == Some(&':') {
                let close = self.rest(i).find(":]");
                if let Some(close) = close {
                    i += self.rest(i)[..close].chars().count() + 2;
                    continue;
                }
            }
            if c == '\\' {
                i += 2;
                continue;
            }
            if self.chars.get(i + 1) == Some(&'-')
                && let Some(&high) = self.chars.get(i + 2)
                && high != ']'
                && high != '\\'
            {
                if high < c {
                    return Some(format!(
                        "invalid character class range: `{}`",
                        self.text(i, i + 3)
                    ));
                }
                i += 3;
                continue;
            }
            i += 1;
        }
        Some(format!("missing closing ]: `{}`", self.rest(start)))
    }

    fn group(&mut self) -> Option<String> {
        let start = self.pos;
        self.pos += 1;
        self.operand = false;
        self.last_repeat = None;
        if self.chars.get(self.pos) != Some(&'?') {
            self.groups.push(start);
            return None;
        }
        let rest = self.rest(start);
        if rest.starts_with("(?P<") || rest.starts_with("(?<") {
            return self.named_group(start, &rest);
        }
        let mut i = self.pos + 1;
        while let Some(&c) = self.chars.get(i) {
            match c {
                'i' | 'm' | 's' | 'U' | '-' => i += 1,
                ':' => {
                    self.groups.push(start);
                    self.pos = i + 1;
                    return None;
                }
                ')' => {
                    self.pos = i + 1;
                    return None;
                }
                _ => break,
            }
        }
        Some(format!(
            "invalid or unsupported Perl syntax: `{}`",
            self.text(start, i + 1)
        ))
    }

    fn named_group(&mut self, start: usize, rest: &str) -> Option<String> {
        let Some(end) = rest.find('>') else {
            return Some(format!("invalid named capture: `{rest}`"));
        };
        let begin = if rest.starts_with("(?P<") { 4 } else { 3 };
        let name = &rest[begin..end];
        let valid = !name.is_empty() && name.chars().all(|c| c == '_' || c.is_alphanumeric());
        if !valid {
            return Some(format!("invalid named capture: `{}`", &rest[..=end]));
        }
        self.groups.push(start);
        self.pos = start + rest[..=end].chars().count();
        None
    }

    fn close(&mut self) -> Option<String> {
        if self.groups.pop().is_none() {
            return Some(format!("unexpected ): `{}`", self.pattern));
        }
        self.pos += 1;
        self.literal();
        None
    }
}

#[cfg(test)]
mod tests {
    use super::regex_error;

    #[test]
    fn words_errors_like_go() {
        let cases = [
            ("(?=a)", "invalid or unsupported Perl syntax: `(?=`"),
            ("a{2,1}", "invalid repeat count: `{2,1}`"),
            (r"\q", r"invalid escape sequence: `\q`"),
            ("[z-a]", "invalid character class range: `z-a`"),
            ("a**", "invalid nested repetition operator: `**`"),
            ("*a", "missing argument to repetition operator: `*`"),
            ("x{1001}", "invalid repeat count: `{1001}`"),
            ("(?<=a)b", "invalid named capture: `(?<=a)b`"),
            ("a)", "unexpected ): `a)`"),
            ("[a", "missing closing ]: `[a`"),
            ("(?P<n>a", "missing closing ): `(?P<n>a`"),
            (r"\8", r"invalid escape sequence: `\8`"),
        ];
        for (pattern, want) in cases {
            assert_eq!(
                regex_error(pattern),
                Some(format!("error parsing regexp: {want}")),
                "{pattern}"
            );
        }
        for valid in [
            "^[a-z0-9-]+$",
            "a*?b",
            r"\d{2,3}",
            "(?i)x",
            "[]a]",
            "[[:alpha:]]",
        ] {
            assert_eq!(regex_error(valid), None, "{valid}");
        }
    }
}

/// Go's Perl classes (`\d`, `\w`, `\s`, `\b`) are ASCII-only; the `regex` crate's are
/// Unicode-aware. Rewrites them to explicit ASCII classes.
pub fn to_rust_syntax(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                out.push_str(&ascii_class(next, in_class));
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
                continue;
            }
            '[' if chars.peek() == Some(&':') => {
                out.push('[');
                for d in chars.by_ref() {
                    out.push(d);
                    if d == ']' {
                        break;
                    }
                }
            }
            ']' if in_class && !class_start => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
        class_start = false;
    }
    out
}

/// The ASCII form of the escape `\c`.
fn ascii_class(c: char, in_class: bool) -> String {
    let replacement = match (c, in_class) {
        ('d', false) => "[0-9]",
        ('D', false) => "[^0-9]",
        ('w', false) => "[0-9A-Za-z_]",
        ('W', false) => "[^0-9A-Za-z_]",
        ('s', false) => r"[\t\n\f\r ]",
        ('S', false) => r"[^\t\n\f\r ]",
        ('b', false) => r"(?-u:\b)",
        ('B', false) => r"(?-u:\B)",
        ('d', true) => "0-9",
        ('w', true) => "0-9A-Za-z_",
        ('s', true) => r"\t\n\f\r ",
        _ => return format!("\\{c}"),
    };
    replacement.to_owned()
}

#[cfg(test)]
mod ascii_tests {
    use super::to_rust_syntax;

    #[test]
    fn perl_classes_are_ascii_only() {
        let re = |p: &str| regex::Regex::new(&to_rust_syntax(p)).unwrap();
        assert!(!re(r"^\d+$").is_match("١٢"));
        assert!(re(r"^[\d.]+$").is_match("1.25"));
        assert!(re(r"^\w+\b").is_match("ab_c"));
        assert!(re(r"^[]a]+$").is_match("]a"));
        assert!(!re(r"^\s$").is_match("\u{a0}"));
        assert!(re(r"^[[:alpha:]\d]+$").is_match("a1"));
    }
}
