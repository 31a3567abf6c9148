//! `customers.csv`: debtors, and the mobile on their record.

use daylight_domain::customer::{
    ContactPoint, ContactRole, ContactStatus, ContactValue, Customer, DEFAULT_TIME_ZONE, check_time_zone,
};
use daylight_domain::id::CustomerId;
use daylight_domain::pii::{Address, Gender, PersonName, Phone, PhoneKind, ResidentId};
use daylight_domain::{Code, Invalid};
use daylight_store::model::KeyTable;
use daylight_store::{ImportSession, StoreError};

use super::{Ctx, Kind, Outcome};
use crate::fields::{date, free_text};
use crate::schema::customer::*;
use crate::source::Fields;

/// A customer row: the customer and the debtor mobile it carries.
pub(crate) struct Row {
    customer: Customer,
    mobile: Option<ContactPoint>,
}

pub(crate) struct Customers;

impl Kind for Customers {
    type Record = Row;

    fn key(r: &Row) -> &str {
        r.customer.id.as_str()
    }

    fn parse(f: &mut Fields<'_>, _ctx: &Ctx) -> Option<Row> {
        let id = f.parse(ID, CustomerId::parse);
        let name = f.parse(NAME, PersonName::parse);
        let resident_id = f.parse(RESIDENT_ID, ResidentId::parse);
        let gender = f.parse_opt(GENDER, Gender::parse);
        let birth_date = f.parse_opt(BIRTH_DATE, date);
        let mobile = f.parse_opt(MOBILE, |t| {
            let p = Phone::parse(t)?;
            if p.kind() != PhoneKind::Mobile {
                return Err(Invalid::new(
                    Code::PhoneFormat,
                    format!("{p} is a landline; mobile takes a mainland mobile"),
                ));
            }
            Ok(p)
        });
        let employer = f.parse_opt(EMPLOYER, |t| free_text(t, 100));
        let address = f.parse_opt(ADDRESS, Address::parse);
        let region = f.parse_opt(REGION, |t| free_text(t, 64));
        let time_zone = f.parse_opt(TIME_ZONE, check_time_zone);
        if let (Some(rid), Some(Some(g))) = (&resident_id, gender)
            && g != rid.gender()
        {
            f.reject(
                GENDER,
                Invalid::new(
                    Code::ResidentIdMismatch,
                    format!("gender {} disagrees with the resident ID ({})", g.code(), rid.gender().code()),
                ),
            );
        }
        if let (Some(rid), Some(Some(d))) = (&resident_id, birth_date)
            && d != rid.birth_date()
        {
            f.reject(
                BIRTH_DATE,
                Invalid::new(
                    Code::ResidentIdMismatch,
                    format!("birth date {d} disagrees with the resident ID"),
                ),
            );
        }
        if !f.rejects.is_empty() {
            return None;
        }
        let (id, resident_id) = (id?, resident_id?);
        let mobile = mobile?.map(|phone| ContactPoint {
            id: ContactPoint::primary_mobile_id(&id),
            customer: id.clone(),
            role: ContactRole::Debtor,
            name: None,
            value: ContactValue::Phone(phone),
            status: ContactStatus::Unknown,
            time_zone: None,
        });
        Some(Row {
            customer: Customer {
                id,
                name: name?,
                gender: resident_id.gender(),
                birth_date: resident_id.birth_date(),
                resident_id,
                employer: employer?,
                address: address?,
                region: region?,
                time_zone: time_zone?.unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned()),
            },
            mobile,
        })
    }

    async fn resolve(
        session: &mut dyn ImportSession,
        rows: Vec<(u64, Row)>,
        write: bool,
        out: &mut Outcome,
    ) -> Result<(), StoreError> {
        let rids: Vec<&str> = rows.iter().map(|(_, r)| r.customer.resident_id.expose()).collect();
        let owners = session.resident_id_owners(&rids).await?;
        let mut good = Vec::with_capacity(rows.len());
        for (line, row) in rows {
            let (rid, id) = (row.customer.resident_id.expose(), row.customer.id.as_str());
            if let Some(owner) = owners.get(rid).filter(|o| o.as_str() != id) {
                let reason =
                    format!("resident ID {} already belongs to customer {owner}", row.customer.resident_id);
                out.reject(line, RESIDENT_ID, "DUPLICATE_RESIDENT_ID", reason);
                continue;
            }
            if let Some((other, first)) = out.resident_ids.get(rid).filter(|(o, _)| o.as_str() != id) {
                let reason = format!(
                    "resident ID {} is also on line {first}, for customer {other}",
                    row.customer.resident_id
                );
                out.reject(line, RESIDENT_ID, "DUPLICATE_RESIDENT_ID", reason);
                continue;
            }
            out.resident_ids.insert(rid.to_owned(), (id.to_owned(), line));
            good.push(row);
        }
        let ids: Vec<&str> = good.iter().map(|r| r.customer.id.as_str()).collect();
        out.count_in(session, KeyTable::Customers, &ids).await?;
        if write && !good.is_empty() {
            let (customers, mobiles): (Vec<Customer>, Vec<Option<ContactPoint>>) =
                good.into_iter().map(|r| (r.customer, r.mobile)).unzip();
            session.upsert_customers(&customers).await?;
            let mobiles: Vec<ContactPoint> = mobiles.into_iter().flatten().collect();
            session.upsert_contacts(&mobiles).await?;
        }
        Ok(())
    }
}
