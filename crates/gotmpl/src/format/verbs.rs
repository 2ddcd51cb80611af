//! Printing one argument with one verb: the per-kind rules of Go's `fmt` (`printArg`,
//! `printValue`, `fmtInteger`, `fmtFloat`, `fmtString`) and the `%!verb(type=value)` marker.

use super::float::format_float;
use super::quote::{can_backquote, is_print, quote, quote_bytes, quote_rune};
use super::{Flags, Printer};
use crate::value::{ElemType, Object, Value};

impl Printer {
    /// Go's `printArg`: nil and `%T` first, then by kind.
    pub(super) fn print_arg(&mut self, arg: &Value, verb: char) {
        if arg.is_nil() {
            if matches!(verb, 'T' | 'v') {
                self.pad("<nil>");
            } else {
                self.bad_verb(verb, arg);
            }
            return;
        }
        if verb == 'T' {
            self.fmt_s(&arg.type_name());
            return;
        }
        self.print_value(arg, verb, 0);
    }

    /// Go's `printValue`; `depth` > 0 inside slices, maps and structs.
    fn print_value(&mut self, value: &Value, verb: char, depth: usize) {
        crate::stack::grow(|| self.print_value_inner(value, verb, depth));
    }

    fn print_value_inner(&mut self, value: &Value, verb: char, depth: usize) {
        match value {
            Value::Nil => {
                // A nil interface inside a container prints bare, whatever the verb.
                if self.flags.sharp_v {
                    self.out.push_str("interface {}(nil)");
                } else {
                    self.out.push_str("<nil>");
                }
            }
            Value::Bool(b) => self.fmt_bool(*b, verb, value),
            Value::Int(i) | Value::Int64(i) => self.fmt_integer(i128::from(*i), true, verb, value),
            Value::Uint64(u) => self.fmt_integer(i128::from(*u), false, verb, value),
            Value::Uint8(u) => self.fmt_integer(i128::from(*u), false, verb, value),
            Value::Float(f) => self.fmt_float(*f, verb, value),
            Value::String(s) => self.fmt_string(s, verb, value),
            Value::Slice(slice) => {
                if slice.elem == ElemType::Uint8 && matches!(verb, 's' | 'q' | 'x' | 'X') {
                    let bytes: Vec<u8> = slice
                        .items
                        .iter()
                        .map(|v| v.as_i64().and_then(|i| u8::try_from(i).ok()).unwrap_or(0))
                        .collect();
                    self.fmt_bytes(&bytes, verb);
                    return;
                }
                self.print_sequence(value, &slice.items, verb, depth);
            }
            Value::Map(map) => {
                if self.flags.sharp_v {
                    self.out.push_str(&value.type_name());
                    self.out.push('{');
                } else {
                    self.out.push_str("map[");
                }
                for (index, (key, item)) in map.snapshot().iter().enumerate() {
                    if index > 0 {
                        self.out
                            .push_str(if self.flags.sharp_v { ", " } else { " " });
                    }
                    self.fmt_string(key, verb, &Value::from(key.as_str()));
                    self.out.push(':');
                    self.print_value(item, verb, depth + 1);
                }
                self.out.push(if self.flags.sharp_v { '}' } else { ']' });
            }
            Value::Object(object) => self.print_object(object.as_ref(), verb, depth),
            Value::Func(function) => {
                // Go prints a function's address, which has no stable equivalent here.
                let text = format!("{}(0x0)", function.type_name());
                self.pad(&text);
            }
        }
    }

    fn print_sequence(&mut self, value: &Value, items: &[Value], verb: char, depth: usize) {
        if self.flags.sharp_v {
            self.out.push_str(&value.type_name());
            self.out.push('{');
        } else {
            self.out.push('[');
        }
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.out
                    .push_str(if self.flags.sharp_v { ", " } else { " " });
            }
            self.print_value(item, verb, depth + 1);
        }
        self.out.push(if self.flags.sharp_v { '}' } else { ']' });
    }

    fn print_object(&mut self, object: &dyn Object, verb: char, depth: usize) {
        if !self.flags.sharp_v
            && !self.erroring
            && matches!(verb, 'v' | 's' | 'x' | 'X' | 'q')
            && let Some(text) = object.to_go_string()
        {
            self.fmt_string(&text, verb, &Value::from(text.as_str()));
            return;
        }
        if self.flags.sharp_v {
            self.out.push_str(&object.type_name());
        } else if object.is_pointer() && depth == 0 {
            self.out.push('&');
        }
        self.out.push('{');
        for (index, (name, field)) in object.fields().iter().enumerate() {
            if index > 0 {
                self.out
                    .push_str(if self.flags.sharp_v { ", " } else { " " });
            }
            if self.flags.plus_v || self.flags.sharp_v {
                self.out.push_str(name);
                self.out.push(':');
            }
            self.print_value(field, verb, depth + 1);
        }
        self.out.push('}');
    }

    /// `%!verb(type=value)`, or `%!verb(<nil>)`.
    pub(super) fn bad_verb(&mut self, verb: char, value: &Value) {
        self.erroring = true;
        self.out.push_str("%!");
        self.out.push(verb);
        self.out.push('(');
        if value.is_nil() {
            self.out.push_str("<nil>");
        } else {
            self.out.push_str(&value.type_name());
            self.out.push('=');
            self.print_arg(value, 'v');
        }
        self.out.push(')');
        self.erroring = false;
    }

    fn fmt_bool(&mut self, b: bool, verb: char, value: &Value) {
        if matches!(verb, 't' | 'v') {
            self.pad(if b { "true" } else { "false" });
        } else {
            self.bad_verb(verb, value);
        }
    }

    fn fmt_integer(&mut self, number: i128, signed: bool, verb: char, value: &Value) {
        match verb {
            'v' if self.flags.sharp_v && !signed => {
                let sharp = self.flags.sharp;
                self.flags.sharp = true;
                self.integer(number, 16, verb, false);
                self.flags.sharp = sharp;
            }
            'v' | 'd' => self.integer(number, 10, verb, false),
            'b' => self.integer(number, 2, verb, false),
            'o' | 'O' => self.integer(number, 8, verb, false),
            'x' => self.integer(number, 16, verb, false),
            'X' => self.integer(number, 16, verb, true),
            'c' => {
                let c = u32::try_from(number)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                self.pad(c.encode_utf8(&mut [0; 4]));
            }
            'q' => {
                let c = u32::try_from(number)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                let text = quote_rune(c, self.flags.plus);
                self.pad(&text);
            }
            'U' => self.fmt_unicode(number),
            _ => self.bad_verb(verb, value),
        }
    }

    /// Go's `fmt.fmtInteger`: precision or zero flag give leading zeros, then prefixes.
    fn integer(&mut self, number: i128, base: u32, verb: char, upper: bool) {
        let negative = number < 0;
        let magnitude = number.unsigned_abs();
        let flags = self.flags;
        let mut minimum_digits = 0;
        if let Some(precision) = flags.precision {
            if precision == 0 && magnitude == 0 {
                // Precision zero and value zero print nothing but padding.
                let zero = self.flags.zero;
                self.flags.zero = false;
                self.write_padding(flags.width.unwrap_or(0));
                self.flags.zero = zero;
                return;
            }
            minimum_digits = precision;
        } else if flags.zero && !flags.minus && flags.width.is_some() {
            minimum_digits = flags.width.unwrap_or(0);
            if negative || flags.plus || flags.space {
                minimum_digits = minimum_digits.saturating_sub(1);
            }
        }
        let mut digits = match base {
            2 => format!("{magnitude:b}"),
            8 => format!("{magnitude:o}"),
            16 if upper => format!("{magnitude:X}"),
            16 => format!("{magnitude:x}"),
            _ => magnitude.to_string(),
        };
        if digits.len() < minimum_digits {
            digits.insert_str(0, &"0".repeat(minimum_digits - digits.len()));
        }
        let mut prefix = String::new();
        if negative {
            prefix.push('-');
        } else if flags.plus {
            prefix.push('+');
        } else if flags.space {
            prefix.push(' ');
        }
        if flags.sharp {
            match base {
                2 => prefix.push_str("0b"),
                8 if !digits.starts_with('0') => prefix.push('0'),
                16 => prefix.push_str(if upper { "0X" } else { "0x" }),
                _ => {}
            }
        }
        if verb == 'O' {
            prefix.push_str("0o");
        }
        prefix.push_str(&digits);
        self.pad_spaces(&prefix);
    }

    fn fmt_unicode(&mut self, number: i128) {
        let minimum = self.flags.precision.filter(|p| *p > 4).unwrap_or(4);
        let mut text = format!("U+{:0minimum$X}", number.unsigned_abs());
        if number < 0 {
            // Go formats the two's-complement bits of a negative rune.
            let bits = u64::from_ne_bytes(i64::try_from(number).unwrap_or(-1).to_ne_bytes());
            text = format!("U+{bits:0minimum$X}");
        }
        if self.flags.sharp
            && let Some(c) = u32::try_from(number).ok().and_then(char::from_u32)
            && is_print(c)
        {
            text.push_str(" '");
            text.push(c);
            text.push('\'');
        }
        self.pad_spaces(&text);
    }

    fn fmt_float(&mut self, number: f64, verb: char, value: &Value) {
        let (strconv_verb, default_precision) = match verb {
            'v' => ('g', -1),
            'b' | 'g' | 'G' | 'x' | 'X' => (verb, -1),
            'f' | 'F' => ('f', 6),
            'e' | 'E' => (verb, 6),
            _ => return self.bad_verb(verb, value),
        };
        let precision = self
            .flags
            .precision
            .map_or(default_precision, |p| i32::try_from(p).unwrap_or(i32::MAX));
        let mut text = format_float(number, strconv_verb, precision);
        if self.flags.sharp && strconv_verb != 'b' && number.is_finite() {
            text = keep_decimal_point(&text, strconv_verb, precision);
        }
        self.pad_float(&text);
    }

    /// Go's sign and padding rules for formatted floats.
    fn pad_float(&mut self, text: &str) {
        let flags: Flags = self.flags;
        let (mut sign, digits) = match text.strip_prefix(['-', '+']) {
            Some(rest) => (text.chars().next().unwrap_or('+'), rest),
            None => ('+', text),
        };
        if flags.space && sign == '+' && !flags.plus {
            sign = ' ';
        }
        if digits.starts_with(['I', 'N']) {
            let mut number = String::new();
            if !(digits.starts_with('N') && !flags.space && !flags.plus) {
                number.push(sign);
            }
            number.push_str(digits);
            self.pad_spaces(&number);
            return;
        }
        if flags.plus || sign != '+' {
            let full_length = digits.chars().count() + 1;
            if let Some(width) = flags.width
                && flags.zero
                && !flags.minus
                && width > full_length
            {
                self.out.push(sign);
                self.write_padding(width - full_length);
                self.out.push_str(digits);
                return;
            }
            let number = format!("{sign}{digits}");
            self.pad(&number);
            return;
        }
        self.pad(digits);
    }

    fn fmt_string(&mut self, text: &str, verb: char, value: &Value) {
        match verb {
            'v' if self.flags.sharp_v => self.fmt_q(text),
            'v' | 's' => self.fmt_s(text),
            'x' => self.fmt_hex(text.as_bytes(), false),
            'X' => self.fmt_hex(text.as_bytes(), true),
            'q' => self.fmt_q(text),
            _ => self.bad_verb(verb, value),
        }
    }

    fn truncate<'a>(&self, text: &'a str) -> &'a str {
        match self.flags.precision {
            Some(precision) => match text.char_indices().nth(precision) {
                Some((index, _)) => &text[..index],
                None => text,
            },
            None => text,
        }
    }

    pub(super) fn fmt_s(&mut self, text: &str) {
        let text = self.truncate(text);
        self.pad(text);
    }

    fn fmt_q(&mut self, text: &str) {
        let text = self.truncate(text);
        let quoted = if self.flags.sharp && can_backquote(text) {
            format!("`{text}`")
        } else {
            quote(text, self.flags.plus)
        };
        self.pad(&quoted);
    }

    fn fmt_bytes(&mut self, bytes: &[u8], verb: char) {
        match verb {
            'x' => self.fmt_hex(bytes, false),
            'X' => self.fmt_hex(bytes, true),
            'q' => {
                let quoted = quote_bytes(bytes, self.flags.plus);
                self.pad(&quoted);
            }
            _ => {
                let text = String::from_utf8_lossy(bytes).into_owned();
                self.fmt_s(&text);
            }
        }
    }

    /// Go's `fmtSbx`: hex bytes, optionally `0x`-prefixed and space-separated.
    fn fmt_hex(&mut self, bytes: &[u8], upper: bool) {
        let flags = self.flags;
        let length = flags.precision.map_or(bytes.len(), |p| p.min(bytes.len()));
        if length == 0 {
            if let Some(width) = flags.width {
                self.write_padding(width);
            }
            return;
        }
        let mut width = 2 * length;
        if flags.space {
            if flags.sharp {
                width *= 2;
            }
            width += length - 1;
        } else if flags.sharp {
            width += 2;
        }
        let padding = flags.width.map_or(0, |w| w.saturating_sub(width));
        if !flags.minus {
            self.write_padding(padding);
        }
        let prefix = if upper { "0X" } else { "0x" };
        if flags.sharp {
            self.out.push_str(prefix);
        }
        for (index, byte) in bytes[..length].iter().enumerate() {
            if flags.space && index > 0 {
                self.out.push(' ');
                if flags.sharp {
                    self.out.push_str(prefix);
                }
            }
            let hex = if upper {
                format!("{byte:02X}")
            } else {
                format!("{byte:02x}")
            };
            self.out.push_str(&hex);
        }
        if flags.minus {
            self.write_padding(padding);
        }
    }
}

/// The `#` flag on floats: always show a decimal point and, for `%g`/`%x`, keep trailing
/// zeros up to the precision (6 when unspecified).
fn keep_decimal_point(text: &str, verb: char, precision: i32) -> String {
    let mut remaining = match verb {
        'g' | 'G' | 'x' | 'X' if precision < 0 => 6,
        'g' | 'G' | 'x' | 'X' => precision,
        _ => 0,
    };
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    // Split off the exponent; for hex floats `e` is a digit, only `p` starts it.
    let hex = matches!(verb, 'x' | 'X');
    let split = body.find(|c: char| matches!(c, 'p' | 'P') || (!hex && matches!(c, 'e' | 'E')));
    let (mantissa, exponent) = body.split_at(split.unwrap_or(body.len()));
    let mut seen_nonzero = false;
    for c in mantissa.chars().filter(|c| *c != '.') {
        seen_nonzero |= c != '0';
        if seen_nonzero {
            remaining -= 1;
        }
    }
    let mut out = format!("{sign}{mantissa}");
    if !mantissa.contains('.') {
        if mantissa == "0" {
            remaining -= 1;
        }
        out.push('.');
    }
    for _ in 0..remaining.max(0) {
        out.push('0');
    }
    out.push_str(exponent);
    out
}
