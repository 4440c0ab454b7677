//! Header fields read out of text: the `text/rfc822-headers` part of a bounce, the fields
//! of a delivery-status part, or the original headers a bounce quotes in its body.

/// The message id in the first field called `name` (case-insensitive) in `text`, folded
/// continuation lines included: what is inside its angle brackets, else its first word.
pub(crate) fn message_id_field(text: &str, name: &str) -> Option<String> {
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        if !field.trim().eq_ignore_ascii_case(name) {
            continue;
        }
        let mut value = value.trim().to_owned();
        while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
            value.push_str(next.trim());
        }
        if let Some(id) = bare_id(&value) {
            return Some(id);
        }
    }
    None
}

/// A message id without its angle brackets and surrounding space, if it has one.
pub(crate) fn bare_id(value: &str) -> Option<String> {
    let inner = match value.split_once('<') {
        Some((_, after)) => after.split_once('>').map(|(id, _)| id)?,
        None => value.split_whitespace().next()?,
    };
    let id = inner.trim();
    (!id.is_empty() && id.contains('@') && !id.contains(char::is_whitespace)).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_folded_and_bracketed_ids() {
        let text = "Subject: x\nMessage-ID:\n <abc@example.test>\nTo: y\n";
        assert_eq!(
            message_id_field(text, "message-id").as_deref(),
            Some("abc@example.test")
        );
        assert_eq!(
            message_id_field("Message-Id: <broken@x", "message-id"),
            None
        );
        assert_eq!(message_id_field("nothing here", "message-id"), None);
    }
}
