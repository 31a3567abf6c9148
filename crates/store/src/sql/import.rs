// The PostgreSQL import session (see common.rs; SQLite's is `sqlite::bulk`): one transaction,
// rows written as multi-row statements built from `crate::rows`.

use daylight_domain::account::Transaction;

use crate::rows::Value;

/// Rows per multi-row statement: keeps every statement under SQLite's 32,766 bound parameters
/// (the widest row, an account, binds 19).
const ROWS_PER_STATEMENT: usize = 500;

/// Executes the statements `next` builds, one after another, building each while the database
/// runs the one before: building a multi-row statement is CPU work on this thread, running it
/// happens on the driver's side (SQLite's worker thread, PostgreSQL's server), so the two
/// overlap. Returns the rows affected.
async fn execute_all(tx: &mut Tx, mut next: impl FnMut() -> Option<QueryBuilder<Db>>) -> Result<u64> {
    let mut affected = 0;
    let mut current = next();
    while let Some(mut qb) = current {
        let (done, following) = tokio::join!(qb.build().execute(&mut **tx), async { next() });
        affected += done?.rows_affected();
        current = following;
    }
    Ok(affected)
}

/// An import batch in progress. Dropping it without `commit` rolls the transaction back.
pub(crate) struct Session {
    tx: Tx,
    meta: BatchMeta,
    batch_id: i64,
    scheme: BucketScheme,
    bucket_moves: u64,
    /// Customers whose accounts this batch wrote: their cases are rolled up at commit.
    touched: HashSet<String>,
    /// Seals the personal values it writes.
    ring: std::sync::Arc<Keyring>,
}

impl Session {
    async fn begin(write: &DbPool, meta: &BatchMeta, ring: std::sync::Arc<Keyring>) -> Result<Session> {
        required("actor", &meta.actor)?;
        let mut tx = begin_write(write).await?;
        sqlx::query(IMPORT_LOCK).execute(&mut *tx).await?;
        let scheme = read_scheme(&mut tx, FOR_SHARE).await?;
        let batch_id: i64 = sqlx::query_scalar(rows::BEGIN_BATCH)
            .bind(meta.kind.as_str())
            .bind(&meta.file_name)
            .bind(&meta.actor)
            .bind(DbTime::new(meta.at))
            .bind(meta.partial)
            .fetch_one(&mut *tx)
            .await?;
        Ok(Session {
            tx,
            meta: meta.clone(),
            batch_id,
            scheme,
            bucket_moves: 0,
            touched: HashSet::new(),
            ring,
        })
    }

    fn now(&self) -> DbTime {
        DbTime::new(self.meta.at)
    }

    /// Rolls up the cases of `customers` (see `rows::refresh_cases`).
    async fn refresh_cases(&mut self, customers: &[&str]) -> Result<u64> {
        let bucket = bucket_case(&self.scheme, "MAX(a.days_past_due)");
        let marks: Vec<String> = (2..customers.len() + 2).map(|i| format!("${i}")).collect();
        let sql = rows::refresh_cases(&bucket, "$1", &format!("IN ({})", marks.join(", ")));
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(self.now());
        for c in customers {
            q = q.bind(*c);
        }
        Ok(q.execute(&mut *self.tx).await?.rows_affected())
    }
}

/// Binds one value into a multi-row statement.
fn bind_value(b: &mut sqlx::query_builder::Separated<'_, Db, &'static str>, v: Value<'_>) {
    match v {
        Value::Text(s) => b.push_bind(s.to_owned()),
        Value::OptText(s) => b.push_bind(s.map(str::to_owned)),
        Value::Owned(s) => b.push_bind(s),
        Value::OptOwned(s) => b.push_bind(s),
        Value::Int(i) => b.push_bind(i),
        Value::Date(d) => b.push_bind(d.to_sqlx()),
        Value::Time(t) => b.push_bind(DbTime::new(t)),
    };
}

/// Writes `items` with `bulk`, as many rows per statement as fit.
async fn write_rows<T, const N: usize>(
    tx: &mut Tx,
    bulk: &rows::Bulk,
    keep: &[&str],
    items: &[T],
    values: impl for<'a> Fn(&'a T) -> [Value<'a>; N],
) -> Result<u64> {
    let head = bulk.head();
    let conflict = bulk.conflict(keep);
    let mut chunks = items.chunks(ROWS_PER_STATEMENT);
    execute_all(tx, || {
        let chunk = chunks.next()?;
        let mut qb = QueryBuilder::<Db>::new(head.clone());
        qb.push_values(chunk, |mut b, item| {
            for v in values(item) {
                bind_value(&mut b, v);
            }
        });
        qb.push(&conflict);
        Some(qb)
    })
    .await
}

#[async_trait]
impl ImportSession for Session {
    fn batch_id(&self) -> i64 {
        self.batch_id
    }

    fn bucket_scheme(&self) -> BucketScheme {
        self.scheme
    }

    async fn known(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashSet<String>> {
        let mut found = HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
            let mut qb = select_in(&format!("id FROM {}", table.table()), "id", chunk.iter().copied());
            for row in qb.build().fetch_all(&mut *self.tx).await? {
                found.insert(text(&row, "id")?);
            }
        }
        Ok(found)
    }

    async fn missing(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashSet<String>> {
        let mut keys: Vec<&str> = ids.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let mut absent = HashSet::new();
        for chunk in keys.chunks(ROWS_PER_STATEMENT * 4) {
            let mut qb = select_in(&format!("COUNT(*) FROM {}", table.table()), "id", chunk.iter().copied());
            let n: i64 = qb.build_query_scalar().fetch_one(&mut *self.tx).await?;
            if n < chunk.len() as i64 {
                let found = self.known(table, chunk).await?;
                absent.extend(chunk.iter().filter(|k| !found.contains(**k)).map(|k| (*k).to_owned()));
            }
        }
        Ok(absent)
    }

    async fn owners(&mut self, table: KeyTable, ids: &[&str]) -> Result<HashMap<String, String>> {
        let Some(owner) = table.owner_column() else { return Ok(HashMap::new()) };
        let mut owners = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
            let mut qb = select_in(
                &format!("id, {owner} AS owner FROM {}", table.table()),
                "id",
                chunk.iter().copied(),
            );
            for row in qb.build().fetch_all(&mut *self.tx).await? {
                owners.insert(text(&row, "id")?, text(&row, "owner")?);
            }
        }
        Ok(owners)
    }

    async fn resident_id_owners(&mut self, resident_ids: &[&str]) -> Result<HashMap<String, String>> {
        // By their blind indexes: the stored resident IDs are sealed.
        let by_index: HashMap<String, &str> =
            resident_ids.iter().map(|r| (self.ring.blind(BLIND_RESIDENT, r), *r)).collect();
        let indexes: Vec<&str> = by_index.keys().map(String::as_str).collect();
        let mut owners = HashMap::new();
        for chunk in indexes.chunks(ROWS_PER_STATEMENT * 4) {
            let mut qb =
                select_in("resident_id_bidx, id FROM customers", "resident_id_bidx", chunk.iter().copied());
            for row in qb.build().fetch_all(&mut *self.tx).await? {
                if let Some(r) = by_index.get(&text(&row, "resident_id_bidx")?) {
                    owners.insert((*r).to_owned(), text(&row, "id")?);
                }
            }
        }
        Ok(owners)
    }

    async fn account_states(&mut self, ids: &[&str]) -> Result<HashMap<String, AccountState>> {
        let mut states = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
            let mut qb =
                select_in("id, customer_id, currency, bucket FROM accounts", "id", chunk.iter().copied());
            for row in qb.build().fetch_all(&mut *self.tx).await? {
                states.insert(
                    text(&row, "id")?,
                    AccountState {
                        customer: text(&row, "customer_id")?,
                        currency: word(&row, "currency")?,
                        bucket: word(&row, "bucket")?,
                    },
                );
            }
        }
        Ok(states)
    }

    async fn upsert_customers(&mut self, items: &[Customer]) -> Result<()> {
        let (batch, now, ring) = (self.batch_id, self.meta.at, self.ring.clone());
        write_rows(&mut self.tx, &rows::CUSTOMERS, &self.meta.keep, items, |c| {
            rows::customer(c, batch, now, &ring)
        })
        .await?;
        Ok(())
    }

    async fn upsert_contacts(&mut self, items: &[ContactPoint]) -> Result<()> {
        let (batch, now, ring) = (self.batch_id, self.meta.at, self.ring.clone());
        write_rows(&mut self.tx, &rows::CONTACTS, &self.meta.keep, items, |c| {
            rows::contact(c, batch, now, &ring)
        })
        .await?;
        Ok(())
    }

    async fn upsert_accounts(
        &mut self,
        items: &[CardAccount],
        before: &HashMap<String, AccountState>,
    ) -> Result<u64> {
        let (batch, now, scheme) = (self.batch_id, self.meta.at, self.scheme);
        write_rows(&mut self.tx, &rows::ACCOUNTS, &self.meta.keep, items, |a| {
            rows::account(a, scheme.bucket(a.days_past_due), batch, now)
        })
        .await?;
        let moves = rows::bucket_moves(items, before, &scheme);
        write_rows(&mut self.tx, &rows::BUCKET_MOVES, &self.meta.keep, &moves, |(a, from, to)| {
            rows::bucket_move(a, *from, *to, batch, now)
        })
        .await?;
        self.bucket_moves += moves.len() as u64;
        self.touched.extend(items.iter().map(|a| a.customer.as_str().to_owned()));
        Ok(moves.len() as u64)
    }

    async fn upsert_transactions(&mut self, items: &[Transaction]) -> Result<()> {
        let (batch, now) = (self.batch_id, self.meta.at);
        write_rows(&mut self.tx, &rows::TRANSACTIONS, &self.meta.keep, items, |t| {
            rows::transaction(t, batch, now)
        })
        .await?;
        Ok(())
    }

    async fn upsert_payments(&mut self, items: &[Payment]) -> Result<()> {
        let (batch, now) = (self.batch_id, self.meta.at);
        write_rows(&mut self.tx, &rows::PAYMENTS, &self.meta.keep, items, |p| rows::payment(p, batch, now))
            .await?;
        Ok(())
    }

    async fn commit(mut self: Box<Self>, summary: &BatchSummary) -> Result<BatchReceipt> {
        let mut customers: Vec<String> = std::mem::take(&mut self.touched).into_iter().collect();
        customers.sort_unstable();
        let mut cases_touched = 0;
        for chunk in customers.chunks(ROWS_PER_STATEMENT * 4) {
            let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
            cases_touched += self.refresh_cases(&chunk).await?;
        }
        let event = rows::batch_event(&self.meta, self.batch_id, summary, self.bucket_moves, cases_touched);
        let row = append(&mut self.tx, &event).await?;
        sqlx::query(rows::END_BATCH)
            .bind(summary.rows_total as i64)
            .bind(summary.rows_inserted as i64)
            .bind(summary.rows_updated as i64)
            .bind(summary.rows_rejected as i64)
            .bind(row.seq)
            .bind(&summary.file_sha256)
            .bind(self.batch_id)
            .execute(&mut *self.tx)
            .await?;
        let Session { tx, batch_id, bucket_moves, .. } = *self;
        tx.commit().await?;
        Ok(BatchReceipt { batch_id, ledger_seq: row.seq, bucket_moves, cases_touched })
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
