//! Words for speech: a robot reads amounts, dates and numbers as a person would say them
//! (一千二百三十四元五角, 三月五日, 尾号幺二三四), never digit strings a speech engine reads
//! one way or another. [`speak`] fills a script's template with them.

use jiff::civil::Date;

const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// A whole number in words: 0 零, 15 十五, 105 一百零五, 2_000 两千, 1_200 一千二百,
/// 10_010 一万零一十, 20_000 两万.
pub fn number_words(n: u64) -> String {
    if n == 0 {
        return DIGITS[0].to_owned();
    }
    // Groups of four digits, from the highest: 亿 and 万 name them.
    let units = ["", "万", "亿", "万亿"];
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push((rest % 10_000) as u32);
        rest /= 10_000;
    }
    let mut out = String::new();
    let mut zero_pending = false;
    for (i, g) in groups.iter().enumerate().rev() {
        if *g == 0 {
            zero_pending = !out.is_empty();
            continue;
        }
        if zero_pending || (!out.is_empty() && *g < 1000) {
            out.push_str(DIGITS[0]);
        }
        zero_pending = false;
        let leading = out.is_empty();
        out.push_str(&group_words(*g, leading));
        out.push_str(units.get(i).copied().unwrap_or(""));
    }
    out
}

/// One group of four digits (below 10,000); `leading` when nothing precedes it (十五, not
/// 一十五).
fn group_words(g: u32, leading: bool) -> String {
    let places = [(1000, "千"), (100, "百"), (10, "十"), (1, "")];
    let mut out = String::new();
    let mut zero = false;
    for (value, name) in places {
        let d = (g / value % 10) as usize;
        if d == 0 {
            zero = !out.is_empty();
            continue;
        }
        if zero {
            out.push_str(DIGITS[0]);
            zero = false;
        }
        let word = match (d, value) {
            (1, 10) if leading && out.is_empty() => "",
            // 两百, 两千 at the head of a number; 一千二百 inside it.
            (2, 100 | 1000) if leading && out.is_empty() => "两",
            _ => DIGITS[d],
        };
        out.push_str(word);
        out.push_str(name);
    }
    // 两 alone before 万 or 亿 (20,000 两万) reads better than 二.
    if out == "二" && leading { "两".to_owned() } else { out }
}

/// An amount in fen as spoken: 123_456 一千二百三十四元五角六分, 1_205 十二元零五分,
/// 100_000 一千元, 50 五角.
pub fn amount_words(fen: i64) -> String {
    let sign = if fen < 0 { "负" } else { "" };
    let fen = fen.unsigned_abs();
    let (yuan, jiao, f) = (fen / 100, (fen / 10 % 10) as usize, (fen % 10) as usize);
    let mut out = sign.to_owned();
    if yuan > 0 || (jiao == 0 && f == 0) {
        out.push_str(&number_words(yuan));
        out.push('元');
    }
    if jiao > 0 {
        out.push_str(DIGITS[jiao]);
        out.push('角');
    }
    if f > 0 {
        if jiao == 0 && yuan > 0 {
            out.push_str(DIGITS[0]);
        }
        out.push_str(DIGITS[f]);
        out.push('分');
    }
    out
}

/// A date as spoken: 三月五日, or with its year 二零二六年三月五日.
pub fn date_words(date: Date, with_year: bool) -> String {
    let mut out = String::new();
    if with_year {
        out.push_str(&digits_words(&date.year().to_string()).replace('幺', "一"));
        out.push('年');
    }
    // 二月, 二日: never 两 in a date.
    let n = |x: i8| match number_words(x.unsigned_abs().into()) {
        w if w == "两" => "二".to_owned(),
        w => w,
    };
    out.push_str(&n(date.month()));
    out.push('月');
    out.push_str(&n(date.day()));
    out.push('日');
    out
}

/// Digits read one by one, 1 as 幺 as on the telephone: "4008" 四零零八, "1234" 幺二三四.
/// Anything else is dropped.
pub fn digits_words(digits: &str) -> String {
    digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| if d == 1 { "幺" } else { DIGITS[d as usize] })
        .collect()
}

/// The case's facts a robot speaks, as they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoken<'a> {
    /// How the debtor is addressed (e.g. 张先生).
    pub name: &'a str,
    /// The card's last four digits.
    pub card_last4: &'a str,
    /// The amount due, in fen.
    pub amount_fen: i64,
    /// Days past due.
    pub dpd: u32,
    /// The due date.
    pub due_date: Date,
    /// The bank's name.
    pub bank: &'a str,
    /// The collector's name or number.
    pub agent: &'a str,
    /// The hotline's number.
    pub hotline: &'a str,
}

/// A checked template (`crate::document::check_template`) filled for speech: amounts, dates
/// and numbers in words, the card's digits and the hotline one by one. `{amount}元` reads as
/// the amount's words alone (they carry their unit). An unknown variable is left as written.
pub fn speak(template: &str, v: &Spoken<'_>) -> String {
    fill(template, |name, rest| match name {
        "name" => v.name.to_owned(),
        "card_last4" => digits_words(v.card_last4),
        // Its words end in 元 (or 角, 分): a 元 the template writes after it is dropped.
        "amount" => {
            *rest = rest.strip_prefix('元').unwrap_or(rest);
            amount_words(v.amount_fen)
        }
        "dpd" => format!("{}天", number_words(v.dpd.into())),
        "due_date" => date_words(v.due_date, false),
        "bank" => v.bank.to_owned(),
        "agent" => v.agent.to_owned(),
        "hotline" => digits_words(v.hotline),
        other => format!("{{{other}}}"),
    })
}

/// A checked template filled for a collector to read from the screen: the amount in yuan with
/// two decimals and thousands separators, the due date as `M月D日`, days and digits as figures.
/// An unknown variable is left as written.
pub fn written(template: &str, v: &Spoken<'_>) -> String {
    fill(template, |name, _| match name {
        "name" => v.name.to_owned(),
        "card_last4" => v.card_last4.to_owned(),
        "amount" => daylight_domain::money::yuan_grouped(v.amount_fen),
        "dpd" => v.dpd.to_string(),
        "due_date" => format!("{}月{}日", v.due_date.month(), v.due_date.day()),
        "bank" => v.bank.to_owned(),
        "agent" => v.agent.to_owned(),
        "hotline" => v.hotline.to_owned(),
        other => format!("{{{other}}}"),
    })
}

/// A template with each `{variable}` replaced by `word(name, rest)` (which may consume from
/// `rest`, the text after the variable); an unclosed `{` is left as written.
fn fill(template: &str, mut word: impl FnMut(&str, &mut &str) -> String) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        rest = &after[close + 1..];
        out.push_str(&word(name, &mut rest));
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_is_written_with_the_cases_figures() {
        let v = Spoken {
            name: "张先生",
            card_last4: "1234",
            amount_fen: 1_234_567,
            dpd: 45,
            due_date: Date::new(2026, 3, 5).unwrap(),
            bank: "示例银行",
            agent: "王芳",
            hotline: "4008-123",
        };
        assert_eq!(
            written(
                "{name}您好，我是{bank}的{agent}。尾号{card_last4}逾期{dpd}天，应还{amount}元，请于{due_date}前还款，热线{hotline}。{x}",
                &v
            ),
            "张先生您好，我是示例银行的王芳。尾号1234逾期45天，应还12,345.67元，请于3月5日前还款，热线4008-123。{x}"
        );
        assert_eq!(written("{amount}", &Spoken { amount_fen: -5, ..v.clone() }), "-0.05");
        assert_eq!(written("未闭合{name", &v), "未闭合{name");
    }

    #[test]
    fn numbers_read_as_said() {
        let cases: [(u64, &str); 23] = [
            (0, "零"),
            (7, "七"),
            (10, "十"),
            (15, "十五"),
            (20, "二十"),
            (105, "一百零五"),
            (110, "一百一十"),
            (200, "两百"),
            (1_000, "一千"),
            (1_010, "一千零一十"),
            (2_000, "两千"),
            (2_222, "两千二百二十二"),
            (1_200, "一千二百"),
            (10_000, "一万"),
            (10_010, "一万零一十"),
            (12_000, "一万二千"),
            (20_000, "两万"),
            (100_000, "十万"),
            (105_000, "十万五千"),
            (1_000_500, "一百万零五百"),
            (100_000_000, "一亿"),
            (120_000_000, "一亿二千万"),
            (100_000_001, "一亿零一"),
        ];
        for (n, want) in cases {
            assert_eq!(number_words(n), want, "{n}");
        }
    }

    #[test]
    fn amounts_in_yuan_jiao_fen() {
        assert_eq!(amount_words(123_456), "一千二百三十四元五角六分");
        assert_eq!(amount_words(1_205), "十二元零五分");
        assert_eq!(amount_words(100_000), "一千元");
        assert_eq!(amount_words(50), "五角");
        assert_eq!(amount_words(5), "五分");
        assert_eq!(amount_words(0), "零元");
        assert_eq!(amount_words(-300), "负三元");
        assert_eq!(amount_words(5_000_000), "五万元");
    }

    #[test]
    fn dates_and_digits() {
        let d = Date::new(2026, 3, 15).unwrap();
        assert_eq!(date_words(d, false), "三月十五日");
        assert_eq!(date_words(d, true), "二零二六年三月十五日");
        assert_eq!(date_words(Date::new(2031, 2, 2).unwrap(), true), "二零三一年二月二日");
        assert_eq!(digits_words("4008-123"), "四零零八幺二三");
    }

    #[test]
    fn a_template_is_spoken() {
        let v = Spoken {
            name: "张先生",
            card_last4: "1234",
            amount_fen: 523_050,
            dpd: 12,
            due_date: Date::new(2026, 3, 5).unwrap(),
            bank: "示例银行",
            agent: "E001",
            hotline: "95555",
        };
        let said = speak(
            "{name}您好，{bank}提醒您尾号{card_last4}的信用卡逾期{dpd}，应还{amount}，即{amount}元，最后还款日{due_date}，热线{hotline}。{x}",
            &v,
        );
        assert_eq!(
            said,
            "张先生您好，示例银行提醒您尾号幺二三四的信用卡逾期十二天，应还五千二百三十元五角，即五千二百三十元五角，最后还款日三月五日，热线九五五五五。{x}"
        );
    }
}
