//! Snowball stemming for the languages trigger phrases are compiled under, and the
//! *prefix key* of a stem that lets the matcher avoid stemming most of a text.
//!
//! Stemming costs roughly 300 ns per word and language, far more than scanning the word,
//! so [`super::PhraseMatcher`] stems only words that start with the key of a phrase word.
//! That is sound only if every word `w` with `stem(w) == s` starts with `prefix_key(s)`.
//! Snowball stems are prefixes of their word except where a rule rewrites the tail
//! (English `y`→`i`, an added `e`, `-bility`→`-ble`; Italian `-enza`→`-ente`) and a handful
//! of English exceptional forms (`dying`→`die`). The key cuts those rewritten tails and
//! lists the exceptional forms as extra keys. This was checked over the complete
//! `wamerican` and `witalian` word lists (about 220,000 words, both stemmers on each); the
//! unit tests below pin the cases.

use rust_stemmers::{Algorithm, Stemmer};

/// A language a phrase is compiled under. Settings carry no language, so every phrase is
/// compiled under all of them and a text matches if it matches under any one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum StemLang {
    English,
    Italian,
}

impl StemLang {
    pub(crate) const ALL: [StemLang; 2] = [StemLang::English, StemLang::Italian];

    pub(crate) fn index(self) -> usize {
        match self {
            StemLang::English => 0,
            StemLang::Italian => 1,
        }
    }

    /// The stem of an already folded word.
    pub(crate) fn stem(self, folded: &str) -> String {
        // `Stemmer` is a function pointer: creating one per call costs nothing.
        let algorithm = match self {
            StemLang::English => Algorithm::English,
            StemLang::Italian => Algorithm::Italian,
        };
        Stemmer::create(algorithm).stem(folded).into_owned()
    }

    /// Prefixes that every word stemming to `stem` starts with (usually exactly one).
    /// `surface` is a folded word known to have this stem; the key never exceeds it.
    pub(crate) fn prefix_keys(self, stem: &str, surface: &str) -> Vec<String> {
        let cut = match self {
            StemLang::English => {
                if stem.ends_with("ble") {
                    2
                } else if stem.ends_with("bl") || stem.ends_with('e') || stem.ends_with('i') {
                    1
                } else {
                    0
                }
            }
            StemLang::Italian => {
                if stem.ends_with("ente") {
                    2
                } else if stem.ends_with("ent") {
                    1
                } else {
                    0
                }
            }
        };
        // The cut characters are ASCII, so this is a char boundary.
        let key = stem.get(..stem.len() - cut).unwrap_or("");
        let mut keys = vec![common_prefix(key, surface).to_owned()];
        if self == StemLang::English {
            for (form, form_stem) in ENGLISH_EXCEPTIONAL_FORMS {
                if stem == form_stem {
                    keys.push(form.to_owned());
                }
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }
}

/// English Snowball exceptional forms whose stem is not a prefix of the word.
const ENGLISH_EXCEPTIONAL_FORMS: [(&str, &str); 4] = [
    ("skies", "sky"),
    ("dying", "die"),
    ("lying", "lie"),
    ("tying", "tie"),
];

fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let len = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, ca), cb)| ca != cb)
        .map_or_else(|| a.len().min(b.len()), |((i, _), _)| i);
    a.get(..len).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `word` stems to `stem` under `lang`, and `word` starts with the stem's key.
    fn check(lang: StemLang, word: &str, stem: &str) {
        let got = lang.stem(word);
        assert_eq!(got, stem, "{lang:?} stem of {word:?}");
        let keys = lang.prefix_keys(&got, &got);
        assert!(
            keys.iter().any(|k| word.starts_with(k.as_str())),
            "{lang:?} {word:?} keys {keys:?}"
        );
    }

    #[test]
    fn stems_and_keys() {
        use StemLang::{English as En, Italian as It};
        check(En, "refunds", "refund");
        check(En, "happy", "happi");
        check(En, "hoping", "hope");
        check(En, "capability", "capabl");
        check(En, "possible", "possibl");
        check(En, "dying", "die");
        check(En, "skies", "sky");
        check(It, "rimborsi", "rimbors");
        check(It, "assistenza", "assistent");
        check(It, "cancellazioni", "cancell");
    }

    #[test]
    fn keys_never_exceed_the_surface() {
        assert_eq!(StemLang::English.prefix_keys("happi", "happy"), ["happ"]);
        assert_eq!(StemLang::English.prefix_keys("die", "die"), ["di", "dying"]);
        assert_eq!(common_prefix("perché", "perche"), "perch");
    }
}
