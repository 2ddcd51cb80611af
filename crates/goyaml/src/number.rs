//! Numbers as they come out of kustomize's JSON round trip.
//!
//! Go's encoding/json writes a float64 in `%f` form (or `%e` outside [1e-6, 1e21)), then
//! go-yaml v2 re-reads that text: integral values become ints, the rest floats printed
//! with `strconv.FormatFloat(f, 'g', -1, 64)`.

use serde_json::Number;

/// A JSON number as go-yaml v2 prints it after re-reading `json.Marshal`'s text: integral
/// values as integers, the rest in `strconv.FormatFloat(f, 'g', -1, 64)` form.
pub fn format_number(number: &Number) -> String {
    if let Some(value) = number.as_i64() {
        return value.to_string();
    }
    if let Some(value) = number.as_u64() {
        return value.to_string();
    }
    let value = number.as_f64().unwrap_or(0.0);
    if value.fract() == 0.0 && value.abs() < 1e21 {
        #[expect(clippy::cast_possible_truncation, reason = "range checked just above")]
        if value.abs() < 9.223_372_036_854_775e18 {
            return (value as i64).to_string();
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "range checked"
        )]
        if value > 0.0 && value < 1.844_674_407_370_955_2e19 {
            return (value as u64).to_string();
        }
    }
    format_go_g(value)
}

/// `strconv.FormatFloat(value, 'g', -1, 64)`.
pub fn format_go_g(value: f64) -> String {
    if value.is_nan() {
        return ".nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            ".inf".to_owned()
        } else {
            "-.inf".to_owned()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddddde[-]x".
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..6).contains(&exponent) {
        let (head, tail) = digits.split_at(1);
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!(".{tail}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{head}{tail}e{exponent_sign}{:02}", exponent.abs());
    }
    let point = exponent + 1;
    if point <= 0 {
        let zeros = "0".repeat(usize::try_from(-point).unwrap_or(0));
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = usize::try_from(point).unwrap_or(0);
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_g(1.5), "1.5");
        assert_eq!(format_go_g(1e20), "1e+20");
        assert_eq!(format_go_g(0.000_001), "1e-06");
        assert_eq!(format_go_g(0.0001), "0.0001");
        assert_eq!(format_go_g(1_234_567.5), "1.2345675e+06");
        assert_eq!(format_go_g(100_000.5), "100000.5");
        assert_eq!(
            format_number(&Number::from_f64(1000.0).expect("finite")),
            "1000"
        );
    }
}
