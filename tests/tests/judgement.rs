//! The customer agent's judgement through the real binary (B3, B4, B17), with the default
//! triggers on and a live destination: greetings, thanks and closings in five languages
//! get a courteous reply and no handoff; asking for a person in Spanish, French and
//! German hands off as `asks_for_human`; a frustrated visitor hands off as `frustrated`
//! although a knowledge-base passage answers the question, unless that trigger is off.

#![allow(clippy::unwrap_used)]

use baton_e2e::console::{get_page, post_form, signed_in_owner};
use baton_e2e::{AVAILABLE_MSG, Server, StatusCode, scenarios};
use serde_json::{Value, json};

scenarios!(
    closings_get_a_reply_and_no_handoff,
    asking_for_a_person_in_spanish_french_and_german_hands_off,
    frustration_hands_off_even_when_a_passage_matches,
);

/// Sends `text` in a new conversation: the reply, and the handoff reason kind if the
/// conversation was handed off (asserting the handoff message then).
async fn outcome(server: &Server, text: &str) -> (Value, Option<String>) {
    let visitor = server.visitor().await;
    let replies = visitor.say(text).await;
    assert_eq!(replies.len(), 1, "one reply to {text:?}: {replies:?}");
    let reply = replies[0].clone();
    let conversation = visitor.conversation().await;
    match reply["author"].as_str() {
        Some("agent") => {
            assert!(
                conversation["handoff"].is_null(),
                "the agent answered {text:?} but: {conversation}"
            );
            (reply, None)
        }
        Some("system") => {
            assert_eq!(reply["text"], AVAILABLE_MSG, "reply to {text:?}");
            let kind = conversation["handoff"]["reason"]["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("no handoff reason for {text:?}: {conversation}"));
            (reply, Some(kind.to_owned()))
        }
        other => panic!("unexpected reply author {other:?} to {text:?}: {replies:?}"),
    }
}

async fn live(server: &Server) -> Value {
    let (ann, _) = server.agent("Ann", 100).await;
    server.route_to("live", &[ann], &[]).await
}

async fn closings_get_a_reply_and_no_handoff(server: &Server) {
    live(server).await;
    // (message, how the courteous reply starts: in the visitor's language)
    let closings = [
        ("hi there", "Hello!"),
        ("good morning", "Hello!"),
        ("thank you so much!", "You're welcome!"),
        ("ok thanks", "You're welcome!"),
        ("perfect, that's all", "You're welcome."),
        ("that's all, thanks", "You're welcome."),
        ("bye 👋", "You're welcome."),
        ("perfetto, grazie mille", "Prego!"),
        ("grazie mille", "Prego!"),
        ("Buongiorno!", "Ciao!"),
        ("vale, gracias", "¡De nada!"),
        ("Hola", "¡Hola!"),
        ("merci", "Avec plaisir !"),
        ("Merci beaucoup !!", "Avec plaisir !"),
        ("danke", "Gern geschehen!"),
        ("Vielen Dank", "Gern geschehen!"),
    ];
    for (text, starts) in closings {
        let (reply, handoff) = outcome(server, text).await;
        assert_eq!(handoff, None, "{text:?} was handed off");
        let said = reply["text"].as_str().unwrap();
        assert!(said.starts_with(starts), "reply to {text:?}: {said:?}");
    }
    // A greeting with a question is a question: the knowledge base answers it.
    let (reply, handoff) = outcome(server, "hi, how long does shipping take?").await;
    assert_eq!(handoff, None);
    let said = reply["text"].as_str().unwrap();
    assert!(said.contains("2 business days"), "{said}");
}

async fn asking_for_a_person_in_spanish_french_and_german_hands_off(server: &Server) {
    live(server).await;
    for text in [
        "quiero hablar con una persona",
        "je voudrais parler à un conseiller",
        "ich möchte mit einem Menschen sprechen",
    ] {
        let (_, handoff) = outcome(server, text).await;
        assert_eq!(handoff.as_deref(), Some("asks_for_human"), "{text}");
    }
    // Mentions are not requests: the knowledge base answers.
    for text in [
        "Trabajo en recursos humanos, ¿cuánto tarda el envío?",
        "Je suis agent immobilier : combien de temps prend la livraison ?",
        "Ich arbeite in der Personalabteilung. Wie lange dauert der Versand?",
    ] {
        let (_, handoff) = outcome(server, text).await;
        assert_ne!(handoff.as_deref(), Some("asks_for_human"), "{text}");
    }
}

const FRUSTRATED: &str = "You're not helping! How long does shipping take?";

async fn simulate(server: &Server, body: Value) -> Value {
    let (status, result) = server.post("/api/v1/handoff/simulate", body).await;
    assert_eq!(status, StatusCode::OK, "simulate: {result}");
    result
}

async fn frustration_hands_off_even_when_a_passage_matches(server: &Server) {
    let settings = live(server).await;
    // The settings document and the API description name the new default trigger; the
    // test harness PUT a document without it, which kept the default (on).
    assert_eq!(
        settings["default_triggers"]["frustrated"], true,
        "{settings}"
    );
    let (status, openapi) = server.get_text("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(openapi.contains("frustrated"), "/openapi.json");

    // Without the trigger, a passage answers the question in the message...
    let mut off = settings.clone();
    off["default_triggers"]["frustrated"] = json!(false);
    if let Some(map) = off.as_object_mut() {
        map.remove("version");
    }
    let answered = simulate(
        server,
        json!({"channel": "chat", "text": FRUSTRATED, "settings": off}),
    )
    .await;
    assert_eq!(answered["handoff"], false, "{answered}");
    assert!(
        answered["reply"]
            .as_str()
            .is_some_and(|r| r.contains("2 business days")),
        "{answered}"
    );

    // ...with it (the default), the visitor goes to a person, and simulate says why.
    let simulated = simulate(server, json!({"channel": "chat", "text": FRUSTRATED})).await;
    assert_eq!(simulated["handoff"], true, "{simulated}");
    assert_eq!(simulated["trigger"]["kind"], "frustrated", "{simulated}");
    assert_eq!(
        simulated["trigger"]["matched"], "not helping",
        "{simulated}"
    );
    assert!(
        simulated["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("frustrated")),
        "{simulated}"
    );

    for text in [
        FRUSTRATED,
        "I already asked this three times, how long does shipping take?",
        "non mi stai aiutando",
        "das hilft mir nicht",
    ] {
        let (_, handoff) = outcome(server, text).await;
        assert_eq!(handoff.as_deref(), Some("frustrated"), "{text}");
    }
    let audit = server.audit(50).await;
    assert!(
        audit
            .iter()
            .any(|row| row.to_string().contains("frustrated")),
        "the audit names the trigger: {audit:?}"
    );

    // The console's handoff page offers the trigger as a labelled checkbox, on, and its
    // "try a message" box names the trigger kind.
    let cookie = signed_in_owner(server).await;
    let page = get_page(server, "/console/agent/handoff", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    let checkbox = r#"<label class="choice"><input type="checkbox" name="frustrated" checked><span>The visitor is frustrated"#;
    assert!(page.contains(checkbox), "{page}");
    let tried = post_form(
        server,
        "/console/agent/handoff/try",
        Some(&cookie),
        &[("text", FRUSTRATED)],
    )
    .await;
    assert_eq!(tried.status(), StatusCode::OK);
    let html = tried.text().await.unwrap();
    assert!(html.contains("Hands off to a human"), "{html}");
    assert!(html.contains("frustrated"), "{html}");

    // Switched off for real: the same message is answered, and the choice is kept.
    let saved = server.put_settings(off).await;
    assert_eq!(saved["default_triggers"]["frustrated"], false, "{saved}");
    assert_eq!(
        server.settings().await["default_triggers"]["frustrated"],
        false
    );
    let (reply, handoff) = outcome(server, FRUSTRATED).await;
    assert_eq!(handoff, None);
    assert!(
        reply["text"].as_str().unwrap().contains("2 business days"),
        "{reply}"
    );
}
