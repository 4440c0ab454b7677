//! One password verification at the production cost ([`password::COST`]): what a
//! sign-in spends on the blocking pool. The target is 50–250 ms on the 2-core machines
//! Baton is built on — slow enough to make guessing a stolen hash expensive, fast enough
//! that a sign-in feels immediate. The run ends by printing the criterion median against
//! that band, and, on Linux, the CPU time one verification takes on this thread (from
//! `/proc/thread-self/schedstat`): the figure other processes sharing the machine do not
//! inflate.
//!
//! With `BATON_BENCH_PASSWORD_ALTERNATIVES=1` it also times other argon2id costs (group
//! `password-alternatives`), to choose a new [`COST`] should the production one fall
//! outside the band.
#![allow(clippy::print_stdout)] // a benchmark: its report

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use baton_auth::password::{self, COST, Cost};
use criterion::{Criterion, SamplingMode};

const PASSWORD: &str = "correct horse battery staple";
const GROUP: &str = "password";
const TARGET_MS: (f64, f64) = (50.0, 250.0);

fn bench(c: &mut Criterion) {
    // Hashing is outside the timed loop: a sign-in verifies, it does not hash.
    let phc = password::hash_blocking(PASSWORD, COST).expect("hash");
    assert!(password::verify_blocking(&phc, PASSWORD), "right password");
    assert!(!password::verify_blocking(
        &phc,
        "correct horse battery stapler"
    ));
    println!("production cost: {phc:.40}… ({COST:?})");
    print_cpu_time("password/verify_right", &phc);

    let mut group = c.benchmark_group(GROUP);
    // ~100 ms an iteration: few samples, each of the same number of iterations.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("verify_right", |b| {
        b.iter(|| password::verify_blocking(&phc, PASSWORD));
    });
    // A wrong password costs the same: the whole hash is computed either way.
    group.bench_function("verify_wrong", |b| {
        b.iter(|| password::verify_blocking(&phc, "not the password at all"));
    });
    group.finish();

    if std::env::var("BATON_BENCH_PASSWORD_ALTERNATIVES").as_deref() == Ok("1") {
        let mut group = c.benchmark_group("password-alternatives");
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .measurement_time(Duration::from_secs(10));
        for (memory_mib, passes) in ALTERNATIVES {
            let cost = Cost {
                memory_kib: memory_mib * 1024,
                passes,
                lanes: 1,
            };
            let phc = password::hash_blocking(PASSWORD, cost).expect("hash");
            print_cpu_time(
                &format!("password-alternatives/m{memory_mib}MiB_t{passes}"),
                &phc,
            );
            group.bench_function(format!("m{memory_mib}MiB_t{passes}"), |b| {
                b.iter(|| password::verify_blocking(&phc, PASSWORD));
            });
        }
        group.finish();
    }
}

/// (MiB, passes), one lane: OWASP's 19 MiB floor with more passes, and more memory.
const ALTERNATIVES: [(u32, u32); 7] = [
    (19, 4),
    (19, 5),
    (19, 6),
    (19, 8),
    (46, 1),
    (46, 2),
    (64, 2),
];

/// Verifications timed for the CPU-time figure.
const CPU_TIME_RUNS: u32 = 20;

/// This thread's CPU time so far (Linux), the first field of its schedstat.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Prints the CPU time and wall time of one verification of `phc`, averaged over
/// [`CPU_TIME_RUNS`]; nothing where the CPU time cannot be read.
fn print_cpu_time(label: &str, phc: &str) {
    let Some(cpu_before) = thread_cpu_time() else {
        return;
    };
    let wall = std::time::Instant::now();
    for _ in 0..CPU_TIME_RUNS {
        std::hint::black_box(password::verify_blocking(phc, PASSWORD));
    }
    let wall = wall.elapsed() / CPU_TIME_RUNS;
    let Some(cpu_after) = thread_cpu_time() else {
        return;
    };
    let cpu = cpu_after.saturating_sub(cpu_before) / CPU_TIME_RUNS;
    println!(
        "{label}: CPU time {:.1} ms per verification (wall {:.1} ms; mean of {CPU_TIME_RUNS})",
        cpu.as_secs_f64() * 1e3,
        wall.as_secs_f64() * 1e3
    );
}

/// Where criterion wrote its estimates (the same rule criterion follows, minus `cargo
/// metadata`: the target directory this benchmark runs from, `target/release/deps/…`).
fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// The median of one benchmark in nanoseconds, when this run wrote it.
fn median(group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir()?
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    value["median"]["point_estimate"].as_f64()
}

fn main() {
    let since = SystemTime::now();
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    let mut ids: Vec<(&str, String)> = vec![
        (GROUP, "verify_right".into()),
        (GROUP, "verify_wrong".into()),
    ];
    ids.extend(
        ALTERNATIVES
            .iter()
            .map(|(m, t)| ("password-alternatives", format!("m{m}MiB_t{t}"))),
    );
    for (group, id) in ids {
        let Some(ns) = median(group, &id, since) else {
            continue;
        };
        let ms = ns / 1e6;
        println!(
            "{group}/{id}: median {ms:.1} ms per verification — {}",
            if (TARGET_MS.0..=TARGET_MS.1).contains(&ms) {
                "inside the 50–250 ms target"
            } else {
                "OUTSIDE the 50–250 ms target"
            }
        );
    }
}
