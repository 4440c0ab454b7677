//! Cost of custom trigger matching on a ~1 KiB English message, for 10, 1,000 and 10,000
//! configured phrases, against two references:
//!
//! - `phrase_matcher`: [`PhraseMatcher::find`] on the raw message (folding, word
//!   boundaries, inflections included);
//! - `raw_aho_corasick`: one `AhoCorasick::find` over the message lowercased in advance,
//!   with the phrases lowercased as patterns — the irreducible scan cost;
//! - `naive_contains`: `phrases.iter().any(|p| text.contains(p))` on the same lowercased
//!   text.
//!
//! The phrases are synthetic but shaped like real triggers ("late delivery", "cancel my
//! subscription", "damaged parcel claim"), generated deterministically and shuffled so
//! every size mixes all shapes. None of them occurs in the message — the common case, and
//! the worst one, since every method has to read the whole text — but many of their words
//! do, so the matcher's verification step is exercised too.

use std::hint::black_box;

use aho_corasick::AhoCorasick;
use baton_core::text::{
    PhraseMatcher, detect_frustration, detect_human_request, detect_small_talk,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const MESSAGE: &str = "Hello, I am writing about the order I placed two weeks ago for a pair \
of running shoes and a water bottle. The tracking page said the parcel would arrive on \
Tuesday, but nothing came, and when I checked again yesterday the status had not changed at \
all. I tried calling the number on your website but the line was busy every time. My \
neighbour said a van stopped outside our building on Wednesday afternoon, so maybe the \
package was left with someone else? I also noticed that the invoice shows a different \
address from the one in my account settings, which is strange because I updated it last \
month after moving. Could you please check where the shoes are and confirm which address \
you have on file? If the delivery cannot be found, I would be happy to receive a \
replacement instead of waiting much longer, since I need the shoes for a race at the end of \
the month. I have attached a screenshot of the confirmation email and of my payment, in case \
it helps. Thank you for your help, and sorry for the long message. Have a nice day. Best \
regards, Anna";

const ADJECTIVES: [&str; 20] = [
    "late",
    "missing",
    "damaged",
    "broken",
    "wrong",
    "duplicate",
    "expired",
    "blocked",
    "failed",
    "lost",
    "delayed",
    "faulty",
    "incorrect",
    "cancelled",
    "unauthorized",
    "overcharged",
    "locked",
    "stolen",
    "defective",
    "refused",
];
const NOUNS: [&str; 30] = [
    "delivery",
    "parcel",
    "invoice",
    "payment",
    "order",
    "subscription",
    "account",
    "password",
    "voucher",
    "coupon",
    "warranty",
    "charger",
    "screen",
    "battery",
    "receipt",
    "shipment",
    "card",
    "label",
    "courier",
    "package",
    "refund",
    "return",
    "exchange",
    "discount",
    "membership",
    "login",
    "address",
    "device",
    "cable",
    "headphones",
];
const EXTRAS: [&str; 10] = [
    "claim",
    "request",
    "issue",
    "complaint",
    "problem",
    "dispute",
    "notice",
    "fee",
    "number",
    "code",
];
const VERBS: [&str; 10] = [
    "cancel", "change", "update", "replace", "return", "track", "renew", "reset", "transfer",
    "upgrade",
];
const SINGLES: [&str; 12] = [
    "chargeback",
    "ombudsman",
    "lawyer",
    "fraud",
    "lawsuit",
    "scam",
    "unsubscribe",
    "gdpr",
    "attorney",
    "bankruptcy",
    "trustpilot",
    "complaints",
];

/// Every phrase shape, then a deterministic shuffle so any prefix mixes the shapes.
fn phrases() -> Vec<String> {
    let mut all: Vec<String> = SINGLES.iter().map(|s| (*s).to_owned()).collect();
    for a in ADJECTIVES {
        for n in NOUNS {
            all.push(format!("{a} {n}"));
            for e in EXTRAS {
                all.push(format!("{a} {n} {e}"));
            }
        }
    }
    for v in VERBS {
        for n in NOUNS {
            all.push(format!("{v} my {n}"));
            for e in EXTRAS {
                all.push(format!("{v} {n} {e}"));
            }
        }
    }
    for n in NOUNS {
        for e in EXTRAS {
            all.push(format!("{n} {e}"));
        }
    }
    // xorshift64: reproducible without a dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..all.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = usize::try_from(state % (i as u64 + 1)).unwrap_or(0);
        all.swap(i, j);
    }
    all
}

fn bench_find(c: &mut Criterion) {
    let all = phrases();
    assert!(all.len() >= 10_000, "only {} phrases generated", all.len());
    assert!(
        MESSAGE.len() >= 1000 && MESSAGE.len() <= 1100,
        "message is {} bytes",
        MESSAGE.len()
    );
    let lowered_text = MESSAGE.to_lowercase();
    let mut group = c.benchmark_group("find");
    for n in [10, 1_000, 10_000] {
        let phrases = &all[..n];
        let lowered: Vec<String> = phrases.iter().map(|p| p.to_lowercase()).collect();
        let matcher = PhraseMatcher::new(phrases);
        let raw = AhoCorasick::new(&lowered).expect("raw automaton builds");
        // All three must agree that nothing matches, or the comparison is meaningless.
        assert_eq!(matcher.find(MESSAGE), None, "{n} phrases");
        assert_eq!(raw.find(&lowered_text), None, "{n} phrases");
        assert!(
            !lowered.iter().any(|p| lowered_text.contains(p.as_str())),
            "{n} phrases"
        );

        group.bench_with_input(BenchmarkId::new("phrase_matcher", n), &matcher, |b, m| {
            b.iter(|| m.find(black_box(MESSAGE)));
        });
        group.bench_with_input(BenchmarkId::new("raw_aho_corasick", n), &raw, |b, ac| {
            b.iter(|| ac.find(black_box(lowered_text.as_str())));
        });
        group.bench_with_input(BenchmarkId::new("naive_contains", n), &lowered, |b, ps| {
            b.iter(|| {
                let text = black_box(lowered_text.as_str());
                ps.iter().any(|p| text.contains(p.as_str()))
            });
        });
    }
    group.finish();
}

/// The built-in per-message detectors on the same ~1 KiB message and on a short chat
/// line: what every visitor message costs before any custom phrase is looked at.
fn bench_detectors(c: &mut Criterion) {
    let short = "Hi, my parcel has not arrived yet, can you check where it is?";
    let mut group = c.benchmark_group("detectors");
    for (name, text) in [("long", MESSAGE), ("short", short)] {
        group.bench_with_input(BenchmarkId::new("asks_for_human", name), text, |b, t| {
            b.iter(|| black_box(detect_human_request(black_box(t))));
        });
        group.bench_with_input(BenchmarkId::new("frustrated", name), text, |b, t| {
            b.iter(|| black_box(detect_frustration(black_box(t))));
        });
        group.bench_with_input(BenchmarkId::new("small_talk", name), text, |b, t| {
            b.iter(|| black_box(detect_small_talk(black_box(t))));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_find, bench_detectors);
criterion_main!(benches);
