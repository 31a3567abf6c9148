//! Speech out: a robot's prompts as 8 kHz audio for G.711.
//!
//! [`Tts`] is the interface (a bank's own engine plugs in behind it); [`Espeak`] renders with
//! espeak-ng's Mandarin voice `cmn-latn-pinyin`, which reads characters and inline pinyin with
//! tones. Characters with two readings come out wrong in collections words (银行 as yín xíng,
//! 还款 as hái kuǎn), so [`pronounce`] first writes the words of [`PRONUNCIATIONS`] as pinyin.
//! Renderings are cached as WAV files named by the SHA-256 of the voice, the rate and the
//! text as pronounced, so a prompt said to ten thousand debtors is rendered once per text.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::CallError;
use crate::record::SAMPLE_RATE;

/// Collections words whose characters espeak-ng reads wrongly, written as tone-numbered
/// pinyin. Longer words first, so 还款日 is not cut by a shorter entry.
pub const PRONUNCIATIONS: [(&str, &str); 12] = [
    ("还款", "huan2 kuan3"),
    ("还清", "huan2 qing1"),
    ("应还", "ying1 huan2"),
    ("归还", "gui1 huan2"),
    ("偿还", "chang2 huan2"),
    ("还钱", "huan2 qian2"),
    ("银行", "yin2 hang2"),
    ("重听", "chong2 ting1"),
    ("重新", "chong2 xin1"),
    ("重拨", "chong2 bo1"),
    ("调整", "tiao2 zheng3"),
    ("行长", "hang2 zhang3"),
];

/// `text` with the words of [`PRONUNCIATIONS`] written as pinyin (spaced off the characters
/// around them), as the voice is to read it.
pub fn pronounce(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    'outer: while let Some(c) = rest.chars().next() {
        for (word, pinyin) in PRONUNCIATIONS {
            if let Some(after) = rest.strip_prefix(word) {
                out.push(' ');
                out.push_str(pinyin);
                out.push(' ');
                rest = after;
                continue 'outer;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A rendered prompt: 8 kHz mono 16-bit samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The audio.
    pub samples: Arc<[i16]>,
    /// The cache key: SHA-256 of the voice, the rate and the text as pronounced.
    pub key: String,
}

impl Prompt {
    /// Its length in seconds.
    pub fn secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(SAMPLE_RATE)
    }

    /// Writes it to `path` as an 8 kHz mono 16-bit WAV file.
    pub fn write_wav(&self, path: &Path) -> Result<(), CallError> {
        let file =
            std::fs::File::create(path).map_err(|e| CallError::Speech(format!("{}: {e}", path.display())))?;
        write_samples(file, &self.samples).map_err(|e| CallError::Speech(format!("{}: {e}", path.display())))
    }
}

/// `samples` as an 8 kHz mono 16-bit WAV into `to`.
fn write_samples(to: std::fs::File, samples: &[i16]) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(std::io::BufWriter::new(to), spec)?;
    for s in samples {
        w.write_sample(*s)?;
    }
    w.finalize()
}

/// A text-to-speech engine.
pub trait Tts: Send + Sync {
    /// `text` spoken, as 8 kHz mono audio. Blocking: call it off the async runtime.
    fn render(&self, text: &str) -> Result<Prompt, CallError>;
}

/// espeak-ng, with a cache folder.
#[derive(Debug, Clone)]
pub struct Espeak {
    binary: PathBuf,
    voice: String,
    rate_wpm: u32,
    cache: PathBuf,
}

/// The longest text a prompt may be, in characters (a prompt is a sentence or three).
pub const MAX_PROMPT_CHARS: usize = 500;

impl Espeak {
    /// espeak-ng from `PATH`, voice `cmn-latn-pinyin` at 175 words a minute, caching in
    /// `cache` (made if missing).
    pub fn new(cache: &Path) -> Result<Espeak, CallError> {
        std::fs::create_dir_all(cache)
            .map_err(|e| CallError::Speech(format!("cache folder {}: {e}", cache.display())))?;
        Ok(Espeak {
            binary: PathBuf::from("espeak-ng"),
            voice: "cmn-latn-pinyin".to_owned(),
            rate_wpm: 175,
            cache: cache.to_owned(),
        })
    }

    /// The same with another voice and rate (words a minute, 80–450).
    pub fn with_voice(mut self, voice: &str, rate_wpm: u32) -> Result<Espeak, CallError> {
        if voice.trim().is_empty() || !(80..=450).contains(&rate_wpm) {
            return Err(CallError::Config(format!(
                "speech voice {voice:?} at {rate_wpm} words a minute: expected a voice and 80 to 450"
            )));
        }
        self.voice = voice.to_owned();
        self.rate_wpm = rate_wpm;
        Ok(self)
    }

    /// The cache key of `pronounced`.
    fn key(&self, pronounced: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.voice.as_bytes());
        h.update([0]);
        h.update(self.rate_wpm.to_le_bytes());
        h.update(pronounced.as_bytes());
        hex::encode(h.finalize())
    }

    /// Where `key`'s rendering is cached.
    pub fn cached(&self, key: &str) -> PathBuf {
        self.cache.join(format!("{key}.wav"))
    }

    fn store(&self, path: &Path, samples: &[i16]) -> Result<(), String> {
        let tmp =
            tempfile::Builder::new().suffix(".tmp").tempfile_in(&self.cache).map_err(|e| e.to_string())?;
        let file = tmp.reopen().map_err(|e| e.to_string())?;
        write_samples(file, samples).map_err(|e| e.to_string())?;
        tmp.persist(path).map_err(|e| e.to_string())?;
        Ok(())
    }

    fn synthesise(&self, pronounced: &str) -> Result<Vec<i16>, CallError> {
        // To a file, not stdout: espeak-ng streams stdout with a header of unknown length.
        let raw = tempfile::Builder::new()
            .suffix(".wav")
            .tempfile_in(&self.cache)
            .map_err(|e| CallError::Speech(format!("a file in {}: {e}", self.cache.display())))?;
        let out = Command::new(&self.binary)
            .args(["-v", &self.voice, "-s", &self.rate_wpm.to_string(), "-w"])
            .arg(raw.path())
            .args(["--", pronounced])
            .output()
            .map_err(|e| CallError::Speech(format!("{}: {e}", self.binary.display())))?;
        if !out.status.success() {
            return Err(CallError::Speech(format!(
                "{} exited with {}: {}",
                self.binary.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let mut wav = hound::WavReader::open(raw.path())
            .map_err(|e| CallError::Speech(format!("espeak-ng's audio: {e}")))?;
        let spec = wav.spec();
        let samples: Vec<i16> = wav
            .samples::<i16>()
            .collect::<Result<_, _>>()
            .map_err(|e| CallError::Speech(format!("espeak-ng's audio: {e}")))?;
        let mono: Vec<i16> = if spec.channels > 1 {
            samples.chunks(usize::from(spec.channels)).map(|c| c[0]).collect()
        } else {
            samples
        };
        Ok(resample(&mono, spec.sample_rate, SAMPLE_RATE))
    }
}

impl Tts for Espeak {
    fn render(&self, text: &str) -> Result<Prompt, CallError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_PROMPT_CHARS {
            return Err(CallError::Speech(format!(
                "a prompt of {} characters: expected 1 to {MAX_PROMPT_CHARS}",
                text.chars().count()
            )));
        }
        let pronounced = pronounce(text);
        let key = self.key(&pronounced);
        let path = self.cached(&key);
        if let Ok(mut wav) = hound::WavReader::open(&path)
            && wav.spec().sample_rate == SAMPLE_RATE
            && let Ok(samples) = wav.samples::<i16>().collect::<Result<Vec<i16>, _>>()
        {
            return Ok(Prompt { samples: samples.into(), key });
        }
        let samples = self.synthesise(&pronounced)?;
        // Written aside and renamed: a reader never sees half a file, and two renders of one
        // text at once each write their own.
        if let Err(e) = self.store(&path, &samples) {
            tracing::warn!(path = %path.display(), error = %e, "caching a prompt failed; it is rendered again next time");
        }
        Ok(Prompt { samples: samples.into(), key })
    }
}

/// `samples` at `from` Hz resampled to `to` Hz: a windowed-sinc low-pass at the lower rate's
/// Nyquist frequency (Hann window, 16 zero crossings a side), then interpolation.
pub fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || samples.is_empty() {
        return samples.to_vec();
    }
    let ratio = f64::from(to) / f64::from(from);
    let cutoff = ratio.min(1.0); // of the input's Nyquist frequency
    let half = 16.0 / cutoff; // taps a side, in input samples
    let n_out = ((samples.len() as f64) * ratio).floor() as usize;
    let mut out = Vec::with_capacity(n_out);
    for j in 0..n_out {
        let center = j as f64 / ratio;
        let lo = (center - half).ceil().max(0.0) as usize;
        let hi = ((center + half).floor() as usize).min(samples.len() - 1);
        let (mut acc, mut norm) = (0.0, 0.0);
        for (i, s) in samples.iter().enumerate().take(hi + 1).skip(lo) {
            let x = i as f64 - center;
            let sinc = if x == 0.0 {
                1.0
            } else {
                let a = std::f64::consts::PI * x * cutoff;
                a.sin() / a
            };
            let window = 0.5 + 0.5 * (std::f64::consts::PI * x / half).cos();
            let w = sinc * window;
            acc += f64::from(*s) * w;
            norm += w;
        }
        let v = if norm.abs() > 1e-9 { acc / norm } else { 0.0 };
        out.push(v.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_words_are_written_as_pinyin() {
        assert_eq!(pronounce("请按时还款"), "请按时 huan2 kuan3 ");
        assert_eq!(
            pronounce("示例银行提醒您应还五千元，重听请按2"),
            "示例 yin2 hang2 提醒您 ying1 huan2 五千元， chong2 ting1 请按2"
        );
        assert_eq!(pronounce("还有"), "还有", "a word not in the table is left to the voice");
        assert_eq!(pronounce(""), "");
    }

    #[test]
    fn resampling_keeps_a_tone_and_its_level() {
        // A 440 Hz tone at 22,050 Hz, to 8 kHz.
        let from: Vec<i16> = (0..22_050)
            .map(|i| (8000.0 * (std::f64::consts::TAU * 440.0 * f64::from(i) / 22_050.0).sin()) as i16)
            .collect();
        let out = resample(&from, 22_050, 8000);
        assert_eq!(out.len(), 8000);
        let want: Vec<f64> = (0..8000)
            .map(|i| 8000.0 * (std::f64::consts::TAU * 440.0 * f64::from(i) / 8000.0).sin())
            .collect();
        // Away from the edges the two match closely.
        let err: f64 =
            out[200..7800].iter().zip(&want[200..7800]).map(|(a, b)| (f64::from(*a) - b).abs()).sum::<f64>()
                / 7600.0;
        assert!(err < 80.0, "mean error {err}");
        // A 6 kHz tone (over the new Nyquist frequency) is filtered out, not folded back.
        let high: Vec<i16> = (0..22_050)
            .map(|i| (8000.0 * (std::f64::consts::TAU * 6000.0 * f64::from(i) / 22_050.0).sin()) as i16)
            .collect();
        let out = resample(&high, 22_050, 8000);
        let rms = (out[200..7800].iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / 7600.0).sqrt();
        assert!(rms < 400.0, "aliased energy {rms}");
    }

    /// espeak-ng is installed; under `CI=true` its absence fails the test.
    fn espeak_or_skip(test: &str) -> bool {
        if Command::new("espeak-ng").arg("--version").output().is_ok_and(|o| o.status.success()) {
            return true;
        }
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: espeak-ng is required under CI=true");
        eprintln!("{test}: skipped, espeak-ng is not installed");
        false
    }

    /// The phonemes espeak-ng would say for `text` with the voice.
    fn phonemes(text: &str) -> String {
        let out = Command::new("espeak-ng")
            .args(["-v", "cmn-latn-pinyin", "-q", "-x", "--", text])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn the_table_fixes_what_the_voice_misreads() {
        if !espeak_or_skip("pronunciations") {
            return;
        }
        // 行 in 银行 is háng, not xíng; 还 in 还款 is huán, not hái.
        let plain = phonemes("银行还款");
        let fixed = phonemes(&pronounce("银行还款"));
        assert!(plain.contains("S;'i35N") && plain.contains("X'ai35"), "the voice alone: {plain}");
        assert!(fixed.contains("X'a35N") && fixed.contains("X'ua35n"), "with the table: {fixed}");
        assert!(!fixed.contains("S;'i35N") && !fixed.contains("X'ai35"), "{fixed}");
    }

    #[test]
    fn a_prompt_is_rendered_at_8_khz_and_cached() {
        if !espeak_or_skip("render") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let tts = Espeak::new(dir.path()).unwrap();
        let p = tts.render("您好，这里是示例银行信用卡中心，请按时还款。").unwrap();
        assert!((2.0..15.0).contains(&p.secs()), "{} s", p.secs());
        let loud = p.samples.iter().filter(|s| s.unsigned_abs() > 1000).count();
        assert!(loud > 1000, "speech, not silence");
        let cached = tts.cached(&p.key);
        let wav = hound::WavReader::open(&cached).unwrap();
        assert_eq!((wav.spec().sample_rate, wav.spec().channels), (8000, 1));
        // Rendered again from the cache, even with no engine to run.
        let broken = Espeak { binary: PathBuf::from("/nonexistent/espeak-ng"), ..tts.clone() };
        let again = broken.render("您好，这里是示例银行信用卡中心，请按时还款。").unwrap();
        assert_eq!(again, p);
        // Another text needs the engine: a clear error with its code.
        let e = broken.render("再见").unwrap_err();
        assert_eq!(e.code(), "CALL_SPEECH");
        assert!(e.to_string().contains("/nonexistent/espeak-ng"), "{e}");
        assert_eq!(tts.render(" ").unwrap_err().code(), "CALL_SPEECH");
        assert_eq!(tts.render(&"长".repeat(MAX_PROMPT_CHARS + 1)).unwrap_err().code(), "CALL_SPEECH");
        assert!(Espeak::new(dir.path()).unwrap().with_voice("cmn-latn-pinyin", 20).is_err());
    }
}
