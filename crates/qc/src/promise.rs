//! Promise extraction: the amount and the deadline a debtor commits to, read from spoken Chinese
//! relative to the call's start ("周三下午3点前还2000", "下个月15号还一半").
//!
//! Amounts: Arabic (`2000`, `1.5万`, `3000块`) or Chinese numerals (`两千五`, `一万二`, `五百元`),
//! and shares of the balance the agent stated (`一半`, `三分之一`, `全部还清`). Dates: 今天 … 大后天,
//! 周X / 这周X / 下周X, N号 / 下个月N号 / M月N号, 月底 / 月初 / 月中; times: 上午/下午/晚上 N点(半).
//! The promise is the last amount and date the debtor said or agreed to.

use jiff::civil::{Date, Time, Weekday};
use jiff::{Span, Timestamp};
use serde::Serialize;

use crate::rules::{Grammar, PromiseWords};
use crate::text::Clause;
use crate::transcript::{Speaker, Transcript};

/// A promise to pay read from a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Promise {
    /// How much, in fen.
    pub amount_fen: i64,
    /// The deadline: the time said, or the end of the day said, in the call's offset.
    pub due: Timestamp,
    /// The deadline as the debtor's local date and time (`2026-03-04T15:00`, or the date alone
    /// when no time was said).
    pub local: String,
    /// The turn that settled it (0-based).
    pub turn: usize,
}

/// A share of the balance (`一半` is 1/2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Amount {
    Fen(i64),
    Share(i64, i64),
}

/// A said deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct When {
    date: Date,
    time: Option<Time>,
}

/// Extracts the promise of a call, if the debtor committed to an amount and a date.
pub(crate) fn extract(
    t: &Transcript,
    words: &PromiseWords,
    g: &Grammar,
    clauses: &[Vec<Clause>],
) -> Option<Promise> {
    let today = t.offset.to_datetime(t.started_at).date();
    let mut balance: Option<i64> = None;
    let mut amount: Option<(Amount, usize)> = None;
    let mut when: Option<(When, usize)> = None;
    let mut proposal: (Option<Amount>, Option<When>) = (None, None);
    // Amounts of money the agent said: a bare number the debtor repeats ("对，2500") is one.
    let mut agent_said: Vec<i64> = Vec::new();
    let pays = |s: &str| words.pay.iter().any(|p| s.contains(p.as_str()));
    for (ti, turn) in t.turns.iter().enumerate() {
        let cs = &clauses[ti];
        match turn.speaker {
            Speaker::Agent => {
                proposal = (None, None);
                for c in cs {
                    let s = c.text(&turn.text);
                    if !numbers_or_days(s) {
                        continue;
                    }
                    let amounts = amounts(s, words);
                    agent_said.extend(amounts.iter().filter_map(|a| match a {
                        Amount::Fen(f) => Some(*f),
                        Amount::Share(..) => None,
                    }));
                    if words.balance.iter().any(|b| s.contains(b.as_str())) && !s.contains("先还") {
                        if let Some(Amount::Fen(f)) = amounts.first().copied() {
                            balance = Some(balance.unwrap_or(f));
                        }
                        continue;
                    }
                    // Only a payment proposed is a proposal ("明天给我回话" is not), and what
                    // is left after it ("剩余的5000元") is not.
                    if (!pays(s) && amounts.is_empty()) || REMAINDER.iter().any(|w| s.contains(w)) {
                        continue;
                    }
                    if let (Some(a), None) = (amounts.last(), proposal.0) {
                        proposal.0 = Some(*a);
                    }
                    if let (Some(w), None) = (date_time(s, today).filter(|w| w.date >= today), proposal.1) {
                        proposal.1 = Some(w);
                    }
                }
            }
            Speaker::Debtor => {
                // The answer to an identity check (身份证后四位, a birth date) is not a promise.
                let checked = t.turns[..ti]
                    .iter()
                    .rev()
                    .find(|x| x.speaker == Speaker::Agent)
                    .is_some_and(|x| IDENTITY_WORDS.iter().any(|w| x.text.contains(w)));
                if checked {
                    proposal = (None, None);
                    continue;
                }
                let agrees = cs.first().is_some_and(|c| {
                    let s = c.text(&turn.text);
                    words.agree.iter().any(|a| s.starts_with(a.as_str()))
                });
                let mut said_amount = false;
                let mut said_when = false;
                // A date said with the payment itself; a later date in the turn does not
                // replace it.
                let mut firm_when = false;
                let paying = pays(&turn.text);
                let asked_when =
                    t.turns[..ti].iter().rev().find(|x| x.speaker == Speaker::Agent).is_some_and(|x| {
                        ["什么时候", "哪天", "几号", "多久", "时间"].iter().any(|w| x.text.contains(w))
                    });
                for (ci, c) in cs.iter().enumerate() {
                    let s = c.text(&turn.text);
                    if !numbers_or_days(s) {
                        continue;
                    }
                    let before = ci.checked_sub(1).map_or("", |p| cs[p].text(&turn.text));
                    if refuses(s)
                        || past(s)
                        || g.asks(s, c)
                        || g.supposes(s)
                        || g.supposes(before)
                        || REMAINDER.iter().any(|w| s.contains(w))
                    {
                        continue;
                    }
                    let short = s.chars().count() <= 8;
                    let found = if pays(s) || agrees || short {
                        amounts_or_bare(s, words, &agent_said)
                    } else {
                        amounts(s, words)
                    };
                    let mut found_amount = false;
                    // A share of the balance is a promise only with a verb of paying ("落了一半").
                    if let Some(a) = found.last()
                        && (pays(s) || ((agrees || short || said_when) && matches!(a, Amount::Fen(_))))
                    {
                        amount = Some((*a, ti));
                        said_amount = true;
                        found_amount = true;
                    }
                    // A date counts in a clause that pays, or as the turn's first date when
                    // the turn pays, answers "when?", or follows a proposal ("我今晚就去改"
                    // and "28号发工资" after "月底之前还上" do not).
                    let clause_pays = pays(s) || found_amount;
                    match date_time(s, today) {
                        Some(w)
                            if w.date >= today
                                && (clause_pays
                                    || (!firm_when && (paying || asked_when || proposal.0.is_some()))) =>
                        {
                            when = Some((merge(when.map(|w| w.0), w), ti));
                            said_when = true;
                            firm_when |= clause_pays;
                        }
                        // A time alone ("晚上八点前吧") sets the time of the day already said.
                        None => {
                            if let (Some(tm), Some((w, _))) = (time_in(s), when) {
                                when = Some((When { date: w.date, time: Some(tm) }, ti));
                            }
                        }
                        Some(_) => {}
                    }
                }
                if agrees {
                    if let (Some(a), false) = (proposal.0, said_amount) {
                        amount = Some((a, ti));
                    }
                    if let (Some(w), false) = (proposal.1, said_when) {
                        when = Some((w, ti));
                    }
                }
                proposal = (None, None);
            }
            Speaker::Other => {}
        }
    }
    let ((amount, at), (when, wt)) = (amount?, when?);
    let fen = match amount {
        Amount::Fen(f) => f,
        Amount::Share(n, d) => balance? * n / d,
    };
    if fen <= 0 {
        return None;
    }
    let (time, local) = match when.time {
        Some(tm) => (tm, format!("{}T{}", when.date, tm.strftime("%H:%M"))),
        None => (Time::constant(23, 59, 59, 0), when.date.to_string()),
    };
    let due = t.offset.to_timestamp(when.date.to_datetime(time)).ok()?;
    Some(Promise { amount_fen: fen, due, local, turn: at.max(wt) })
}

/// The same day said again without its time ("那就周三吧") keeps the time already said.
fn merge(prev: Option<When>, new: When) -> When {
    match prev {
        Some(p) if p.date == new.date && new.time.is_none() => p,
        _ => new,
    }
}

/// Whether a clause could say an amount, a date or a time: most clauses cannot, and are
/// skipped before anything else is looked for in them.
fn numbers_or_days(s: &str) -> bool {
    s.chars().any(|ch| ch.is_ascii_digit() || "零一二两三四五六七八九十百千万半全清".contains(ch))
        || [
            "今天", "今晚", "明天", "明早", "明晚", "明儿", "后天", "周", "星期", "礼拜", "月底", "月末",
            "月初", "月中", "中午",
        ]
        .iter()
        .any(|w| s.contains(w))
}

/// What is left to pay after a promise: not the promise.
const REMAINDER: [&str; 4] = ["剩下", "剩余", "其余", "还差"];

/// What an agent asks to check identity: the debtor's answer is not a promise.
const IDENTITY_WORDS: [&str; 6] = ["后四位", "身份证", "出生", "生日", "核对一下", "核实一下"];

/// "还了500", "上个月就还了": a clause about the past.
fn past(s: &str) -> bool {
    ["还了", "已经", "上个月", "上礼拜", "上周", "昨天", "前天", "去年", "上次"].iter().any(|w| s.contains(w))
        && !["明天", "后天", "下周", "下个", "这周"].iter().any(|w| s.contains(w))
}

/// Amounts, and a bare number the agent said as money ("对，2500") in an answer (not a card's
/// last digits or a hotline).
fn amounts_or_bare(s: &str, words: &PromiseWords, agent_said: &[i64]) -> Vec<Amount> {
    let found = amounts(s, words);
    if !found.is_empty() {
        return found;
    }
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match number_at(&c, i) {
            Some((n, len, _)) => {
                let next = c.get(i + len).copied();
                if agent_said.contains(&n)
                    && !matches!(
                        next,
                        Some('号' | '日' | '点' | '月' | '年' | '天' | '期' | '个' | ':' | '：')
                    )
                {
                    out.push(Amount::Fen(n));
                }
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

/// "还不了", "还不上", "没钱还": a clause that refuses.
fn refuses(s: &str) -> bool {
    ["还不了", "还不上", "还不起", "没钱还", "不还", "没法还", "还不出", "不可能", "不行", "没空", "来不及"]
        .iter()
        .any(|w| s.contains(w))
}

/// Amounts of money said in a clause, in order.
fn amounts(s: &str, words: &PromiseWords) -> Vec<Amount> {
    // Most clauses say no number at all: skip them without building anything.
    if !s.chars().any(|ch| ch.is_ascii_digit() || "零一二两三四五六七八九十百千万半全清".contains(ch))
    {
        return Vec::new();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        // Only these characters start an amount or a share.
        let ch = chars[i];
        if !(ch.is_ascii_digit() || digit(ch).is_some() || matches!(ch, '十' | '全' | '还' | '结' | '都'))
        {
            i += 1;
            continue;
        }
        let rest: String = chars[i..].iter().take(4).collect();
        let share =
            [("一半", 1, 2), ("三分之一", 1, 3), ("三分之二", 2, 3), ("四分之一", 1, 4), ("一大半", 1, 2)]
                .iter()
                .find(|(w, ..)| rest.starts_with(w));
        if let Some((w, n, d)) = share {
            out.push(Amount::Share(*n, *d));
            i += w.chars().count();
            continue;
        }
        if let Some((fen, len, unit)) = number_at(&chars, i) {
            let next: String = chars[i + len..].iter().take(3).collect();
            let before: String = chars[i.saturating_sub(2)..i].iter().collect();
            let not_money = [
                "号", "日", "点", "月", "年", "天", "期", "个", "分", "岁", "%", "周", "次", "倍", "成",
                "位", "遍", ":", "：",
            ]
            .iter()
            .any(|w| next.starts_with(w))
                || before.ends_with("工号")
                || before.ends_with("尾号")
                || before.ends_with("后")
                || before.ends_with('第');
            let money_unit =
                ["元", "块", "万", "千", "百", "w", "k", "K", "W"].iter().any(|w| next.starts_with(w));
            let arabic = chars[i].is_ascii_digit();
            // 打 and 充 also dial and top up: a number after them is money only with its unit.
            let verb = words
                .pay
                .iter()
                .filter(|p| !matches!(p.as_str(), "打" | "充"))
                .any(|p| before.ends_with(p.as_str()));
            if !not_money && (money_unit || (verb && (arabic || unit)) || (unit && fen >= 100_000)) {
                let (mult, ulen) = match chars.get(i + len) {
                    Some('万' | 'w' | 'W') => (10_000, 1),
                    Some('千' | 'k' | 'K') => (1_000, 1),
                    _ => (1, 0),
                };
                out.push(Amount::Fen(fen * mult));
                i += len + ulen;
                continue;
            }
            i += len;
            continue;
        }
        if ["全部", "全额", "还清", "结清", "一次性还", "都还上", "全还"].iter().any(|w| rest.starts_with(w))
        {
            out.push(Amount::Share(1, 1));
            i += 2;
            continue;
        }
        i += 1;
    }
    out
}

/// A number at `i`: its value × 100 (so 1.5 is 150), its length in characters, and whether it
/// carried its own magnitude (两千五 has 千: it is money-sized).
fn number_at(c: &[char], i: usize) -> Option<(i64, usize, bool)> {
    if i >= c.len() {
        return None;
    }
    if c[i].is_ascii_digit() {
        if i > 0 && (c[i - 1].is_ascii_digit() || c[i - 1] == '.') {
            return None;
        }
        let mut j = i;
        let mut whole: i64 = 0;
        while j < c.len() && (c[j].is_ascii_digit() || c[j] == ',') {
            if let Some(d) = c[j].to_digit(10) {
                whole = whole.checked_mul(10)?.checked_add(i64::from(d))?;
            }
            j += 1;
        }
        let mut frac = 0i64;
        if j + 1 < c.len() && c[j] == '.' && c[j + 1].is_ascii_digit() {
            j += 1;
            let mut scale = 10;
            while j < c.len() && c[j].is_ascii_digit() {
                if scale >= 1 {
                    frac += i64::from(c[j].to_digit(10)?) * scale;
                }
                scale /= 10;
                j += 1;
            }
        }
        return Some((whole.checked_mul(100)? + frac, j - i, false));
    }
    cn_number(c, i)
}

fn digit(ch: char) -> Option<i64> {
    Some(match ch {
        '零' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// Chinese numerals: 五百, 两千五 (2,500), 一万二 (12,000), 一千五百, 十五.
fn cn_number(c: &[char], i: usize) -> Option<(i64, usize, bool)> {
    if digit(c[i]).is_none() && c[i] != '十' {
        return None;
    }
    let mut j = i;
    let mut total: i64 = 0;
    let mut section: i64 = 0;
    let mut pending: Option<i64> = None;
    let mut last_unit: i64 = 0;
    let mut magnitude = false;
    while j < c.len() {
        let ch = c[j];
        if let Some(d) = digit(ch) {
            if pending.is_some() {
                break;
            }
            pending = Some(d);
        } else {
            let unit = match ch {
                '十' => 10,
                '百' => 100,
                '千' => 1_000,
                '万' => 10_000,
                _ => break,
            };
            if unit == 10_000 {
                total += (section + pending.take().unwrap_or(0)).max(if section == 0 { 1 } else { 0 }) * unit;
                section = 0;
                last_unit = unit;
                magnitude = true;
            } else {
                section += pending.take().unwrap_or(1) * unit;
                last_unit = unit;
                if unit >= 100 {
                    magnitude = true;
                }
            }
        }
        j += 1;
    }
    if j == i {
        return None;
    }
    // "两千五": a trailing digit counts in the unit below the last one.
    if let Some(d) = pending {
        let below = if last_unit >= 10 { last_unit / 10 } else { 1 };
        if j >= 2 && c[j - 2] == '零' {
            section += d;
        } else {
            section += d * below;
        }
    }
    let value = total + section;
    if value == 0 {
        return None;
    }
    Some((value * 100, j - i, magnitude))
}

/// The date (and time) said in a clause, relative to `today`.
fn date_time(s: &str, today: Date) -> Option<When> {
    let date = date_in(s, today)?;
    Some(When { date, time: time_in(s) })
}

fn weekday(ch: char) -> Option<Weekday> {
    Some(match ch {
        '一' => Weekday::Monday,
        '二' => Weekday::Tuesday,
        '三' => Weekday::Wednesday,
        '四' => Weekday::Thursday,
        '五' => Weekday::Friday,
        '六' => Weekday::Saturday,
        '日' | '天' | '末' => Weekday::Sunday,
        _ => return None,
    })
}

fn date_in(s: &str, today: Date) -> Option<Date> {
    if !s.chars().any(|ch| "天周期拜号日月底初中今明后晚早".contains(ch)) {
        return None;
    }
    let days = |n: i64| today.checked_add(Span::new().days(n)).ok();
    let c: Vec<char> = s.chars().collect();
    let mut found: Option<Date> = None;
    let mut i = 0;
    while i < c.len() {
        // Only these characters start a date.
        let ch = c[i];
        if !(ch.is_ascii_digit() || digit(ch).is_some() || "十星礼周大后明今月".contains(ch)) {
            i += 1;
            continue;
        }
        let rest: String = c[i..].iter().take(6).collect();
        // Weeks: 周X, 星期X, 礼拜X, with 这/本/下/下下 before.
        let week = ["星期", "礼拜", "周"].iter().find(|w| rest.starts_with(*w));
        if let Some(w) = week {
            let n = w.chars().count();
            if let Some(wd) = c.get(i + n).copied().and_then(weekday) {
                let before: String = c[i.saturating_sub(3)..i].iter().collect();
                let monday = today
                    .checked_sub(Span::new().days(i64::from(today.weekday().to_monday_zero_offset())))
                    .ok()?;
                let offset = i64::from(wd.to_monday_zero_offset());
                let d = if before.ends_with("下下") || before.ends_with("下下个") {
                    monday.checked_add(Span::new().days(14 + offset)).ok()
                } else if before.ends_with('下') || before.ends_with("下个") {
                    monday.checked_add(Span::new().days(7 + offset)).ok()
                } else if before.ends_with('这') || before.ends_with('本') || before.ends_with("这个") {
                    monday.checked_add(Span::new().days(offset)).ok()
                } else {
                    let ahead = (offset - i64::from(today.weekday().to_monday_zero_offset())).rem_euclid(7);
                    days(if ahead == 0 { 7 } else { ahead })
                };
                found = d.or(found);
                i += n + 1;
                continue;
            }
        }
        for (w, n) in [
            ("大后天", 3),
            ("后天", 2),
            ("明天", 1),
            ("明早", 1),
            ("明晚", 1),
            ("明儿", 1),
            ("今天", 0),
            ("今晚", 0),
            ("今儿", 0),
        ] {
            if rest.starts_with(w) {
                found = days(n).or(found);
                i += w.chars().count() - 1;
                break;
            }
        }
        let next_month = |d: Date| d.first_of_month().checked_add(Span::new().months(1)).ok();
        if rest.starts_with("月底") || rest.starts_with("月末") {
            let before: String = c[i.saturating_sub(3)..i].iter().collect();
            let base = if before.ends_with("下个") || before.ends_with('下') {
                next_month(today)?
            } else {
                today
            };
            found = Some(base.last_of_month());
            i += 2;
            continue;
        }
        if rest.starts_with("月初") || rest.starts_with("月中") {
            let before: String = c[i.saturating_sub(3)..i].iter().collect();
            let this = before.ends_with('这') || before.ends_with('本');
            let base = if this { today.first_of_month() } else { next_month(today)? };
            let day = if rest.starts_with("月中") { 15 } else { 1 };
            found = Date::new(base.year(), base.month(), day).ok().or(found);
            i += 2;
            continue;
        }
        // N号 / N日, with M月 or 下个月 before.
        if let Some((n, len, _)) = number_at(&c, i)
            && let Some(unit) = c.get(i + len)
            && (*unit == '号' || *unit == '日')
        {
            let day = n / 100;
            let before: String = c[..i].iter().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            let month_before = month_number(&c, i);
            let d = if let Some(m) = month_before {
                let year =
                    if i64::from(m) < i64::from(today.month()) { today.year() + 1 } else { today.year() };
                Date::new(year, m, i8::try_from(day).ok()?).ok()
            } else if before.ends_with("下个月") || before.ends_with("下月") {
                let b = next_month(today)?;
                Date::new(b.year(), b.month(), i8::try_from(day).ok()?).ok()
            } else if before.ends_with("这个月") || before.ends_with("本月") {
                Date::new(today.year(), today.month(), i8::try_from(day).ok()?).ok()
            } else {
                let this = Date::new(today.year(), today.month(), i8::try_from(day).ok()?).ok();
                match this {
                    Some(d) if d >= today => Some(d),
                    _ => next_month(today)
                        .and_then(|b| Date::new(b.year(), b.month(), i8::try_from(day).ok()?).ok()),
                }
            };
            found = d.or(found);
            i += len + 1;
            continue;
        }
        i += 1;
    }
    found
}

/// The month of "M月" just before position `i` (`3月15号`).
fn month_number(c: &[char], i: usize) -> Option<i8> {
    if i < 2 || c[i - 1] != '月' {
        return None;
    }
    let mut j = i - 1;
    while j > 0 && (c[j - 1].is_ascii_digit() || digit(c[j - 1]).is_some() || c[j - 1] == '十') {
        j -= 1;
    }
    if j == i - 1 {
        return None;
    }
    let (n, _, _) = number_at(c, j)?;
    i8::try_from(n / 100).ok().filter(|m| (1..=12).contains(m))
}

fn time_in(s: &str) -> Option<Time> {
    if !s.chars().any(|ch| matches!(ch, '点' | ':' | '：' | '午')) {
        return None;
    }
    let c: Vec<char> = s.chars().collect();
    let afternoon = ["下午", "晚上", "傍晚", "今晚", "明晚", "晚"].iter().any(|w| s.contains(w));
    for i in 0..c.len() {
        let Some((n, len, _)) = number_at(&c, i) else { continue };
        let unit = c.get(i + len).copied();
        if !matches!(unit, Some('点' | ':' | '：')) {
            continue;
        }
        let mut hour = i8::try_from(n / 100).ok()?;
        if n % 100 != 0 || !(0..=24).contains(&hour) {
            continue;
        }
        let mut minute = 0i8;
        let after: String = c[i + len + 1..].iter().take(4).collect();
        // "还一点" is "a little", not one o'clock: an early hour needs a part of the day or 前.
        let part_of_day = ["上午", "早上", "中午", "下午", "晚上", "傍晚", "凌晨", "今晚", "明晚"]
            .iter()
            .any(|w| s.contains(w));
        if hour <= 6
            && unit == Some('点')
            && !part_of_day
            && !after.starts_with('前')
            && !after.starts_with("之前")
            && !after.starts_with('半')
        {
            continue;
        }
        if after.starts_with('半') {
            minute = 30;
        } else if let Some((m, _, _)) = number_at(&c, i + len + 1) {
            minute = i8::try_from(m / 100).ok().filter(|m| (0..60).contains(m)).unwrap_or(0);
        }
        if afternoon && hour < 12 {
            hour += 12;
        }
        if hour == 24 {
            hour = 23;
            minute = 59;
        }
        return Time::new(hour, minute, 0, 0).ok();
    }
    if s.contains("中午") {
        return Time::new(12, 0, 0, 0).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn words() -> PromiseWords {
        Rules::default_rules().promise
    }

    #[test]
    fn numbers_arabic_and_chinese() {
        let w = words();
        let fen = |s: &str| amounts(s, &w);
        assert_eq!(fen("还2000"), vec![Amount::Fen(200_000)]);
        assert_eq!(fen("先还1.5万"), vec![Amount::Fen(1_500_000)]);
        assert_eq!(fen("还3260.50元"), vec![Amount::Fen(326_050)], "fen are kept");
        assert_eq!(fen("两千五块"), vec![Amount::Fen(250_000)]);
        assert_eq!(fen("一万二"), vec![Amount::Fen(1_200_000)]);
        assert_eq!(fen("五百元"), vec![Amount::Fen(50_000)]);
        assert_eq!(fen("一千五百块"), vec![Amount::Fen(150_000)]);
        assert_eq!(fen("3000块钱"), vec![Amount::Fen(300_000)]);
        assert_eq!(fen("还一半"), vec![Amount::Share(1, 2)]);
        assert_eq!(fen("先还三分之一"), vec![Amount::Share(1, 3)]);
        assert!(fen("15号").is_empty());
        assert!(fen("三个月").is_empty());
        assert!(fen("工号3021").is_empty());
        assert!(fen("下午3点").is_empty());
    }

    #[test]
    fn dates_relative_to_the_call() {
        let tue = Date::constant(2026, 3, 3);
        let d = |s: &str| date_in(s, tue);
        assert_eq!(d("明天"), Some(Date::constant(2026, 3, 4)));
        assert_eq!(d("大后天"), Some(Date::constant(2026, 3, 6)));
        assert_eq!(d("周三下午3点前"), Some(Date::constant(2026, 3, 4)));
        assert_eq!(d("星期二"), Some(Date::constant(2026, 3, 10)));
        assert_eq!(d("这周日"), Some(Date::constant(2026, 3, 8)));
        assert_eq!(d("下周一"), Some(Date::constant(2026, 3, 9)));
        assert_eq!(d("下个星期五"), Some(Date::constant(2026, 3, 13)));
        assert_eq!(d("15号"), Some(Date::constant(2026, 3, 15)));
        assert_eq!(d("2号"), Some(Date::constant(2026, 4, 2)));
        assert_eq!(d("下个月15号"), Some(Date::constant(2026, 4, 15)));
        assert_eq!(d("4月10日"), Some(Date::constant(2026, 4, 10)));
        assert_eq!(d("月底"), Some(Date::constant(2026, 3, 31)));
        assert_eq!(d("月初"), Some(Date::constant(2026, 4, 1)));
        assert_eq!(d("十五号"), Some(Date::constant(2026, 3, 15)));
        assert_eq!(time_in("周三下午3点前"), Some(Time::constant(15, 0, 0, 0)));
        assert_eq!(time_in("晚上8点半"), Some(Time::constant(20, 30, 0, 0)));
        assert_eq!(time_in("上午十点"), Some(Time::constant(10, 0, 0, 0)));
        assert_eq!(time_in("中午"), Some(Time::constant(12, 0, 0, 0)));
    }
}
