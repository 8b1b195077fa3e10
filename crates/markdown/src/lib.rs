//! Markdown that shop staff write (product descriptions, content pages), rendered to HTML that
//! is safe to embed in the storefront. Safe by construction rather than by cleaning afterwards:
//! raw HTML in the source (blocks and inline) is turned into text, so it is escaped like any
//! other text; a link or image whose destination is not `http(s):`, `mailto:`, a relative path
//! or a fragment loses its destination (`javascript:`, `data:`, `vbscript:` never reach an
//! `href` or `src`). Everything else is what CommonMark plus tables and strikethrough renders.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Renders `source` to sanitized HTML.
pub fn to_safe_html(source: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: safe_url(dest_url), title, id })
        }
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The URL when its scheme is one we allow (or it has none), else an empty destination.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    if is_safe_url(&url) { url } else { CowStr::Borrowed("") }
}

/// Whether a link destination written by staff may reach an `href` or `src`: `http(s):`,
/// `mailto:`, or no scheme at all (a relative path or a fragment).
pub fn is_safe_url(url: &str) -> bool {
    // Browsers ignore ASCII whitespace and control characters inside a scheme ("java\tscript:").
    let squeezed: String = url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control()).collect();
    let lower = squeezed.to_ascii_lowercase();
    let scheme_end = lower.find(':');
    let path_start = lower.find(['/', '?', '#']).unwrap_or(lower.len());
    match scheme_end {
        Some(end) if end < path_start => matches!(&lower[..end], "http" | "https" | "mailto"),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_raw_html_is_escaped() {
        let html = to_safe_html("# Soft **cotton**\n\n<script>alert(1)</script>\n\nHi <img src=x onerror=alert(1)>");
        assert!(html.contains("<h1>Soft <strong>cotton</strong></h1>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn only_safe_link_schemes_survive() {
        for bad in
            ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,x", "vbscript:x"]
        {
            let html = to_safe_html(&format!("[click]({bad}) ![i]({bad})"));
            let lower = html.to_ascii_lowercase();
            for attribute in ["href=\"", "src=\""] {
                for value in lower.split(attribute).skip(1) {
                    let value = value.split('"').next().unwrap_or_default();
                    assert!(!value.contains("script") && !value.starts_with("data"), "{bad}: {html}");
                }
            }
        }
        let html =
            to_safe_html("[a](https://example.com/x) [b](/relative) [c](#frag) [d](mailto:a@b.c) [e](path:with/colon)");
        for kept in ["https://example.com/x", "/relative", "#frag", "mailto:a@b.c"] {
            assert!(html.contains(&format!("href=\"{kept}\"")), "{kept}: {html}");
        }
        assert!(!html.contains("path:with"), "{html}");
    }
}
