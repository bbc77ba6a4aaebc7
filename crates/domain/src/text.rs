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

#[cfg(test)]
mod tests {
    use super::*;

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
