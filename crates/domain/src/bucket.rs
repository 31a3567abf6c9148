//! Delinquency buckets (账龄) M0–M6+.
//!
//! A bucket follows from days past due (DPD) through a [`BucketScheme`]: seven increasing day
//! counts at which M1, M2, … M6 and M6+ begin. The default is the industry's 30-day ladder
//! (M1 = 1–30, M2 = 31–60, … M6 = 151–180, M6+ = 181 and more); a bank may configure its own,
//! and every account's move from one bucket to another is kept as a [`BucketMove`].

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Code, Invalid, Valid};

/// A delinquency bucket, ordered from current (M0) to the worst (M6+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Bucket {
    /// Current: no days past due (pre-collection).
    M0,
    /// First bucket, by default 1–30 DPD.
    M1,
    /// By default 31–60 DPD.
    M2,
    /// By default 61–90 DPD.
    M3,
    /// By default 91–120 DPD.
    M4,
    /// By default 121–150 DPD.
    M5,
    /// By default 151–180 DPD.
    M6,
    /// By default 181 DPD and more.
    #[serde(rename = "M6+")]
    M6Plus,
}

impl Bucket {
    /// Every bucket, best to worst.
    pub const ALL: [Bucket; 8] =
        [Bucket::M0, Bucket::M1, Bucket::M2, Bucket::M3, Bucket::M4, Bucket::M5, Bucket::M6, Bucket::M6Plus];

    /// `M0` … `M6+`.
    pub const fn label(self) -> &'static str {
        match self {
            Bucket::M0 => "M0",
            Bucket::M1 => "M1",
            Bucket::M2 => "M2",
            Bucket::M3 => "M3",
            Bucket::M4 => "M4",
            Bucket::M5 => "M5",
            Bucket::M6 => "M6",
            Bucket::M6Plus => "M6+",
        }
    }

    /// Position from 0 (M0) to 7 (M6+): a roll forward raises it.
    pub const fn rank(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Bucket {
    type Err = Invalid;

    fn from_str(s: &str) -> Valid<Bucket> {
        Bucket::ALL
            .into_iter()
            .find(|b| b.label().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Invalid::new(Code::Enum, format!("bucket {s:?}; expected M0 … M6 or M6+")))
    }
}

/// Where each bucket from M1 to M6+ begins, in days past due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BucketScheme {
    starts: [u32; 7],
}

impl Default for BucketScheme {
    /// M1 = 1–30, M2 = 31–60, M3 = 61–90, M4 = 91–120, M5 = 121–150, M6 = 151–180, M6+ = 181+.
    fn default() -> Self {
        BucketScheme { starts: [1, 31, 61, 91, 121, 151, 181] }
    }
}

impl BucketScheme {
    /// A scheme from the first DPD of M1 … M6+; they must rise strictly and M1 must start at 1
    /// or later (0 DPD is always M0).
    pub fn new(starts: [u32; 7]) -> Valid<Self> {
        if starts[0] == 0 || starts.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Invalid::new(
                Code::BucketScheme,
                format!(
                    "bucket starts {starts:?} must rise strictly from at least 1 (e.g. 1,31,61,91,121,151,181)"
                ),
            ));
        }
        Ok(BucketScheme { starts })
    }

    /// The first DPD of M1 … M6+.
    pub fn starts(&self) -> [u32; 7] {
        self.starts
    }

    /// The bucket of an account `dpd` days past due.
    pub fn bucket(&self, dpd: u32) -> Bucket {
        let passed = self.starts.iter().take_while(|&&s| dpd >= s).count();
        Bucket::ALL[passed]
    }

    /// The DPD range of `bucket`: first day and last day (`None` for the open-ended M6+).
    pub fn range(&self, bucket: Bucket) -> (u32, Option<u32>) {
        match bucket.rank() {
            0 => (0, Some(self.starts[0] - 1)),
            7 => (self.starts[6], None),
            r => (self.starts[r - 1], Some(self.starts[r] - 1)),
        }
    }
}

impl FromStr for BucketScheme {
    type Err = Invalid;

    /// Seven comma-separated day counts: `1,31,61,91,121,151,181`.
    fn from_str(s: &str) -> Valid<Self> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let mut starts = [0u32; 7];
        if parts.len() != 7 {
            return Err(Invalid::new(
                Code::BucketScheme,
                format!("{s:?} has {} numbers; expected 7 (where M1 … M6+ begin)", parts.len()),
            ));
        }
        for (slot, part) in starts.iter_mut().zip(&parts) {
            *slot = part.parse().map_err(|_| {
                Invalid::new(Code::BucketScheme, format!("{part:?} is not a whole number of days"))
            })?;
        }
        BucketScheme::new(starts)
    }
}

impl fmt::Display for BucketScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.starts.iter().map(u32::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl TryFrom<String> for BucketScheme {
    type Error = Invalid;
    fn try_from(s: String) -> Valid<Self> {
        s.parse()
    }
}

impl From<BucketScheme> for String {
    fn from(s: BucketScheme) -> String {
        s.to_string()
    }
}

/// One account's move between buckets, kept as history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketMove {
    /// The account that moved.
    pub account: crate::id::AccountId,
    /// When the move was recorded (the import or re-bucketing that saw it).
    pub at: Timestamp,
    /// The bucket before. (An account's first bucket is not a move: it is where the account
    /// starts, and `from` of its first move.)
    pub from: Bucket,
    /// The bucket after.
    pub to: Bucket,
    /// Days past due that put it there.
    pub dpd: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scheme_is_the_30_day_ladder() {
        let s = BucketScheme::default();
        let cases = [
            (0, Bucket::M0),
            (1, Bucket::M1),
            (30, Bucket::M1),
            (31, Bucket::M2),
            (90, Bucket::M3),
            (91, Bucket::M4),
            (150, Bucket::M5),
            (180, Bucket::M6),
            (181, Bucket::M6Plus),
            (5000, Bucket::M6Plus),
        ];
        for (dpd, bucket) in cases {
            assert_eq!(s.bucket(dpd), bucket, "dpd {dpd}");
        }
        assert_eq!(s.range(Bucket::M0), (0, Some(0)));
        assert_eq!(s.range(Bucket::M2), (31, Some(60)));
        assert_eq!(s.range(Bucket::M6Plus), (181, None));
    }

    #[test]
    fn custom_schemes_parse_and_validate() {
        let s: BucketScheme = "1, 16, 31, 61, 91, 121, 361".parse().unwrap();
        assert_eq!(s.bucket(20), Bucket::M2);
        assert_eq!(s.bucket(400), Bucket::M6Plus);
        assert_eq!(s.to_string(), "1,16,31,61,91,121,361");
        for bad in ["1,2,3", "0,31,61,91,121,151,181", "1,31,31,91,121,151,181", "a,b,c,d,e,f,g"] {
            assert_eq!(bad.parse::<BucketScheme>().unwrap_err().code, Code::BucketScheme, "{bad}");
        }
    }

    #[test]
    fn labels_round_trip() {
        for b in Bucket::ALL {
            assert_eq!(b.label().parse::<Bucket>(), Ok(b));
        }
        assert_eq!(serde_json::to_string(&Bucket::M6Plus).unwrap(), "\"M6+\"");
        assert!(Bucket::M6Plus > Bucket::M1);
    }
}
