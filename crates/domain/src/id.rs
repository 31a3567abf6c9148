//! Identifiers.
//!
//! Records imported from the bank keep the bank's own key (the *external id*, the first column of
//! every import file), so re-importing a file updates rather than duplicates. Ids are 1–64
//! characters of letters, digits and `- _ . : /`, which keeps them safe in URLs, CSV and logs.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Code, Invalid, Valid};

/// Longest external id accepted from the bank.
pub const MAX_ID_LEN: usize = 64;

/// Longest id of a record Daylight derives from a bank id (`CASE-<customer>`,
/// `<customer>:mobile`).
pub const MAX_DERIVED_ID_LEN: usize = MAX_ID_LEN + 16;

/// Checks an external id and returns it trimmed.
pub fn check_id(text: &str) -> Valid<&str> {
    check_id_len(text, MAX_ID_LEN)
}

fn check_id_len(text: &str, max: usize) -> Valid<&str> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Invalid::new(Code::Required, "an id is required"));
    }
    if t.len() > max {
        return Err(Invalid::new(
            Code::IdFormat,
            format!("id is {} characters long; at most {max} are allowed", t.len()),
        ));
    }
    if let Some(c) =
        t.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/')))
    {
        return Err(Invalid::new(
            Code::IdFormat,
            format!("id {t:?} contains {c:?}; expected letters, digits and - _ . : /"),
        ));
    }
    Ok(t)
}

macro_rules! external_id {
    ($(#[$doc:meta] $name:ident ($max:expr)),+ $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `text` as an id (see [`check_id`]; at most `$max` characters).
            pub fn parse(text: &str) -> Valid<Self> {
                check_id_len(text, $max).map(|t| $name(t.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Valid<Self> {
                $name::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )+};
}

external_id! {
    /// A customer's id in the bank's systems.
    CustomerId (MAX_ID_LEN),
    /// A contact point's id (a phone, e-mail or address of a customer or a related person).
    ContactId (MAX_DERIVED_ID_LEN),
    /// A card account's id.
    AccountId (MAX_ID_LEN),
    /// A card transaction's id.
    TransactionId (MAX_ID_LEN),
    /// A payment's id.
    PaymentId (MAX_ID_LEN),
    /// A collection case's id (one case per customer).
    CaseId (MAX_DERIVED_ID_LEN),
}

impl CaseId {
    /// The case of a customer: one case per customer, so its id follows from the customer's.
    pub fn for_customer(customer: &CustomerId) -> CaseId {
        CaseId(format!("CASE-{customer}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bank_keys() {
        assert_eq!(CustomerId::parse(" C0001 ").unwrap().as_str(), "C0001");
        assert!(AccountId::parse("ACC-2026/01:7_a.b").is_ok());
        let case = CaseId::for_customer(&CustomerId::parse("C1").unwrap());
        assert_eq!(case.as_str(), "CASE-C1");
    }

    #[test]
    fn refuses_bad_keys() {
        assert_eq!(check_id("  ").unwrap_err().code, Code::Required);
        assert_eq!(check_id("a b").unwrap_err().code, Code::IdFormat);
        assert_eq!(check_id("客户1").unwrap_err().code, Code::IdFormat);
        assert_eq!(check_id(&"x".repeat(65)).unwrap_err().code, Code::IdFormat);
        let longest = CustomerId::parse(&"x".repeat(MAX_ID_LEN)).unwrap();
        assert!(CaseId::parse(CaseId::for_customer(&longest).as_str()).is_ok());
        let json = serde_json::from_str::<CustomerId>("\"a,b\"");
        assert!(json.is_err());
    }
}
