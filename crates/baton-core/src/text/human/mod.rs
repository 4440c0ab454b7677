//! The built-in "asks for a human" detector (F2b), in English, Italian, Spanish, French
//! and German (B3).
//!
//! Rule-based and deliberately conservative: a message counts only when it *asks* for a
//! person, not when it mentions one. Each language supplies a [`Lexicon`]: who counts as a
//! human (with how much certainty), and *frames*, short word patterns that turn a mention
//! into a request ("talk to …", "transfer me to …", "is there …", "voglio …",
//! "mi passi …"). On top of the frames:
//!
//! - a whole clause made of a human noun and politeness only ("Human please!",
//!   "Operatore per favore") is a request;
//! - a frame preceded, in its clause, by a negation reaching it only through
//!   "want/need/to"-like words ("I don't need a human", "non voglio parlare con un
//!   operatore") is not; "why can't I talk to a human" still is;
//! - who the noun refers to is checked: "a real estate agent", "human resources",
//!   "l'agente immobiliare" are not people to talk to, and a weak noun ("a person",
//!   "un agente") after "I need"/"is there" must end the clause or be followed by words
//!   like "please" or "to talk" ("is there a person limit" is a question about limits).
//!
//! Questions about the assistant's nature ("are you a bot or a real person?", "is your
//! agent an AI?") are not requests: the agent can answer them, and precision matters
//! more than recall here since a false handoff pulls a human in for nothing.
//!
//! Words are matched after folding (see [`super::normalize`]), so case, accents and
//! apostrophes do not matter ("C’è", "c'e" and "C'È" are the same two words `c e`).

mod engine;
mod english;
mod french;
mod german;
mod italian;
mod spanish;

use std::ops::Range;

use super::normalize::Tokens;

/// The built-in "asks for a human" detector.
pub fn detect_human_request(text: &str) -> Option<HumanRequest> {
    let tokens = Tokens::new(text);
    // English and Italian first: a word both a Spanish and an Italian visitor would type
    // ("Agente!") keeps the language it had before the others were added.
    let lexicons = [
        &english::LEXICON,
        &italian::LEXICON,
        &spanish::LEXICON,
        &french::LEXICON,
        &german::LEXICON,
    ];
    let (words, lexicon) = engine::find(&tokens, &lexicons)?;
    let start = tokens.words.get(words.start)?.orig.start;
    let end = tokens.words.get(words.end.checked_sub(1)?)?.orig.end;
    Some(HumanRequest {
        span: start..end,
        language: lexicon.language,
    })
}

/// A request to talk to a human, found in a visitor's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanRequest {
    /// Byte range in the original text of the words that make it a request (e.g. "talk
    /// to a human").
    pub span: Range<usize>,
    pub language: Language,
}

/// A language the detector understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Italian,
    Spanish,
    French,
    German,
}

impl Language {
    /// The ISO 639-1 code, as the labelled sets write it.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Italian => "it",
            Language::Spanish => "es",
            Language::French => "fr",
            Language::German => "de",
        }
    }
}
