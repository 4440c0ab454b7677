//! Behaviour of `baton_core::text`: custom trigger phrases and the "asks for a human"
//! detector, as tables of tiny cases, plus the labelled evaluation set
//! `tests/data/asks_for_human.tsv`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use baton_core::text::{Language, PhraseMatcher, detect_human_request};

/// `text[span]` of the phrase `phrases` finds in `text`, with the phrase reported.
fn check(phrases: &[&str], text: &str, expected: Option<(&str, &str)>) {
    let matcher = PhraseMatcher::new(phrases);
    let found = matcher.find(text);
    let got = found
        .as_ref()
        .map(|m| (m.phrase.as_str(), &text[m.span.clone()]));
    assert_eq!(got, expected, "phrases {phrases:?} in {text:?}");
}

#[test]
fn phrase_inflections_and_case() {
    check(&["refund"], "I want a refund.", Some(("refund", "refund")));
    check(
        &["refund"],
        "Refunds take too long",
        Some(("refund", "Refunds")),
    );
    check(
        &["refund"],
        "was it REFUNDED?",
        Some(("refund", "REFUNDED")),
    );
    check(&["Refund "], "refunding", Some(("Refund", "refunding")));
    check(&["refunds"], "one refund", Some(("refunds", "refund")));
    check(&["cancel"], "I cancelled it", Some(("cancel", "cancelled")));
    check(&["happy"], "happiness", Some(("happy", "happiness")));
    check(&["die"], "dying battery", Some(("die", "dying")));
    check(&["sky"], "clear skies", Some(("sky", "skies")));
    check(
        &["possible"],
        "the possibility",
        Some(("possible", "possibility")),
    );
    check(
        &["disabled"],
        "a disability",
        Some(("disabled", "disability")),
    );
}

/// The stemmer decides what is the same word; these are its (documented) answers.
#[test]
fn phrase_stemmer_choices() {
    // English Snowball strips -ation and -able: same word for a trigger.
    check(
        &["cancel"],
        "cancellation fee",
        Some(("cancel", "cancellation")),
    );
    check(
        &["cancellation"],
        "please cancel",
        Some(("cancellation", "cancel")),
    );
    check(
        &["refund"],
        "is it refundable?",
        Some(("refund", "refundable")),
    );
    // Different stems, even with a shared prefix.
    check(&["art"], "an article", None);
    check(&["card"], "cardboard box", None);
    check(&["cart"], "carton", None);
    check(&["return"], "returnable", Some(("return", "returnable")));
}

#[test]
fn phrase_word_boundaries() {
    check(&["art"], "start", None);
    check(&["art"], "art-deco start", Some(("art", "art")));
    check(&["art"], "(art)", Some(("art", "art")));
    check(&["refund"], "nonrefund", None);
    check(&["card"], "scard card", Some(("card", "card")));
    check(&["re"], "refund", None);
    check(&["a"], "banana a", Some(("a", "a")));
    check(&["10"], "100 or 10", Some(("10", "10")));
}

#[test]
fn phrase_accents_and_italian() {
    check(
        &["rimborso"],
        "vorrei i rimborsi",
        Some(("rimborso", "rimborsi")),
    );
    check(
        &["rimborso"],
        "Rimborsò tutto",
        Some(("rimborso", "Rimborsò")),
    );
    check(
        &["cancellazione"],
        "due cancellazioni",
        Some(("cancellazione", "cancellazioni")),
    );
    check(
        &["cancellazione"],
        "posso cancellare?",
        Some(("cancellazione", "cancellare")),
    );
    check(&["perché"], "ma perche no", Some(("perché", "perche")));
    check(&["perche"], "ma PERCHÉ no", Some(("perche", "PERCHÉ")));
    check(&["città"], "in citta", Some(("città", "citta")));
    check(&["e\u{301}lan"], "with élan", Some(("e\u{301}lan", "élan")));
    check(&["élan"], "with e\u{301}lan", Some(("élan", "e\u{301}lan")));
    check(
        &["assistenza"],
        "le assistenze",
        Some(("assistenza", "assistenze")),
    );
    check(&["straße"], "STRASSE", None);
    check(&["ﬁle"], "the files", Some(("ﬁle", "files")));
}

#[test]
fn phrase_multi_word() {
    check(
        &["money back"],
        "I want my money back!",
        Some(("money back", "money back")),
    );
    check(
        &["money back"],
        "MONEY, back",
        Some(("money back", "MONEY, back")),
    );
    check(
        &["money back"],
        "money\n\tback",
        Some(("money back", "money\n\tback")),
    );
    check(&["money back"], "money is back", None);
    check(&["money back"], "money", None);
    check(&["money back"], "back money", None);
    check(
        &["parlare con un operatore"],
        "Vorrei PARLARE con un'operatore",
        Some(("parlare con un operatore", "PARLARE con un'operatore")),
    );
    check(
        &["l'operatore"],
        "chiamate l operatore",
        Some(("l'operatore", "l operatore")),
    );
    check(&["don't"], "I dont", None);
    check(&["don't"], "I don’t", Some(("don't", "don’t")));
    check(&["late delivery"], "deliveries were late", None);
    check(
        &["late deliveries"],
        "a late delivery",
        Some(("late deliveries", "late delivery")),
    );
}

#[test]
fn phrase_priorities() {
    // Leftmost wins, whatever the configured order.
    check(
        &["refund", "cancel"],
        "cancel and refund",
        Some(("cancel", "cancel")),
    );
    // At the same word, the longer phrase wins.
    check(
        &["money", "money back"],
        "money back",
        Some(("money back", "money back")),
    );
    check(
        &["money back", "money"],
        "money back",
        Some(("money back", "money back")),
    );
    check(
        &["money back", "money"],
        "money now",
        Some(("money", "money")),
    );
    // Equivalent phrases: the first configured is reported.
    check(
        &["Refunds", "refund"],
        "refund",
        Some(("Refunds", "refund")),
    );
    // A three-word phrase falls back to its two-word prefix phrase.
    check(&["a b c", "a b"], "a b d", Some(("a b", "a b")));
}

#[test]
fn phrase_configuration_edge_cases() {
    assert!(PhraseMatcher::new::<&str>(&[]).is_empty());
    assert_eq!(PhraseMatcher::new(&["", "  ", "...", "!?"]).len(), 0);
    assert_eq!(
        PhraseMatcher::new(&["refund", " Refund! ", "RÉFUND", "refund"]).len(),
        1
    );
    assert_eq!(PhraseMatcher::new(&["refund", "refunds"]).len(), 2);
    assert_eq!(
        PhraseMatcher::new(&["refund", "cancel", "money back"]).len(),
        3
    );
    assert_eq!(PhraseMatcher::new(&[String::from("refund")]).len(), 1);
    check(&[], "anything", None);
    check(&["", "refund"], "refund", Some(("refund", "refund")));
    check(&["refund"], "", None);
    check(&["refund"], "   ", None);
    check(&["refund?!"], "a refund", Some(("refund?!", "refund")));
    let matcher = PhraseMatcher::new(&["refund"]);
    let copy = matcher.clone();
    assert_eq!(copy.find("refund"), matcher.find("refund"));
}

#[test]
fn phrase_spans_are_original_byte_ranges() {
    let text = "Èccolo: RIMBORSÒ, perché sì";
    let matcher = PhraseMatcher::new(&["rimborso perche"]);
    let found = matcher.find(text).unwrap();
    assert_eq!(&text[found.span.clone()], "RIMBORSÒ, perché");
    assert_eq!(found.span, 9..27);
}

#[test]
fn phrase_matcher_is_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_send_sync::<PhraseMatcher>();
}

/// `text[span]` and language of the request found in `text`.
fn check_human(text: &str, expected: Option<(&str, Language)>) {
    let found = detect_human_request(text);
    let got = found.as_ref().map(|r| (&text[r.span.clone()], r.language));
    assert_eq!(got, expected, "{text:?}");
}

#[test]
fn human_requests() {
    use Language::{English, Italian};
    check_human("Can I talk to a human?", Some(("talk to a human", English)));
    check_human("HUMAN!!!", Some(("HUMAN", English)));
    check_human("human please", Some(("human please", English)));
    check_human("Operatore", Some(("Operatore", Italian)));
    check_human(
        "operatore per favore",
        Some(("operatore per favore", Italian)),
    );
    check_human(
        "voglio parlare con un operatore",
        Some(("parlare con un operatore", Italian)),
    );
    check_human("mi passi un umano?", Some(("mi passi un umano", Italian)));
    check_human(
        "C'è una persona reale?",
        Some(("C'è una persona reale", Italian)),
    );
    check_human(
        "c e una persona vera",
        Some(("c e una persona vera", Italian)),
    );
    check_human(
        "transfer me to an agent",
        Some(("transfer me to an agent", English)),
    );
    check_human(
        "I need a real person",
        Some(("need a real person", English)),
    );
    check_human(
        "get me customer service",
        Some(("get me customer service", English)),
    );
    check_human(
        "why can't I speak to someone",
        Some(("speak to someone", English)),
    );
    check_human(
        "Non riesco, passatemi un operatore",
        Some(("passatemi un operatore", Italian)),
    );
}

#[test]
fn human_mentions() {
    check_human("", None);
    check_human("the human resources page", None);
    check_human("I am a real estate agent", None);
    check_human("I talked to a person yesterday", None);
    check_human("is your agent an AI?", None);
    check_human("are you a human?", None);
    check_human("la persona che ha ordinato", None);
    check_human("l'agente immobiliare", None);
    check_human("le risorse umane", None);
    check_human("human error", None);
    check_human("I don't need a human", None);
    check_human("I do not want to talk to an agent", None);
    check_human("non voglio un operatore", None);
    check_human("the operator said", None);
    check_human("un errore umano", None);
    check_human("agent smith called", None);
}

struct Labelled {
    line: usize,
    human: bool,
    language: Language,
    text: String,
}

fn labelled_set() -> Vec<Labelled> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/asks_for_human.tsv");
    let data = std::fs::read_to_string(path).unwrap();
    data.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "line {}: {line:?}", i + 1);
            let language = match fields[1] {
                "en" => Language::English,
                "it" => Language::Italian,
                other => panic!("line {}: unknown language {other:?}", i + 1),
            };
            let human = match fields[0] {
                "1" => true,
                "0" => false,
                other => panic!("line {}: unknown label {other:?}", i + 1),
            };
            Labelled {
                line: i + 1,
                human,
                language,
                text: fields[2].to_owned(),
            }
        })
        .collect()
}

#[test]
fn labelled_set_precision_and_recall() {
    let set = labelled_set();
    assert!(set.len() >= 200, "{} labelled lines", set.len());
    let english = set
        .iter()
        .filter(|l| l.language == Language::English)
        .count();
    assert!(
        english * 3 >= set.len() && english * 3 <= set.len() * 2,
        "{english} English"
    );

    let (mut tp, mut fp, mut fn_, mut wrong_language) = (0usize, 0usize, 0usize, 0usize);
    let mut errors = Vec::new();
    for l in &set {
        let found = detect_human_request(&l.text);
        match (&found, l.human) {
            (Some(request), true) => {
                tp += 1;
                if request.language != l.language {
                    wrong_language += 1;
                    errors.push(format!(
                        "line {} wrong language {:?}: {}",
                        l.line, request.language, l.text
                    ));
                }
            }
            (Some(request), false) => {
                fp += 1;
                let words = &l.text[request.span.clone()];
                errors.push(format!(
                    "line {} false positive ({words:?}): {}",
                    l.line, l.text
                ));
            }
            (None, true) => {
                fn_ += 1;
                errors.push(format!("line {} missed: {}", l.line, l.text));
            }
            (None, false) => {}
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    let figures = format!(
        "{} lines: precision {precision:.3} ({tp} true, {fp} false positives), recall {recall:.3} \
         ({fn_} missed), {wrong_language} with the wrong language",
        set.len()
    );
    println!("{figures}");
    assert!(
        precision >= 0.95 && recall >= 0.95 && wrong_language == 0,
        "{figures}\n{}",
        errors.join("\n")
    );
}
