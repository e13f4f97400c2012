//! Markdown-lite rendering of message bodies (interim: escaped text only,
//! replaced by the full renderer).

pub fn render(body: &str, _mentions: &[String]) -> String {
    let mut out = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn mention_candidates(body: &str) -> Vec<String> {
    let mut out: Vec<String> = body
        .split(|c: char| !(c.is_ascii_alphanumeric() || "_-.@".contains(c)))
        .filter_map(|w| w.strip_prefix('@'))
        .map(|w| w.trim_end_matches('.').to_ascii_lowercase())
        .filter(|w| !w.is_empty() && w.len() <= 32)
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn excerpt(body: &str, max_chars: usize) -> String {
    let text: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max_chars {
        return text;
    }
    let mut cut: String = text.chars().take(max_chars).collect();
    cut.push('…');
    cut
}
