//! Choosing an assignee without reading the whole route: a walk along the route in
//! strategy order, one bounded page at a time.
//!
//! The store keeps route members in an index ordered by [`Key`] and answers each
//! [`PageRequest`] with at most `limit` members that pass the cheap filters it can apply
//! in the query (paid seat, under capacity, and for a live handoff the available switch).
//! The walk re-checks every candidate with [`ineligibility`] (working hours are decided
//! by the caller, in `available`) and hands back the ones to try, in order. A decision
//! therefore reads a page or two, however long the route is: the cost grows with the
//! number of users passed over, not with the route.
//!
//! [`plan`](crate::plan) over the full candidate list is the specification; tests check
//! that a walk over [`RouteIndex`] proposes the same users in the same order.

use std::collections::{BTreeMap, BTreeSet};

use baton_core::ids::UserId;

use crate::{Candidate, Mode, Skip, Strategy, ineligibility};

/// Members read per page: enough that one read almost always finds someone.
pub const PAGE: usize = 16;

/// A member's position in strategy order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// Round robin: ascending user id.
    Id(UserId),
    /// Balanced: fewest open, then longest idle (never assigned = `i64::MIN`), then id.
    Load {
        open: u32,
        idle_since: i64,
        user_id: UserId,
    },
}

/// The key of `candidate` under `strategy`.
pub fn key(strategy: Strategy, candidate: &Candidate) -> Key {
    match strategy {
        Strategy::RoundRobin => Key::Id(candidate.user_id),
        Strategy::Balanced => Key::Load {
            open: candidate.open_conversations,
            idle_since: candidate.last_assigned_at.unwrap_or(i64::MIN),
            user_id: candidate.user_id,
        },
    }
}

/// One read: members with `after < key` (no bound when `None`) and `key <= until` (no
/// bound when `None`), in ascending key order, at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<Key>,
    pub until: Option<Key>,
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// From the cursor (round robin) or the start (balanced) to the end.
    Main,
    /// Round robin only: from the start up to and including the cursor.
    Wrap,
    Done,
}

/// A walk along one route for one decision.
#[derive(Debug, Clone)]
pub struct Walk {
    strategy: Strategy,
    mode: Mode,
    cursor: Option<UserId>,
    pass: Pass,
    after: Option<Key>,
    skipped: Vec<(UserId, Skip)>,
    read: usize,
}

impl Walk {
    /// A walk for `strategy`; `cursor` is the last user round robin assigned.
    pub fn new(strategy: Strategy, cursor: Option<UserId>, mode: Mode) -> Walk {
        let after = match strategy {
            Strategy::RoundRobin => cursor.map(Key::Id),
            Strategy::Balanced => None,
        };
        Walk {
            strategy,
            mode,
            cursor,
            pass: Pass::Main,
            after,
            skipped: Vec::new(),
            read: 0,
        }
    }

    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The next page to read, or `None` when the whole route has been seen.
    pub fn request(&self) -> Option<PageRequest> {
        let until = match self.pass {
            Pass::Main => None,
            Pass::Wrap => self.cursor.map(Key::Id),
            Pass::Done => return None,
        };
        Some(PageRequest {
            after: self.after,
            until,
            limit: PAGE,
        })
    }

    /// Takes the page read for [`Walk::request`] and returns whom to try from it, in
    /// order. Candidates that fail the full eligibility check are remembered as skipped.
    pub fn feed(&mut self, page: &[Candidate]) -> Vec<UserId> {
        self.read += page.len();
        let mut order = Vec::with_capacity(page.len());
        for candidate in page {
            self.after = Some(key(self.strategy, candidate));
            match ineligibility(candidate, self.mode) {
                Some(skip) => self.skipped.push((candidate.user_id, skip)),
                None => order.push(candidate.user_id),
            }
        }
        if page.len() < PAGE {
            self.pass = match (self.pass, self.strategy, self.cursor) {
                (Pass::Main, Strategy::RoundRobin, Some(_)) => {
                    self.after = None;
                    Pass::Wrap
                }
                _ => Pass::Done,
            };
        }
        order
    }

    /// Candidates read and passed over, with why.
    pub fn skipped(&self) -> &[(UserId, Skip)] {
        &self.skipped
    }

    /// How many members the walk has read so far.
    pub fn read(&self) -> usize {
        self.read
    }
}

/// The database filter a page applies, before the walk's full check: paid seat, under
/// capacity, and for a live handoff the available switch (here: `available`).
pub fn prefilter(candidate: &Candidate, mode: Mode) -> bool {
    ineligibility(candidate, mode).is_none()
}

/// A route held in memory, ordered as the store's indexes order it: the reference for
/// what a page read returns (tests and benchmarks use it; the store answers the same
/// [`PageRequest`]s with indexed queries).
#[derive(Debug, Clone, Default)]
pub struct RouteIndex {
    members: BTreeMap<UserId, Candidate>,
    by_load: BTreeSet<Key>,
}

impl RouteIndex {
    pub fn new(candidates: impl IntoIterator<Item = Candidate>) -> RouteIndex {
        let mut index = RouteIndex::default();
        for candidate in candidates {
            index.upsert(candidate);
        }
        index
    }

    /// Adds or updates a member (after an assignment changed its load).
    pub fn upsert(&mut self, candidate: Candidate) {
        if let Some(old) = self.members.insert(candidate.user_id, candidate) {
            self.by_load.remove(&key(Strategy::Balanced, &old));
        }
        self.by_load.insert(key(Strategy::Balanced, &candidate));
    }

    pub fn get(&self, user: UserId) -> Option<&Candidate> {
        self.members.get(&user)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Answers `request` for `strategy` and `mode`.
    pub fn page(&self, strategy: Strategy, mode: Mode, request: PageRequest) -> Vec<Candidate> {
        let within = |k: &Key| {
            request.after.is_none_or(|after| *k > after)
                && request.until.is_none_or(|until| *k <= until)
        };
        let keep = |c: &&Candidate| prefilter(c, mode);
        match strategy {
            Strategy::RoundRobin => {
                let start = match request.after {
                    Some(Key::Id(id)) => std::ops::Bound::Excluded(id),
                    _ => std::ops::Bound::Unbounded,
                };
                self.members
                    .range((start, std::ops::Bound::Unbounded))
                    .map(|(_, c)| c)
                    .take_while(|c| within(&Key::Id(c.user_id)))
                    .filter(keep)
                    .take(request.limit)
                    .copied()
                    .collect()
            }
            Strategy::Balanced => {
                let start = match request.after {
                    Some(after) => std::ops::Bound::Excluded(after),
                    None => std::ops::Bound::Unbounded,
                };
                self.by_load
                    .range((start, std::ops::Bound::Unbounded))
                    .take_while(|k| within(k))
                    .filter_map(|k| match k {
                        Key::Load { user_id, .. } => self.members.get(user_id),
                        Key::Id(_) => None,
                    })
                    .filter(keep)
                    .take(request.limit)
                    .copied()
                    .collect()
            }
        }
    }

    /// Walks to the first `want` users to try, as the store does.
    pub fn choose(&self, walk: &mut Walk, want: usize) -> Vec<UserId> {
        let mut chosen = Vec::new();
        while chosen.len() < want {
            let Some(request) = walk.request() else { break };
            let page = self.page(walk.strategy(), walk.mode(), request);
            chosen.extend(walk.feed(&page));
        }
        chosen.truncate(want);
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan;

    /// A deterministic spread of candidates: some unseated, away, full; loads and idle
    /// times varied; ids sparse.
    fn population(n: i64, seed: u64) -> Vec<Candidate> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        (0..n)
            .map(|i| {
                let capacity = (next() % 4) as u32;
                Candidate {
                    user_id: UserId(i * 3 + 1),
                    paid_seat: next() % 10 != 0,
                    available: next() % 3 != 0,
                    open_conversations: (next() % 5) as u32,
                    capacity,
                    last_assigned_at: (next() % 4 != 0).then(|| (next() % 50) as i64),
                }
            })
            .collect()
    }

    #[test]
    fn a_walk_proposes_what_the_full_plan_orders() {
        for seed in 0..40 {
            let people = population(1 + (seed as i64 * 7) % 90, seed);
            let index = RouteIndex::new(people.iter().copied());
            for strategy in [Strategy::RoundRobin, Strategy::Balanced] {
                for mode in [Mode::Live, Mode::Async] {
                    for cursor in [
                        None,
                        Some(UserId(0)),
                        Some(UserId(40)),
                        Some(UserId(10_000)),
                    ] {
                        let expect = plan(strategy, &people, cursor, mode).order;
                        let mut walk = Walk::new(strategy, cursor, mode);
                        let got = index.choose(&mut walk, usize::MAX);
                        assert_eq!(got, expect, "seed {seed} {strategy:?} {mode:?} {cursor:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_walk_reads_a_page_not_the_route() {
        let everyone_free = |n: i64| {
            (1..=n).map(|i| Candidate {
                user_id: UserId(i),
                paid_seat: true,
                available: true,
                open_conversations: 0,
                capacity: 3,
                last_assigned_at: Some(i),
            })
        };
        for n in [100, 10_000] {
            let index = RouteIndex::new(everyone_free(n));
            for strategy in [Strategy::RoundRobin, Strategy::Balanced] {
                let mut walk = Walk::new(strategy, Some(UserId(n / 2)), Mode::Live);
                assert_eq!(index.choose(&mut walk, 1).len(), 1);
                assert!(
                    walk.read() <= PAGE,
                    "{n} {strategy:?}: read {}",
                    walk.read()
                );
            }
        }
    }

    #[test]
    fn round_robin_wraps_to_the_cursor_and_stops() {
        let c = |id| Candidate {
            user_id: UserId(id),
            paid_seat: true,
            available: true,
            open_conversations: 0,
            capacity: 1,
            last_assigned_at: None,
        };
        let index = RouteIndex::new([c(1), c(2), c(3)]);
        let mut walk = Walk::new(Strategy::RoundRobin, Some(UserId(2)), Mode::Live);
        assert_eq!(
            index.choose(&mut walk, 10),
            [UserId(3), UserId(1), UserId(2)]
        );
        assert_eq!(walk.request(), None);
    }

    #[test]
    fn the_walk_skips_what_the_page_let_through() {
        // The database only knows the available switch; hours are the caller's, so a
        // member the page returns can still be away.
        let off_hours = Candidate {
            user_id: UserId(1),
            paid_seat: true,
            available: false,
            open_conversations: 0,
            capacity: 1,
            last_assigned_at: None,
        };
        let mut walk = Walk::new(Strategy::RoundRobin, None, Mode::Live);
        assert!(walk.feed(&[off_hours]).is_empty());
        assert_eq!(walk.skipped(), [(UserId(1), Skip::Away)]);
    }
}
