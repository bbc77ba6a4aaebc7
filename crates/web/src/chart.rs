//! Small trend charts of vital signs as inline SVG (no script, CSP-safe).

use time::OffsetDateTime;
use tsunagu_domain::care::VitalSigns;

struct Series {
    label: &'static str,
    unit: &'static str,
    min: f64,
    max: f64,
    /// Lines for these values, e.g. 37.5 ℃ or SpO2 90 %.
    guide: Option<f64>,
    value: fn(&VitalSigns) -> Option<f64>,
}

const SERIES: &[Series] = &[
    Series { label: "体温", unit: "℃", min: 35.0, max: 40.0, guide: Some(37.5), value: |v| v.temperature_c },
    Series { label: "SpO2", unit: "%", min: 80.0, max: 100.0, guide: Some(90.0), value: |v| v.spo2.map(f64::from) },
    Series {
        label: "血圧(上)",
        unit: "",
        min: 70.0,
        max: 200.0,
        guide: Some(140.0),
        value: |v| v.systolic.map(f64::from),
    },
    Series { label: "脈拍", unit: "", min: 40.0, max: 140.0, guide: Some(100.0), value: |v| v.pulse.map(f64::from) },
];

const WIDTH: f64 = 300.0;
const HEIGHT: f64 = 48.0;

/// One sparkline per vital sign that has at least two measurements.
pub(crate) fn vitals_trend(points: &[(OffsetDateTime, VitalSigns)]) -> Option<String> {
    let mut out = String::new();
    for s in SERIES {
        let values: Vec<(usize, f64)> =
            points.iter().enumerate().filter_map(|(i, (_, v))| (s.value)(v).map(|x| (i, x))).collect();
        if values.len() < 2 {
            continue;
        }
        let n = points.len().saturating_sub(1).max(1) as f64;
        let x = |i: usize| 4.0 + (WIDTH - 8.0) * i as f64 / n;
        let y = |v: f64| {
            let clamped = v.clamp(s.min, s.max);
            HEIGHT - 4.0 - (HEIGHT - 8.0) * (clamped - s.min) / (s.max - s.min)
        };
        let line: Vec<String> = values.iter().map(|(i, v)| format!("{:.1},{:.1}", x(*i), y(*v))).collect();
        let dots: String = values
            .iter()
            .map(|(i, v)| format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"/>", x(*i), y(*v)))
            .collect();
        let guide = s
            .guide
            .map(|g| format!("<line x1=\"0\" x2=\"{WIDTH}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"#d0d5dc\" stroke-dasharray=\"4 3\"/>", y(g)))
            .unwrap_or_default();
        let last = values.last().map(|(_, v)| *v).unwrap_or_default();
        out.push_str(&format!(
            "<figure class=\"trend\"><figcaption>{label} <strong>{last}{unit}</strong></figcaption>\
             <svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{label}の推移\">{guide}\
             <polyline fill=\"none\" stroke=\"#0b6e4f\" stroke-width=\"2\" points=\"{points}\"/>\
             <g fill=\"#0b6e4f\">{dots}</g></svg></figure>",
            label = s.label,
            unit = s.unit,
            points = line.join(" "),
        ));
    }
    (!out.is_empty()).then_some(out)
}

/// Monthly counts of two kinds as stacked bars (inline SVG, no script):
/// `bars` are (label, first, second).
pub(crate) fn stacked_bars(bars: &[(String, i64, i64)], first: &str, second: &str) -> String {
    const W: f64 = 360.0;
    const H: f64 = 140.0;
    const BASE: f64 = 120.0;
    let max = bars.iter().map(|(_, a, b)| a + b).max().unwrap_or(0).max(1) as f64;
    let slot = W / bars.len().max(1) as f64;
    let mut out = format!("<svg class=\"bars\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{first}・{second}\">");
    for (i, (label, a, b)) in bars.iter().enumerate() {
        let x = i as f64 * slot + slot * 0.15;
        let w = slot * 0.7;
        let ha = (BASE - 8.0) * *a as f64 / max;
        let hb = (BASE - 8.0) * *b as f64 / max;
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{ha:.1}\" fill=\"#1f6feb\"><title>{first} {a}</title></rect>\
             <rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{hb:.1}\" fill=\"#e3a008\"><title>{second} {b}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{label}</text>",
            BASE - ha,
            BASE - ha - hb,
            x + w / 2.0,
            BASE + 13.0
        ));
        let total = a + b;
        if total > 0 {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{total}</text>",
                x + w / 2.0,
                BASE - ha - hb - 2.0
            ));
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn draws_only_series_with_two_or_more_points() {
        let t = datetime!(2026-11-25 00:00 UTC);
        let v = |temp: f64, spo2: Option<u8>| VitalSigns { temperature_c: Some(temp), spo2, ..VitalSigns::default() };
        let svg = vitals_trend(&[(t, v(36.5, Some(96))), (t, v(37.8, None))]).unwrap_or_default();
        assert!(svg.contains("体温 <strong>37.8℃</strong>") && svg.contains("<polyline"));
        assert!(!svg.contains("SpO2"), "one SpO2 value is not a trend");
        assert_eq!(vitals_trend(&[(t, v(36.5, None))]), None);
    }

    #[test]
    fn stacked_bars_draw_each_month_and_label_the_totals() {
        let bars = vec![("4".to_owned(), 3, 1), ("5".to_owned(), 0, 0), ("6".to_owned(), 0, 2)];
        let svg = super::stacked_bars(&bars, "相談", "退院支援");
        assert_eq!(svg.matches("<rect").count(), 6, "two bars a month");
        assert!(svg.contains(">4</text>") && svg.contains(">2</text>"), "totals over non-empty months: {svg}");
        assert!(svg.contains("<title>相談 3</title>"));
    }
}
