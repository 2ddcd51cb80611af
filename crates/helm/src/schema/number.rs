//! Exact decimal numbers (the validator compares `big.Rat`s in Go) and the English
//! `golang.org/x/text/message` printing used in messages (`1,000`, `1.5×10⁰⁷`).

use std::cmp::Ordering;

/// An exact decimal: `0.d₁d₂… × 10^exp`, digits without leading or trailing zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exp: i64,
}

impl Decimal {
    /// Parses JSON number text (also Rust's `1e-5` float output).
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let mut digits = Vec::with_capacity(int_part.len() + frac_part.len());
        for c in int_part.bytes().chain(frac_part.bytes()) {
            if !c.is_ascii_digit() {
                return None;
            }
            digits.push(c - b'0');
        }
        let point = i64::try_from(int_part.len()).ok()?.checked_add(exponent)?;
        Some(Decimal::normalized(negative, digits, point))
    }

    fn normalized(negative: bool, mut digits: Vec<u8>, mut exp: i64) -> Decimal {
        let leading = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..leading);
        exp -= i64::try_from(leading).unwrap_or(0);
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Decimal {
                negative: false,
                digits,
                exp: 0,
            };
        }
        Decimal {
            negative,
            digits,
            exp,
        }
    }

    /// The exact value of a float (shortest round-trip digits, as Go's `%v` prints them).
    pub fn from_f64(value: f64) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        Decimal::parse(&format!("{value:e}"))
    }

    /// The value of a JSON value number.
    pub fn from_json(number: &serde_json::Number) -> Option<Decimal> {
        if number.is_f64() {
            Decimal::from_f64(number.as_f64()?)
        } else {
            Decimal::parse(&number.to_string())
        }
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Whether this is an integer.
    pub fn is_integer(&self) -> bool {
        self.is_zero() || i64::try_from(self.digits.len()).is_ok_and(|len| len <= self.exp)
    }

    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        self.exp
            .cmp(&other.exp)
            .then_with(|| self.digits.cmp(&other.digits))
    }

    /// The nearest float.
    pub fn to_f64(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let text = format!(
            "{}0.{digits}e{}",
            if self.negative { "-" } else { "" },
            self.exp
        );
        text.parse().unwrap_or(f64::NAN)
    }

    /// Whether `self / divisor` is an integer (false for a zero divisor).
    pub fn is_multiple_of(&self, divisor: &Decimal) -> bool {
        if self.is_zero() {
            return !divisor.is_zero();
        }
        if divisor.is_zero() {
            return false;
        }
        // self = A × 10^a, divisor = B × 10^b with integers A, B without trailing zeros.
        let shift = (self.exp - len(&self.digits)) - (divisor.exp - len(&divisor.digits));
        if shift < 0 {
            return false;
        }
        let Some(modulus) = small_integer(&divisor.digits) else {
            let quotient = self.to_f64() / divisor.to_f64();
            return quotient.fract() == 0.0;
        };
        let mut rest = self
            .digits
            .iter()
            .fold(0u128, |r, d| (r * 10 + u128::from(*d)) % modulus);
        for _ in 0..shift.min(10_000) {
            if rest == 0 {
                break;
            }
            rest = rest * 10 % modulus;
        }
        rest == 0
    }

    /// As the English `message.Printer` prints `%v` of this value converted to float64.
    pub fn print(&self) -> String {
        print_float(self.to_f64())
    }
}

fn len(digits: &[u8]) -> i64 {
    i64::try_from(digits.len()).unwrap_or(i64::MAX)
}

/// Digits as an integer small enough for remainder arithmetic.
fn small_integer(digits: &[u8]) -> Option<u128> {
    if digits.len() > 36 {
        return None;
    }
    Some(digits.iter().fold(0u128, |n, d| n * 10 + u128::from(*d)))
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |d: &Decimal| {
            if d.is_zero() {
                0
            } else if d.negative {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if self.negative => other.cmp_magnitude(self),
            Ordering::Equal => self.cmp_magnitude(other),
            unequal => unequal,
        }
    }
}

/// Groups integer digits by three with commas, as English locales do.
fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An integer as the English printer's `%d` prints it.
pub fn print_int(value: usize) -> String {
    group(&value.to_string())
}

fn superscript(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

/// A float as the English printer's `%v` prints it: shortest digits, decimal notation with
/// grouping for exponents in [-4, 6), else `d.ddd×10ⁿⁿ`.
pub fn print_float(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".to_owned();
    }
    let sci = format!("{:e}", value.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if value < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exponent) {
        let fraction = if digits.len() > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let power = format!(
            "{}{:02}",
            if exponent < 0 { "-" } else { "" },
            exponent.abs()
        );
        return format!("{sign}{}{fraction}×10{}", &digits[..1], superscript(&power));
    }
    let point = usize::try_from(exponent + 1).unwrap_or(0);
    let (int_part, frac_part) = if exponent < 0 {
        let zeros = "0".repeat(usize::try_from(-exponent - 1).unwrap_or(0));
        ("0".to_owned(), format!("{zeros}{digits}"))
    } else if digits.len() <= point {
        (format!("{digits:0<point$}"), String::new())
    } else {
        (digits[..point].to_owned(), digits[point..].to_owned())
    };
    if frac_part.is_empty() {
        format!("{sign}{}", group(&int_part))
    } else {
        format!("{sign}{}.{frac_part}", group(&int_part))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_the_english_printer() {
        assert_eq!(print_float(123_456.5), "123,456.5");
        assert_eq!(print_float(1e6), "1×10⁰⁶");
        assert_eq!(print_float(-1_234_567.0), "-1.234567×10⁰⁶");
        assert_eq!(print_float(1e-5), "1×10⁻⁰⁵");
        assert_eq!(print_float(0.0001), "0.0001");
        assert_eq!(print_float(1.5e22), "1.5×10²²");
        assert_eq!(print_float(1000.0), "1,000");
        assert_eq!(print_int(1234), "1,234");
    }

    #[test]
    fn compares_and_divides_exactly() {
        let d = |s| Decimal::parse(s).unwrap();
        assert!(d("0.1").is_multiple_of(&d("0.01")));
        assert!(!d("0.1").is_multiple_of(&d("0.03")));
        assert!(d("10").is_multiple_of(&d("2.5")));
        assert!(d("1E+2") == d("100.0"));
        assert!(d("-5") < d("-4.9"));
        assert!(d("1e400") > d("12345678"));
        assert!(d("3.0").is_integer() && !d("3.5").is_integer());
    }
}
