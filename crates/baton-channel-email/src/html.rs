//! HTML mail bodies: the quote containers of the common clients removed, and the rest
//! turned into readable text.
//!
//! A hand-written tag scanner, not a DOM: both jobs need only tag boundaries, a few
//! attributes and the nesting of one element name, and a scanner over the bytes is linear,
//! allocation-light and cannot be made to recurse by hostile nesting. An HTML5 tree builder
//! (html5ever, scraper) would bring a large dependency tree for nothing we use, and the
//! light DOM crates add a dependency without making malformed mail any safer to walk.
//! Slicing happens only at the ASCII bytes `<` and `>`, which are always char boundaries.

mod entities;
mod scan;

use scan::{Tag, Token, tokens};

/// Elements whose content is never text a reader sees.
const HIDDEN: &[&str] = &["style", "script", "head", "title", "noscript", "template"];

/// Elements that start and end a line.
const BLOCKS: &[&str] = &[
    "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre", "section",
    "article", "header", "footer", "dl", "dt", "dd", "address", "center", "form",
];

/// Elements that never have an end tag, so never open a nesting level.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// What to do with a quote container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    /// Drop the element and what it holds (Gmail, Apple Mail, Thunderbird).
    Element,
    /// Drop everything from here to the end (Outlook puts the history after its marker,
    /// not inside it).
    Rest,
}

fn container(tag: &Tag<'_>) -> Option<Container> {
    let name = tag.name.as_str();
    let class_has = |wanted: &str| {
        tag.attribute("class")
            .is_some_and(|class| class.split_ascii_whitespace().any(|c| c == wanted))
    };
    let id_is = |wanted: &str| {
        tag.attribute("id")
            .is_some_and(|id| id.eq_ignore_ascii_case(wanted))
    };
    if id_is("divRplyFwdMsg") || id_is("appendonsend") || id_is("OLK_SRC_BODY_SECTION") {
        return Some(Container::Rest);
    }
    if let Some(style) = tag.attribute("style") {
        let compact: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if compact.contains("border-top:solid#e1e1e1") {
            return Some(Container::Rest);
        }
    }
    let quote = (matches!(name, "div" | "blockquote") && class_has("gmail_quote"))
        || (name == "blockquote"
            && tag
                .attribute("type")
                .is_some_and(|t| t.eq_ignore_ascii_case("cite")))
        || (name == "div" && (class_has("moz-cite-prefix") || class_has("yahoo_quoted")));
    quote.then_some(Container::Element)
}

/// `html` without the quote containers of Gmail, Outlook, Apple Mail and Thunderbird, or
/// `None` when it has none (the caller then trims the plain text instead).
pub fn strip_quotes(html: &str) -> Option<String> {
    let mut out = String::with_capacity(html.len());
    let mut found = false;
    let mut skipping: Option<(String, usize)> = None;
    for (token, raw) in tokens(html) {
        if let Some((name, depth)) = skipping.as_mut() {
            match &token {
                Token::Start(tag) if tag.name == *name && !tag.self_closing => *depth += 1,
                Token::End(end) if end == name => {
                    *depth -= 1;
                    if *depth == 0 {
                        skipping = None;
                    }
                }
                _ => {}
            }
            continue;
        }
        if let Token::Start(tag) = &token {
            match container(tag) {
                Some(Container::Rest) => return Some(out),
                Some(Container::Element) => {
                    found = true;
                    if !tag.self_closing && !VOID.contains(&tag.name.as_str()) {
                        skipping = Some((tag.name.clone(), 1));
                    }
                    continue;
                }
                None => {}
            }
        }
        out.push_str(raw);
    }
    found.then_some(out)
}

/// Builds text a line at a time: collapses HTML whitespace, keeps at most one blank line,
/// and prefixes lines inside `<blockquote>` with `> ` so the text trimmer sees the quote.
#[derive(Debug, Default)]
struct Text {
    out: String,
    newlines: usize,
    space: bool,
    quote_depth: usize,
}

impl Text {
    fn line_break(&mut self, count: usize) {
        self.newlines = self.newlines.max(count);
        self.space = false;
    }

    fn push(&mut self, text: &str, preformatted: bool) {
        for c in text.chars() {
            if preformatted && c == '\n' {
                self.newlines += 1;
                continue;
            }
            if !preformatted && c.is_whitespace() && c != '\u{a0}' {
                self.space = true;
                continue;
            }
            self.push_char(if c == '\u{a0}' { ' ' } else { c });
        }
    }

    fn push_char(&mut self, c: char) {
        if self.newlines > 0 {
            if !self.out.is_empty() {
                for _ in 0..self.newlines.min(2) {
                    self.out.push('\n');
                }
            }
            self.newlines = 0;
            self.space = false;
            for _ in 0..self.quote_depth {
                self.out.push_str("> ");
            }
        } else if self.space && !self.out.is_empty() && !self.out.ends_with(['\n', ' ']) {
            self.out.push(' ');
        }
        self.space = false;
        self.out.push(c);
    }

    fn finish(self) -> String {
        let lines: Vec<&str> = self.out.lines().map(str::trim_end).collect();
        lines.join("\n").trim().to_owned()
    }
}

/// Readable text of an HTML body: hidden elements dropped, a line for each `<br>`, block
/// and list item, entities decoded.
pub fn to_text(html: &str) -> String {
    let mut text = Text::default();
    let mut hidden: Option<(String, usize)> = None;
    let mut preformatted = 0usize;
    for (token, _) in tokens(html) {
        if let Some((name, depth)) = hidden.as_mut() {
            match &token {
                Token::Start(tag) if tag.name == *name && !tag.self_closing => *depth += 1,
                Token::End(end) if end == name => {
                    *depth -= 1;
                    if *depth == 0 {
                        hidden = None;
                    }
                }
                _ => {}
            }
            continue;
        }
        match token {
            Token::Text(raw) => text.push(&entities::decode(raw), preformatted > 0),
            Token::Start(tag) => {
                let name = tag.name.as_str();
                if HIDDEN.contains(&name) {
                    if !tag.self_closing {
                        hidden = Some((tag.name.clone(), 1));
                    }
                } else if name == "br" {
                    text.newlines += 1;
                    text.space = false;
                } else if name == "li" {
                    text.line_break(1);
                    text.push_char('-');
                    text.push_char(' ');
                } else if name == "blockquote" {
                    text.line_break(2);
                    text.quote_depth = text.quote_depth.saturating_add(1);
                } else if name == "hr" {
                    text.line_break(2);
                } else if name == "td" || name == "th" {
                    text.space = true;
                } else if name == "p" {
                    text.line_break(2);
                } else if BLOCKS.contains(&name) {
                    text.line_break(1);
                    if name == "pre" {
                        preformatted += 1;
                    }
                }
            }
            Token::Other => {}
            Token::End(name) => {
                let name = name.as_str();
                if name == "blockquote" {
                    text.quote_depth = text.quote_depth.saturating_sub(1);
                    text.line_break(2);
                } else if name == "p" {
                    text.line_break(2);
                } else if name == "li" || BLOCKS.contains(&name) {
                    text.line_break(1);
                    if name == "pre" {
                        preformatted = preformatted.saturating_sub(1);
                    }
                }
            }
        }
    }
    text.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_style_and_script_and_keeps_line_breaks() {
        let html = "<html><head><style>p { color: red }</style></head><body>\
            <p>Hello&nbsp;there,</p><div>line&amp;one<br>line two</div>\
            <script>alert('x')</script><ul><li>first</li><li>second &#233;&#x20AC;</li></ul>\
            </body></html>";
        assert_eq!(
            to_text(html),
            "Hello there,\n\nline&one\nline two\n- first\n- second é€"
        );
    }

    #[test]
    fn quotes_blockquotes() {
        let html = "<div>Yes.</div><blockquote><div>Will it work?</div></blockquote>";
        assert_eq!(to_text(html), "Yes.\n\n> Will it work?");
    }

    #[test]
    fn removes_a_gmail_quote_with_nested_divs() {
        let html = "<div dir=\"ltr\">Thanks!</div><br><div class=\"gmail_quote\"><div \
            dir=\"ltr\" class=\"gmail_attr\">On Mon, Ann wrote:<br></div><blockquote \
            class=\"gmail_quote\"><div>old</div></blockquote></div><div>after</div>";
        let stripped = strip_quotes(html).expect("a Gmail quote");
        assert_eq!(to_text(&stripped), "Thanks!\n\nafter");
    }

    #[test]
    fn cuts_at_the_outlook_separator() {
        let html = "<p>New</p><div style=\"border:none;border-top:solid #E1E1E1 1.0pt;\
            padding:3.0pt 0in 0in 0in\"><p><b>From:</b> Ann</p></div><p>old</p>";
        assert_eq!(to_text(&strip_quotes(html).expect("outlook")), "New");
    }

    #[test]
    fn leaves_html_without_containers_alone() {
        assert_eq!(strip_quotes("<p>plain</p>"), None);
    }

    #[test]
    fn survives_broken_markup() {
        for html in [
            "<",
            "<<>>",
            "<div",
            "</",
            "<!--",
            "<a href='>",
            "&#xFFFFFFFF;",
            "&#0;",
            "&",
            "<blockquote type=cite>",
            "<div class=\"gmail_quote\"><div>",
            "é<br/é>\u{1F600}<p",
            "<pre>a\n b</pre>",
        ] {
            let _ = to_text(html);
            let _ = strip_quotes(html);
        }
    }
}
