//! The parser on the repository's synthetic files (tests/fixtures/SYNTHETIC.md), and on
//! the real open-data excerpt where it is present beside the repository
//! (`../shared/fixtures/opendata/`, with its source notice there).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::disallowed_methods)]

use time::macros::date;
use tsunagu_domain::facility::FacilityKind;
use tsunagu_import::{
    FileError, Flag, Options, Parsed, RejectReason, Rejected, Row, Source, parse, parse_with,
    synthetic_care_offices_csv,
};

const STANDARDS_CSV: &[u8] = include_bytes!("fixtures/todokede_juri_ika_synthetic.csv");
const STANDARDS_XLSX: &[u8] = include_bytes!("fixtures/todokede_juri_ika_synthetic.xlsx");
const STANDARDS_NAME: &str = "todokede_juri_ika_synthetic";
const CARE_CSV: &[u8] = include_bytes!("fixtures/jigyosho_130_synthetic.csv");
const CLINICS_CSV: &[u8] = include_bytes!("fixtures/02-1_clinic_facility_info_synthetic.csv");
const CLINICS_NAME: &str = "02-1_clinic_facility_info_synthetic.csv";

fn row<'a>(parsed: &'a Parsed, source_id: &str) -> &'a Row {
    parsed.rows.iter().find(|r| r.source_id == source_id).unwrap_or_else(|| panic!("no row {source_id}"))
}

fn standards_csv() -> Parsed {
    parse(Source::FacilityStandards, &format!("{STANDARDS_NAME}.csv"), STANDARDS_CSV).unwrap()
}

#[test]
fn the_synthetic_list_gives_nine_facilities_from_twenty_three_notifications() {
    let parsed = standards_csv();
    assert_eq!(parsed.encoding, "UTF-8");
    assert_eq!(parsed.rejected, vec![]);
    let ids: Vec<&str> = parsed.rows.iter().map(|r| r.source_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "1212190015",
            "1212190023",
            "1212190031",
            "1212190049",
            "1212190056",
            "1212190064",
            "1212190072",
            "1212190080",
            "1212190098"
        ]
    );
    let notifications: usize = parsed.rows.iter().map(|r| r.flags.len()).sum();
    assert_eq!(notifications, 22, "23 data rows, one of them (2190015) without any 届出");

    let yushokai = row(&parsed, "1212190072");
    assert_eq!(yushokai.name, "医療法人社団見本会見本在宅クリニック（サンプル）");
    assert_eq!(yushokai.kind, FacilityKind::Clinic);
    assert_eq!(
        yushokai.flags,
        vec![
            (Flag::HomeCareSupportClinic(2), Some(date!(2022 - 04 - 01))),
            (Flag::EnhancedPalliativeClinic, Some(date!(2017 - 04 - 01))),
            (Flag::ComprehensiveHomeMedicalManagement(1), Some(date!(2015 - 04 - 01))),
        ]
    );
    assert_eq!(yushokai.address, "千葉県柏市試験原４－１０－１２試験ビル１階");
    assert_eq!(yushokai.postal_code.as_deref(), Some("277-0004"));
    assert_eq!(yushokai.phone.as_deref(), Some("04-0000-1007"));
    assert_eq!(yushokai.fax.as_deref(), Some("04-0000-2007"));
    assert_eq!(yushokai.municipality_name.as_deref(), Some("柏市"));
    assert_eq!(yushokai.municipality_code, None, "the column is empty in this edition");
    assert_eq!((yushokai.latitude, yushokai.longitude), (None, None));
    assert_eq!(yushokai.line, 16);

    let yamaguchi = row(&parsed, "1212190015");
    assert_eq!(yamaguchi.flags, vec![]);
    assert_eq!((yamaguchi.name.as_str(), yamaguchi.kind), ("見本医院（サンプル）", FacilityKind::Clinic));
    assert_eq!(yamaguchi.address, "千葉県柏市試験心６５０");
    assert_eq!(yamaguchi.line, 2);

    // 病床数 makes a hospital; so does 病院 in the name.
    let fukamachi = row(&parsed, "1212190023");
    assert_eq!(fukamachi.kind, FacilityKind::Hospital);
    assert_eq!(fukamachi.name, "医療法人　見本台病院（サンプル）", "full-width spaces inside are kept");
    assert_eq!(
        fukamachi.flags,
        vec![
            (Flag::HomeCareSupportHospital(3), Some(date!(2022 - 10 - 01))),
            (Flag::ComprehensiveHomeMedicalManagement(1), Some(date!(2019 - 08 - 01))),
        ]
    );
    assert_eq!(row(&parsed, "1212190098").kind, FacilityKind::Hospital);
    assert_eq!(
        row(&parsed, "1212190031").flags,
        vec![(Flag::ComprehensiveHomeMedicalManagement(1), Some(date!(2006 - 04 - 01)))]
    );

    let makoto = row(&parsed, "1212190080");
    let codes: Vec<String> = makoto.flags.iter().map(|(f, _)| f.code()).collect();
    assert_eq!(
        codes,
        [
            "情報通信",
            "home_care_support_clinic_3",
            "comprehensive_home_medical_management_1",
            "comprehensive_home_medical_management_2",
            "酸単"
        ]
    );
    assert_eq!(makoto.address, "千葉県柏市試験中央１－２－２５　試験ビル２階");
    assert_eq!(row(&parsed, "1212190056").flags[1], (Flag::Other("医療ＤＸ".into()), Some(date!(2024 - 11 - 01))));
    assert_eq!(row(&parsed, "1212190064").flags[3], (Flag::HomeCancerCare, Some(date!(2014 - 05 - 01))));
}

#[test]
fn the_xlsx_and_the_csv_give_the_same_rows() {
    let csv = standards_csv();
    let xlsx = parse(Source::FacilityStandards, &format!("{STANDARDS_NAME}.xlsx"), STANDARDS_XLSX).unwrap();
    assert_eq!(xlsx.encoding, "xlsx");
    assert_eq!(xlsx.rejected, vec![]);
    // The workbook has three rows before its header: lines are sheet rows, three further down.
    let shifted: Vec<Row> = csv.rows.iter().map(|r| Row { line: r.line + 3, ..r.clone() }).collect();
    assert_eq!(xlsx.rows, shifted);
    assert_eq!(xlsx.rows[0].line, 5);
}

#[test]
fn a_file_of_another_source_is_refused_whole() {
    let err = parse(Source::CareOffices, "todokede.csv", STANDARDS_CSV).unwrap_err();
    assert_eq!(
        err,
        FileError::MissingColumns(vec!["事業所名".into(), "サービスの種類".into(), "住所".into(), "事業所番号".into()])
    );
    assert!(err.message_ja().contains("事業所番号"));
    let err = parse(Source::MedicalInstitutions, "todokede.xlsx", STANDARDS_XLSX).unwrap_err();
    assert_eq!(err, FileError::MissingColumns(vec!["ID".into(), "正式名称 | 名称".into(), "所在地".into()]));
    assert!(matches!(
        parse(Source::FacilityStandards, "jigyosho_130.csv", CARE_CSV),
        Err(FileError::MissingColumns(_))
    ));
    assert!(matches!(parse(Source::CareOffices, CLINICS_NAME, CLINICS_CSV), Err(FileError::MissingColumns(_))));
    assert!(matches!(parse(Source::FacilityStandards, "list.xlsx", STANDARDS_CSV), Err(FileError::NotXlsx(_))));
    assert_eq!(parse(Source::CareOffices, "empty.csv", b"").unwrap_err(), FileError::Empty);
}

#[test]
fn bad_rows_of_the_standards_list_are_rejected_one_by_one() {
    let text = std::str::from_utf8(STANDARDS_CSV).unwrap();
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
    lines[2] = lines[2].replace("医療法人　見本台病院（サンプル）", ""); // line 3: 2190023's first row loses its name
    lines[4] = lines[4].replace("平成18年 4月 1日", "平成十八年"); // line 5: 2190031's only row, a bad date
    lines[7] = lines[7].replace(",2190056,", ",2115211,"); // line 8: a wrong check digit
    lines[22] = lines[22].replace("酸単", "在医総管２"); // line 23: 在医総管２ twice for 2190080
    lines[23] = lines[23].replace(",12,千葉県,", ",,千葉県,"); // line 24: no 都道府県コード
    let parsed = parse(Source::FacilityStandards, "edited.csv", lines.join("\r\n").as_bytes()).unwrap();
    let reasons: Vec<(usize, Option<&str>, &RejectReason)> =
        parsed.rejected.iter().map(|r| (r.line, r.source_id.as_deref(), &r.reason)).collect();
    assert_eq!(
        reasons,
        vec![
            (3, Some("1212190023"), &RejectReason::MissingName),
            (5, Some("1212190031"), &RejectReason::BadDate { value: "平成十八年".into() }),
            (8, Some("2115211"), &RejectReason::BadId { value: "12-2115211".into() }),
            (23, Some("1212190080"), &RejectReason::Duplicate),
            (24, Some("2190098"), &RejectReason::BadId { value: "2190098".into() }),
        ]
    );
    let fukamachi = row(&parsed, "1212190023");
    assert_eq!((fukamachi.line, fukamachi.flags.len()), (4, 1), "built from its second row");
    assert_eq!(row(&parsed, "1212190031").flags, vec![], "kept, without the notification");
    assert_eq!(row(&parsed, "1212190056").flags.len(), 3);
    assert_eq!(parsed.rows.len(), 8, "2190098 has no prefecture, so no 医療機関コード");
}

#[test]
fn care_offices_keep_good_rows_and_reject_bad_ones_with_their_lines() {
    let parsed = parse(Source::CareOffices, "jigyosho_130_synthetic.csv", CARE_CSV).unwrap();
    assert_eq!(parsed.encoding, "UTF-8");
    assert_eq!(
        parsed.rejected,
        vec![
            Rejected { line: 4, source_id: Some("1260000003".into()), reason: RejectReason::MissingName },
            Rejected { line: 6, source_id: Some("1260000001".into()), reason: RejectReason::Duplicate },
            Rejected {
                line: 8,
                source_id: Some("1260000007".into()),
                reason: RejectReason::BadCoordinate { value: "北緯35度".into() },
            },
        ]
    );
    let lines: Vec<usize> = parsed.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 5, 7]);

    let sakura = row(&parsed, "1260000001");
    assert_eq!(sakura.name, "架空訪問看護ステーションさくら（サンプル）", "outer full-width spaces trimmed");
    assert_eq!(sakura.kind, FacilityKind::HomeNursingStation);
    assert_eq!(sakura.service.as_deref(), Some("訪問看護"));
    assert_eq!(sakura.address, "千葉県柏市見本町１－２－３　見本ビル２階");
    assert_eq!(sakura.municipality_code.as_deref(), Some("122173"));
    assert_eq!(sakura.municipality_name.as_deref(), Some("柏市"));
    assert_eq!(sakura.name_kana.as_deref(), Some("カクウホウモンカンゴステーションサクラ"));
    assert_eq!((sakura.latitude, sakura.longitude), (Some(35.8676), Some(139.9758)));
    assert_eq!((sakura.phone.as_deref(), sakura.fax.as_deref()), (Some("04-0000-0001"), Some("04-0000-0002")));
    assert_eq!(sakura.postal_code, None);

    let momiji = row(&parsed, "1270000002");
    assert_eq!(momiji.kind, FacilityKind::CareManagementOffice);
    assert_eq!((momiji.latitude, momiji.longitude), (None, None), "a coordinate of 0 means none");
    assert_eq!(momiji.phone.as_deref(), Some("04-0000-0003"), "full-width digits folded");
    assert_eq!(row(&parsed, "1270000004").kind, FacilityKind::HomeHelpOffice);
    let kaede = row(&parsed, "1290000006");
    assert_eq!((kaede.kind, kaede.service.as_deref()), (FacilityKind::Other, Some("定期巡回・随時対応型訪問介護看護")));
}

#[test]
fn a_shift_jis_file_gives_the_same_rows() {
    let text = std::str::from_utf8(CARE_CSV.strip_prefix(b"\xEF\xBB\xBF").unwrap()).unwrap();
    let (sjis, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!had_errors);
    let utf8 = parse(Source::CareOffices, "jigyosho_130_synthetic.csv", CARE_CSV).unwrap();
    let shift_jis = parse(Source::CareOffices, "jigyosho_130_synthetic.csv", &sjis).unwrap();
    assert_eq!(shift_jis.encoding, "Shift_JIS");
    assert_eq!((shift_jis.rows, shift_jis.rejected), (utf8.rows, utf8.rejected));

    let mut broken = sjis.into_owned();
    broken.extend_from_slice(b"\x81\x20\r\n");
    assert_eq!(parse(Source::CareOffices, "x.csv", &broken).unwrap_err(), FileError::Encoding);
}

#[test]
fn medical_institutions_from_the_navii_layout() {
    let parsed = parse(Source::MedicalInstitutions, CLINICS_NAME, CLINICS_CSV).unwrap();
    assert_eq!(
        parsed.rejected,
        vec![
            Rejected {
                line: 5,
                source_id: Some("1221700000004".into()),
                reason: RejectReason::UnknownKind { value: "9".into() },
            },
            Rejected { line: 6, source_id: Some("1221700000005".into()), reason: RejectReason::MissingName },
            Rejected { line: 7, source_id: Some("1221700000001".into()), reason: RejectReason::Duplicate },
        ]
    );
    assert_eq!(parsed.rows.len(), 3);
    let first = row(&parsed, "1221700000001");
    assert_eq!(first.kind, FacilityKind::Clinic);
    assert_eq!(first.name, "医療法人社団架空会　架空在宅クリニック（サンプル）");
    assert_eq!(first.name_kana.as_deref(), Some("イリョウホウジンシャダンカクウカイ　カクウザイタククリニック"));
    assert_eq!(first.address, "千葉県柏市見本町１－１－１");
    assert_eq!((first.latitude, first.longitude), (Some(35.8621), Some(139.9712)));
    assert_eq!(
        first.municipality_code.as_deref(),
        Some("122173"),
        "都道府県コード 12 + 市区町村コード 217 + check digit"
    );
    assert_eq!(first.municipality_name.as_deref(), Some("柏市"));
    assert_eq!((first.phone.as_ref(), first.postal_code.as_ref()), (None, None));
    let zero = row(&parsed, "1221700000002");
    assert_eq!((zero.latitude, zero.longitude), (None, None), "0.0 means none");
    assert_eq!(row(&parsed, "1221700000003").kind, FacilityKind::Clinic, "empty 機関区分: the file name says clinic");

    // Without a telling file name the empty 機関区分 has nothing to fall back on, unless given.
    let renamed = parse(Source::MedicalInstitutions, "export.csv", CLINICS_CSV).unwrap();
    assert_eq!(renamed.rejected[0].reason, RejectReason::UnknownKind { value: String::new() });
    let given = Options { medical_kind: Some(FacilityKind::Clinic) };
    assert_eq!(parse_with(Source::MedicalInstitutions, "export.csv", CLINICS_CSV, given).unwrap().rows.len(), 3);
}

#[test]
fn pharmacies_name_their_columns_differently_and_the_kind_comes_from_the_file() {
    let csv = "\u{FEFF}\"ID\",\"名称\",\"フリガナ\",\"都道府県コード\",\"市区町村コード\",\"所在地\",\"所在地座標（緯度）\",\"所在地座標（経度）\"\r\n\
               \"1221750000001\",\"架空みほん薬局（サンプル）\",\"カクウミホンヤッキョク\",\"12\",\"217\",\"千葉県柏市見本町９－９\",35.86,139.97\r\n";
    let parsed = parse(Source::MedicalInstitutions, "05_pharmacy_20260601.csv", csv.as_bytes()).unwrap();
    let pharmacy = &parsed.rows[0];
    assert_eq!((pharmacy.kind, pharmacy.name.as_str()), (FacilityKind::Pharmacy, "架空みほん薬局（サンプル）"));
    assert_eq!(pharmacy.name_kana.as_deref(), Some("カクウミホンヤッキョク"));
    assert_eq!(parse(Source::MedicalInstitutions, "export.csv", csv.as_bytes()).unwrap_err(), FileError::UnknownKind);
    let given = Options { medical_kind: Some(FacilityKind::Pharmacy) };
    assert_eq!(parse_with(Source::MedicalInstitutions, "export.csv", csv.as_bytes(), given).unwrap().rows.len(), 1);
}

#[test]
fn a_national_size_file_parses() {
    let rows = 200_000;
    let bytes = synthetic_care_offices_csv(rows);
    let started = std::time::Instant::now();
    let parsed = parse(Source::CareOffices, "jigyosho_synthetic.csv", &bytes).unwrap();
    let elapsed = started.elapsed();
    println!(
        "parsed {rows} synthetic care offices ({:.1} MB) in {:.2} s ({} build)",
        bytes.len() as f64 / 1e6,
        elapsed.as_secs_f64(),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    assert_eq!((parsed.rows.len(), parsed.rejected.len()), (rows, 0));
    assert_eq!(parsed.rows.last().map(|r| r.line), Some(rows + 1));
}

/// The real 関東信越厚生局 excerpt (Kashiwa's 23 notification rows), read by path from
/// the shared fixtures beside the repository (CI has them; a plain clone may not: then
/// this test says so and checks nothing). Source and licence: SOURCE.md there.
#[test]
fn the_real_kashiwa_excerpt_reads_like_its_synthetic_twin() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/opendata");
    let name = "kantoshinetsu_todokede_juri_ika_chiba_r0710_kashiwa_excerpt";
    let (Ok(csv), Ok(xlsx)) =
        (std::fs::read(dir.join(format!("{name}.csv"))), std::fs::read(dir.join(format!("{name}.xlsx"))))
    else {
        eprintln!(
            "NOT TESTED: the real open-data excerpt is not at {} (only the synthetic files were read)",
            dir.display()
        );
        return;
    };
    let real = parse(Source::FacilityStandards, &format!("{name}.csv"), &csv).unwrap();
    let real_xlsx = parse(Source::FacilityStandards, &format!("{name}.xlsx"), &xlsx).unwrap();
    let synthetic = standards_csv();
    assert_eq!(real.rejected, vec![]);
    assert_eq!(real.rows.len(), synthetic.rows.len(), "nine facilities");
    let flags = |rows: &[Row]| rows.iter().map(|r| r.flags.clone()).collect::<Vec<_>>();
    assert_eq!(flags(&real.rows), flags(&synthetic.rows), "the same notifications, row by row");
    let shifted: Vec<Row> = real.rows.iter().map(|r| Row { line: r.line + 3, ..r.clone() }).collect();
    assert_eq!(real_xlsx.rows, shifted, "the workbook and its CSV export agree");
    assert!(real.rows.iter().all(|r| r.address.starts_with("千葉県柏市")));
}
