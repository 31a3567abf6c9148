//! Plain-text tables for the terminal. Widths count display columns, so Chinese names line up.

use unicode_width::UnicodeWidthStr;

/// A table printed with aligned columns; numbers right-aligned.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    /// A table with these column titles; a title starting with `>` is right-aligned.
    pub fn new<S: AsRef<str>>(titles: &[S]) -> Table {
        Table {
            header: titles.iter().map(|t| t.as_ref().trim_start_matches('>').to_owned()).collect(),
            right: titles.iter().map(|t| t.as_ref().starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, two spaces between columns.
    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut width = vec![0; n];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.width());
            }
        }
        let mut out = String::new();
        for r in std::iter::once(&self.header).chain(&self.rows) {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let pad = " ".repeat(width[i] - c.width());
                    if self.right[i] { format!("{pad}{c}") } else { format!("{c}{pad}") }
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// Minor units as a decimal with thousands separators: `1,234,567.89`.
pub fn amount(minor: i64, digits: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(digits);
    let whole = (abs / scale).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if digits == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{:0w$}", abs % scale, w = digits as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_by_display_width() {
        let mut t = Table::new(&["Name", ">Amount"]);
        t.row(vec!["张*".into(), "1.00".into()]);
        t.row(vec!["Li".into(), "100.00".into()]);
        assert_eq!(t.render(), "Name  Amount\n张*     1.00\nLi    100.00\n");
    }

    #[test]
    fn amounts_group_thousands() {
        assert_eq!(amount(123_456_789, 2), "1,234,567.89");
        assert_eq!(amount(-5, 2), "-0.05");
        assert_eq!(amount(1_000, 0), "1,000");
    }
}
