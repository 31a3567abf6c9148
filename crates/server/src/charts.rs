//! Charts as inline SVG, drawn on the server: horizontal bars for a figure by group, lines for
//! figures by day. No script runs in the browser; labels are escaped here.

use std::fmt::Write as _;

/// Escapes text for SVG (XML) content and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One bar: its label, its value (for the length) and the value as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Group label.
    pub label: String,
    /// Value (bars are scaled to the largest).
    pub value: f64,
    /// Text beside the bar.
    pub shown: String,
}

const WIDTH: f64 = 420.0;
const LABEL_W: f64 = 110.0;
const ROW_H: f64 = 22.0;

/// A horizontal bar chart with a title; `aria-label` carries the title for screen readers.
pub fn bars(title: &str, bars: &[Bar]) -> String {
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let height = 28.0 + ROW_H * bars.len().max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text class="chart-title" x="0" y="16">{t}</text>"#,
        t = esc(title)
    );
    if bars.is_empty() {
        let _ = write!(svg, r#"<text class="chart-empty" x="0" y="42">—</text>"#);
    }
    let span = WIDTH - LABEL_W - 70.0;
    for (i, b) in bars.iter().enumerate() {
        let y = 26.0 + ROW_H * i as f64;
        let w = if max > 0.0 && b.value.is_finite() { (b.value / max * span).max(1.0) } else { 0.0 };
        let _ = write!(
            svg,
            r#"<g class="bar"><text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{LABEL_W}" y="{y}" width="{w:.1}" height="{h}" rx="2"><title>{label}: {shown}</title></rect><text class="value" x="{vx:.1}" y="{ty}">{shown}</text></g>"#,
            lx = LABEL_W - 6.0,
            ty = y + 13.0,
            label = esc(&b.label),
            h = ROW_H - 6.0,
            vx = LABEL_W + w + 4.0,
            shown = esc(&b.shown),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name (the legend).
    pub name: String,
    /// One value per x label; each series is scaled to its own maximum (the legend gives it).
    pub values: Vec<f64>,
    /// The maximum as shown in the legend.
    pub max_shown: String,
}

/// Lines over days (`x` labels), each series scaled to its own maximum, so that shapes compare.
pub fn lines(title: &str, x: &[String], series: &[Series]) -> String {
    let (w, h, left, top, bottom) = (1000.0, 200.0, 8.0, 26.0, 34.0);
    let plot_h = h - top - bottom;
    let n = x.len().max(1);
    let step = if n > 1 { (w - 2.0 * left) / (n - 1) as f64 } else { 0.0 };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text class="chart-title" x="0" y="16">{t}</text><line class="axis" x1="{left}" y1="{base}" x2="{right}" y2="{base}"/>"#,
        t = esc(title),
        base = top + plot_h,
        right = w - left,
    );
    for (k, s) in series.iter().enumerate() {
        let max = s.values.iter().copied().fold(0.0_f64, f64::max);
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let y = if max > 0.0 { top + plot_h - v / max * plot_h } else { top + plot_h };
                format!("{:.1},{:.1}", left + step * i as f64, y)
            })
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="series s{k}" fill="none" points="{}"><title>{}</title></polyline>"#,
            points.join(" "),
            esc(&s.name)
        );
        let _ = write!(
            svg,
            r#"<text class="legend s{k}" x="{lx}" y="{ly}">■ {} (max {})</text>"#,
            esc(&s.name),
            esc(&s.max_shown),
            lx = 160.0 + 260.0 * k as f64,
            ly = 16.0,
        );
    }
    // At most 8 date labels, evenly spread.
    let every = n.div_ceil(8).max(1);
    for (i, label) in x.iter().enumerate().filter(|(i, _)| i % every == 0 || *i == n - 1) {
        let anchor = if i == 0 {
            "start"
        } else if i == n - 1 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            svg,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            left + step * i as f64,
            h - 12.0,
            esc(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bars(
            "Contact rate <by collector>",
            &[
                Bar { label: "E001".into(), value: 0.5, shown: "50.0%".into() },
                Bar { label: "<script>".into(), value: 0.25, shown: "25.0%".into() },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"width="240.0""#), "the largest bar spans the plot: {svg}");
        assert!(svg.contains(r#"width="120.0""#), "half of it");
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert!(svg.contains("aria-label=\"Contact rate &lt;by collector&gt;\""));
    }

    #[test]
    fn lines_put_each_series_on_its_own_scale() {
        let x: Vec<String> = (1..=3).map(|d| format!("03-0{d}")).collect();
        let svg = lines(
            "Trend",
            &x,
            &[
                Series { name: "calls".into(), values: vec![0.0, 5.0, 10.0], max_shown: "10".into() },
                Series { name: "yuan".into(), values: vec![100.0, 0.0, 0.0], max_shown: "1.00".into() },
            ],
        );
        // Top of the plot is y = 26, bottom 166; x from 8 to 992.
        assert!(svg.contains(r#"points="8.0,166.0 500.0,96.0 992.0,26.0""#), "{svg}");
        assert!(svg.contains(r#"points="8.0,26.0 500.0,166.0 992.0,166.0""#), "{svg}");
        assert_eq!(svg.matches("class=\"tick\"").count(), 3);
    }

    #[test]
    fn empty_charts_still_draw() {
        assert!(bars("x", &[]).contains("—"));
        assert!(lines("x", &[], &[]).ends_with("</svg>"));
    }
}
