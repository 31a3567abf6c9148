//! Batch export of cases' contact records, notes and call recordings (录音和催记批量导出) as
//! one ZIP with a manifest of hashes, for a court, a regulator or a bank's own audit.
//!
//! The recordings go out as they are in the vault: age ciphertext, whose SHA-256 is the one in
//! each call's ledger event, so the receiver can check them against the ledger and open them
//! with the vault's identity. Nothing is decrypted here. Each exported recording is a
//! `recording.accessed` event (`how` = `export`). See docs/calls.md.

use std::io::{Seek, Write};
use std::path::Path;

use axum::http::StatusCode;
use daylight_domain::id::CaseId;
use daylight_store::Store;
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use zip::write::SimpleFileOptions;

use crate::error::{ApiError, ApiResult};

/// One file in the export.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManifestFile {
    /// Its path in the ZIP.
    pub path: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

/// One recording of an exported case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManifestRecording {
    /// The recording's id.
    pub recording: i64,
    /// The case.
    pub case: String,
    /// The dialled call's attempt (none for a call in).
    pub attempt: Option<i64>,
    /// The call in's log entry (none for a dialled call).
    pub inbound: Option<i64>,
    /// SHA-256 of the ciphertext, as in the call's ledger event (`attempt.recorded`, or
    /// `call.inbound` for a call in).
    pub sha256: String,
    /// Its path in the ZIP; none when purged.
    pub path: Option<String>,
    /// When the retention purge deleted its audio, if it did.
    pub purged_at: Option<String>,
}

/// The manifest (`manifest.json`, the ZIP's last entry).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Manifest {
    /// When the export was made (RFC 3339).
    pub exported_at: String,
    /// Who made it.
    pub exported_by: String,
    /// The ledger's head when it was made: `seq` and hash (hex). Every event the export
    /// reflects is at or before it.
    pub ledger_seq: i64,
    /// The head's hash, hex.
    pub ledger_hash: String,
    /// The cases, as asked.
    pub cases: Vec<String>,
    /// Every other file, with its SHA-256.
    pub files: Vec<ManifestFile>,
    /// The recordings, exported or purged.
    pub recordings: Vec<ManifestRecording>,
}

fn export_error(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message)
}

fn zip_error(e: impl std::fmt::Display) -> ApiError {
    export_error(StatusCode::INTERNAL_SERVER_ERROR, "EXPORT_WRITE", format!("writing the export: {e}"))
}

/// Writes `cases`' records and recordings (read from `vault`) to `out` as a ZIP, the manifest
/// last; returns the manifest. Refused whole (nothing to rely on is written) when a case does not
/// exist (`NOT_FOUND`), a recording's file is missing (`RECORDING_MISSING`) or no longer matches
/// its hash (`RECORDING_TAMPERED`). The caller checks who may export which cases.
pub async fn export<W: Write + Seek>(
    store: &dyn Store,
    cases: &[CaseId],
    vault: &Path,
    actor: &str,
    now: Timestamp,
    out: W,
) -> ApiResult<Manifest> {
    if cases.is_empty() {
        return Err(ApiError::field("cases", "REQUIRED", "name at least one case"));
    }
    let head = store.ledger_head().await?;
    let mut zip = zip::ZipWriter::new(out);
    let text = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    // Ciphertext does not compress.
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut files = Vec::new();
    let mut recordings = Vec::new();
    let mut exported = Vec::new();
    let mut put =
        |zip: &mut zip::ZipWriter<W>, path: String, bytes: &[u8], opts: SimpleFileOptions| -> ApiResult<()> {
            zip.start_file(path.as_str(), opts).map_err(zip_error)?;
            zip.write_all(bytes).map_err(zip_error)?;
            files.push(ManifestFile {
                path,
                sha256: hex::encode(Sha256::digest(bytes)),
                bytes: bytes.len() as u64,
            });
            Ok(())
        };
    for case in cases {
        let d = store.case_detail(case).await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let head_row = [
            "attempt",
            "at",
            "channel",
            "recipient",
            "contact_point",
            "agent",
            "outcome",
            "duration_secs",
            "recorded_by",
            "note",
        ];
        w.write_record(head_row).map_err(zip_error)?;
        for a in &d.attempts {
            let t = &a.attempt;
            w.write_record([
                a.id.to_string(),
                t.at.to_string(),
                t.channel.as_str().to_owned(),
                t.recipient.as_str().to_owned(),
                t.contact_point.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
                t.agent.code(),
                t.outcome.as_str().to_owned(),
                t.duration_secs.to_string(),
                a.recorded_by.clone(),
                t.note.clone().unwrap_or_default(),
            ])
            .map_err(zip_error)?;
        }
        let contacts = w.into_inner().map_err(zip_error)?;
        put(&mut zip, format!("{case}/contacts.csv"), &contacts, text)?;
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["note", "at", "author", "attempt", "text"]).map_err(zip_error)?;
        for n in &d.notes {
            w.write_record([
                n.id.to_string(),
                n.note.at.to_string(),
                n.note.author.clone(),
                n.note.attempt.map(|a| a.to_string()).unwrap_or_default(),
                n.note.text.clone(),
            ])
            .map_err(zip_error)?;
        }
        let notes = w.into_inner().map_err(zip_error)?;
        put(&mut zip, format!("{case}/notes.csv"), &notes, text)?;
        for r in store.recordings_of(case).await? {
            if let Some(at) = r.purged_at {
                recordings.push(ManifestRecording {
                    recording: r.id,
                    case: case.to_string(),
                    attempt: r.attempt,
                    inbound: r.inbound,
                    sha256: r.file.sha256,
                    path: None,
                    purged_at: Some(at.to_string()),
                });
                continue;
            }
            let cipher = tokio::fs::read(vault.join(&r.file.path)).await.map_err(|e| {
                export_error(
                    StatusCode::GONE,
                    "RECORDING_MISSING",
                    format!("recording {} ({}): {e}", r.id, r.file.path),
                )
            })?;
            if hex::encode(Sha256::digest(&cipher)) != r.file.sha256 {
                return Err(export_error(
                    StatusCode::CONFLICT,
                    "RECORDING_TAMPERED",
                    format!(
                        "recording {} does not match the SHA-256 in its ledger event: not exported",
                        r.id
                    ),
                ));
            }
            let name = Path::new(&r.file.path).file_name().map(|n| n.to_string_lossy().into_owned());
            let path = format!(
                "{case}/recordings/{}",
                name.unwrap_or_else(|| format!("recording-{}.wav.age", r.id))
            );
            zip.start_file(path.as_str(), stored).map_err(zip_error)?;
            zip.write_all(&cipher).map_err(zip_error)?;
            exported.push(r.id);
            recordings.push(ManifestRecording {
                recording: r.id,
                case: case.to_string(),
                attempt: r.attempt,
                inbound: r.inbound,
                sha256: r.file.sha256,
                path: Some(path),
                purged_at: None,
            });
        }
    }
    let manifest = Manifest {
        exported_at: now.to_string(),
        exported_by: actor.to_owned(),
        ledger_seq: head.seq,
        ledger_hash: hex::encode(head.hash),
        cases: cases.iter().map(ToString::to_string).collect(),
        files,
        recordings,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(zip_error)?;
    zip.start_file("manifest.json", text).map_err(zip_error)?;
    zip.write_all(&json).map_err(zip_error)?;
    zip.finish().map_err(zip_error)?;
    // The export is made: each recording in it is evidence of who took it.
    for id in exported {
        store.recording_accessed(id, "export", actor, now).await?;
    }
    Ok(manifest)
}
