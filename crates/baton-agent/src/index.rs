//! The BM25 index over the passages.
//!
//! Stemming and stop words are per language: an Italian article stemmed with the English
//! stemmer would match nothing. So each language present has its own analyzer and
//! embedder (a "shelf"), and a question is analysed in its own language; when that
//! cannot be told (a bare "shipping?"), in every language present. All languages share
//! one `Scorer`, with terms tagged by language (`Italian:spedizion`), so that the inverse
//! document frequencies, and hence the scores, are computed over the whole knowledge
//! base and are comparable between languages.
//!
//! A passage's score is its BM25 score in units of "one distinctive word" plus a
//! heading bonus:
//!
//! - Raw BM25 scores grow with the number of passages (the IDF of a rare word is about
//!   ln(1 + N/1.5)). Divided by the IDF of a word found in a single passage, a question
//!   whose one content word appears once in one passage scores about 1 in a knowledge
//!   base of 5 passages or of 500, so the answer threshold means the same in both.
//! - Help articles often use customer questions as headings, and the stop words BM25
//!   ignores ("*where* is *my* order?") are then what tells the right section from one
//!   that also mentions orders. So the share of the question's words, stop words
//!   included, that are its heading's words (Jaccard index, 0 to 1) times
//!   [`HEADING_BONUS`] is added.
//!
//! We use the `bm25` crate's `Embedder` (term weights with length normalisation) and
//! `Scorer` (inverted index, IDF) rather than its `SearchEngine` because we need the
//! question's terms deduplicated and every passage's terms, for the coverage rule in
//! `answerer.rs`.

use std::collections::HashSet;
use std::fmt;

use bm25::{Embedder, EmbedderBuilder, Embedding, Language, Scorer, TokenEmbedding, Tokenizer};
use tracing::debug;

use crate::article::{self, Article, Passage};
use crate::language::{Analyzer, Detector, SUPPORTED};

/// All passages of the knowledge base, searchable.
pub(crate) struct Index {
    shelves: Vec<Shelf>,
    scorer: Scorer<usize>,
    passages: Vec<IndexedPassage>,
    /// The IDF of a word found in one passage: the unit of the reported scores.
    unit: f32,
    detector: Detector,
}

/// One language's analysis.
struct Shelf {
    /// Gives the question's terms for the coverage rule.
    analyzer: Analyzer,
    /// Weighs the terms for BM25; fitted to this language's passages only, since the
    /// average passage length is counted in this language's terms.
    embedder: Embedder<u32, Tagged>,
    /// Number of passages in this language.
    passage_count: usize,
}

struct IndexedPassage {
    passage: Passage,
    /// The passage's content words, to tell which of the question's words it contains.
    terms: HashSet<String>,
    /// All words of the heading, stop words included.
    heading_words: HashSet<String>,
}

/// What one language's analysis makes of a question.
#[derive(Debug)]
pub(crate) struct ShelfResult<'a> {
    /// The question's distinct content words in this language.
    pub(crate) terms: Vec<String>,
    /// How many of `terms` occur somewhere in the knowledge base.
    pub(crate) known: usize,
    /// Passages containing at least one of `terms`, best score first.
    pub(crate) hits: Vec<Hit<'a>>,
}

/// One passage that shares words with the question.
#[derive(Debug)]
pub(crate) struct Hit<'a> {
    /// Position of the passage in the knowledge base (articles in path order).
    id: usize,
    pub(crate) passage: &'a Passage,
    /// Relevance: BM25 in units of one distinctive word, plus the heading bonus (see
    /// the module docs).
    pub(crate) score: f32,
    /// Which of the question's terms the passage contains.
    pub(crate) matched: Vec<&'a str>,
}

/// What a question identical to a section heading adds to the section's score: as much
/// as one distinctive word. "Where is my order?" then gets 1 for the section headed
/// "Where is my order?" and 0.14 for the one headed "Changing or cancelling an order".
pub(crate) const HEADING_BONUS: f32 = 1.0;

impl Index {
    /// Splits `articles` into passages and indexes them, each article in its language
    /// (English when it cannot be told).
    pub(crate) fn build(articles: &[Article]) -> Index {
        let detector = Detector::new();
        let mut by_language: Vec<(Language, Vec<Passage>)> = Vec::new();
        for article in articles {
            let language = detector
                .detect(&article.markdown, &SUPPORTED)
                .unwrap_or(Language::English);
            debug!(article = %article.source, ?language, "indexing article");
            let passages = article::passages(article);
            match by_language.iter_mut().find(|(l, _)| *l == language) {
                Some((_, mine)) => mine.extend(passages),
                None => by_language.push((language, passages)),
            }
        }

        let mut shelves = Vec::new();
        let mut scorer = Scorer::<usize>::new();
        let mut indexed = Vec::new();
        for (language, passages) in by_language {
            let texts: Vec<String> = passages.iter().map(Passage::indexed_text).collect();
            let corpus: Vec<&str> = texts.iter().map(String::as_str).collect();
            let embedder = EmbedderBuilder::<u32, Tagged>::with_tokenizer_and_fit_to_corpus(
                Tagged(Analyzer::new(language.clone())),
                &corpus,
            )
            .build();
            let analyzer = Analyzer::new(language);
            for (passage, text) in passages.into_iter().zip(&texts) {
                scorer.upsert(&indexed.len(), embedder.embed(text));
                indexed.push(IndexedPassage {
                    terms: analyzer.tokenize(text).into_iter().collect(),
                    heading_words: plain_words(passage.heading.as_deref().unwrap_or("")),
                    passage,
                });
            }
            shelves.push(Shelf {
                analyzer,
                embedder,
                passage_count: texts.len(),
            });
        }
        // A stable sort: equally large languages stay in the order of their first
        // article.
        shelves.sort_by_key(|s| std::cmp::Reverse(s.passage_count));
        // Scorer's IDF formula for a word found in 1 of N passages.
        let n = indexed.len() as f32;
        // (Clamped for the empty index, which is never searched.)
        let unit = (1.0 + (n - 0.5) / 1.5).ln().max(0.1);
        Index {
            shelves,
            scorer,
            passages: indexed,
            unit,
            detector,
        }
    }

    /// Number of indexed passages.
    pub(crate) fn len(&self) -> usize {
        self.passages.len()
    }

    /// Analyses the question in its language, or, when its language cannot be told,
    /// in every language present, the language with most passages first (the likeliest
    /// language of a question like "Acme?"), and finds the passages that share words
    /// with it.
    pub(crate) fn search(&self, question: &str) -> Vec<ShelfResult<'_>> {
        let languages: Vec<Language> = self
            .shelves
            .iter()
            .map(|s| s.analyzer.language().clone())
            .collect();
        let language = self.detector.detect(question, &languages);
        self.shelves
            .iter()
            .filter(|shelf| {
                language
                    .as_ref()
                    .is_none_or(|l| shelf.analyzer.language() == l)
            })
            .map(|shelf| self.search_shelf(shelf, question))
            .collect()
    }

    /// The `k` best passages sharing words with `question`, best first, over every
    /// language searched (a passage appears once). No coverage rule or threshold: a
    /// model reading them decides whether they answer.
    pub(crate) fn top(&self, question: &str, k: usize) -> Vec<(&Passage, f32)> {
        let mut hits: Vec<Hit<'_>> = self
            .search(question)
            .into_iter()
            .flat_map(|result| result.hits)
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        let mut seen = HashSet::new();
        hits.into_iter()
            .filter(|hit| seen.insert(hit.id))
            .take(k)
            .map(|hit| (hit.passage, hit.score))
            .collect()
    }

    fn search_shelf(&self, shelf: &Shelf, question: &str) -> ShelfResult<'_> {
        let terms = shelf.analyzer.distinct_terms(question);
        let words = plain_words(question);
        // A word repeated in the question would count twice in the score; the question
        // "shipping shipping" is not more about shipping than "shipping".
        let query = dedup(shelf.embedder.embed(question));
        let mut hits = self
            .scorer
            .matches(&query)
            .into_iter()
            .filter_map(|scored| {
                let indexed = self.passages.get(scored.id)?;
                let matched = terms
                    .iter()
                    // Borrow from the passage, so that the hit outlives `terms`.
                    .filter_map(|t| indexed.terms.get(t.as_str()).map(String::as_str))
                    .collect();
                let bonus = HEADING_BONUS * jaccard(&words, &indexed.heading_words);
                Some(Hit {
                    id: scored.id,
                    passage: &indexed.passage,
                    score: scored.score / self.unit + bonus,
                    matched,
                })
            })
            .collect::<Vec<_>>();
        // The bonus may reorder BM25's ranking. Ties are broken by passage order, so that
        // the answer never depends on the scorer's hash-map iteration order.
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        let known = terms
            .iter()
            .filter(|t| self.passages.iter().any(|p| p.terms.contains(t.as_str())))
            .count();
        ShelfResult { terms, known, hits }
    }
}

/// The analyzer's terms tagged with the language (`English:ship`), so that languages share a
/// scorer without sharing terms: `cost` is a word in English and Italian alike.
struct Tagged(Analyzer);

impl Tokenizer for Tagged {
    fn tokenize(&self, text: &str) -> Vec<String> {
        let tag = format!("{:?}:", self.0.language());
        self.0
            .tokenize(text)
            .into_iter()
            .map(|term| format!("{tag}{term}"))
            .collect()
    }
}

/// Lower-case words, split at anything that is not a letter or digit.
fn plain_words(text: &str) -> HashSet<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f32 / union as f32
}

fn dedup(embedding: Embedding<u32>) -> Embedding<u32> {
    let mut seen = HashSet::new();
    Embedding(
        embedding
            .0
            .into_iter()
            .filter(|TokenEmbedding { index, .. }| seen.insert(*index))
            .collect(),
    )
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let languages: Vec<&Language> =
            self.shelves.iter().map(|s| s.analyzer.language()).collect();
        f.debug_struct("Index")
            .field("languages", &languages)
            .field("passages", &self.passages.len())
            .finish_non_exhaustive()
    }
}
