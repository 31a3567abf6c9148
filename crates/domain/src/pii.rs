//! Personal data: validation and masking.
//!
//! Names, resident ID numbers, card numbers, phones, e-mails and addresses are shown masked
//! everywhere by default (`张*`, `110105********1234`, `622848******1234`, `138****5678`).
//! The PII types here print masked through both `Display` and `Debug`, so a value that reaches a
//! log or a template by accident is still masked; the clear value is only reachable through an
//! explicit `expose()`, which callers pair with a permission check and a ledger event.

use std::fmt;

use jiff::civil::Date;

use crate::error::{Code, Invalid, Valid};

/// Masks a person's name: the first character stays, every other letter becomes `*`
/// (`张三` → `张*`, `欧阳娜娜` → `欧***`, `Li Lei` → `L* ***`).
pub fn mask_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.trim().chars().enumerate() {
        out.push(if i == 0 || c.is_whitespace() { c } else { '*' });
    }
    out
}

/// Masks a resident ID number: the first 6 (region) and last 4 characters stay
/// (`110105199001011234` → `110105********1234`).
pub fn mask_resident_id(id: &str) -> String {
    mask_middle(id, 6, 4)
}

/// Masks a card number: the first 6 (BIN) and last 4 digits stay (`622848******1234`).
pub fn mask_pan(pan: &str) -> String {
    mask_middle(pan, 6, 4)
}

/// Masks a phone number: a mobile keeps the first 3 and last 4 digits (`138****5678`);
/// a landline keeps its area code and last 4 digits (`010-****5678`).
pub fn mask_phone(phone: &str) -> String {
    match phone.split_once('-') {
        Some((area, local)) => format!("{area}-{}", mask_middle(local, 0, 4)),
        None => mask_middle(phone, 3, 4),
    }
}

/// Masks an e-mail address: the first character of the local part and the domain stay
/// (`zhangsan@example.com` → `z***@example.com`).
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => mask_middle(email, 1, 0),
    }
}

/// Masks a postal address: the first six characters (province and city) stay
/// (`北京市朝阳区建国路88号` → `北京市朝阳区****`).
pub fn mask_address(address: &str) -> String {
    let kept: String = address.trim().chars().take(6).collect();
    if address.trim().chars().count() > 6 { format!("{kept}****") } else { kept }
}

/// Masks an employer's name: its first two characters stay (`北京某某科技有限公司` →
/// `北京****`); a workplace says where a debtor can be found, so it is shown only on reveal.
pub fn mask_employer(employer: &str) -> String {
    let kept: String = employer.trim().chars().take(2).collect();
    format!("{kept}****")
}

/// Keeps `head` leading and `tail` trailing characters and stars the rest; a value too short to
/// hide anything after keeping both ends is starred whole but for its first character.
fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= head + tail {
        return chars.iter().enumerate().map(|(i, c)| if i == 0 { *c } else { '*' }).collect();
    }
    chars.iter().enumerate().map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' }).collect()
}

macro_rules! pii_text {
    ($(#[$doc:meta] $name:ident => $mask:path),+ $(,)?) => {$(
        #[$doc]
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The clear value. Call only where the viewer may see it, and record that they did.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// The value as it may be shown to anyone.
            pub fn masked(&self) -> String {
                $mask(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.masked())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.masked())
            }
        }
    )+};
}

pii_text! {
    /// A person's name (debtor, guarantor, emergency contact).
    PersonName => mask_name,
    /// A mainland resident ID number (居民身份证号码), validated against GB 11643.
    ResidentId => mask_resident_id,
    /// A phone number: a mainland mobile (11 digits) or a landline `0AA[A]-NNNNNNN[N]`.
    Phone => mask_phone,
    /// An e-mail address.
    Email => mask_email,
    /// A postal address.
    Address => mask_address,
}

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest address accepted, in characters.
pub const MAX_ADDRESS_CHARS: usize = 200;

impl PersonName {
    /// A non-empty name without digits or control characters, at most [`MAX_NAME_CHARS`].
    pub fn parse(text: &str) -> Valid<Self> {
        let t = text.trim();
        if t.is_empty() {
            return Err(Invalid::new(Code::Required, "a name is required"));
        }
        if t.chars().count() > MAX_NAME_CHARS {
            return Err(Invalid::new(
                Code::TooLong,
                format!("name is longer than {MAX_NAME_CHARS} characters"),
            ));
        }
        if t.chars().any(|c| crate::text::refused_char(c) || c.is_control() || c.is_ascii_digit()) {
            return Err(Invalid::new(
                Code::Inconsistent,
                "a name may not contain digits, control, bidirectional or zero-width characters",
            ));
        }
        Ok(PersonName(t.to_owned()))
    }
}

impl Address {
    /// A non-empty address of at most [`MAX_ADDRESS_CHARS`] characters.
    pub fn parse(text: &str) -> Valid<Self> {
        let t = text.trim();
        if t.is_empty() {
            return Err(Invalid::new(Code::Required, "an address is required"));
        }
        if t.chars().count() > MAX_ADDRESS_CHARS
            || t.chars().any(|c| c.is_control() || crate::text::refused_char(c))
        {
            return Err(Invalid::new(
                Code::TooLong,
                format!("an address is at most {MAX_ADDRESS_CHARS} characters without control characters"),
            ));
        }
        Ok(Address(t.to_owned()))
    }
}

/// Gender, as encoded in the 17th digit of a resident ID number (odd = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// 男.
    Male,
    /// 女.
    Female,
}

impl Gender {
    /// `M` or `F`.
    pub const fn code(self) -> &'static str {
        match self {
            Gender::Male => "M",
            Gender::Female => "F",
        }
    }

    /// Accepts `M`/`F`, `male`/`female` and `男`/`女`.
    pub fn parse(text: &str) -> Valid<Gender> {
        match text.trim() {
            "M" | "m" | "male" | "Male" | "男" => Ok(Gender::Male),
            "F" | "f" | "female" | "Female" | "女" => Ok(Gender::Female),
            other => Err(Invalid::new(Code::Enum, format!("gender {other:?}; expected M, F, 男 or 女"))),
        }
    }
}

/// GB 11643-1999 weights of the first 17 characters.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder mod 11.
const ID_CHECK: [u8; 11] = *b"10X98765432";
/// First two digits of a resident ID: the province-level division (GB/T 2260).
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
    61, 62, 63, 64, 65, 71, 81, 82,
];

/// The GB 11643 check character for the first 17 digits of a resident ID number.
pub fn resident_id_check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17.iter().zip(ID_WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    ID_CHECK[(sum % 11) as usize] as char
}

impl ResidentId {
    /// Validates an 18-character resident ID: digits with a final digit or `X`, a known province,
    /// a real birth date, and the GB 11643 check character. A lowercase `x` is accepted.
    pub fn parse(text: &str) -> Valid<Self> {
        let t = text.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        if b.len() == 15 && b.iter().all(u8::is_ascii_digit) {
            return Err(Invalid::new(
                Code::ResidentIdFormat,
                "15-digit (first-generation) ID numbers must be converted to 18 digits",
            ));
        }
        if b.len() != 18
            || !b[..17].iter().all(u8::is_ascii_digit)
            || !(b[17].is_ascii_digit() || b[17] == b'X')
        {
            return Err(Invalid::new(
                Code::ResidentIdFormat,
                format!("resident ID {} is not 17 digits and a final digit or X", mask_resident_id(&t)),
            ));
        }
        let province = (b[0] - b'0') * 10 + (b[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(Invalid::new(
                Code::ResidentIdRegion,
                format!("resident ID starts with {province:02}, which is not a province code"),
            ));
        }
        if birth_date_of(&t).is_none() {
            return Err(Invalid::new(
                Code::ResidentIdBirthDate,
                format!("resident ID {} holds no valid birth date", mask_resident_id(&t)),
            ));
        }
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&b[..17]);
        let expected = resident_id_check_char(&first17);
        if b[17] as char != expected {
            return Err(Invalid::new(
                Code::ResidentIdChecksum,
                format!(
                    "resident ID {} fails the GB 11643 checksum (check character should be {expected})",
                    mask_resident_id(&t)
                ),
            ));
        }
        Ok(ResidentId(t))
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> Date {
        birth_date_of(&self.0).expect("validated on parse")
    }

    /// The gender encoded in character 17 (odd = male).
    pub fn gender(&self) -> Gender {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { Gender::Male } else { Gender::Female }
    }

    /// The six-digit administrative division code of the place of registration.
    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }
}

fn birth_date_of(id: &str) -> Option<Date> {
    let year: i16 = id.get(6..10)?.parse().ok()?;
    let month: i8 = id.get(10..12)?.parse().ok()?;
    let day: i8 = id.get(12..14)?.parse().ok()?;
    if year < 1900 {
        return None;
    }
    Date::new(year, month, day).ok()
}

/// Which kind of phone a [`Phone`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneKind {
    /// A mainland mobile (SMS-capable).
    Mobile,
    /// A fixed line with area code.
    Landline,
}

impl Phone {
    /// Accepts a mainland mobile `1[3-9]XXXXXXXXX` (a `+86`, `86` or `0086` prefix, spaces and
    /// hyphens are removed) or a landline `0` + 2–3 digit area code + 7–8 digits, stored as
    /// `0AA-NNNNNNNN`.
    pub fn parse(text: &str) -> Valid<Self> {
        let compact: String = text.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        let national = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .or_else(|| (compact.len() == 13).then(|| compact.strip_prefix("86")).flatten())
            .unwrap_or(&compact);
        let b = national.as_bytes();
        let all_digits = !b.is_empty() && b.iter().all(u8::is_ascii_digit);
        if all_digits && b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            return Ok(Phone(national.to_owned()));
        }
        if all_digits && b[0] == b'0' && (10..=12).contains(&b.len()) {
            // Area codes: 010 and 02X are three digits with the 0; the rest are four.
            let area_len = if b[1] == b'1' || b[1] == b'2' { 3 } else { 4 };
            let local = &national[area_len..];
            if (7..=8).contains(&local.len()) {
                return Ok(Phone(format!("{}-{local}", &national[..area_len])));
            }
        }
        Err(Invalid::new(
            Code::PhoneFormat,
            format!(
                "{} is not a mainland mobile (11 digits starting 13–19) or a landline with area code",
                mask_phone(text.trim())
            ),
        ))
    }

    /// Mobile or landline.
    pub fn kind(&self) -> PhoneKind {
        if self.0.contains('-') { PhoneKind::Landline } else { PhoneKind::Mobile }
    }
}

impl Email {
    /// A plain `local@domain.tld` address of at most 254 characters.
    pub fn parse(text: &str) -> Valid<Self> {
        let t = text.trim();
        let ok = t.len() <= 254
            && t.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && domain.contains('.')
                    && !t.chars().any(|c| c.is_whitespace() || c.is_control())
                    && !domain.contains('@')
            });
        if ok {
            Ok(Email(t.to_owned()))
        } else {
            Err(Invalid::new(
                Code::EmailFormat,
                format!("{} is not an e-mail address like name@example.com", mask_email(t)),
            ))
        }
    }
}

/// A card number as stored: first 6 and last 4 digits, the middle starred. The full number is
/// validated on import and then dropped: collections never needs it, so it is never kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct MaskedPan(String);

impl MaskedPan {
    /// Validates a full card number (13–19 digits; spaces and hyphens ignored; Luhn check) and
    /// keeps only its masked form.
    pub fn from_full(text: &str) -> Valid<MaskedPan> {
        let digits: String = text.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if !(13..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(
                Code::PanFormat,
                format!("card number {} is not 13–19 digits", mask_pan(&digits)),
            ));
        }
        if !luhn_valid(&digits) {
            return Err(Invalid::new(
                Code::PanLuhn,
                format!("card number {} fails the Luhn check", mask_pan(&digits)),
            ));
        }
        Ok(MaskedPan(mask_pan(&digits)))
    }

    /// A masked number read back from storage.
    pub fn from_stored(masked: String) -> MaskedPan {
        MaskedPan(masked)
    }

    /// The masked number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, as collectors read them to a debtor.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len().saturating_sub(4)..]
    }
}

impl fmt::Display for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Luhn (mod 10) check used by every card scheme.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 11010519491231002X is the sample number of GB 11643's own examples.
    const SAMPLE_ID: &str = "11010519491231002X";

    #[test]
    fn masks_as_the_requirements_show() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("Li Lei"), "L* ***");
        assert_eq!(mask_resident_id("110105199001011234"), "110105********1234");
        assert_eq!(mask_pan("6228480402564890"), "622848******4890");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("010-12345678"), "010-****5678");
        assert_eq!(mask_email("zhangsan@example.com"), "z***@example.com");
        assert_eq!(mask_address("北京市朝阳区建国路88号"), "北京市朝阳区****");
        assert_eq!(mask_middle("123", 3, 4), "1**");
    }

    #[test]
    fn pii_types_never_print_in_clear() {
        let name = PersonName::parse("张三").unwrap();
        assert_eq!(format!("{name} {name:?}"), "张* PersonName(张*)");
        let id = ResidentId::parse(SAMPLE_ID).unwrap();
        assert_eq!(id.to_string(), "110105********002X");
        assert_eq!(id.expose(), SAMPLE_ID);
        let phone = Phone::parse("+86 138-1234-5678").unwrap();
        assert_eq!(format!("{phone:?}"), "Phone(138****5678)");
        assert_eq!(phone.expose(), "13812345678");
    }

    #[test]
    fn resident_id_checks() {
        let id = ResidentId::parse(&SAMPLE_ID.to_lowercase()).unwrap();
        assert_eq!(id.birth_date(), Date::new(1949, 12, 31).unwrap());
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.region_code(), "110105");
        let code = |s: &str| ResidentId::parse(s).unwrap_err().code;
        assert_eq!(code("110105194912310021"), Code::ResidentIdChecksum);
        assert_eq!(code("11010519491231002"), Code::ResidentIdFormat);
        assert_eq!(code("110105491231002"), Code::ResidentIdFormat);
        assert_eq!(code("11010519491331002X"), Code::ResidentIdBirthDate);
        assert_eq!(code("99010519491231002X"), Code::ResidentIdRegion);
        // The message masks the number it refuses.
        let msg = ResidentId::parse("110105194912310021").unwrap_err().message;
        assert!(msg.contains("110105********0021"), "{msg}");
    }

    #[test]
    fn check_char_matches_known_ids() {
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&SAMPLE_ID.as_bytes()[..17]);
        assert_eq!(resident_id_check_char(&first17), 'X');
        first17.copy_from_slice(b"44030419851010123");
        let full = format!("44030419851010123{}", resident_id_check_char(&first17));
        assert!(ResidentId::parse(&full).is_ok());
    }

    #[test]
    fn phones() {
        assert_eq!(Phone::parse("13812345678").unwrap().kind(), PhoneKind::Mobile);
        assert_eq!(Phone::parse("8613812345678").unwrap().expose(), "13812345678");
        assert_eq!(Phone::parse("0086 19912345678").unwrap().expose(), "19912345678");
        let land = Phone::parse("(010) 6512 3456").unwrap();
        assert_eq!((land.expose(), land.kind()), ("010-65123456", PhoneKind::Landline));
        assert_eq!(Phone::parse("0755-8888888").unwrap().expose(), "0755-8888888");
        for bad in ["12812345678", "1381234567", "138123456789", "abc", "", "0101234"] {
            assert_eq!(Phone::parse(bad).unwrap_err().code, Code::PhoneFormat, "{bad}");
        }
    }

    #[test]
    fn cards_keep_only_the_mask() {
        let pan = MaskedPan::from_full("4111 1111 1111 1111").unwrap();
        assert_eq!(pan.as_str(), "411111******1111");
        assert_eq!(pan.last4(), "1111");
        assert_eq!(MaskedPan::from_full("4111111111111112").unwrap_err().code, Code::PanLuhn);
        assert_eq!(MaskedPan::from_full("411111******1111").unwrap_err().code, Code::PanFormat);
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
    }

    #[test]
    fn emails_names_addresses() {
        assert!(Email::parse("li.lei@example.com.cn").is_ok());
        for bad in ["a@b", "@b.cn", "a b@c.cn", "a@.cn", "a@b.cn."] {
            assert_eq!(Email::parse(bad).unwrap_err().code, Code::EmailFormat, "{bad}");
        }
        assert_eq!(PersonName::parse(" ").unwrap_err().code, Code::Required);
        assert!(PersonName::parse("张3").is_err());
        assert_eq!(Address::parse("北京市朝阳区建国路88号").unwrap().masked(), "北京市朝阳区****");
        assert_eq!(Gender::parse("女"), Ok(Gender::Female));
        assert_eq!(Gender::parse("X").unwrap_err().code, Code::Enum);
    }
}
