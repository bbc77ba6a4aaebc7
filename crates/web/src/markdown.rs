//! Markdown written by the municipality's staff, rendered for citizens.
//! Sanitised by construction rather than by filtering HTML afterwards: raw
//! HTML in the text is shown as text (never passed through), every text is
//! escaped by the renderer, links go only to http(s), mailto, tel or this
//! site, images become links (the page's CSP loads no outside images), and
//! headings start at level 2 (the page's title is its h1).

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd, html};

/// The HTML of `markdown`, safe to insert into a page.
pub fn render(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    // Whether the link being rendered was kept (links do not nest).
    let mut link_kept = true;
    let events = parser.filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Heading { level, id, classes, attrs }) => {
            Some(Event::Start(Tag::Heading { level: demoted(level), id, classes, attrs }))
        }
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(demoted(level)))),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            link_kept = is_safe_url(&dest_url);
            link_kept.then_some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
        }
        Event::Start(Tag::Image { dest_url, title, id, .. }) => {
            link_kept = is_safe_url(&dest_url);
            link_kept.then_some(Event::Start(Tag::Link { link_type: LinkType::Inline, dest_url, title, id }))
        }
        Event::End(TagEnd::Link | TagEnd::Image) => link_kept.then_some(Event::End(TagEnd::Link)),
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

fn demoted(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

/// http(s), mailto and tel links, and links within this site (a path, a
/// fragment, a relative name); nothing else (javascript:, data:, //host ...).
fn is_safe_url(url: &CowStr<'_>) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if ["https://", "http://", "mailto:", "tel:"].iter().any(|s| lower.starts_with(s)) {
        return true;
    }
    if url.starts_with("//") || url.starts_with("\\\\") || url.starts_with("/\\") {
        return false;
    }
    // No scheme: a colon only after a path, query or fragment has begun.
    let scheme_end = url.find(':');
    let path_start = url.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (None, _) => !url.chars().any(char::is_control),
        (Some(colon), Some(path)) => path < colon && !url.chars().any(char::is_control),
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_plain_safe_html() {
        assert_eq!(
            render("# 在宅医療とは\n\n**自宅**で受ける医療です。"),
            "<h2>在宅医療とは</h2>\n<p><strong>自宅</strong>で受ける医療です。</p>\n"
        );
        assert_eq!(render("- 訪問診療\n- 往診"), "<ul>\n<li>訪問診療</li>\n<li>往診</li>\n</ul>\n");
    }

    #[test]
    fn raw_html_and_scripts_are_shown_as_text() {
        let html = render("<script>alert(1)</script>\n\n本文 <img src=x onerror=alert(1)> <b>太字</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "{html}");
    }

    #[test]
    fn only_safe_links_survive_and_images_become_links() {
        assert_eq!(
            render("[市のサイト](https://www.city.kashiwa.lg.jp/)"),
            "<p><a href=\"https://www.city.kashiwa.lg.jp/\">市のサイト</a></p>\n"
        );
        assert_eq!(render("[電話](tel:04-7167-1111)"), "<p><a href=\"tel:04-7167-1111\">電話</a></p>\n");
        assert_eq!(render("[地図](/m/122173/map)"), "<p><a href=\"/m/122173/map\">地図</a></p>\n");
        for bad in ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil.example/", "vbscript:x"] {
            let html = render(&format!("[押して]({bad})"));
            assert_eq!(html, "<p>押して</p>\n", "{bad}");
        }
        assert_eq!(
            render("![講座の様子](https://example.org/a.jpg)"),
            "<p><a href=\"https://example.org/a.jpg\">講座の様子</a></p>\n"
        );
        assert_eq!(render("![x](javascript:alert(1))"), "<p>x</p>\n");
        // Attribute injection through the URL is escaped by the renderer.
        let html = render("[a](https://example.org/\"onmouseover=alert(1))");
        assert!(!html.contains("\"onmouseover"), "{html}");
    }

    #[test]
    fn autolinks_and_tables_work() {
        assert!(render("<https://example.org>").contains("<a href=\"https://example.org\">"));
        assert!(render("| 曜日 | 時間 |\n|---|---|\n| 月 | 9時 |").contains("<table>"));
    }
}
