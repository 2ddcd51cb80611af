//! Scanning of literals inside actions: character constants, quoted and raw strings, and
//! numbers in every Go syntax (the parser validates them afterwards).

use super::{Kind, Lexer, Token, is_alphanumeric};

impl Lexer<'_> {
    pub(super) fn lex_char(&mut self) -> Token {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        return self.error("unterminated character constant".to_owned());
                    }
                }
                None | Some('\n') => {
                    return self.error("unterminated character constant".to_owned());
                }
                Some('\'') => return self.token(Kind::CharConstant),
                Some(_) => {}
            }
        }
    }

    pub(super) fn lex_quote(&mut self) -> Token {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        return self.error("unterminated quoted string".to_owned());
                    }
                }
                None | Some('\n') => return self.error("unterminated quoted string".to_owned()),
                Some('"') => return self.token(Kind::String),
                Some(_) => {}
            }
        }
    }

    pub(super) fn lex_raw_quote(&mut self) -> Token {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".to_owned()),
                Some('`') => return self.token(Kind::RawString),
                Some(_) => {}
            }
        }
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    pub(super) fn lex_number(&mut self) -> Token {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_owned();
            return self.error(format!(
                "bad number syntax: {}",
                crate::format::quote(&text, false)
            ));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_owned();
                return self.error(format!(
                    "bad number syntax: {}",
                    crate::format::quote(&text, false)
                ));
            }
            return self.token(Kind::Complex);
        }
        self.token(Kind::Number)
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alphanumeric) {
            self.next();
            return false;
        }
        true
    }
}
