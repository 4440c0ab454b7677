//! The `frustrated` default trigger's detector (B17): a visitor who is plainly
//! frustrated with the conversation or repeating themselves ("you're not helping", "I
//! already asked this three times", "non mi stai aiutando", "das hilft mir nicht") is
//! handed to a person even when a passage matches, since another passage will not help.
//!
//! Rule-based like the "asks for a human" detector and just as careful with what merely
//! looks close: each pattern is a short run of folded words (see
//! [`super::normalize`]) about the conversation itself, not a word alone. "this helped,
//! thanks", "is this useful for kids?", "I already asked for a refund, when does it
//! arrive?" and "how many times can I return an item?" match nothing.
//!
//! In a pattern, `~` skips up to three words of the same clause ("asked ~ times" matches
//! "asked this three times") and `$` requires the clause to end there ("is useless $"
//! matches "the bot is useless!" but not "is useless without the charger").

mod words;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use super::human::Language;
use super::normalize::Tokens;

/// Frustration found in a visitor's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frustration {
    /// Byte range in the original text of the words that show it.
    pub span: Range<usize>,
    pub language: Language,
}

/// The leftmost frustration pattern in `text`.
pub fn detect_frustration(text: &str) -> Option<Frustration> {
    let tokens = Tokens::new(text);
    let index = by_first_word();
    for start in 0..tokens.len() {
        let Some(patterns) = index.get(tokens.word(start)) else {
            continue;
        };
        for (language, pattern) in patterns {
            if let Some(end) = matches_at(&tokens, start, pattern) {
                let from = tokens.words.get(start)?.orig.start;
                let to = tokens.words.get(end.checked_sub(1)?)?.orig.end;
                return Some(Frustration {
                    span: from..to,
                    language: *language,
                });
            }
        }
    }
    None
}

/// The patterns by their first word (never `~` or `$`), in list order: most words of a
/// message start none, and one lookup tells.
fn by_first_word() -> &'static HashMap<&'static str, Vec<(Language, &'static str)>> {
    static INDEX: OnceLock<HashMap<&'static str, Vec<(Language, &'static str)>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: HashMap<&str, Vec<(Language, &str)>> = HashMap::new();
        for (language, patterns) in words::PATTERNS {
            for pattern in *patterns {
                let first = pattern.split(' ').next().unwrap_or_default();
                index.entry(first).or_default().push((*language, pattern));
            }
        }
        index
    })
}

/// The end (one past the last word) of `pattern` matched from word `at`.
fn matches_at(tokens: &Tokens, at: usize, pattern: &str) -> Option<usize> {
    let parts: Vec<&str> = pattern.split(' ').collect();
    step(tokens, at, &parts, true)
}

fn step(tokens: &Tokens, at: usize, parts: &[&str], first: bool) -> Option<usize> {
    let Some((part, rest)) = parts.split_first() else {
        return Some(at);
    };
    let word = tokens.words.get(at);
    let starts_clause = word.is_some_and(|w| w.clause_start);
    match *part {
        "$" => (word.is_none() || starts_clause).then(|| step(tokens, at, rest, false))?,
        "~" => (0..=3).find_map(|skip| {
            // Skipped words stay in the clause.
            let inside =
                (at..at + skip).all(|i| tokens.words.get(i).is_some_and(|w| !w.clause_start));
            if !inside {
                return None;
            }
            step(tokens, at + skip, rest, false)
        }),
        expected => {
            if word.is_none() || (starts_clause && !first) || tokens.word(at) != expected {
                return None;
            }
            step(tokens, at + 1, rest, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<(&str, Language)>) {
        let got = detect_frustration(text).map(|f| (&text[f.span.clone()], f.language));
        assert_eq!(got, expected, "{text:?}");
    }

    #[test]
    fn frustration() {
        use Language::*;
        check("You're not helping!", Some(("not helping", English)));
        check(
            "I already asked this three times",
            Some(("already asked this", English)),
        );
        check("this is useless", Some(("this is useless", English)));
        check("I asked 3 times!", Some(("asked 3 times", English)));
        check(
            "non mi stai aiutando",
            Some(("non mi stai aiutando", Italian)),
        );
        check(
            "no me estás ayudando",
            Some(("no me estás ayudando", Spanish)),
        );
        check("vous ne m'aidez pas", Some(("vous ne m'aidez pas", French)));
        check("Das hilft mir nicht", Some(("Das hilft mir nicht", German)));
    }

    #[test]
    fn look_alikes() {
        check("this helped, thanks", None);
        check("is this useful for kids?", None);
        check("you helped me a lot", None);
        check("I already asked for a refund, when does it arrive?", None);
        check("how many times can I return an item?", None);
        check("my old charger is useless now, do you sell new ones?", None);
    }
}
