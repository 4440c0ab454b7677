//! A tokenizer for the HTML of mail: text runs, start and end tags, and everything else
//! (comments, doctypes) as opaque tokens, each with the raw text it came from.

/// One token of an HTML body.
#[derive(Debug)]
pub(super) enum Token<'a> {
    Text(&'a str),
    Start(Tag<'a>),
    /// An end tag's lower-case name.
    End(String),
    /// A comment, doctype or processing instruction.
    Other,
}

/// A start tag: its lower-case name and its raw attribute text.
#[derive(Debug)]
pub(super) struct Tag<'a> {
    pub(super) name: String,
    attributes: &'a str,
    pub(super) self_closing: bool,
}

impl<'a> Tag<'a> {
    /// The value of attribute `wanted` (case-insensitive name), without its quotes.
    pub(super) fn attribute(&self, wanted: &str) -> Option<&'a str> {
        let mut rest = self.attributes;
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if rest.is_empty() {
                return None;
            }
            let name_len = rest
                .find(|c: char| c.is_ascii_whitespace() || c == '=')
                .unwrap_or(rest.len());
            let (name, after) = rest.split_at(name_len);
            let after = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
            let (value, next) = match after.strip_prefix('=') {
                Some(value_text) => split_value(value_text.trim_start()),
                None => ("", after),
            };
            if name.eq_ignore_ascii_case(wanted) {
                return Some(value);
            }
            if next.len() == rest.len() {
                // No progress means a stray character; step over it.
                let mut chars = rest.chars();
                chars.next();
                rest = chars.as_str();
            } else {
                rest = next;
            }
        }
    }
}

/// An attribute value (quoted or bare) and the text after it.
fn split_value(text: &str) -> (&str, &str) {
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote) {
            return match inner.find(quote) {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => (inner, ""),
            };
        }
    }
    let end = text
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// The tokens of `html`, each with its raw text.
pub(super) fn tokens(html: &str) -> Tokens<'_> {
    Tokens { rest: html }
}

#[derive(Debug)]
pub(super) struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (Token<'a>, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        let bytes = rest.as_bytes();
        let (token, len) = if bytes.first() == Some(&b'<') {
            markup(rest)
        } else {
            let len = rest.find('<').unwrap_or(rest.len());
            (Token::Text(&rest[..len]), len)
        };
        let (raw, remaining) = rest.split_at(len.min(rest.len()));
        self.rest = remaining;
        Some((token, raw))
    }
}

/// The token at a `<` and its length in bytes (always at least 1, so scanning advances).
fn markup(rest: &str) -> (Token<'_>, usize) {
    let bytes = rest.as_bytes();
    let through = |needle: &str, from: usize| {
        rest.get(from..)
            .and_then(|tail| tail.find(needle))
            .map_or(rest.len(), |i| from + i + needle.len())
    };
    match bytes.get(1) {
        _ if rest.starts_with("<!--") => (Token::Other, through("-->", 4)),
        Some(b'!' | b'?') => (Token::Other, through(">", 1)),
        Some(b'/') => {
            let name = tag_name(rest.get(2..).unwrap_or(""));
            let len = through(">", 2);
            if name.is_empty() {
                (Token::Other, len)
            } else {
                (Token::End(name), len)
            }
        }
        Some(c) if c.is_ascii_alphabetic() => {
            let name = tag_name(&rest[1..]);
            let attributes_start = 1 + name.len();
            let end = tag_end(rest, attributes_start);
            let inside = rest.get(attributes_start..end).unwrap_or("");
            let self_closing = inside.trim_end().ends_with('/');
            let len = if end < rest.len() { end + 1 } else { end };
            let tag = Tag {
                name,
                attributes: inside,
                self_closing,
            };
            (Token::Start(tag), len)
        }
        _ => {
            // A lone `<` is text.
            let len = rest[1..].find('<').map_or(rest.len(), |i| i + 1);
            (Token::Text(&rest[..len]), len)
        }
    }
}

fn tag_name(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ':')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Where the `>` that closes the tag starting at `from` is, outside quoted values; the end
/// of the text when it never closes.
fn tag_end(rest: &str, from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (i, &b) in rest.as_bytes().iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return i,
            None => {}
        }
    }
    rest.len()
}
