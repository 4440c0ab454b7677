//! Pure routing: which users may take a conversation, and in which order to try them.
//!
//! The store turns the returned order into atomic claims (a conditional update per
//! candidate, first success wins), so a plan computed from a slightly stale snapshot can
//! never overrun a capacity: the database has the last word, this crate the policy.

pub mod walk;

use baton_core::ids::UserId;
pub use baton_core::settings::Strategy;
pub use walk::{Key, PageRequest, RouteIndex, Walk};

/// Whether the assignee must be able to answer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Live handoff: available and under capacity.
    Live,
    /// Async handoff: a follow-up owner under capacity, availability does not matter.
    Async,
}

/// A user as routing sees them at decision time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: UserId,
    pub paid_seat: bool,
    pub available: bool,
    pub open_conversations: u32,
    pub capacity: u32,
    /// When the user was last assigned a conversation (unix microseconds; the caller's
    /// clock, this crate reads none). `None`: never.
    pub last_assigned_at: Option<i64>,
}

/// Why a candidate was passed over (B5: the audit says why others were skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    NoPaidSeat,
    Away,
    AtCapacity,
}

impl Skip {
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::NoPaidSeat => "no_paid_seat",
            Skip::Away => "away",
            Skip::AtCapacity => "at_capacity",
        }
    }
}

/// The outcome of routing: eligible users in the order to try them, and the rest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub order: Vec<UserId>,
    pub skipped: Vec<(UserId, Skip)>,
}

/// Why `candidate` cannot take a conversation in `mode`, if it cannot.
pub fn ineligibility(candidate: &Candidate, mode: Mode) -> Option<Skip> {
    if !candidate.paid_seat {
        Some(Skip::NoPaidSeat)
    } else if mode == Mode::Live && !candidate.available {
        Some(Skip::Away)
    } else if candidate.open_conversations >= candidate.capacity {
        Some(Skip::AtCapacity)
    } else {
        None
    }
}

/// The order to try candidates in under `strategy`.
pub fn plan(
    strategy: Strategy,
    candidates: &[Candidate],
    cursor: Option<UserId>,
    mode: Mode,
) -> Plan {
    match strategy {
        Strategy::RoundRobin => round_robin(candidates, cursor, mode),
        Strategy::Balanced => balanced(candidates, mode),
    }
}

/// Splits candidates (each once, by ascending id) into the eligible and the skipped.
fn partition(candidates: &[Candidate], mode: Mode) -> (Vec<&Candidate>, Vec<(UserId, Skip)>) {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by_key(|c| c.user_id);
    sorted.dedup_by_key(|c| c.user_id);
    let mut skipped = Vec::new();
    let mut eligible = Vec::with_capacity(sorted.len());
    for candidate in sorted {
        match ineligibility(candidate, mode) {
            Some(skip) => skipped.push((candidate.user_id, skip)),
            None => eligible.push(candidate),
        }
    }
    (eligible, skipped)
}

/// Balanced (least loaded): fewest open conversations first; on a tie, whoever has waited
/// longest since their last assignment (never assigned counts as longest); then by id.
pub fn balanced(candidates: &[Candidate], mode: Mode) -> Plan {
    let (mut eligible, skipped) = partition(candidates, mode);
    eligible.sort_by_key(|c| {
        (
            c.open_conversations,
            c.last_assigned_at.unwrap_or(i64::MIN),
            c.user_id,
        )
    });
    Plan {
        order: eligible.iter().map(|c| c.user_id).collect(),
        skipped,
    }
}

/// Round robin: eligible candidates by ascending user id, starting with the first one
/// after `cursor` (the last user assigned from this destination) and wrapping around.
pub fn round_robin(candidates: &[Candidate], cursor: Option<UserId>, mode: Mode) -> Plan {
    let (eligible, skipped) = partition(candidates, mode);
    let mut plan = Plan {
        order: Vec::new(),
        skipped,
    };
    let eligible: Vec<UserId> = eligible.iter().map(|c| c.user_id).collect();
    let start = cursor.map_or(0, |cursor| eligible.partition_point(|id| *id <= cursor));
    plan.order = eligible[start..]
        .iter()
        .chain(&eligible[..start])
        .copied()
        .collect();
    plan
}

/// The users a destination routes to: named users plus team members, each once,
/// ascending by id.
pub fn expand_destination(
    user_ids: &[UserId],
    team_members: impl IntoIterator<Item = UserId>,
) -> Vec<UserId> {
    let mut all: Vec<UserId> = user_ids.iter().copied().chain(team_members).collect();
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, available: bool, open: u32, capacity: u32) -> Candidate {
        Candidate {
            user_id: UserId(id),
            paid_seat: true,
            available,
            open_conversations: open,
            capacity,
            last_assigned_at: None,
        }
    }

    fn check(candidates: &[Candidate], cursor: Option<i64>, mode: Mode, expect: &[i64]) {
        let plan = round_robin(candidates, cursor.map(UserId), mode);
        let got: Vec<i64> = plan.order.iter().map(|u| u.0).collect();
        assert_eq!(got, expect, "cursor {cursor:?} mode {mode:?}");
    }

    #[test]
    fn round_robin_starts_after_the_cursor_and_wraps() {
        let team = [
            user(3, true, 0, 5),
            user(1, true, 0, 5),
            user(2, true, 0, 5),
        ];
        check(&team, None, Mode::Live, &[1, 2, 3]);
        check(&team, Some(1), Mode::Live, &[2, 3, 1]);
        check(&team, Some(3), Mode::Live, &[1, 2, 3]);
        check(&team, Some(9), Mode::Live, &[1, 2, 3]);
        // A cursor on a user who left the destination still moves past their id.
        check(
            &[user(1, true, 0, 5), user(4, true, 0, 5)],
            Some(2),
            Mode::Live,
            &[4, 1],
        );
    }

    #[test]
    fn live_skips_away_and_full_async_skips_only_full() {
        let team = [
            user(1, false, 0, 5),
            user(2, true, 5, 5),
            user(3, true, 4, 5),
        ];
        check(&team, None, Mode::Live, &[3]);
        check(&team, None, Mode::Async, &[1, 3]);
        let plan = round_robin(&team, None, Mode::Live);
        assert_eq!(
            plan.skipped,
            vec![(UserId(1), Skip::Away), (UserId(2), Skip::AtCapacity)]
        );
    }

    #[test]
    fn unseated_users_are_never_candidates() {
        let mut unseated = user(1, true, 0, 5);
        unseated.paid_seat = false;
        check(&[unseated], None, Mode::Async, &[]);
        check(&[unseated, user(2, true, 0, 5)], None, Mode::Live, &[2]);
    }

    #[test]
    fn balanced_prefers_the_least_loaded_then_the_longest_idle() {
        let at = |id, open, last: Option<i64>| Candidate {
            last_assigned_at: last,
            ..user(id, true, open, 5)
        };
        let order = |candidates: &[Candidate]| -> Vec<i64> {
            balanced(candidates, Mode::Live)
                .order
                .iter()
                .map(|u| u.0)
                .collect()
        };
        assert_eq!(
            order(&[at(1, 3, None), at(2, 1, Some(50)), at(3, 2, None)]),
            [2, 3, 1]
        );
        // a tie on load goes to whoever waited longest; never assigned waits longest
        assert_eq!(
            order(&[at(1, 1, Some(90)), at(2, 1, Some(10)), at(3, 1, None)]),
            [3, 2, 1]
        );
        // the full and the away are skipped, as in round robin
        let mut away = at(4, 0, None);
        away.available = false;
        assert_eq!(order(&[at(1, 5, None), away, at(2, 4, None)]), [2]);
        assert_eq!(
            plan(
                Strategy::Balanced,
                &[at(1, 2, None), at(2, 0, None)],
                Some(UserId(1)),
                Mode::Live
            )
            .order,
            [UserId(2), UserId(1)]
        );
    }

    #[test]
    fn zero_capacity_is_always_full() {
        check(&[user(1, true, 0, 0)], None, Mode::Live, &[]);
    }

    #[test]
    fn destination_expansion_dedups_and_sorts() {
        let got = expand_destination(&[UserId(5), UserId(2)], [UserId(2), UserId(9)]);
        assert_eq!(got, vec![UserId(2), UserId(5), UserId(9)]);
    }
}
