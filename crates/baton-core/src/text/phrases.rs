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
//! Stemming every word of a message would cost about 600 ns per word (two languages),
//! far more than the scan itself. Instead, [`PhraseMatcher::new`] builds one trie per
//! language keyed by stems, and ONE Aho-Corasick automaton over the *prefix keys* of the
//! first words (see [`super::stem`]), each preceded by the stream's word-start marker.
//! [`PhraseMatcher::find`] folds the text into a stream, scans it once with the
//! automaton, and only the words the automaton flags are verified: by exact folded form
//! when the phrase used that form, otherwise by stemming the one candidate word and
//! walking the trie over the following words. The automaton never matches inside a word
//! because every pattern starts with the word-start marker.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::normalize::{Tokens, folded_words};
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
    /// Byte range of the matched words in the ORIGINAL `text` (so text[span] is what the
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
    /// Over `" " + key` of every first-word node; `None` when there are no phrases.
    automaton: Option<AhoCorasick>,
    /// For each automaton pattern, the first-word nodes having that key.
    pattern_nodes: Vec<Vec<usize>>,
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
    /// The phrase ending at this word, if any (the first configured among equals).
    phrase: Option<usize>,
}

impl PhraseMatcher {
    /// Compile phrases (any order, may contain duplicates/blank entries which are ignored).
    ///
    /// Phrases that match exactly the same texts (same stems in every language, e.g.
    /// "Refund" and "refunds") count once; the first one listed is reported.
    pub fn new<S: AsRef<str>>(phrases: &[S]) -> PhraseMatcher {
        let mut builder = Builder::default();
        for phrase in phrases {
            builder.add(phrase.as_ref().trim());
        }
        PhraseMatcher { inner: Arc::new(builder.finish()) }
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
        let tokens = Tokens::new(text);
        let mut stems = StemCache::default();
        // (first word, last word, phrase id) of the best match so far.
        let mut best: Option<(usize, usize, usize)> = None;
        let mut word = 0;
        for hit in automaton.find_overlapping_iter(tokens.stream.as_str()) {
            // The pattern's leading space sits just before the word it flags; hits come
            // in word order because a key never extends past its word.
            let word_start = hit.start() + 1;
            while tokens.words.get(word).is_some_and(|w| w.norm.start < word_start) {
                word += 1;
            }
            if best.is_some_and(|(first, _, _)| word > first) {
                break;
            }
            let Some(nodes) = compiled.pattern_nodes.get(hit.pattern().as_usize()) else {
                continue;
            };
            for &node in nodes {
                if let Some((last, phrase)) = compiled.walk(node, &tokens, word, &mut stems) {
                    let better = match best {
                        None => true,
                        Some((_, best_last, best_phrase)) => {
                            last > best_last || (last == best_last && phrase < best_phrase)
                        }
                    };
                    if better {
                        best = Some((word, last, phrase));
                    }
                }
            }
        }
        let (first, last, phrase) = best?;
        let start = tokens.words.get(first)?.orig.start;
        let end = tokens.words.get(last)?.orig.end;
        Some(PhraseMatch {
            phrase: compiled.phrases.get(phrase)?.clone(),
            span: start..end,
        })
    }
}

impl Compiled {
    /// Follows the trie from first-word `node` at text word `first`; returns the last word
    /// and the phrase of the longest phrase matched there.
    fn walk(
        &self,
        node: usize,
        tokens: &Tokens,
        first: usize,
        stems: &mut StemCache,
    ) -> Option<(usize, usize)> {
        let mut current = self.nodes.get(node)?;
        if !current.accepts(tokens, first, stems) {
            return None;
        }
        let mut longest = current.phrase.map(|p| (first, p));
        let mut word = first;
        'descend: loop {
            word += 1;
            if word >= tokens.len() {
                break;
            }
            for &child in &current.children {
                let Some(next) = self.nodes.get(child) else { continue };
                if next.accepts(tokens, word, stems) {
                    current = next;
                    if let Some(p) = next.phrase {
                        longest = Some((word, p));
                    }
                    // Siblings have distinct stems: at most one accepts the word.
                    continue 'descend;
                }
            }
            break;
        }
        longest
    }
}

impl Node {
    /// Whether text word `word` has this node's stem.
    fn accepts(&self, tokens: &Tokens, word: usize, stems: &mut StemCache) -> bool {
        let folded = tokens.word(word);
        if self.surfaces.iter().any(|s| **s == *folded) {
            return true;
        }
        if !self.keys.iter().any(|k| folded.starts_with(&**k)) {
            return false;
        }
        *stems.get(self.lang, word, folded) == *self.stem
    }
}

/// Stems computed during one `find`, so a word is stemmed at most once per language.
/// Few words get stemmed per text, so a list beats a map.
#[derive(Default)]
struct StemCache {
    entries: Vec<(StemLang, usize, String)>,
}

impl StemCache {
    fn get(&mut self, lang: StemLang, word: usize, folded: &str) -> &str {
        let found = self.entries.iter().position(|(l, w, _)| *l == lang && *w == word);
        let index = match found {
            Some(index) => index,
            None => {
                self.entries.push((lang, word, lang.stem(folded)));
                self.entries.len() - 1
            }
        };
        self.entries.get(index).map_or("", |(_, _, stem)| stem.as_str())
    }
}

#[derive(Default)]
struct Builder {
    phrases: Vec<String>,
    nodes: Vec<Node>,
    /// (parent node or `None` for a language's root, language, stem) → node.
    edges: HashMap<(Option<usize>, StemLang, Box<str>), usize>,
    /// Stem sequences per language of the phrases kept, to drop equivalent duplicates.
    seen: HashMap<[Vec<String>; 2], usize>,
}

impl Builder {
    fn add(&mut self, phrase: &str) {
        let words = folded_words(phrase);
        if words.is_empty() {
            return;
        }
        let stems = StemLang::ALL.map(|lang| words.iter().map(|w| lang.stem(w)).collect::<Vec<_>>());
        if self.seen.contains_key(&stems) {
            return;
        }
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
        self.seen.insert(stems, id);
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
                if let Some(existing) = node.keys.iter_mut().find(|k| key.starts_with(&***k) || k.starts_with(key.as_str())) {
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

    fn finish(self) -> Compiled {
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
            let Some(node) = self.nodes.get(root) else { continue };
            for key in &node.keys {
                let pattern = format!(" {key}");
                let index = *pattern_ids.entry(pattern.clone()).or_insert_with(|| {
                    patterns.push(pattern);
                    pattern_nodes.push(Vec::new());
                    patterns.len() - 1
                });
                if let Some(list) = pattern_nodes.get_mut(index) {
                    if !list.contains(&root) {
                        list.push(root);
                    }
                }
            }
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                // A DFA is the fastest to scan; its size stays modest because the
                // patterns are short word prefixes.
                .kind(Some(AhoCorasickKind::DFA))
                .build(&patterns)
                .or_else(|_| AhoCorasick::new(&patterns))
                .ok()
        };
        Compiled { phrases: self.phrases, nodes: self.nodes, automaton, pattern_nodes }
    }
}
