//! Go's `fmt` printing for template values: `Sprint`, `Sprintln` and `Sprintf` with
//! verbs, flags, widths, precisions, argument indexes and Go's in-band error markers
//! (`%!d(string=x)`, `%!v(MISSING)`, `%!(EXTRA ...)`).

mod float;
mod quote;
mod verbs;

pub use float::format_float;
pub use quote::{can_backquote, is_print, quote, quote_rune};

use std::fmt::Write as _;

use crate::value::Value;

/// Formatting flags of one verb, as Go's `fmt.fmt` keeps them.
#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    width: Option<usize>,
    precision: Option<usize>,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    /// `%+v`: print struct field names.
    plus_v: bool,
    /// `%#v`: Go syntax.
    sharp_v: bool,
}

/// One formatting run: the output buffer plus the flags of the current verb.
struct Printer {
    out: String,
    flags: Flags,
    /// Set while printing a bad-verb marker, so Stringers are not consulted again.
    erroring: bool,
}

/// Go's `fmt.Sprint`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut printer = Printer::new();
    let mut previous_string = false;
    for (index, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if index > 0 && !is_string && !previous_string {
            printer.out.push(' ');
        }
        printer.print_arg(arg, 'v');
        previous_string = is_string;
    }
    printer.out
}

/// Go's `fmt.Sprintln`: spaces between all operands and a final newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut printer = Printer::new();
    for (index, arg) in args.iter().enumerate() {
        if index > 0 {
            printer.out.push(' ');
        }
        printer.print_arg(arg, 'v');
    }
    printer.out.push('\n');
    printer.out
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut printer = Printer::new();
    printer.do_printf(format, args);
    printer.out
}

/// Formats one value with one verb and default flags (`%v`, `%q`, ...).
pub fn format_value(value: &Value, verb: char) -> String {
    let mut printer = Printer::new();
    printer.print_arg(value, verb);
    printer.out
}

/// Go refuses widths and precisions beyond a million.
const NUMBER_LIMIT: usize = 1_000_000;

/// Parses a decimal number at `start`; returns the number (if any digits) and the end.
fn parse_number(bytes: &[u8], start: usize, end: usize) -> (Option<usize>, usize) {
    let mut number = 0usize;
    let mut found = false;
    let mut index = start;
    while index < end && bytes[index].is_ascii_digit() {
        if number > NUMBER_LIMIT {
            return (None, end);
        }
        number = number * 10 + usize::from(bytes[index] - b'0');
        found = true;
        index += 1;
    }
    (found.then_some(number), index)
}

/// State of the argument cursor while scanning a format string.
struct Cursor {
    arg: usize,
    reordered: bool,
    good_arg: bool,
}

impl Printer {
    fn new() -> Printer {
        Printer {
            out: String::new(),
            flags: Flags::default(),
            erroring: false,
        }
    }

    /// `[n]` argument index; returns whether one was found.
    fn arg_index(cursor: &mut Cursor, bytes: &[u8], index: &mut usize, count: usize) -> bool {
        if bytes.get(*index) != Some(&b'[') {
            return false;
        }
        cursor.reordered = true;
        let rest = &bytes[*index..];
        let close = rest.iter().position(|b| *b == b']');
        let Some(close) = close.filter(|_| rest.len() >= 3) else {
            cursor.good_arg = false;
            *index += 1;
            return false;
        };
        let (number, after) = parse_number(rest, 1, close);
        *index += close + 1;
        match number {
            Some(n) if after == close && n >= 1 && n - 1 < count => {
                cursor.arg = n - 1;
                true
            }
            Some(_) if after == close => {
                cursor.good_arg = false;
                true
            }
            _ => {
                cursor.good_arg = false;
                false
            }
        }
    }

    /// `*` width or precision taken from the next argument.
    fn star_argument(cursor: &mut Cursor, args: &[Value]) -> Option<i64> {
        let value = args.get(cursor.arg)?;
        cursor.arg += 1;
        let number = match value {
            Value::Int(i) | Value::Int64(i) => Some(*i),
            Value::Uint64(u) => i64::try_from(*u).ok(),
            Value::Uint8(u) => Some(i64::from(*u)),
            _ => None,
        }?;
        (number.unsigned_abs() <= NUMBER_LIMIT as u64).then_some(number)
    }

    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let bytes = format.as_bytes();
        let end = bytes.len();
        let mut cursor = Cursor {
            arg: 0,
            reordered: false,
            good_arg: true,
        };
        let mut index = 0;
        while index < end {
            cursor.good_arg = true;
            let literal_start = index;
            while index < end && bytes[index] != b'%' {
                index += 1;
            }
            self.out.push_str(&format[literal_start..index]);
            if index >= end {
                break;
            }
            index += 1;
            self.flags = Flags::default();
            if !self.one_verb(format, args, &mut cursor, &mut index) {
                break;
            }
        }
        if !cursor.reordered && cursor.arg < args.len() {
            self.flags = Flags::default();
            self.out.push_str("%!(EXTRA ");
            for (i, arg) in args[cursor.arg..].iter().enumerate() {
                if i > 0 {
                    self.out.push_str(", ");
                }
                if arg.is_nil() {
                    self.out.push_str("<nil>");
                } else {
                    self.out.push_str(&arg.type_name());
                    self.out.push('=');
                    self.print_arg(arg, 'v');
                }
            }
            self.out.push(')');
        }
    }

    /// Handles one `%...` directive starting after the `%`. Returns false at a missing verb.
    fn one_verb(
        &mut self,
        format: &str,
        args: &[Value],
        cursor: &mut Cursor,
        index: &mut usize,
    ) -> bool {
        let bytes = format.as_bytes();
        let end = bytes.len();
        while *index < end {
            match bytes[*index] {
                b'#' => self.flags.sharp = true,
                b'0' => self.flags.zero = true,
                b'+' => self.flags.plus = true,
                b'-' => self.flags.minus = true,
                b' ' => self.flags.space = true,
                _ => break,
            }
            *index += 1;
        }
        let mut after_index = Self::arg_index(cursor, bytes, index, args.len());
        if bytes.get(*index) == Some(&b'*') {
            *index += 1;
            match Self::star_argument(cursor, args) {
                Some(width) => {
                    if width < 0 {
                        self.flags.minus = true;
                        self.flags.zero = false;
                    }
                    self.flags.width = usize::try_from(width.unsigned_abs()).ok();
                }
                None => self.out.push_str("%!(BADWIDTH)"),
            }
            after_index = false;
        } else {
            let (width, next) = parse_number(bytes, *index, end);
            self.flags.width = width;
            *index = next;
            if after_index && width.is_some() {
                cursor.good_arg = false;
            }
        }
        if *index + 1 < end && bytes[*index] == b'.' {
            *index += 1;
            if after_index {
                cursor.good_arg = false;
            }
            after_index = Self::arg_index(cursor, bytes, index, args.len());
            if bytes.get(*index) == Some(&b'*') {
                *index += 1;
                match Self::star_argument(cursor, args) {
                    Some(precision) if precision >= 0 => {
                        self.flags.precision = usize::try_from(precision).ok();
                    }
                    // Go treats a negative precision argument as a bad one.
                    Some(_) | None => {
                        self.flags.precision = None;
                        self.out.push_str("%!(BADPREC)");
                    }
                }
                after_index = false;
            } else {
                let (precision, next) = parse_number(bytes, *index, end);
                self.flags.precision = Some(precision.unwrap_or(0));
                *index = next;
            }
        }
        if !after_index {
            Self::arg_index(cursor, bytes, index, args.len());
        }
        let Some(verb) = format[*index..].chars().next() else {
            self.out.push_str("%!(NOVERB)");
            return false;
        };
        *index += verb.len_utf8();
        self.dispatch_verb(verb, args, cursor);
        true
    }

    fn dispatch_verb(&mut self, verb: char, args: &[Value], cursor: &mut Cursor) {
        if verb == '%' {
            self.out.push('%');
        } else if !cursor.good_arg {
            let _ = write!(self.out, "%!{verb}(BADINDEX)");
        } else if cursor.arg >= args.len() {
            let _ = write!(self.out, "%!{verb}(MISSING)");
        } else {
            if verb == 'v' {
                self.flags.sharp_v = self.flags.sharp;
                self.flags.sharp = false;
                self.flags.plus_v = self.flags.plus;
                self.flags.plus = false;
            }
            self.print_arg(&args[cursor.arg], verb);
            cursor.arg += 1;
        }
    }

    /// Writes `count` padding characters: zeros when asked for on the left, else spaces.
    fn write_padding(&mut self, count: usize) {
        let pad = if self.flags.zero && !self.flags.minus {
            '0'
        } else {
            ' '
        };
        self.out.extend(std::iter::repeat_n(pad, count));
    }

    /// Pads `text` to the width, on the left unless `-` was given.
    fn pad(&mut self, text: &str) {
        let Some(width) = self.flags.width.filter(|w| *w > 0) else {
            self.out.push_str(text);
            return;
        };
        let padding = width.saturating_sub(text.chars().count());
        if self.flags.minus {
            self.out.push_str(text);
            self.write_padding(padding);
        } else {
            self.write_padding(padding);
            self.out.push_str(text);
        }
    }

    /// Pads without zero filling, as Go does for numbers whose zeros were already placed.
    fn pad_spaces(&mut self, text: &str) {
        let zero = self.flags.zero;
        self.flags.zero = false;
        self.pad(text);
        self.flags.zero = zero;
    }
}
