//! The phrase matcher's prefilter: finds word starts eight bytes at a time and rejects,
//! with two bit lookups, the words at which no phrase can start.
//!
//! A message of 1 KiB has about 200 words and usually none of them starts a phrase, so
//! the cost of [`super::PhraseMatcher::find`] is the cost of looking at each word once.
//! Two necessary conditions are checked per word, on hashes of its first bytes:
//!
//! - *single*: the word starts with the key of a one-word phrase (or of any first word,
//!   when the continuation cannot be summarised, see below);
//! - *pair*: the word starts with the key of a phrase's first word AND the next word
//!   starts with the key of a word that can follow it in a phrase.
//!
//! Only words passing one of them reach the automaton. Hash collisions only let extra
//! words through; no word that can start a match is ever rejected.
//!
//! Signatures are taken on bytes ORed with `0x20`, which lowercases ASCII letters; both
//! keys and text go through the same transformation, so non-letters (and non-ASCII bytes)
//! merely collide among themselves.

/// High bit of every byte of a `u64`.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bits per signature table: 8 KiB each, at most a few percent full for 10,000 phrases.
const TABLE_BITS: u32 = 16;

/// The start of every word of a folded text (see [`super::normalize::is_word_byte`]),
/// left to right, classifying eight bytes per step.
#[derive(Debug)]
pub(crate) struct WordStarts<'a> {
    bytes: &'a [u8],
    /// Offset of the next chunk to classify.
    next: usize,
    /// Offset of the chunk `starts` describes.
    base: usize,
    /// Bit 7 of byte `i` set when a word starts at `base + i`.
    starts: u64,
    /// Bit 7 set when the last byte of the previous chunk is a word byte.
    carry: u64,
}

impl<'a> WordStarts<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> WordStarts<'a> {
        WordStarts { bytes, next: 0, base: 0, starts: 0, carry: 0 }
    }
}

impl Iterator for WordStarts<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.starts == 0 {
            let rest = self.bytes.get(self.next..).filter(|rest| !rest.is_empty())?;
            let chunk = match rest.first_chunk::<8>() {
                Some(chunk) => *chunk,
                None => {
                    // Zero is not a word byte, so padding cannot start or extend a word.
                    let mut padded = [0u8; 8];
                    for (slot, &b) in padded.iter_mut().zip(rest) {
                        *slot = b;
                    }
                    padded
                }
            };
            let words = word_bytes(u64::from_le_bytes(chunk));
            self.starts = words & !((words << 8) | self.carry);
            self.carry = (words >> 56) & 0x80;
            self.base = self.next;
            self.next += 8;
        }
        let byte = (self.starts.trailing_zeros() / 8) as usize;
        self.starts &= self.starts - 1;
        Some(self.base + byte)
    }
}

/// Bit 7 of each byte set when that byte is a word byte: ASCII letter or digit, or any
/// byte of a non-ASCII character. Range tests per byte without carries between bytes:
/// with bit 7 cleared, `y + c` stays below 256 for every constant used.
fn word_bytes(x: u64) -> u64 {
    let ascii = x & !HIGH;
    // ORing 0x20 lowercases letters, and only letters land in `a..=z`.
    let folded = ascii | splat(0x20);
    let letter =
        folded.wrapping_add(splat(0x80 - b'a')) & !folded.wrapping_add(splat(0x7F - b'z'));
    let digit = ascii.wrapping_add(splat(0x80 - b'0')) & !ascii.wrapping_add(splat(0x7F - b'9'));
    (x | letter | digit) & HIGH
}

fn splat(b: u8) -> u64 {
    u64::from(b) * 0x0101_0101_0101_0101
}

/// The two necessary conditions, as bitsets over signature hashes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prefilter {
    /// Some word can start a match whatever its first bytes (an empty key).
    any: bool,
    /// Keys of one byte: by that byte (256 bits).
    first_byte: Vec<u64>,
    /// Hash of the first three bytes of a word starting a one-word match.
    single: Vec<u64>,
    /// Hash of the first three bytes of a word and the first two of the next one.
    pair: Vec<u64>,
}

impl Prefilter {
    pub(crate) fn new() -> Prefilter {
        Prefilter {
            any: false,
            first_byte: vec![0; 4],
            single: vec![0; 1 << (TABLE_BITS - 6)],
            pair: vec![0; 1 << (TABLE_BITS - 6)],
        }
    }

    /// A word starting with `key` may start a match, whatever follows it.
    pub(crate) fn add_single(&mut self, key: &str) {
        match *key.as_bytes() {
            [] => self.any = true,
            [b0] => set_bit(&mut self.first_byte, usize::from(b0 | 0x20)),
            [b0, b1] => {
                for b2 in 0..=u8::MAX {
                    set_bit(&mut self.single, hash3(b0, b1, b2));
                }
            }
            [b0, b1, b2, ..] => set_bit(&mut self.single, hash3(b0, b1, b2)),
        }
    }

    /// A word starting with `key` followed by a word starting with `next_key` may start
    /// a match.
    pub(crate) fn add_pair(&mut self, key: &str, next_key: &str) {
        let (&[k0, k1, ref key_rest @ ..], &[n0, ref next_rest @ ..]) =
            (key.as_bytes(), next_key.as_bytes())
        else {
            // Too short to sign: fall back to the weaker, single-word condition.
            self.add_single(key);
            return;
        };
        // A short key matches whatever byte comes next: sign every possibility.
        let any_byte = || (0..=u8::MAX).collect::<Vec<u8>>();
        let thirds = key_rest.first().map_or_else(any_byte, |&b| vec![b]);
        let seconds = next_rest.first().map_or_else(any_byte, |&b| vec![b]);
        for &k2 in &thirds {
            for &n1 in &seconds {
                set_bit(&mut self.pair, hash5(hash3_input(k0, k1, k2), n0, n1));
            }
        }
    }

    /// Whether a match may start at the word starting at `start`; `next` is the start of
    /// the following word, if any.
    pub(crate) fn may_start(&self, text: &[u8], start: usize, next: Option<usize>) -> bool {
        let at = |i: usize| text.get(i).copied().unwrap_or(0);
        let (b0, b1, b2) = (at(start), at(start + 1), at(start + 2));
        if self.any || has_bit(&self.first_byte, usize::from(b0 | 0x20)) {
            return true;
        }
        if has_bit(&self.single, hash3(b0, b1, b2)) {
            return true;
        }
        next.is_some_and(|n| {
            has_bit(&self.pair, hash5(hash3_input(b0, b1, b2), at(n), at(n + 1)))
        })
    }
}

fn hash3_input(b0: u8, b1: u8, b2: u8) -> u64 {
    u64::from(b0 | 0x20) << 16 | u64::from(b1 | 0x20) << 8 | u64::from(b2 | 0x20)
}

/// Multiplicative (Fibonacci) hashing: multiply by 2^64/φ, keep the top bits.
fn hash_top(x: u64) -> usize {
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TABLE_BITS)) as usize
}

fn hash3(b0: u8, b1: u8, b2: u8) -> usize {
    hash_top(hash3_input(b0, b1, b2))
}

fn hash5(first: u64, n0: u8, n1: u8) -> usize {
    hash_top(first << 16 | u64::from(n0 | 0x20) << 8 | u64::from(n1 | 0x20))
}

fn set_bit(bits: &mut [u64], i: usize) {
    if let Some(word) = bits.get_mut(i / 64) {
        *word |= 1 << (i % 64);
    }
}

fn has_bit(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|word| word & (1 << (i % 64)) != 0)
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
        assert_eq!(WordStarts::new(bytes).collect::<Vec<_>>(), expected, "{text:?}");
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
        let text = b"REFUNDS myself changed MY late dog lab xx";
        let check = |word: &str, next: Option<&str>, expected: bool| {
            let find = |w: &str| text.windows(w.len()).position(|x| x == w.as_bytes());
            let start = find(word).unwrap_or(usize::MAX);
            assert_eq!(filter.may_start(text, start, next.and_then(find)), expected, "{word}");
        };
        check("REFUNDS", None, true);
        check("myself", None, true);
        check("changed", Some("MY"), true);
        check("changed", Some("late"), false);
        check("late", Some("dog"), true);
        check("lab", Some("xx"), false);
        check("xx", None, false);
    }
}
