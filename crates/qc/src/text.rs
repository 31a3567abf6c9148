//! Clauses and their grammar: where a clause starts and ends, whether it asks or supposes, and
//! whether a mention in it is negated.

use crate::rules::Grammar;

/// A clause of a turn: a byte range ending at a punctuation mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clause {
    /// First byte.
    pub start: usize,
    /// One past the last byte (before its punctuation mark).
    pub end: usize,
    /// It ends with a question mark.
    pub asks: bool,
}

impl Clause {
    /// The clause's text.
    pub fn text<'a>(&self, turn: &'a str) -> &'a str {
        &turn[self.start..self.end]
    }
}

fn is_break(c: char) -> bool {
    // A list (、) and a colon stay in their clause: "什么老赖、不要脸" is one quotation.
    matches!(c, '，' | '。' | '！' | '？' | '；' | ',' | '.' | '!' | '?' | ';' | '…' | '\n' | '~' | '～')
}

/// The clauses of a text. A `.` between digits (`1.5万`) and a `:` between digits (`15:00`) do
/// not end a clause.
pub fn clauses(text: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let next = it.peek().map(|(_, n)| *n);
        let numeric = matches!(c, '.' | ':' | '：' | ',')
            && prev.is_some_and(|p| p.is_ascii_digit())
            && next.is_some_and(|n| n.is_ascii_digit());
        if is_break(c) && !numeric {
            if i > start {
                out.push(Clause { start, end: i, asks: matches!(c, '？' | '?') });
            }
            start = i + c.len_utf8();
        }
        prev = Some(c);
    }
    if start < text.len() {
        out.push(Clause { start, end: text.len(), asks: false });
    }
    out
}

impl Grammar {
    /// Whether a clause asks: a question mark, or a question word in it.
    pub fn asks(&self, clause: &str, c: &Clause) -> bool {
        c.asks || self.question_words.iter().any(|w| clause.contains(w.as_str()))
    }

    /// Whether a clause's text before a mention supposes (如果, 要是 …).
    pub fn supposes(&self, before: &str) -> bool {
        self.hypothetical.iter().any(|w| before.contains(w.as_str()))
    }

    /// Whether a mention is negated: a negator between it and the nearest scope break before it,
    /// within `negation_window` characters, unless the nearest negators stand side by side in an
    /// even number ("不是不想还" is not negated; "没有失业也没有生病" is; in "不还钱就让你坐牢"
    /// the 就 ends 不's scope).
    pub fn negated(&self, before: &str) -> bool {
        let start = before.char_indices().rev().nth(self.negation_window - 1).map_or(0, |(i, _)| i);
        let mut w = &before[start..];
        if let Some(cut) =
            self.scope_breaks.iter().filter_map(|b| w.rfind(b.as_str()).map(|i| i + b.len())).max()
        {
            w = &w[cut..];
        }
        // The negators' byte ranges, left to right, the longest at each place.
        let mut found: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < w.len() {
            let rest = &w[i..];
            if let Some(n) =
                self.not_negators.iter().filter(|n| rest.starts_with(n.as_str())).map(String::len).max()
            {
                i += n;
                continue;
            }
            if let Some(n) =
                self.negators.iter().filter(|n| rest.starts_with(n.as_str())).map(String::len).max()
            {
                found.push((i, i + n));
                i += n;
                continue;
            }
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
        // The last group of negators that touch each other: an even group cancels out.
        let mut group = 0;
        let mut next_start = usize::MAX;
        for &(s, e) in found.iter().rev() {
            if group > 0 && e != next_start {
                break;
            }
            group += 1;
            next_start = s;
        }
        group % 2 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    #[test]
    fn clauses_split_at_punctuation_but_not_inside_numbers() {
        let t = "您好，先还1.5万吧？好的。15:00前";
        let cs: Vec<&str> = clauses(t).iter().map(|c| c.text(t)).collect();
        assert_eq!(cs, vec!["您好", "先还1.5万吧", "好的", "15:00前"]);
        assert!(clauses(t)[1].asks);
    }

    #[test]
    fn negation_has_a_scope() {
        let g = Rules::default_rules().grammar;
        assert!(g.negated("我没有"));
        assert!(g.negated("我们不会让你"));
        assert!(!g.negated("我不是不"));
        assert!(!g.negated("不还钱就让你"));
        assert!(!g.negated("不好意思我"));
        assert!(g.negated("我没有失业也没有"));
        assert!(!g.negated(""));
    }
}
