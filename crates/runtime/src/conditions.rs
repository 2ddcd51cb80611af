//! Status conditions with Flux's semantics.
//!
//! - `lastTransitionTime` changes only when a condition's status, reason or message change;
//! - every condition records the object's generation when it was set;
//! - conditions are kept sorted: `Stalled`, `Reconciling`, `Ready` first, then by type;
//! - messages are trimmed to the API's 32 KiB limit;
//! - [`summarize`] merges several conditions into one (how sources compute `Ready`).

use ferroflux_api::meta::{Condition, ConditionStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::clock::Clock;

/// The longest message the API server accepts in a condition.
pub const MAX_MESSAGE_LENGTH: usize = 32 * 1024;
/// Condition types sorted before all others, in this order.
const FIRST: [&str; 3] = ["Stalled", "Reconciling", "Ready"];

/// A mutable view of an object's conditions, stamping its generation and the clock's time.
pub struct Conditions<'a> {
    list: &'a mut Vec<Condition>,
    generation: i64,
    clock: &'a dyn Clock,
}

impl<'a> Conditions<'a> {
    /// A view of `list` for an object at `generation`.
    pub fn new(list: &'a mut Vec<Condition>, generation: i64, clock: &'a dyn Clock) -> Self {
        Self {
            list,
            generation,
            clock,
        }
    }

    /// Sets `type_` to True with the given reason and message.
    pub fn mark_true(&mut self, type_: &str, reason: &str, message: impl Into<String>) {
        self.set(type_, ConditionStatus::True, reason, message.into());
    }

    /// Sets `type_` to False with the given reason and message.
    pub fn mark_false(&mut self, type_: &str, reason: &str, message: impl Into<String>) {
        self.set(type_, ConditionStatus::False, reason, message.into());
    }

    /// Sets `type_` to Unknown with the given reason and message.
    pub fn mark_unknown(&mut self, type_: &str, reason: &str, message: impl Into<String>) {
        self.set(type_, ConditionStatus::Unknown, reason, message.into());
    }

    /// Sets a condition, keeping its transition time when its state is unchanged.
    pub fn set(&mut self, type_: &str, status: ConditionStatus, reason: &str, message: String) {
        let message = trim_message(message);
        let now = Time(self.clock.now());
        let condition = Condition {
            type_: type_.to_owned(),
            status,
            observed_generation: Some(self.generation),
            last_transition_time: now,
            reason: reason.to_owned(),
            message,
        };
        match self.list.iter_mut().find(|c| c.type_ == type_) {
            Some(existing) => {
                let same_state = existing.status == condition.status
                    && existing.reason == condition.reason
                    && existing.message == condition.message;
                let last_transition_time = if same_state {
                    existing.last_transition_time.clone()
                } else {
                    condition.last_transition_time.clone()
                };
                *existing = Condition {
                    last_transition_time,
                    ..condition
                };
            }
            None => self.list.push(condition),
        }
        sort(self.list);
    }

    /// Removes the condition of `type_`, if present.
    pub fn delete(&mut self, type_: &str) {
        self.list.retain(|c| c.type_ != type_);
    }

    /// Puts a condition computed elsewhere (for example by [`summarize`]) in place.
    pub fn put(&mut self, condition: Condition) {
        let Condition {
            type_,
            status,
            reason,
            message,
            ..
        } = condition;
        self.set(&type_, status, &reason, message);
    }

    /// The condition of `type_`, if present.
    pub fn get(&self, type_: &str) -> Option<&Condition> {
        get(self.list, type_)
    }

    /// All conditions, sorted.
    pub fn list(&self) -> &[Condition] {
        self.list
    }
}

/// The condition of `type_` in `list`, if present.
pub fn get<'c>(list: &'c [Condition], type_: &str) -> Option<&'c Condition> {
    list.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of `type_` is present and True.
pub fn is_true(list: &[Condition], type_: &str) -> bool {
    get(list, type_).is_some_and(|c| c.status == ConditionStatus::True)
}

/// Whether the condition of `type_` is present and False.
pub fn is_false(list: &[Condition], type_: &str) -> bool {
    get(list, type_).is_some_and(|c| c.status == ConditionStatus::False)
}

/// Sorts conditions as Flux does: Stalled, Reconciling, Ready, then the rest by type.
pub fn sort(list: &mut [Condition]) {
    list.sort_by(|a, b| {
        rank(&a.type_)
            .cmp(&rank(&b.type_))
            .then_with(|| a.type_.cmp(&b.type_))
    });
}

fn rank(type_: &str) -> usize {
    FIRST
        .iter()
        .position(|t| *t == type_)
        .unwrap_or(FIRST.len())
}

/// Cuts a message to the API limit on a character boundary.
pub fn trim_message(message: String) -> String {
    if message.len() <= MAX_MESSAGE_LENGTH {
        return message;
    }
    let mut end = MAX_MESSAGE_LENGTH;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_owned()
}

/// Merges the conditions named in `types` (in priority order) into one condition of type
/// `target`, as Flux's summarize helper computes `Ready`.
///
/// Conditions whose type is in `negative_polarity` mean trouble when True (FetchFailed,
/// Reconciling, Stalled...). They are grouped by (status, polarity) and the most severe
/// group wins: negative True, then positive False, positive True, negative False,
/// Unknown. A winning negative-polarity True makes the summary False; a winning
/// negative False makes it True. The reason and message come from the first condition of
/// the winning group in `types` order. Returns `None` when none of `types` is present.
pub fn summarize(
    list: &[Condition],
    target: &str,
    types: &[&str],
    negative_polarity: &[&str],
) -> Option<Condition> {
    let candidates = types.iter().filter_map(|t| get(list, t));
    let priority = |c: &Condition| {
        let negative = negative_polarity.contains(&c.type_.as_str());
        match (c.status, negative) {
            (ConditionStatus::True, true) => 0,
            (ConditionStatus::False, false) => 1,
            (ConditionStatus::True, false) => 2,
            (ConditionStatus::False, true) => 3,
            (ConditionStatus::Unknown, _) => 4,
        }
    };
    // `min_by_key` keeps the first of equal elements, i.e. the first in `types` order.
    let winner = candidates.min_by_key(|c| priority(c))?;
    let negative = negative_polarity.contains(&winner.type_.as_str());
    let status = match (winner.status, negative) {
        (ConditionStatus::True, true) => ConditionStatus::False,
        (ConditionStatus::False, true) => ConditionStatus::True,
        (status, _) => status,
    };
    Some(Condition {
        type_: target.to_owned(),
        status,
        ..winner.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use jiff::Timestamp;

    fn at(second: i64) -> FixedClock {
        FixedClock::new(Timestamp::from_second(second).unwrap())
    }

    fn condition(type_: &str, status: ConditionStatus, reason: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status,
            observed_generation: Some(1),
            last_transition_time: Time(Timestamp::UNIX_EPOCH),
            reason: reason.into(),
            message: format!("{type_} {reason}"),
        }
    }

    #[test]
    fn keeps_transition_time_when_state_is_unchanged() {
        let mut list = Vec::new();
        let clock = at(100);
        Conditions::new(&mut list, 1, &clock).mark_true("Ready", "Succeeded", "ok");
        clock.set(Timestamp::from_second(200).unwrap());
        Conditions::new(&mut list, 2, &clock).mark_true("Ready", "Succeeded", "ok");
        assert_eq!(list[0].last_transition_time.0.as_second(), 100);
        assert_eq!(
            list[0].observed_generation,
            Some(2),
            "generation is always refreshed"
        );
        Conditions::new(&mut list, 2, &clock).mark_true("Ready", "Succeeded", "other message");
        assert_eq!(
            list[0].last_transition_time.0.as_second(),
            200,
            "a new message is a transition"
        );
    }

    #[test]
    fn sorts_stalled_reconciling_ready_first() {
        let mut list = Vec::new();
        let clock = at(0);
        let mut conditions = Conditions::new(&mut list, 1, &clock);
        for t in [
            "FetchFailed",
            "Ready",
            "ArtifactInStorage",
            "Reconciling",
            "Stalled",
        ] {
            conditions.mark_true(t, "R", "");
        }
        let order: Vec<_> = list.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(
            order,
            [
                "Stalled",
                "Reconciling",
                "Ready",
                "ArtifactInStorage",
                "FetchFailed"
            ]
        );
    }

    #[test]
    fn trims_long_messages_on_char_boundaries() {
        let long = "é".repeat(MAX_MESSAGE_LENGTH);
        let trimmed = trim_message(long);
        assert!(trimmed.len() <= MAX_MESSAGE_LENGTH);
        assert!(trimmed.chars().all(|c| c == 'é'));
    }

    const TYPES: [&str; 5] = [
        "StorageOperationFailed",
        "FetchFailed",
        "ArtifactOutdated",
        "ArtifactInStorage",
        "Reconciling",
    ];
    const NEGATIVE: [&str; 4] = [
        "StorageOperationFailed",
        "FetchFailed",
        "ArtifactOutdated",
        "Reconciling",
    ];

    #[test]
    fn summary_table() {
        use ConditionStatus::{False, True, Unknown};
        type Case = (Vec<Condition>, Option<(ConditionStatus, &'static str)>);
        let cases: Vec<Case> = vec![
            (vec![], None),
            (
                vec![condition("ArtifactInStorage", True, "Succeeded")],
                Some((True, "Succeeded")),
            ),
            (
                vec![
                    condition("ArtifactInStorage", True, "Succeeded"),
                    condition("FetchFailed", True, "AuthenticationFailed"),
                ],
                Some((False, "AuthenticationFailed")),
            ),
            (
                vec![
                    condition("ArtifactInStorage", True, "Succeeded"),
                    condition("Reconciling", True, "Progressing"),
                ],
                Some((False, "Progressing")),
            ),
            (
                // Two failures: the first in priority order speaks.
                vec![
                    condition("FetchFailed", True, "GitOperationFailed"),
                    condition("StorageOperationFailed", True, "ArchiveOperationFailed"),
                ],
                Some((False, "ArchiveOperationFailed")),
            ),
            (
                vec![condition("ArtifactInStorage", Unknown, "Progressing")],
                Some((Unknown, "Progressing")),
            ),
            (
                vec![condition("FetchFailed", False, "Succeeded")],
                Some((True, "Succeeded")),
            ),
        ];
        for (list, expected) in cases {
            let summary = summarize(&list, "Ready", &TYPES, &NEGATIVE);
            assert_eq!(
                summary.map(|c| (c.status, c.reason.clone())),
                expected.map(|(s, r)| (s, r.to_owned())),
                "{list:?}"
            );
        }
    }
}
