//! Reading an import file: bytes hashed as they are read, decoded from UTF-8 (BOM tolerated)
//! or GBK/GB18030, split by the `csv` crate, and the header mapped onto a kind's columns.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use daylight_domain::{Code, Invalid};
use sha2::{Digest, Sha256};

use crate::schema::Schema;
use crate::{ImportError, Reject};

/// The text encoding of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8; a leading byte-order mark is skipped.
    Utf8,
    /// GBK (also read for `gb2312`), as Excel on Chinese Windows saves CSV.
    Gbk,
    /// GB 18030.
    Gb18030,
}

impl std::str::FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb2312" | "cp936" => Ok(Encoding::Gbk),
            "gb18030" => Ok(Encoding::Gb18030),
            other => Err(format!("encoding {other:?}; expected utf-8, gbk or gb18030")),
        }
    }
}

impl Encoding {
    /// The name printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gbk => "gbk",
            Encoding::Gb18030 => "gb18030",
        }
    }
}

/// Hashes and counts bytes as they pass.
struct Tap<R> {
    inner: R,
    hasher: Arc<Mutex<Sha256>>,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.lock().expect("hasher lock").update(&buf[..n]);
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Skips a UTF-8 byte-order mark at the start of a stream.
struct SkipBom<R> {
    inner: R,
    checked: bool,
    pending: Vec<u8>,
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.checked {
            self.checked = true;
            let mut head = [0u8; 3];
            let mut got = 0;
            while got < 3 {
                let n = self.inner.read(&mut head[got..])?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            if head[..got] != [0xEF, 0xBB, 0xBF] {
                self.pending.extend_from_slice(&head[..got]);
            }
        }
        if !self.pending.is_empty() {
            let n = self.pending.len().min(buf.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// An open import file.
pub(crate) struct Source {
    pub reader: csv::Reader<Box<dyn Read + Send>>,
    pub layout: Layout,
    hasher: Arc<Mutex<Sha256>>,
    pub bytes_read: Arc<AtomicU64>,
    pub total_bytes: u64,
}

impl Source {
    pub fn open(path: &Path, encoding: Encoding, schema: &'static Schema) -> Result<Source, ImportError> {
        let io_err =
            |e: io::Error| ImportError::Io { path: path.display().to_string(), error: e.to_string() };
        let file = File::open(path).map_err(io_err)?;
        let total_bytes = file.metadata().map_err(io_err)?.len();
        let hasher = Arc::new(Mutex::new(Sha256::new()));
        let bytes_read = Arc::new(AtomicU64::new(0));
        let tap = Tap {
            inner: BufReader::with_capacity(1 << 20, file),
            hasher: hasher.clone(),
            bytes: bytes_read.clone(),
        };
        let decoded: Box<dyn Read + Send> = match encoding {
            Encoding::Utf8 => Box::new(SkipBom { inner: tap, checked: false, pending: Vec::new() }),
            Encoding::Gbk | Encoding::Gb18030 => Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(if encoding == Encoding::Gbk {
                        encoding_rs::GBK
                    } else {
                        encoding_rs::GB18030
                    }))
                    .build(tap),
            ),
        };
        // Only `\n` ends a record: with the default CRLF handling the csv crate numbers the
        // lines of a Windows (CRLF) file one too low. The `\r` left at the end of the last
        // field is trimmed as white space.
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(1 << 20)
            .from_reader(decoded);
        let header = reader.byte_headers().map_err(|e| ImportError::Csv {
            path: path.display().to_string(),
            line: 1,
            error: e.to_string(),
        })?;
        let layout = Layout::from_header(header, schema).map_err(|(column, message)| {
            ImportError::Header { path: path.display().to_string(), column, message }
        })?;
        Ok(Source { reader, layout, hasher, bytes_read, total_bytes })
    }

    /// A handle on the running hash, readable after the reader is gone.
    pub fn hasher_handle(&self) -> HashHandle {
        HashHandle(self.hasher.clone())
    }
}

/// The SHA-256 of the bytes read so far.
pub(crate) struct HashHandle(Arc<Mutex<Sha256>>);

impl HashHandle {
    /// The digest, hex.
    pub fn hex(&self) -> String {
        hex::encode(self.0.lock().expect("hasher lock").clone().finalize())
    }
}

/// Where each of a kind's columns sits in the file.
#[derive(Debug)]
pub(crate) struct Layout {
    pub schema: &'static Schema,
    /// For each schema column, its 0-based position in the file, if present.
    pub position: Vec<Option<usize>>,
    /// Columns in the header.
    pub width: usize,
}

impl Layout {
    /// Maps a header: the first column must be the kind's id; every name must be known and
    /// appear once; every required column must be present. Errors give the 1-based column.
    fn from_header(header: &csv::ByteRecord, schema: &'static Schema) -> Result<Layout, (usize, String)> {
        let mut position = vec![None; schema.columns.len()];
        if header.is_empty() || header.iter().all(<[u8]>::is_empty) {
            return Err((1, format!("the file has no header; expected {}", schema.names())));
        }
        for (i, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw)
                .map_err(|_| {
                    (i + 1, "the header is not valid text in this encoding (try --encoding gbk)".to_owned())
                })?
                .trim()
                .to_ascii_lowercase();
            let Some(col) = schema.columns.iter().position(|c| c.name == name) else {
                return Err((i + 1, format!("unknown column {name:?}; expected {}", schema.names())));
            };
            if i == 0 && col != 0 {
                return Err((
                    1,
                    format!(
                        "the first column must be {:?}, the record's external id",
                        schema.columns[0].name
                    ),
                ));
            }
            if let Some(first) = position[col] {
                return Err((
                    i + 1,
                    format!("column {name:?} appears twice (first as column {})", first + 1),
                ));
            }
            position[col] = Some(i);
        }
        if let Some(missing) = schema.columns.iter().zip(&position).find(|(c, p)| c.required && p.is_none()) {
            return Err((header.len() + 1, format!("required column {:?} is missing", missing.0.name)));
        }
        Ok(Layout { schema, position, width: header.len() })
    }
}

/// One data row, with the rejects found while reading its fields.
pub(crate) struct Fields<'a> {
    record: &'a csv::ByteRecord,
    layout: &'a Layout,
    pub line: u64,
    pub rejects: Vec<Reject>,
}

impl<'a> Fields<'a> {
    pub fn new(record: &'a csv::ByteRecord, layout: &'a Layout, line: u64) -> Fields<'a> {
        let mut f = Fields { record, layout, line, rejects: Vec::new() };
        if record.len() != layout.width {
            f.rejects.push(Reject {
                line,
                column: record.len().min(layout.width) + 1,
                field: String::new(),
                code: "COLUMNS",
                reason: format!("the row has {} columns; the header has {}", record.len(), layout.width),
            });
        }
        f
    }

    /// The 1-based file column of schema column `col` (0 when the file lacks it).
    pub fn column(&self, col: usize) -> usize {
        self.layout.position[col].map_or(0, |p| p + 1)
    }

    /// Records a refusal of schema column `col`.
    pub fn reject(&mut self, col: usize, invalid: Invalid) {
        self.reject_code(col, invalid.code.as_str(), invalid.message);
    }

    /// Records a refusal with an import-level code.
    pub fn reject_code(&mut self, col: usize, code: &'static str, reason: String) {
        self.rejects.push(Reject {
            line: self.line,
            column: self.column(col),
            field: self.layout.schema.columns[col].name.to_owned(),
            code,
            reason,
        });
    }

    /// The trimmed text of column `col`; `None` when absent or blank (or not valid text, which
    /// is rejected).
    pub fn get(&mut self, col: usize) -> Option<&'a str> {
        let pos = self.layout.position[col]?;
        let raw = self.record.get(pos)?;
        match std::str::from_utf8(raw) {
            Ok(s) if s.contains('\u{FFFD}') => {
                self.reject(col, Invalid::new(Code::Encoding, "bytes that are not valid in this encoding"));
                None
            }
            Ok(s) => Some(s.trim()).filter(|s| !s.is_empty()),
            Err(_) => {
                self.reject(
                    col,
                    Invalid::new(
                        Code::Encoding,
                        "bytes that are not valid UTF-8 (is the file GBK? use --encoding gbk)",
                    ),
                );
                None
            }
        }
    }

    /// Column `col`, which must not be blank.
    pub fn required(&mut self, col: usize) -> Option<&'a str> {
        let had = self.rejects.len();
        let value = self.get(col);
        if value.is_none() && self.rejects.len() == had {
            let name = self.layout.schema.columns[col].name;
            self.reject(col, Invalid::new(Code::Required, format!("{name} is required")));
        }
        value
    }

    /// Column `col` parsed by `parse`; `None` (with a reject) when blank or refused.
    pub fn parse<T>(&mut self, col: usize, parse: impl FnOnce(&str) -> Result<T, Invalid>) -> Option<T> {
        let text = self.required(col)?;
        parse(text).map_err(|e| self.reject(col, e)).ok()
    }

    /// Column `col` parsed when present: `Some(None)` when blank, `None` when refused.
    pub fn parse_opt<T>(
        &mut self,
        col: usize,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        match self.get(col) {
            None => Some(None),
            Some(text) => parse(text).map(Some).map_err(|e| self.reject(col, e)).ok(),
        }
    }
}
