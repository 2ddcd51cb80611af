//! Go's `strconv.FormatFloat` for the verbs `fmt` uses: `e E f F g G b x X`, with a
//! precision or the shortest representation that round-trips (precision -1).
//!
//! Rust's own float formatting already produces correctly rounded and shortest digits, so
//! this module only extracts decimal digits from it and lays them out the way Go does.

use std::fmt::Write as _;

/// Decimal digits `0.d1d2d3... × 10^point` of a finite, non-negative float.
struct Digits {
    digits: Vec<u8>,
    point: i32,
}

impl Digits {
    /// Parses Rust's `{:e}` output, e.g. `1.2345e-7`.
    fn from_scientific(text: &str) -> Digits {
        let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        if digits.iter().all(|d| *d == b'0') {
            // Zero has no significant digits; strconv reports nd = 0, dp = 0.
            return Digits {
                digits: Vec::new(),
                point: 0,
            };
        }
        while digits.len() > 1 && digits.last() == Some(&b'0') {
            digits.pop();
        }
        Digits {
            digits,
            point: exponent + 1,
        }
    }

    fn shortest(value: f64) -> Digits {
        Digits::from_scientific(&format!("{value:e}"))
    }

    /// `significant` digits, correctly rounded, trailing zeros trimmed.
    fn rounded(value: f64, significant: usize) -> Digits {
        let precision = significant.saturating_sub(1);
        Digits::from_scientific(&format!("{value:.precision$e}"))
    }

    fn len(&self) -> i32 {
        i32::try_from(self.digits.len()).unwrap_or(i32::MAX)
    }

    fn digit(&self, index: i32) -> char {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.digits.get(i))
            .map_or('0', |d| char::from(*d))
    }

    /// `%e` layout with `precision` digits after the point.
    fn write_e(&self, out: &mut String, precision: i32, letter: char) {
        out.push(self.digit(0));
        if precision > 0 {
            out.push('.');
            for i in 1..=precision {
                out.push(self.digit(i));
            }
        }
        let exponent = if self.digits.is_empty() {
            0
        } else {
            self.point - 1
        };
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "{letter}{sign}{:02}", exponent.abs());
    }

    /// `%f` layout with `precision` digits after the point.
    fn write_f(&self, out: &mut String, precision: i32) {
        if self.point > 0 {
            for i in 0..self.point {
                out.push(self.digit(i));
            }
        } else {
            out.push('0');
        }
        if precision > 0 {
            out.push('.');
            for i in 1..=precision {
                out.push(self.digit(self.point + i - 1));
            }
        }
    }
}

/// Formats `value` like `strconv.FormatFloat(value, verb, precision, 64)`; a negative
/// precision asks for the shortest representation.
pub fn format_float(value: f64, verb: char, precision: i32) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let mut out = String::new();
    if value.is_sign_negative() {
        out.push('-');
    }
    let magnitude = value.abs();
    match verb {
        'e' | 'E' => {
            let digits = if precision < 0 {
                Digits::shortest(magnitude)
            } else {
                Digits::rounded(magnitude, usize::try_from(precision).unwrap_or(0) + 1)
            };
            let precision = if precision < 0 {
                (digits.len() - 1).max(0)
            } else {
                precision
            };
            digits.write_e(&mut out, precision, verb);
        }
        'f' | 'F' => {
            if precision < 0 {
                let digits = Digits::shortest(magnitude);
                digits.write_f(&mut out, (digits.len() - digits.point).max(0));
            } else {
                let precision = usize::try_from(precision).unwrap_or(0);
                let _ = write!(out, "{magnitude:.precision$}");
            }
        }
        'g' | 'G' => format_g(&mut out, magnitude, verb, precision),
        'b' => format_binary(&mut out, value),
        'x' | 'X' => format_hex(&mut out, magnitude, verb, precision),
        _ => {}
    }
    out
}

fn format_g(out: &mut String, magnitude: f64, verb: char, precision: i32) {
    let shortest = precision < 0;
    let digits = if shortest {
        Digits::shortest(magnitude)
    } else {
        Digits::rounded(magnitude, usize::try_from(precision.max(1)).unwrap_or(1))
    };
    let mut precision = if shortest {
        digits.len()
    } else {
        precision.max(1)
    };
    let mut exponent_limit = precision;
    if exponent_limit > digits.len() && digits.len() >= digits.point {
        exponent_limit = digits.len();
    }
    if shortest {
        // Go decides between %e and %f for the shortest form as if precision were 6.
        exponent_limit = 6;
    }
    let exponent = digits.point - 1;
    if exponent < -4 || exponent >= exponent_limit {
        if precision > digits.len() {
            precision = digits.len();
        }
        let letter = if verb == 'G' { 'E' } else { 'e' };
        digits.write_e(out, (precision - 1).max(0), letter);
        return;
    }
    if precision > digits.point {
        precision = digits.len();
    }
    digits.write_f(out, (precision - digits.point).max(0));
}

/// `%b`: decimal mantissa and binary exponent, e.g. `4503599627370496p-52`.
fn format_binary(out: &mut String, value: f64) {
    let bits = value.to_bits();
    let exponent_bits = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let mut mantissa = bits & ((1 << 52) - 1);
    let exponent = if exponent_bits == 0 {
        -1074
    } else {
        mantissa |= 1 << 52;
        exponent_bits - 1075
    };
    let sign = if exponent < 0 { '-' } else { '+' };
    let _ = write!(out, "{mantissa}p{sign}{}", exponent.abs());
}

/// `%x`: hexadecimal mantissa `0x1.8p+01`, shortest unless a precision is given.
fn format_hex(out: &mut String, magnitude: f64, verb: char, precision: i32) {
    let bits = magnitude.to_bits();
    let exponent_bits = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let mut mantissa = bits & ((1 << 52) - 1);
    let mut exponent = exponent_bits - 1023;
    if magnitude == 0.0 {
        exponent = 0;
    } else if exponent_bits == 0 {
        // Subnormal: normalise so the leading 1 sits at bit 52.
        exponent = -1022;
        while mantissa & (1 << 52) == 0 {
            mantissa <<= 1;
            exponent -= 1;
        }
        mantissa &= (1 << 52) - 1;
    }
    let leading = u64::from(magnitude != 0.0);
    // 52 fraction bits are 13 hex digits.
    let mut fraction = format!("{mantissa:013x}");
    let mut leading_digit = leading;
    if precision >= 0 {
        let keep = usize::try_from(precision).unwrap_or(0);
        if keep < 13 {
            let shift = 4 * (13 - keep);
            let full = (leading << 52) | mantissa;
            let half = 1u64 << (shift - 1);
            let remainder = full & ((1 << shift) - 1);
            let mut kept = full >> shift;
            if remainder > half || (remainder == half && kept & 1 == 1) {
                kept += 1;
            }
            leading_digit = kept >> (4 * keep);
            if leading_digit > 1 {
                leading_digit = 1;
                exponent += 1;
                kept >>= 1;
            }
            let mask = if keep == 0 {
                0
            } else {
                (1u64 << (4 * keep)) - 1
            };
            fraction = if keep == 0 {
                String::new()
            } else {
                format!("{:0keep$x}", kept & mask)
            };
        } else {
            fraction.push_str(&"0".repeat(keep - 13));
        }
    } else {
        fraction = fraction.trim_end_matches('0').to_owned();
    }
    let mut text = format!("0x{leading_digit}");
    if !fraction.is_empty() {
        text.push('.');
        text.push_str(&fraction);
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    let _ = write!(text, "p{sign}{:02}", exponent.abs());
    if verb == 'X' {
        text = text.to_uppercase();
    }
    out.push_str(&text);
}

#[cfg(test)]
mod tests {
    use super::format_float;

    #[test]
    fn shortest_matches_go() {
        assert_eq!(format_float(1e6, 'g', -1), "1e+06");
        assert_eq!(format_float(100_000.0, 'g', -1), "100000");
        assert_eq!(format_float(1.5e-7, 'g', -1), "1.5e-07");
        assert_eq!(format_float(0.1, 'g', -1), "0.1");
        assert_eq!(format_float(0.0, 'g', -1), "0");
        assert_eq!(format_float(123_456_789.0, 'g', -1), "1.23456789e+08");
    }

    #[test]
    fn fixed_precision_matches_go() {
        assert_eq!(format_float(1.23456, 'e', 6), "1.234560e+00");
        assert_eq!(format_float(1.23456, 'f', 2), "1.23");
        assert_eq!(format_float(1.23456, 'g', 3), "1.23");
        assert_eq!(format_float(1.0, 'g', 3), "1");
        assert_eq!(format_float(1234.0, 'g', 3), "1.23e+03");
        assert_eq!(format_float(1.5, 'x', -1), "0x1.8p+00");
    }
}
