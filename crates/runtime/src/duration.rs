//! Go `time.Duration` strings, as Flux specs and messages use them ("1m30s", "10m0s").

use std::fmt::Write as _;
use std::time::Duration;

/// Why a duration string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {why}")]
pub struct ParseDurationError {
    input: String,
    why: &'static str,
}

/// Parses a Go duration: a sequence of decimal numbers with units `ns`, `us`/`µs`, `ms`,
/// `s`, `m`, `h` (for example `1h30m`, `1.5s`, `500ms`). Negative durations are refused:
/// no Flux field accepts one.
pub fn parse(input: &str) -> Result<Duration, ParseDurationError> {
    let error = |why| ParseDurationError {
        input: input.to_owned(),
        why,
    };
    if input == "0" {
        return Ok(Duration::ZERO);
    }
    if input.is_empty() {
        return Err(error("empty string"));
    }
    let mut rest = input;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_end == 0 {
            return Err(error("expected a number"));
        }
        let value: f64 = rest[..number_end]
            .parse()
            .map_err(|_| error("malformed number"))?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per_unit = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(error("missing unit")),
            _ => return Err(error("unknown unit")),
        };
        total += value * nanos_per_unit;
        rest = &rest[unit_end..];
    }
    if !total.is_finite() || total > 9.2e18 {
        return Err(error("out of range"));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "range checked above"
    )]
    Ok(Duration::from_nanos(total.round() as u64))
}

/// Formats like Go's `Duration.String()`: `10m0s`, `1h0m0s`, `1.5s`, `250ms`, `0s`.
pub fn format(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < 1_000_000_000 {
        let (value, unit) = if nanos < 1_000 {
            return format!("{nanos}ns");
        } else if nanos < 1_000_000 {
            (nanos, ("µs", 1_000u128))
        } else {
            (nanos, ("ms", 1_000_000u128))
        };
        return format!("{}{}", fraction(value, unit.1), unit.0);
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = (nanos / 60_000_000_000) % 60;
    let seconds = nanos % 60_000_000_000;
    let mut out = String::new();
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    out.push_str(&fraction(seconds, 1_000_000_000));
    out.push('s');
    out
}

/// `value / unit` printed with the shortest exact decimal fraction, as Go does.
fn fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let mut remainder = value % unit;
    if remainder == 0 {
        return whole.to_string();
    }
    let mut digits = String::new();
    let mut scale = unit / 10;
    while remainder > 0 && scale > 0 {
        digits.push(char::from(
            b'0' + u8::try_from(remainder / scale).unwrap_or(0),
        ));
        remainder %= scale;
        scale /= 10;
    }
    format!("{whole}.{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("10m", 600_000)]
    #[case("1h30m", 5_400_000)]
    #[case("1.5s", 1_500)]
    #[case("500ms", 500)]
    #[case("2m30s", 150_000)]
    #[case("0", 0)]
    #[case("0s", 0)]
    fn parses(#[case] input: &str, #[case] millis: u64) {
        assert_eq!(parse(input).unwrap(), Duration::from_millis(millis));
    }

    #[rstest]
    #[case("")]
    #[case("10")]
    #[case("m")]
    #[case("10x")]
    #[case("-5s")]
    #[case("1..5s")]
    fn rejects(#[case] input: &str) {
        assert!(parse(input).is_err(), "{input:?} must be rejected");
    }

    #[rstest]
    #[case(Duration::from_secs(600), "10m0s")]
    #[case(Duration::from_secs(3600), "1h0m0s")]
    #[case(Duration::from_millis(1500), "1.5s")]
    #[case(Duration::from_millis(250), "250ms")]
    #[case(Duration::from_secs(90), "1m30s")]
    #[case(Duration::from_secs(30), "30s")]
    #[case(Duration::ZERO, "0s")]
    #[case(Duration::from_micros(1500), "1.5ms")]
    fn formats_like_go(#[case] duration: Duration, #[case] text: &str) {
        assert_eq!(format(duration), text);
    }
}
