//! Classification signal by signal, on small mails built here: each header and subject form
//! that makes a mail automatic, a bounce, a list or our own, and what stays human.

use baton_channel_email::{Kind, LOOP_HEADER, Ours, ParseOptions, classify, parse};

fn kind_of(headers: &str) -> (Kind, String) {
    let raw = format!(
        "From: Ann <ann@customer.test>\r\nTo: support@example.test\r\n\
         Message-ID: <m1@customer.test>\r\n{headers}\r\n\r\nHello\r\n"
    );
    let mail = parse(raw.as_bytes(), &ParseOptions::default()).expect("parse");
    let ours = Ours {
        message_id_domains: vec!["example.test".to_owned()],
    };
    let class = classify(&mail, &ours);
    (class.kind, class.reason)
}

#[test]
fn plain_mail_is_human() {
    assert_eq!(kind_of("Subject: Where is my order?").0, Kind::Human);
    assert_eq!(kind_of("Auto-Submitted: no").0, Kind::Human);
    assert_eq!(
        kind_of("Subject: Absence of a refund is a problem").0,
        Kind::Human
    );
    assert_eq!(
        kind_of("Subject: Re: automatic replies in your product").0,
        Kind::Human
    );
}

#[test]
fn automatic_reply_headers() {
    for header in [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: list",
        "X-Auto-Response-Suppress: All",
    ] {
        let (kind, reason) = kind_of(header);
        assert_eq!(kind, Kind::AutoReply, "{header}: {reason}");
    }
}

#[test]
fn automatic_reply_subjects_in_several_languages() {
    for subject in [
        "Out of Office: Re: order",
        "Automatic reply: order",
        "Auto: order",
        "Abwesenheitsnotiz: Bestellung",
        "Automatische Antwort: Bestellung",
        "Risposta automatica: ordine",
        "Respuesta automática: pedido",
        "Réponse automatique : commande",
        "Absence du bureau",
        "Automatisch antwoord: bestelling",
        "Resposta automática: pedido",
    ] {
        let (kind, reason) = kind_of(&format!("Subject: {subject}"));
        assert_eq!(kind, Kind::AutoReply, "{subject}: {reason}");
    }
}

#[test]
fn bounce_signals() {
    let (kind, reason) = kind_of("Return-Path: <>");
    assert_eq!(kind, Kind::Bounce, "{reason}");
    let raw = "From: MAILER-DAEMON@mx.example.net\r\nSubject: failure notice\r\n\r\n\
               Sorry.\r\n\r\n--- Below this line is a copy of the message.\r\n\r\n\
               Message-ID: <sent-7@example.test>\r\nSubject: Hi\r\n\r\nHi\r\n";
    let mail = parse(raw.as_bytes(), &ParseOptions::default()).expect("parse");
    let class = classify(&mail, &Ours::default());
    assert_eq!(class.kind, Kind::Bounce);
    assert_eq!(
        class.original_message_id.as_deref(),
        Some("sent-7@example.test")
    );
}

#[test]
fn a_delivery_status_report_yields_the_returned_message_id() {
    let raw = "From: Mail Delivery System <daemon@mx.example.net>\r\n\
        Subject: Delivery failure\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n\
        --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n\
        Final-Recipient: rfc822; x@y.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\
        --b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@example.test\r\n\
        Message-ID:\r\n <answer-9@example.test>\r\nSubject: Re: order\r\n--b--\r\n";
    let mail = parse(raw.as_bytes(), &ParseOptions::default()).expect("parse");
    let class = classify(&mail, &Ours::default());
    assert_eq!(class.kind, Kind::Bounce, "{}", class.reason);
    assert_eq!(
        class.original_message_id.as_deref(),
        Some("answer-9@example.test")
    );
}

#[test]
fn mailing_lists() {
    assert_eq!(kind_of("List-Id: <news.shop.test>").0, Kind::MailingList);
    assert_eq!(
        kind_of("List-Unsubscribe: <mailto:u@shop.test>").0,
        Kind::MailingList
    );
}

#[test]
fn our_own_mail() {
    let (kind, reason) = kind_of(&format!("{LOOP_HEADER}: support@example.test"));
    assert_eq!(kind, Kind::Ours, "{reason}");

    let raw = "From: support@example.test\r\nMessage-ID: <c12.3@EXAMPLE.test>\r\n\r\nHi\r\n";
    let mail = parse(raw.as_bytes(), &ParseOptions::default()).expect("parse");
    let ours = Ours {
        message_id_domains: vec!["example.test".to_owned()],
    };
    assert_eq!(classify(&mail, &ours).kind, Kind::Ours);
    assert_eq!(classify(&mail, &Ours::default()).kind, Kind::Human);
}
