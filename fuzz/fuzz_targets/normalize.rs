//! Trigger matching on arbitrary text: the lines before the first empty line are custom
//! phrases, the rest is the visitor's message. Every detector folds and segments the text
//! its own way, and a match's span must slice the original text. Any panic is a bug: a
//! visitor's message must never take the conversation down.
#![no_main]

use baton_core::text::{
    PhraseMatcher, detect_frustration, detect_human_request, detect_small_talk,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let (phrases, text) = input.split_once("\n\n").unwrap_or(("", &input));
    let phrases: Vec<&str> = phrases.lines().collect();
    let matcher = PhraseMatcher::new(&phrases);
    if let Some(found) = matcher.find(text) {
        assert!(
            text.get(found.span.clone()).is_some(),
            "span {:?} does not slice the text",
            found.span
        );
    }
    let _ = detect_human_request(text);
    let _ = detect_frustration(text);
    let _ = detect_small_talk(text);
});
