//! The two-channel recording: left = agent, right = debtor, 8 kHz 16-bit PCM in a WAV, encrypted
//! with age to the vault's X25519 public key.
//!
//! While the call runs, frames go to a spool file next to the destination, encrypted (streaming)
//! to a throw-away key that lives only in this process's memory, so no plaintext audio ever
//! touches the disk. When the call ends the spool is decrypted as a stream, a WAV header (whose
//! length is now known) is put in front, and the whole is encrypted to the vault recipient while
//! the ciphertext's SHA-256 is computed. The switch never holds the vault's private key.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::iter;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::CallError;
use crate::event::Recording;

/// Sample rate of the recording.
pub const SAMPLE_RATE: u32 = 8000;
/// Longest a packet may jump ahead of what is written (60 s) before it is dropped as bogus.
const MAX_AHEAD: u64 = 60 * SAMPLE_RATE as u64;

/// Parses an age X25519 recipient (`age1…`).
pub fn parse_recipient(key: &str) -> Result<age::x25519::Recipient, CallError> {
    age::x25519::Recipient::from_str(key.trim())
        .map_err(|e| CallError::Config(format!("vault_recipient is not an age X25519 key: {e}")))
}

/// A recording in progress.
pub struct Recorder {
    spool_path: PathBuf,
    spool: Option<age::stream::StreamWriter<BufWriter<File>>>,
    spool_key: age::x25519::Identity,
    /// Pending samples of each channel, starting at frame `written`.
    chans: [VecDeque<i16>; 2],
    /// A barging supervisor's pending samples, mixed into the left channel as it is written.
    overlay: VecDeque<i16>,
    written: u64,
}

impl Recorder {
    /// Starts a recording whose ciphertext will go to `record_to`.
    pub fn create(record_to: &Path) -> Result<Recorder, CallError> {
        let spool_path = with_suffix(record_to, ".spool");
        let spool_key = age::x25519::Identity::generate();
        let recipient = spool_key.to_public();
        let file = File::create(&spool_path)
            .map_err(|e| CallError::Media(format!("cannot create {}: {e}", spool_path.display())))?;
        let spool = age::Encryptor::with_recipients(iter::once(&recipient as &dyn age::Recipient))
            .map_err(|e| CallError::Media(e.to_string()))?
            .wrap_output(BufWriter::new(file))
            .map_err(|e| CallError::Media(e.to_string()))?;
        Ok(Recorder {
            spool_path,
            spool: Some(spool),
            spool_key,
            overlay: VecDeque::new(),
            chans: [VecDeque::new(), VecDeque::new()],
            written: 0,
        })
    }

    /// Frames already written to the spool.
    #[cfg(test)]
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Puts `samples` on channel `ch` (0 = left, 1 = right) at frame `pos`. Samples before what
    /// is already written are dropped, as are packets absurdly far ahead.
    pub fn put(&mut self, ch: usize, pos: u64, samples: &[i16]) {
        let written = self.written;
        place(&mut self.chans[ch], written, pos, samples);
    }

    /// Puts a barging supervisor's `samples` at frame `pos`: they are mixed into the left (the
    /// bank's) channel, whatever the collector says at the same time.
    pub fn put_overlay(&mut self, pos: u64, samples: &[i16]) {
        let written = self.written;
        place(&mut self.overlay, written, pos, samples);
    }

    /// Writes every frame before `pos` to the spool (silence where a channel has nothing).
    pub fn flush_until(&mut self, pos: u64) -> io::Result<()> {
        if pos <= self.written {
            return Ok(());
        }
        let n = (pos - self.written) as usize;
        let mut buf = Vec::with_capacity(n * 4);
        for _ in 0..n {
            let l = self.chans[0].pop_front().unwrap_or(0);
            let l = l.saturating_add(self.overlay.pop_front().unwrap_or(0));
            let r = self.chans[1].pop_front().unwrap_or(0);
            buf.extend_from_slice(&l.to_le_bytes());
            buf.extend_from_slice(&r.to_le_bytes());
        }
        self.spool.as_mut().ok_or_else(|| io::Error::other("spool closed"))?.write_all(&buf)?;
        self.written = pos;
        Ok(())
    }

    /// Writes what is pending, then encrypts the WAV to `recipient` at `record_to`. Blocking.
    pub fn finish(
        mut self,
        recipient: &age::x25519::Recipient,
        record_to: &Path,
    ) -> Result<Recording, CallError> {
        let result = self.finish_inner(recipient, record_to);
        let _ = std::fs::remove_file(&self.spool_path);
        result.map_err(|e| CallError::Media(format!("recording failed: {e}")))
    }

    fn finish_inner(
        &mut self,
        recipient: &age::x25519::Recipient,
        record_to: &Path,
    ) -> io::Result<Recording> {
        let pending = self.chans[0].len().max(self.chans[1].len()).max(self.overlay.len());
        let end = self.written + pending as u64;
        self.flush_until(end)?;
        let spool = self.spool.take().ok_or_else(|| io::Error::other("spool closed"))?;
        spool.finish()?.flush()?;
        let frames = self.written;

        let reader = age::Decryptor::new(BufReader::new(File::open(&self.spool_path)?))
            .map_err(io::Error::other)?
            .decrypt(iter::once(&self.spool_key as &dyn age::Identity))
            .map_err(io::Error::other)?;
        let part = with_suffix(record_to, ".part");
        let out = HashWriter { inner: BufWriter::new(File::create(&part)?), hasher: Sha256::new(), bytes: 0 };
        let mut enc = age::Encryptor::with_recipients(iter::once(recipient as &dyn age::Recipient))
            .map_err(io::Error::other)?
            .wrap_output(out)?;
        enc.write_all(&wav_header(frames))?;
        let copied = io::copy(&mut { reader }, &mut enc)?;
        if copied != frames * 4 {
            return Err(io::Error::other(format!("spool held {copied} bytes, expected {}", frames * 4)));
        }
        let mut out = enc.finish()?;
        out.inner.flush()?;
        out.inner.get_ref().sync_all()?;
        std::fs::rename(&part, record_to)?;
        Ok(Recording {
            path: record_to.to_path_buf(),
            sha256: hex::encode(out.hasher.finalize().as_slice()),
            bytes: out.bytes,
            secs: frames as f64 / f64::from(SAMPLE_RATE),
        })
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.spool_path);
    }
}

/// Puts `samples` into `chan` (pending frames from `written`) at frame `pos`, overwriting.
fn place(chan: &mut VecDeque<i16>, written: u64, pos: u64, samples: &[i16]) {
    let (skip, offset) = if pos < written { ((written - pos) as usize, 0) } else { (0, pos - written) };
    if skip >= samples.len() || offset > MAX_AHEAD {
        return;
    }
    let samples = &samples[skip..];
    let offset = offset as usize;
    if chan.len() < offset + samples.len() {
        chan.resize(offset + samples.len(), 0);
    }
    for (i, &s) in samples.iter().enumerate() {
        chan[offset + i] = s;
    }
}

/// A canonical 44-byte WAV header: 2 channels, 8 kHz, 16-bit PCM, `frames` frames.
pub fn wav_header(frames: u64) -> [u8; 44] {
    let data = u32::try_from(frames * 4).unwrap_or(u32::MAX - 36);
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36 + data).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&2u16.to_le_bytes());
    h[24..28].copy_from_slice(&SAMPLE_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(SAMPLE_RATE * 4).to_le_bytes());
    h[32..34].copy_from_slice(&4u16.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

struct HashWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn records_places_and_encrypts() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("call.wav.age");
        let vault = age::x25519::Identity::generate();
        let mut rec = Recorder::create(&out).unwrap();
        rec.put(0, 0, &[1, 2, 3, 4]);
        rec.put(1, 2, &[7, 8, 9]);
        rec.flush_until(3).unwrap();
        assert_eq!(rec.written(), 3);
        rec.put(0, 1, &[100, 5, 6]); // frames 1 and 2 are already written: only 6 lands (frame 3)
        let r = rec.finish(&vault.to_public(), &out).unwrap();
        assert_eq!(r.secs, 5.0 / 8000.0);
        let cipher = std::fs::read(&out).unwrap();
        assert_eq!(r.bytes, cipher.len() as u64);
        assert_eq!(r.sha256, hex::encode(Sha256::digest(&cipher).as_slice()));
        assert!(!dir.path().join("call.wav.age.spool").exists());

        let mut plain = Vec::new();
        age::Decryptor::new(&cipher[..])
            .unwrap()
            .decrypt(iter::once(&vault as &dyn age::Identity))
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        let wav = hound::WavReader::new(&plain[..]).unwrap();
        assert_eq!(wav.spec().channels, 2);
        assert_eq!(wav.spec().sample_rate, 8000);
        let s: Vec<i16> = wav.into_samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(s, vec![1, 0, 2, 0, 3, 7, 6, 8, 0, 9]);
    }

    #[test]
    fn a_barging_supervisor_is_mixed_into_the_left_channel() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("barge.wav.age");
        let vault = age::x25519::Identity::generate();
        let mut rec = Recorder::create(&out).unwrap();
        rec.put(0, 0, &[10, 20, 30, i16::MAX]);
        rec.put(1, 0, &[1, 1, 1, 1]);
        rec.put_overlay(1, &[5, 5, 5, 5]); // runs one frame past the others
        let r = rec.finish(&vault.to_public(), &out).unwrap();
        assert_eq!(r.secs, 5.0 / 8000.0);
        let mut plain = Vec::new();
        age::Decryptor::new(&std::fs::read(&out).unwrap()[..])
            .unwrap()
            .decrypt(iter::once(&vault as &dyn age::Identity))
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        let s: Vec<i16> =
            hound::WavReader::new(&plain[..]).unwrap().into_samples::<i16>().map(Result::unwrap).collect();
        // Left: the collector plus the supervisor, saturating; right: the debtor alone.
        assert_eq!(s, vec![10, 1, 25, 1, 35, 1, i16::MAX, 1, 5, 0]);
    }

    #[test]
    fn a_flipped_byte_fails_decryption() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.age");
        let vault = age::x25519::Identity::generate();
        let mut rec = Recorder::create(&out).unwrap();
        rec.put(0, 0, &[5; 800]);
        rec.finish(&vault.to_public(), &out).unwrap();
        let mut cipher = std::fs::read(&out).unwrap();
        let at = cipher.len() - 20;
        cipher[at] ^= 0x01;
        let mut plain = Vec::new();
        let read = age::Decryptor::new(&cipher[..])
            .unwrap()
            .decrypt(iter::once(&vault as &dyn age::Identity))
            .unwrap()
            .read_to_end(&mut plain);
        assert!(read.is_err());
    }

    #[test]
    fn rejects_bad_recipients() {
        assert_eq!(parse_recipient("age1nope").unwrap_err().code(), "CALL_CONFIG");
        let key = age::x25519::Identity::generate().to_public().to_string();
        assert!(parse_recipient(&key).is_ok());
    }
}
