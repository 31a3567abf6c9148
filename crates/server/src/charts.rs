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
    /// One value per x label, in the chart's unit.
    pub values: Vec<f64>,
}

/// The smallest round number (1, 2 or 5 times a power of ten) at least `v`: the axis's top.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|c| *c >= v).unwrap_or(10.0 * p)
}

/// Lines over days (`x` labels) on one scale: a y axis from 0 to a round maximum in round
/// steps, each labelled by `tick` in the chart's `unit` (named on the axis).
pub fn lines(
    title: &str,
    unit: &str,
    x: &[String],
    series: &[Series],
    tick: &dyn Fn(f64) -> String,
) -> String {
    let (w, h, left, right, top, bottom) = (1000.0, 220.0, 72.0, 12.0, 40.0, 34.0);
    let plot_h = h - top - bottom;
    let n = x.len().max(1);
    let step = if n > 1 { (w - left - right) / (n - 1) as f64 } else { 0.0 };
    let max = nice_ceiling(series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0_f64, f64::max));
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text class="chart-title" x="0" y="16">{t}</text><text class="unit" x="0" y="{uy}">{u}</text><line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{base}"/><line class="axis" x1="{left}" y1="{base}" x2="{r}" y2="{base}"/>"#,
        t = esc(title),
        u = esc(unit),
        uy = top - 8.0,
        base = top + plot_h,
        r = w - right,
    );
    // Round steps: a top of 2 × 10ⁿ in four, 1 or 5 × 10ⁿ in five.
    let steps = if (max / 10f64.powf(max.log10().floor()) - 2.0).abs() < 1e-9 { 4 } else { 5 };
    for k in 0..=steps {
        let v = max * f64::from(k) / f64::from(steps);
        let y = top + plot_h - plot_h * f64::from(k) / f64::from(steps);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left}" y1="{y:.1}" x2="{r}" y2="{y:.1}"/><text class="ytick" x="{lx}" y="{ty:.1}" text-anchor="end">{}</text>"#,
            esc(&tick(v)),
            r = w - right,
            lx = left - 6.0,
            ty = y + 4.0,
        );
    }
    for (k, s) in series.iter().enumerate() {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", left + step * i as f64, top + plot_h - v / max * plot_h))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="series s{k}" fill="none" points="{}"><title>{}</title></polyline>"#,
            points.join(" "),
            esc(&s.name)
        );
        let _ = write!(
            svg,
            r#"<text class="legend s{k}" x="{lx}" y="16">■ {}</text>"#,
            esc(&s.name),
            lx = 260.0 + 180.0 * k as f64,
        );
    }
    // At most 8 date labels, evenly spread.
    let every = n.div_ceil(8).max(1);
    for (i, label) in x.iter().enumerate().filter(|(i, _)| i % every == 0 || *i == n - 1) {
        let anchor = if i == 0 && n > 1 {
            "start"
        } else if i == n - 1 && n > 1 {
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

/// One row of an interval chart: an estimate and its interval, in the chart's unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The row's label (an arm).
    pub label: String,
    /// The estimate.
    pub value: f64,
    /// The interval's ends.
    pub low: f64,
    /// ″
    pub high: f64,
    /// Text beside the row (the estimate and its interval as shown).
    pub shown: String,
}

/// Estimates with their intervals on one horizontal scale from 0 to a round maximum (rows
/// whose interval is below 0 extend the scale down), with the scale's ends labelled in `unit`:
/// which arms differ is read from whether the whiskers overlap.
pub fn intervals(title: &str, unit: &str, rows: &[Estimate], tick: &dyn Fn(f64) -> String) -> String {
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let max = nice_ceiling(rows.iter().map(|r| finite(r.high).max(finite(r.value))).fold(0.0_f64, f64::max));
    let min = rows.iter().map(|r| finite(r.low)).fold(0.0_f64, f64::min);
    let min = if min < 0.0 { -nice_ceiling(-min) } else { 0.0 };
    let (left, span) = (LABEL_W, WIDTH - LABEL_W - 150.0);
    let x = |v: f64| left + (finite(v) - min) / (max - min) * span;
    let height = 48.0 + ROW_H * rows.len().max(1) as f64;
    let base = height - 18.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart intervals" role="img" aria-label="{t}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text class="chart-title" x="0" y="16">{t}</text><line class="axis" x1="{left}" y1="{base}" x2="{r:.1}" y2="{base}"/><text class="tick" x="{left}" y="{ty}" text-anchor="middle">{lo}</text><text class="tick" x="{r:.1}" y="{ty}" text-anchor="middle">{hi}</text><text class="unit" x="{ux:.1}" y="{ty}">{u}</text>"#,
        t = esc(title),
        r = left + span,
        ty = base + 14.0,
        lo = esc(&tick(min)),
        hi = esc(&tick(max)),
        ux = left + span + 16.0,
        u = esc(unit),
    );
    if min < 0.0 {
        let _ = write!(
            svg,
            r#"<line class="grid zero" x1="{z:.1}" y1="24" x2="{z:.1}" y2="{base}"/>"#,
            z = x(0.0)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = 30.0 + ROW_H * i as f64;
        let _ = write!(
            svg,
            r#"<g class="estimate"><text x="{lx}" y="{ty}" text-anchor="end">{label}</text><line class="whisker" x1="{a:.1}" y1="{y:.1}" x2="{b:.1}" y2="{y:.1}"/><line class="whisker" x1="{a:.1}" y1="{y0:.1}" x2="{a:.1}" y2="{y1:.1}"/><line class="whisker" x1="{b:.1}" y1="{y0:.1}" x2="{b:.1}" y2="{y1:.1}"/><circle cx="{c:.1}" cy="{y:.1}" r="4"><title>{label}: {shown}</title></circle><text class="value" x="{vx:.1}" y="{ty}">{shown}</text></g>"#,
            lx = LABEL_W - 6.0,
            ty = y + 4.0,
            label = esc(&r.label),
            a = x(r.low),
            b = x(r.high),
            c = x(r.value),
            y0 = y - 5.0,
            y1 = y + 5.0,
            vx = left + span + 8.0,
            shown = esc(&r.shown),
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
    fn intervals_share_one_scale_from_zero() {
        let row = |label: &str, value: f64, low: f64, high: f64| Estimate {
            label: label.into(),
            value,
            low,
            high,
            shown: format!("{value}"),
        };
        let svg = intervals(
            "回款",
            "元/户",
            &[row("champion", 5.0, 4.0, 6.0), row("holdout", 8.0, 7.0, 9.5)],
            &|v| format!("{v:.0}"),
        );
        // 0 to 10 over 160 px from x = 110: 4 → 174, 6 → 206, 9.5 → 262.
        assert!(svg.contains(r#"x1="174.0" y1="30.0" x2="206.0""#), "{svg}");
        assert!(svg.contains(r#"cx="238.0""#), "8 → 238: {svg}");
        assert!(svg.contains(r#"x2="262.0" y2="52.0""#), "{svg}");
        assert!(svg.contains(">0<") && svg.contains(">10<") && svg.contains("元/户"));
        // An interval below zero extends the scale down and draws the zero line.
        let svg = intervals("差", "元", &[row("a", 1.0, -3.0, 4.0)], &|v| format!("{v:.0}"));
        assert!(svg.contains(">-5<") && svg.contains("grid zero"), "{svg}");
    }

    #[test]
    fn lines_share_one_scale_with_a_labelled_axis() {
        let x: Vec<String> = (1..=3).map(|d| format!("03-0{d}")).collect();
        let svg = lines(
            "Trend",
            "次",
            &x,
            &[
                Series { name: "calls".into(), values: vec![0.0, 5.0, 10.0] },
                Series { name: "rpc".into(), values: vec![4.0, 0.0, 0.0] },
            ],
            &|v| format!("{v:.0}"),
        );
        // One scale, 0 to 10: the plot runs from y = 186 (0) to y = 40 (10); x from 72 to 988.
        assert!(svg.contains(r#"points="72.0,186.0 530.0,113.0 988.0,40.0""#), "{svg}");
        assert!(
            svg.contains(r#"points="72.0,127.6 530.0,186.0 988.0,186.0""#),
            "4 of 10, not its own top: {svg}"
        );
        for label in [">0<", ">2<", ">4<", ">6<", ">8<", ">10<", ">次<"] {
            assert!(svg.contains(label), "the axis: {label}");
        }
        assert_eq!(svg.matches("class=\"tick\"").count(), 3);
        assert_eq!(nice_ceiling(19_329.6), 20_000.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }

    #[test]
    fn empty_charts_still_draw() {
        assert!(bars("x", &[]).contains("—"));
        assert!(lines("x", "", &[], &[], &|v| v.to_string()).ends_with("</svg>"));
    }
}
