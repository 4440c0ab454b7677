//! The email channel's throughput and memory (issue 11), through the real binary:
//!
//! 1. 1,000 mails wait in a Dovecot mailbox when the server starts: mails per second from
//!    IMAP to a committed conversation (from the first mail stored to the end of the first
//!    full pass, both on the server's clock), beside parse + trim + classify of the same
//!    1,000 mails alone, in this process, in the same run.
//! 2. One 20 MB mail (a 15 MB attachment): the server's peak resident memory while it is
//!    ingested, above its idle baseline (Linux `VmHWM` minus `VmRSS` before).
//!
//! `cargo bench -p baton-e2e --bench email_ingest`; for the figures of a release server,
//! `cargo build --release -p baton-host --bin baton` and set
//! `CARGO_BIN_EXE_baton=target/release/baton`. Needs Dovecot and aiosmtpd, as the tests.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::Path;
use std::time::{Duration, Instant};

use baton_channel_email::{Ours, ParseOptions, classify, parse};
use baton_e2e::mail::{Dovecot, SmtpSink, mail_servers_or_skip};
use baton_e2e::{Backend, Server};
use chrono::{DateTime, Utc};
use serde_json::Value;

const MAILS: usize = 1000;

fn config(dovecot: &Dovecot, sink: &SmtpSink) -> String {
    format!(
        r#"
[email]
automatic_replies_per_hour = 100000

[[email.mailboxes]]
name = "support"
address = "support@example.test"
imap = {{ host = "127.0.0.1", port = {imap}, tls = "none", user = "{user}", password = "{password}", folder = "INBOX" }}
smtp = {{ host = "127.0.0.1", port = {smtp}, tls = "none", user = "", password = "" }}
"#,
        imap = dovecot.imap_port(),
        user = dovecot.user(),
        password = dovecot.password(),
        smtp = sink.port(),
    )
}

/// A customer's question with some quoted history, as most support mail is.
fn question(i: usize) -> Vec<u8> {
    format!(
        "From: Customer {i} <customer{i}@example.org>\r\nTo: support@example.test\r\n\
         Subject: Order {i}\r\nMessage-ID: <bench-{i}@example.org>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello, how long does shipping take to Europe for order {i}?\r\n\r\n\
         Best regards,\r\nCustomer {i}\r\n\r\n\
         On Sun, 22 Nov 2026 at 09:00, Support <support@example.test> wrote:\r\n\
         > Thanks for your order.\r\n> It ships within 2 business days.\r\n"
    )
    .into_bytes()
}

fn big_mail(bytes: usize) -> Vec<u8> {
    // base64 lines of 76 characters, 57 bytes each: about `bytes` of attachment.
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let lines = bytes / 57;
    let mut mail = String::with_capacity(lines * line.len() + 1024);
    mail.push_str(
        "From: Big <big@example.org>\r\nTo: support@example.test\r\nSubject: The scans\r\n\
         Message-ID: <big-1@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         How long does shipping take to Europe? The scans are attached.\r\n--b\r\n\
         Content-Type: application/pdf; name=\"scans.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"scans.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    for _ in 0..lines {
        mail.push_str(line);
    }
    mail.push_str("--b--\r\n");
    mail.into_bytes()
}

/// The server process: the one whose working directory is the server's folder.
fn server_pid(dir: &Path) -> u32 {
    let dir = dir.canonicalize().unwrap();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd == dir) {
            return pid;
        }
    }
    panic!("no process runs in {}", dir.display());
}

/// `VmRSS` and `VmHWM` of `pid`, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn mailbox(server: &Server) -> Value {
    let channels = server.get_ok("/api/v1/channels").await;
    channels["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "email")
        .cloned()
        .unwrap()
}

async fn wait_for_pass(server: &Server, timeout: Duration) -> DateTime<Utc> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(at) = mailbox(server).await["last_fetch_at"].as_str() {
            return at.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "no full pass within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn throughput() {
    let Some((dovecot, sink)) = mail_servers_or_skip() else {
        return;
    };
    let mails: Vec<Vec<u8>> = (0..MAILS).map(question).collect();
    for mail in &mails {
        dovecot.deliver(mail);
    }
    let server = Server::start_with_config(Backend::Sqlite, config(&dovecot, &sink)).await;
    let done = wait_for_pass(&server, Duration::from_secs(900)).await;
    let list = server
        .get_ok(&format!(
            "/api/v1/channels/email/support/mails?limit={MAILS}"
        ))
        .await;
    let recorded = list["mails"].as_array().unwrap();
    assert_eq!(recorded.len(), MAILS);
    assert!(recorded.iter().all(|m| m["status"] == "done"));
    let first: DateTime<Utc> = recorded
        .iter()
        .map(|m| m["received_at"].as_str().unwrap().parse().unwrap())
        .min()
        .unwrap();
    let seconds = (done - first).num_microseconds().unwrap() as f64 / 1e6;

    let options = ParseOptions::default();
    let ours = Ours {
        message_id_domains: vec!["example.test".into()],
    };
    let start = Instant::now();
    for raw in &mails {
        let mail = parse(std::hint::black_box(raw), &options).unwrap();
        std::hint::black_box(classify(&mail, &ours));
    }
    let parse_seconds = start.elapsed().as_secs_f64();
    println!(
        "email/imap_to_committed_conversation: {MAILS} mails in {seconds:.2} s = {:.0} mails/s \
         (first stored to end of pass; SQLite)",
        MAILS as f64 / seconds
    );
    println!(
        "email/parse_trim_classify_alone: {MAILS} mails in {:.1} ms = {:.0} mails/s",
        parse_seconds * 1e3,
        MAILS as f64 / parse_seconds
    );
    let answered = sink.wait_for(MAILS, Duration::from_secs(900)).await.len();
    println!("email/answers_received_by_the_sink: {answered}");
}

async fn peak_memory() {
    let Some((dovecot, sink)) = mail_servers_or_skip() else {
        return;
    };
    let server = Server::start_with_config(Backend::Sqlite, config(&dovecot, &sink)).await;
    wait_for_pass(&server, Duration::from_secs(60)).await;
    let pid = server_pid(&server.dir);
    // Idle: connected and waiting, after a moment to settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (baseline, _) = memory(pid);
    let mail = big_mail(15 * 1024 * 1024);
    dovecot.deliver(&mail);
    sink.wait_for(1, Duration::from_secs(300)).await;
    let (after, peak) = memory(pid);
    println!(
        "email/20mb_mail: raw {:.1} MB; server RSS idle {:.1} MiB, peak {:.1} MiB \
         (+{:.1} MiB above idle), after {:.1} MiB",
        mail.len() as f64 / 1e6,
        baseline as f64 / 1024.0,
        peak as f64 / 1024.0,
        (peak.saturating_sub(baseline)) as f64 / 1024.0,
        after as f64 / 1024.0,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo test --benches` runs benches with `--bench` absent: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    peak_memory().await;
    throughput().await;
}
