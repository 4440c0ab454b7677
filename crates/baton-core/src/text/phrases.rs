//! Custom trigger phrases (F3): case-, accent- and inflection-tolerant, on word boundaries.
//!
//! # Semantics
//! A phrase of words `p1 … pn` occurs in a text where `n` consecutive words `t1 … tn` of
//! the text have, under one language `L` (English or Italian), `stem_L(ti) == stem_L(pi)`
//! for every `i`. Words are folded first (see [`super::normalize`]); any whitespace or
//! punctuation may separate them. The stemmer decides what counts as the same word, so
//! "refund" matches "refunds", "refunded" and "refundable", "cancel" matches
//! "cancellation" (English Snowball removes `-ation`, `-able`), but "art" never matches
//! "start" (word boundaries) nor "article" (different stem).
//!
//! # How
//! Stemming costs about 300 ns per word and language, so stemming every word of a message
//! would cost far more than reading it. [`PhraseMatcher::new`] builds, once:
//!
//! - a trie per language whose edges are phrase-word stems, each node knowing the
//!   *prefix keys* every word with its stem starts with (see [`super::stem`]) and the
//!   folded forms the phrases themselves used;
//! - ONE Aho-Corasick automaton (DFA, ASCII case-insensitive, anchored searches) over the
//!   keys of all first words;
//! - a [`Prefilter`] over the first bytes of those keys and of the keys that can follow.
//!
//! [`PhraseMatcher::find`] folds the text only if it is not ASCII (see [`Folded`]), then
//! walks its words left to right. Words the prefilter rejects (nearly all) cost a couple of
//! bit tests; for the others, the automaton, anchored at the word start, names the
//! first-word nodes whose key the word starts with, and the trie is walked over the
//! following words with cheap tests first (key prefix, exact folded form). A word is
//! stemmed only when the rest of a phrase already fits, and at most once per language.
//! Patterns only ever start at word starts, so nothing matches inside a word.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};

use super::normalize::{Folded, folded_words};
use super::prefilter::Prefilter;
use super::stem::StemLang;

/// Custom trigger phrases compiled once per settings version.
///
/// Cloning is cheap (the compiled form is shared).
#[derive(Debug, Clone, Default)]
pub struct PhraseMatcher {
    inner: Arc<Compiled>,
}

/// An occurrence of a configured phrase in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseMatch {
    /// The configured phrase as the admin wrote it (trimmed), e.g. "refund".
    pub phrase: String,
    /// Byte range of the matched words in the ORIGINAL `text` (so `text[span]` is what the
    /// visitor wrote, e.g. "Refunded").
    pub span: Range<usize>,
}

#[derive(Debug, Default)]
struct Compiled {
    /// Distinct phrases as written (trimmed); a phrase's id is its index here, which is
    /// also its priority when two phrases match the same words.
    phrases: Vec<String>,
    /// Trie nodes of all languages. A node stands for one phrase word (its stem) under
    /// the node's language; the roots are implicit.
    nodes: Vec<Node>,
    /// Over the keys of every first-word node, ASCII case-insensitive; `None` when there
    /// are no phrases.
    automaton: Option<AhoCorasick>,
    /// For each automaton pattern, the first-word nodes whose key is a prefix of it:
    /// the automaton reports the longest key a word starts with, and every shorter key
    /// it starts with applies too.
    pattern_nodes: Vec<Vec<usize>>,
    /// Rejects most words without entering the automaton.
    prefilter: Prefilter,
}

#[derive(Debug)]
struct Node {
    lang: StemLang,
    stem: Box<str>,
    /// Prefixes every word with this stem starts with: a cheap test before stemming.
    keys: Vec<Box<str>>,
    /// Folded forms used by the phrases themselves: they match without stemming.
    surfaces: Vec<Box<str>>,
    children: Vec<usize>,
    /// `children` by key, sorted, so the children a word may match are found without
    /// testing them all (a node can have hundreds).
    child_keys: Vec<(Box<str>, usize)>,
    /// [`first_byte_bit`] of every child key: rejects most next words at once.
    child_first_bytes: u64,
    /// The phrase ending at this word, if any (the first configured among equals).
    phrase: Option<usize>,
}

impl PhraseMatcher {
    /// Compile phrases (any order, may contain duplicates/blank entries which are ignored).
    ///
    /// Phrases that differ only in case, accents, spacing or punctuation ("Refund",
    /// " refund!") are duplicates: the first one listed is kept. Inflections of one
    /// another ("refund", "refunds") stay distinct entries; where both match, the first
    /// one listed is reported.
    pub fn new<S: AsRef<str>>(phrases: &[S]) -> PhraseMatcher {
        let mut builder = Builder::default();
        for phrase in phrases {
            builder.add(phrase.as_ref().trim());
        }
        PhraseMatcher {
            inner: Arc::new(builder.finish()),
        }
    }

    /// Number of distinct usable phrases compiled.
    pub fn len(&self) -> usize {
        self.inner.phrases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.phrases.is_empty()
    }

    /// The first (leftmost) phrase occurring in `text`, or None.
    ///
    /// Among phrases starting at the same word, the one covering more words wins, then
    /// the one configured first.
    pub fn find(&self, text: &str) -> Option<PhraseMatch> {
        let compiled = &*self.inner;
        let automaton = compiled.automaton.as_ref()?;
        let folded = Folded::new(text);
        let haystack = folded.as_str();
        let mut words = Words {
            folded: &folded,
            stems: Vec::new(),
        };
        // (first word start, last word end, phrase id) of the best match so far.
        let mut best: Option<(usize, usize, usize)> = None;
        compiled
            .prefilter
            .for_each_candidate(haystack.as_bytes(), |start| {
                // Keys only hold word bytes, so a hit anchored here lies within this word.
                let input = Input::new(haystack).range(start..).anchored(Anchored::Yes);
                let Ok(Some(hit)) = automaton.try_find(input) else {
                    return false;
                };
                let Some(nodes) = compiled.pattern_nodes.get(hit.pattern().as_usize()) else {
                    return false;
                };
                let word = start..folded.word_end(start);
                for &node in nodes {
                    let Some((end, phrase)) = compiled.longest_from(node, word.clone(), &mut words)
                    else {
                        continue;
                    };
                    let better = match best {
                        None => true,
                        Some((_, best_end, best_phrase)) => {
                            end > best_end || (end == best_end && phrase < best_phrase)
                        }
                    };
                    if better {
                        best = Some((start, end, phrase));
                    }
                }
                // Candidates come left to right: the first word with a match is the leftmost.
                best.is_some()
            });
        let (start, end, phrase) = best?;
        Some(PhraseMatch {
            phrase: compiled.phrases.get(phrase)?.clone(),
            span: folded.original_offset(start)..folded.original_offset(end),
        })
    }
}

impl Compiled {
    /// The longest phrase whose words, from trie `node` on, match the text's words from
    /// the one starting at `start`: its end (in the folded text) and id.
    ///
    /// Stemming is the expensive part, so a word is only stemmed once the rest of a
    /// phrase is plausible: the deeper words are tried first with cheap tests (exact
    /// form, key prefix), and a word that merely starts with its key is stemmed last.
    fn longest_from(
        &self,
        node: usize,
        word: Range<usize>,
        words: &mut Words<'_>,
    ) -> Option<(usize, usize)> {
        let node = self.nodes.get(node)?;
        let mut longest = None;
        if node.child_first_bytes != 0
            && let Some(next_start) = words.folded.next_word_start(word.end)
            && let Some(&first) = words.folded.as_str().as_bytes().get(next_start)
            && node.child_first_bytes & first_byte_bit(first) != 0
        {
            let next = next_start..words.folded.word_end(next_start);
            let next_text = words.folded.slice(next.clone());
            // Siblings have distinct stems, so at most one of them really matches.
            longest = node
                .children_for(next_text)
                .find_map(|child| self.longest_from(child, next.clone(), words));
        }
        let longest = longest.or_else(|| node.phrase.map(|phrase| (word.end, phrase)))?;
        let text = words.folded.slice(word.clone());
        // Callers only pass words starting with one of the node's keys.
        let exact = node.surfaces.iter().any(|s| s.eq_ignore_ascii_case(text));
        (exact || words.stem_is(node.lang, word.start, text, &node.stem)).then_some(longest)
    }
}

impl Node {
    /// The children whose key `word` starts with: the only ones it can match.
    fn children_for<'a>(&'a self, word: &'a str) -> impl Iterator<Item = usize> + 'a {
        let first = word.as_bytes().first().map(u8::to_ascii_lowercase);
        let keys = &self.child_keys;
        // Sorted by key, an empty key comes first, then keys by first byte.
        let empty = keys.partition_point(|(k, _)| k.is_empty());
        let from = keys.partition_point(|(k, _)| k.as_bytes().first().copied() < first);
        let to = keys.partition_point(|(k, _)| k.as_bytes().first().copied() <= first);
        let candidates = keys
            .get(..empty)
            .into_iter()
            .chain(keys.get(from.max(empty)..to))
            .flatten();
        candidates
            .filter(move |(k, _)| starts_with_ignore_ascii_case(word, k))
            .map(|&(_, child)| child)
    }
}

/// A bit standing for a word's first byte, ASCII case-insensitive (collisions between
/// other bytes are harmless: this is a filter).
fn first_byte_bit(b: u8) -> u64 {
    1 << ((b | 0x20) & 63)
}

fn starts_with_ignore_ascii_case(word: &str, prefix: &str) -> bool {
    word.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// The words of one text being searched, with the stems computed so far: a word is
/// stemmed at most once per language. Few words get stemmed, so a list beats a map.
struct Words<'a> {
    folded: &'a Folded<'a>,
    stems: Vec<(StemLang, usize, String)>,
}

impl Words<'_> {
    fn stem_is(&mut self, lang: StemLang, start: usize, word: &str, stem: &str) -> bool {
        if let Some((_, _, known)) = self
            .stems
            .iter()
            .find(|(l, s, _)| *l == lang && *s == start)
        {
            return known == stem;
        }
        // The folded text may keep uppercase ASCII; the stemmers expect lowercase.
        let computed = lang.stem(&word.to_ascii_lowercase());
        let equal = computed == stem;
        self.stems.push((lang, start, computed));
        equal
    }
}

#[derive(Default)]
struct Builder {
    phrases: Vec<String>,
    nodes: Vec<Node>,
    /// (parent node or `None` for a language's root, language, stem) → node.
    edges: HashMap<(Option<usize>, StemLang, Box<str>), usize>,
    /// Folded words of the phrases kept, to drop duplicates.
    seen: HashSet<Vec<String>>,
}

impl Builder {
    fn add(&mut self, phrase: &str) {
        let words = folded_words(phrase);
        if words.is_empty() {
            return;
        }
        if self.seen.contains(&words) {
            return;
        }
        let stems =
            StemLang::ALL.map(|lang| words.iter().map(|w| lang.stem(w)).collect::<Vec<_>>());
        let id = self.phrases.len();
        self.phrases.push(phrase.to_owned());
        for lang in StemLang::ALL {
            let mut parent = None;
            for (word, stem) in words.iter().zip(&stems[lang.index()]) {
                let node = self.node(parent, lang, stem, word);
                parent = Some(node);
            }
            if let Some(last) = parent.and_then(|n| self.nodes.get_mut(n)) {
                // Ids grow, so an existing phrase here was configured earlier and wins.
                last.phrase.get_or_insert(id);
            }
        }
        self.seen.insert(words);
    }

    /// The child of `parent` for `stem`, created if needed, with `surface` recorded.
    fn node(&mut self, parent: Option<usize>, lang: StemLang, stem: &str, surface: &str) -> usize {
        let edge = (parent, lang, Box::<str>::from(stem));
        let id = match self.edges.get(&edge) {
            Some(&id) => id,
            None => {
                let id = self.nodes.len();
                self.nodes.push(Node {
                    lang,
                    stem: stem.into(),
                    keys: Vec::new(),
                    surfaces: Vec::new(),
                    children: Vec::new(),
                    child_keys: Vec::new(),
                    child_first_bytes: 0,
                    phrase: None,
                });
                if let Some(p) = parent.and_then(|p| self.nodes.get_mut(p)) {
                    p.children.push(id);
                }
                self.edges.insert(edge, id);
                id
            }
        };
        if let Some(node) = self.nodes.get_mut(id) {
            if !node.surfaces.iter().any(|s| **s == *surface) {
                node.surfaces.push(surface.into());
            }
            // A key is cut to the surfaces seen, so it can only get shorter.
            for key in lang.prefix_keys(stem, surface) {
                if let Some(existing) = node
                    .keys
                    .iter_mut()
                    .find(|k| key.starts_with(&***k) || k.starts_with(key.as_str()))
                {
                    if key.len() < existing.len() {
                        *existing = key.into();
                    }
                } else {
                    node.keys.push(key.into());
                }
            }
        }
        id
    }

    /// The prefilter's conditions for every first word (see [`Prefilter`]).
    fn prefilter(&self) -> Prefilter {
        let mut prefilter = Prefilter::new();
        let roots = self
            .edges
            .iter()
            .filter(|((parent, _, _), _)| parent.is_none());
        for node in roots.filter_map(|(_, &id)| self.nodes.get(id)) {
            for key in &node.keys {
                if node.phrase.is_some() {
                    prefilter.add_single(key);
                }
                for child in node.children.iter().filter_map(|&c| self.nodes.get(c)) {
                    for next_key in &child.keys {
                        prefilter.add_pair(key, next_key);
                    }
                }
            }
        }
        prefilter
    }

    fn finish(mut self) -> Compiled {
        let child_keys: Vec<Vec<(Box<str>, usize)>> = self
            .nodes
            .iter()
            .map(|node| {
                let mut keys: Vec<(Box<str>, usize)> = node
                    .children
                    .iter()
                    .filter_map(|&c| self.nodes.get(c))
                    .zip(&node.children)
                    .flat_map(|(child, &c)| child.keys.iter().map(move |k| (k.clone(), c)))
                    .collect();
                keys.sort();
                keys
            })
            .collect();
        for (node, keys) in self.nodes.iter_mut().zip(child_keys) {
            node.child_first_bytes = keys
                .iter()
                .map(|(k, _)| {
                    k.as_bytes()
                        .first()
                        .map_or(u64::MAX, |&b| first_byte_bit(b))
                })
                .fold(0, |mask, bit| mask | bit);
            node.child_keys = keys;
        }
        // Patterns: the keys of the first-word nodes (those reached from a root).
        let mut pattern_ids: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_nodes: Vec<Vec<usize>> = Vec::new();
        let mut roots: Vec<usize> = self
            .edges
            .iter()
            .filter(|((parent, _, _), _)| parent.is_none())
            .map(|(_, &id)| id)
            .collect();
        // HashMap order is random; sorting keeps pattern numbering reproducible.
        roots.sort_unstable();
        for root in roots {
            let Some(node) = self.nodes.get(root) else {
                continue;
            };
            for key in &node.keys {
                let pattern = key.to_string();
                let index = *pattern_ids.entry(pattern.clone()).or_insert_with(|| {
                    patterns.push(pattern);
                    pattern_nodes.push(Vec::new());
                    patterns.len() - 1
                });
                if let Some(list) = pattern_nodes.get_mut(index)
                    && !list.contains(&root)
                {
                    list.push(root);
                }
            }
        }
        let exact_nodes = pattern_nodes.clone();
        for (pattern, nodes) in patterns.iter().zip(pattern_nodes.iter_mut()) {
            let prefixes = pattern
                .char_indices()
                .map(|(i, _)| i)
                .filter_map(|i| pattern.get(..i));
            for prefix in prefixes {
                if let Some(shorter) = pattern_ids.get(prefix).and_then(|&i| exact_nodes.get(i)) {
                    for &node in shorter {
                        if !nodes.contains(&node) {
                            nodes.push(node);
                        }
                    }
                }
            }
        }
        let prefilter = self.prefilter();
        let automaton = if patterns.is_empty() {
            None
        } else {
            let mut builder = AhoCorasick::builder();
            builder
                .match_kind(MatchKind::LeftmostLongest)
                // Searches start at word starts only.
                .start_kind(StartKind::Anchored)
                // The text is scanned unfolded when it is ASCII (see `Folded`).
                .ascii_case_insensitive(true);
            // A DFA is the fastest; it is small because keys are short word prefixes, but
            // fall back to the automatic choice rather than fail on a huge list.
            builder
                .kind(Some(AhoCorasickKind::DFA))
                .build(&patterns)
                .ok()
                .or_else(|| builder.kind(None).build(&patterns).ok())
        };
        Compiled {
            phrases: self.phrases,
            nodes: self.nodes,
            automaton,
            pattern_nodes,
            prefilter,
        }
    }
}
