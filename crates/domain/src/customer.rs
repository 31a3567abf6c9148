//! Customers and their contact points.
//!
//! A customer is the debtor of one or more card accounts. Contact points are the phones, e-mails
//! and addresses through which the debtor — or a related person (guarantor, emergency contact,
//! relative, colleague) — can be reached; each has an owner role and a validity status fed by
//! number screening and call outcomes.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::error::{Code, Invalid, Valid};
use crate::id::{ContactId, CustomerId};
use crate::pii::{Address, Email, Gender, PersonName, Phone, ResidentId};
use crate::vocabulary;

/// The time zone assumed when a record names none: mainland China.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// Validates an IANA time zone name against the bundled time zone database.
pub fn check_time_zone(name: &str) -> Valid<String> {
    let n = name.trim();
    TimeZone::get(n).map(|_| n.to_owned()).map_err(|_| {
        Invalid::new(
            Code::TimeZone,
            format!("{n:?} is not an IANA time zone such as Asia/Shanghai or America/New_York"),
        )
    })
}

/// A debtor as the bank knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// The bank's key.
    pub id: CustomerId,
    /// Full name.
    pub name: PersonName,
    /// Resident ID number; gender and birth date must agree with it.
    pub resident_id: ResidentId,
    /// From the ID number unless the bank says otherwise (and then they must agree).
    pub gender: Gender,
    /// From the ID number unless the bank says otherwise (and then they must agree).
    pub birth_date: Date,
    /// Employer, when known: a lead for skip tracing, never a party to collect from.
    pub employer: Option<String>,
    /// Home or billing address.
    pub address: Option<Address>,
    /// Region (province/city, or an administrative division code) for segmentation.
    pub region: Option<String>,
    /// IANA zone of the debtor's local time, which calling hours are judged in.
    pub time_zone: String,
}

vocabulary! {
    /// What a contact point is.
    pub enum ContactKind ("contact kind") {
        /// A phone number (mobile or landline).
        Phone = "phone",
        /// An e-mail address.
        Email = "email",
        /// A postal address (letters, visits).
        Address = "address",
    }
}

vocabulary! {
    /// Whose contact point it is, relative to the debtor.
    pub enum ContactRole ("contact role") {
        /// The debtor's own.
        Debtor = "debtor",
        /// A guarantor's: collected from like the debtor.
        Guarantor = "guarantor",
        /// An emergency contact's (紧急联系人): a third party.
        EmergencyContact = "emergency_contact",
        /// A relative's: a third party.
        Relative = "relative",
        /// A colleague's: a third party.
        Colleague = "colleague",
        /// Anyone else's: a third party.
        Other = "other",
    }
}

vocabulary! {
    /// Who is on the other end of a contact, as the compliance rules see it.
    pub enum Recipient ("recipient") {
        /// The debtor.
        Debtor = "debtor",
        /// A guarantor.
        Guarantor = "guarantor",
        /// Anyone else (emergency contacts, relatives, colleagues): never told of the debt.
        ThirdParty = "third_party",
    }
}

impl ContactRole {
    /// The compliance recipient class of this role.
    pub const fn recipient(self) -> Recipient {
        match self {
            ContactRole::Debtor => Recipient::Debtor,
            ContactRole::Guarantor => Recipient::Guarantor,
            _ => Recipient::ThirdParty,
        }
    }
}

vocabulary! {
    /// What we know of whether a contact point works (number screening, outcomes).
    pub enum ContactStatus ("contact status") {
        /// Never checked.
        Unknown = "unknown",
        /// Reached or screened as working.
        Valid = "valid",
        /// Does not exist (空号).
        Invalid = "invalid",
        /// Suspended by the carrier (停机).
        Suspended = "suspended",
        /// Switched off (关机) when last tried.
        PoweredOff = "powered_off",
    }
}

/// The value of a contact point, validated for its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactValue {
    /// A phone number.
    Phone(Phone),
    /// An e-mail address.
    Email(Email),
    /// A postal address.
    Address(Address),
}

impl ContactValue {
    /// Validates `text` as a value of `kind`.
    pub fn parse(kind: ContactKind, text: &str) -> Valid<Self> {
        Ok(match kind {
            ContactKind::Phone => ContactValue::Phone(Phone::parse(text)?),
            ContactKind::Email => ContactValue::Email(Email::parse(text)?),
            ContactKind::Address => ContactValue::Address(Address::parse(text)?),
        })
    }

    /// The kind of this value.
    pub fn kind(&self) -> ContactKind {
        match self {
            ContactValue::Phone(_) => ContactKind::Phone,
            ContactValue::Email(_) => ContactKind::Email,
            ContactValue::Address(_) => ContactKind::Address,
        }
    }

    /// The clear value, for storage and for viewers allowed to see it.
    pub fn expose(&self) -> &str {
        match self {
            ContactValue::Phone(p) => p.expose(),
            ContactValue::Email(e) => e.expose(),
            ContactValue::Address(a) => a.expose(),
        }
    }

    /// The value as anyone may see it.
    pub fn masked(&self) -> String {
        match self {
            ContactValue::Phone(p) => p.masked(),
            ContactValue::Email(e) => e.masked(),
            ContactValue::Address(a) => a.masked(),
        }
    }
}

/// A way to reach the debtor or a related person.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactPoint {
    /// The bank's key (or `<customer>:mobile` for the mobile on the customer record).
    pub id: ContactId,
    /// The debtor this contact point is kept for.
    pub customer: CustomerId,
    /// Whose it is.
    pub role: ContactRole,
    /// The person's name when it is not the debtor's own.
    pub name: Option<PersonName>,
    /// The phone, e-mail or address.
    pub value: ContactValue,
    /// Whether it works, as far as we know.
    pub status: ContactStatus,
    /// The owner's IANA zone when it differs from the debtor's.
    pub time_zone: Option<String>,
}

impl ContactPoint {
    /// The id given to the mobile number carried on a customer record.
    pub fn primary_mobile_id(customer: &CustomerId) -> ContactId {
        ContactId::parse(&format!("{customer}:mobile"))
            .expect("a customer id plus ':mobile' stays a valid id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_to_recipients() {
        assert_eq!(ContactRole::Debtor.recipient(), Recipient::Debtor);
        assert_eq!(ContactRole::Guarantor.recipient(), Recipient::Guarantor);
        for role in
            [ContactRole::EmergencyContact, ContactRole::Relative, ContactRole::Colleague, ContactRole::Other]
        {
            assert_eq!(role.recipient(), Recipient::ThirdParty);
        }
    }

    #[test]
    fn values_validate_for_their_kind() {
        let v = ContactValue::parse(ContactKind::Phone, "13812345678").unwrap();
        assert_eq!((v.kind(), v.masked()), (ContactKind::Phone, "138****5678".to_owned()));
        assert_eq!(
            ContactValue::parse(ContactKind::Email, "13812345678").unwrap_err().code,
            Code::EmailFormat
        );
        assert_eq!("powered_off".parse::<ContactStatus>(), Ok(ContactStatus::PoweredOff));
        assert_eq!("boss".parse::<ContactRole>().unwrap_err().code, Code::Enum);
    }

    #[test]
    fn time_zones_come_from_the_bundled_database() {
        assert_eq!(check_time_zone(" Asia/Urumqi ").unwrap(), "Asia/Urumqi");
        assert_eq!(check_time_zone("Beijing").unwrap_err().code, Code::TimeZone);
        let c = CustomerId::parse("C1").unwrap();
        assert_eq!(ContactPoint::primary_mobile_id(&c).as_str(), "C1:mobile");
    }
}
