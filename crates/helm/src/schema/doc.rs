//! The schema document: JSON parsed the way Go's `encoding/json` decoder with `UseNumber`
//! does (numbers keep their source text, the last duplicate key wins), and with the same
//! syntax error texts.

/// A parsed JSON value of a schema document.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written in the source (Go's `json.Number`).
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Doc>),
    /// An object; keys are unique (the last duplicate wins, as in Go maps).
    Obj(Vec<(String, Doc)>),
}

impl Doc {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Doc> {
        match self {
            Doc::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Doc::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_obj(&self) -> Option<&[(String, Doc)]> {
        match self {
            Doc::Obj(members) => Some(members),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_arr(&self) -> Option<&[Doc]> {
        match self {
            Doc::Arr(items) => Some(items),
            _ => None,
        }
    }
}

/// Parses one JSON document; errors read like Go's decoder.
pub fn parse(bytes: &[u8]) -> Result<Doc, String> {
    let mut parser = Parser { bytes, pos: 0 };
    parser.skip_space();
    if parser.pos >= bytes.len() {
        return Err("EOF".to_owned());
    }
    let doc = parser.value(0)?;
    parser.skip_space();
    if parser.pos < bytes.len() {
        return Err("invalid character after top-level value".to_owned());
    }
    Ok(doc)
}

/// How Go's scanner prints an offending byte.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        b'\n' => r"'\n'".to_owned(),
        b'\r' => r"'\r'".to_owned(),
        b'\t' => r"'\t'".to_owned(),
        0x07 => r"'\a'".to_owned(),
        0x08 => r"'\b'".to_owned(),
        0x0c => r"'\f'".to_owned(),
        0x0b => r"'\v'".to_owned(),
        b'\\' => r"'\\'".to_owned(),
        c if c < 0x20 || c == 0x7f => format!("'\\x{c:02x}'"),
        c => format!("'{}'", char::from(c)),
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Nesting limit (Go allows 10000; deeper than this is not a real schema and would only
/// exhaust the stack).
const MAX_DEPTH: usize = 512;

impl Parser<'_> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The next byte, or Go's `unexpected EOF`.
    fn next(&mut self) -> Result<u8, String> {
        let c = self.peek().ok_or_else(|| "unexpected EOF".to_owned())?;
        self.pos += 1;
        Ok(c)
    }

    fn invalid(c: u8, context: &str) -> String {
        format!("invalid character {} {context}", quote_char(c))
    }

    fn value(&mut self, depth: usize) -> Result<Doc, String> {
        if depth > MAX_DEPTH {
            return Err("exceeded max depth".to_owned());
        }
        self.skip_space();
        let c = self.next()?;
        match c {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(Doc::Str),
            b't' => self.literal("true", Doc::Bool(true)),
            b'f' => self.literal("false", Doc::Bool(false)),
            b'n' => self.literal("null", Doc::Null),
            b'-' | b'0'..=b'9' => self.number(),
            c => Err(Self::invalid(c, "looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, doc: Doc) -> Result<Doc, String> {
        for expected in word.bytes().skip(1) {
            let c = self.next()?;
            if c != expected {
                return Err(Self::invalid(
                    c,
                    &format!("in literal {word} (expecting {})", quote_char(expected)),
                ));
            }
        }
        Ok(doc)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Doc, String> {
        let start = self.pos - 1;
        if self.bytes[start] == b'-' {
            match self.next()? {
                b'0'..=b'9' => {}
                c => return Err(Self::invalid(c, "in numeric literal")),
            }
        }
        if self.bytes[self.pos - 1] != b'0' {
            self.digits();
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                let c = self.next()?;
                return Err(Self::invalid(c, "after decimal point in numeric literal"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                let c = self.next()?;
                return Err(Self::invalid(c, "in exponent of numeric literal"));
            }
        }
        let text = String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned();
        Ok(Doc::Num(text))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut code = 0;
        for _ in 0..4 {
            let c = self.next()?;
            let digit = char::from(c)
                .to_digit(16)
                .ok_or_else(|| Self::invalid(c, "in \\u hexadecimal character escape"))?;
            code = code * 16 + digit;
        }
        Ok(code)
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let c = self.next()?;
        let simple = match c {
            b'"' | b'\\' | b'/' => c,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let decoded = self.unicode_escape()?;
                let mut buf = [0; 4];
                out.extend_from_slice(decoded.encode_utf8(&mut buf).as_bytes());
                return Ok(());
            }
            c => return Err(Self::invalid(c, "in string escape code")),
        };
        out.push(simple);
        Ok(())
    }

    /// A `\uXXXX` escape (after the `u`), joining surrogate pairs.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first)
            && self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u")
        {
            let save = self.pos;
            self.pos += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }

    fn string(&mut self) -> Result<String, String> {
        let mut out = Vec::new();
        loop {
            match self.next()? {
                b'"' => break,
                b'\\' => self.escape(&mut out)?,
                c if c < 0x20 => return Err(Self::invalid(c, "in string literal")),
                c => out.push(c),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn object(&mut self, depth: usize) -> Result<Doc, String> {
        let mut members: Vec<(String, Doc)> = Vec::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Doc::Obj(members));
        }
        loop {
            self.skip_space();
            match self.next()? {
                b'"' => {}
                c => {
                    return Err(Self::invalid(
                        c,
                        "looking for beginning of object key string",
                    ));
                }
            }
            let key = self.string()?;
            self.skip_space();
            match self.next()? {
                b':' => {}
                c => return Err(Self::invalid(c, "after object key")),
            }
            let value = self.value(depth + 1)?;
            match members.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => members.push((key, value)),
            }
            self.skip_space();
            match self.next()? {
                b',' => {}
                b'}' => return Ok(Doc::Obj(members)),
                c => return Err(Self::invalid(c, "after object key:value pair")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Doc, String> {
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Doc::Arr(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_space();
            match self.next()? {
                b',' => {}
                b']' => return Ok(Doc::Arr(items)),
                c => return Err(Self::invalid(c, "after array element")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_number_text_and_reports_go_errors() {
        let doc = parse(br#"{"a": 1.0, "b": [1E+2], "a": -0}"#).unwrap();
        assert_eq!(doc.get("a"), Some(&Doc::Num("-0".to_owned())));
        assert_eq!(parse(b"{\"a\":").unwrap_err(), "unexpected EOF");
        assert_eq!(parse(b"").unwrap_err(), "EOF");
        assert_eq!(
            parse(b"{\"a\" 1}").unwrap_err(),
            "invalid character '1' after object key"
        );
        assert_eq!(
            parse(b"{} x").unwrap_err(),
            "invalid character after top-level value"
        );
        assert_eq!(
            parse(b"[tru]").unwrap_err(),
            "invalid character ']' in literal true (expecting 'e')"
        );
    }
}
