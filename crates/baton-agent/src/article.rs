//! Knowledge-base articles: Markdown in, plain-text passages out.
//!
//! The parser understands the subset of Markdown that help-centre articles use (ATX and
//! setext headings, paragraphs, lists, block quotes, code blocks, simple tables, links,
//! emphasis). It is deliberately not a CommonMark implementation: the output is read by a
//! visitor in a chat window, so what matters is that no markup is left in the text, not
//! that every corner case renders like a browser would.

/// Sections longer than this are split into paragraph chunks, so that an answer is one
/// focused piece of text rather than a whole page (and BM25 length normalisation stays
/// meaningful).
pub(crate) const MAX_PASSAGE_CHARS: usize = 600;

/// One Markdown document of the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// Where the article comes from: the file path relative to the knowledge-base folder
    /// (`shipping.md`, `faq/returns.md`) or any name the caller chooses. It prefixes the
    /// `source` of every answer taken from the article.
    pub source: String,
    /// The article text, in Markdown.
    pub markdown: String,
}

impl Article {
    /// An article named `source` with the given Markdown text.
    pub fn new(source: impl Into<String>, markdown: impl Into<String>) -> Article {
        Article {
            source: source.into(),
            markdown: markdown.into(),
        }
    }
}

/// A searchable piece of an article: one section, or one chunk of a long section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Passage {
    /// `article-source#Section heading`, or the article source alone for the text
    /// between the title and the first section.
    pub(crate) source: String,
    /// The article title, or its source when it has none.
    pub(crate) title: String,
    pub(crate) heading: Option<String>,
    /// The passage in plain text, paragraphs separated by a blank line.
    pub(crate) text: String,
}

impl Passage {
    /// The text given to the search index. The title and heading are indexed with the
    /// text because questions often use their words ("Where is my order?"). The heading
    /// is counted twice: it names what the section is about, so a section headed
    /// "Where is my order?" should beat one that merely mentions orders more often.
    pub(crate) fn indexed_text(&self) -> String {
        match &self.heading {
            Some(heading) => format!("{}\n{heading}\n{heading}\n{}", self.title, self.text),
            None => format!("{}\n{}", self.title, self.text),
        }
    }
}

/// Splits an article into passages; sections without text give none.
pub(crate) fn passages(article: &Article) -> Vec<Passage> {
    let parsed = parse(&article.markdown);
    let title = parsed.title.unwrap_or_else(|| article.source.clone());
    let mut out = Vec::new();
    for section in parsed.sections {
        let source = match &section.heading {
            Some(heading) => format!("{}#{heading}", article.source),
            None => article.source.clone(),
        };
        for text in chunk(&section.paragraphs, MAX_PASSAGE_CHARS) {
            out.push(Passage {
                source: source.clone(),
                title: title.clone(),
                heading: section.heading.clone(),
                text,
            });
        }
    }
    out
}

/// Groups consecutive paragraphs into chunks of at most `max` characters. A paragraph
/// longer than `max` stays whole in its own chunk: cutting mid-paragraph would separate
/// sentences that explain each other, and the answer is trimmed at a sentence end later.
fn chunk(paragraphs: &[String], max: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    for paragraph in paragraphs {
        let joined_len = current.chars().count() + 2 + paragraph.chars().count();
        if !current.is_empty() && joined_len > max {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(paragraph);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// An article split at its headings.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// The first level-1 heading.
    pub(crate) title: Option<String>,
    pub(crate) sections: Vec<Section>,
}

/// The text under one heading (`heading` is `None` for the text before the first
/// section heading).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Section {
    pub(crate) heading: Option<String>,
    /// Plain-text paragraphs; a list is one paragraph with one item per line.
    pub(crate) paragraphs: Vec<String>,
}

/// Parses Markdown into a title and plain-text sections.
pub(crate) fn parse(markdown: &str) -> Parsed {
    let mut parser = Parser::default();
    for line in markdown.lines() {
        parser.line(line);
    }
    parser.finish()
}

/// Line-by-line parser state.
#[derive(Default)]
struct Parser {
    parsed: Parsed,
    section: Section,
    /// Lines of the paragraph being read, already free of block markup.
    block: Vec<String>,
    /// Whether `block` is a list or table, whose lines stay separate lines.
    block_keeps_lines: bool,
    /// The fence (```` ``` ```` or `~~~`) of the code block being read.
    fence: Option<String>,
}

impl Parser {
    fn line(&mut self, raw: &str) {
        let line = raw.trim_end();
        let trimmed = line.trim_start();

        if let Some(fence) = &self.fence {
            if trimmed.starts_with(fence.as_str()) {
                self.fence = None;
                self.end_block();
            } else {
                // Code is shown as it is: no inline markup inside code blocks.
                self.block.push(line.to_string());
                self.block_keeps_lines = true;
            }
            return;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            self.end_block();
            self.fence = Some(trimmed[..3].to_string());
            return;
        }
        if trimmed.is_empty() {
            self.end_block();
            return;
        }
        if let Some((level, text)) = atx_heading(trimmed) {
            self.end_block();
            self.heading(level, strip_inline(text));
            return;
        }
        if let Some(level) = setext_underline(trimmed)
            && self.block.len() == 1
            && !self.block_keeps_lines
        {
            let text = self.block.remove(0);
            self.heading(level, text);
            return;
        }
        if is_thematic_break(trimmed) || is_link_definition(trimmed) || is_html_comment(trimmed) {
            self.end_block();
            return;
        }
        let trimmed = strip_quote_markers(trimmed);
        if let Some(item) = list_item(trimmed) {
            if !self.block_keeps_lines {
                self.end_block();
            }
            self.block.push(item);
            self.block_keeps_lines = true;
            return;
        }
        if trimmed.starts_with('|') {
            if let Some(row) = table_row(trimmed) {
                if !self.block_keeps_lines {
                    self.end_block();
                }
                self.block.push(row);
                self.block_keeps_lines = true;
            }
            return;
        }
        let text = strip_inline(trimmed);
        if self.block_keeps_lines && line.starts_with([' ', '\t']) {
            // An indented line under a list item continues that item.
            if let Some(last) = self.block.last_mut() {
                last.push(' ');
                last.push_str(&text);
                return;
            }
        }
        if self.block_keeps_lines {
            self.end_block();
        }
        self.block.push(text);
    }

    fn heading(&mut self, level: usize, text: String) {
        if level == 1 && self.parsed.title.is_none() {
            self.parsed.title = Some(text);
            return;
        }
        self.end_section();
        self.section.heading = Some(text);
    }

    fn end_block(&mut self) {
        if self.block.is_empty() {
            self.block_keeps_lines = false;
            return;
        }
        let separator = if self.block_keeps_lines { "\n" } else { " " };
        let paragraph = self.block.join(separator);
        self.block.clear();
        self.block_keeps_lines = false;
        let paragraph = paragraph.trim();
        if !paragraph.is_empty() {
            self.section.paragraphs.push(paragraph.to_string());
        }
    }

    fn end_section(&mut self) {
        self.end_block();
        let section = std::mem::take(&mut self.section);
        if !section.paragraphs.is_empty() {
            self.parsed.sections.push(section);
        }
    }

    fn finish(mut self) -> Parsed {
        self.end_section();
        self.parsed
    }
}

/// `## Heading ##` → `(2, "Heading")`.
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &line[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        // `#hashtag` is text, not a heading.
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim_end();
    Some((level, text))
}

/// `===` underlines a level-1 heading, `---` a level-2 one.
fn setext_underline(line: &str) -> Option<usize> {
    if line.len() >= 2 && line.chars().all(|c| c == '=') {
        Some(1)
    } else if line.len() >= 2 && line.chars().all(|c| c == '-') {
        Some(2)
    } else {
        None
    }
}

fn is_thematic_break(line: &str) -> bool {
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    compact.len() >= 3
        && ['-', '*', '_']
            .iter()
            .any(|&mark| compact.chars().all(|c| c == mark))
}

/// `[label]: https://…` only defines a link target; it is not text.
fn is_link_definition(line: &str) -> bool {
    line.starts_with('[') && line.contains("]:")
}

fn is_html_comment(line: &str) -> bool {
    line.starts_with("<!--")
}

fn strip_quote_markers(mut line: &str) -> &str {
    while let Some(rest) = line.strip_prefix('>') {
        line = rest.trim_start();
    }
    line
}

/// A bullet item becomes `- text`; a numbered item keeps its number (`2. text`), since
/// steps are often referred to by number.
fn list_item(line: &str) -> Option<String> {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            let rest = rest.trim_start();
            let rest = ["[ ] ", "[x] ", "[X] "]
                .iter()
                .find_map(|box_| rest.strip_prefix(box_))
                .unwrap_or(rest);
            return Some(format!("- {}", strip_inline(rest)));
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 9 {
        let rest = &line[digits..];
        if let Some(text) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(format!(
                "{}. {}",
                &line[..digits],
                strip_inline(text.trim_start())
            ));
        }
    }
    None
}

/// `| a | b |` → `a | b`; the `|---|---|` delimiter row gives `None`.
fn table_row(line: &str) -> Option<String> {
    let inner = line.trim_matches('|');
    let cells: Vec<String> = inner.split('|').map(|c| strip_inline(c.trim())).collect();
    let is_delimiter = cells
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')));
    (!is_delimiter).then(|| cells.join(" | "))
}

/// Removes inline Markdown: emphasis, code spans, links and images (keeping their text),
/// autolinks (keeping the address) and backslash escapes.
pub(crate) fn strip_inline(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(char::is_ascii_punctuation) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '`' => {
                let run = run_length(&chars, i, '`');
                match find_run(&chars, i + run, '`', run) {
                    Some(end) => {
                        let code: String = chars[i + run..end].iter().collect();
                        out.push_str(code.trim());
                        i = end + run;
                    }
                    None => {
                        out.extend(&chars[i..i + run]);
                        i += run;
                    }
                }
            }
            '!' if chars.get(i + 1) == Some(&'[') => match link(&chars, i + 1) {
                Some((label, end)) => {
                    out.push_str(&strip_inline(&label));
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '[' => match link(&chars, i) {
                Some((label, end)) => {
                    out.push_str(&strip_inline(&label));
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '<' => match autolink(&chars, i) {
                Some((address, end)) => {
                    out.push_str(&address);
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '*' | '_' | '~' => {
                let run = run_length(&chars, i, c);
                let before = i.checked_sub(1).map(|j| chars[j]);
                let after = chars.get(i + run).copied();
                let is_space = |ch: Option<char>| ch.is_none_or(char::is_whitespace);
                let is_word = |ch: Option<char>| ch.is_some_and(char::is_alphanumeric);
                // A delimiter surrounded by spaces is a literal ("5 * 3"); an underscore
                // inside a word is part of it ("snake_case"); a single tilde is text.
                let literal = (is_space(before) && is_space(after))
                    || (c == '_' && is_word(before) && is_word(after))
                    || (c == '~' && run < 2);
                if literal {
                    out.extend(&chars[i..i + run]);
                }
                i += run;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    collapse_spaces(&out)
}

fn run_length(chars: &[char], start: usize, c: char) -> usize {
    chars[start..].iter().take_while(|&&x| x == c).count()
}

/// The start of the next run of exactly `len` `c` characters at or after `from`.
fn find_run(chars: &[char], from: usize, c: char, len: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == c {
            let run = run_length(chars, i, c);
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// `[label](target)` or `[label][ref]` starting at `open` (the `[`): the label and the
/// index just past the link.
fn link(chars: &[char], open: usize) -> Option<(String, usize)> {
    let mut depth = 0usize;
    let mut close = None;
    for (j, &ch) in chars.iter().enumerate().skip(open) {
        match ch {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let label: String = chars[open + 1..close].iter().collect();
    let (opener, closer) = match chars.get(close + 1) {
        Some('(') => ('(', ')'),
        Some('[') => ('[', ']'),
        _ => return None,
    };
    let mut depth = 0usize;
    for (j, &ch) in chars.iter().enumerate().skip(close + 1) {
        if ch == opener {
            depth += 1;
        } else if ch == closer {
            depth -= 1;
            if depth == 0 {
                return Some((label, j + 1));
            }
        }
    }
    None
}

/// `<https://example.com>` or `<mail@example.com>`: the address and the index past `>`.
fn autolink(chars: &[char], open: usize) -> Option<(String, usize)> {
    let close = chars[open..].iter().position(|&c| c == '>')? + open;
    let inner: String = chars[open + 1..close].iter().collect();
    let is_url = inner.contains("://") || inner.starts_with("mailto:");
    let is_mail = inner.contains('@') && !inner.contains(char::is_whitespace);
    (!inner.contains(char::is_whitespace) && (is_url || is_mail))
        .then(|| (inner.trim_start_matches("mailto:").to_string(), close + 1))
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_inline(markdown: &str, expected: &str) {
        assert_eq!(strip_inline(markdown), expected, "input: {markdown:?}");
    }

    #[test]
    fn inline_markup_is_removed() {
        check_inline("**free** for *members*", "free for members");
        check_inline("__bold__ and _it_", "bold and it");
        check_inline(
            "see [our page](https://x.example/a_(b)) now",
            "see our page now",
        );
        check_inline("[ref link][1] and [plain]", "ref link and [plain]");
        check_inline("![a tent](tent.png) here", "a tent here");
        check_inline("mail <help@acme.example>", "mail help@acme.example");
        check_inline("run `cargo test` ok", "run cargo test ok");
        check_inline("5 * 3 and snake_case", "5 * 3 and snake_case");
        check_inline("~~old~~ new ~5 days", "old new ~5 days");
        check_inline(r"a \*literal\* star", "a *literal* star");
        check_inline("[**Track** parcel](u)", "Track parcel");
    }

    fn check_parse(markdown: &str, title: Option<&str>, sections: &[(Option<&str>, &[&str])]) {
        let parsed = parse(markdown);
        assert_eq!(parsed.title.as_deref(), title, "title of {markdown:?}");
        let got: Vec<(Option<&str>, Vec<&str>)> = parsed
            .sections
            .iter()
            .map(|s| {
                (
                    s.heading.as_deref(),
                    s.paragraphs.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        let want: Vec<(Option<&str>, Vec<&str>)> =
            sections.iter().map(|(h, p)| (*h, p.to_vec())).collect();
        assert_eq!(got, want, "sections of {markdown:?}");
    }

    #[test]
    fn articles_split_at_headings() {
        check_parse(
            "# Title\n\nIntro\ntext.\n\n## One ##\nA\n\n- x\n- **y**\n  more\n\n### Two\n1. a\n2. b\n",
            Some("Title"),
            &[
                (None, &["Intro text."]),
                (Some("One"), &["A", "- x\n- y more"]),
                (Some("Two"), &["1. a\n2. b"]),
            ],
        );
        check_parse(
            "Title\n=====\nBody\n\nPart\n----\n> quoted *text*\n\n---\n\n```\n# not a heading\n```\n",
            Some("Title"),
            &[
                (None, &["Body"]),
                (Some("Part"), &["quoted text", "# not a heading"]),
            ],
        );
        check_parse(
            "## Empty\n\n## Table\n| a | b |\n|---|:-:|\n| 1 | 2 |\n\n[1]: https://x\n#tag",
            None,
            &[(Some("Table"), &["a | b\n1 | 2", "#tag"])],
        );
    }

    #[test]
    fn long_sections_are_chunked_by_paragraph() {
        let paragraphs: Vec<String> = (0..4).map(|i| format!("{i}{}", "x".repeat(250))).collect();
        let chunks = chunk(&paragraphs, MAX_PASSAGE_CHARS);
        assert_eq!(chunks.len(), 2);
        assert!(chunks[0].starts_with('0') && chunks[1].starts_with('2'));
        assert_eq!(chunk(&["y".repeat(900)], MAX_PASSAGE_CHARS).len(), 1);
    }
}
