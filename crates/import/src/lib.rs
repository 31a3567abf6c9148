//! Validated import of the bank's files: customers, contact points, accounts, transactions and
//! payments, as CSV in UTF-8 (a BOM is tolerated) or GBK.
//!
//! A file is read as a stream: each row is parsed into domain types (resident ID checksum,
//! mainland mobiles, Luhn card numbers, dates, amounts without floats, …), checked for
//! duplicate keys within the file, then — a chunk at a time — against the store (unknown
//! customers or accounts, resident IDs held by another customer, owner or currency changes) and
//! upserted by external id. Every refusal goes to `FILE.rejects.csv` with its line, column,
//! field, stable code and reason.
//!
//! The whole file is one transaction. By default it is all-or-nothing: one refused row and
//! nothing is stored. With `partial`, the good rows are stored and the bad ones reported; with
//! `check`, everything is validated and nothing stored. A process killed half-way leaves the
//! database as it was.
//!
//! - [`schema`]: the columns of each kind (documented in `docs/import.md`).
//! - `source`: decoding, hashing, header mapping and field access.
//! - `fields`: dates, instants, whole numbers, words.
//! - `kinds`: one module per kind: parse a row, resolve a chunk.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use daylight_store::model::{BatchMeta, BatchReceipt, BatchSummary, ImportKind};
use daylight_store::{ImportSession, ImportStore, StoreError};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

mod fields;
mod kinds;
pub mod schema;
mod source;

pub use source::Encoding;

use kinds::{Ctx, Kind, Outcome};
use schema::Schema;
use source::{Fields, Source};

/// Rows resolved against the store at a time: large enough to amortise each lookup and
/// multi-row statement, small enough to keep memory flat.
pub const DEFAULT_CHUNK_ROWS: usize = 5_000;

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// What the file holds.
    pub kind: ImportKind,
    /// The file.
    pub path: PathBuf,
    /// Its text encoding.
    pub encoding: Encoding,
    /// Store the good rows even when some are refused.
    pub partial: bool,
    /// Check only: validate everything (references included) and write the rejects file, but
    /// store nothing.
    pub check: bool,
    /// Who imports (recorded in the ledger).
    pub actor: String,
    /// When (recorded on every row and in the ledger).
    pub at: Timestamp,
    /// IANA zone of local date-times in the file.
    pub time_zone: String,
    /// Rows per chunk.
    pub chunk_rows: usize,
}

/// One refused field (or row, when `column` is 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// 1-based line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// 1-based column; 0 when the file lacks the column.
    pub column: usize,
    /// The column's name.
    pub field: String,
    /// Stable code (`RESIDENT_ID_CHECKSUM`, `UNKNOWN_ACCOUNT`, …).
    pub code: &'static str,
    /// What was wrong and what was expected.
    pub reason: String,
}

/// A file that cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        error: String,
    },
    /// The header does not fit the kind.
    #[error("{path}:1:{column}: {message}")]
    Header {
        /// The file.
        path: String,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file is not CSV past some line (e.g. an unclosed quote).
    #[error("{path}:{line}: not valid CSV: {error}")]
    Csv {
        /// The file.
        path: String,
        /// Line.
        line: u64,
        /// What the parser said.
        error: String,
    },
    /// An option is wrong.
    #[error("{0}")]
    Options(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Io { .. } => "IMPORT_IO",
            ImportError::Header { .. } => "IMPORT_HEADER",
            ImportError::Csv { .. } => "IMPORT_CSV",
            ImportError::Options(_) => "IMPORT_OPTIONS",
            ImportError::Store(e) => e.code(),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// What the file held.
    pub kind: ImportKind,
    /// The file.
    pub file: String,
    /// Its encoding.
    pub encoding: &'static str,
    /// Whether anything was stored.
    pub stored: bool,
    /// Counts and the file's SHA-256.
    pub summary: BatchSummary,
    /// The batch and its ledger event, when stored.
    pub receipt: Option<BatchReceipt>,
    /// The rejects file, when any row was refused.
    pub rejects_file: Option<PathBuf>,
}

/// `FILE.rejects.csv` beside `FILE`.
pub fn rejects_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".rejects.csv");
    PathBuf::from(name)
}

/// Imports one file. `progress` is told the bytes read and the file's size as reading goes on.
pub async fn import_file(
    store: &dyn ImportStore,
    opts: &ImportOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<ImportReport, ImportError> {
    let zone = TimeZone::get(&opts.time_zone)
        .map_err(|_| ImportError::Options(format!("--time-zone {:?} is not an IANA zone", opts.time_zone)))?;
    let ctx = Ctx { zone };
    match opts.kind {
        ImportKind::Customers => run::<kinds::customers::Customers>(store, opts, ctx, progress).await,
        ImportKind::Contacts => run::<kinds::contacts::Contacts>(store, opts, ctx, progress).await,
        ImportKind::Accounts => run::<kinds::accounts::Accounts>(store, opts, ctx, progress).await,
        ImportKind::Transactions => run::<kinds::money_rows::Transactions>(store, opts, ctx, progress).await,
        ImportKind::Payments => run::<kinds::money_rows::Payments>(store, opts, ctx, progress).await,
    }
}

async fn run<K: Kind>(
    store: &dyn ImportStore,
    opts: &ImportOptions,
    ctx: Ctx,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<ImportReport, ImportError> {
    let schema = Schema::of(opts.kind);
    let source = Source::open(&opts.path, opts.encoding, schema)?;
    let (bytes_read, total_bytes) = (source.bytes_read.clone(), source.total_bytes);
    let mut out = Outcome::new(&source.layout);
    let mut sink = RejectSink::create(&opts.path);
    let keep = schema
        .columns
        .iter()
        .zip(&source.layout.position)
        .filter(|(c, at)| c.kept_when_absent && at.is_none())
        .map(|(c, _)| c.name)
        .collect();
    let meta = BatchMeta {
        kind: opts.kind,
        file_name: opts.path.display().to_string(),
        actor: opts.actor.clone(),
        at: opts.at,
        partial: opts.partial,
        keep,
    };
    let mut session = store.begin_import(&meta).await?;
    // Reading and parsing run on their own thread, a few chunks ahead of the store: on two
    // cores, validation and the database work side by side.
    let (chunks, mut incoming) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
    let (chunk_rows, path) = (opts.chunk_rows.max(1), opts.path.clone());
    let reader =
        tokio::task::spawn_blocking(move || read_chunks::<K>(source, &ctx, chunk_rows, &path, &chunks));
    while let Some(chunk) = incoming.recv().await {
        let Chunk { rows, mut rejects } = chunk;
        out.rejects.append(&mut rejects);
        let write = !opts.check && (opts.partial || (sink.rows == 0 && out.rejects.is_empty()));
        resolve::<K>(&mut *session, rows, &mut sink, &mut out, write).await?;
        progress(bytes_read.load(Ordering::Relaxed), total_bytes);
    }
    let read = reader.await.map_err(|e| ImportError::Options(format!("the reader stopped: {e}")))??;
    progress(bytes_read.load(Ordering::Relaxed), total_bytes);
    let summary = BatchSummary {
        file_sha256: read.sha256,
        rows_total: read.rows,
        rows_inserted: out.inserted,
        rows_updated: out.updated,
        rows_rejected: sink.rows,
        rejects_by_code: sink.by_code.clone(),
    };
    let (stored, receipt) = if opts.check || (summary.rows_rejected > 0 && !opts.partial) {
        session.rollback().await?;
        (false, None)
    } else {
        (true, Some(session.commit(&summary).await?))
    };
    let rejects_file = sink.finish()?;
    Ok(ImportReport {
        kind: opts.kind,
        file: opts.path.display().to_string(),
        encoding: opts.encoding.name(),
        stored,
        summary,
        receipt,
        rejects_file,
    })
}

/// Chunks parsed ahead of the store.
const CHUNKS_AHEAD: usize = 2;

/// Parsed rows and the rows refused while parsing, for one stretch of the file.
struct Chunk<R> {
    rows: Vec<(u64, R)>,
    rejects: Vec<Reject>,
}

/// What the reader saw by the end of the file.
struct ReadEnd {
    rows: u64,
    sha256: String,
}

/// Reads, parses and checks rows for duplicate keys, sending a chunk every `chunk_rows` rows.
/// Stops early (quietly) when the receiving side has gone.
fn read_chunks<K: Kind>(
    mut source: Source,
    ctx: &Ctx,
    chunk_rows: usize,
    path: &Path,
    chunks: &tokio::sync::mpsc::Sender<Chunk<K::Record>>,
) -> Result<ReadEnd, ImportError> {
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    let mut chunk = Chunk { rows: Vec::with_capacity(chunk_rows), rejects: Vec::new() };
    loop {
        let more = source.reader.read_byte_record(&mut record).map_err(|e| ImportError::Csv {
            path: path.display().to_string(),
            line: e.position().map_or(0, |p| p.line()),
            error: e.to_string(),
        })?;
        // A blank line (nothing but white space) is not a row.
        if more && record.iter().all(<[u8]>::is_empty) {
            continue;
        }
        if more {
            rows += 1;
            let line = record.position().map_or(rows + 1, |p| p.line());
            let mut fields = Fields::new(&record, &source.layout, line);
            let parsed = K::parse(&mut fields, ctx);
            if let Some(r) = &parsed {
                let key = K::key(r);
                if let Some(first) = seen.get(key) {
                    fields.reject_code(0, "DUPLICATE_KEY", format!("{key} is also on line {first}"));
                } else {
                    seen.insert(key.to_owned(), line);
                }
            }
            match parsed {
                Some(r) if fields.rejects.is_empty() => chunk.rows.push((line, r)),
                _ => chunk.rejects.append(&mut fields.rejects),
            }
        }
        let full = chunk.rows.len() + chunk.rejects.len() >= chunk_rows;
        if (full || !more) && !(chunk.rows.is_empty() && chunk.rejects.is_empty()) {
            let next = Chunk { rows: Vec::with_capacity(chunk_rows), rejects: Vec::new() };
            if chunks.blocking_send(std::mem::replace(&mut chunk, next)).is_err() {
                break;
            }
        }
        if !more {
            break;
        }
    }
    Ok(ReadEnd { rows, sha256: source.hasher_handle().hex() })
}

/// Resolves a chunk, then writes the chunk's rejects in line order. Rows are stored only when
/// `write`: while the file can still be stored (always with `partial`; until the first refusal
/// without) and never when only checking.
async fn resolve<K: Kind>(
    session: &mut dyn ImportSession,
    rows: Vec<(u64, K::Record)>,
    sink: &mut RejectSink,
    out: &mut Outcome,
    write: bool,
) -> Result<(), ImportError> {
    if !rows.is_empty() {
        K::resolve(session, rows, write, out).await?;
    }
    sink.write(&mut out.rejects)
}

/// Streams rejects into a temporary file beside the input (created at the first reject, named
/// uniquely so concurrent imports of one file cannot collide), renamed to `FILE.rejects.csv` at
/// the end. With no rejects nothing is written, and a stale rejects file from an earlier run is
/// removed.
struct RejectSink {
    final_path: PathBuf,
    writer: Option<(tempfile::NamedTempFile, csv::Writer<File>)>,
    rows: u64,
    last_line: u64,
    by_code: BTreeMap<String, u64>,
}

impl RejectSink {
    fn create(path: &Path) -> RejectSink {
        RejectSink {
            final_path: rejects_path(path),
            writer: None,
            rows: 0,
            last_line: 0,
            by_code: BTreeMap::new(),
        }
    }

    fn io(&self, e: impl std::fmt::Display) -> ImportError {
        ImportError::Io { path: self.final_path.display().to_string(), error: e.to_string() }
    }

    fn writer(&mut self) -> Result<&mut csv::Writer<File>, ImportError> {
        if self.writer.is_none() {
            let dir =
                self.final_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let temp = tempfile::Builder::new()
                .prefix(".rejects-")
                .suffix(".part")
                .tempfile_in(dir)
                .map_err(|e| self.io(e))?;
            let mut writer = csv::Writer::from_writer(temp.as_file().try_clone().map_err(|e| self.io(e))?);
            writer.write_record(["line", "column", "field", "code", "reason"]).map_err(|e| self.io(e))?;
            self.writer = Some((temp, writer));
        }
        Ok(&mut self.writer.as_mut().expect("just created").1)
    }

    fn write(&mut self, rejects: &mut Vec<Reject>) -> Result<(), ImportError> {
        rejects.sort_by_key(|r| (r.line, r.column));
        for r in rejects.drain(..) {
            if r.line != self.last_line {
                self.rows += 1;
                self.last_line = r.line;
            }
            *self.by_code.entry(r.code.to_owned()).or_default() += 1;
            let record = [r.line.to_string(), r.column.to_string(), r.field, r.code.to_owned(), r.reason];
            let result = self.writer()?.write_record(record);
            result.map_err(|e| self.io(e))?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Option<PathBuf>, ImportError> {
        match self.writer.take() {
            None => match std::fs::remove_file(&self.final_path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.io(e)),
                _ => Ok(None),
            },
            Some((temp, mut writer)) => {
                writer.flush().map_err(|e| self.io(e))?;
                drop(writer);
                temp.persist(&self.final_path).map_err(|e| self.io(e.error))?;
                Ok(Some(self.final_path))
            }
        }
    }
}
