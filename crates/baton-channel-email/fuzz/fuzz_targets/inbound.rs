//! The whole inbound path on arbitrary bytes: parse, the trimmer on the raw text too (it
//! also sees text no parser produced), the HTML scanner, and classification. Any panic is
//! a bug: one bad mail must never take the mailbox down.
#![no_main]

use baton_channel_email::{Ours, ParseOptions, classify, html, parse, trim};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    // libfuzzer-sys aborts in its panic hook, before any unwinding: that would also abort on
    // the panics `parse` deliberately catches from mail-parser. With the default hook back, a
    // panic escaping our code still reaches libfuzzer-sys's own catch, which aborts.
    init: drop(std::panic::take_hook()),
    |data: &[u8]| {
        let options = ParseOptions {
            max_message_bytes: 1 << 20,
            max_attachment_bytes: 1 << 10,
        };
        let ours = Ours {
            message_id_domains: vec!["example.test".to_owned()],
        };
        if let Ok(mail) = parse(data, &options) {
            let _ = classify(&mail, &ours);
        }
        let text = String::from_utf8_lossy(data);
        let _ = trim::new_text(&text);
        let _ = html::to_text(&text);
        let _ = html::strip_quotes(&text);
    }
);
