//! Choosing the answer, or saying there is none.
//!
//! Every passage sharing a word with the question gets a score (see `index.rs`: BM25 in
//! units of one distinctive word, plus a bonus when the question repeats the passage's
//! heading). A passage answers only when both hold:
//!
//! 1. **Coverage**: it contains at least [`MIN_COVERAGE`] of the question's distinct
//!    content words (stop words and filler removed, stemmed). Once a passage shares two
//!    of them, words found in no article at all are left out of the count: they say
//!    nothing about which article answers ("I work in human resources, how long does
//!    shipping take?" is a shipping question).
//!    This is what makes "cannot answer" reliable, whatever the corpus: a question about
//!    swallows' airspeed or the world cup shares at most one incidental word with a
//!    shop's articles. BM25 alone would rank *something* first for any question that
//!    shares a word.
//! 2. **Score**: its score is at least the threshold ([`DEFAULT_THRESHOLD`] unless set
//!    with `with_threshold`). With coverage doing the main work, the threshold rejects
//!    questions whose only shared words are so common in the knowledge base that they
//!    say nothing ("Acme?" when every article names the shop).
//!
//! The best-scoring passage that passes the coverage rule is checked against the
//! threshold. When the question's language cannot be told and several languages match,
//! the language with the most passages is preferred (see `Index::search`).
//!
//! A question with no content word at all ("ok?", "why?") cannot be answered; a message
//! that is only a greeting or thanks gets a friendly reply (see `smalltalk.rs`).

use async_trait::async_trait;
use baton_core::decision::AgentAnswer;
use baton_engine::model::Message;
use baton_engine::ports::Answerer;
use tracing::debug;

use crate::KnowledgeBase;
use crate::index::{Hit, ShelfResult};
use crate::smalltalk;

/// The default minimum score of an answer: the question's shared words must weigh at
/// least half as much as one word found in a single passage. A word found in a third of
/// the passages scores about 0.4, in half of them 0.25, in all of them almost 0; a word
/// found in one passage about 1; a question that is a section's heading 1 more.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// The minimum fraction of the question's content words an answer must contain: all of
/// one or two words, two of three, three of four or five.
pub const MIN_COVERAGE: f32 = 0.6;

/// Answers longer than this (in characters) are cut at the last sentence end before it:
/// a chat reply, not a page.
pub const MAX_ANSWER_CHARS: usize = 600;

impl KnowledgeBase {
    /// Answers `question` from the best-matching passage, or says why it cannot.
    ///
    /// The text is the passage in plain text, at most [`MAX_ANSWER_CHARS`] characters;
    /// `source` is `article#Section` (the article alone for the text before its first
    /// section); `score` is the passage's relevance score (see [`DEFAULT_THRESHOLD`]).
    /// A message that is only a greeting or thanks gets a short friendly reply with
    /// source `small-talk#greeting` or `small-talk#thanks` and score 0, unless switched
    /// off with [`KnowledgeBase::without_small_talk`] or the knowledge base is empty (an
    /// agent that knows nothing should not pretend to hold the conversation).
    pub fn answer(&self, question: &str) -> AgentAnswer {
        let answer = self.decide(question);
        match &answer {
            AgentAnswer::Answered { source, score, .. } => {
                debug!(%source, score, "answered from the knowledge base");
            }
            AgentAnswer::CannotAnswer { reason } => debug!(%reason, "cannot answer"),
        }
        answer
    }

    fn decide(&self, question: &str) -> AgentAnswer {
        if question.trim().is_empty() {
            return cannot("the question is empty".into());
        }
        if self.index.len() == 0 {
            return cannot("the knowledge base has no articles".into());
        }
        if self.small_talk
            && let Some((kind, reply)) = smalltalk::recognise(question)
        {
            return AgentAnswer::Answered {
                text: reply.into(),
                source: kind.source().into(),
                score: 0.0,
            };
        }

        let results = self.index.search(question);
        if results.iter().all(|r| r.terms.is_empty()) {
            return cannot("the question has no content words to look up".into());
        }
        // `results` come in order of preference (language of the question, else the
        // language with most passages first): the first language with a passage that
        // covers the question gives the answer.
        let Some(hit) = results.iter().find_map(best_covering) else {
            return cannot(explain_low_coverage(&results));
        };
        if hit.score < self.threshold {
            return cannot(format!(
                "no article matches well enough (best score {:.2} < {:.2}, \"{}\")",
                hit.score, self.threshold, hit.passage.source
            ));
        }
        AgentAnswer::Answered {
            text: trim_answer(&hit.passage.text, MAX_ANSWER_CHARS),
            source: hit.passage.source.clone(),
            score: hit.score,
        }
    }
}

#[async_trait]
impl Answerer for KnowledgeBase {
    /// Answers the newest question alone: a passage retriever has no use for the
    /// transcript (a model-backed agent would read it, B14).
    async fn answer(&self, question: &str, _transcript: &[Message]) -> AgentAnswer {
        // Searching a knowledge base of help articles takes microseconds: no need to
        // move it off the async worker.
        KnowledgeBase::answer(self, question)
    }
}

fn cannot(reason: String) -> AgentAnswer {
    AgentAnswer::CannotAnswer { reason }
}

/// The best-scoring hit that contains enough of the question's words (hits come best
/// first).
fn best_covering<'a>(result: &'a ShelfResult<'a>) -> Option<&'a Hit<'a>> {
    result.hits.iter().find(|hit| covers(result, hit))
}

fn covers(result: &ShelfResult<'_>, hit: &Hit<'_>) -> bool {
    coverage(result, hit) >= MIN_COVERAGE
}

/// The words coverage is counted against: those the knowledge base knows, once a passage
/// shares two of them; all of the question's words otherwise, so that one incidental
/// shared word ("time" in "What time is it in Tokyo?") never answers.
fn denominator(result: &ShelfResult<'_>, hit: &Hit<'_>) -> usize {
    if hit.matched.len() >= 2 {
        result.known
    } else {
        result.terms.len()
    }
}

fn coverage(result: &ShelfResult<'_>, hit: &Hit<'_>) -> f32 {
    // Never 0 when there is a hit: a hit shares a known term with the question.
    hit.matched.len() as f32 / denominator(result, hit).max(1) as f32
}

/// Why no passage covers enough of the question, naming the closest one.
fn explain_low_coverage(results: &[ShelfResult<'_>]) -> String {
    let mut closest: Option<(&ShelfResult<'_>, &Hit<'_>)> = None;
    for result in results {
        for hit in &result.hits {
            // Strictly better only: on a tie the earlier, better-scoring hit stays.
            if closest.is_none_or(|(r, h)| coverage(result, hit) > coverage(r, h)) {
                closest = Some((result, hit));
            }
        }
    }
    match closest {
        None => {
            let mut words: Vec<&str> = Vec::new();
            for term in results.iter().flat_map(|r| &r.terms) {
                if !words.contains(&term.as_str()) {
                    words.push(term);
                }
            }
            format!("no article mentions any of the words {}", words.join(", "))
        }
        Some((result, hit)) => format!(
            "no article matches enough of the question: the closest, \"{}\", contains {} of \
             its {} words ({}; {:.0}% < {:.0}%)",
            hit.passage.source,
            hit.matched.len(),
            denominator(result, hit),
            hit.matched.join(", "),
            coverage(result, hit) * 100.0,
            MIN_COVERAGE * 100.0,
        ),
    }
}

/// Cuts `text` to at most `max` characters, at the last sentence or line end when there
/// is one in the second half, else at the last space with an ellipsis.
pub(crate) fn trim_answer(text: &str, max: usize) -> String {
    let text = text.trim();
    let Some((cut, _)) = text.char_indices().nth(max) else {
        return text.to_string();
    };
    let head = &text[..cut];
    let sentence_end = head
        .char_indices()
        .rev()
        .filter(|&(i, c)| {
            // Look at the full text: a '.' just before the cut may be "1.5".
            let next = text[i + c.len_utf8()..].chars().next();
            match c {
                '.' | '!' | '?' => next.is_none_or(char::is_whitespace),
                '\n' => true,
                _ => false,
            }
        })
        .map(|(i, c)| if c == '\n' { i } else { i + c.len_utf8() })
        .find(|&end| head[..end].chars().count() >= max / 2);
    if let Some(end) = sentence_end {
        return head[..end].trim_end().to_string();
    }
    // No sentence end: cut at a space, leaving room for the ellipsis.
    let end = match head.rfind(char::is_whitespace) {
        Some(space) => space,
        None => head.char_indices().last().map_or(0, |(i, _)| i),
    };
    format!("{}…", head[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_trim(text: &str, max: usize, expected: &str) {
        assert_eq!(trim_answer(text, max), expected, "text: {text:?}");
    }

    #[test]
    fn answers_are_cut_at_a_sentence_end() {
        check_trim("Short. Text.", 20, "Short. Text.");
        check_trim(
            "One two. Three four. Five six seven.",
            25,
            "One two. Three four.",
        );
        check_trim(
            "Version 1.5 is out. It is great fun!",
            30,
            "Version 1.5 is out.",
        );
        check_trim(
            "- item one\n- item two\n- item three",
            28,
            "- item one\n- item two",
        );
        check_trim(
            "No sentence end in this long line",
            20,
            "No sentence end in…",
        );
        check_trim(
            "Tiny. Then a very long sentence without end",
            30,
            "Tiny. Then a very long…",
        );
    }
}
