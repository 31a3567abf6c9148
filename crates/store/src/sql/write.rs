// Shared by both adapters (see common.rs). This part: schema, configuration and the workbench
// writes. Each write checks its input with the domain rules, changes the rows and appends its
// ledger event in one transaction.

async fn schema_status(pool: &DbPool) -> Result<SchemaStatus> {
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let exists: i64 = sqlx::query_scalar(TABLE_EXISTS).bind("_sqlx_migrations").fetch_one(pool).await?;
    let applied: i64 = if exists > 0 {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?
    } else {
        0
    };
    Ok(SchemaStatus { applied, known })
}

async fn run_migrations(write: &DbPool, actor: &str, now: Timestamp) -> Result<MigrateReport> {
    required("actor", actor)?;
    let from = schema_status(write).await?;
    if from.applied > from.known {
        return Err(StoreError::SchemaAhead { have: from.applied, want: from.known });
    }
    MIGRATOR.run(write).await?;
    let to = schema_status(write).await?.applied;
    let mut tx = begin_write(write).await?;
    // The migrations commit on their own, before this transaction. So that a crash between
    // the two cannot lose the evidence, the event is written whenever the ledger owes it: the
    // first event when the chain is empty, a `store.migrated` event when the last schema
    // version the ledger records is behind the one applied.
    let recorded = recorded_schema(&mut tx).await?;
    let created = recorded.is_none();
    match recorded {
        None => {
            put_config(&mut tx, CONFIG_BUCKETS, &BucketScheme::default().to_string(), actor, now).await?;
            let payload = json!({
                "backend": format!("{BACKEND:?}").to_lowercase(),
                "schema": to,
                "config": {CONFIG_BUCKETS: BucketScheme::default().to_string()},
            });
            append(&mut tx, &Event::new(now, actor, EventKind::StoreInitialised, "store", &payload)).await?;
        }
        Some(version) if version < to => {
            let payload = json!({"from": version, "schema": to});
            append(&mut tx, &Event::new(now, actor, EventKind::StoreMigrated, "store", &payload)).await?;
        }
        Some(_) => {}
    }
    tx.commit().await?;
    Ok(MigrateReport { from: from.applied, to, created })
}

/// The schema version the ledger last recorded (`schema` of the newest `store.initialised` or
/// `store.migrated` event); `None` for an empty chain.
async fn recorded_schema(tx: &mut Tx) -> Result<Option<i64>> {
    let payload: Option<String> = sqlx::query_scalar(
        "SELECT payload FROM ledger WHERE kind IN ('store.initialised', 'store.migrated') ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(payload) = payload else { return Ok(None) };
    let v: serde_json::Value = serde_json::from_str(&payload).map_err(|e| corrupt("ledger.payload", e))?;
    v["schema"].as_i64().map(Some).ok_or_else(|| corrupt("ledger.payload", "no schema version"))
}

async fn change_bucket_scheme(
    write: &DbPool,
    scheme: BucketScheme,
    actor: &str,
    now: Timestamp,
) -> Result<Rebucket> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let old = read_scheme(&mut tx, FOR_UPDATE).await?;
    let account_bucket = bucket_case(&scheme, "days_past_due");
    let moved = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO bucket_moves (account_id, at, from_bucket, to_bucket, dpd, cause) \
         SELECT id, $1, bucket, {account_bucket}, days_past_due, 'scheme' FROM accounts \
         WHERE bucket <> {account_bucket}"
    )))
    .bind(DbTime::new(now))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE accounts SET bucket = {account_bucket}, updated_at = $1 WHERE bucket <> {account_bucket}"
    )))
    .bind(DbTime::new(now))
    .execute(&mut *tx)
    .await?;
    let case_bucket = bucket_case(&scheme, "max_dpd");
    let cases = sqlx::query(AssertSqlSafe(format!(
        "UPDATE cases SET bucket = {case_bucket}, updated_at = $1 WHERE bucket <> {case_bucket}"
    )))
    .bind(DbTime::new(now))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    put_config(&mut tx, CONFIG_BUCKETS, &scheme.to_string(), actor, now).await?;
    let payload = json!({
        "key": CONFIG_BUCKETS,
        "from": old.to_string(),
        "to": scheme.to_string(),
        "accounts_moved": moved,
        "cases_updated": cases,
    });
    append(&mut tx, &Event::new(now, actor, EventKind::ConfigChanged, CONFIG_BUCKETS, &payload)).await?;
    tx.commit().await?;
    Ok(Rebucket { accounts_moved: moved, cases_updated: cases })
}

async fn change_case_status(
    write: &DbPool,
    case: &CaseId,
    change: &StatusChange,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    change_cases_status(write, &Scope::All, std::slice::from_ref(case), change, actor, now).await
}

/// Moves every case of `cases` within `scope` as `change` says, in one transaction: all or
/// none. A closure as paid in full is refused while the accounts owe anything.
async fn change_cases_status(
    write: &DbPool,
    scope: &Scope,
    cases: &[CaseId],
    change: &StatusChange,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    change.check()?;
    let note = change.note.trim();
    let mut tx = begin_write(write).await?;
    let mut chain = Chain::default();
    for case in cases {
        let mut qb = QueryBuilder::<Db>::new("SELECT c.status FROM cases c WHERE c.id = ");
        qb.push_bind(case.as_str().to_owned());
        push_scope(&mut qb, scope);
        qb.push(FOR_UPDATE);
        let current: String = qb
            .build_query_scalar()
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("case", case.as_str()))?;
        let current: CaseStatus = current.parse().map_err(|e| corrupt("status", e))?;
        current.become_(change.to)?;
        let owed = case_owed(&mut tx, case).await?;
        if change.reason == Some(CloseReason::PaidInFull) && owed > 0 {
            return Err(Invalid::new(
                Code::CaseOwes,
                format!(
                    "case {case} still owes {}: close it as paid in full once it is paid, or for another reason",
                    Money::new(owed, Currency::Cny)
                ),
            )
            .into());
        }
        sqlx::query("UPDATE cases SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(change.to.as_str())
            .bind(DbTime::new(now))
            .bind(case.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO case_status_changes (case_id, from_status, to_status, close_reason, note, owed, changed_by, \
             changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(case.as_str())
        .bind(current.as_str())
        .bind(change.to.as_str())
        .bind(change.reason.map(CloseReason::as_str))
        .bind(note)
        .bind(owed)
        .bind(actor)
        .bind(DbTime::new(now))
        .execute(&mut *tx)
        .await?;
        let payload = json!({
            "status": {"from": current.as_str(), "to": change.to.as_str()},
            "close_reason": change.reason.map(CloseReason::as_str),
            "owed": owed,
            "reason_sha256": digest(note),
        });
        chain
            .append(&mut tx, &Event::new(now, actor, EventKind::CaseChanged, case.as_str(), &payload))
            .await?;
    }
    chain.close(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// What the accounts of `case`'s debtor owe now (see [`OWED`]), in fen.
async fn case_owed(tx: &mut Tx, case: &CaseId) -> Result<i64> {
    let owed: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT CAST(SUM({OWED}) AS BIGINT) FROM accounts a JOIN cases c ON c.customer_id = a.customer_id WHERE c.id = $1"
    )))
    .bind(case.as_str())
    .fetch_one(&mut **tx)
    .await?;
    Ok(owed.unwrap_or(0))
}

/// The debtor of `case`, which must not be closed (`CASE_CLOSED`): promises, plans and waivers
/// are made on cases being worked. The case is read `FOR UPDATE`, so a closure waits for them.
async fn open_case_customer(tx: &mut Tx, case: &CaseId) -> Result<String> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT customer_id, status FROM cases WHERE id = $1{FOR_UPDATE}"
    )))
    .bind(case.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found("case", case.as_str()))?;
    if word::<CaseStatus>(&row, "status")? == CaseStatus::Closed {
        return Err(Invalid::new(
            Code::CaseClosed,
            format!("case {case} is closed: reopen it before making promises, plans or waivers on it"),
        )
        .into());
    }
    text(&row, "customer_id")
}

async fn change_assignment(
    write: &DbPool,
    case: &CaseId,
    to: &Assignment,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let done =
        sqlx::query("UPDATE cases SET team = $1, collector = $2, agency = $3, updated_at = $4 WHERE id = $5")
            .bind(to.team.as_deref())
            .bind(to.collector.as_deref())
            .bind(to.agency.as_deref())
            .bind(DbTime::new(now))
            .bind(case.as_str())
            .execute(&mut *tx)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("case", case.as_str()));
    }
    let payload = json!({"assignment": {"team": to.team, "collector": to.collector, "agency": to.agency}});
    append(&mut tx, &Event::new(now, actor, EventKind::CaseChanged, case.as_str(), &payload)).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes an attempt the gate allowed (its note, what the outcome says of the contact point,
/// a cease request as the debtor's flag) and its ledger event. `started` names the started
/// attempt it finishes.
async fn store_attempt(
    tx: &mut Tx,
    chain: &mut Chain,
    a: &Attempt,
    started: Option<i64>,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    let mut rows = AttemptRows::default();
    let id = rows.push(tx, chain, a, started, None, actor, now).await?;
    rows.flush(tx).await?;
    Ok(id)
}

/// Attempts a transaction stores, with their notes and the number statuses they set, written
/// together in multi-row statements ([`AttemptRows::ROWS_PER_INSERT`] rows each) instead of
/// three statements an attempt: a batch gate's thousands of attempts cost a few dozen
/// statements. Ids are reserved up front ([`reserve_attempt_ids`]), so an attempt's ledger
/// event names its id before its row is written. Whoever reads attempts or contact points in
/// the transaction flushes first; the transaction flushes before it commits.
#[derive(Default)]
struct AttemptRows {
    /// How many attempts the caller expects to push, at most (ids are reserved for that many,
    /// up to a statement's rows at a time; one when not said).
    expect: usize,
    /// Reserved ids not yet used.
    ids: std::collections::VecDeque<i64>,
    /// The highest id reserved so far.
    last: i64,
    attempts: Vec<(i64, Attempt, String, Timestamp)>,
    notes: Vec<(i64, String, String, Timestamp, String)>,
    /// (attempt, case, recording, when).
    recordings: Vec<(i64, String, NewRecording, Timestamp)>,
    /// (status, at, now, contact point, whether every record of the number).
    statuses: Vec<(ContactStatus, Timestamp, Timestamp, String, bool)>,
}

impl AttemptRows {
    /// Rows per multi-row statement (11 parameters an attempt).
    const ROWS_PER_INSERT: usize = 256;

    /// Rows for a batch of `n` attempts.
    fn expecting(n: usize) -> AttemptRows {
        AttemptRows { expect: n, ..AttemptRows::default() }
    }

    /// Queues `a` (with its note, the status it gives its number and its call's recording) and
    /// appends its ledger event; returns its id.
    #[allow(clippy::too_many_arguments)]
    async fn push(
        &mut self,
        tx: &mut Tx,
        chain: &mut Chain,
        a: &Attempt,
        started: Option<i64>,
        recording: Option<&NewRecording>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        if self.ids.is_empty() {
            let ids = reserve_attempt_ids(tx, self.last, self.expect.clamp(1, Self::ROWS_PER_INSERT)).await?;
            self.last = ids.iter().copied().max().unwrap_or(self.last);
            self.ids.extend(ids);
        }
        let id = self.ids.pop_front().ok_or_else(|| StoreError::Corrupt("no attempt id reserved".into()))?;
        self.expect = self.expect.saturating_sub(1);
        if let Some(note) = &a.note {
            self.notes.push((id, a.case.as_str().to_owned(), actor.to_owned(), now, note.trim().to_owned()));
        }
        if let (Some(cp), Some(status)) = (&a.contact_point, a.outcome.contact_status()) {
            // What the carrier says of a number (空号, 停机, 关机) is true of every record of it; a
            // wrong number or an answer is true of this owner's record only.
            let whole_number =
                matches!(a.outcome, Outcome::InvalidNumber | Outcome::Suspended | Outcome::PoweredOff);
            self.statuses.push((status, a.at, now, cp.as_str().to_owned(), whole_number));
        }
        self.attempts.push((id, a.clone(), actor.to_owned(), now));
        if let Some(r) = recording {
            self.recordings.push((id, a.case.as_str().to_owned(), r.clone(), now));
        }
        let payload = json!({
            "attempt": id,
            "at": daylight_ledger::canonical_time(a.at),
            "channel": a.channel.as_str(),
            "recipient": a.recipient.as_str(),
            "contact_point": a.contact_point.as_ref().map(ContactId::as_str),
            "account": a.account.as_ref().map(AccountId::as_str),
            "agent": a.agent.code(),
            "outcome": a.outcome.as_str(),
            "duration_secs": a.duration_secs,
            "note_sha256": a.note.as_deref().map(|n| digest(n.trim())),
            "started": started,
            "recording": recording.map(|r| json!({ "sha256": r.sha256, "bytes": r.bytes, "millis": r.millis })),
        });
        chain
            .append(tx, &Event::new(now, actor, EventKind::AttemptRecorded, a.case.as_str(), &payload))
            .await?;
        if a.outcome == Outcome::CeaseRequest {
            let customer = case_customer(tx, &a.case).await?;
            let mut flags = read_flags(tx, &customer).await?;
            if !flags.cease {
                flags.cease = true;
                write_flags(tx, chain, &customer, &flags, actor, now).await?;
            }
        }
        if self.attempts.len() >= Self::ROWS_PER_INSERT {
            self.flush(tx).await?;
        }
        Ok(id)
    }

    /// Writes what is queued: the attempts, then their notes, then the statuses in order.
    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        for part in self.attempts.chunks(Self::ROWS_PER_INSERT) {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "INSERT INTO attempts (id, case_id, account_id, at, channel, recipient, contact_point_id, agent, \
                 outcome, duration_secs, recorded_by, recorded_at){OVERRIDING_ID} "
            ));
            qb.push_values(part, |mut b, (id, a, actor, now)| {
                b.push_bind(*id)
                    .push_bind(a.case.as_str().to_owned())
                    .push_bind(a.account.as_ref().map(|x| x.as_str().to_owned()))
                    .push_bind(DbTime::new(a.at))
                    .push_bind(a.channel.as_str())
                    .push_bind(a.recipient.as_str())
                    .push_bind(a.contact_point.as_ref().map(|x| x.as_str().to_owned()))
                    .push_bind(a.agent.code())
                    .push_bind(a.outcome.as_str())
                    .push_bind(i64::from(a.duration_secs))
                    .push_bind(actor.clone())
                    .push_bind(DbTime::new(*now));
            });
            qb.build().execute(&mut **tx).await?;
        }
        self.attempts.clear();
        for part in self.notes.chunks(Self::ROWS_PER_INSERT) {
            let mut qb =
                QueryBuilder::<Db>::new("INSERT INTO notes (case_id, attempt_id, author, at, text) ");
            qb.push_values(part, |mut b, (id, case, actor, now, text)| {
                b.push_bind(case.clone())
                    .push_bind(*id)
                    .push_bind(actor.clone())
                    .push_bind(DbTime::new(*now))
                    .push_bind(text.clone());
            });
            qb.build().execute(&mut **tx).await?;
        }
        self.notes.clear();
        for (id, case, r, now) in std::mem::take(&mut self.recordings) {
            sqlx::query(
                "INSERT INTO recordings (attempt_id, case_id, path, sha256, bytes, millis, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(case)
            .bind(r.path)
            .bind(r.sha256)
            .bind(i64::try_from(r.bytes).unwrap_or(i64::MAX))
            .bind(i64::try_from(r.millis).unwrap_or(i64::MAX))
            .bind(DbTime::new(now))
            .execute(&mut **tx)
            .await?;
        }
        let statuses = std::mem::take(&mut self.statuses);
        let mut run: Vec<&(ContactStatus, Timestamp, Timestamp, String, bool)> = Vec::new();
        for s in &statuses {
            if s.4 {
                set_point_statuses(tx, &mut run).await?;
                // One statement: the number's records by the (kind, value_bidx) index.
                sqlx::query(
                    "UPDATE contact_points SET status = $1, status_at = $2, updated_at = $3 \
                     WHERE kind = 'phone' AND value_bidx = (SELECT value_bidx FROM contact_points WHERE id = $4 AND kind = 'phone')",
                )
                .bind(s.0.as_str())
                .bind(DbTime::new(s.1))
                .bind(DbTime::new(s.2))
                .bind(s.3.as_str())
                .execute(&mut **tx)
                .await?;
            } else {
                run.push(s);
            }
        }
        set_point_statuses(tx, &mut run).await
    }
}

/// Sets each contact point's status as the last of `run` for it says, in one statement per
/// [`AttemptRows::ROWS_PER_INSERT`] points; empties `run`.
async fn set_point_statuses(
    tx: &mut Tx,
    run: &mut Vec<&(ContactStatus, Timestamp, Timestamp, String, bool)>,
) -> Result<()> {
    // The last status of each point wins, as one statement after another would leave it.
    let mut last: Vec<&(ContactStatus, Timestamp, Timestamp, String, bool)> = Vec::with_capacity(run.len());
    let mut seen = HashSet::with_capacity(run.len());
    for s in run.iter().rev() {
        if seen.insert(s.3.as_str()) {
            last.push(s);
        }
    }
    run.clear();
    for part in last.chunks(AttemptRows::ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Db>::new("WITH v (id, status, status_at, updated_at) AS (");
        qb.push_values(part, |mut b, s| {
            b.push_bind(s.3.clone())
                .push_bind(s.0.as_str())
                .push_bind(DbTime::new(s.1))
                .push_bind(DbTime::new(s.2));
        });
        qb.push(
            ") UPDATE contact_points SET status = v.status, status_at = v.status_at, updated_at = v.updated_at \
             FROM v WHERE contact_points.id = v.id",
        );
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert_note(
    write: &DbPool,
    case: &CaseId,
    note: &str,
    attempt: Option<i64>,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    required("actor", actor)?;
    let note = daylight_domain::case::check_note(note)?;
    let mut tx = begin_write(write).await?;
    case_customer(&mut tx, case).await?;
    if let Some(att) = attempt {
        attempt_of(&mut tx, att, case).await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notes (case_id, attempt_id, author, at, text) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(case.as_str())
    .bind(attempt)
    .bind(actor)
    .bind(DbTime::new(now))
    .bind(note)
    .fetch_one(&mut *tx)
    .await?;
    let payload =
        json!({"note": id, "attempt": attempt, "note_sha256": digest(note), "chars": note.chars().count()});
    append(&mut tx, &Event::new(now, actor, EventKind::NoteAdded, case.as_str(), &payload)).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_promise(write: &DbPool, p: &NewPromise, actor: &str, now: Timestamp) -> Result<i64> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let id = insert_promise_in(&mut tx, p, actor, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// A batch of promise changes in one transaction, each as its single form makes it, in order.
async fn promise_batch(write: &DbPool, ops: &[PromiseOp], actor: &str) -> Result<Vec<Option<i64>>> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let mut out = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let done = match op {
            PromiseOp::Create { promise, at } => {
                insert_promise_in(&mut tx, promise, actor, *at).await.map(Some)
            }
            PromiseOp::Change { id, change, at } => {
                edit_promise_in(&mut tx, *id, change, actor, *at).await.map(|()| None)
            }
            PromiseOp::Settle { id, status, at } => {
                settle_promise_in(&mut tx, *id, *status, actor, *at).await.map(|()| None)
            }
        };
        out.push(done.map_err(|e| match e {
            StoreError::Invalid(v) => {
                Invalid::new(v.code, format!("change {} of the batch: {}", i + 1, v.message)).into()
            }
            e => e,
        })?);
    }
    tx.commit().await?;
    Ok(out)
}

async fn insert_promise_in(tx: &mut Tx, p: &NewPromise, actor: &str, now: Timestamp) -> Result<i64> {
    let money = pack_in_force(tx).await?.money.clone();
    money.check_promise(p.amount, p.due_at, now)?;
    let customer = open_case_customer(tx, &p.case).await?;
    let owed = promise_room(tx, p, &customer).await?;
    let pending = pending_promises(tx, p, 0).await?;
    agreement::check_promise_bounds(
        p.amount,
        Money::new(owed, p.amount.currency),
        pending,
        money.pending_promises_per_account,
    )?;
    if let Some(att) = p.attempt {
        attempt_of(tx, att, &p.case).await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO promises (case_id, account_id, attempt_id, amount, currency, due_at, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(p.case.as_str())
    .bind(p.account.as_ref().map(AccountId::as_str))
    .bind(p.attempt)
    .bind(p.amount.minor)
    .bind(p.amount.currency.code())
    .bind(DbTime::new(p.due_at))
    .bind(PromiseStatus::Pending.as_str())
    .bind(actor)
    .bind(DbTime::new(now))
    .fetch_one(&mut **tx)
    .await?;
    let payload = json!({
        "promise": id,
        "amount": p.amount.decimal(),
        "currency": p.amount.currency.code(),
        "due_at": daylight_ledger::canonical_time(p.due_at),
        "remind_at": daylight_ledger::canonical_time(agreement::promise_reminder_at(p.due_at)),
        "account": p.account.as_ref().map(AccountId::as_str),
        "attempt": p.attempt,
    });
    append(tx, &Event::new(now, actor, EventKind::PromiseCreated, p.case.as_str(), &payload)).await?;
    Ok(id)
}

/// What a promise may be at most: what its account owes now, or the case for one that names
/// none (see [`OWED`]), in fen; the account must be the debtor's and in the promise's currency.
async fn promise_room(tx: &mut Tx, p: &NewPromise, customer: &str) -> Result<i64> {
    match &p.account {
        Some(acc) => {
            let account = account_of(tx, acc, customer).await?;
            if account.currency != p.amount.currency {
                return Err(Invalid::new(
                    Code::CurrencyMismatch,
                    format!("account {acc} is in {}", account.currency),
                )
                .into());
            }
            account_owed(tx, acc).await
        }
        None => case_owed(tx, &p.case).await,
    }
}

/// Pending promises on the same account as `p` (or on the case, for one that names none),
/// other than `except`.
async fn pending_promises(tx: &mut Tx, p: &NewPromise, except: i64) -> Result<u32> {
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM promises WHERE case_id = $1 AND status = $2 AND id <> $4 \
         AND ($3 IS NULL OR account_id IS NULL OR account_id = $3)",
    )
    .bind(p.case.as_str())
    .bind(PromiseStatus::Pending.as_str())
    .bind(p.account.as_ref().map(AccountId::as_str))
    .bind(except)
    .fetch_one(&mut **tx)
    .await?;
    Ok(u32::try_from(pending).unwrap_or(u32::MAX))
}

/// Amends or cancels a pending promise with a reason: the bounds of a new promise apply to the
/// new terms (counted without the promise itself), the earlier terms and the reason go to
/// `promise_changes`, and a `promise.changed` event records it.
async fn edit_promise(
    write: &DbPool,
    id: i64,
    change: &PromiseChange,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let mut tx = begin_write(write).await?;
    edit_promise_in(&mut tx, id, change, actor, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn edit_promise_in(
    tx: &mut Tx,
    id: i64,
    change: &PromiseChange,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    required("a reason", &change.reason)?;
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT case_id, account_id, amount, currency, due_at, status FROM promises WHERE id = $1{FOR_UPDATE}"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found("promise", id.to_string()))?;
    let case = self::id(&row, "case_id", CaseId::parse)?;
    let currency: Currency = word(&row, "currency")?;
    let old_amount = money(&row, "amount", currency)?;
    let old_due = time(&row, "due_at")?;
    let status: PromiseStatus = word(&row, "status")?;
    let customer = open_case_customer(tx, &case).await?;
    let (kind, new_terms) = match change.edit {
        PromiseEdit::Cancel => {
            status.become_(PromiseStatus::Cancelled)?;
            sqlx::query("UPDATE promises SET status = $1, settled_by = $2, settled_at = $3 WHERE id = $4")
                .bind(PromiseStatus::Cancelled.as_str())
                .bind(actor)
                .bind(DbTime::new(now))
                .bind(id)
                .execute(&mut **tx)
                .await?;
            ("cancelled", None)
        }
        PromiseEdit::Amend { amount, due_at } => {
            if status != PromiseStatus::Pending {
                return Err(
                    Invalid::new(Code::Transition, format!("a {status} promise cannot be changed")).into()
                );
            }
            if amount.currency != currency {
                return Err(
                    Invalid::new(Code::CurrencyMismatch, format!("the promise is in {currency}")).into()
                );
            }
            let money = pack_in_force(tx).await?.money.clone();
            money.check_promise(amount, due_at, now)?;
            let p = NewPromise {
                case: case.clone(),
                account: opt_id(&row, "account_id", AccountId::parse)?,
                attempt: None,
                amount,
                due_at,
            };
            let owed = promise_room(tx, &p, &customer).await?;
            let pending = pending_promises(tx, &p, id).await?;
            agreement::check_promise_bounds(
                amount,
                Money::new(owed, currency),
                pending,
                money.pending_promises_per_account,
            )?;
            sqlx::query("UPDATE promises SET amount = $1, due_at = $2 WHERE id = $3")
                .bind(amount.minor)
                .bind(DbTime::new(due_at))
                .bind(id)
                .execute(&mut **tx)
                .await?;
            // A reminder made for the old due time is for the old terms: the sweep makes one
            // for the new.
            sqlx::query(
                "DELETE FROM tasks WHERE promise_id = $1 AND kind = 'promise_reminder' AND status = 'open'",
            )
            .bind(id)
            .execute(&mut **tx)
            .await?;
            ("amended", Some((amount, due_at)))
        }
    };
    sqlx::query(
        "INSERT INTO promise_changes (promise_id, kind, old_amount, old_due_at, new_amount, new_due_at, reason, changed_by, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(kind)
    .bind(old_amount.minor)
    .bind(DbTime::new(old_due))
    .bind(new_terms.map(|(a, _)| a.minor))
    .bind(new_terms.map(|(_, d)| DbTime::new(d)))
    .bind(change.reason.trim())
    .bind(actor)
    .bind(DbTime::new(now))
    .execute(&mut **tx)
    .await?;
    let payload = json!({
        "promise": id,
        "change": kind,
        "from": {"amount": old_amount.decimal(), "due_at": daylight_ledger::canonical_time(old_due)},
        "to": new_terms.map(|(a, d)| json!({"amount": a.decimal(), "due_at": daylight_ledger::canonical_time(d)})),
        "reason_sha256": digest(change.reason.trim()),
    });
    append(tx, &Event::new(now, actor, EventKind::PromiseChanged, case.as_str(), &payload)).await?;
    Ok(())
}

/// A status change of a promise, plan or waiver: where it is stored and what event it makes.
struct RecordChange {
    table: &'static str,
    /// The record's name in messages and in the payload (`promise`, …).
    what: &'static str,
    /// Columns that record who made the change and when.
    by: &'static str,
    at: &'static str,
    /// The column naming who asked for the record, when a second person must decide.
    requester: Option<&'static str>,
    kind: EventKind,
}

/// A further condition a status change must meet, checked in its transaction.
type Check = dyn for<'t> Fn(&'t mut Tx, i64) -> futures::future::BoxFuture<'t, Result<()>> + Sync;

/// Loads the record's status (and requester), lets `next` apply the domain's lifecycle (and
/// four-eyes rule), runs `check`, stores the new status with who and when, and appends the
/// event.
async fn change_status<S>(
    write: &DbPool,
    change: &RecordChange,
    id: i64,
    actor: &str,
    now: Timestamp,
    next: impl FnOnce(S, Option<&str>) -> Result<S, Invalid>,
    check: Option<&Check>,
) -> Result<()>
where
    S: FromStr<Err = Invalid> + Copy + std::fmt::Display,
{
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    change_status_in(&mut tx, change, id, actor, now, next, check).await?;
    tx.commit().await?;
    Ok(())
}

/// [`change_status`] inside a transaction.
async fn change_status_in<S>(
    tx: &mut Tx,
    change: &RecordChange,
    id: i64,
    actor: &str,
    now: Timestamp,
    next: impl FnOnce(S, Option<&str>) -> Result<S, Invalid>,
    check: Option<&Check>,
) -> Result<()>
where
    S: FromStr<Err = Invalid> + Copy + std::fmt::Display,
{
    let requester = change.requester.map_or(String::new(), |c| format!(", {c} AS requester"));
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT case_id, status{requester} FROM {} WHERE id = $1{FOR_UPDATE}",
        change.table
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found(change.what, id.to_string()))?;
    let current: S = word(&row, "status")?;
    let asker = match change.requester {
        Some(_) => Some(text(&row, "requester")?),
        None => None,
    };
    let to = next(current, asker.as_deref())?;
    if let Some(check) = check {
        check(tx, id).await?;
    }
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE {} SET status = $1, {} = $2, {} = $3 WHERE id = $4",
        change.table, change.by, change.at
    )))
    .bind(to.to_string())
    .bind(actor)
    .bind(DbTime::new(now))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let payload = json!({change.what: id, "from": current.to_string(), "to": to.to_string()});
    append(tx, &Event::new(now, actor, change.kind, text(&row, "case_id")?, &payload)).await?;
    Ok(())
}

async fn update_promise(
    write: &DbPool,
    id: i64,
    status: PromiseStatus,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    settle_promise_in(&mut tx, id, status, actor, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn settle_promise_in(
    tx: &mut Tx,
    id: i64,
    status: PromiseStatus,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let change = RecordChange {
        table: "promises",
        what: "promise",
        by: "settled_by",
        at: "settled_at",
        requester: None,
        kind: EventKind::PromiseSettled,
    };
    if status == PromiseStatus::Cancelled {
        return Err(Invalid::new(
            Code::Required,
            "cancelling a promise takes a reason: cancel it as a change of the promise",
        )
        .into());
    }
    change_status_in(tx, &change, id, actor, now, |current: PromiseStatus, _| current.become_(status), None)
        .await
}

async fn insert_arrangement(write: &DbPool, a: &NewArrangement, actor: &str, now: Timestamp) -> Result<i64> {
    required("actor", actor)?;
    let schedule = a.terms.schedule()?;
    let mut tx = begin_write(write).await?;
    let customer = open_case_customer(&mut tx, &a.case).await?;
    let money = pack_in_force(&mut tx).await?.money.clone();
    let (owed, currency, adjust_account) = plan_owed(&mut tx, &a.case, a.account.as_ref(), &customer).await?;
    let zone: String = sqlx::query_scalar("SELECT time_zone FROM customers WHERE id = $1")
        .bind(&customer)
        .fetch_one(&mut *tx)
        .await?;
    let today = now.to_zoned(TimeZone::get(&zone).unwrap_or(TimeZone::UTC)).date();
    money.check_plan(&a.terms, Money::new(owed, currency), today)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO arrangements (case_id, account_id, total, currency, instalments, monthly_fee_bp, first_due, \
         status, proposed_by, proposed_at, adjust_account) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(a.case.as_str())
    .bind(a.account.as_ref().map(AccountId::as_str))
    .bind(a.terms.total.minor)
    .bind(a.terms.total.currency.code())
    .bind(i64::from(a.terms.instalments))
    .bind(i64::from(a.terms.monthly_fee_bp))
    .bind(a.terms.first_due.to_sqlx())
    .bind(ArrangementStatus::Proposed.as_str())
    .bind(actor)
    .bind(DbTime::new(now))
    .bind(adjust_account.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let mut qb = QueryBuilder::<Db>::new(
        "INSERT INTO arrangement_instalments (arrangement_id, number, due_date, principal, fee) ",
    );
    qb.push_values(&schedule, |mut b, i| {
        b.push_bind(id)
            .push_bind(i64::from(i.number))
            .push_bind(i.due.to_sqlx())
            .push_bind(i.principal.minor)
            .push_bind(i.fee.minor);
    });
    qb.build().execute(&mut *tx).await?;
    let fees = a.terms.total_fees()?;
    let payload = json!({
        "arrangement": id,
        "total": a.terms.total.decimal(),
        "currency": a.terms.total.currency.code(),
        "instalments": a.terms.instalments,
        "monthly_fee_bp": a.terms.monthly_fee_bp,
        "total_fees": fees.decimal(),
        "first_due": a.terms.first_due.to_string(),
        "account": a.account.as_ref().map(AccountId::as_str),
    });
    append(&mut tx, &Event::new(now, actor, EventKind::ArrangementProposed, a.case.as_str(), &payload))
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// What a plan must repay: what `account` owes now, or the whole case for a plan that names
/// none (see [`OWED`]), in the account's currency (the case's accounts must share one); and
/// the account its declared fees adjust (the one named, or the case's account owing most).
async fn plan_owed(
    tx: &mut Tx,
    case: &CaseId,
    account: Option<&AccountId>,
    customer: &str,
) -> Result<(i64, Currency, AccountId)> {
    if let Some(acc) = account {
        let a = account_of(tx, acc, customer).await?;
        return Ok((account_owed(tx, acc).await?, a.currency, acc.clone()));
    }
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT a.id, a.currency, (SELECT COUNT(DISTINCT b.currency) FROM accounts b WHERE b.customer_id = a.customer_id) AS currencies \
         FROM accounts a WHERE a.customer_id = $1 ORDER BY {OWED} DESC, a.id LIMIT 1"
    )))
    .bind(customer)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| Invalid::new(Code::Arrangement, format!("case {case} has no account to repay")))?;
    if int(&row, "currencies")? > 1 {
        return Err(Invalid::new(
            Code::CurrencyMismatch,
            format!("case {case} has accounts in several currencies: name the account the plan repays"),
        )
        .into());
    }
    Ok((case_owed(tx, case).await?, word(&row, "currency")?, id(&row, "id", AccountId::parse)?))
}

/// At approval a plan must still repay exactly what is owed (a payment or an accounts file may
/// have come in since it was proposed), and it becomes an adjustment of its account's figures
/// until the bank's next accounts file restates them.
fn approve_plan(tx: &mut Tx, plan: i64) -> futures::future::BoxFuture<'_, Result<()>> {
    Box::pin(async move {
        let row = sqlx::query(
            "SELECT r.case_id, r.account_id, r.total, r.currency, c.customer_id FROM arrangements r \
             JOIN cases c ON c.id = r.case_id WHERE r.id = $1",
        )
        .bind(plan)
        .fetch_one(&mut **tx)
        .await?;
        let case = id(&row, "case_id", CaseId::parse)?;
        let account = opt_id(&row, "account_id", AccountId::parse)?;
        let customer = text(&row, "customer_id")?;
        let currency: Currency = word(&row, "currency")?;
        let total = money(&row, "total", currency)?;
        let (owed, _, _) = plan_owed(tx, &case, account.as_ref(), &customer).await?;
        if owed != total.minor {
            return Err(Invalid::new(
                Code::PlanTotal,
                format!(
                    "what is owed is now {} (a payment or the bank's figures came in since the plan was proposed); the plan repays {}: propose it again",
                    Money::new(owed, currency).decimal(),
                    total.decimal()
                ),
            )
            .into());
        }
        sqlx::query(
            "UPDATE arrangements SET figures_batch = (SELECT a.batch_id FROM accounts a WHERE a.id = arrangements.adjust_account) \
             WHERE id = $1",
        )
        .bind(plan)
        .execute(&mut **tx)
        .await?;
        Ok(())
    })
}

async fn update_arrangement(
    write: &DbPool,
    id: i64,
    status: ArrangementStatus,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let change = RecordChange {
        table: "arrangements",
        what: "arrangement",
        by: "decided_by",
        at: "decided_at",
        requester: Some("proposed_by"),
        kind: EventKind::ArrangementDecided,
    };
    change_status(
        write,
        &change,
        id,
        actor,
        now,
        |current: ArrangementStatus, proposer| {
            if matches!(status, ArrangementStatus::Approved | ArrangementStatus::Rejected) {
                agreement::check_approver(proposer.unwrap_or_default(), actor)?;
            }
            current.become_(status)
        },
        (status == ArrangementStatus::Approved).then_some(&approve_plan as &Check),
    )
    .await
}

async fn insert_waiver(write: &DbPool, w: &NewWaiver, actor: &str, now: Timestamp) -> Result<i64> {
    required("actor", actor)?;
    required("a reason", &w.reason)?;
    let mut tx = begin_write(write).await?;
    let customer = open_case_customer(&mut tx, &w.case).await?;
    let account = account_of(&mut tx, &w.account, &customer).await?;
    let committed = committed_waivers(&mut tx, &account, w.component, 0).await?;
    agreement::check_waiver(w.component, w.amount, account.overdue.component(w.component), committed)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO waivers (case_id, account_id, component, amount, currency, reason, status, requested_by, requested_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(w.case.as_str())
    .bind(w.account.as_str())
    .bind(w.component.as_str())
    .bind(w.amount.minor)
    .bind(w.amount.currency.code())
    .bind(w.reason.trim())
    .bind(WaiverStatus::Requested.as_str())
    .bind(actor)
    .bind(DbTime::new(now))
    .fetch_one(&mut *tx)
    .await?;
    let payload = json!({
        "waiver": id,
        "account": w.account.as_str(),
        "component": w.component.as_str(),
        "amount": w.amount.decimal(),
        "currency": w.amount.currency.code(),
        "reason_sha256": digest(w.reason.trim()),
    });
    append(&mut tx, &Event::new(now, actor, EventKind::WaiverRequested, w.case.as_str(), &payload)).await?;
    tx.commit().await?;
    Ok(id)
}

/// A waiver's decision. A rejection: anyone but the requester. An approval: someone other
/// than the requester (and than its first approver), whose role the money policy's approval
/// matrix allows the amount and share of the overdue part; above the policy's threshold the
/// first such approval is recorded and the waiver waits for a second. The approver's role is
/// read here, in the transaction, never taken from the caller. An approved waiver adjusts its
/// account's figures until the next accounts file restates them.
async fn update_waiver(
    write: &DbPool,
    id: i64,
    approve: bool,
    actor: &str,
    now: Timestamp,
) -> Result<WaiverVerdict> {
    if !approve {
        let check: Option<&Check> = None;
        decide_request(write, "waivers", "waiver", EventKind::WaiverDecided, id, false, actor, now, check)
            .await?;
        return Ok(WaiverVerdict::Approved);
    }
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT case_id, status, requested_by, first_approved_by FROM waivers WHERE id = $1{FOR_UPDATE}"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| StoreError::not_found("waiver", id.to_string()))?;
    let case = text(&row, "case_id")?;
    let current: WaiverStatus = word(&row, "status")?;
    current.become_(WaiverStatus::Approved)?;
    agreement::check_approver(&text(&row, "requested_by")?, actor)?;
    let first = opt_text(&row, "first_approved_by")?;
    if first.as_deref() == Some(actor) {
        return Err(Invalid::new(
            Code::SelfApproval,
            format!("{actor} has already approved this waiver; the second approver must be someone else"),
        )
        .into());
    }
    let (amount, part) = recheck_waiver(&mut tx, id).await?;
    let role: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE login = $1 AND NOT disabled")
        .bind(actor)
        .fetch_optional(&mut *tx)
        .await?;
    let role = role.ok_or_else(|| {
        Invalid::new(
            Code::WaiverAuthority,
            format!("{actor} is not an enabled user: only users approve waivers"),
        )
    })?;
    let verdict = pack_in_force(&mut tx).await?.money.judge_waiver(&role, amount, part, first.is_some())?;
    let payload = match verdict {
        WaiverVerdict::NeedsSecond => {
            sqlx::query("UPDATE waivers SET first_approved_by = $1, first_approved_at = $2 WHERE id = $3")
                .bind(actor)
                .bind(DbTime::new(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            json!({"waiver": id, "from": "requested", "to": "requested", "approval": 1, "role": role})
        }
        WaiverVerdict::Approved => {
            sqlx::query(
                "UPDATE waivers SET status = $1, decided_by = $2, decided_at = $3, \
                 figures_batch = (SELECT a.batch_id FROM accounts a WHERE a.id = waivers.account_id) WHERE id = $4",
            )
            .bind(WaiverStatus::Approved.as_str())
            .bind(actor)
            .bind(DbTime::new(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            json!({"waiver": id, "from": "requested", "to": "approved", "approval": if first.is_some() { 2 } else { 1 }, "role": role})
        }
    };
    append(&mut tx, &Event::new(now, actor, EventKind::WaiverDecided, &case, &payload)).await?;
    tx.commit().await?;
    Ok(verdict)
}

/// Approves or rejects a request that someone else must decide (a waiver, a third-party
/// contact): `requested` → `approved` or `rejected`, by someone other than `requested_by`,
/// with `check` run before an approval is stored.
#[allow(clippy::too_many_arguments)]
async fn decide_request(
    write: &DbPool,
    table: &'static str,
    what: &'static str,
    kind: EventKind,
    id: i64,
    approve: bool,
    actor: &str,
    now: Timestamp,
    check: Option<&Check>,
) -> Result<()> {
    let change = RecordChange {
        table,
        what,
        by: "decided_by",
        at: "decided_at",
        requester: Some("requested_by"),
        kind,
    };
    let next = if approve { WaiverStatus::Approved } else { WaiverStatus::Rejected };
    let lifecycle = |current: WaiverStatus, requester: Option<&str>| {
        let next = current.become_(next)?;
        agreement::check_approver(requester.unwrap_or_default(), actor)?;
        Ok(next)
    };
    change_status(write, &change, id, actor, now, lifecycle, check).await
}

/// At approval, the waiver must still fit: the account may have been re-imported, or other
/// waivers approved, since it was requested. Returns the waiver's amount and the overdue part
/// it reduces, as the account (read `FOR UPDATE`) now states it.
async fn recheck_waiver(tx: &mut Tx, waiver: i64) -> Result<(Money, Money)> {
    let row = sqlx::query("SELECT account_id, component, amount FROM waivers WHERE id = $1")
        .bind(waiver)
        .fetch_one(&mut **tx)
        .await?;
    let account_id = id(&row, "account_id", AccountId::parse)?;
    let component: Component = word(&row, "component")?;
    let amount = int(&row, "amount")?;
    let row = sqlx::query(AssertSqlSafe(format!("SELECT * FROM accounts WHERE id = $1{FOR_UPDATE}")))
        .bind(account_id.as_str())
        .fetch_one(&mut **tx)
        .await?;
    let account = account_from_row(&row)?;
    let amount = Money::new(amount, account.currency);
    let part = account.overdue.component(component);
    let committed = committed_waivers(tx, &account, component, waiver).await?;
    agreement::check_waiver(component, amount, part, committed)?;
    Ok((amount, part))
}

async fn reveal_field(
    write: &DbPool,
    ring: &Keyring,
    customer: &CustomerId,
    field: &PiiField,
    purpose: &str,
    actor: &str,
    now: Timestamp,
) -> Result<String> {
    required("actor", actor)?;
    required("a purpose", purpose)?;
    let mut tx = begin_write(write).await?;
    let row = sqlx::query("SELECT name, resident_id, address, employer FROM customers WHERE id = $1")
        .bind(customer.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("customer", customer.as_str()))?;
    let value = match field {
        PiiField::Name => ring.open("customers.name", &text(&row, "name")?)?,
        PiiField::ResidentId => ring.open("customers.resident_id", &text(&row, "resident_id")?)?,
        PiiField::Address => {
            ring.open_opt("customers.address", opt_text(&row, "address")?)?.unwrap_or_default()
        }
        PiiField::Employer => {
            ring.open_opt("customers.employer", opt_text(&row, "employer")?)?.unwrap_or_default()
        }
        PiiField::Transcript(attempt) => ring.open(
            "qc_calls.transcript",
            &sqlx::query_scalar::<_, String>(
                "SELECT q.transcript FROM qc_calls q JOIN cases c ON c.id = q.case_id \
             WHERE q.attempt_id = $1 AND c.customer_id = $2",
            )
            .bind(attempt)
            .bind(customer.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("transcript", attempt.to_string()))?,
        )?,
        PiiField::Contact(cp) => {
            let row = sqlx::query("SELECT value FROM contact_points WHERE id = $1 AND customer_id = $2")
                .bind(cp.as_str())
                .bind(customer.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found("contact point", cp.as_str()))?;
            ring.open("contact_points.value", &text(&row, "value")?)?
        }
    };
    let payload = json!({"customer": customer.as_str(), "field": field.label(), "purpose": purpose.trim()});
    append(&mut tx, &Event::new(now, actor, EventKind::PiiViewed, customer.as_str(), &payload)).await?;
    tx.commit().await?;
    Ok(value)
}

#[async_trait]
impl CaseStore for Adapter {
    async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>> {
        read_case_list(&self.read, &*self.keyring().await?, filter).await
    }

    async fn count_cases(&self, filter: &CaseFilter) -> Result<u64> {
        count_case_list(&self.read, &*self.keyring().await?, filter).await
    }

    async fn promises_due(&self, scope: &Scope, until: Timestamp) -> Result<Vec<(CaseId, Timestamp)>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT p.case_id, MIN(p.due_at) AS due_at FROM promises p JOIN cases c ON c.id = p.case_id \
             WHERE p.status = 'pending' AND c.status = 'open' AND p.due_at < ",
        );
        qb.push_bind(DbTime::new(until));
        push_scope(&mut qb, scope);
        qb.push(" GROUP BY p.case_id");
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(|r| Ok((id(r, "case_id", CaseId::parse)?, time(r, "due_at")?))).collect()
    }

    async fn case_detail_in(&self, scope: &Scope, id: &CaseId) -> Result<CaseDetail> {
        read_case_detail(&self.read, &*self.keyring().await?, scope, id).await
    }

    async fn set_cases_status(
        &self,
        scope: &Scope,
        cases: &[CaseId],
        change: &StatusChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        change_cases_status(&self.write, scope, cases, change, actor, now).await
    }

    async fn case_in_scope(&self, scope: &Scope, id: &CaseId) -> Result<()> {
        read_case_in_scope(&self.read, scope, id).await
    }

    async fn set_case_status(
        &self,
        id: &CaseId,
        change: &StatusChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        change_case_status(&self.write, id, change, actor, now).await
    }

    async fn assign_case(&self, id: &CaseId, to: &Assignment, actor: &str, now: Timestamp) -> Result<()> {
        change_assignment(&self.write, id, to, actor, now).await
    }

    async fn contact_flags(&self, customer: &CustomerId) -> Result<ContactFlags> {
        let mut tx = self.read.begin().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM customers WHERE id = $1")
            .bind(customer.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::not_found("customer", customer.as_str()));
        }
        let flags = read_flags(&mut tx, customer.as_str()).await?;
        tx.rollback().await?;
        Ok(flags)
    }

    async fn set_contact_flags(
        &self,
        customer: &CustomerId,
        flags: &ContactFlags,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        required("actor", actor)?;
        let mut tx = begin_write(&self.write).await?;
        let exists: Option<String> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT id FROM customers WHERE id = $1{FOR_UPDATE}")))
                .bind(customer.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::not_found("customer", customer.as_str()));
        }
        let mut chain = Chain::default();
        write_flags(&mut tx, &mut chain, customer.as_str(), flags, actor, now).await?;
        chain.close(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tag_debtor(
        &self,
        customer: &CustomerId,
        tag: &str,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        write_debtor_tag(&self.write, customer, tag, note, actor, now).await
    }

    async fn add_note(
        &self,
        case: &CaseId,
        text: &str,
        attempt: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        insert_note(&self.write, case, text, attempt, actor, now).await
    }
}
