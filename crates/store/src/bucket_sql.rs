//! The bucket scheme as SQL, so that re-bucketing and case roll-ups run inside the database.
//!
//! [`bucket_case`] must agree with [`BucketScheme::bucket`] for every DPD; the contract suite
//! checks it on both backends.

use daylight_domain::bucket::{Bucket, BucketScheme};

/// `CASE WHEN col >= 181 THEN 'M6+' … ELSE 'M0' END` for `scheme`.
///
/// Only integers from a validated scheme and fixed labels go into the text, so it is safe to
/// splice into SQL.
pub(crate) fn bucket_case(scheme: &BucketScheme, column: &str) -> String {
    let mut sql = String::from("CASE");
    for (start, bucket) in scheme.starts().iter().zip(Bucket::ALL[1..].iter()).rev() {
        sql.push_str(&format!(" WHEN {column} >= {start} THEN '{}'", bucket.label()));
    }
    sql.push_str(" ELSE 'M0' END");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scheme_sql() {
        assert_eq!(
            bucket_case(&BucketScheme::default(), "d"),
            "CASE WHEN d >= 181 THEN 'M6+' WHEN d >= 151 THEN 'M6' WHEN d >= 121 THEN 'M5' \
             WHEN d >= 91 THEN 'M4' WHEN d >= 61 THEN 'M3' WHEN d >= 31 THEN 'M2' \
             WHEN d >= 1 THEN 'M1' ELSE 'M0' END"
        );
    }
}
