//! The bounce corpus (`../shared/corpora/email/bounces`): real delivery status notifications
//! from many mail servers and RFC 3834 auto-replies. None may ever classify as human.

use std::path::PathBuf;

use baton_channel_email::{Kind, Ours, ParseOptions, classify, parse};

/// How many bounces must yield the Message-ID of the message they return. Of the 24, three
/// cannot: two Postfix ones return an empty `message/rfc822` part, and the qmail one returns
/// a message that had no Message-ID.
const ORIGINAL_ID_FLOOR: usize = 21;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/email/bounces")
}

#[test]
fn no_bounce_or_auto_reply_classifies_as_human() {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .expect("the corpus beside the repository")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".eml"))
        .collect();
    names.sort();
    assert!(names.len() >= 26, "{} files", names.len());

    let ours = Ours {
        message_id_domains: vec!["support.example.test".to_owned()],
    };
    let (mut bounces, mut with_original) = (0, 0);
    let mut wrong = Vec::new();
    for name in &names {
        let raw = std::fs::read(corpus().join(name)).expect("read");
        let mail = parse(&raw, &ParseOptions::default()).expect(name);
        let class = classify(&mail, &ours);
        eprintln!(
            "{name}: {:?} ({}) original {:?}",
            class.kind, class.reason, class.original_message_id
        );
        match class.kind {
            Kind::Bounce => {
                bounces += 1;
                with_original += usize::from(class.original_message_id.is_some());
            }
            Kind::AutoReply => {}
            other => wrong.push(format!("{name}: {other:?} ({})", class.reason)),
        }
        if name.starts_with("rfc3834") {
            assert_eq!(class.kind, Kind::AutoReply, "{name}: {}", class.reason);
        } else {
            assert_eq!(class.kind, Kind::Bounce, "{name}: {}", class.reason);
        }
    }
    eprintln!("bounces: {with_original} of {bounces} yield the original Message-ID");
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(
        with_original >= ORIGINAL_ID_FLOOR,
        "{with_original} of {bounces} bounces yield the original Message-ID"
    );
}
