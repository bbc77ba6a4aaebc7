//! Normalisation of single fields, shared by the three sources.

use crate::RejectReason;
use tsunagu_domain::facility::PhoneNumber;
use tsunagu_domain::municipality::MunicipalityCode;

/// Full-width ASCII (U+FF01..U+FF5E) and the ideographic space folded to ASCII. Unlike the
/// domain's form folding this leaves the katakana long-vowel mark alone (names keep it).
pub(crate) fn fold_ascii(raw: &str) -> String {
    raw.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Trimmed text, or `None` when empty.
pub(crate) fn optional(raw: &str) -> Option<String> {
    let value = raw.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A phone or fax number the domain accepts (full-width digits folded); anything else is dropped.
pub(crate) fn phone(raw: &str) -> Option<String> {
    let value = raw.trim();
    if value.is_empty() {
        return None;
    }
    PhoneNumber::parse(value).ok().map(|p| p.as_str().to_owned())
}

/// `123-4567` from seven digits written any usual way (〒, full-width, with or without the hyphen).
pub(crate) fn postal_code(raw: &str) -> Option<String> {
    let digits: String = fold_ascii(raw).chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 7).then(|| format!("{}-{}", &digits[..3], &digits[3..]))
}

/// A latitude and longitude: `Ok(None)` when empty, zero, or outside Japan; an error naming
/// the value when it is not a number.
pub(crate) fn coordinates(lat: &str, lng: &str) -> Result<Option<(f64, f64)>, RejectReason> {
    let read = |raw: &str| -> Result<Option<f64>, RejectReason> {
        let folded = fold_ascii(raw);
        let value = folded.trim();
        if value.is_empty() {
            return Ok(None);
        }
        match value.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(RejectReason::BadCoordinate { value: raw.trim().to_owned() }),
        }
    };
    let (lat, lng) = (read(lat)?, read(lng)?);
    Ok(match (lat, lng) {
        (Some(lat), Some(lng)) if (20.0..=46.0).contains(&lat) && (122.0..=154.0).contains(&lng) => Some((lat, lng)),
        _ => None,
    })
}

/// A 6-digit 全国地方公共団体コード of a municipality (not of a prefecture), from a 6-digit
/// code, or a 5-digit one without its check digit (also when a leading zero was lost).
pub(crate) fn municipality_code(raw: &str) -> Option<String> {
    let digits: String = fold_ascii(raw).trim().to_owned();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let candidates = match digits.len() {
        6 => vec![digits],
        5 => vec![digits.clone(), format!("0{digits}"), with_check_digit(&digits)],
        4 => vec![with_check_digit(&format!("0{digits}"))],
        _ => return None,
    };
    candidates.into_iter().find_map(|c| {
        let code = MunicipalityCode::parse(&c).ok()?;
        (code.as_str().get(2..5) != Some("000")).then(|| code.as_str().to_owned())
    })
}

/// The code from a 都道府県コード (1–2 digits) and a 市区町村コード (1–3 digits, or already 5–6).
pub(crate) fn municipality_code_from_parts(prefecture: &str, city: &str) -> Option<String> {
    let (prefecture, city) = (fold_ascii(prefecture).trim().to_owned(), fold_ascii(city).trim().to_owned());
    if city.len() >= 5 {
        return municipality_code(&city);
    }
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(&prefecture) || !all_digits(&city) || prefecture.len() > 2 {
        return None;
    }
    municipality_code(&format!("{prefecture:0>2}{city:0>3}"))
}

fn with_check_digit(five: &str) -> String {
    let sum: u32 = five.bytes().zip([6, 5, 4, 3, 2]).map(|(b, w)| u32::from(b - b'0') * w).sum();
    format!("{five}{}", (11 - sum % 11) % 10)
}

const PREFECTURES: &[&str] = &[
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// Cities whose wards (区) are part of the municipality (政令指定都市).
const DESIGNATED_CITIES: &[&str] = &[
    "札幌市",
    "仙台市",
    "さいたま市",
    "千葉市",
    "横浜市",
    "川崎市",
    "相模原市",
    "新潟市",
    "静岡市",
    "浜松市",
    "名古屋市",
    "京都市",
    "大阪市",
    "堺市",
    "神戸市",
    "岡山市",
    "広島市",
    "北九州市",
    "福岡市",
    "熊本市",
];

/// Municipalities with 市/区/町/村/郡 inside their name, where "up to the first such
/// character" would cut them short.
const INNER_SUFFIX_NAMES: &[&str] = &[
    "四日市市",
    "廿日市市",
    "野々市市",
    "大町市",
    "十日町市",
    "東村山市",
    "武蔵村山市",
    "羽村市",
    "大村市",
    "田村市",
    "大和郡山市",
    "郡山市",
    "小郡市",
    "郡上市",
    "上市町",
    "下市町",
    "大町町",
    "玉村町",
];

/// The address with a leading prefecture name removed.
pub(crate) fn strip_prefecture(address: &str) -> &str {
    PREFECTURES.iter().find_map(|p| address.strip_prefix(p)).unwrap_or(address)
}

/// The municipality at the start of an address: 「柏市藤心６５０」 → 「柏市」,
/// 「千葉県千葉市中央区…」 → 「千葉市中央区」, 「印旛郡酒々井町…」 → 「酒々井町」,
/// 「東京都千代田区…」 → 「千代田区」.
pub(crate) fn municipality_from_address(address: &str) -> Option<String> {
    let rest = strip_prefecture(address.trim()).trim_start();
    // A county (郡) comes before a town or village: skip it, unless the name itself has 郡.
    let rest = match rest.char_indices().find(|&(_, c)| c == '郡') {
        Some((i, _))
            if i > 0
                && !INNER_SUFFIX_NAMES.iter().any(|n| rest.starts_with(n))
                && !rest[..i].contains(['市', '区', '町', '村']) =>
        {
            &rest[i + '郡'.len_utf8()..]
        }
        _ => rest,
    };
    let city = match INNER_SUFFIX_NAMES.iter().find(|n| rest.starts_with(**n)) {
        Some(name) => (*name).to_owned(),
        None => {
            // The first 市/区/町/村 that is not the name's first character (市川市, 町田市).
            let (i, c) = rest.char_indices().skip(1).find(|&(_, c)| matches!(c, '市' | '区' | '町' | '村'))?;
            rest[..i + c.len_utf8()].to_owned()
        }
    };
    if DESIGNATED_CITIES.contains(&city.as_str()) {
        let after = &rest[city.len()..];
        if let Some((i, c)) = after.char_indices().take(6).find(|&(_, c)| c == '区') {
            return Some(format!("{city}{}", &after[..i + c.len_utf8()]));
        }
    }
    Some(city)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn municipality_names_from_addresses() {
        let cases = [
            ("柏市藤心６５０", "柏市"),
            ("千葉県柏市柏４－１０－１１", "柏市"),
            ("柏市今谷上町１－３", "柏市"),
            ("千葉県市川市八幡1-1", "市川市"),
            ("千葉県市原市五井1", "市原市"),
            ("東京都町田市森野1", "町田市"),
            ("東京都千代田区丸の内１丁目", "千代田区"),
            ("千葉県千葉市中央区千葉港1-1", "千葉市中央区"),
            ("千葉市美浜区中瀬1", "千葉市美浜区"),
            ("大阪府大阪市北区梅田1", "大阪市北区"),
            ("印旛郡酒々井町中央台1", "酒々井町"),
            ("千葉県印旛郡栄町安食1", "栄町"),
            ("三重県四日市市諏訪町1-5", "四日市市"),
            ("福島県郡山市朝日1", "郡山市"),
            ("奈良県大和郡山市北郡山町", "大和郡山市"),
            ("富山県中新川郡上市町横法音寺", "上市町"),
            ("兵庫県神崎郡市川町西川辺", "市川町"),
            ("長野県大町市大町", "大町市"),
            ("東京都東村山市本町", "東村山市"),
            ("北海道虻田郡倶知安町北1条", "倶知安町"),
            ("沖縄県国頭郡東村平良", "東村"),
        ];
        for (address, expected) in cases {
            assert_eq!(municipality_from_address(address).as_deref(), Some(expected), "{address}");
        }
        assert_eq!(municipality_from_address("どこか"), None);
    }

    #[test]
    fn municipality_codes() {
        assert_eq!(municipality_code("122173").as_deref(), Some("122173"));
        assert_eq!(municipality_code("12217").as_deref(), Some("122173"));
        assert_eq!(municipality_code("11011").as_deref(), Some("011011"));
        assert_eq!(municipality_code("122174"), None);
        assert_eq!(municipality_code("120006"), None, "a prefecture");
        assert_eq!(municipality_code_from_parts("12", "217").as_deref(), Some("122173"));
        assert_eq!(municipality_code_from_parts("1", "101").as_deref(), Some("011011"));
        assert_eq!(municipality_code_from_parts("13", "101").as_deref(), Some("131016"));
        assert_eq!(municipality_code_from_parts("", "101"), None);
    }

    #[test]
    fn postal_codes_phones_and_coordinates() {
        assert_eq!(postal_code("277-0034").as_deref(), Some("277-0034"));
        assert_eq!(postal_code("〒２７７００３４").as_deref(), Some("277-0034"));
        assert_eq!(postal_code("27700"), None);
        assert_eq!(phone("0471-00-1001").as_deref(), Some("0471-00-1001"));
        assert_eq!(phone("０４－７１００－０００１").as_deref(), Some("04-7100-0001"));
        assert_eq!(phone("なし"), None);
        assert_eq!(coordinates("35.86", "139.97"), Ok(Some((35.86, 139.97))));
        assert_eq!(coordinates("0", "0"), Ok(None));
        assert_eq!(coordinates("0.0", "139.97"), Ok(None));
        assert_eq!(coordinates("", ""), Ok(None));
        assert_eq!(coordinates("51.5", "0.1"), Ok(None));
        assert_eq!(coordinates("北緯35度", "139"), Err(RejectReason::BadCoordinate { value: "北緯35度".into() }));
    }
}
