//! The price of the plugin boundary: one trigger-matcher call through the ABI (the
//! `libmatcher_regex` cdylib loaded by this crate, `Matcher::find_blocking`, JSON both
//! ways, health accounting) beside the same `RegexMatcher` linked in-process and called
//! directly, on a 1 KiB message whose trigger is near the end.
//!
//! Run with `cargo bench -p baton-plugin-host --bench abi`; cargo builds the cdylib, as
//! matcher-regex is a dev-dependency.

use std::hint::black_box;
use std::path::PathBuf;

use baton_plugin_host::{Matcher, PluginSpec};
use baton_plugin_sdk::{FindInput, Host, TriggerMatcher};
use criterion::{Criterion, criterion_group, criterion_main};
use matcher_regex::{Config, RegexMatcher};

const PATTERNS: [&str; 3] = [r"\brefund\b", "money back", r"order\s*#?\d{5}"];

/// 1024 bytes of an ordinary complaint, the trigger in its last sentence.
fn message() -> String {
    let filler = "Hello, I bought a blue kettle last week and it arrived with a cracked lid. \
                  The box looked fine, so it must have happened before packing. ";
    let ending = " Honestly, I would just like a refund now.";
    let mut text = filler.repeat(1024 / filler.len() + 1);
    text.truncate(1024 - ending.len());
    text.push_str(ending);
    assert_eq!(text.len(), 1024);
    text
}

/// `libmatcher_regex.so` as cargo built it for this bench: matcher-regex is a
/// dev-dependency, so its cdylib sits in `target/<profile>/deps` next to the bench
/// (current by construction); `cargo build --release -p matcher-regex` puts one in
/// `target/<profile>`.
fn cdylib(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the bench's own path");
    let deps = exe
        .parent()
        .expect("benches run from target/<profile>/deps");
    let file = format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    [Some(deps.join(&file)), deps.parent().map(|p| p.join(&file))]
        .into_iter()
        .flatten()
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{file} is missing from {}: run `cargo build --release -p matcher-regex` first",
                deps.display()
            )
        })
}

fn find(c: &mut Criterion) {
    let text = message();
    let spec = PluginSpec {
        name: "regex".into(),
        path: cdylib("matcher_regex"),
        config: serde_json::json!({ "patterns": PATTERNS }),
    };
    let plugin = baton_plugin_host::load(&spec).expect("libmatcher_regex loads");
    let through_abi = Matcher::new(plugin).expect("a trigger matcher");
    let linked = RegexMatcher::new(
        Config {
            patterns: PATTERNS.iter().map(|p| (*p).to_owned()).collect(),
            case_insensitive: true,
        },
        Host::detached(),
    )
    .expect("patterns compile");
    let input = FindInput {
        text: text.clone(),
        channel: None,
    };

    // Both sides must do the same work, or the comparison means nothing.
    let hit = linked.find(&input).expect("find").expect("a hit");
    assert_eq!(hit.matched, "refund");
    assert_eq!(
        through_abi.find_blocking(&text, None).expect("find"),
        Some(hit)
    );

    let mut group = c.benchmark_group("matcher_find_1KiB");
    group.bench_function("through_abi", |b| {
        b.iter(|| through_abi.find_blocking(black_box(&text), None))
    });
    group.bench_function("in_process", |b| b.iter(|| linked.find(black_box(&input))));
    group.finish();
}

criterion_group!(benches, find);
criterion_main!(benches);
