//! Markdown-lite: how a message body becomes the HTML that the room page and
//! the live client show, the `@name`s it mentions, and its plain-text
//! excerpt for reply quotes.
//!
//! Supported: `**bold**`, `*italics*`, `` `inline code` ``, fenced and
//! indented code blocks, `[text](https://…)` links, and bare http(s) URLs,
//! which are linked. Line breaks are kept (a chat message is not a
//! document, so a single newline is a `<br>`). Everything else CommonMark
//! knows — headings, lists, block quotes, images, rules, raw HTML — is shown
//! as the text that was typed, so a message starting with `#` or `1.` looks
//! as written instead of turning into a heading or a list.
//!
//! Safety does not rest on one layer: raw HTML in the input is turned into
//! escaped text before rendering, links are made only for http(s) URLs, and
//! the result is sanitised again by ammonia with an allow-list of the tags
//! we produce. Every link gets `rel="noopener noreferrer nofollow"` and
//! `target="_blank"` (following one should not close the live chat).
//!
//! `render` runs once per message on the writer's commit path: the
//! sanitiser is built once, and bodies of plain words skip the parser.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use linkify::{LinkFinder, LinkKind};
use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd, TextMergeWithOffset,
};

/// Longest name a mention can have: the longest username (SPEC §4.2).
const MENTION_MAX_CHARS: usize = 32;
/// What a link rel says: no access to our window, no referrer, no SEO credit
/// for spam.
const LINK_REL: &str = "noopener noreferrer nofollow";
/// Where mention links point; the only relative URLs the sanitiser keeps.
const USER_PATH: &str = "/users/";

/// The allow-list sanitiser, built once: building it per call would cost
/// more than cleaning a message.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from([
            "p", "br", "strong", "em", "code", "pre", "a",
        ]))
        .tag_attributes(HashMap::from([("a", HashSet::from(["href"]))]))
        // Not even the defaults' `title` and `lang`: nothing we emit has them.
        .generic_attributes(HashSet::new())
        .allowed_classes(HashMap::from([("a", HashSet::from(["mention"]))]))
        .set_tag_attribute_value("a", "target", "_blank")
        .url_schemes(HashSet::from(["http", "https"]))
        .url_relative(ammonia::UrlRelative::Custom(Box::new(only_user_paths)))
        .link_rel(Some(LINK_REL))
        .clean_content_tags(HashSet::from(["script", "style"]))
        .strip_comments(true);
    builder
});

static LINKS: LazyLock<LinkFinder> = LazyLock::new(|| {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(true);
    finder
});

/// Relative URLs survive sanitising only as mention links to `/users/NAME`.
fn only_user_paths(url: &str) -> Option<Cow<'_, str>> {
    url.strip_prefix(USER_PATH)
        .filter(|rest| !rest.is_empty() && !rest.contains(['/', '\\']))
        .map(|_| Cow::Borrowed(url))
}

/// The sanitised HTML of a message body. `@name` becomes a mention link when
/// `name` is in `mentions` (any case): pass the names that resolved to
/// users, e.g. from [`mention_candidates`].
pub fn render(body: &str, mentions: &[String]) -> String {
    if is_plain(body) {
        // Same output as the full path (a test holds them together): a
        // paragraph of text that needs no escaping.
        return format!("<p>{body}</p>");
    }
    let mut events: Vec<Event<'_>> = Vec::new();
    walk(body, |piece| match piece {
        Piece::Markup(event) => events.push(event),
        Piece::Text { text, in_link } => {
            let mut html = String::with_capacity(text.len() + 16);
            text_html(&text, in_link, mentions, &mut html);
            events.push(Event::InlineHtml(CowStr::from(html)));
        }
        Piece::Literal {
            text,
            block,
            in_link,
        } => {
            let mut html = String::with_capacity(text.len() + 16);
            if block {
                html.push_str("<p>");
            }
            for (n, line) in text.lines().enumerate() {
                if n > 0 {
                    html.push_str("<br>\n");
                }
                text_html(line, in_link, mentions, &mut html);
            }
            if block {
                html.push_str("</p>\n");
            }
            events.push(Event::InlineHtml(CowStr::from(html)));
        }
    });
    let mut html = String::with_capacity(body.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    SANITIZER.clean(&html).to_string().trim_end().to_string()
}

/// The distinct lower-cased names written as `@name` outside code: the
/// candidates to resolve against users. A trailing `.` ends a sentence, not
/// a name (`thanks @bob.` mentions `bob`).
pub fn mention_candidates(body: &str) -> Vec<String> {
    if !body.contains('@') {
        return Vec::new();
    }
    let mut names: Vec<String> = Vec::new();
    let mut add = |text: &str| {
        for span in LINKS.spans(text).filter(|s| !is_http_link(s)) {
            for (_, name) in find_mentions(span.as_str()) {
                let name = name.to_ascii_lowercase();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    };
    walk(body, |piece| match piece {
        Piece::Text {
            text,
            in_link: false,
        } => add(&text),
        Piece::Literal {
            text,
            in_link: false,
            ..
        } => add(text),
        Piece::Text { in_link: true, .. } | Piece::Literal { .. } | Piece::Markup(_) => {}
    });
    names
}

/// The plain text of a body — markdown markers removed, whitespace collapsed
/// — cut to at most `max_chars` characters, the last being `…` when cut.
/// For reply quotes and notifications.
pub fn excerpt(body: &str, max_chars: usize) -> String {
    let mut text = String::with_capacity(body.len().min(max_chars * 4));
    for event in Parser::new_ext(body, Options::empty()) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                text.push_str(&t)
            }
            // Block ends and breaks separate words.
            Event::End(end) if !is_inline(end) => text.push(' '),
            Event::SoftBreak | Event::HardBreak | Event::Rule => text.push(' '),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let plain = words.join(" ");
    if plain.chars().count() <= max_chars {
        return plain;
    }
    let keep: String = plain.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", keep.trim_end())
}

/// What [`walk`] hands out.
enum Piece<'a> {
    /// Supported markup: paragraphs, emphasis, code, http(s) links, breaks.
    Markup(Event<'a>),
    /// Text outside code, where URLs and mentions are found (not inside an
    /// existing link: links do not nest).
    Text { text: CowStr<'a>, in_link: bool },
    /// Unsupported markup shown as typed; `block` when it stands as its own
    /// paragraph.
    Literal {
        text: &'a str,
        block: bool,
        in_link: bool,
    },
}

/// Walk a body's markdown, reducing it to the supported subset. `render`
/// and `mention_candidates` share this walk so that what is linked and
/// what is reported as mentioned always agree.
fn walk<'a>(body: &'a str, mut emit: impl FnMut(Piece<'a>)) {
    let mut events =
        TextMergeWithOffset::new(Parser::new_ext(body, Options::empty()).into_offset_iter());
    // Per open link: whether it was kept (http(s)) or dropped to its text.
    let mut links: Vec<bool> = Vec::new();
    let mut in_code_block = false;
    while let Some((event, range)) = events.next() {
        let in_link = links.iter().any(|kept| *kept);
        match event {
            Event::Start(Tag::Paragraph | Tag::Emphasis | Tag::Strong) => {
                emit(Piece::Markup(event))
            }
            Event::Start(Tag::CodeBlock(_)) => {
                in_code_block = true;
                // No info string: a language class would only be stripped.
                emit(Piece::Markup(Event::Start(Tag::CodeBlock(
                    CodeBlockKind::Indented,
                ))));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                id,
                ..
            }) => {
                let keep = !in_link && is_http(&dest_url);
                links.push(keep);
                if keep {
                    // Without its title: only `href` survives sanitising.
                    emit(Piece::Markup(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title: CowStr::Borrowed(""),
                        id,
                    })));
                }
            }
            Event::End(TagEnd::Link) => {
                if links.pop().unwrap_or(false) {
                    emit(Piece::Markup(event));
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                emit(Piece::Markup(event));
            }
            Event::End(_) | Event::Code(_) | Event::HardBreak => emit(Piece::Markup(event)),
            Event::SoftBreak => emit(Piece::Markup(Event::HardBreak)),
            Event::Text(text) if in_code_block => emit(Piece::Markup(Event::Text(text))),
            Event::Text(text) => emit(Piece::Text { text, in_link }),
            // Raw HTML is shown as the text it is (`push_html` escapes Text).
            Event::InlineHtml(html) | Event::Html(html) => emit(Piece::Markup(Event::Text(html))),
            Event::Start(tag) => {
                // Anything else (headings, lists, quotes, HTML blocks, images,
                // …) is skipped whole and shown as its source text.
                skip_to_end(&mut events);
                emit(Piece::Literal {
                    text: body[range].trim_end(),
                    block: !matches!(tag, Tag::Image { .. }),
                    in_link,
                });
            }
            Event::Rule => emit(Piece::Literal {
                text: body[range].trim_end(),
                block: true,
                in_link,
            }),
            // Footnotes, task lists, math: not enabled, so never produced;
            // shown as typed should that change.
            _ => emit(Piece::Literal {
                text: &body[range],
                block: false,
                in_link,
            }),
        }
    }
}

/// Consume events up to the `End` that closes the element just started.
fn skip_to_end<'a>(events: &mut impl Iterator<Item = (Event<'a>, Range<usize>)>) {
    let mut depth = 1usize;
    for (event, _) in events {
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return;
        }
    }
}

/// Escaped text with http(s) URLs and known mentions linked.
fn text_html(text: &str, in_link: bool, mentions: &[String], out: &mut String) {
    if in_link {
        escape_into(text, out);
        return;
    }
    for span in LINKS.spans(text) {
        if is_http_link(&span) {
            out.push_str("<a href=\"");
            escape_into(span.as_str(), out);
            out.push_str("\">");
            escape_into(span.as_str(), out);
            out.push_str("</a>");
        } else {
            mentions_html(span.as_str(), mentions, out);
        }
    }
}

/// Escaped text with `@name` linked for each name in `mentions`.
fn mentions_html(text: &str, mentions: &[String], out: &mut String) {
    let mut done = 0;
    for (at, name) in find_mentions(text) {
        if !mentions.iter().any(|m| m.eq_ignore_ascii_case(name)) {
            continue;
        }
        escape_into(&text[done..at.start], out);
        out.push_str("<a class=\"mention\" href=\"");
        out.push_str(USER_PATH);
        // Names are ASCII letters, digits and `_-.`: nothing to escape.
        out.push_str(&name.to_ascii_lowercase());
        out.push_str("\">@");
        out.push_str(name);
        out.push_str("</a>");
        done = at.end;
    }
    escape_into(&text[done..], out);
}

fn is_inline(end: TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Each `@name` in `text`: the range of `@name` and the name as written.
/// A name is 1–32 name characters after `@`, not preceded by a name
/// character (so `mail@example.org` is not one), without trailing dots.
fn find_mentions(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(offset) = text[i..].find('@') {
        let at = i + offset;
        let name_start = at + 1;
        let name_end = text[name_start..]
            .find(|c: char| !is_name_char(c))
            .map_or(text.len(), |n| name_start + n);
        i = name_end.max(name_start);
        // `mail@example.org` is an address and `@zoë` is not `@zo`.
        let preceded_by_name = at > 0 && is_name_char(char::from(bytes[at - 1]));
        let followed_by_letter = text[name_end..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric);
        if preceded_by_name || followed_by_letter {
            continue;
        }
        let run = &text[name_start..name_end];
        let name = run.trim_end_matches('.');
        if name.is_empty() || run.len() > MENTION_MAX_CHARS {
            continue;
        }
        found.push((at..name_start + name.len(), name));
    }
    found
}

fn is_http(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn is_http_link(span: &linkify::Span<'_>) -> bool {
    span.kind() == Some(&LinkKind::Url) && is_http(span.as_str())
}

/// `text` with `& < > " '` escaped, for HTML text and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    escape_into(text, &mut out);
    out
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A body of words and harmless punctuation on one line renders as one
/// paragraph of itself: no markdown, URL, mention, or character that needs
/// escaping, no leading digit (`1. ` is a list), dash (`- ` too) or space
/// (code block). A `:` is harmless unless it starts a URL's `://`.
fn is_plain(body: &str) -> bool {
    let Some(first) = body.chars().next() else {
        return false;
    };
    !first.is_ascii_digit()
        && first != '-'
        && body.trim() == body
        && !body.contains("  ")
        && !body.contains("://")
        && body.chars().all(|c| {
            c.is_alphanumeric()
                || matches!(
                    c,
                    ' ' | ',' | '.' | '?' | '!' | ';' | ':' | '-' | '(' | ')' | '/' | '%' | '\''
                )
        })
}

/// Whether a body needs its `html` at all: false for plain text (see
/// `is_plain`), which every client shows as the body itself. Message
/// objects leave `html` out then, which keeps the most common frame small.
pub fn needs_html(body: &str) -> bool {
    !is_plain(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(body: &str) -> String {
        render(body, &[])
    }

    /// The full path, bypassing the plain-text shortcut.
    fn slow(body: &str, mentions: &[String]) -> String {
        let mut events: Vec<Event<'_>> = Vec::new();
        walk(body, |piece| match piece {
            Piece::Markup(event) => events.push(event),
            Piece::Text { text, in_link } => {
                let mut html = String::new();
                text_html(&text, in_link, mentions, &mut html);
                events.push(Event::InlineHtml(CowStr::from(html)));
            }
            Piece::Literal { .. } => panic!("plain text has no literal markup"),
        });
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, events.into_iter());
        SANITIZER.clean(&html).to_string().trim_end().to_string()
    }

    #[test]
    fn plain_words_take_the_shortcut_and_render_the_same_as_the_full_path() {
        for body in [
            "hello",
            "Hello, world!",
            "is it 5 o'clock yet? (asking for a friend)",
            "Grüße aus Köln; 100% sure",
            "a/b and c.d",
            "日本語のテキスト",
            "note: this works",
            "lt:run:3:17:1732400000000000000 xxxx",
            "x:y",
            "ratio 3:1, at 10:30",
            "well-known and e-mail",
            "mailto:bob (other schemes are never links)",
        ] {
            assert!(is_plain(body), "{body}");
            assert_eq!(render(body, &[]), slow(body, &[]), "{body}");
        }
        for body in [
            "1. first",
            " indented",
            "a  b",
            "**x**",
            "@bob",
            "http://example.com",
            "see https://example.com/x",
            "- item",
            "a & b",
            "<b>",
        ] {
            assert!(!is_plain(body), "{body}");
        }
    }

    #[test]
    fn bold_italics_and_inline_code_render() {
        assert_eq!(
            md("**bold** and *it* and _it_ and `co<de>`"),
            "<p><strong>bold</strong> and <em>it</em> and <em>it</em> and <code>co&lt;de&gt;</code></p>"
        );
    }

    #[test]
    fn fenced_and_indented_code_blocks_render_without_language_classes() {
        assert_eq!(
            md("```rust\nfn main() { <x> }\n```"),
            "<pre><code>fn main() { &lt;x&gt; }\n</code></pre>"
        );
        assert_eq!(
            md("look:\n\n    let x = 1;"),
            "<p>look:</p>\n<pre><code>let x = 1;</code></pre>"
        );
    }

    #[test]
    fn line_breaks_in_a_message_are_kept() {
        assert_eq!(md("one\ntwo"), "<p>one<br>\ntwo</p>");
        assert_eq!(md("one\n\ntwo"), "<p>one</p>\n<p>two</p>");
    }

    #[test]
    fn http_links_and_bare_urls_are_linked_with_rel_and_target() {
        assert_eq!(
            md("[docs](https://example.org/a?b=1&c=2)"),
            "<p><a href=\"https://example.org/a?b=1&amp;c=2\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">docs</a></p>"
        );
        assert_eq!(
            md("see http://example.org/x_y_z."),
            "<p>see <a href=\"http://example.org/x_y_z\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">http://example.org/x_y_z</a>.</p>"
        );
        assert_eq!(
            md("<https://example.org>"),
            "<p><a href=\"https://example.org\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">https://example.org</a></p>"
        );
    }

    #[test]
    fn a_url_inside_link_text_does_not_nest_links() {
        let html = md("[https://a.example](https://b.example)");
        assert_eq!(html.matches("<a ").count(), 1, "{html}");
        assert!(html.contains("href=\"https://b.example\""), "{html}");
    }

    #[test]
    fn urls_inside_code_are_not_linked() {
        assert_eq!(
            md("`https://example.org`"),
            "<p><code>https://example.org</code></p>"
        );
        assert!(!md("```\nhttps://example.org\n```").contains("<a"));
    }

    #[test]
    fn other_schemes_are_never_links() {
        for body in [
            "[x](javascript:alert(1))",
            "[x](JAVASCRIPT:alert(1))",
            "[x](  javascript:alert(1) )",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "[x](file:///etc/passwd)",
            "[x](/relative/path)",
            "[x](//evil.example)",
            "<javascript:alert(1)>",
            "<mailto:a@example.org>",
            "<a@example.org>",
            "javascript:alert(1)",
            "ftp://example.org/file",
            "[x](java\tscript:alert(1))",
            "[x](&#106;avascript:alert(1))",
        ] {
            let html = md(body);
            assert!(!html.contains("<a"), "{body} → {html}");
            assert!(!html.contains("href"), "{body} → {html}");
        }
        assert_eq!(md("[click](javascript:alert(1))"), "<p>click</p>");
    }

    #[test]
    fn raw_html_is_shown_as_text_never_as_markup() {
        assert_eq!(
            md("<script>alert(1)</script>"),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
        );
        assert_eq!(
            md("hi <img src=x onerror=alert(1)> there"),
            "<p>hi &lt;img src=x onerror=alert(1)&gt; there</p>"
        );
        assert_eq!(
            md("<a href=\"javascript:alert(1)\">x</a>"),
            "<p>&lt;a href=\"javascript:alert(1)\"&gt;x&lt;/a&gt;</p>"
        );
        for body in [
            "<div onmouseover=alert(1)>x</div>",
            "x <svg/onload=alert(1)>",
            "<!-- comment --> text",
            "<style>body{}</style>",
            "**<iframe src=https://evil.example>**",
            "[<img src=x onerror=alert(1)>](https://example.org)",
            "<https://example.org/\"onmouseover=\"alert(1)>",
            "https://example.org/\"><script>alert(1)</script>",
            "[x](https://example.org/\"onclick=\"alert(1))",
            "[x](<https://example.org/ \"onclick=alert(1)>)",
            "@bob\"><script>",
            "`</code><script>`",
        ] {
            assert_only_allowed_markup(&render(body, &["bob".to_string()]));
        }
        assert_eq!(
            md("[a](https://example.org \"a title\")"),
            "<p><a href=\"https://example.org\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">a</a></p>"
        );
    }

    /// Every tag in `html` is one we produce, with only our attributes:
    /// text never contains a raw `<` (it is escaped), so whatever sits
    /// between `<` and `>` is markup.
    fn assert_only_allowed_markup(html: &str) {
        for tag in html
            .split('<')
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap())
        {
            let mut parts = tag.trim_start_matches('/').split(' ');
            let name = parts.next().unwrap();
            assert!(
                ["p", "br", "strong", "em", "code", "pre", "a"].contains(&name),
                "tag {name} in {html}"
            );
            let attrs = tag.split('"').step_by(2).collect::<String>();
            for attr in attrs.split_whitespace().skip(1) {
                let attr = attr.trim_end_matches('=');
                assert!(
                    ["href", "class", "target", "rel"].contains(&attr),
                    "attribute {attr} in {html}"
                );
            }
        }
    }

    #[test]
    fn the_markup_check_catches_foreign_tags_and_attributes() {
        for html in [
            "<img src=x>",
            "<a href=\"x\" onclick=\"y\">",
            "<p style=\"x\">",
        ] {
            let caught = std::panic::catch_unwind(|| assert_only_allowed_markup(html));
            assert!(caught.is_err(), "{html}");
        }
        assert_only_allowed_markup("<p>a <a class=\"mention\" href=\"/users/x\">@x</a></p>");
    }

    #[test]
    fn unsupported_markdown_is_shown_as_typed() {
        assert_eq!(md("# not a heading"), "<p># not a heading</p>");
        assert_eq!(md("- one\n- two"), "<p>- one<br>\n- two</p>");
        assert_eq!(md("1. one\n2. two"), "<p>1. one<br>\n2. two</p>");
        assert_eq!(md("> quoted"), "<p>&gt; quoted</p>");
        assert_eq!(md("---"), "<p>---</p>");
        assert_eq!(md("title\n==="), "<p>title<br>\n===</p>");
        assert_eq!(
            md("![cat](https://example.org/cat.png)"),
            "<p>![cat](<a href=\"https://example.org/cat.png\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">https://example.org/cat.png</a>)</p>"
        );
        assert_eq!(
            md("| a | b |\n|---|---|\n| 1 | 2 |"),
            "<p>| a | b |<br>\n|---|---|<br>\n| 1 | 2 |</p>"
        );
        assert_eq!(md("~~strike~~"), "<p>~~strike~~</p>");
        for tag in [
            "<h1",
            "<ul",
            "<ol",
            "<li",
            "<blockquote",
            "<hr",
            "<img",
            "<table",
        ] {
            let html = md("# h\n\n- a\n\n> q\n\n---\n\n![i](https://x.example/i.png)");
            assert!(!html.contains(tag), "{html}");
        }
    }

    #[test]
    fn known_mentions_are_linked_outside_code_only() {
        let known = vec!["bob".to_string(), "ann.lee".to_string()];
        assert_eq!(
            render("hi @Bob and @carol", &known),
            "<p>hi <a class=\"mention\" href=\"/users/bob\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">@Bob</a> and @carol</p>"
        );
        assert!(render("thanks @ann.lee.", &known).contains(">@ann.lee</a>."));
        assert!(!render("`@bob`", &known).contains("mention"));
        assert!(!render("```\n@bob\n```", &known).contains("mention"));
        assert!(!render("mail bob@example.org", &known).contains("mention"));
        assert!(!render("[hey @bob](https://example.org)", &known).contains("mention"));
        assert!(render("**@bob**", &known).contains("<strong><a class=\"mention\""));
    }

    #[test]
    fn mention_candidates_are_distinct_lowercased_names_outside_code() {
        assert_eq!(
            mention_candidates("@Bob, @bob and @carol_2! also `@dave` and e@mail.org"),
            vec!["bob", "carol_2"]
        );
        assert_eq!(mention_candidates("thanks @ann.lee."), vec!["ann.lee"]);
        assert_eq!(mention_candidates("```\n@dave\n```"), Vec::<String>::new());
        assert_eq!(mention_candidates("@"), Vec::<String>::new());
        assert_eq!(mention_candidates("@..."), Vec::<String>::new());
        assert_eq!(
            mention_candidates(&format!("@{}", "a".repeat(33))),
            Vec::<String>::new()
        );
        assert_eq!(
            mention_candidates(&format!("@{}", "a".repeat(32))),
            vec!["a".repeat(32)]
        );
        assert_eq!(mention_candidates("(@zoë) @zo"), vec!["zo"]);
        assert_eq!(mention_candidates("@zoë"), Vec::<String>::new());
        assert_eq!(mention_candidates("- @erin in a list"), vec!["erin"]);
        assert_eq!(
            mention_candidates("https://example.org/@frank"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unicode_text_is_kept_and_escaped() {
        assert_eq!(md("héllo 🎉 <ok>"), "<p>héllo 🎉 &lt;ok&gt;</p>");
        assert_eq!(md("**日本**"), "<p><strong>日本</strong></p>");
    }

    #[test]
    fn excerpts_are_plain_text_cut_at_a_char_boundary() {
        assert_eq!(
            excerpt("**bold** and `code`\n\nnext", 100),
            "bold and code next"
        );
        assert_eq!(excerpt("# title\n- item", 100), "title item");
        assert_eq!(excerpt("héllo wörld", 7), "héllo…");
        assert_eq!(excerpt("🎉🎉🎉🎉", 3), "🎉🎉…");
        assert_eq!(excerpt("short", 5), "short");
        assert_eq!(excerpt("", 5), "");
    }
}
