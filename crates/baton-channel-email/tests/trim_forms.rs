//! Reply forms the corpus does not cover: attribution lines in each language the channel
//! serves, wrapped over two lines, forwarded headers in several languages, mobile footers.

use baton_channel_email::trim::new_text;

fn trimmed(history: &str) -> String {
    new_text(&format!(
        "Thanks, that helps.\n\n{history}\n> old text\n> more old text\n"
    ))
}

#[test]
fn attribution_lines_in_several_languages() {
    for attribution in [
        "On Tue, 3 Mar 2026 at 10:30, Support <support@example.test> wrote:",
        "Il giorno mar 3 mar 2026 alle ore 10:30 Support <support@example.test> ha scritto:",
        "El mar, 3 mar 2026 a las 10:30, Support (<support@example.test>) escribió:",
        "Le mar. 3 mars 2026 à 10:30, Support <support@example.test> a écrit :",
        "Am Di., 3. März 2026 um 10:30 Uhr schrieb Support <support@example.test>:",
        "Em ter., 3 de mar. de 2026 às 10:30, Support <support@example.test> escreveu:",
        "Op di 3 mrt 2026 om 10:30 schreef Support <support@example.test>:",
        "Op 3 mrt. 2026 om 10:30 heeft Support <support@example.test> het volgende geschreven:",
    ] {
        assert_eq!(trimmed(attribution), "Thanks, that helps.", "{attribution}");
    }
}

#[test]
fn attribution_lines_wrapped_over_two_lines() {
    for attribution in [
        "On Tue, 3 Mar 2026 at 10:30, Support <support@example.test>\nwrote:",
        "Il giorno mar 3 mar 2026 alle ore 10:30 Support <\nsupport@example.test> ha scritto:",
        "El mar, 3 mar 2026 a las 10:30, Support\n(<support@example.test>) escribió:",
        "Le mar. 3 mars 2026 à 10:30, Support <support@example.test> a\nécrit :",
        "Am Di., 3. März 2026 um 10:30 Uhr schrieb Support <\nsupport@example.test>:",
        "Em ter., 3 de mar. de 2026 às 10:30, Support <support@example.test>\nescreveu:",
        "Op di 3 mrt 2026 om 10:30 schreef Support <\nsupport@example.test>:",
    ] {
        assert_eq!(trimmed(attribution), "Thanks, that helps.", "{attribution}");
    }
}

#[test]
fn forwarded_headers_in_several_languages() {
    for header in [
        "-----Original Message-----\nFrom: Support\nSent: Tuesday\nTo: Ann\nSubject: Order",
        "________________________________\nDe : Support\nEnvoyé : mardi\nÀ : Ann\nObjet : Commande",
        "Von: Support\nGesendet: Dienstag\nAn: Ann\nBetreff: Bestellung",
        "Da: Support\nInviato: martedì\nA: Ann\nOggetto: Ordine",
        "De: Support\nEnviado el: martes\nPara: Ann\nAsunto: Pedido",
        "Van: Support\nVerzonden: dinsdag\nAan: Ann\nOnderwerp: Bestelling",
        "---------- Forwarded message ---------\nFrom: Support\nDate: Tue\nSubject: Order\nTo: Ann",
        "-----Mensagem original-----\nDe: Support\nEnviada em: terça\nPara: Ann\nAssunto: Pedido",
    ] {
        assert_eq!(trimmed(header), "Thanks, that helps.", "{header}");
    }
}

#[test]
fn signatures_and_mobile_footers() {
    for footer in [
        "-- \nAnn Example\nCustomer Corp",
        "Sent from my iPhone",
        "Envoyé de mon iPhone",
        "Inviato da iPhone",
        "Enviado desde mi iPhone",
        "Von meinem iPhone gesendet",
        "Verzonden vanaf mijn iPhone",
        "Get Outlook for Android",
    ] {
        assert_eq!(trimmed(footer), "Thanks, that helps.", "{footer}");
    }
}

#[test]
fn an_interleaved_reply_keeps_its_answers() {
    let text = "Answers below.\n\nOn Tue, 3 Mar 2026, Support <s@example.test> wrote:\n\
                > Which order?\n\nNumber 4711.\n\n> Which colour?\n\nBlue.\n";
    assert_eq!(
        new_text(text),
        "Answers below.\n\n> Which order?\n\nNumber 4711.\n\n> Which colour?\n\nBlue."
    );
    // Opening with the attribution, the quote is dropped: the corpus's replies that answer
    // below a leading quote want only the answer.
    let below =
        "On Tue, 3 Mar 2026, Support <s@example.test> wrote:\n> Which order?\n\nNumber 4711.\n";
    assert_eq!(new_text(below), "Number 4711.");
}

#[test]
fn text_that_only_looks_like_markers_stays() {
    let text = "On Monday I will be in the office.\nThe price is 5 -- or less.\n\
                From: the warehouse, to: you.\n";
    assert_eq!(new_text(text), text.trim_end());
}

#[test]
fn stacked_attributions_above_a_long_quote_are_read_once() {
    // Each quoted attribution heads the same long quote; rescanning it for each one would
    // be quadratic in the mail's size.
    let mut text = String::from("Hi\n");
    for _ in 0..50_000 {
        text.push_str("> On 1 Mar 2026, Ann <a@b.test> wrote:\n");
    }
    text.push_str("> the question\nMy answer.\n");
    assert_eq!(new_text(&text), "Hi\n> the question\nMy answer.");
}
