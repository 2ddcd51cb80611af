//! Condition bookkeeping shared by the HelmRepository and HelmChart reconcilers: on
//! success the negative conditions go and `Ready` summarizes the rest (Flux's summarize
//! helper); on failure the error's negative condition is set and the driver marks `Ready`.

use ferroflux_runtime::conditions::{self, Conditions};
use ferroflux_runtime::driver::{Context, Outcome};
use ferroflux_runtime::{FluxStatus, ReconcileError};

use super::error::HelmError;

/// The negative-polarity conditions of a kind and those `Ready` summarizes, in order.
pub struct ConditionSet {
    /// Conditions that mean trouble when True (deleted after success).
    pub negative: &'static [&'static str],
    /// The conditions `Ready` summarizes, in priority order.
    pub summary: &'static [&'static str],
}

/// Records `result` in the status conditions.
pub fn conclude<S: FluxStatus>(
    context: &Context,
    status: &mut S,
    generation: i64,
    set: &ConditionSet,
    result: &Result<Outcome, HelmError>,
) {
    let mut conditions =
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref());
    match result {
        Ok(_) => {
            for negative in set.negative {
                if !matches!(*negative, "Reconciling" | "Stalled") {
                    conditions.delete(negative);
                }
            }
            conditions.delete("Reconciling");
            if let Some(ready) =
                conditions::summarize(conditions.list(), "Ready", set.summary, set.negative)
            {
                conditions.put(ready);
            }
        }
        Err(error) => {
            if let Some(condition) = error.condition() {
                conditions.mark_true(condition, error.reason(), error.to_string());
            }
            if error.is_verification() {
                conditions.mark_false("SourceVerified", "VerificationError", error.to_string());
            }
            // A fetch failure supersedes a build failure and the reverse, as in Flux.
            match error.condition() {
                Some("FetchFailed") => conditions.delete("BuildFailed"),
                Some("BuildFailed") => conditions.delete("FetchFailed"),
                _ => {}
            }
        }
    }
}

/// `ArtifactInStorage` and `Ready` True with `reason` and `message`.
pub fn mark_stored<S: FluxStatus>(
    context: &Context,
    status: &mut S,
    generation: i64,
    reason: &str,
    message: &str,
) {
    let mut conditions =
        Conditions::new(status.conditions_mut(), generation, context.clock.as_ref());
    conditions.delete("ArtifactOutdated");
    conditions.mark_true("ArtifactInStorage", reason, message);
    conditions.mark_true("Ready", reason, message);
}

/// Go's `units.HumanSize`: decimal units, four significant digits (`1.234kB`).
pub fn human_size(size: i64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    #[expect(clippy::cast_precision_loss, reason = "a display approximation")]
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{}{}", significant(value, 4), UNITS[unit])
}

/// `%.Ng` without an exponent (values here are below 1000).
fn significant(value: f64, digits: usize) -> String {
    let whole_digits = if value < 1.0 {
        1
    } else {
        format!("{value:.0}").len().min(digits)
    };
    let decimals = digits.saturating_sub(whole_digits);
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(human_size(500), "500B");
        assert_eq!(human_size(1024), "1.024kB");
        assert_eq!(human_size(26_000_000), "26MB");
        assert_eq!(human_size(12_345_678), "12.35MB");
    }
}
