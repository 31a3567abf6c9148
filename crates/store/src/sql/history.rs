// Shared by both adapters (see common.rs). This part: the facts the product models read.

/// `$1` is the case filter ('' for every case); every statement keeps the debtors of the cases
/// that pass it.
const HISTORY_CUSTOMERS: &str = "($1 = '' OR customer_id IN (SELECT customer_id FROM cases WHERE id = $1))";

async fn read_histories(
    read: &DbPool,
    filter: &HistoryFilter,
    until: Timestamp,
) -> Result<Vec<daylight_domain::history::DebtorHistory>> {
    use daylight_domain::history::{AccountPath, AttemptFact, DebtorHistory, PaymentFact, PromiseFact};
    let case = filter.case.as_ref().map_or("", CaseId::as_str);
    let cut = DbTime::new(until);
    let mut tx: Tx = read.begin().await?;
    let cases = sqlx::query(
        "SELECT c.id, c.customer_id, c.status, u.time_zone, u.birth_date \
         FROM cases c JOIN customers u ON u.id = c.customer_id WHERE ($1 = '' OR c.id = $1) ORDER BY c.id",
    )
    .bind(case)
    .fetch_all(&mut *tx)
    .await?;
    if cases.is_empty()
        && let Some(c) = &filter.case
    {
        return Err(StoreError::not_found("case", c.as_str()));
    }
    let mut zones: HashMap<String, TimeZone> = HashMap::new();
    let mut out: Vec<DebtorHistory> = Vec::new();
    let mut by_customer: HashMap<String, usize> = HashMap::new();
    for row in &cases {
        if filter.open_only && text(row, "status")? != "open" {
            continue;
        }
        let zone_name = text(row, "time_zone")?;
        let zone = match zones.get(&zone_name) {
            Some(z) => z.clone(),
            None => {
                let z = TimeZone::get(&zone_name)
                    .map_err(|_| StoreError::Corrupt(format!("time zone {zone_name:?}")))?;
                zones.insert(zone_name, z.clone());
                z
            }
        };
        by_customer.insert(text(row, "customer_id")?, out.len());
        out.push(DebtorHistory {
            case: text(row, "id")?,
            zone,
            birth_date: Some(date(row, "birth_date")?),
            credit_limit: 0,
            accounts: Vec::new(),
            attempts: Vec::new(),
            payments: Vec::new(),
            promises: Vec::new(),
        });
    }
    let accounts = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, customer_id, credit_limit, bucket FROM accounts WHERE {HISTORY_CUSTOMERS} ORDER BY id"
    )))
    .bind(case)
    .fetch_all(&mut *tx)
    .await?;
    let mut account_at: HashMap<String, (usize, usize)> = HashMap::new();
    for row in &accounts {
        let Some(&i) = by_customer.get(&text(row, "customer_id")?) else { continue };
        out[i].credit_limit += int(row, "credit_limit")?;
        account_at.insert(text(row, "id")?, (i, out[i].accounts.len()));
        out[i].accounts.push(AccountPath { now: word(row, "bucket")?, moves: Vec::new() });
    }
    let moves = sqlx::query(AssertSqlSafe(format!(
        "SELECT account_id, at, from_bucket, to_bucket FROM bucket_moves \
         WHERE account_id IN (SELECT id FROM accounts WHERE {HISTORY_CUSTOMERS}) ORDER BY account_id, at, id"
    )))
    .bind(case)
    .fetch_all(&mut *tx)
    .await?;
    for row in &moves {
        if let Some(&(i, k)) = account_at.get(&text(row, "account_id")?) {
            out[i].accounts[k].moves.push((
                time(row, "at")?,
                word(row, "from_bucket")?,
                word(row, "to_bucket")?,
            ));
        }
    }
    let attempts = sqlx::query(
        "SELECT c.customer_id, t.at, t.channel, t.recipient, t.outcome, t.duration_secs \
         FROM attempts t JOIN cases c ON c.id = t.case_id \
         WHERE ($1 = '' OR c.customer_id IN (SELECT customer_id FROM cases WHERE id = $1)) AND t.at < $2 \
         ORDER BY t.at, t.id",
    )
    .bind(case)
    .bind(cut)
    .fetch_all(&mut *tx)
    .await?;
    for row in &attempts {
        let Some(&i) = by_customer.get(&text(row, "customer_id")?) else { continue };
        out[i].attempts.push(AttemptFact {
            at: time(row, "at")?,
            channel: word(row, "channel")?,
            recipient: word(row, "recipient")?,
            outcome: word(row, "outcome")?,
            duration_secs: u32::try_from(int(row, "duration_secs")?)
                .map_err(|e| corrupt("duration_secs", e))?,
        });
    }
    let payments = sqlx::query(
        "SELECT a.customer_id, p.paid_at, p.amount FROM payments p JOIN accounts a ON a.id = p.account_id \
         WHERE ($1 = '' OR a.customer_id IN (SELECT customer_id FROM cases WHERE id = $1)) AND p.paid_at < $2 \
         ORDER BY p.paid_at, p.id"
    )
    .bind(case)
    .bind(cut)
    .fetch_all(&mut *tx)
    .await?;
    for row in &payments {
        let Some(&i) = by_customer.get(&text(row, "customer_id")?) else { continue };
        out[i].payments.push(PaymentFact { at: time(row, "paid_at")?, amount: int(row, "amount")? });
    }
    let promises = sqlx::query(
        "SELECT c.customer_id, p.created_at, p.status, p.settled_at FROM promises p JOIN cases c ON c.id = p.case_id \
         WHERE ($1 = '' OR c.customer_id IN (SELECT customer_id FROM cases WHERE id = $1)) AND p.created_at < $2 \
         ORDER BY p.created_at, p.id",
    )
    .bind(case)
    .bind(cut)
    .fetch_all(&mut *tx)
    .await?;
    for row in &promises {
        let Some(&i) = by_customer.get(&text(row, "customer_id")?) else { continue };
        let status: PromiseStatus = word(row, "status")?;
        out[i].promises.push(PromiseFact {
            created_at: time(row, "created_at")?,
            settled_at: opt_time(row, "settled_at")?,
            kept: status == PromiseStatus::Kept,
            broken: status == PromiseStatus::Broken,
        });
    }
    tx.rollback().await?;
    for h in &mut out {
        h.sort();
    }
    Ok(out)
}
