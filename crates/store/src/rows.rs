//! The rows an import writes, once for both backends: the SQL text of each bulk statement and
//! the values of each row in column order. PostgreSQL binds them into multi-row `INSERT`s
//! through sqlx; SQLite's import session runs single-row prepared statements through rusqlite
//! (see `sqlite::bulk`). Both read the same column lists here, so they cannot drift apart.

use std::collections::HashMap;

use daylight_domain::account::{CardAccount, Payment, Transaction};
use daylight_domain::bucket::{Bucket, BucketScheme};
use daylight_domain::customer::{ContactPoint, Customer};
use daylight_ledger::{Event, EventKind};
use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::json;

use crate::keys::Keyring;
use crate::model::{AccountState, BatchMeta, BatchSummary};

/// One value to bind, typed as the schema stores it.
#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    /// A value made for the row: a sealed one, or a blind index (see `crate::keys`).
    Owned(String),
    OptOwned(Option<String>),
    Int(i64),
    Date(Date),
    Time(Timestamp),
}

/// A bulk statement: `INSERT INTO table (columns) VALUES … ON CONFLICT (id) DO UPDATE SET …`.
pub(crate) struct Bulk {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    /// Whether a row with a stored id updates it (bank records) or the table only takes new rows.
    pub upsert: bool,
    /// Columns an existing row takes by an expression rather than the new value.
    pub special: &'static [(&'static str, &'static str)],
}

/// Columns an update never touches.
const NEVER_UPDATED: [&str; 2] = ["id", "created_at"];

impl Bulk {
    /// `INSERT INTO table (a, b, …) ` — the builder appends the values.
    pub fn head(&self) -> String {
        format!("INSERT INTO {} ({}) ", self.table, self.columns.join(", "))
    }

    /// The upsert clause: every column but the id and `created_at` takes the new value (or its
    /// special expression), except the columns in `keep`, which stay as stored.
    pub fn conflict(&self, keep: &[&str]) -> String {
        if !self.upsert {
            return String::new();
        }
        let sets: Vec<String> = self
            .columns
            .iter()
            .filter(|c| !NEVER_UPDATED.contains(c) && !keep.contains(c))
            .map(|c| match self.special.iter().find(|(s, _)| s == c) {
                Some((_, expr)) => format!("{c} = {expr}"),
                None => format!("{c} = excluded.{c}"),
            })
            .collect();
        format!(" ON CONFLICT (id) DO UPDATE SET {}", sets.join(", "))
    }

    /// The form for `rows` rows with placeholders `?` (SQLite binds them in order).
    pub fn rows(&self, rows: usize, keep: &[&str]) -> String {
        let one = format!("({})", vec!["?"; self.columns.len()].join(", "));
        format!("{}VALUES {}{}", self.head(), vec![one; rows].join(", "), self.conflict(keep))
    }
}

pub(crate) const CUSTOMERS: Bulk = Bulk {
    table: "customers",
    columns: &[
        "id",
        "name",
        "resident_id",
        "gender",
        "birth_date",
        "employer",
        "address",
        "region",
        "time_zone",
        "batch_id",
        "created_at",
        "updated_at",
        "name_bidx",
        "resident_id_bidx",
    ],
    upsert: true,
    special: &[],
};

/// A customer's row: the personal values sealed, with their blind indexes.
pub(crate) fn customer<'a>(c: &'a Customer, batch: i64, now: Timestamp, ring: &Keyring) -> [Value<'a>; 14] {
    use Value::*;
    [
        Text(c.id.as_str()),
        Owned(ring.seal("customers.name", c.name.expose())),
        Owned(ring.seal("customers.resident_id", c.resident_id.expose())),
        Text(c.gender.code()),
        Date(c.birth_date),
        OptOwned(ring.seal_opt("customers.employer", c.employer.as_deref())),
        OptOwned(ring.seal_opt("customers.address", c.address.as_ref().map(|a| a.expose()))),
        OptText(c.region.as_deref()),
        Text(&c.time_zone),
        Int(batch),
        Time(now),
        Time(now),
        Owned(ring.blind(BLIND_NAME, c.name.expose())),
        Owned(ring.blind(BLIND_RESIDENT, c.resident_id.expose())),
    ]
}

/// Blind-index domains (the same as `sql/keys.rs`).
pub(crate) const BLIND_NAME: &str = "name";
pub(crate) const BLIND_RESIDENT: &str = "resident_id";
pub(crate) const BLIND_CONTACT: &str = "contact";

/// 'unknown' in a file means the bank has not screened the number: keep what Daylight learned.
pub(crate) const CONTACTS: Bulk = Bulk {
    table: "contact_points",
    columns: &[
        "id",
        "customer_id",
        "role",
        "kind",
        "value",
        "name",
        "status",
        "time_zone",
        "batch_id",
        "created_at",
        "updated_at",
        "value_bidx",
    ],
    upsert: true,
    special: &[(
        "status",
        "CASE WHEN excluded.status = 'unknown' THEN contact_points.status ELSE excluded.status END",
    )],
};

/// A contact point's row: the value and the name sealed, the value's blind index beside.
pub(crate) fn contact<'a>(
    c: &'a ContactPoint,
    batch: i64,
    now: Timestamp,
    ring: &Keyring,
) -> [Value<'a>; 12] {
    use Value::*;
    [
        Text(c.id.as_str()),
        Text(c.customer.as_str()),
        Text(c.role.as_str()),
        Text(c.value.kind().as_str()),
        Owned(ring.seal("contact_points.value", c.value.expose())),
        OptOwned(ring.seal_opt("contact_points.name", c.name.as_ref().map(|n| n.expose()))),
        Text(c.status.as_str()),
        OptText(c.time_zone.as_deref()),
        Int(batch),
        Time(now),
        Time(now),
        Owned(ring.blind(BLIND_CONTACT, c.value.expose())),
    ]
}

pub(crate) const ACCOUNTS: Bulk = Bulk {
    table: "accounts",
    columns: &[
        "id",
        "customer_id",
        "pan_masked",
        "currency",
        "credit_limit",
        "balance",
        "minimum_payment",
        "statement_day",
        "due_date",
        "cycles_delinquent",
        "days_past_due",
        "overdue_principal",
        "overdue_interest",
        "overdue_fees",
        "overdue_late_fees",
        "bucket",
        "batch_id",
        "created_at",
        "updated_at",
    ],
    upsert: true,
    special: &[],
};

pub(crate) fn account(a: &CardAccount, bucket: Bucket, batch: i64, now: Timestamp) -> [Value<'_>; 19] {
    use Value::*;
    [
        Text(a.id.as_str()),
        Text(a.customer.as_str()),
        Text(a.pan.as_str()),
        Text(a.currency.code()),
        Int(a.credit_limit.minor),
        Int(a.balance.minor),
        Int(a.minimum_payment.minor),
        Int(i64::from(a.statement_day)),
        Date(a.due_date),
        Int(i64::from(a.cycles_delinquent)),
        Int(i64::from(a.days_past_due)),
        Int(a.overdue.principal.minor),
        Int(a.overdue.interest.minor),
        Int(a.overdue.fees.minor),
        Int(a.overdue.late_fees.minor),
        Text(bucket.label()),
        Int(batch),
        Time(now),
        Time(now),
    ]
}

pub(crate) const BUCKET_MOVES: Bulk = Bulk {
    table: "bucket_moves",
    columns: &["account_id", "at", "from_bucket", "to_bucket", "dpd", "cause", "batch_id"],
    upsert: false,
    special: &[],
};

pub(crate) fn bucket_move<'a>(
    a: &'a CardAccount,
    from: Bucket,
    to: Bucket,
    batch: i64,
    now: Timestamp,
) -> [Value<'a>; 7] {
    use Value::*;
    [
        Text(a.id.as_str()),
        Time(now),
        Text(from.label()),
        Text(to.label()),
        Int(i64::from(a.days_past_due)),
        Text("import"),
        Int(batch),
    ]
}

pub(crate) const TRANSACTIONS: Bulk = Bulk {
    table: "transactions",
    columns: &[
        "id",
        "account_id",
        "transaction_date",
        "posting_date",
        "kind",
        "amount",
        "currency",
        "description",
        "batch_id",
        "created_at",
    ],
    upsert: true,
    special: &[],
};

pub(crate) fn transaction(t: &Transaction, batch: i64, now: Timestamp) -> [Value<'_>; 10] {
    use Value::*;
    [
        Text(t.id.as_str()),
        Text(t.account.as_str()),
        Date(t.transaction_date),
        Date(t.posting_date),
        Text(t.kind.as_str()),
        Int(t.amount.minor),
        Text(t.amount.currency.code()),
        OptText(t.description.as_deref()),
        Int(batch),
        Time(now),
    ]
}

pub(crate) const PAYMENTS: Bulk = Bulk {
    table: "payments",
    columns: &[
        "id",
        "account_id",
        "paid_at",
        "amount",
        "currency",
        "channel",
        "reference",
        "batch_id",
        "created_at",
    ],
    upsert: true,
    special: &[],
};

pub(crate) fn payment(p: &Payment, batch: i64, now: Timestamp) -> [Value<'_>; 9] {
    use Value::*;
    [
        Text(p.id.as_str()),
        Text(p.account.as_str()),
        Time(p.paid_at),
        Int(p.amount.minor),
        Text(p.amount.currency.code()),
        Text(p.channel.as_str()),
        OptText(p.reference.as_deref()),
        Int(batch),
        Time(now),
    ]
}

/// Opening an import batch; `partial` is bound as a boolean.
pub(crate) const BEGIN_BATCH: &str = "INSERT INTO import_batches (kind, file_name, file_sha256, actor, started_at, partial) \
     VALUES ($1, $2, '', $3, $4, $5) RETURNING id";

/// Closing an import batch.
pub(crate) const END_BATCH: &str = "UPDATE import_batches SET rows_total = $1, rows_inserted = $2, rows_updated = $3, \
     rows_rejected = $4, ledger_seq = $5, file_sha256 = $6 WHERE id = $7";

/// Appending to the ledger: the row, then the head.
pub(crate) const LEDGER_INSERT: &str = "INSERT INTO ledger (seq, at, actor, kind, subject, payload, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(crate) const LEDGER_ADVANCE: &str = "UPDATE ledger_head SET seq = $1, hash = $2 WHERE id = 1";

/// The case roll-up of the customers named by `customers_in` (an `IN (…)` list or `= ?1`):
/// opens or reopens a case past due, closes a cured one, and leaves legal and written-off cases
/// as people set them. Mirrors `CaseStatus::after_import`; the contract suite checks they agree.
/// `bucket` is `bucket_case(scheme, "MAX(a.days_past_due)")`; `now` is the placeholder of the
/// time.
pub(crate) fn refresh_cases(bucket: &str, now: &str, customers_in: &str) -> String {
    format!(
        "INSERT INTO cases (id, customer_id, status, bucket, max_dpd, opened_at, updated_at) \
         SELECT 'CASE-' || a.customer_id, a.customer_id, \
                CASE WHEN MAX(a.days_past_due) > 0 THEN 'open' ELSE 'closed' END, \
                {bucket}, MAX(a.days_past_due), {now}, {now} \
         FROM accounts a WHERE a.customer_id {customers_in} \
         GROUP BY a.customer_id \
         HAVING MAX(a.days_past_due) > 0 \
             OR EXISTS (SELECT 1 FROM cases c WHERE c.id = 'CASE-' || a.customer_id) \
         ON CONFLICT (id) DO UPDATE SET \
             bucket = excluded.bucket, \
             max_dpd = excluded.max_dpd, \
             status = CASE WHEN cases.status IN ('legal', 'written_off') THEN cases.status \
                           ELSE excluded.status END, \
             updated_at = excluded.updated_at"
    )
}

/// The accounts among `items` whose bucket under `scheme` differs from the one stored
/// (`before`), with the bucket they leave and the one they enter. New accounts are not moves.
pub(crate) fn bucket_moves<'a>(
    items: &'a [CardAccount],
    before: &HashMap<String, AccountState>,
    scheme: &BucketScheme,
) -> Vec<(&'a CardAccount, Bucket, Bucket)> {
    items
        .iter()
        .filter_map(|a| {
            let to = scheme.bucket(a.days_past_due);
            let from = before.get(a.id.as_str())?.bucket;
            (from != to).then_some((a, from, to))
        })
        .collect()
}

/// The `import.batch` ledger event of a committed batch.
pub(crate) fn batch_event(
    meta: &BatchMeta,
    batch: i64,
    summary: &BatchSummary,
    bucket_moves: u64,
    cases_touched: u64,
) -> Event {
    Event::new(
        meta.at,
        meta.actor.clone(),
        EventKind::ImportBatch,
        format!("batch:{batch}"),
        &json!({
            "batch": batch,
            "kind": meta.kind.as_str(),
            "file": meta.file_name,
            "file_sha256": summary.file_sha256,
            "partial": meta.partial,
            "rows": {
                "total": summary.rows_total,
                "inserted": summary.rows_inserted,
                "updated": summary.rows_updated,
                "rejected": summary.rows_rejected,
                "rejects_by_code": summary.rejects_by_code,
            },
            "bucket_moves": bucket_moves,
            "cases_touched": cases_touched,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_well_formed() {
        assert_eq!(
            BUCKET_MOVES.rows(2, &[]),
            "INSERT INTO bucket_moves (account_id, at, from_bucket, to_bucket, dpd, cause, batch_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?)"
        );
        for b in [&CUSTOMERS, &CONTACTS, &ACCOUNTS, &TRANSACTIONS, &PAYMENTS] {
            assert_eq!(b.rows(3, &[]).matches('?').count(), 3 * b.columns.len());
            // Every column but the key and created_at is updated on conflict.
            for c in b.columns.iter().filter(|c| !["id", "created_at"].contains(c)) {
                assert!(b.conflict(&[]).contains(&format!(" {c} = ")), "{}: {c}", b.table);
            }
        }
        let kept = CUSTOMERS.conflict(&["address", "employer"]);
        assert!(
            !kept.contains("address")
                && !kept.contains("employer")
                && kept.contains("region = excluded.region")
        );
    }

    /// SQLite numbers `$N` placeholders in order of first appearance and rusqlite binds by
    /// position, so shared statements must name them in ascending order.
    #[test]
    fn placeholders_ascend() {
        for sql in [BEGIN_BATCH, END_BATCH, LEDGER_INSERT, LEDGER_ADVANCE] {
            let nums: Vec<u32> = sql
                .split('$')
                .skip(1)
                .map(|t| t.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap())
                .collect();
            let want: Vec<u32> = (1..=nums.len() as u32).collect();
            assert_eq!(nums, want, "{sql}");
        }
    }
}
