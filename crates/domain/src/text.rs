//! Helpers for free text typed by people on phones.

use crate::ValidationError;

/// A value with a stable code and a name in Japanese and English.
pub trait Label {
    fn code(&self) -> &'static str;
    fn label_ja(&self) -> &'static str;
    fn label_en(&self) -> &'static str;
}

impl<T: Label> Label for &T {
    fn code(&self) -> &'static str {
        (*self).code()
    }
    fn label_ja(&self) -> &'static str {
        (*self).label_ja()
    }
    fn label_en(&self) -> &'static str {
        (*self).label_en()
    }
}

/// Trims, and refuses empty text, text over `max` characters and control characters.
pub fn required(field: &'static str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "required"));
    }
    checked(field, value, max)
}

/// Like [`required`] but empty input means "none".
pub fn optional(field: &'static str, raw: &str, max: usize) -> Result<Option<String>, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    checked(field, value, max).map(Some)
}

/// Like [`optional`], for text areas: keeps line breaks and tabs, normalises CRLF.
pub fn optional_multiline(field: &'static str, raw: &str, max: usize) -> Result<Option<String>, ValidationError> {
    let value = raw.replace("\r\n", "\n");
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > max {
        return Err(ValidationError::new(field, "too_long"));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValidationError::new(field, "control_characters"));
    }
    Ok(Some(value.to_owned()))
}

fn checked(field: &'static str, value: &str, max: usize) -> Result<String, ValidationError> {
    if value.chars().count() > max {
        return Err(ValidationError::new(field, "too_long"));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(ValidationError::new(field, "control_characters"));
    }
    Ok(value.to_owned())
}

/// Full-width ASCII digits and letters (common in Japanese forms) folded to half-width.
pub fn fold_full_width_ascii(raw: &str) -> String {
    raw.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            'ー' | '―' | '‐' => '-',
            _ => c,
        })
        .collect()
}

/// Hiragana, katakana (full- and half-width) and the long-vowel mark.
pub fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}')
}

/// Half-width katakana to full-width (ｶｼﾜ -> カシワ), voiced marks combined.
fn half_to_full_katakana(raw: &str) -> String {
    const TABLE: &str = "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";
    let table: Vec<char> = TABLE.chars().collect();
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\u{FF9E}' | '\u{FF9F}' => {
                // Dakuten / handakuten: modify the previous character.
                if let Some(prev) = out.pop() {
                    let offset = if c == '\u{FF9E}' { 1 } else { 2 };
                    let combined = match prev {
                        'カ'..='ト' | 'ハ'..='ホ' => char::from_u32(prev as u32 + offset),
                        'ウ' if offset == 1 => Some('ヴ'),
                        _ => None,
                    };
                    out.push(combined.unwrap_or(prev));
                }
            }
            '\u{FF66}'..='\u{FF9D}' => out.push(table.get((c as u32 - 0xFF66) as usize).copied().unwrap_or(c)),
            _ => out.push(c),
        }
    }
    out
}

/// The form text is searched by: full-width ASCII folded, half-width katakana
/// widened, katakana folded to hiragana, lower-case, spaces removed. So "ｶｼﾜ",
/// "カシワ" and "かしわ" all find 柏 (かしわ).
pub fn search_key(raw: &str) -> String {
    // Widen first: the half-width long-vowel mark becomes 'ー', which the folding then treats
    // exactly like a typed 'ー', so a key is the same however it was typed (and stable).
    fold_full_width_ascii(&half_to_full_katakana(raw))
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c.to_lowercase().next().unwrap_or(c),
        })
        .collect()
}

/// A search key with its hiragana turned to katakana, to match names stored in
/// katakana (フリガナ) whichever kana the searcher typed.
pub fn katakana_search_key(raw: &str) -> String {
    search_key(raw)
        .chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The key furigana as published (full-width katakana with 'ー', as in the
/// open data) is searched by: [`katakana_search_key`], with the long-vowel
/// mark kept as 'ー' (the search key turns it into '-').
pub fn furigana_search_key(raw: &str) -> String {
    katakana_search_key(raw).replace('-', "ー")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furigana_keys_keep_the_long_vowel_mark() {
        assert_eq!(furigana_search_key("すてーしょん"), "ステーション");
        assert_eq!(furigana_search_key("ｽﾃｰｼｮﾝ"), "ステーション");
        assert_eq!(furigana_search_key("ステーション さくら"), "ステーションサクラ");
    }

    #[test]
    fn katakana_keys_match_furigana_however_typed() {
        assert_eq!(katakana_search_key("さとう"), "サトウ");
        assert_eq!(katakana_search_key("ｻﾄｳ"), "サトウ");
        assert_eq!(katakana_search_key("Sato"), "sato");
    }

    #[test]
    fn search_keys_fold_kana_and_width() {
        assert_eq!(search_key("カシワ ハナコ"), "かしわはなこ");
        assert_eq!(search_key("ｶｼﾜ ﾊﾅｺ"), "かしわはなこ");
        assert_eq!(search_key("ｶﾞｯｺｳ ﾊﾟﾝ"), "がっこうぱん");
        assert_eq!(search_key("ＳＡＴＯ　一郎"), "sato一郎");
        assert_eq!(search_key("かしわ"), "かしわ");
    }

    #[test]
    fn the_long_vowel_mark_folds_alike_in_either_width() {
        // Found by fuzzing (fuzz/, target domain_forms): "ｰ" keyed as "ー" but "ー" as "-", so a
        // name typed in half-width kana was not found by the same name typed in full width.
        assert_eq!(search_key("ｺｰﾋｰ"), search_key("コーヒー"));
        assert_eq!(katakana_search_key("ｺｰﾋｰ"), katakana_search_key("こーひー"));
        for raw in ["ｰ", "ｰﾞ", "ｶﾞｰ", "ー"] {
            assert_eq!(search_key(&search_key(raw)), search_key(raw), "{raw}");
        }
    }

    #[test]
    fn folds_full_width_digits_and_hyphens() {
        assert_eq!(fold_full_width_ascii("０４－７１２３"), "04-7123");
        assert_eq!(fold_full_width_ascii("ＡＢｃ　1"), "ABc 1");
    }

    #[test]
    fn required_trims_and_refuses_empty_and_long() {
        assert_eq!(required("name", "  柏  ", 10), Ok("柏".to_owned()));
        assert_eq!(required("name", "   ", 10), Err(ValidationError::new("name", "required")));
        assert_eq!(required("name", "あいう", 2), Err(ValidationError::new("name", "too_long")));
        assert_eq!(required("name", "a\u{0007}b", 10), Err(ValidationError::new("name", "control_characters")));
        assert_eq!(optional("name", " ", 10), Ok(None));
    }
}

/// A cell of a CSV we hand out, made safe to open in a spreadsheet: text that begins with
/// `=`, `+`, `-`, `@`, a tab or a carriage return would be read by Excel or LibreOffice as a
/// formula (`=HYPERLINK(...)`, `=cmd|...`), so it gets a leading `'`, which spreadsheets show
/// as text and do not run (OWASP "CSV injection").
///
/// Use it for text that people or imported files supply (names, addresses, free text,
/// codes read from files); not for numbers the program formats itself (coordinates, counts),
/// where a leading `-` is a legitimate negative number and must stay a number.
pub fn csv_text_cell(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{text}")),
        _ => std::borrow::Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod csv_cell_tests {
    use super::csv_text_cell;

    #[test]
    fn formula_starts_are_neutralised() {
        for (raw, safe) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+81 3", "'+81 3"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
        ] {
            assert_eq!(csv_text_cell(raw), safe);
        }
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for text in ["", "架空訪問看護ステーション", "a=b", "'=already quoted", " =x", "04-0000-0001", "35.8"]
        {
            assert_eq!(csv_text_cell(text), text);
        }
    }
}
