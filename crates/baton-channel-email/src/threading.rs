//! How mail finds its conversation and how ours says which it belongs to: our
//! Message-IDs, the per-conversation reply address (`support+c123@…`) and the subject tag
//! (`[#c123]`). Pure.

use std::sync::LazyLock;

use regex::Regex;

/// Our Message-ID (bare) for outbox message `message` of conversation `conversation`:
/// the same on every attempt, so a retried send is the same mail.
pub fn our_message_id(conversation: i64, message: i64, domain: &str) -> String {
    format!("baton.c{conversation}.m{message}@{domain}")
}

/// The conversation one of our Message-IDs names, when it is ours.
pub fn conversation_of_our_id(id: &str, domain: &str) -> Option<i64> {
    let (local, id_domain) = id.rsplit_once('@')?;
    if !id_domain.eq_ignore_ascii_case(domain) {
        return None;
    }
    let rest = local.strip_prefix("baton.c")?;
    let (conversation, _) = rest.split_once(".m")?;
    conversation.parse().ok()
}

/// `support+c123@example.test` for `support@example.test`: replies to it reach
/// conversation 123 even when a client drops In-Reply-To and References.
pub fn reply_address(address: &str, conversation: i64) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}+c{conversation}@{domain}"),
        None => address.to_owned(),
    }
}

/// The conversation a recipient address names: `support+c123@…` of our `address`.
pub fn conversation_of_address(recipient: &str, address: &str) -> Option<i64> {
    let (local, domain) = recipient.rsplit_once('@')?;
    let (our_local, our_domain) = address.rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case(our_domain) {
        return None;
    }
    let (base, tag) = local.split_once('+')?;
    if !base.eq_ignore_ascii_case(our_local) {
        return None;
    }
    tag.strip_prefix('c')?.parse().ok()
}

static SUBJECT_TAG: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern: a typo fails every test run.
    Regex::new(r"\[#c(\d{1,18})\]").expect("a valid constant pattern")
});

/// The conversation a subject's `[#c123]` tag names.
pub fn conversation_of_subject(subject: &str) -> Option<i64> {
    SUBJECT_TAG
        .captures(subject)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok())
}

static REPLY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:(?:re|aw|sv|vs|r|rif|antw|res|ref)\s*(?:\[\d+\])?\s*:\s*)+")
        .expect("a valid constant pattern")
});

/// The subject of our mail in a thread: `Re: ` once, the thread's subject, its tag once.
pub fn reply_subject(subject: &str, conversation: i64) -> String {
    let base = REPLY_PREFIX.replace(subject, "");
    let base = base.trim();
    let tag = format!("[#c{conversation}]");
    let base = if base.is_empty() {
        "Your message".to_owned()
    } else {
        base.to_owned()
    };
    if base.contains(&tag) {
        format!("Re: {base}")
    } else {
        format!("Re: {base} {tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_ids_name_their_conversation() {
        let id = our_message_id(12, 34, "example.test");
        assert_eq!(id, "baton.c12.m34@example.test");
        assert_eq!(conversation_of_our_id(&id, "EXAMPLE.test"), Some(12));
        assert_eq!(conversation_of_our_id(&id, "other.test"), None);
        assert_eq!(
            conversation_of_our_id("abc@example.test", "example.test"),
            None
        );
    }

    #[test]
    fn reply_addresses_round_trip() {
        let address = reply_address("support@example.test", 123);
        assert_eq!(address, "support+c123@example.test");
        assert_eq!(
            conversation_of_address(&address, "support@example.test"),
            Some(123)
        );
        assert_eq!(
            conversation_of_address("support@example.test", "support@example.test"),
            None
        );
        assert_eq!(
            conversation_of_address("sales+c1@example.test", "support@example.test"),
            None
        );
    }

    #[test]
    fn subjects_keep_one_prefix_and_one_tag() {
        assert_eq!(reply_subject("Order 5", 7), "Re: Order 5 [#c7]");
        assert_eq!(
            reply_subject("RE: Aw: Order 5 [#c7]", 7),
            "Re: Order 5 [#c7]"
        );
        assert_eq!(reply_subject("", 7), "Re: Your message [#c7]");
        assert_eq!(conversation_of_subject("Re: Order 5 [#c7]"), Some(7));
        assert_eq!(conversation_of_subject("Order 5"), None);
    }
}
