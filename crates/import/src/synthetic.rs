//! Synthetic open-data files for benchmarks and tests: clearly invented names, no real data.

use std::fmt::Write as _;

/// The 24-column header of the 介護サービス情報公表システム open data.
pub(crate) const CARE_OFFICES_HEADER: &str = "都道府県コード又は市町村コード,No,都道府県名,市区町村名,事業所名,事業所名カナ,\
サービスの種類,住所,方書（ビル名等）,緯度,経度,電話番号,FAX番号,法人番号,法人の名称,事業所番号,利用可能曜日,\
利用可能曜日特記事項,定員,URL,高齢者の方と障害者の方が同時一体的に利用できるサービス,\
介護保険の通常の指定基準を満たしている,障害福祉の通常の指定基準を満たしている,備考";

const SERVICES: [&str; 5] =
    ["訪問看護", "居宅介護支援", "訪問介護", "定期巡回・随時対応型訪問介護看護", "看護小規模多機能型居宅介護"];

/// A national-size care-offices CSV (UTF-8 with BOM, CRLF, the real 24 columns) with `rows`
/// invented offices spread over the 47 prefectures: unique 事業所番号, valid municipality
/// codes, phone numbers in the unassigned 0x-0000 range, and no coordinates on every 50th row
/// (as in the real files). For benchmarks; every row parses.
pub fn synthetic_care_offices_csv(rows: usize) -> Vec<u8> {
    let mut out = String::with_capacity(64 + rows * 330);
    out.push('\u{FEFF}');
    out.push_str(CARE_OFFICES_HEADER);
    out.push_str("\r\n");
    for (n, service) in (0..rows).zip(SERVICES.iter().cycle()) {
        let prefecture = n % 47 + 1;
        let city = 201 + (n / 47) % 20;
        let five = format!("{prefecture:02}{city:03}");
        let sum: u32 = five.bytes().zip([6, 5, 4, 3, 2]).map(|(b, w)| u32::from(b - b'0') * w).sum();
        let code = format!("{five}{}", (11 - sum % 11) % 10);
        let office = format!("{prefecture:02}{:08}", n % 100_000_000);
        let (lat, lng) = if n % 50 == 49 {
            ("0".to_owned(), "0".to_owned())
        } else {
            (format!("{:.6}", 26.0 + (n % 1900) as f64 * 0.01), format!("{:.6}", 127.0 + (n % 1700) as f64 * 0.01))
        };
        let building = if n % 3 == 0 { format!("合成ビル{}階", n % 9 + 1) } else { String::new() };
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{code},{n},合成県{prefecture},合成市{city},合成{service}事業所{n}（サンプル）,ゴウセイジギョウショ{n},{service},\
             合成県{prefecture}合成市{city}見本町{}-{},{building},{lat},{lng},0{}-0000-{:04},,{:013},合成法人{},{office},\
             月～金,,0,,,,,\r\n",
            n % 9 + 1,
            n % 30 + 1,
            prefecture % 9 + 1,
            n % 10_000,
            n % 10_000_000_000_000,
            n / 10,
        );
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_synthetic_row_parses() {
        let parsed =
            crate::parse(crate::Source::CareOffices, "jigyosho_synthetic.csv", &synthetic_care_offices_csv(500))
                .unwrap();
        assert_eq!((parsed.rows.len(), parsed.rejected.len(), parsed.encoding), (500, 0, "UTF-8"));
        assert!(parsed.rows.iter().all(|r| r.municipality_code.is_some() && r.phone.is_some()));
        assert_eq!(parsed.rows.iter().filter(|r| r.latitude.is_none()).count(), 10);
        assert_eq!(parsed.rows[0].line, 2);
    }
}
