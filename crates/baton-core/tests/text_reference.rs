//! `PhraseMatcher::find` against a slow reference that stems every word of the text
//! under every language and compares it with every phrase, on generated texts full of
//! inflections, accents, case changes and punctuation. The matcher's shortcuts (prefix
//! keys, prefilter, automaton, lazy stemming) must never change the answer.
#![allow(clippy::unwrap_used)]

use std::ops::Range;

use baton_core::text::{PhraseMatch, PhraseMatcher};
use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

const WORDS: &[&str] = &[
    "refund",
    "refunds",
    "Refunded",
    "refunding",
    "refundable",
    "cancel",
    "cancelled",
    "cancellation",
    "CANCELLATIONS",
    "rimborso",
    "rimborsi",
    "rimborsò",
    "Rimborsare",
    "cancellazione",
    "cancellazioni",
    "cancellare",
    "perché",
    "perche",
    "happy",
    "happiness",
    "happily",
    "die",
    "dying",
    "died",
    "lie",
    "lying",
    "sky",
    "skies",
    "art",
    "start",
    "article",
    "arte",
    "order",
    "orders",
    "ordering",
    "orderly",
    "money",
    "back",
    "late",
    "later",
    "delivery",
    "deliveries",
    "a",
    "an",
    "the",
    "is",
    "my",
    "possible",
    "possibility",
    "città",
    "citta",
    "café",
    "cafe\u{301}",
    "naïve",
    "ﬁle",
    "files",
    "operator",
    "operatore",
    "operatori",
    "human",
    "humans",
    "umano",
    "umani",
    "tie",
    "tying",
    "agency",
    "agencies",
    "presenza",
    "partenza",
    "partenze",
    "hope",
    "hoping",
    "hopped",
    "io",
    "è",
    "e",
    "10",
    "100",
    "ΟΔΟΣ",
    "οδος",
    "assistenza",
    "assistente",
    "disability",
    "disabled",
    "generously",
    "generous",
];
const SEPARATORS: &[&str] = &[
    " ", " ", " ", ", ", ". ", "\n", " - ", "'", "’", "!? ", " (", ") ",
];

/// xorshift64*: deterministic, no dependency.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }

    fn words(&mut self, count: usize, separators: bool) -> String {
        let mut text = String::new();
        for i in 0..count {
            if i > 0 {
                text.push_str(if separators {
                    SEPARATORS[self.below(SEPARATORS.len())]
                } else {
                    " "
                });
            }
            text.push_str(WORDS[self.below(WORDS.len())]);
        }
        text
    }
}

/// Folding as specified: NFKD, no combining marks, lowercase, letters and digits only.
fn fold(word: &str) -> String {
    word.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() && !is_combining_mark(*c))
        .map(|c| if c == 'ς' { 'σ' } else { c })
        .collect()
}

/// Words: runs of letters, digits and combining marks; with their byte ranges.
fn words(text: &str) -> Vec<(String, Range<usize>)> {
    let mut words = Vec::new();
    let mut start = None;
    let in_word = |c: char| c.is_alphanumeric() || is_combining_mark(c);
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (start, in_word(c) && i < text.len()) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let folded = fold(&text[s..i]);
                if !folded.is_empty() {
                    words.push((folded, s..i));
                }
                start = None;
            }
            _ => {}
        }
    }
    words
}

fn reference(phrases: &[String], text: &str) -> Option<PhraseMatch> {
    let stemmers = [
        Stemmer::create(Algorithm::English),
        Stemmer::create(Algorithm::Italian),
    ];
    let mut seen = Vec::new();
    let mut compiled = Vec::new();
    for phrase in phrases {
        let folded: Vec<String> = words(phrase).into_iter().map(|(w, _)| w).collect();
        if folded.is_empty() || seen.contains(&folded) {
            continue;
        }
        seen.push(folded.clone());
        compiled.push((phrase.trim().to_owned(), folded));
    }
    let text_words = words(text);
    // stems[language][word]
    let stem_all = |ws: &[String]| -> Vec<Vec<String>> {
        stemmers
            .iter()
            .map(|s| ws.iter().map(|w| s.stem(w).into_owned()).collect())
            .collect()
    };
    let text_stems = stem_all(
        &text_words
            .iter()
            .map(|(w, _)| w.clone())
            .collect::<Vec<_>>(),
    );
    let phrase_stems: Vec<Vec<Vec<String>>> = compiled.iter().map(|(_, ws)| stem_all(ws)).collect();
    for start in 0..text_words.len() {
        // (words covered, phrase index)
        let mut best: Option<(usize, usize)> = None;
        for (id, stems) in phrase_stems.iter().enumerate() {
            let n = stems[0].len();
            if start + n > text_words.len() {
                continue;
            }
            let matches =
                (0..stemmers.len()).any(|l| text_stems[l][start..start + n] == stems[l][..]);
            if matches && best.is_none_or(|(len, _)| n > len) {
                best = Some((n, id));
            }
        }
        if let Some((n, id)) = best {
            let span = text_words[start].1.start..text_words[start + n - 1].1.end;
            return Some(PhraseMatch {
                phrase: compiled[id].0.clone(),
                span,
            });
        }
    }
    None
}

#[test]
fn matcher_agrees_with_the_reference() {
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    let mut matched = 0;
    for case in 0..1000 {
        let phrases: Vec<String> = (0..1 + random.below(12))
            .map(|_| {
                let n = 1 + random.below(3);
                let separators = random.below(4) == 0;
                random.words(n, separators)
            })
            .collect();
        let n = random.below(30);
        let text = random.words(n, true);
        let expected = reference(&phrases, &text);
        let got = PhraseMatcher::new(&phrases).find(&text);
        assert_eq!(
            got, expected,
            "case {case}: phrases {phrases:?} in {text:?}"
        );
        matched += usize::from(expected.is_some());
    }
    // The generator must exercise both outcomes.
    assert!(
        matched > 150 && matched < 850,
        "{matched} of 1000 cases matched"
    );
}
