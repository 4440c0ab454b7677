//! Parsing alone, the baseline of the email channel's IMAP benchmark (issue 11): every mail
//! of the corpora — the real bounces and auto-replies, the 64 real replies wrapped as mails,
//! and the hand-written fixtures — through parse + trim + classify, reported in mails per
//! second; beside it mail-parser's MIME parse alone, so the cost of our own work shows.

use std::path::{Path, PathBuf};

use baton_channel_email::{Ours, ParseOptions, classify, parse};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mail_parser::MessageParser;
use std::hint::black_box;

fn files(dir: &Path, extension: &str) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// A reply body from the trimming corpus, as the mail it arrived in.
fn as_mail(i: usize, body: &[u8]) -> Vec<u8> {
    let mut mail = format!(
        "From: Customer {i} <customer{i}@customer.test>\r\nTo: support@example.test\r\n\
         Subject: Re: your ticket\r\nMessage-ID: <reply-{i}@customer.test>\r\n\
         In-Reply-To: <answer-{i}@example.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    .into_bytes();
    mail.extend_from_slice(body);
    mail
}

fn corpus() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../../../shared/corpora/email");
    let mut mails = files(&shared.join("bounces"), "eml");
    let replies = files(&shared.join("reply-trimming/emails"), "txt");
    mails.extend(replies.iter().enumerate().map(|(i, body)| as_mail(i, body)));
    mails.extend(files(&root.join("tests/data"), "eml"));
    mails
}

fn inbound(c: &mut Criterion) {
    let mails = corpus();
    assert!(mails.len() > 90, "the corpora beside the repository");
    let options = ParseOptions::default();
    let ours = Ours {
        message_id_domains: vec!["example.test".to_owned()],
    };
    let mut group = c.benchmark_group("inbound");
    group.throughput(Throughput::Elements(mails.len() as u64));
    group.bench_function("parse_trim_classify", |b| {
        b.iter(|| {
            for raw in &mails {
                if let Ok(mail) = parse(black_box(raw), &options) {
                    black_box(classify(&mail, &ours));
                }
            }
        });
    });
    let parser = MessageParser::default();
    group.bench_function("mail_parser_alone", |b| {
        b.iter(|| {
            for raw in &mails {
                black_box(parser.parse(black_box(raw)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, inbound);
criterion_main!(benches);
