//! `contacts.csv`: phones, e-mails and addresses of debtors and related people.

use daylight_domain::customer::{ContactPoint, ContactRole, ContactStatus, ContactValue, check_time_zone};
use daylight_domain::id::{ContactId, CustomerId, check_id};
use daylight_domain::pii::PersonName;
use daylight_domain::{Code, Invalid};
use daylight_store::model::KeyTable;
use daylight_store::{ImportSession, StoreError};

use super::{Ctx, Kind, Outcome, same_owner};
use crate::fields::word;
use crate::schema::contact::*;
use crate::source::Fields;

pub(crate) struct Contacts;

impl Kind for Contacts {
    type Record = ContactPoint;

    fn key(r: &ContactPoint) -> &str {
        r.id.as_str()
    }

    fn parse(f: &mut Fields<'_>, _ctx: &Ctx) -> Option<ContactPoint> {
        // Files carry the bank's ids (at most 64 characters); longer ids are Daylight's own.
        let id = f.parse(ID, |t| check_id(t).and_then(ContactId::parse));
        let customer = f.parse(CUSTOMER, CustomerId::parse);
        let role: Option<ContactRole> = f.parse(ROLE, word);
        let kind = f.parse(KIND, word);
        let value = match kind {
            Some(kind) => f.parse(VALUE, |t| ContactValue::parse(kind, t)),
            None => {
                f.required(VALUE);
                None
            }
        };
        let name = f.parse_opt(NAME, PersonName::parse);
        if let (Some(role), Some(None)) = (role, &name)
            && role != ContactRole::Debtor
        {
            f.reject(NAME, Invalid::new(Code::Required, format!("a {role}'s name is required")));
        }
        let status = f.parse_opt(STATUS, word::<ContactStatus>);
        let time_zone = f.parse_opt(TIME_ZONE, check_time_zone);
        if !f.rejects.is_empty() {
            return None;
        }
        Some(ContactPoint {
            id: id?,
            customer: customer?,
            role: role?,
            name: name?,
            value: value?,
            status: status?.unwrap_or(ContactStatus::Unknown),
            time_zone: time_zone?,
        })
    }

    async fn resolve(
        session: &mut dyn ImportSession,
        rows: Vec<(u64, ContactPoint)>,
        write: bool,
        out: &mut Outcome,
    ) -> Result<(), StoreError> {
        let owners: Vec<&str> = rows.iter().map(|(_, c)| c.customer.as_str()).collect();
        let absent = session.missing(KeyTable::Customers, &owners).await?;
        let mut known = Vec::with_capacity(rows.len());
        for (line, c) in rows {
            if absent.contains(c.customer.as_str()) {
                out.reject(
                    line,
                    CUSTOMER,
                    "UNKNOWN_CUSTOMER",
                    format!("customer {} has not been imported", c.customer),
                );
            } else {
                known.push((line, c));
            }
        }
        let ids: Vec<&str> = known.iter().map(|(_, c)| c.id.as_str()).collect();
        let stored = session.owners(KeyTable::ContactPoints, &ids).await?;
        let good = same_owner(known, &stored, out, CUSTOMER, "contact point", |c| {
            (c.id.as_str(), c.customer.as_str())
        });
        if write && !good.is_empty() {
            session.upsert_contacts(&good).await?;
        }
        Ok(())
    }
}
