//! Tables the console shows, exported as CSV or xlsx: one [`Table`] per screen, two writers.
//!
//! Money is kept in fen until the writer: CSV gets a plain decimal (`1234.56`, no grouping),
//! xlsx gets a number with a `#,##0.00` format, so a spreadsheet can add it up.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ApiResult};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// An amount in fen.
    Fen(i64),
    /// A share, 0–1 (`None`: no denominator).
    Ratio(Option<f64>),
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        Cell::Text(s.unwrap_or_default())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl Cell {
    /// The cell as CSV text: text that a spreadsheet would run as a formula (it begins with
    /// `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'` so that it stays
    /// text (OWASP "CSV injection"); numbers keep their sign.
    fn csv(&self) -> String {
        match self {
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
            _ => self.plain(),
        }
    }

    fn plain(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Fen(f) => {
                let sign = if *f < 0 { "-" } else { "" };
                format!("{sign}{}.{:02}", f.unsigned_abs() / 100, f.unsigned_abs() % 100)
            }
            Cell::Ratio(Some(r)) => format!("{r:.4}"),
            Cell::Ratio(None) => String::new(),
        }
    }
}

/// A table: its file name (without extension), header and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file's name, ASCII (`team-cases`).
    pub name: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<Cell>>,
}

/// A file format for a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, UTF-8 with a byte-order mark (Excel on Chinese Windows reads it).
    Csv,
    /// An Excel workbook.
    Xlsx,
}

impl Format {
    /// `csv` or `xlsx`.
    pub fn parse(s: &str) -> ApiResult<Format> {
        match s {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(ApiError::field("format", "ENUM", format!("{other:?}: csv or xlsx"))),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string())
}

impl Table {
    /// The table as CSV bytes.
    pub fn csv(&self) -> ApiResult<Vec<u8>> {
        let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        w.write_record(&self.header).map_err(internal)?;
        for r in &self.rows {
            w.write_record(r.iter().map(Cell::csv)).map_err(internal)?;
        }
        w.into_inner().map_err(internal)
    }

    /// The table as an xlsx workbook: a bold, frozen header with a filter, typed cells.
    pub fn xlsx(&self) -> ApiResult<Vec<u8>> {
        use rust_xlsxwriter::{Format as Fmt, Workbook};
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        let sheet_name: String = self.name.chars().take(31).collect();
        sheet.set_name(sheet_name).map_err(internal)?;
        let bold = Fmt::new().set_bold();
        let money = Fmt::new().set_num_format("#,##0.00");
        let share = Fmt::new().set_num_format("0.0%");
        for (c, h) in self.header.iter().enumerate() {
            let col = u16::try_from(c).map_err(internal)?;
            sheet.write_string_with_format(0, col, h, &bold).map_err(internal)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(internal)?;
            for (c, cell) in row.iter().enumerate() {
                let col = u16::try_from(c).map_err(internal)?;
                match cell {
                    Cell::Text(s) => sheet.write_string(r, col, s).map(|_| ()),
                    Cell::Int(n) => sheet.write_number(r, col, *n as f64).map(|_| ()),
                    Cell::Fen(f) => {
                        sheet.write_number_with_format(r, col, *f as f64 / 100.0, &money).map(|_| ())
                    }
                    Cell::Ratio(Some(x)) => sheet.write_number_with_format(r, col, *x, &share).map(|_| ()),
                    Cell::Ratio(None) => Ok(()),
                }
                .map_err(internal)?;
            }
        }
        let last_row = u32::try_from(self.rows.len()).map_err(internal)?;
        let last_col = u16::try_from(self.header.len().saturating_sub(1)).map_err(internal)?;
        sheet.set_freeze_panes(1, 0).map_err(internal)?;
        sheet.autofilter(0, 0, last_row, last_col).map_err(internal)?;
        sheet.autofit();
        book.save_to_buffer().map_err(internal)
    }

    /// The table as a download in `format`.
    pub fn download(&self, format: Format) -> ApiResult<Response> {
        let (bytes, content_type, ext) = match format {
            Format::Csv => (self.csv()?, "text/csv; charset=utf-8", "csv"),
            Format::Xlsx => {
                (self.xlsx()?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
            }
        };
        let disposition = format!("attachment; filename=\"{}.{ext}\"", self.name);
        Ok((
            [(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
            bytes,
        )
            .into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            name: "team-cases".into(),
            header: vec!["case".into(), "debtor".into(), "overdue_yuan".into(), "kept".into()],
            rows: vec![
                vec!["CASE-C1".into(), "张*".into(), Cell::Fen(123_456), Cell::Ratio(Some(0.5))],
                vec!["CASE-C2".into(), "李*".into(), Cell::Fen(-5), Cell::Ratio(None)],
            ],
        }
    }

    #[test]
    fn csv_has_a_bom_plain_decimals_and_quotes() {
        let bytes = table().csv().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "\u{feff}case,debtor,overdue_yuan,kept\nCASE-C1,张*,1234.56,0.5000\nCASE-C2,李*,-0.05,\n"
        );
    }

    #[test]
    fn xlsx_is_a_workbook_with_the_cells() {
        let bytes = table().xlsx().unwrap();
        assert_eq!(&bytes[..2], b"PK", "a zip");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut read = |name: &str| {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
            s
        };
        let strings = read("xl/sharedStrings.xml");
        assert!(strings.contains("张*") && strings.contains("overdue_yuan"), "{strings}");
        let sheet = read("xl/worksheets/sheet1.xml");
        assert!(sheet.contains("<v>1234.56</v>") && sheet.contains("<v>0.5</v>"), "{sheet}");
        assert!(sheet.contains("autoFilter"), "a filter on the header");
        assert!(read("xl/workbook.xml").contains("name=\"team-cases\""));
    }

    #[test]
    fn csv_text_that_a_spreadsheet_would_run_as_a_formula_is_quoted() {
        let t = Table {
            name: "waivers".into(),
            header: vec!["reason".into(), "amount".into()],
            rows: vec![
                vec!["=cmd|' /C calc'!A0".into(), Cell::Fen(-100)],
                vec!["+1".into(), Cell::Int(-3)],
                vec!["-2+3".into(), Cell::Int(0)],
                vec!["@SUM(A1)".into(), Cell::Int(0)],
                vec!["\tx".into(), Cell::Int(0)],
                vec!["\rx".into(), Cell::Int(0)],
                vec!["plain = fine".into(), Cell::Int(0)],
            ],
        };
        let text = String::from_utf8(t.csv().unwrap()).unwrap();
        let cells: Vec<&str> = text.lines().skip(1).map(|l| l.rsplit_once(',').unwrap().0).collect();
        assert_eq!(
            cells,
            ["'=cmd|' /C calc'!A0", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "\"'\rx\"", "plain = fine"]
        );
        // Numbers keep their sign: they are numbers, not text a spreadsheet evaluates.
        assert!(text.contains(",-1.00\n") && text.contains(",-3\n"), "{text}");
    }

    #[test]
    fn formats_are_csv_or_xlsx() {
        assert_eq!(Format::parse("xlsx").unwrap(), Format::Xlsx);
        assert_eq!(Format::parse("pdf").unwrap_err().code, "ENUM");
    }
}
