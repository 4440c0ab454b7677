//! Hand-written mails (tests/data) through parse, trim and classify: the quoting of each
//! common client, HTML-only mail, legacy charsets, a missing Message-ID, a large attachment.

use std::path::PathBuf;

use baton_channel_email::{InboundMail, Kind, Ours, ParseError, ParseOptions, classify, parse};

fn raw(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn mail(name: &str) -> InboundMail {
    parse(&raw(name), &ParseOptions::default()).expect(name)
}

fn ours() -> Ours {
    Ours {
        message_id_domains: vec!["example.test".to_owned()],
    }
}

#[test]
fn a_plain_human_mail() {
    let mail = mail("plain-human.eml");
    assert_eq!(mail.message_id, "plain-1@customer.test");
    assert!(!mail.message_id_derived);
    let from = mail.from.as_ref().expect("from");
    assert_eq!(from.address.as_deref(), Some("ann@customer.test"));
    assert_eq!(from.name.as_deref(), Some("Ann Example"));
    assert_eq!(mail.to.len(), 1);
    assert_eq!(mail.subject.as_deref(), Some("My order has not arrived"));
    assert_eq!(
        mail.date.map(|d| d.to_rfc3339()).as_deref(),
        Some("2026-03-03T09:15:00+00:00")
    );
    assert!(mail.text.contains("Customer Corp"), "staff see it all");
    assert_eq!(
        mail.new_text,
        "Hello,\n\norder 4711 has not arrived yet. Can you check?\n\nThanks,\nAnn"
    );
    let class = classify(&mail, &ours());
    assert_eq!(class.kind, Kind::Human, "{}", class.reason);
}

#[test]
fn a_gmail_reply_loses_its_quote_and_keeps_its_thread() {
    let mail = mail("gmail-reply.eml");
    assert_eq!(
        mail.new_text,
        "It still does not work, I want to talk to a person."
    );
    assert!(mail.text.contains("Have you tried restarting it?"));
    assert_eq!(mail.in_reply_to.as_deref(), Some("reply-1@example.test"));
    assert_eq!(
        mail.references,
        ["first-1@customer.test", "reply-1@example.test"]
    );
    assert_eq!(classify(&mail, &ours()).kind, Kind::Human);
}

#[test]
fn an_outlook_reply_is_cut_at_its_reply_header() {
    let mail = mail("outlook-reply.eml");
    assert_eq!(mail.new_text, "Thanks, the invoice is fine now.\n\nBob");
    assert!(
        mail.text.contains("We corrected the invoice"),
        "{}",
        mail.text
    );
    assert!(
        !mail.text.contains("MsoNormal"),
        "style dropped: {}",
        mail.text
    );

    let desktop = self::mail("outlook-desktop-reply.eml");
    assert_eq!(desktop.new_text, "Danke, passt so.");
}

#[test]
fn an_apple_mail_reply_loses_its_cite_blockquote_and_attribution() {
    let mail = mail("apple-mail-reply.eml");
    assert_eq!(
        mail.new_text,
        "The link has expired, can you send a new one?"
    );
    assert!(
        mail.text.contains("> Here is your reset link."),
        "{}",
        mail.text
    );
}

#[test]
fn a_thunderbird_reply_loses_its_cite_prefix_and_blockquote() {
    let mail = mail("thunderbird-reply.eml");
    assert_eq!(mail.new_text, "Please reopen my account.");
    assert!(mail.text.contains("> Your account was closed."));
}

#[test]
fn an_html_only_newsletter_is_readable_text_and_a_mailing_list() {
    let mail = mail("newsletter-list.eml");
    assert_eq!(
        mail.text,
        "Spring sale\n\nEverything −20% & free shipping €\n\n- Shoes\n- Café cups\n\nLine one\nLine two"
    );
    let class = classify(&mail, &ours());
    assert_eq!(class.kind, Kind::MailingList);
    assert!(class.reason.contains("List-Id"), "{}", class.reason);
}

#[test]
fn a_mail_without_message_id_gets_the_same_derived_one_every_time() {
    let first = mail("no-message-id.eml");
    let again = mail("no-message-id.eml");
    assert!(first.message_id_derived);
    assert_eq!(first.message_id, again.message_id);
    let (hash, domain) = first.message_id.split_once('@').expect("an id");
    assert_eq!(domain, "baton.invalid");
    assert_eq!(hash.len(), 64);

    let mut changed = raw("no-message-id.eml");
    changed.extend_from_slice(b"One more line.\r\n");
    let other = parse(&changed, &ParseOptions::default()).expect("parse");
    assert_ne!(other.message_id, first.message_id);
}

#[test]
fn legacy_charsets_are_decoded() {
    let latin = mail("iso-8859-1.eml");
    assert_eq!(latin.subject.as_deref(), Some("Grüße aus München"));
    let from = latin.from.as_ref().and_then(|f| f.name.as_deref());
    assert_eq!(from, Some("Jürgen Müller"));
    assert_eq!(
        latin.new_text,
        "Grüße, die Bestellung ist fehlerhaft: Größe M statt L. Ça va?"
    );

    let windows = mail("windows-1252-qp.eml");
    assert_eq!(
        windows.new_text,
        "The price was €50 – not “free” as promised. Crème brûlée."
    );
}

#[test]
fn an_attachment_over_the_limit_keeps_its_metadata_only() {
    let options = ParseOptions {
        max_attachment_bytes: 1024,
        ..ParseOptions::default()
    };
    let mail = parse(&raw("large-attachment.eml"), &options).expect("parse");
    assert_eq!(mail.new_text, "See the screenshot and the log.");
    assert_eq!(mail.attachments.len(), 2, "{:?}", mail.attachments);

    let screen = &mail.attachments[0];
    assert_eq!(screen.name.as_deref(), Some("screen.png"));
    assert_eq!(screen.content_type, "image/png");
    assert_eq!(screen.size, 4096);
    assert_eq!(screen.content, None, "over the limit");

    let log = &mail.attachments[1];
    assert_eq!(log.name.as_deref(), Some("log.txt"));
    assert_eq!(log.content_type, "text/plain");
    assert_eq!(log.content.as_deref(), Some(&b"error 42"[..]));
}

#[test]
fn a_message_over_the_size_cap_is_refused() {
    let options = ParseOptions {
        max_message_bytes: 1000,
        ..ParseOptions::default()
    };
    let err = parse(&raw("large-attachment.eml"), &options).expect_err("too large");
    assert!(
        matches!(err, ParseError::TooLarge { limit: 1000, .. }),
        "{err}"
    );
}

#[test]
fn inputs_that_once_crashed_the_fuzzer_are_handled() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/data") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.starts_with("fuzz-") {
            continue;
        }
        seen += 1;
        let bytes = std::fs::read(&path).expect("read");
        if let Ok(mail) = parse(&bytes, &ParseOptions::default()) {
            let _ = classify(&mail, &ours());
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = baton_channel_email::trim::new_text(&text);
        let _ = baton_channel_email::html::to_text(&text);
    }
    assert!(seen >= 1, "the regression inputs are in tests/data");
}
