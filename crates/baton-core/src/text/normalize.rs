//! Word segmentation and folding shared by the phrase matcher and the human-request
//! detector.
//!
//! A *word* is a maximal run of letters, digits and combining marks. Folding a word means
//! Unicode NFKD, combining marks dropped, lowercase, only letters and digits kept:
//! "Perché" folds to `perche`, "ﬁle" to `file`. Apostrophes, hyphens and all punctuation
//! separate words ("l'operatore" is `l` + `operatore`, "don't" is `don` + `t`); phrases
//! and texts are segmented the same way, so both sides agree.
//!
//! Two views of a text:
//! - [`Tokens`]: the folded words with their original byte ranges and clause boundaries,
//!   for the detector and for compiling phrases;
//! - [`Folded`]: the text itself with non-ASCII characters folded in place (no copy at
//!   all for ASCII), for the phrase matcher's fast scan.

use std::ops::Range;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// One word of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    /// Byte range in the original text.
    pub(crate) orig: Range<usize>,
    /// Byte range of the folded word in [`Tokens::stream`] (the space before it excluded).
    pub(crate) norm: Range<usize>,
    /// Whether clause punctuation (`. , ; : ! ?`, brackets, a line break…) separates this
    /// word from the previous one. The first word always has it. Only the detector uses it:
    /// custom phrases deliberately match across punctuation.
    pub(crate) clause_start: bool,
}

/// A segmented, folded text: `stream` holds every folded word preceded by a space
/// (`" perche refunds"`), so folded words are slices of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tokens {
    pub(crate) stream: String,
    pub(crate) words: Vec<Word>,
}

impl Tokens {
    pub(crate) fn new(text: &str) -> Tokens {
        // ASCII prose folds to at most one byte per input byte plus the first space.
        let mut tokens = Tokens {
            stream: String::with_capacity(text.len() + 1),
            words: Vec::with_capacity(text.len() / 5 + 1),
        };
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut clause_start = true;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_alphanumeric() {
                i = tokens.push_word(text, i, clause_start);
                clause_start = false;
            } else if b.is_ascii() {
                clause_start |= is_clause_break(char::from(b));
                i += 1;
            } else {
                let Some(c) = char_at(text, i) else { break };
                if is_word_char(c) {
                    i = tokens.push_word(text, i, clause_start);
                    clause_start = false;
                } else {
                    clause_start |= is_clause_break(c);
                    i += c.len_utf8();
                }
            }
        }
        tokens
    }

    /// The folded text of word `i`.
    pub(crate) fn word(&self, i: usize) -> &str {
        self.words
            .get(i)
            .and_then(|w| self.stream.get(w.norm.clone()))
            .unwrap_or("")
    }

    pub(crate) fn len(&self) -> usize {
        self.words.len()
    }

    /// Appends the word starting at byte `start` and returns the byte just after it.
    fn push_word(&mut self, text: &str, start: usize, clause_start: bool) -> usize {
        let bytes = text.as_bytes();
        let mut end = start;
        let mut ascii = true;
        while end < bytes.len() {
            let b = bytes[end];
            if b.is_ascii_alphanumeric() {
                end += 1;
            } else if b.is_ascii() {
                break;
            } else {
                match char_at(text, end) {
                    Some(c) if is_word_char(c) => {
                        ascii = false;
                        end += c.len_utf8();
                    }
                    _ => break,
                }
            }
        }
        let raw = text.get(start..end).unwrap_or("");
        self.stream.push(' ');
        let norm_start = self.stream.len();
        if ascii {
            // Fast path for the common case: folding ASCII is lowercasing in place.
            self.stream.push_str(raw);
            if let Some(pushed) = self.stream.get_mut(norm_start..) {
                pushed.make_ascii_lowercase();
            }
        } else {
            fold_into(raw, &mut self.stream);
        }
        if self.stream.len() == norm_start {
            // Only marks or characters that fold to nothing: not a word after all.
            self.stream.truncate(norm_start - 1);
        } else {
            self.words.push(Word {
                orig: start..end,
                norm: norm_start..self.stream.len(),
                clause_start,
            });
        }
        end
    }
}

/// Folds `raw` (one word) into `out`: compatibility decomposition, combining marks
/// dropped, lowercase, letters and digits only.
pub(crate) fn fold_into(raw: &str, out: &mut String) {
    for c in raw.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        decompose_compatible(c, |d| {
            for l in d.to_lowercase() {
                // Keeping only alphanumerics guarantees the stream's separator never
                // appears inside a word (some NFKD expansions contain spaces).
                if l.is_alphanumeric() && !is_combining_mark(l) {
                    // Greek final sigma is a positional variant of σ.
                    out.push(if l == 'ς' { 'σ' } else { l });
                }
            }
        });
    }
}

/// A text folded for scanning, with the same word structure as the original.
///
/// ASCII text is scanned as it is (no copy): the automaton is ASCII case-insensitive, so
/// folding ASCII is a no-op. Otherwise every non-ASCII character is replaced by its
/// folding (letters and digits) or by a space (anything else), ASCII bytes are copied,
/// and anchors remember where the two texts line up.
///
/// In both cases a *word* is a maximal run of word bytes ([`is_word_byte`]), exactly the
/// words [`Tokens`] finds, though uppercase ASCII may remain.
#[derive(Debug)]
pub(crate) struct Folded<'t> {
    text: std::borrow::Cow<'t, str>,
    /// (offset in `text`, offset in the original) at every non-ASCII character and just
    /// after it, in increasing order; empty for ASCII input.
    anchors: Vec<(usize, usize)>,
}

impl<'t> Folded<'t> {
    pub(crate) fn new(original: &'t str) -> Folded<'t> {
        if original.is_ascii() {
            return Folded {
                text: original.into(),
                anchors: Vec::new(),
            };
        }
        let mut text = String::with_capacity(original.len() + 16);
        let mut anchors = Vec::new();
        let mut ascii_from = 0;
        for (i, c) in original.char_indices() {
            if c.is_ascii() {
                continue;
            }
            text.push_str(original.get(ascii_from..i).unwrap_or(""));
            anchors.push((text.len(), i));
            if is_word_char(c) {
                let mut buf = [0u8; 4];
                fold_into(c.encode_utf8(&mut buf), &mut text);
            } else {
                text.push(' ');
            }
            ascii_from = i + c.len_utf8();
            anchors.push((text.len(), ascii_from));
        }
        text.push_str(original.get(ascii_from..).unwrap_or(""));
        Folded {
            text: text.into(),
            anchors,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The original offset of folded offset `pos`, which must be a word's start or end.
    pub(crate) fn original_offset(&self, pos: usize) -> usize {
        match self.anchors.partition_point(|&(folded, _)| folded <= pos) {
            0 => pos,
            n => self
                .anchors
                .get(n - 1)
                .map_or(pos, |&(folded, orig)| orig + (pos - folded)),
        }
    }

    /// The end of the word starting at `start`.
    pub(crate) fn word_end(&self, start: usize) -> usize {
        let bytes = self.text.as_bytes();
        let len = bytes.get(start..).map_or(0, |rest| {
            rest.iter().take_while(|&&b| is_word_byte(b)).count()
        });
        start + len
    }

    /// The start of the first word at or after `pos`.
    pub(crate) fn next_word_start(&self, pos: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let skip = bytes.get(pos..)?.iter().position(|&b| is_word_byte(b))?;
        Some(pos + skip)
    }

    pub(crate) fn slice(&self, range: Range<usize>) -> &str {
        self.text.get(range).unwrap_or("")
    }
}

/// Bytes of words in a [`Folded`] text: ASCII letters and digits, and every byte of a
/// non-ASCII character (only folded letters and digits remain there).
pub(crate) fn is_word_byte(b: u8) -> bool {
    WORD_BYTES[usize::from(b)]
}

/// [`is_word_byte`] as a table: it runs once per byte of every scanned text.
static WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b >= 0x80;
        b += 1;
    }
    table
};

/// The folded words of a short text (a configured phrase), in order.
pub(crate) fn folded_words(text: &str) -> Vec<String> {
    let tokens = Tokens::new(text);
    (0..tokens.len())
        .map(|i| tokens.word(i).to_owned())
        .collect()
}

fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..).and_then(|rest| rest.chars().next())
}

/// Letters, digits and combining marks (so a decomposed `e\u{301}` stays one word).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '\n'
            | '\r'
            | '…'
            | '¿'
            | '¡'
            | '—'
            | '–'
            | '•'
            | '|'
            | '"'
            | '“'
            | '”'
            | '«'
            | '»'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected_stream: &str, expected_originals: &[&str]) {
        let tokens = Tokens::new(text);
        assert_eq!(tokens.stream, expected_stream, "stream of {text:?}");
        let originals: Vec<&str> = tokens
            .words
            .iter()
            .map(|w| text.get(w.orig.clone()).unwrap_or("?"))
            .collect();
        assert_eq!(originals, expected_originals, "words of {text:?}");
    }

    #[test]
    fn segments_and_folds() {
        check("", "", &[]);
        check("  ...  ", "", &[]);
        check("Refund", " refund", &["Refund"]);
        check(
            "Perché, REFUNDS?",
            " perche refunds",
            &["Perché", "REFUNDS"],
        );
        check("l'operatore", " l operatore", &["l", "operatore"]);
        check("don’t", " don t", &["don", "t"]);
        check("e\u{301}lan", " elan", &["e\u{301}lan"]);
        check("\u{301} x", " x", &["x"]);
        check("ﬁle №5", " file 5", &["ﬁle", "5"]);
        check("ΟΔΟΣ οδος", " οδοσ οδοσ", &["ΟΔΟΣ", "οδος"]);
        check("Straße", " straße", &["Straße"]);
        check(
            "c'è una persona?",
            " c e una persona",
            &["c", "è", "una", "persona"],
        );
    }

    /// `text` folds to `expected`, and each word maps back to `originals`.
    fn check_folded(text: &str, expected: &str, originals: &[&str]) {
        let folded = Folded::new(text);
        assert_eq!(folded.as_str(), expected, "folding {text:?}");
        let mut words = Vec::new();
        let mut pos = 0;
        while let Some(start) = folded.next_word_start(pos) {
            let end = folded.word_end(start);
            let orig = folded.original_offset(start)..folded.original_offset(end);
            words.push(text.get(orig).unwrap_or("?"));
            pos = end;
        }
        assert_eq!(words, originals, "words of {text:?}");
    }

    #[test]
    fn folds_for_scanning() {
        check_folded("Refund me", "Refund me", &["Refund", "me"]);
        check_folded(
            "Perché, REFUNDS?",
            "Perche, REFUNDS?",
            &["Perché", "REFUNDS"],
        );
        check_folded(
            "l’operatore è qui",
            "l operatore e qui",
            &["l", "operatore", "è", "qui"],
        );
        check_folded("ﬁle €5", "file  5", &["ﬁle", "5"]);
        check_folded("Rimborsò!", "Rimborso!", &["Rimborsò"]);
        check_folded("ÉCOLE", "eCOLE", &["ÉCOLE"]);
    }

    #[test]
    fn clause_starts() {
        let tokens = Tokens::new("No, I want a human. Now");
        let starts: Vec<bool> = tokens.words.iter().map(|w| w.clause_start).collect();
        assert_eq!(starts, [true, true, false, false, false, true]);
    }
}
