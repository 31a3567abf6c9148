//! The twin's HTML report (`daylight simulate --report FILE`): one self-contained page, its
//! charts drawn as inline SVG (daily contact rate per arm, recovery curve, bucket flow), in
//! Chinese and English, every number labelled as simulated.

use std::fmt::Write as _;

use anyhow::Context as _;
use daylight_sim::world::{ArmSummary, DayReport, Summary, World};

/// What the report is about.
pub struct Run<'a> {
    pub accounts: u64,
    pub days: &'a [DayReport],
    pub seed: u64,
    pub strategy: &'a str,
    pub summary: &'a Summary,
    pub arms: &'a [(String, ArmSummary)],
    /// What was overdue at the start, fen.
    pub owed_fen: i64,
}

/// Writes the report of `world`'s `days` (with their summary and arms) to `path`.
pub fn write(
    path: &std::path::Path,
    world: &World,
    days: &[DayReport],
    summary: &Summary,
    arms: &[(String, ArmSummary)],
) -> anyhow::Result<()> {
    let page = html(&Run {
        accounts: world.debtors.len() as u64,
        days,
        seed: world.seed(),
        strategy: world.strategy_name(),
        summary,
        arms,
        owed_fen: world.overdue_at_start,
    });
    std::fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))
}

const PALETTE: [&str; 8] =
    ["#1f6feb", "#d97706", "#059669", "#9333ea", "#dc2626", "#0891b2", "#65a30d", "#6b7280"];
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 16.0;
const RIGHT: f64 = 140.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A rate as a percentage with one decimal.
pub fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// A "nice" upper bound for an axis.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let step = 10f64.powf(max.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * step >= max {
            return m * step;
        }
    }
    10.0 * step
}

/// Axes, grid and x labels (every k-th) of a chart with `n` points and `y_max` at the top.
fn frame(
    out: &mut String,
    title: &str,
    n: usize,
    labels: &[String],
    y_max: f64,
    y_fmt: &dyn Fn(f64) -> String,
) {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
    for k in 0..=4 {
        let v = y_max * f64::from(k) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(k) / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{tx:.1}" y="{ty:.1}" font-size="11" text-anchor="end" fill="#374151">{label}</text>"##,
            x2 = LEFT + plot_w,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            label = esc(&y_fmt(v))
        );
    }
    let every = n.div_ceil(8).max(1);
    for (i, l) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let x = x_at(i, n);
        let _ = write!(
            out,
            r##"<text x="{x:.1}" y="{y:.1}" font-size="11" text-anchor="middle" fill="#374151">{l}</text>"##,
            y = HEIGHT - BOTTOM + 16.0,
            l = esc(l)
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}" stroke="#9ca3af"/>"##,
        b = TOP + plot_h,
        r = LEFT + plot_w
    );
}

fn x_at(i: usize, n: usize) -> f64 {
    let plot_w = WIDTH - LEFT - RIGHT;
    if n <= 1 { LEFT + plot_w / 2.0 } else { LEFT + plot_w * i as f64 / (n - 1) as f64 }
}

fn y_at(v: f64, y_max: f64) -> f64 {
    let plot_h = HEIGHT - TOP - BOTTOM;
    TOP + plot_h - plot_h * (v / y_max).clamp(0.0, 1.0)
}

fn legend(out: &mut String, names: &[&str]) {
    for (k, name) in names.iter().enumerate() {
        let y = TOP + 8.0 + 18.0 * k as f64;
        let x = WIDTH - RIGHT + 16.0;
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{ry:.1}" width="12" height="12" fill="{c}"/><text x="{tx:.1}" y="{ty:.1}" font-size="12" fill="#111827">{n}</text>"##,
            ry = y - 10.0,
            c = PALETTE[k % PALETTE.len()],
            tx = x + 18.0,
            ty = y,
            n = esc(name)
        );
    }
}

/// A line per series.
fn line_chart(
    title: &str,
    series: &[(&str, Vec<f64>)],
    labels: &[String],
    y_fmt: &dyn Fn(f64) -> String,
) -> String {
    let n = labels.len();
    let max = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max);
    let y_max = nice_max(max);
    let mut out = String::new();
    frame(&mut out, title, n, labels, y_max, y_fmt);
    for (k, (_, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_at(i, n), y_at(*v, y_max)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{p}"/>"#,
            c = PALETTE[k % PALETTE.len()],
            p = points.join(" ")
        );
    }
    legend(&mut out, &series.iter().map(|(n, _)| *n).collect::<Vec<_>>());
    out.push_str("</svg>");
    out
}

/// Stacked bars, one per day.
fn stacked_bars(title: &str, series: &[(&str, Vec<f64>)], labels: &[String]) -> String {
    let n = labels.len();
    let totals: Vec<f64> = (0..n).map(|i| series.iter().map(|(_, v)| v[i]).sum()).collect();
    let y_max = nice_max(totals.iter().copied().fold(0.0, f64::max));
    let mut out = String::new();
    frame(&mut out, title, n, labels, y_max, &|v| format!("{v:.0}"));
    let plot_w = WIDTH - LEFT - RIGHT;
    let bar = (plot_w / n.max(1) as f64 * 0.7).max(1.0);
    for i in 0..n {
        let mut base = 0.0;
        for (k, (name, values)) in series.iter().enumerate() {
            let v = values[i];
            if v <= 0.0 {
                continue;
            }
            let (top, bottom) = (y_at(base + v, y_max), y_at(base, y_max));
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{top:.1}" width="{bar:.1}" height="{h:.1}" fill="{c}"><title>{label} {name}: {v:.0}</title></rect>"#,
                x = x_at(i, n) - bar / 2.0,
                h = (bottom - top).max(0.0),
                c = PALETTE[k % PALETTE.len()],
                label = esc(&labels[i]),
                name = esc(name)
            );
            base += v;
        }
    }
    legend(&mut out, &series.iter().map(|(n, _)| *n).collect::<Vec<_>>());
    out.push_str("</svg>");
    out
}

/// An arm's difference over the first arm (contact or recovery rate): "+2.0 pt [+1.6, +2.4], p = 0.000".
pub fn uplift(u: Option<daylight_sim::world::Uplift>) -> String {
    u.map_or_else(
        || "—".to_owned(),
        |u| {
            format!(
                "{:+.1} pt [{:+.1}, {:+.1}]{}",
                100.0 * u.difference,
                100.0 * u.low,
                100.0 * u.high,
                u.p_value
                    .map(|p| if p < 0.001 { ", p < 0.001".to_owned() } else { format!(", p = {p:.3}") })
                    .unwrap_or_default()
            )
        },
    )
}

/// The report's first lines: which arm recovered most and at what cost, then each arm against
/// the first on recovery, cost and contact rate, with intervals (none without an experiment).
pub fn headline(arms: &[(String, ArmSummary)]) -> Option<String> {
    let (first_name, first) = arms.first()?;
    let (best_name, best) = arms.iter().max_by(|a, b| a.1.recovery.rate.total_cmp(&b.1.recovery.rate))?;
    let mut out = String::from("<h2>结论 Headline</h2><ul class=\"headline\">");
    let _ = write!(
        out,
        "<li><strong>回收最高 Recovered most: {} — {} [{}, {}]</strong>，单客成本 cost per debtor {:.2} 元 yuan</li>",
        esc(best_name),
        pct(best.recovery.rate),
        pct(best.recovery.low),
        pct(best.recovery.high),
        best.cost_per_debtor
    );
    for (name, a) in &arms[1..] {
        let _ = write!(
            out,
            "<li>{} 对 vs {}：回收率 recovery {} 对 vs {}（{}）；单客成本 cost/debtor {:.2} 对 vs {:.2} 元；可联率 contact rate {}</li>",
            esc(name),
            esc(first_name),
            pct(a.recovery.rate),
            pct(first.recovery.rate),
            uplift(a.recovery_uplift),
            a.cost_per_debtor,
            first.cost_per_debtor,
            uplift(a.contact_uplift)
        );
    }
    out.push_str("</ul>");
    Some(out)
}

/// The page.
pub fn html(r: &Run<'_>) -> String {
    let labels: Vec<String> = r.days.iter().map(|d| d.date.strftime("%m-%d").to_string()).collect();
    let rate = |connected: u64, dialed: u64| if dialed == 0 { 0.0 } else { connected as f64 / dialed as f64 };
    // Daily contact rate, per arm (or the whole portfolio).
    let mut contact: Vec<(&str, Vec<f64>)> = Vec::new();
    let mut recovery: Vec<(&str, Vec<f64>)> = Vec::new();
    if r.arms.is_empty() {
        contact.push(("all", r.days.iter().map(|d| rate(d.all.connected, d.all.dialed)).collect()));
        let mut paid = 0i64;
        recovery.push((
            "all",
            r.days
                .iter()
                .map(|d| {
                    paid += d.all.paid_fen;
                    if r.owed_fen > 0 { paid as f64 / r.owed_fen as f64 } else { 0.0 }
                })
                .collect(),
        ));
    } else {
        for (name, s) in r.arms {
            contact.push((
                name,
                r.days
                    .iter()
                    .map(|d| d.arms.get(name).map_or(0.0, |a| rate(a.connected, a.dialed)))
                    .collect(),
            ));
            let mut paid = 0i64;
            recovery.push((
                name,
                r.days
                    .iter()
                    .map(|d| {
                        paid += d.arms.get(name).map_or(0, |a| a.paid_fen);
                        if s.owed_fen > 0 { paid as f64 / s.owed_fen as f64 } else { 0.0 }
                    })
                    .collect(),
            ));
        }
    }
    let buckets: Vec<(&str, Vec<f64>)> = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+"]
        .iter()
        .enumerate()
        .map(|(k, b)| (*b, r.days.iter().map(|d| d.buckets[k] as f64).collect()))
        .collect();
    let s = r.summary;
    let mut page = String::new();
    let first = r.days.first().map(|d| d.date.to_string()).unwrap_or_default();
    let _ = write!(
        page,
        r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>Daylight 数字孪生 · digital twin (模拟 SIMULATED)</title>
<style>body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px;color:#111827;max-width:980px}}
.sim{{background:#fef3c7;border:1px solid #f59e0b;padding:8px 12px;border-radius:6px}}
table{{border-collapse:collapse;margin:8px 0 20px}}td,th{{border-bottom:1px solid #e5e7eb;padding:4px 10px;text-align:right}}
th:first-child,td:first-child{{text-align:left}}h2{{margin-top:28px}}</style></head><body>
<h1>Daylight 数字孪生 · Digital twin</h1>
<p class="sim"><strong>模拟结果 · SIMULATED.</strong> 以下数字来自虚拟客户，不是真实业务数据。Every number on this page comes from virtual debtors: it shows what the strategy does to debtors who behave as the twin assumes (docs/twin.md).</p>
<p>{accounts} 个账户 accounts · {days} 天 days from {first} · seed {seed} · 策略 strategy: {strategy}</p>
"#,
        accounts = r.accounts,
        days = r.days.len(),
        seed = r.seed,
        strategy = esc(r.strategy)
    );
    if let Some(h) = headline(r.arms) {
        page.push_str(&h);
    }
    page.push_str("<h2>汇总 Summary</h2><table><tr><th>指标 metric</th><th>值 value</th></tr>");
    for (k, v) in [
        ("可联率 contact rate", pct(s.contact_rate)),
        ("正确联系人接通率 right-party contact", pct(s.rpc_rate)),
        ("承诺还款率 promise rate", pct(s.ptp_rate)),
        ("履约率 kept rate", pct(s.kept_rate)),
        ("回收率 recovery rate", pct(s.recovery_rate)),
        ("投诉 / 万次联系 complaints per 10k contacts", format!("{:.1}", s.complaints_per_10k)),
        ("联系次数 contacts", s.contacts.to_string()),
        ("成本 cost (yuan)", format!("{:.2}", s.cost)),
        ("拒绝 denials", s.denials.to_string()),
        ("违规 violations", s.violations.to_string()),
    ] {
        let _ = write!(page, "<tr><td>{k}</td><td>{v}</td></tr>");
    }
    page.push_str("</table>");
    if !r.arms.is_empty() {
        page.push_str(
            "<h2>实验分组 Arms (95 % 置信区间 intervals)</h2><table><tr><th>组 arm</th><th>客户 debtors</th><th>回收率 recovery</th><th>较首组 vs first arm</th><th>单客成本 cost/debtor</th><th>可联率 contact rate</th><th>较首组 vs first arm</th><th>承诺率 PTP</th></tr>",
        );
        for (name, a) in r.arms {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{} [{}, {}]</td><td>{}</td><td>{:.2}</td><td>{} [{}, {}]</td><td>{}</td><td>{}</td></tr>",
                esc(name),
                a.debtors,
                pct(a.recovery.rate),
                pct(a.recovery.low),
                pct(a.recovery.high),
                uplift(a.recovery_uplift),
                a.cost_per_debtor,
                pct(a.contact_rate.rate),
                pct(a.contact_rate.low),
                pct(a.contact_rate.high),
                uplift(a.contact_uplift),
                pct(a.ptp_rate.rate),
            );
        }
        page.push_str("</table>");
    }
    let pct0 = |v: f64| format!("{:.0} %", 100.0 * v);
    let _ = write!(
        page,
        "<h2>每日可联率 Daily contact rate</h2>{}<h2>回收曲线 Recovery curve</h2>{}<h2>账龄迁移 Bucket flow</h2>{}",
        line_chart("每日可联率 Daily contact rate (simulated)", &contact, &labels, &pct0),
        line_chart("累计回收率 Cumulative recovery (simulated)", &recovery, &labels, &pct0),
        stacked_bars("各账龄账户数 Accounts by bucket (simulated)", &buckets, &labels),
    );
    page.push_str("<p class=\"sim\">模拟结果 · SIMULATED — Daylight digital twin.</p></body></html>\n");
    page
}
