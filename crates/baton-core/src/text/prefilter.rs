//! The phrase matcher's prefilter: finds word starts eight bytes at a time and rejects,
//! with one bit lookup for most words, the words at which no phrase can start.
//!
//! A message of 1 KiB has about 200 words and usually none of them starts a phrase, so
//! the cost of [`super::PhraseMatcher::find`] is the cost of looking at each word once.
//! Conditions are tested on a *signature* of a word, its first three bytes, hashed into
//! bitsets:
//!
//! - *first*: the word starts with the key of some phrase's first word. Most words fail
//!   here, after one lookup.
//! - *single*: the word starts with the key of a one-word phrase; or
//! - *pair*: the word starts with the key of a phrase's first word AND the next word
//!   starts with the key of a word that can follow it in that phrase.
//!
//! Only words passing *first* and then *single* or *pair* reach the automaton. Hash
//! collisions only let extra words through; no word that can start a match is rejected.
//!
//! Signatures are taken on bytes ORed with `0x20`, which lowercases ASCII letters; keys
//! and text go through the same transformation, so other bytes merely collide among
//! themselves. A key shorter than a signature is entered under every signature it can
//! begin.

/// High bit of every byte of a `u64`.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `offset`, little-endian, zero-padded at the end of the text (zero
/// is not a word byte: padding neither starts nor extends a word).
fn chunk_at(text: &[u8], offset: usize) -> u64 {
    match text.get(offset..offset + 8) {
        Some(&[b0, b1, b2, b3, b4, b5, b6, b7]) => {
            u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
        }
        _ => {
            let mut padded = [0u8; 8];
            for (slot, &b) in padded
                .iter_mut()
                .zip(text.get(offset..).unwrap_or_default())
            {
                *slot = b;
            }
            u64::from_le_bytes(padded)
        }
    }
}

/// Bit 7 of each byte set when that byte is a word byte: ASCII letter or digit, or any
/// byte of a non-ASCII character. Range tests per byte without carries between bytes:
/// with bit 7 cleared, `y + c` stays below 256 for every constant used.
fn word_bytes(x: u64) -> u64 {
    let ascii = x & !HIGH;
    // ORing 0x20 lowercases letters, and only letters land in `a..=z`.
    let folded = ascii | splat(0x20);
    let letter = folded.wrapping_add(splat(0x80 - b'a')) & !folded.wrapping_add(splat(0x7F - b'z'));
    let digit = ascii.wrapping_add(splat(0x80 - b'0')) & !ascii.wrapping_add(splat(0x7F - b'9'));
    (x | letter | digit) & HIGH
}

fn splat(b: u8) -> u64 {
    u64::from(b) * 0x0101_0101_0101_0101
}

/// The conditions, as bitsets over signature hashes.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    /// Signature of a word that starts any first-word key.
    first: Box<Table>,
    /// Signature of a word starting a one-word match.
    single: Box<Table>,
    /// Signatures of a word and of the next one.
    pair: Box<Table>,
}

/// 65,536 bits (8 KiB): a few percent full for 10,000 phrases.
type Table = [u64; 1024];

impl Prefilter {
    pub(crate) fn new() -> Prefilter {
        Prefilter {
            first: Box::new([0; 1024]),
            single: Box::new([0; 1024]),
            pair: Box::new([0; 1024]),
        }
    }

    /// A word starting with `key` may start a match, whatever follows it.
    pub(crate) fn add_single(&mut self, key: &str) {
        let word = signatures(key.as_bytes(), 3);
        add(&mut self.first, &word, |w| hash(u64::from(w)));
        add(&mut self.single, &word, |w| hash(u64::from(w)));
    }

    /// A word starting with `key` followed by a word starting with `next_key` may start
    /// a match.
    pub(crate) fn add_pair(&mut self, key: &str, next_key: &str) {
        let word = signatures(key.as_bytes(), 3);
        add(&mut self.first, &word, |w| hash(u64::from(w)));
        match (&word, signatures(next_key.as_bytes(), 3)) {
            (Signatures::Some(words), Signatures::Some(nexts))
                if words.len() * nexts.len() <= 1 << 16 =>
            {
                for &w in words {
                    for &n in &nexts {
                        set_bit(&mut self.pair, pair_hash(w, n));
                    }
                }
            }
            // Too many combinations to enter (very short keys): accept on the word alone.
            _ => add(&mut self.single, &word, |w| hash(u64::from(w))),
        }
    }

    /// Calls `visit` with the start of every word of `text` at which a match may start,
    /// left to right, until it returns `true`.
    ///
    /// Word starts are found eight bytes at a time (see [`word_bytes`]). This loop is the
    /// whole cost of a search that finds nothing, so its state stays in locals.
    pub(crate) fn for_each_candidate(&self, text: &[u8], mut visit: impl FnMut(usize) -> bool) {
        // A word passing the first test waits for the next word to be judged.
        let mut pending: Option<(usize, u32)> = None;
        let mut carry = 0;
        let mut offset = 0;
        while offset < text.len() {
            let words = word_bytes(chunk_at(text, offset));
            // A word starts where a word byte follows a non-word byte (or the text start).
            let mut starts = words & !((words << 8) | carry);
            carry = (words >> 56) & 0x80;
            while starts != 0 {
                let start = offset + (starts.trailing_zeros() / 8) as usize;
                starts &= starts - 1;
                let signature = signature_at(text, start);
                if let Some((previous, previous_signature)) = pending.take()
                    && self.passes(previous_signature, Some(signature))
                    && visit(previous)
                {
                    return;
                }
                if has_bit(&self.first, hash(u64::from(signature))) {
                    pending = Some((start, signature));
                }
            }
            offset += 8;
        }
        if let Some((last, signature)) = pending
            && self.passes(signature, None)
        {
            visit(last);
        }
    }

    /// The second test, for a word that passed the first one.
    fn passes(&self, word: u32, next: Option<u32>) -> bool {
        has_bit(&self.single, hash(u64::from(word)))
            || next.is_some_and(|next| has_bit(&self.pair, pair_hash(word, next)))
    }
}

impl Default for Prefilter {
    /// Rejects every word.
    fn default() -> Prefilter {
        Prefilter::new()
    }
}

/// The signatures of the words starting with a key.
enum Signatures {
    Some(Vec<u32>),
    /// The key is empty: every signature.
    All,
}

/// The signatures, over their first `width` bytes (at most 3), of every word starting
/// with `key`: every value of the bytes past the key's end.
fn signatures(key: &[u8], width: usize) -> Signatures {
    let known = key.len().min(width);
    if known == 0 {
        return Signatures::All;
    }
    let mut all = vec![[0u8; 3]];
    for i in 0..width {
        all = match key.get(i) {
            Some(&b) => all
                .into_iter()
                .map(|mut s| {
                    s[i] = b;
                    s
                })
                .collect(),
            None => all
                .into_iter()
                .flat_map(|s| {
                    (0..=u8::MAX).map(move |b| {
                        let mut s = s;
                        s[i] = b;
                        s
                    })
                })
                .collect(),
        };
    }
    Signatures::Some(all.into_iter().map(signature).collect())
}

fn add(table: &mut Table, signatures: &Signatures, index: impl Fn(u32) -> usize) {
    match signatures {
        Signatures::Some(all) => {
            for &s in all {
                set_bit(table, index(s));
            }
        }
        Signatures::All => table.fill(u64::MAX),
    }
}

/// The first three bytes, ORed with 0x20, little-endian in the low 24 bits.
fn signature(bytes: [u8; 3]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], 0]) | 0x0020_2020
}

/// [`signature`] of the bytes at `start`, zero-padded at the end of the text.
fn signature_at(text: &[u8], start: usize) -> u32 {
    match text.get(start..start + 4) {
        Some(&[b0, b1, b2, _]) => signature([b0, b1, b2]),
        _ => {
            let at = |i: usize| text.get(i).copied().unwrap_or(0);
            signature([at(start), at(start + 1), at(start + 2)])
        }
    }
}

/// Multiplicative (Fibonacci) hashing to 16 bits: multiply by 2^64/φ, keep the top.
fn hash(x: u64) -> usize {
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
}

/// Hash of the signatures of a word and of the next one.
fn pair_hash(word: u32, next: u32) -> usize {
    hash(u64::from(word) << 24 | u64::from(next))
}

fn set_bit(table: &mut Table, i: usize) {
    table[(i >> 6) & 1023] |= 1 << (i & 63);
}

fn has_bit(table: &Table, i: usize) -> bool {
    table[(i >> 6) & 1023] & (1 << (i & 63)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize::is_word_byte;

    /// The SWAR scan agrees with the byte-at-a-time definition.
    fn check_starts(text: &str) {
        let bytes = text.as_bytes();
        let expected: Vec<usize> = (0..bytes.len())
            .filter(|&i| is_word_byte(bytes[i]) && (i == 0 || !is_word_byte(bytes[i - 1])))
            .collect();
        let mut everything = Prefilter::new();
        everything.add_single("");
        let mut starts = Vec::new();
        everything.for_each_candidate(bytes, |start| {
            starts.push(start);
            false
        });
        assert_eq!(starts, expected, "{text:?}");
    }

    #[test]
    fn word_starts() {
        check_starts("");
        check_starts(" ");
        check_starts("a");
        check_starts("abcdefgh");
        check_starts("abcdefgh ijklmnop");
        check_starts("abcdefg hijklmno");
        check_starts("abcdefghi");
        check_starts("0123456789 @[`{ /:AZaz");
        check_starts("Perche, REFUNDS? l operatore e qui");
        check_starts("caf\u{e9} na\u{ef}ve \u{4e2d}\u{6587} x");
        let all_bytes: String = (0u8..128).map(char::from).collect();
        check_starts(&all_bytes);
    }

    #[test]
    fn keys_pass_the_filter() {
        let mut filter = Prefilter::new();
        filter.add_single("refund");
        filter.add_single("my");
        filter.add_pair("chang", "my");
        filter.add_pair("late", "d");
        let text = b"REFUNDS myself changed MY late dog lab xx changed";
        let mut candidates = Vec::new();
        filter.for_each_candidate(text, |start| {
            candidates.push(start);
            false
        });
        let check = |word: &str, expected: bool| {
            let start = text.windows(word.len()).position(|x| x == word.as_bytes());
            let start = start.unwrap_or(usize::MAX);
            assert_eq!(candidates.contains(&start), expected, "{word}");
        };
        check("REFUNDS", true);
        check("myself", true);
        check("changed", true);
        check("MY", true);
        check("late", true);
        check("dog", false);
        check("lab", false);
        check("xx", false);
    }
}
