//! Lexer: splits template text into tokens, following the states of Go's text/template
//! lexer (text, delimiters, trim markers, comments, and the inside of actions).
//!
//! The whole input is lexed up front; the first error token ends the stream, as Go's
//! lexer stops at its first error.

/// Token kinds. Keywords come after `Keyword` in Go; here `is_keyword` marks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl Kind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            Kind::Block
                | Kind::Break
                | Kind::Continue
                | Kind::Dot
                | Kind::Define
                | Kind::Else
                | Kind::End
                | Kind::If
                | Kind::Nil
                | Kind::Range
                | Kind::Template
                | Kind::With
        )
    }
}

/// One token: kind, byte offset, text and the line it starts on.
#[derive(Clone, Debug)]
pub struct Token {
    pub kind: Kind,
    pub pos: usize,
    pub text: String,
    pub line: usize,
}

impl Token {
    /// How Go's parser quotes a token in error messages.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Eof => "EOF".to_owned(),
            Kind::Error => self.text.clone(),
            kind if kind.is_keyword() => format!("<{}>", self.text),
            _ if self.text.chars().count() > 10 => {
                let prefix: String = self.text.chars().take(10).collect();
                format!("{}...", crate::format::quote(&prefix, false))
            }
            _ => crate::format::quote(&self.text, false),
        }
    }
}

mod scan;

const TRIM_MARKER_LEN: usize = 2;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(char::from(b[1]))
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(char::from(b[0])) && b[1] == b'-'
}

/// Formats a rune as Go's `%#U`: `U+0021 '!'`.
pub fn go_unicode(c: char) -> String {
    if crate::format::is_print(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Lexer options fixed for one parse.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LexOptions {
    pub left: String,
    pub right: String,
    /// `break`/`continue` are keywords unless a function of that name exists.
    pub break_ok: bool,
    pub continue_ok: bool,
}

struct Lexer<'a> {
    input: &'a str,
    options: &'a LexOptions,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    paren_depth: i32,
    inside_action: bool,
}

/// Lexes the whole input; the last token is `Eof` or `Error`.
pub fn lex(input: &str, options: &LexOptions) -> Vec<Token> {
    let mut lexer = Lexer {
        input,
        options,
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        paren_depth: 0,
        inside_action: false,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token();
        let done = matches!(token.kind, Kind::Eof | Kind::Error);
        tokens.push(token);
        if done {
            return tokens;
        }
    }
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
    }

    fn token(&mut self, kind: Kind) -> Token {
        let token = Token {
            kind,
            pos: self.start,
            text: self.input[self.start..self.pos].to_owned(),
            line: self.start_line,
        };
        self.start = self.pos;
        self.start_line = self.line;
        token
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn error(&mut self, message: String) -> Token {
        let token = Token {
            kind: Kind::Error,
            pos: self.start,
            text: message,
            line: self.start_line,
        };
        self.start = self.input.len();
        self.pos = self.input.len();
        token
    }

    fn next_token(&mut self) -> Token {
        if self.inside_action {
            return self.lex_inside_action();
        }
        loop {
            if let Some(token) = self.lex_text() {
                return token;
            }
        }
    }

    /// Text up to the next left delimiter; `None` when a comment was skipped.
    fn lex_text(&mut self) -> Option<Token> {
        let Some(offset) = self.rest().find(self.options.left.as_str()) else {
            self.pos = self.input.len();
            if self.pos > self.start {
                self.line += self.input[self.start..self.pos].matches('\n').count();
                return Some(self.token(Kind::Text));
            }
            return Some(self.token(Kind::Eof));
        };
        if offset > 0 {
            self.pos += offset;
            let delimiter_end = self.pos + self.options.left.len();
            let mut trim = 0;
            if has_left_trim_marker(&self.input[delimiter_end..]) {
                let text = &self.input[self.start..self.pos];
                trim = text.len() - text.trim_end_matches(is_space).len();
            }
            self.pos -= trim;
            self.line += self.input[self.start..self.pos].matches('\n').count();
            let token = self.token(Kind::Text);
            self.pos += trim;
            self.ignore();
            if !token.text.is_empty() {
                return Some(token);
            }
        }
        self.lex_left_delim()
    }

    fn lex_left_delim(&mut self) -> Option<Token> {
        self.pos += self.options.left.len();
        let trim = has_left_trim_marker(self.rest());
        let after_marker = if trim { TRIM_MARKER_LEN } else { 0 };
        if self.input[self.pos + after_marker..].starts_with("/*") {
            self.pos += after_marker;
            self.ignore();
            return self.lex_comment();
        }
        let token = self.token(Kind::LeftDelim);
        self.inside_action = true;
        self.pos += after_marker;
        self.ignore();
        self.paren_depth = 0;
        Some(token)
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(&self.options.right) {
            return (true, true);
        }
        (rest.starts_with(&self.options.right), false)
    }

    fn lex_comment(&mut self) -> Option<Token> {
        self.pos += 2;
        let Some(end) = self.rest().find("*/") else {
            return Some(self.error("unclosed comment".to_owned()));
        };
        self.pos += end + 2;
        let (delimiter, trim) = self.at_right_delim();
        if !delimiter {
            return Some(self.error("comment ends before closing delimiter".to_owned()));
        }
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += self.options.right.len();
        if trim {
            let rest = self.rest();
            self.pos += rest.len() - rest.trim_start_matches(is_space).len();
        }
        self.ignore();
        None
    }

    fn lex_right_delim(&mut self) -> Token {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += self.options.right.len();
        let token = self.token(Kind::RightDelim);
        if trim {
            let rest = self.rest();
            self.pos += rest.len() - rest.trim_start_matches(is_space).len();
            self.ignore();
        }
        self.inside_action = false;
        token
    }

    fn lex_inside_action(&mut self) -> Token {
        let (delimiter, _) = self.at_right_delim();
        if delimiter {
            if self.paren_depth == 0 {
                return self.lex_right_delim();
            }
            return self.error("unclosed left paren".to_owned());
        }
        let Some(c) = self.next() else {
            return self.error("unclosed action".to_owned());
        };
        match c {
            c if is_space(c) => {
                self.backup(Some(c));
                self.lex_space()
            }
            '=' => self.token(Kind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".to_owned());
                }
                self.token(Kind::Declare)
            }
            '|' => self.token(Kind::Pipe),
            '"' => self.lex_quote(),
            '`' => self.lex_raw_quote(),
            '$' => self.lex_variable(),
            '\'' => self.lex_char(),
            '.' if self.peek().is_some_and(|n| !n.is_ascii_digit()) => {
                self.lex_field_or_variable(Kind::Field)
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.backup(Some(c));
                self.lex_number()
            }
            c if is_alphanumeric(c) => {
                self.backup(Some(c));
                self.lex_identifier()
            }
            '(' => {
                self.paren_depth += 1;
                self.token(Kind::LeftParen)
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error("unexpected right paren".to_owned());
                }
                self.token(Kind::RightParen)
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.token(Kind::Char),
            c => self.error(format!(
                "unrecognized character in action: {}",
                go_unicode(c)
            )),
        }
    }

    fn lex_space(&mut self) -> Token {
        let mut count = 0;
        while self.peek().is_some_and(is_space) {
            self.next();
            count += 1;
        }
        let before = &self.input[self.pos - 1..];
        if has_right_trim_marker(before)
            && before[TRIM_MARKER_LEN..].starts_with(&self.options.right)
        {
            let last = self.input[..self.pos].chars().next_back();
            self.backup(last);
            if count == 1 {
                return self.lex_right_delim();
            }
        }
        self.token(Kind::Space)
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None | Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(c) if is_space(c) => true,
            Some(_) => self.rest().starts_with(&self.options.right),
        }
    }

    fn lex_identifier(&mut self) -> Token {
        while self.peek().is_some_and(is_alphanumeric) {
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\0');
            return self.error(format!("bad character {}", go_unicode(c)));
        }
        let word = &self.input[self.start..self.pos];
        let keyword = match word {
            "block" => Some(Kind::Block),
            "break" if self.options.break_ok => Some(Kind::Break),
            "continue" if self.options.continue_ok => Some(Kind::Continue),
            "define" => Some(Kind::Define),
            "else" => Some(Kind::Else),
            "end" => Some(Kind::End),
            "if" => Some(Kind::If),
            "range" => Some(Kind::Range),
            "nil" => Some(Kind::Nil),
            "template" => Some(Kind::Template),
            "with" => Some(Kind::With),
            "true" | "false" => Some(Kind::Bool),
            _ => None,
        };
        self.token(keyword.unwrap_or(Kind::Identifier))
    }

    fn lex_variable(&mut self) -> Token {
        if self.at_terminator() {
            return self.token(Kind::Variable);
        }
        self.lex_field_or_variable(Kind::Variable)
    }

    fn lex_field_or_variable(&mut self, kind: Kind) -> Token {
        if self.at_terminator() {
            return self.token(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
        }
        while self.peek().is_some_and(is_alphanumeric) {
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\0');
            return self.error(format!("bad character {}", go_unicode(c)));
        }
        self.token(kind)
    }
}
