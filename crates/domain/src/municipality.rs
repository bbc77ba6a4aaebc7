//! Municipalities (tenants), identified by their 全国地方公共団体コード.

use crate::{ValidationError, text};
use serde::{Deserialize, Serialize};

/// A 6-digit 全国地方公共団体コード whose last digit is a valid check digit
/// (JIS X 0402: weights 6..2 on the first five digits, check = (11 - sum mod 11) mod 10).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MunicipalityCode(String);

impl MunicipalityCode {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let folded = text::fold_full_width_ascii(raw.trim());
        if folded.len() != 6 || !folded.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new("municipality_code", "six_digits"));
        }
        let digits: Vec<u32> = folded.bytes().map(|b| u32::from(b - b'0')).collect();
        if digits.get(5) != Some(&check_digit(&digits)) {
            return Err(ValidationError::new("municipality_code", "check_digit"));
        }
        Ok(Self(folded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first two digits: the prefecture (都道府県コード).
    pub fn prefecture(&self) -> &str {
        self.0.get(..2).unwrap_or_default()
    }
}

fn check_digit(digits: &[u32]) -> u32 {
    let sum: u32 = digits.iter().zip([6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
    (11 - sum % 11) % 10
}

impl TryFrom<String> for MunicipalityCode {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MunicipalityCode> for String {
    fn from(value: MunicipalityCode) -> Self {
        value.0
    }
}

impl std::fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an operator types to register a municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMunicipality {
    pub code: MunicipalityCode,
    pub name: String,
}

impl NewMunicipality {
    pub fn parse(code: &str, name: &str) -> Result<Self, ValidationError> {
        Ok(Self { code: MunicipalityCode::parse(code)?, name: text::required("name", name, 40)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_real_codes() {
        for code in ["122173", "131016", "011002", "010006", "271004", "472018"] {
            assert!(MunicipalityCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn accepts_full_width_digits() {
        assert_eq!(MunicipalityCode::parse("１２２１７３").map(|c| c.0), Ok("122173".to_owned()));
    }

    #[test]
    fn refuses_wrong_check_digit_and_shape() {
        assert_eq!(MunicipalityCode::parse("122174"), Err(ValidationError::new("municipality_code", "check_digit")));
        for bad in ["12217", "1221733", "12217a", "", "12 173"] {
            assert_eq!(
                MunicipalityCode::parse(bad),
                Err(ValidationError::new("municipality_code", "six_digits")),
                "{bad}"
            );
        }
    }

    #[test]
    fn prefecture_is_the_first_two_digits() {
        assert_eq!(MunicipalityCode::parse("122173").map(|c| c.prefecture().to_owned()), Ok("12".into()));
    }

    proptest! {
        /// Exactly one of the ten possible last digits is valid for any five-digit stem.
        #[test]
        fn exactly_one_check_digit_per_stem(stem in 0u32..100_000) {
            let valid = (0..10)
                .filter(|d| MunicipalityCode::parse(&format!("{stem:05}{d}")).is_ok())
                .count();
            prop_assert_eq!(valid, 1);
        }
    }
}
