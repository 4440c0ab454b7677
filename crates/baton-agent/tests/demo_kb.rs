//! The demo knowledge base (`config/kb`) answers what it covers and nothing else.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use baton_agent::{KnowledgeBase, MAX_ANSWER_CHARS};
use baton_core::decision::AgentAnswer;
use baton_engine::ports::Answerer;

static KB: LazyLock<KnowledgeBase> = LazyLock::new(|| {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/kb");
    KnowledgeBase::load_dir(&dir).unwrap()
});

/// Asks the demo knowledge base. `expected` is the answer's source, or only its article
/// (`returns.md` accepts any section of it); `None` means "cannot answer".
fn check(question: &str, expected: Option<&str>) {
    let answer = KB.answer(question);
    match (&answer, expected) {
        (AgentAnswer::Answered { source, text, .. }, Some(expected)) => {
            let same_article = source.strip_prefix(expected).is_some_and(|rest| {
                rest.is_empty() || (!expected.contains('#') && rest.starts_with('#'))
            });
            assert!(
                same_article,
                "{question:?}: answered from {source:?}, expected {expected:?}"
            );
            assert!(!text.is_empty() && text.chars().count() <= MAX_ANSWER_CHARS);
        }
        (AgentAnswer::CannotAnswer { reason }, None) => {
            assert!(!reason.is_empty(), "{question:?}: empty reason");
        }
        _ => panic!("{question:?}: got {answer:?}, expected {expected:?}"),
    }
}

#[test]
fn answers_what_the_articles_cover() {
    check(
        "How long does shipping take?",
        Some("shipping.md#Delivery times"),
    );
    check("Can I return a product?", Some("returns.md"));
    // Words no article knows do not drown a question the articles answer.
    check(
        "I work in human resources, how long does shipping take?",
        Some("shipping.md#Delivery times"),
    );
    check(
        "How do I reset my password?",
        Some("account.md#Forgotten password"),
    );
    check(
        "I forgot my password",
        Some("account.md#Forgotten password"),
    );
    check(
        "Where is my order?",
        Some("order-tracking.md#Where is my order?"),
    );
    check(
        "How can I track my parcel?",
        Some("order-tracking.md#Where is my order?"),
    );
    check(
        "What payment methods do you accept?",
        Some("payment.md#Accepted payment methods"),
    );
    check(
        "Do you accept PayPal?",
        Some("payment.md#Accepted payment methods"),
    );
    check(
        "What are your opening hours?",
        Some("contact.md#Customer service hours"),
    );
    check(
        "What is your phone number?",
        Some("contact.md#How to contact us"),
    );
    check(
        "How long is the warranty?",
        Some("warranty.md#Warranty period"),
    );
    check(
        "My tent is broken, is it covered by the warranty?",
        Some("warranty.md"),
    );
    check(
        "How much does shipping cost?",
        Some("shipping.md#Shipping costs"),
    );
    check(
        "Do you ship to Norway?",
        Some("shipping.md#Countries we ship to"),
    );
    check("When will I get my refund?", Some("returns.md#Refunds"));
    check(
        "Can I exchange a jacket for another size?",
        Some("returns.md#Exchanges"),
    );
    check(
        "Can I cancel my order?",
        Some("order-tracking.md#Changing or cancelling an order"),
    );
    check(
        "My payment was declined",
        Some("payment.md#Payment declined"),
    );
    check(
        "Hi! Could you please tell me how to delete my account?",
        Some("account.md"),
    );
    check("REFUND???", Some("returns.md#Refunds"));
}

#[test]
fn answers_italian_questions_from_italian_articles() {
    check(
        "Quanto tempo ci vuole per la spedizione?",
        Some("spedizioni.md#Tempi di consegna"),
    );
    check(
        "Quanto costa la spedizione?",
        Some("spedizioni.md#Costi di spedizione"),
    );
    check("Posso restituire un prodotto?", Some("spedizioni.md#Resi"));
}

#[test]
fn cannot_answer_what_the_articles_do_not_cover() {
    check("What's the airspeed of an unladen swallow?", None);
    check("Who won the 1998 world cup?", None);
    check("Tell me about quantum chromodynamics", None);
    check("What is the meaning of life?", None);
    check("Do you sell bicycles?", None);
    check("I want to speak to a human", None);
    check("Write me a poem about the sea", None);
    // Share one word with an article, out of two or more.
    check("What is the shipping weight of an elephant?", None);
    check("Can you recommend a good restaurant in Verona?", None);
    check("What time is it in Tokyo?", None);
    check("What is the best order of the planets?", None);
    check("Is it going to rain tomorrow?", None);
    check("What is your favourite colour?", None);
    // No content words at all.
    check("ok?", None);
    check("Why?", None);
    check("", None);
    check("   ", None);
    // Italian.
    check("Che tempo fa domani a Roma?", None);
    check("Chi ha vinto il campionato?", None);
}

fn check_reason(question: &str, expected_fragments: &[&str]) {
    match KB.answer(question) {
        AgentAnswer::CannotAnswer { reason } => {
            for fragment in expected_fragments {
                assert!(
                    reason.contains(fragment),
                    "{question:?}: reason {reason:?} lacks {fragment:?}"
                );
            }
        }
        other => panic!("{question:?}: expected cannot answer, got {other:?}"),
    }
}

#[test]
fn cannot_answer_says_why() {
    check_reason(
        "Tell me about quantum chromodynamics",
        &["no article mentions", "quantum"],
    );
    check_reason(
        "What is the shipping weight of an elephant?",
        &["shipping.md", "1 of its 3 words", "ship"],
    );
    check_reason("ok?", &["no content words"]);
    check_reason("", &["empty"]);
}

#[test]
fn answers_are_plain_text() {
    for question in [
        "Can I return a product?",
        "How do I return a product?",
        "Where is my order?",
        "How much does shipping cost?",
        "How do I reset my password?",
        "Where is your shop?",
    ] {
        match KB.answer(question) {
            AgentAnswer::Answered { text, .. } => {
                for markup in ["**", "](", "# ", "`", "*"] {
                    assert!(
                        !text.contains(markup),
                        "{question:?}: {markup:?} in {text:?}"
                    );
                }
            }
            other => panic!("{question:?}: {other:?}"),
        }
    }
}

fn check_small_talk(message: &str, expected_source: &str, expected_start: &str) {
    match KB.answer(message) {
        AgentAnswer::Answered { source, text, .. } => {
            assert_eq!(source, expected_source, "{message:?}");
            assert!(text.starts_with(expected_start), "{message:?}: {text:?}");
        }
        other => panic!("{message:?}: {other:?}"),
    }
}

#[test]
fn greetings_and_thanks_get_a_friendly_reply() {
    check_small_talk("hi", "small-talk#greeting", "Hello!");
    check_small_talk("Good morning!", "small-talk#greeting", "Hello!");
    check_small_talk("Thanks a lot", "small-talk#thanks", "You're welcome!");
    check_small_talk("ciao", "small-talk#greeting", "Ciao!");
    check_small_talk("grazie mille!", "small-talk#thanks", "Prego!");
}

#[test]
fn small_talk_can_be_switched_off() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/kb");
    let kb = KnowledgeBase::load_dir(&dir).unwrap().without_small_talk();
    assert!(matches!(kb.answer("hi"), AgentAnswer::CannotAnswer { .. }));
}

#[test]
fn the_demo_kb_has_a_passage_per_section() {
    assert!(KB.len() >= 20, "{} passages", KB.len());
    assert!(!KB.is_empty());
}

#[tokio::test]
async fn serves_as_the_engine_answerer() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/kb");
    let answerer: Arc<dyn Answerer> = Arc::new(KnowledgeBase::load_dir(&dir).unwrap());
    let answer = answerer.answer("How long does shipping take?", &[]).await;
    assert!(
        matches!(&answer, AgentAnswer::Answered { source, .. } if source == "shipping.md#Delivery times"),
        "{answer:?}"
    );
    let answer = answerer.answer("Who won the 1998 world cup?", &[]).await;
    assert!(
        matches!(answer, AgentAnswer::CannotAnswer { .. }),
        "{answer:?}"
    );
}
