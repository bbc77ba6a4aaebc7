//! Where a `?next=` (or any other return-to parameter) may send the browser:
//! only to a path of this site. One function, used by every handler that takes one.

/// `next` when it is a plain same-site absolute path, else `/`.
///
/// Accepted: starts with exactly one `/`, the second character is neither `/` nor `\`,
/// and no backslash or control character anywhere (browsers drop tabs and newlines from
/// URLs and read `\` as `/`, so `/\t/host` and `/\host` would become `//host`, another
/// site; a newline would also make the `Location` header invalid, a 500). The same holds
/// for the value percent-decoded once, so `/%2F%2Fhost` or `/%5Chost` are refused too.
pub(crate) fn same_site_path(next: Option<&str>) -> &str {
    match next {
        Some(n) if is_plain_path(n) && is_plain_path(&percent_decoded(n)) => n,
        _ => "/",
    }
}

fn is_plain_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c == '\\' || c.is_control())
}

/// `%XX` sequences decoded (invalid ones kept as they are); bytes that are not UTF-8
/// become U+FFFD, which is harmless here.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|h| char::from(*h).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'%'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn same_site_paths_are_kept() {
        for path in ["/", "/home", "/patients/0191?notice=saved#e-1", "/m/122173?q=%E8%A8%AA", "/a/b//c", "/日本"] {
            assert_eq!(same_site_path(Some(path)), path);
        }
    }

    #[test]
    fn anything_else_goes_home() {
        for bad in [
            "",
            "home",
            "https://evil.example/",
            "https:/evil.example",
            "javascript:alert(1)",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/home\r\nSet-Cookie: x=1",
            "/a\\b",
            "/a\u{7f}",
            "/a\u{85}",
            "\t/home",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "/%09/evil.example",
            "/home%0d%0aSet-Cookie:%20x=1",
            "%2F%2Fevil.example",
        ] {
            assert_eq!(same_site_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(same_site_path(None), "/");
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decoded("/a%2Fb%zz%4"), "/a/b%zz%4");
        assert_eq!(percent_decoded("/%E6%97%A5"), "/日");
    }

    proptest! {
        #[test]
        fn an_accepted_path_stays_on_the_site(next in any::<String>()) {
            let kept = same_site_path(Some(&next));
            prop_assert!(kept.starts_with('/'));
            prop_assert!(!kept.starts_with("//"));
            prop_assert!(!kept.contains('\\'));
            prop_assert!(!kept.chars().any(char::is_control));
        }

        #[test]
        fn slashes_and_escapes_mixed_stay_on_the_site(next in "[/\\\\%2FfC5c09\t\nax:.]{0,12}") {
            let kept = same_site_path(Some(&next));
            prop_assert!(kept == "/" || kept == next);
            prop_assert!(kept.starts_with('/') && !kept.starts_with("//") && !kept.contains('\\'));
            let decoded = percent_decoded(kept);
            prop_assert!(!decoded.starts_with("//") && !decoded.contains('\\'));
            prop_assert!(!decoded.chars().any(char::is_control));
        }
    }
}
