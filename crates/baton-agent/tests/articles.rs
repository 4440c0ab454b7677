//! Articles built in memory: Markdown to plain answers, passages, and the threshold.

#![allow(clippy::unwrap_used)]

use baton_agent::{Article, DEFAULT_THRESHOLD, KnowledgeBase, MAX_ANSWER_CHARS};
use baton_core::decision::AgentAnswer;

/// A knowledge base of the given articles plus two unrelated ones, so that BM25's
/// document frequencies are not degenerate.
fn kb(articles: &[(&str, &str)]) -> KnowledgeBase {
    let mut all: Vec<Article> = articles.iter().map(|(s, m)| Article::new(*s, *m)).collect();
    all.push(Article::new(
        "stoves.md",
        "# Stoves\n\n## Fuel\nGas canisters last about an hour at full power.\n",
    ));
    all.push(Article::new(
        "maps.md",
        "# Maps\n\n## Scale\nHiking maps use a scale of 1:25000 to show paths.\n",
    ));
    KnowledgeBase::from_articles(all)
}

/// Asks `question` of a knowledge base holding `markdown` as `care.md` and expects the
/// answer `text` from `source`.
fn check_text(markdown: &str, question: &str, source: &str, text: &str) {
    match kb(&[("care.md", markdown)]).answer(question) {
        AgentAnswer::Answered {
            text: got,
            source: got_source,
            ..
        } => {
            assert_eq!(got_source, source, "{question:?}");
            assert_eq!(got, text, "{question:?}");
        }
        other => panic!("{question:?}: {other:?}"),
    }
}

#[test]
fn answers_are_stripped_of_markdown() {
    check_text(
        "# Care guide\n\n## Waterproofing\nSpray the **outer fabric** with a \
         [silicone spray](https://x.example/spray) every `12 months`.\nUse _only_ \
         products made for ![tent icon](i.png) tents.\n",
        "How do I waterproof my tent?",
        "care.md#Waterproofing",
        "Spray the outer fabric with a silicone spray every 12 months. Use only products \
         made for tent icon tents.",
    );
    check_text(
        "Care guide\n==========\n\nDrying\n------\n> Never pack a **wet** tent.\n\n\
         1. Open the *doors*.\n2. Hang the fly __sheet__.\n",
        "How do I dry a wet tent?",
        "care.md#Drying",
        "Never pack a wet tent.\n\n1. Open the doors.\n2. Hang the fly sheet.",
    );
    check_text(
        "# Care guide\n\n## Zippers ##\n- Clean zippers with a *soft* brush\n- Apply \
         zipper wax: see <https://x.example/wax>\n\n---\n",
        "How do I clean zippers?",
        "care.md#Zippers",
        "- Clean zippers with a soft brush\n- Apply zipper wax: see https://x.example/wax",
    );
}

#[test]
fn text_before_the_first_section_is_its_own_passage() {
    check_text(
        "# Care guide\n\nAir your sleeping bag after every trip.\n\n## Washing\nWash down \
         bags by hand.\n",
        "Should I air my sleeping bag?",
        "care.md",
        "Air your sleeping bag after every trip.",
    );
}

#[test]
fn long_sections_are_split_into_paragraph_chunks() {
    let filler = "The fabric is strong and light, and it keeps its shape. ".repeat(5);
    let markdown = format!(
        "# Care guide\n\n## Storage\n{filler}\n\n{filler}\n\nStore the canoe upside down \
         in a dry shed.\n"
    );
    let knowledge = kb(&[("care.md", &markdown)]);
    assert_eq!(
        knowledge.len(),
        2 + 2,
        "the long section gives two passages"
    );
    match knowledge.answer("How do I store a canoe?") {
        AgentAnswer::Answered { text, source, .. } => {
            assert_eq!(source, "care.md#Storage");
            assert!(
                text.ends_with("Store the canoe upside down in a dry shed."),
                "{text}"
            );
            assert!(text.chars().count() <= MAX_ANSWER_CHARS);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn long_paragraphs_are_cut_at_a_sentence_end() {
    let sentences: String = (1..=40)
        .map(|i| format!("Kayak tip number {i} is about paddling. "))
        .collect();
    let knowledge = kb(&[("kayak.md", &format!("# Kayaks\n\n## Tips\n{sentences}\n"))]);
    match knowledge.answer("kayak paddling tips") {
        AgentAnswer::Answered { text, .. } => {
            assert!(
                text.chars().count() <= MAX_ANSWER_CHARS,
                "{} chars",
                text.len()
            );
            assert!(
                text.chars().count() >= MAX_ANSWER_CHARS / 2,
                "{} chars",
                text.len()
            );
            assert!(text.ends_with("paddling."), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

/// Scores from a knowledge base where "tent" is in every passage.
fn tent_kb() -> KnowledgeBase {
    KnowledgeBase::from_articles(
        ["Pitching", "Packing", "Repairing", "Cleaning"]
            .iter()
            .map(|topic| {
                Article::new(
                    format!("{topic}.md"),
                    format!("# {topic} a tent\n\n## Steps\n{topic} the tent takes ten minutes.\n"),
                )
            })
            .collect(),
    )
}

#[test]
fn words_found_everywhere_do_not_make_an_answer() {
    match tent_kb().answer("tent?") {
        AgentAnswer::CannotAnswer { reason } => {
            assert!(reason.contains("best score"), "{reason}");
            assert!(
                reason.contains(&format!("< {DEFAULT_THRESHOLD:.2}")),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A distinctive word does, in the same small knowledge base.
    assert!(matches!(
        tent_kb().answer("repairing a tent"),
        AgentAnswer::Answered { source, .. } if source == "Repairing.md#Steps"
    ));
    // The threshold is the operator's to set.
    let lenient = tent_kb().with_threshold(0.0);
    assert_eq!(lenient.threshold(), 0.0);
    assert!(matches!(
        lenient.answer("tent?"),
        AgentAnswer::Answered { .. }
    ));
}

#[test]
fn an_empty_knowledge_base_cannot_answer() {
    let empty = KnowledgeBase::from_articles(Vec::new());
    assert!(empty.is_empty());
    match empty.answer("How long does shipping take?") {
        AgentAnswer::CannotAnswer { reason } => assert!(reason.contains("no articles"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
