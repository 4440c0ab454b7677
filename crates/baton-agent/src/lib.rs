//! The built-in customer agent (B4): answers visitors from a folder of Markdown articles,
//! and says when it cannot, so the engine can hand the conversation to a human.
//!
//! - `article`: Markdown articles split into plain-text passages (one per section).
//! - `language`: language detection and content words (stop words, stemming).
//! - `index`: BM25 search over the passages, each article analysed in its language.
//! - `answerer`: the rules that turn search results into an answer or "cannot answer",
//!   and the engine's [`Answerer`](baton_engine::ports::Answerer) port.
//! - `smalltalk`: friendly replies to a bare "hello" or "thanks".
//! - `llm`: the model-backed answerer: the best passages and the transcript sent to an
//!   OpenAI-compatible chat completions server, which answers or calls `handoff`.
//!
//! Architecture invariant: the knowledge base's only IO is [`KnowledgeBase::load_dir`],
//! at start-up, and its answering is pure and synchronous; the LLM answerer's only IO is
//! its model call. Neither ever fails a turn: every problem is `CannotAnswer`.

mod answerer;
mod article;
mod index;
mod language;
pub mod llm;
mod loader;
mod smalltalk;

pub use answerer::{DEFAULT_THRESHOLD, MAX_ANSWER_CHARS, MIN_COVERAGE};
pub use article::Article;
pub use loader::KbError;

use index::Index;

/// A searchable knowledge base. Build it once ([`KnowledgeBase::load_dir`] or
/// [`KnowledgeBase::from_articles`]) and share it: answering takes `&self`.
#[derive(Debug)]
pub struct KnowledgeBase {
    index: Index,
    threshold: f32,
    small_talk: bool,
}

impl KnowledgeBase {
    /// Loads every `*.md` file under `dir`, recursively, in path order. Hidden files and
    /// folders (starting with `.`) are skipped and symbolic links to folders are not
    /// followed. A missing `dir` is an error; an empty one gives a knowledge base that
    /// cannot answer anything.
    pub fn load_dir(dir: &std::path::Path) -> Result<KnowledgeBase, KbError> {
        let articles = loader::read_articles(dir)?;
        let count = articles.len();
        let kb = KnowledgeBase::from_articles(articles);
        tracing::info!(
            path = %dir.display(),
            articles = count,
            passages = kb.len(),
            "knowledge base loaded"
        );
        Ok(kb)
    }

    /// Indexes `articles`. Each article's language is detected from its words (English
    /// when unclear); English, Italian, French, German and Spanish are supported.
    pub fn from_articles(articles: Vec<Article>) -> KnowledgeBase {
        KnowledgeBase {
            index: Index::build(&articles),
            threshold: DEFAULT_THRESHOLD,
            small_talk: true,
        }
    }

    /// Sets the minimum relevance score of an answer (default [`DEFAULT_THRESHOLD`],
    /// which explains the unit). Raise it to answer less often and hand over more; the
    /// coverage rule ([`MIN_COVERAGE`]) applies whatever the threshold.
    pub fn with_threshold(self, threshold: f32) -> KnowledgeBase {
        KnowledgeBase { threshold, ..self }
    }

    /// Treats greetings and thanks like any other question (they then cannot be
    /// answered, since they have no content words).
    pub fn without_small_talk(self) -> KnowledgeBase {
        KnowledgeBase {
            small_talk: false,
            ..self
        }
    }

    /// The minimum relevance score of an answer.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Number of indexed passages.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there is no passage at all (every question then cannot be answered).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k` passages that best match `question`, best first: those sharing at least
    /// one content word with it, with no threshold (what a model is given to read).
    pub fn passages(&self, question: &str, k: usize) -> Vec<Retrieved> {
        self.index
            .top(question, k)
            .into_iter()
            .map(|(passage, score)| Retrieved {
                source: passage.source.clone(),
                text: passage.text.clone(),
                score,
            })
            .collect()
    }
}

/// One passage found for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrieved {
    /// `article#Section`, as in an answer's source.
    pub source: String,
    /// The passage in plain text.
    pub text: String,
    /// Relevance, in the unit of [`DEFAULT_THRESHOLD`].
    pub score: f32,
}
