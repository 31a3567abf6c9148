// Shared by both adapters (see common.rs). This part: turning rows into domain types, and the
// read-only queries (stats, ledger pages, configuration, case lists and case screens).

fn customer_from_row(row: &DbRow, ring: &Keyring) -> Result<Customer> {
    let col = |c: &'static str| move |e: Invalid| corrupt(c, e);
    let name = ring.open("customers.name", &text(row, "name")?)?;
    let resident_id = ring.open("customers.resident_id", &text(row, "resident_id")?)?;
    Ok(Customer {
        id: id(row, "id", CustomerId::parse)?,
        name: PersonName::parse(&name).map_err(col("name"))?,
        resident_id: ResidentId::parse(&resident_id).map_err(col("resident_id"))?,
        gender: Gender::parse(&text(row, "gender")?).map_err(col("gender"))?,
        birth_date: date(row, "birth_date")?,
        employer: ring.open_opt("customers.employer", opt_text(row, "employer")?)?,
        address: ring
            .open_opt("customers.address", opt_text(row, "address")?)?
            .map(|a| Address::parse(&a).map_err(col("address")))
            .transpose()?,
        region: opt_text(row, "region")?,
        time_zone: text(row, "time_zone")?,
    })
}

fn contact_from_row(row: &DbRow, ring: &Keyring) -> Result<ContactPoint> {
    let kind = word(row, "kind")?;
    let value = ring.open("contact_points.value", &text(row, "value")?)?;
    Ok(ContactPoint {
        id: id(row, "id", ContactId::parse)?,
        customer: id(row, "customer_id", CustomerId::parse)?,
        role: word(row, "role")?,
        name: ring
            .open_opt("contact_points.name", opt_text(row, "name")?)?
            .map(|n| PersonName::parse(&n).map_err(|e| corrupt("name", e)))
            .transpose()?,
        value: ContactValue::parse(kind, &value).map_err(|e| corrupt("value", e))?,
        status: word(row, "status")?,
        time_zone: opt_text(row, "time_zone")?,
    })
}

fn account_from_row(row: &DbRow) -> Result<CardAccount> {
    let currency: Currency = word(row, "currency")?;
    Ok(CardAccount {
        id: id(row, "id", AccountId::parse)?,
        customer: id(row, "customer_id", CustomerId::parse)?,
        pan: MaskedPan::from_stored(text(row, "pan_masked")?),
        currency,
        credit_limit: money(row, "credit_limit", currency)?,
        balance: money(row, "balance", currency)?,
        minimum_payment: money(row, "minimum_payment", currency)?,
        statement_day: small(row, "statement_day")?,
        due_date: date(row, "due_date")?,
        cycles_delinquent: small(row, "cycles_delinquent")?,
        days_past_due: small(row, "days_past_due")?,
        overdue: Overdue {
            principal: money(row, "overdue_principal", currency)?,
            interest: money(row, "overdue_interest", currency)?,
            fees: money(row, "overdue_fees", currency)?,
            late_fees: money(row, "overdue_late_fees", currency)?,
        },
    })
}

fn case_from_row(row: &DbRow) -> Result<Case> {
    Ok(Case {
        id: id(row, "id", CaseId::parse)?,
        customer: id(row, "customer_id", CustomerId::parse)?,
        status: word(row, "status")?,
        bucket: word(row, "bucket")?,
        max_dpd: small(row, "max_dpd")?,
        team: opt_text(row, "team")?,
        collector: opt_text(row, "collector")?,
        agency: opt_text(row, "agency")?,
        opened_at: time(row, "opened_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

/// The contact fields shared by `attempts` and `attempts_started` rows.
fn planned_from_row(row: &DbRow) -> Result<Planned> {
    Ok(Planned {
        case: id(row, "case_id", CaseId::parse)?,
        account: opt_id(row, "account_id", AccountId::parse)?,
        at: time(row, "at")?,
        channel: word(row, "channel")?,
        recipient: word(row, "recipient")?,
        contact_point: opt_id(row, "contact_point_id", ContactId::parse)?,
        agent: Agent::parse(&text(row, "agent")?).map_err(|e| corrupt("agent", e))?,
    })
}

fn attempt_from_row(row: &DbRow) -> Result<StoredAttempt> {
    Ok(StoredAttempt {
        id: int(row, "id")?,
        attempt: planned_from_row(row)?.finished(
            word(row, "outcome")?,
            small(row, "duration_secs")?,
            opt_text(row, "note")?,
        ),
        recorded_by: text(row, "recorded_by")?,
        recorded_at: time(row, "recorded_at")?,
    })
}

fn promise_from_row(row: &DbRow) -> Result<StoredPromise> {
    let currency: Currency = word(row, "currency")?;
    Ok(StoredPromise {
        id: int(row, "id")?,
        promise: NewPromise {
            case: id(row, "case_id", CaseId::parse)?,
            account: opt_id(row, "account_id", AccountId::parse)?,
            attempt: row.try_get::<Option<i64>, _>("attempt_id")?,
            amount: money(row, "amount", currency)?,
            due_at: time(row, "due_at")?,
        },
        status: word(row, "status")?,
        created_by: text(row, "created_by")?,
        created_at: time(row, "created_at")?,
        settled_by: opt_text(row, "settled_by")?,
        settled_at: opt_time(row, "settled_at")?,
    })
}

fn arrangement_from_row(row: &DbRow) -> Result<StoredArrangement> {
    let currency: Currency = word(row, "currency")?;
    Ok(StoredArrangement {
        id: int(row, "id")?,
        arrangement: NewArrangement {
            case: id(row, "case_id", CaseId::parse)?,
            account: opt_id(row, "account_id", AccountId::parse)?,
            terms: ArrangementTerms {
                total: money(row, "total", currency)?,
                instalments: small(row, "instalments")?,
                monthly_fee_bp: small(row, "monthly_fee_bp")?,
                first_due: date(row, "first_due")?,
            },
        },
        status: word(row, "status")?,
        proposed_by: text(row, "proposed_by")?,
        proposed_at: time(row, "proposed_at")?,
        decided_by: opt_text(row, "decided_by")?,
        decided_at: opt_time(row, "decided_at")?,
        decision_note: opt_text(row, "decision_note")?,
        schedule: Vec::new(),
    })
}

fn waiver_from_row(row: &DbRow) -> Result<StoredWaiver> {
    let currency: Currency = word(row, "currency")?;
    Ok(StoredWaiver {
        id: int(row, "id")?,
        waiver: NewWaiver {
            case: id(row, "case_id", CaseId::parse)?,
            account: id(row, "account_id", AccountId::parse)?,
            component: word(row, "component")?,
            amount: money(row, "amount", currency)?,
            reason: text(row, "reason")?,
        },
        status: word(row, "status")?,
        requested_by: text(row, "requested_by")?,
        requested_at: time(row, "requested_at")?,
        decided_by: opt_text(row, "decided_by")?,
        decided_at: opt_time(row, "decided_at")?,
        first_approved_by: opt_text(row, "first_approved_by")?,
        decision_note: opt_text(row, "decision_note")?,
    })
}

fn move_from_row(row: &DbRow) -> Result<BucketMove> {
    Ok(BucketMove {
        account: id(row, "account_id", AccountId::parse)?,
        at: time(row, "at")?,
        from: word(row, "from_bucket")?,
        to: word(row, "to_bucket")?,
        dpd: small(row, "dpd")?,
    })
}

fn payment_from_row(row: &DbRow) -> Result<Payment> {
    let currency: Currency = word(row, "currency")?;
    Ok(Payment {
        id: id(row, "id", PaymentId::parse)?,
        account: id(row, "account_id", AccountId::parse)?,
        paid_at: time(row, "paid_at")?,
        amount: money(row, "amount", currency)?,
        channel: word(row, "channel")?,
        reference: opt_text(row, "reference")?,
    })
}

/// Tables `daylight stats` counts, in the order it prints them.
const COUNTED_TABLES: [&str; 15] = [
    "customers",
    "contact_points",
    "accounts",
    "transactions",
    "payments",
    "cases",
    "bucket_moves",
    "attempts",
    "notes",
    "promises",
    "arrangements",
    "waivers",
    "import_batches",
    "config",
    "ledger",
];

async fn read_stats(pool: &DbPool) -> Result<Stats> {
    let mut tx = pool.begin().await?;
    let mut tables = Vec::with_capacity(COUNTED_TABLES.len());
    for table in COUNTED_TABLES {
        let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut *tx)
            .await?;
        tables.push(TableCount { table, rows });
    }
    let rows = sqlx::query(
        "SELECT bucket, currency, COUNT(*) AS n, \
         CAST(COALESCE(SUM(balance), 0) AS BIGINT) AS balance, \
         CAST(COALESCE(SUM(overdue_principal + overdue_interest + overdue_fees + overdue_late_fees), 0) AS BIGINT) AS overdue \
         FROM accounts GROUP BY bucket, currency",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut buckets = rows
        .iter()
        .map(|r| {
            Ok(BucketStat {
                bucket: word(r, "bucket")?,
                currency: word(r, "currency")?,
                accounts: int(r, "n")?,
                balance_minor: int(r, "balance")?,
                overdue_minor: int(r, "overdue")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    buckets.sort_by_key(|b| (b.bucket, b.currency));
    let rows = sqlx::query("SELECT bucket, status, COUNT(*) AS n FROM cases GROUP BY bucket, status")
        .fetch_all(&mut *tx)
        .await?;
    let mut cases = rows
        .iter()
        .map(|r| Ok(CaseStat { bucket: word(r, "bucket")?, status: word(r, "status")?, cases: int(r, "n")? }))
        .collect::<Result<Vec<_>>>()?;
    cases.sort_by_key(|c| (c.bucket, c.status));
    tx.commit().await?;
    Ok(Stats { tables, buckets, cases })
}

async fn read_ledger_head(pool: &DbPool) -> Result<Link> {
    let row = sqlx::query("SELECT seq, hash FROM ledger_head WHERE id = 1").fetch_one(pool).await?;
    Link::from_stored(int(&row, "seq")?, &text(&row, "hash")?)
        .map_err(|b| StoreError::Corrupt(format!("ledger_head: {b}")))
}

async fn read_ledger_rows(pool: &DbPool, after: i64, limit: u32) -> Result<Vec<LedgerRow>> {
    let sql = format!(
        "SELECT seq, {LEDGER_AT} AS at, actor, kind, subject, payload, prev_hash, hash \
         FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2"
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(after).bind(i64::from(limit)).fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            Ok(LedgerRow {
                seq: int(r, "seq")?,
                at: text(r, "at")?,
                actor: text(r, "actor")?,
                kind: text(r, "kind")?,
                subject: text(r, "subject")?,
                payload: text(r, "payload")?,
                prev_hash: text(r, "prev_hash")?,
                hash: text(r, "hash")?,
            })
        })
        .collect()
}

async fn read_config(pool: &DbPool) -> Result<Vec<ConfigEntry>> {
    let rows = sqlx::query("SELECT key, value, updated_at, updated_by FROM config ORDER BY key")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ConfigEntry {
                key: text(r, "key")?,
                value: text(r, "value")?,
                updated_at: time(r, "updated_at")?,
                updated_by: text(r, "updated_by")?,
            })
        })
        .collect()
}

/// Cases `q` finds: by the case id, or by the blind index of the debtor's name, resident ID or
/// one of the case's phone numbers (`q` parsed as each, as the values were when stored), or a
/// card's last four digits. Exact matches only: an index finds equal values, never parts.
fn push_search(qb: &mut QueryBuilder<Db>, ring: &Keyring, q: &str) {
    qb.push(" AND (c.id = ").push_bind(q.to_owned());
    if let Ok(name) = PersonName::parse(q) {
        qb.push(" OR cu.name_bidx = ").push_bind(ring.blind(BLIND_NAME, name.expose()));
    }
    if let Ok(r) = ResidentId::parse(q) {
        qb.push(" OR cu.resident_id_bidx = ").push_bind(ring.blind(BLIND_RESIDENT, r.expose()));
    }
    if let Ok(phone) = daylight_domain::pii::Phone::parse(q) {
        qb.push(
            " OR c.customer_id IN (SELECT p.customer_id FROM contact_points p WHERE p.kind = 'phone' AND p.value_bidx = ",
        )
        .push_bind(ring.blind(BLIND_CONTACT, phone.expose()))
        .push(")");
    }
    if q.len() == 4 && q.bytes().all(|b| b.is_ascii_digit()) {
        qb.push(" OR c.customer_id IN (SELECT a.customer_id FROM accounts a WHERE a.pan_masked LIKE ")
            .push_bind(format!("%{q}"))
            .push(")");
    }
    qb.push(")");
}

/// The cases a filter selects: its conditions after `WHERE 1 = 1`.
fn push_case_filter(qb: &mut QueryBuilder<Db>, ring: &Keyring, filter: &CaseFilter) {
    if let Some(s) = filter.status {
        qb.push(" AND c.status = ").push_bind(s.as_str());
    }
    if let Some(b) = filter.bucket {
        qb.push(" AND c.bucket = ").push_bind(b.label());
    }
    if let Some(c) = &filter.collector {
        qb.push(" AND c.collector = ").push_bind(c.clone());
    }
    if let Some(q) = filter.search.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        push_search(qb, ring, q);
    }
    push_scope(qb, &filter.scope);
}

async fn count_case_list(pool: &DbPool, ring: &Keyring, filter: &CaseFilter) -> Result<u64> {
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT COUNT(*) AS n FROM cases c JOIN customers cu ON cu.id = c.customer_id WHERE 1 = 1",
    );
    push_case_filter(&mut qb, ring, filter);
    let row = qb.build().fetch_one(pool).await?;
    Ok(u64::try_from(int(&row, "n")?).unwrap_or(0))
}

async fn read_case_list(pool: &DbPool, ring: &Keyring, filter: &CaseFilter) -> Result<Vec<CaseSummary>> {
    let limit = i64::from(filter.limit.min(CaseFilter::MAX_LIMIT));
    let mut tx = pool.begin().await?;
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT c.*, cu.name AS customer_name, \
         (SELECT COUNT(*) FROM accounts a WHERE a.customer_id = c.customer_id) AS n_accounts, ",
    );
    match filter.attempts_since {
        Some(t) => qb
            .push("(SELECT COUNT(*) FROM attempts t WHERE t.case_id = c.id AND t.at >= ")
            .push_bind(DbTime::new(t))
            .push(") AS n_attempts"),
        None => qb.push("CAST(0 AS BIGINT) AS n_attempts"),
    };
    qb.push(" FROM cases c JOIN customers cu ON cu.id = c.customer_id WHERE 1 = 1");
    push_case_filter(&mut qb, ring, filter);
    qb.push(" ORDER BY c.max_dpd DESC, c.id LIMIT ").push_bind(limit);
    qb.push(" OFFSET ").push_bind(i64::from(filter.offset));
    let rows = qb.build().fetch_all(&mut *tx).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(CaseSummary {
            case: case_from_row(r)?,
            customer_name: PersonName::parse(&ring.open("customers.name", &text(r, "customer_name")?)?)
                .map_err(|e| corrupt("name", e))?,
            accounts: int(r, "n_accounts")?,
            overdue: Vec::new(),
            attempts_since: u32::try_from(int(r, "n_attempts")?).unwrap_or(u32::MAX),
        });
    }
    if !out.is_empty() {
        let mut qb = select_in(
            &format!(
                "a.customer_id AS customer_id, a.currency AS currency, CAST(SUM({OWED}) AS BIGINT) AS overdue FROM accounts a"
            ),
            "a.customer_id",
            out.iter().map(|s| s.case.customer.as_str()),
        );
        qb.push(" GROUP BY a.customer_id, a.currency ORDER BY a.customer_id, a.currency");
        let sums = qb.build().fetch_all(&mut *tx).await?;
        let mut by_customer: HashMap<String, Vec<Money>> = HashMap::new();
        for r in &sums {
            let currency: Currency = word(r, "currency")?;
            by_customer.entry(text(r, "customer_id")?).or_default().push(money(r, "overdue", currency)?);
        }
        for s in &mut out {
            s.overdue = by_customer.remove(s.case.customer.as_str()).unwrap_or_default();
        }
    }
    tx.commit().await?;
    Ok(out)
}

async fn read_case_detail(
    pool: &DbPool,
    ring: &Keyring,
    scope: &Scope,
    case_id: &CaseId,
) -> Result<CaseDetail> {
    let mut tx = pool.begin().await?;
    let mut qb = QueryBuilder::<Db>::new("SELECT c.* FROM cases c WHERE c.id = ");
    qb.push_bind(case_id.as_str().to_owned());
    push_scope(&mut qb, scope);
    let row = qb
        .build()
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("case", case_id.as_str()))?;
    let case = case_from_row(&row)?;
    let customer_id = case.customer.as_str().to_owned();
    let customer = customer_from_row(
        &sqlx::query("SELECT * FROM customers WHERE id = $1").bind(&customer_id).fetch_one(&mut *tx).await?,
        ring,
    )?;
    macro_rules! all {
        ($sql:expr, $key:expr, $map:expr) => {{
            let rows = sqlx::query($sql).bind($key).bind(DETAIL_LIMIT).fetch_all(&mut *tx).await?;
            rows.iter().map($map).collect::<Result<Vec<_>>>()?
        }};
    }
    let mut contacts = all!(
        "SELECT * FROM contact_points WHERE customer_id = $1 ORDER BY id LIMIT $2",
        &customer_id,
        |r: &DbRow| contact_from_row(r, ring)
    );
    // The debtor's own first, then guarantors, then third parties.
    contacts.sort_by(|a, b| (a.role, &a.id).cmp(&(b.role, &b.id)));
    let accounts = all!(
        AssertSqlSafe(format!(
            "SELECT a.*, {ADJUSTED} AS adjusted FROM accounts a WHERE a.customer_id = $1 ORDER BY a.id LIMIT $2"
        )),
        &customer_id,
        |r: &DbRow| {
            let account = account_from_row(r)?;
            let adjusted = money(r, "adjusted", account.currency)?;
            Ok(AccountView { account, bucket: word(r, "bucket")?, adjusted })
        }
    );
    let attempts = all!(
        "SELECT t.*, (SELECT n.text FROM notes n WHERE n.attempt_id = t.id ORDER BY n.id LIMIT 1) AS note \
         FROM attempts t WHERE t.case_id = $1 ORDER BY t.at DESC, t.id DESC LIMIT $2",
        case_id.as_str(),
        attempt_from_row
    );
    let notes = all!(
        "SELECT * FROM notes WHERE case_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        case_id.as_str(),
        |r: &DbRow| Ok(StoredNote {
            id: int(r, "id")?,
            note: Note {
                case: id(r, "case_id", CaseId::parse)?,
                author: text(r, "author")?,
                at: time(r, "at")?,
                text: text(r, "text")?,
                attempt: r.try_get::<Option<i64>, _>("attempt_id")?,
            },
        })
    );
    let promises = all!(
        "SELECT * FROM promises WHERE case_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        case_id.as_str(),
        promise_from_row
    );
    let mut arrangements = all!(
        "SELECT * FROM arrangements WHERE case_id = $1 ORDER BY proposed_at DESC, id DESC LIMIT $2",
        case_id.as_str(),
        arrangement_from_row
    );
    for a in &mut arrangements {
        let rows =
            sqlx::query("SELECT * FROM arrangement_instalments WHERE arrangement_id = $1 ORDER BY number")
                .bind(a.id)
                .fetch_all(&mut *tx)
                .await?;
        let currency = a.arrangement.terms.total.currency;
        a.schedule = rows
            .iter()
            .map(|r| {
                Ok(Instalment {
                    number: small(r, "number")?,
                    due: date(r, "due_date")?,
                    principal: money(r, "principal", currency)?,
                    fee: money(r, "fee", currency)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
    }
    let waivers = all!(
        "SELECT * FROM waivers WHERE case_id = $1 ORDER BY requested_at DESC, id DESC LIMIT $2",
        case_id.as_str(),
        waiver_from_row
    );
    let bucket_moves = all!(
        "SELECT m.* FROM bucket_moves m JOIN accounts a ON a.id = m.account_id \
         WHERE a.customer_id = $1 ORDER BY m.at DESC, m.id DESC LIMIT $2",
        &customer_id,
        move_from_row
    );
    let payments = all!(
        "SELECT p.* FROM payments p JOIN accounts a ON a.id = p.account_id \
         WHERE a.customer_id = $1 ORDER BY p.paid_at DESC, p.id DESC LIMIT $2",
        &customer_id,
        payment_from_row
    );
    let status_changes = all!(
        "SELECT * FROM case_status_changes WHERE case_id = $1 ORDER BY changed_at DESC, id DESC LIMIT $2",
        case_id.as_str(),
        |r: &DbRow| Ok(StoredStatusChange {
            from: word(r, "from_status")?,
            change: StatusChange {
                to: word(r, "to_status")?,
                reason: opt_text(r, "close_reason")?
                    .map(|w| w.parse().map_err(|e| corrupt("close_reason", e)))
                    .transpose()?,
                note: text(r, "note")?,
            },
            owed_fen: int(r, "owed")?,
            changed_by: text(r, "changed_by")?,
            changed_at: time(r, "changed_at")?,
        })
    );
    tx.commit().await?;
    Ok(CaseDetail {
        case,
        customer,
        contacts,
        accounts,
        attempts,
        notes,
        promises,
        arrangements,
        waivers,
        bucket_moves,
        payments,
        status_changes,
    })
}

async fn write_app_role(write: &DbPool, role: &str) -> Result<()> {
    if BACKEND == Backend::Sqlite {
        return Err(Invalid::new(
            Code::Inconsistent,
            "APP_ROLE_SQLITE: SQLite has no roles; protect the database file with the operating system's permissions",
        )
        .into());
    }
    // An identifier cannot be bound: it is checked to be a plain one instead.
    let plain = role.len() <= 63
        && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && role.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        return Err(Invalid::new(
            Code::Inconsistent,
            format!("role {role:?}: expected 1–63 of a-z, 0-9 and _"),
        )
        .into());
    }
    let mut tx = begin_write(write).await?;
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_roles WHERE rolname = $1")
        .bind(role)
        .fetch_one(&mut *tx)
        .await?;
    let db: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&mut *tx).await?;
    let schema: String = sqlx::query_scalar("SELECT current_schema()").fetch_one(&mut *tx).await?;
    let mut statements = Vec::new();
    if exists == 0 {
        // LOGIN without a password: the DBA sets one (ALTER ROLE … PASSWORD) or trusts a socket.
        statements.push(format!("CREATE ROLE {role} LOGIN"));
    }
    statements.extend([
        format!("GRANT CONNECT, TEMPORARY ON DATABASE \"{}\" TO {role}", db.replace('"', "\"\"")),
        format!("GRANT USAGE ON SCHEMA \"{}\" TO {role}", schema.replace('"', "\"\"")),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \"{}\" TO {role}",
            schema.replace('"', "\"\"")
        ),
        format!(
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA \"{}\" TO {role}",
            schema.replace('"', "\"\"")
        ),
        // The evidence chain: read and appended, never changed or removed.
        format!("REVOKE UPDATE, DELETE, TRUNCATE ON ledger FROM {role}"),
        format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM {role}"),
    ]);
    for sql in statements {
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[async_trait]
impl ConfigStore for Adapter {
    fn backend(&self) -> Backend {
        BACKEND
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn schema(&self) -> Result<SchemaStatus> {
        schema_status(&self.read).await
    }

    async fn grant_app_role(&self, role: &str) -> Result<()> {
        write_app_role(&self.write, role).await
    }

    async fn migrate(&self, actor: &str, now: Timestamp) -> Result<MigrateReport> {
        run_migrations(&self.write, actor, now).await
    }

    async fn stats(&self) -> Result<Stats> {
        read_stats(&self.read).await
    }

    async fn config(&self) -> Result<Vec<ConfigEntry>> {
        read_config(&self.read).await
    }

    async fn bucket_scheme(&self) -> Result<BucketScheme> {
        let mut conn = self.read.acquire().await?;
        read_scheme(&mut conn, "").await
    }

    async fn set_bucket_scheme(&self, scheme: BucketScheme, actor: &str, now: Timestamp) -> Result<Rebucket> {
        change_bucket_scheme(&self.write, scheme, actor, now).await
    }

    async fn pack_source(&self) -> Result<String> {
        read_pack_source(&self.read).await
    }

    async fn policy_pack(&self) -> Result<Pack> {
        get_pack(&self.read).await
    }

    async fn set_policy_pack(&self, pack: &Pack, actor: &str, now: Timestamp) -> Result<()> {
        put_pack(&self.write, pack, actor, now).await
    }
}

#[async_trait]
impl ImportStore for Adapter {
    async fn begin_import(&self, meta: &BatchMeta) -> Result<Box<dyn ImportSession>> {
        self.import_session(meta).await
    }
}

#[async_trait]
impl LedgerStore for Adapter {
    async fn ledger_head(&self) -> Result<Link> {
        read_ledger_head(&self.read).await
    }

    async fn ledger_rows(&self, after: i64, limit: u32) -> Result<Vec<LedgerRow>> {
        read_ledger_rows(&self.read, after, limit).await
    }
}
