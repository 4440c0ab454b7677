//! Text analysis: which language a text is in, and its content words.
//!
//! Tokenising, stop-word removal and stemming come from the `bm25` crate's
//! `DefaultTokenizer` (Snowball stemmers, NLTK stop-word lists). On top of it we remove
//! the words people put around a question ("please", "could you tell me") — they are not
//! stop words in the NLTK lists but carry no topic, and counting them would make every
//! polite question look half-unanswered — and split elisions (`what's`, `l'ordine`),
//! which the Unicode word splitter keeps in one piece.
//!
//! The language of a text is the supported language whose stop words it uses most. That
//! is crude but needs no model, and is reliable on the two things it is used for: whole
//! articles, and questions, which are full of function words.

use std::collections::HashSet;
use std::fmt;

use bm25::{DefaultTokenizer, Language, Tokenizer};

/// Languages an article or a question may be in. Each has a Snowball stemmer and an NLTK
/// stop-word list in `bm25`; adding one here is enough to support it (its filler words
/// in [`filler_words`] are optional).
pub(crate) const SUPPORTED: [Language; 5] = [
    Language::English,
    Language::Italian,
    Language::French,
    Language::German,
    Language::Spanish,
];

/// Words that are not in the stop-word lists but say nothing about the topic of a
/// customer question, separated by spaces.
fn filler_words(language: &Language) -> &'static str {
    match language {
        // "long": "How long …?" asks for a duration; the articles say "takes 3 days".
        Language::English => {
            "hi hello hey please thanks thank ok okay yes tell know want wonder would could \
             might may must shall need like get got also us let anyone someone something \
             anything thing much many another long"
        }
        Language::Italian => {
            "ciao salve buongiorno buonasera grazie favore prego ok okay si sapere dire \
             dirmi vorrei voglio vuole volete posso puoi può potete possiamo devo dovrei \
             bisogno serve qualcuno qualcosa cosa"
        }
        Language::Spanish => {
            "hola buenas gracias favor vale ok okay sí saber decir decirme quiero quisiera \
             querría puedo puede pueden podría necesito alguien algo"
        }
        Language::French => {
            "bonjour salut merci plaît svp ok okay oui savoir dire voudrais veux voulez \
             peux pouvez puis besoin quelqu quelque chose"
        }
        Language::German => {
            "hallo danke bitte ok okay ja wissen sagen möchte möchten will kann können \
             könnten brauche jemand etwas"
        }
        _ => "",
    }
}

/// Splits the text into stemmed content words for one language. It is the tokenizer of
/// the BM25 index, so the index and the answer rules see exactly the same words.
pub(crate) struct Analyzer {
    language: Language,
    inner: DefaultTokenizer,
    /// Stems of [`filler_words`].
    filler: HashSet<String>,
}

impl Analyzer {
    pub(crate) fn new(language: Language) -> Analyzer {
        let inner = DefaultTokenizer::new(language.clone());
        let filler = filler_words(&language)
            .split_whitespace()
            .flat_map(|word| inner.tokenize(word))
            .collect();
        Analyzer {
            language,
            inner,
            filler,
        }
    }

    pub(crate) fn language(&self) -> &Language {
        &self.language
    }

    /// The distinct content words of `text`, in order of first appearance.
    pub(crate) fn distinct_terms(&self, text: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        self.tokenize(text)
            .into_iter()
            .filter(|term| seen.insert(term.clone()))
            .collect()
    }
}

impl Tokenizer for Analyzer {
    fn tokenize(&self, text: &str) -> Vec<String> {
        self.inner
            .tokenize(&split_elisions(text))
            .into_iter()
            .filter(|term| !self.filler.contains(term))
            .collect()
    }
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analyzer")
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

/// `what's` → `what s`, `l'ordine` → `l ordine`: the parts are stop words or content
/// words on their own.
fn split_elisions(text: &str) -> String {
    text.replace(['\'', '’', '‘', '`'], " ")
}

/// Guesses the language of a text from its stop words.
pub(crate) struct Detector {
    /// Words without any filtering, to count how many each stop-word list removes.
    words: DefaultTokenizer,
    /// Per language: words without that language's stop words.
    without_stop_words: Vec<(Language, DefaultTokenizer)>,
}

impl Detector {
    pub(crate) fn new() -> Detector {
        let plain = || DefaultTokenizer::builder().stemming(false).stopwords(false);
        Detector {
            words: plain().build(),
            without_stop_words: SUPPORTED
                .iter()
                .map(|language| {
                    let tokenizer = DefaultTokenizer::builder()
                        .language_mode(language.clone())
                        .stemming(false)
                        .stopwords(true)
                        .build();
                    (language.clone(), tokenizer)
                })
                .collect(),
        }
    }

    /// The language among `candidates` with strictly the most stop words in `text`;
    /// `None` when no candidate has any, or when two are tied.
    pub(crate) fn detect(&self, text: &str, candidates: &[Language]) -> Option<Language> {
        let text = split_elisions(text);
        let total = self.words.tokenize(&text).len();
        let mut best: Option<(Language, usize)> = None;
        let mut tied = false;
        for (language, tokenizer) in &self.without_stop_words {
            if !candidates.contains(language) {
                continue;
            }
            let stop_words = total.saturating_sub(tokenizer.tokenize(&text).len());
            match &best {
                Some((_, count)) if stop_words == *count => tied = true,
                Some((_, count)) if stop_words < *count => {}
                _ => {
                    best = Some((language.clone(), stop_words));
                    tied = false;
                }
            }
        }
        match best {
            Some((language, count)) if count > 0 && !tied => Some(language),
            _ => None,
        }
    }
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let languages: Vec<&Language> = self.without_stop_words.iter().map(|(l, _)| l).collect();
        f.debug_struct("Detector")
            .field("languages", &languages)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_detect(text: &str, expected: Option<Language>) {
        let detector = Detector::new();
        assert_eq!(
            detector.detect(text, &SUPPORTED),
            expected,
            "text: {text:?}"
        );
    }

    #[test]
    fn languages_are_told_apart_by_stop_words() {
        check_detect("How long does the shipping take?", Some(Language::English));
        check_detect("Can I return a product?", Some(Language::English));
        check_detect(
            "Quanto costa la spedizione in Italia?",
            Some(Language::Italian),
        );
        check_detect("Come posso restituire l'ordine?", Some(Language::Italian));
        check_detect("shipping", None);
        check_detect("", None);
    }

    fn check_terms(language: Language, text: &str, expected: &[&str]) {
        assert_eq!(
            Analyzer::new(language).distinct_terms(text),
            expected,
            "text: {text:?}"
        );
    }

    #[test]
    fn content_words_are_stemmed_without_filler() {
        check_terms(
            Language::English,
            "Hi! Could you please tell me what's the shipping cost? Shipping!",
            &["ship", "cost"],
        );
        check_terms(Language::English, "ok?", &[]);
        check_terms(
            Language::Italian,
            "Ciao, vorrei sapere quanto costa la spedizione dell'ordine",
            &["cost", "spedizion", "ordin"],
        );
    }
}
