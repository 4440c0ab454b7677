//! Choosing an assignee among 100 vs 10,000 candidates (issue 3: the cost must not grow
//! with the route). `walk` is what the store does — pages read from an ordered index —
//! and `full_plan` orders every candidate, the baseline a full scan pays.

use baton_core::ids::UserId;
use baton_routing::{Candidate, Mode, RouteIndex, Strategy, Walk, plan};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

/// A route of `n` users where one in three is away and one in five is full, so a walk
/// passes over some before it finds someone.
fn route(n: i64) -> Vec<Candidate> {
    (1..=n)
        .map(|i| Candidate {
            user_id: UserId(i),
            paid_seat: true,
            available: i % 3 != 0,
            open_conversations: if i % 5 == 0 { 4 } else { (i % 4) as u32 },
            capacity: 4,
            last_assigned_at: Some(i * 7 % 1000),
        })
        .collect()
}

fn choose(c: &mut Criterion) {
    for strategy in [Strategy::RoundRobin, Strategy::Balanced] {
        let mut group = c.benchmark_group(format!("choose/{}", strategy.as_str()));
        for n in [100_i64, 10_000] {
            let candidates = route(n);
            let index = RouteIndex::new(candidates.iter().copied());
            let cursor = Some(UserId(n / 2));
            group.bench_with_input(BenchmarkId::new("walk", n), &n, |b, _| {
                b.iter(|| {
                    let mut walk = Walk::new(strategy, black_box(cursor), Mode::Live);
                    black_box(index.choose(&mut walk, 1))
                });
            });
            group.bench_with_input(BenchmarkId::new("full_plan", n), &n, |b, _| {
                b.iter(|| black_box(plan(strategy, black_box(&candidates), cursor, Mode::Live)));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, choose);
criterion_main!(benches);
