//! Money in integer minor units.
//!
//! Amounts are `i64` minor units (fen for CNY) with a currency. Text is parsed digit by digit,
//! never through a float, so `0.1 + 0.2` is exactly `0.30` and an amount with more decimals than
//! the currency has minor digits is refused instead of rounded.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Code, Invalid, Valid};

/// Currencies a card portfolio is held in, with their minor-unit digits (ISO 4217).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// Renminbi; minor unit fen.
    Cny,
    /// Hong Kong dollar.
    Hkd,
    /// Macanese pataca.
    Mop,
    /// New Taiwan dollar.
    Twd,
    /// US dollar (dual-currency cards).
    Usd,
    /// Euro.
    Eur,
    /// Japanese yen (no minor unit).
    Jpy,
}

impl Currency {
    /// Every supported currency, for help texts.
    pub const ALL: [Currency; 7] = [
        Currency::Cny,
        Currency::Hkd,
        Currency::Mop,
        Currency::Twd,
        Currency::Usd,
        Currency::Eur,
        Currency::Jpy,
    ];

    /// The ISO 4217 code.
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
            Currency::Hkd => "HKD",
            Currency::Mop => "MOP",
            Currency::Twd => "TWD",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Jpy => "JPY",
        }
    }

    /// Digits after the decimal point (2 for CNY: 1 yuan = 100 fen).
    pub const fn minor_digits(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            _ => 2,
        }
    }
}

impl FromStr for Currency {
    type Err = Invalid;

    fn from_str(s: &str) -> Valid<Self> {
        Currency::ALL.into_iter().find(|c| c.code().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            Invalid::new(
                Code::Currency,
                format!("unknown currency {s:?}; expected one of CNY, HKD, MOP, TWD, USD, EUR, JPY"),
            )
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money: minor units and a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (fen for CNY). Signed: credits and refunds are negative where a field allows.
    pub minor: i64,
    /// The currency the minor units are of.
    pub currency: Currency,
}

/// Integer digits we accept in a decimal amount: 10^15 yuan is far above any card balance and
/// keeps every sum of a portfolio inside `i64`.
const MAX_INTEGER_DIGITS: usize = 15;

impl Money {
    /// `minor` units of `currency`.
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a decimal such as `1234.5`, `-0.07` or `88` without floats. At most
    /// [`Currency::minor_digits`] decimals; no exponent, no thousands separators.
    pub fn parse(text: &str, currency: Currency) -> Valid<Money> {
        let t = text.trim();
        let bad = || {
            Invalid::new(
                Code::AmountFormat,
                format!(
                    "{t:?} is not an amount; expected digits with at most {} decimals, e.g. {}",
                    currency.minor_digits(),
                    if currency.minor_digits() == 0 { "1234" } else { "1234.56" }
                ),
            )
        };
        let (negative, unsigned) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int_part, frac_part) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        if int_part.is_empty()
            || int_part.len() > MAX_INTEGER_DIGITS
            || !int_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let digits = currency.minor_digits() as usize;
        let frac = frac_part.unwrap_or("");
        if frac_part.is_some() && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit())) {
            return Err(bad());
        }
        if frac.len() > digits {
            return Err(Invalid::new(
                Code::AmountFormat,
                format!("{t:?} has {} decimals; {currency} allows at most {digits}", frac.len()),
            ));
        }
        let mut minor: i64 = 0;
        for b in int_part.bytes().chain(frac.bytes()) {
            minor = minor * 10 + i64::from(b - b'0');
        }
        for _ in frac.len()..digits {
            minor *= 10;
        }
        Ok(Money::new(if negative { -minor } else { minor }, currency))
    }

    /// The sum, or an error when currencies differ or the sum overflows.
    pub fn checked_add(self, other: Money) -> Valid<Money> {
        if self.currency != other.currency {
            return Err(Invalid::new(
                Code::CurrencyMismatch,
                format!("cannot add {} to {}", other.currency, self.currency),
            ));
        }
        self.minor
            .checked_add(other.minor)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or_else(|| Invalid::new(Code::AmountRange, "sum out of range"))
    }

    /// The difference, or an error when currencies differ or it overflows.
    pub fn checked_sub(self, other: Money) -> Valid<Money> {
        self.checked_add(Money::new(-other.minor, other.currency))
    }

    /// True when the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.minor == 0
    }

    /// True when the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.minor < 0
    }

    /// The amount as a plain decimal without currency (`1234.56`), as files and APIs carry it.
    pub fn decimal(self) -> String {
        let digits = self.currency.minor_digits();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if digits == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(digits);
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = digits as usize)
    }
}

/// Fen as yuan with two decimals and thousands separators, as people read an amount on a
/// screen or a script: `12,345.67`, `-0.05`.
pub fn yuan_grouped(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", abs % 100)
}

impl fmt::Display for Money {
    /// `1234.56 CNY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cny(s: &str) -> Valid<i64> {
        Money::parse(s, Currency::Cny).map(|m| m.minor)
    }

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(cny("1234.56"), Ok(123_456));
        assert_eq!(cny("0.1"), Ok(10));
        assert_eq!(cny("0.07"), Ok(7));
        assert_eq!(cny("88"), Ok(8_800));
        assert_eq!(cny(" -12.30 "), Ok(-1_230));
        assert_eq!(cny("+5"), Ok(500));
        assert_eq!(Money::parse("1200", Currency::Jpy).map(|m| m.minor), Ok(1_200));
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for bad in ["", "-", "1.", ".5", "1.234", "1e5", "1,000", "12a", "--1", "1.2.3", "１２"] {
            let err = cny(bad).unwrap_err();
            assert_eq!(err.code, Code::AmountFormat, "{bad:?}");
        }
        assert_eq!(Money::parse("1.5", Currency::Jpy).unwrap_err().code, Code::AmountFormat);
        assert_eq!(cny("1234567890123456").unwrap_err().code, Code::AmountFormat);
    }

    #[test]
    fn adds_only_like_currencies() {
        let a = Money::new(10, Currency::Cny);
        assert_eq!(a.checked_add(Money::new(20, Currency::Cny)).unwrap().minor, 30);
        assert_eq!(a.checked_sub(Money::new(25, Currency::Cny)).unwrap().minor, -15);
        let err = a.checked_add(Money::new(1, Currency::Usd)).unwrap_err();
        assert_eq!(err.code, Code::CurrencyMismatch);
        let err = Money::new(i64::MAX, Currency::Cny).checked_add(a).unwrap_err();
        assert_eq!(err.code, Code::AmountRange);
    }

    #[test]
    fn displays_with_minor_digits() {
        assert_eq!(Money::new(123_456, Currency::Cny).to_string(), "1234.56 CNY");
        assert_eq!(Money::new(-5, Currency::Cny).decimal(), "-0.05");
        assert_eq!(Money::new(1_200, Currency::Jpy).decimal(), "1200");
        assert_eq!("usd".parse::<Currency>(), Ok(Currency::Usd));
        assert_eq!("RMB".parse::<Currency>().unwrap_err().code, Code::Currency);
    }

    proptest! {
        #[test]
        fn decimal_round_trips(minor in -999_999_999_999_999i64..999_999_999_999_999) {
            let m = Money::new(minor, Currency::Cny);
            prop_assert_eq!(Money::parse(&m.decimal(), Currency::Cny), Ok(m));
        }
    }
}
