//! The second factor: TOTP (RFC 6238: HMAC-SHA1, six digits, 30-second steps) from any
//! authenticator app, and ten one-time recovery codes.
//!
//! - **Enrolment**: a new 160-bit secret is kept as an enrolment under way; the person scans its
//!   `otpauth://` URI (a QR code, as SVG) and types a code; the right code confirms it, and
//!   the recovery codes are shown once (the store keeps their SHA-256).
//! - **Sign-in**: after the password, a session that may do nothing but give the code; the
//!   right code replaces it with a full one. A code is accepted one step either side of now
//!   (clock drift), and each step once: a code seen by someone else cannot be used again.
//! - **Policy**: roles named in `auth.second_factor_roles` (admin always) must enrol before
//!   anything else; an admin resets a lost factor, and the person enrols again.
//!
//! The time is an argument: the server passes its clock.

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Recovery codes made at an enrolment.
pub const RECOVERY_CODES: usize = 10;

fn totp(secret_b32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS as u64, bytes).ok()
}

/// A new secret: 160 random bits, base32 without padding.
pub fn new_secret() -> String {
    let mut b = [0u8; 20];
    getrandom::fill(&mut b).expect("the operating system's random source");
    match Secret::Raw(b.to_vec()).to_encoded() {
        Secret::Encoded(s) => s.trim_end_matches('=').to_owned(),
        Secret::Raw(_) => unreachable!("to_encoded gives Encoded"),
    }
}

/// The step `at` falls in.
pub fn step_of(at: Timestamp) -> i64 {
    at.as_second().div_euclid(STEP_SECS)
}

/// The code of `secret` at `at` (for tests and the command line's helpers).
pub fn code_at(secret_b32: &str, at: Timestamp) -> Option<String> {
    let t = u64::try_from(at.as_second()).ok()?;
    Some(totp(secret_b32)?.generate(t))
}

/// The step whose code `code` is, within one step of `now`, if any.
pub fn verify(secret_b32: &str, code: &str, now: Timestamp) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32)?;
    let here = step_of(now);
    [here - 1, here, here + 1].into_iter().find(|s| {
        u64::try_from(s * STEP_SECS)
            .is_ok_and(|secs| crate::auth::constant_eq(t.generate(secs).as_bytes(), code.as_bytes()))
    })
}

/// The `otpauth://` URI an authenticator app reads.
pub fn otpauth_uri(issuer: &str, login: &str, secret_b32: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        enc(issuer),
        enc(login),
        enc(issuer)
    )
}

/// `uri` as a QR code in SVG (black on white, no script, no style).
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build()
            // Inline in a page: the XML declaration has no place there.
            .split_once("?>")
            .map_or_else(String::new, |(_, svg)| svg.to_owned()),
        Err(_) => String::new(),
    }
}

/// Ten recovery codes, `xxxxx-xxxxx` from an alphabet without look-alikes (≈ 50 bits each).
pub fn recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 10];
            getrandom::fill(&mut b).expect("the operating system's random source");
            let c: String = b.iter().map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char).collect();
            format!("{}-{}", &c[..5], &c[5..])
        })
        .collect()
}

/// What the store keeps of a recovery code: the SHA-256 of its letters and digits, lower case.
pub fn recovery_digest(code: &str) -> String {
    let norm: String =
        code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    hex::encode(Sha256::digest(norm.as_bytes()))
}

/// Whether `code` looks like a recovery code rather than a TOTP code.
pub fn is_recovery_code(code: &str) -> bool {
    code.chars().filter(char::is_ascii_alphanumeric).count() == 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vectors_for_sha1() {
        // RFC 6238 appendix B: the key "12345678901234567890", 8 digits; six are its last six.
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        for (t, eight) in [(59, "94287082"), (1_111_111_109, "07081804"), (1_234_567_890, "89005924")] {
            let at = Timestamp::from_second(t).unwrap();
            assert_eq!(code_at(&secret, at).unwrap(), eight[2..], "t = {t}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_names_its_step() {
        let s = new_secret();
        assert_eq!(s.len(), 32);
        let now = Timestamp::from_second(1_772_503_200).unwrap();
        let here = step_of(now);
        for d in [-1, 0, 1] {
            let at = Timestamp::from_second((here + d) * STEP_SECS).unwrap();
            assert_eq!(verify(&s, &code_at(&s, at).unwrap(), now), Some(here + d));
        }
        let far = Timestamp::from_second((here + 3) * STEP_SECS).unwrap();
        assert_eq!(verify(&s, &code_at(&s, far).unwrap(), now), None);
        assert_eq!(verify(&s, "12a456", now), None);
        assert_eq!(verify(&s, "", now), None);
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_digest_without_dashes_or_case() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10);
        assert!(is_recovery_code(&codes[0]) && !is_recovery_code("123456"));
        assert_eq!(recovery_digest(&codes[0]), recovery_digest(&codes[0].to_uppercase().replace('-', " ")));
        let uri = otpauth_uri("Daylight 阳光", "E001", "ABC");
        assert!(uri.starts_with("otpauth://totp/Daylight%20%E9%98%B3"), "{uri}");
        assert!(qr_svg(&uri).starts_with("<svg") && qr_svg(&uri).ends_with("</svg>"));
    }
}
