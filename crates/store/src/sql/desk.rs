// Shared by both adapters (see common.rs). This part: the console's queues (tasks, third-party
// confirmations, waivers), complaints, the promise sweep and the team lead's figures.

use crate::desk::{
    Audience, Complaint, ComplaintSource, KpiCounts, KpiDay, KpiDimension, Kpis, NewComplaint, NewNumber,
    NewThirdPartyRequest, NumberProposal, Sweep, Task, TaskClose, TaskKind, TaskOutcome, TaskStatus,
    ThirdPartyRequest,
};
use daylight_domain::bucket::Bucket;

/// Quoted words of the outcomes `keep` holds, for an `IN (…)` list (fixed words, safe in SQL).
fn outcome_words(keep: impl Fn(Outcome) -> bool) -> String {
    let words: Vec<String> =
        Outcome::ALL.iter().filter(|o| keep(**o)).map(|o| format!("'{}'", o.as_str())).collect();
    words.join(", ")
}

/// `CASE col WHEN 'M0' THEN 0 … END`: a bucket's rank (fixed labels, safe in SQL).
fn bucket_rank(column: &str) -> String {
    let mut sql = format!("CASE {column}");
    for (i, b) in Bucket::ALL.iter().enumerate() {
        sql.push_str(&format!(" WHEN '{}' THEN {i}", b.label()));
    }
    sql.push_str(" ELSE -1 END");
    sql
}

fn task_from_row(r: &DbRow) -> Result<Task> {
    Ok(Task {
        id: int(r, "id")?,
        case: id(r, "case_id", CaseId::parse)?,
        kind: word(r, "kind")?,
        audience: word(r, "audience")?,
        promise: r.try_get::<Option<i64>, _>("promise_id")?,
        attempt: r.try_get::<Option<i64>, _>("attempt_id")?,
        note: opt_text(r, "note")?,
        due_at: time(r, "due_at")?,
        status: word(r, "status")?,
        created_at: time(r, "created_at")?,
        done_by: opt_text(r, "done_by")?,
        done_at: opt_time(r, "done_at")?,
        outcome: opt_word(r, "outcome")?,
        outcome_note: opt_text(r, "outcome_note")?,
        follows: r.try_get::<Option<i64>, _>("follows")?,
    })
}

fn third_party_from_row(r: &DbRow) -> Result<ThirdPartyRequest> {
    Ok(ThirdPartyRequest {
        id: int(r, "id")?,
        request: NewThirdPartyRequest {
            case: id(r, "case_id", CaseId::parse)?,
            contact_point: id(r, "contact_point_id", ContactId::parse)?,
            reason: text(r, "reason")?,
        },
        status: word(r, "status")?,
        requested_by: text(r, "requested_by")?,
        requested_at: time(r, "requested_at")?,
        decided_by: opt_text(r, "decided_by")?,
        decided_at: opt_time(r, "decided_at")?,
        valid_until: opt_time(r, "decided_at")?
            .filter(|_| r.try_get::<String, _>("status").is_ok_and(|s| s == WaiverStatus::Approved.as_str()))
            .and_then(|d| d.checked_add(ThirdPartyRequest::VALID_FOR).ok()),
    })
}

fn complaint_from_row(r: &DbRow) -> Result<Complaint> {
    Ok(Complaint {
        id: int(r, "id")?,
        complaint: NewComplaint {
            case: id(r, "case_id", CaseId::parse)?,
            attempt: r.try_get::<Option<i64>, _>("attempt_id")?,
            source: word::<ComplaintSource>(r, "source")?,
            text: text(r, "text")?,
        },
        registered_by: text(r, "registered_by")?,
        registered_at: time(r, "registered_at")?,
    })
}

async fn insert_third_party_request(
    write: &DbPool,
    r: &NewThirdPartyRequest,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    required("actor", actor)?;
    required("a reason", &r.reason)?;
    let mut tx = begin_write(write).await?;
    let customer = case_customer(&mut tx, &r.case).await?;
    let point = sqlx::query("SELECT customer_id, role FROM contact_points WHERE id = $1")
        .bind(r.contact_point.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("contact point", r.contact_point.as_str()))?;
    if text(&point, "customer_id")? != customer {
        return Err(Invalid::new(
            Code::Inconsistent,
            format!("contact point {} is not one of the case's", r.contact_point),
        )
        .into());
    }
    if text(&point, "role")? == "debtor" {
        return Err(Invalid::new(
            Code::Inconsistent,
            format!("contact point {} is the debtor's own: no confirmation is needed", r.contact_point),
        )
        .into());
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO third_party_requests (case_id, contact_point_id, reason, status, requested_by, requested_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(r.case.as_str())
    .bind(r.contact_point.as_str())
    .bind(r.reason.trim())
    .bind(WaiverStatus::Requested.as_str())
    .bind(actor)
    .bind(DbTime::new(now))
    .fetch_one(&mut *tx)
    .await?;
    let payload = json!({
        "request": id,
        "contact_point": r.contact_point.as_str(),
        "reason_sha256": digest(r.reason.trim()),
    });
    append(&mut tx, &Event::new(now, actor, EventKind::ThirdPartyRequested, r.case.as_str(), &payload))
        .await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_number(
    write: &DbPool,
    ring: &Keyring,
    n: &NewNumber,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    required("actor", actor)?;
    let phone = daylight_domain::pii::Phone::parse(&n.number)?;
    let value = phone.expose().to_owned();
    let mut tx = begin_write(write).await?;
    let customer = open_case_customer(&mut tx, &n.case).await?;
    let role = match &n.replaces {
        None => n.role,
        Some(point) => {
            let row = sqlx::query("SELECT customer_id, role, kind FROM contact_points WHERE id = $1")
                .bind(point.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found("contact point", point.as_str()))?;
            if text(&row, "customer_id")? != customer || text(&row, "kind")? != "phone" {
                return Err(Invalid::new(
                    Code::Inconsistent,
                    format!("contact point {point} is not one of the case's phone numbers"),
                )
                .into());
            }
            word(&row, "role")?
        }
    };
    let known: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM contact_points WHERE customer_id = $1 AND kind = 'phone' AND value_bidx = $2",
    )
    .bind(&customer)
    .bind(ring.blind(BLIND_CONTACT, &value))
    .fetch_one(&mut *tx)
    .await?;
    if known > 0 {
        return Err(Invalid::new(
            Code::Exists,
            format!("the debtor's record already has {}", daylight_domain::pii::mask_phone(&value)),
        )
        .into());
    }
    let name =
        n.name.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(PersonName::parse).transpose()?;
    let name = name.as_ref().map(PersonName::expose);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO number_proposals (case_id, replaces, role, number, name, source, status, requested_by, requested_at, \
         number_bidx) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(n.case.as_str())
    .bind(n.replaces.as_ref().map(ContactId::as_str))
    .bind(role.as_str())
    .bind(ring.seal("number_proposals.number", &value))
    .bind(ring.seal_opt("number_proposals.name", name))
    .bind(n.source.as_str())
    .bind(WaiverStatus::Requested.as_str())
    .bind(actor)
    .bind(DbTime::new(now))
    .bind(ring.blind(BLIND_CONTACT, &value))
    .fetch_one(&mut *tx)
    .await?;
    let payload = json!({
        "proposal": id,
        "replaces": n.replaces.as_ref().map(ContactId::as_str),
        "role": role.as_str(),
        "number": daylight_domain::pii::mask_phone(&value),
        "number_bidx": ring.blind(BLIND_CONTACT, &value),
        "source": n.source.as_str(),
    });
    append(&mut tx, &Event::new(now, actor, EventKind::NumberProposed, n.case.as_str(), &payload)).await?;
    tx.commit().await?;
    Ok(id)
}

async fn update_number(
    write: &DbPool,
    ring: &Keyring,
    id: i64,
    approve: bool,
    actor: &str,
    now: Timestamp,
) -> Result<Option<ContactId>> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let row = sqlx::query(AssertSqlSafe(format!("SELECT * FROM number_proposals WHERE id = $1{FOR_UPDATE}")))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("number proposal", id.to_string()))?;
    let p = number_from_row(&row, ring)?;
    let next = p.status.become_(if approve { WaiverStatus::Approved } else { WaiverStatus::Rejected })?;
    agreement::check_approver(&p.requested_by, actor)?;
    let point = if approve {
        let customer = open_case_customer(&mut tx, &p.proposal.case).await?;
        let point = match &p.proposal.replaces {
            Some(point) => {
                sqlx::query(
                    "UPDATE contact_points SET value = $1, status = 'unknown', status_at = NULL, updated_at = $2, \
                     value_bidx = $4 WHERE id = $3",
                )
                .bind(ring.seal("contact_points.value", &p.proposal.number))
                .bind(DbTime::new(now))
                .bind(point.as_str())
                .bind(ring.blind(BLIND_CONTACT, &p.proposal.number))
                .execute(&mut *tx)
                .await?;
                point.clone()
            }
            None => {
                let point = ContactId::parse(&format!("{customer}-N{id}"))?;
                sqlx::query(
                    "INSERT INTO contact_points (id, customer_id, role, kind, value, name, status, created_at, updated_at, \
                     value_bidx) VALUES ($1, $2, $3, 'phone', $4, $5, 'unknown', $6, $6, $7)",
                )
                .bind(point.as_str())
                .bind(&customer)
                .bind(p.proposal.role.as_str())
                .bind(ring.seal("contact_points.value", &p.proposal.number))
                .bind(ring.seal_opt("contact_points.name", p.proposal.name.as_deref()))
                .bind(DbTime::new(now))
                .bind(ring.blind(BLIND_CONTACT, &p.proposal.number))
                .execute(&mut *tx)
                .await?;
                point
            }
        };
        Some(point)
    } else {
        None
    };
    sqlx::query(
        "UPDATE number_proposals SET status = $1, decided_by = $2, decided_at = $3, contact_point_id = $4 WHERE id = $5",
    )
    .bind(next.as_str())
    .bind(actor)
    .bind(DbTime::new(now))
    .bind(point.as_ref().map(ContactId::as_str))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let payload = json!({
        "proposal": id,
        "from": p.status.as_str(),
        "to": next.as_str(),
        "contact_point": point.as_ref().map(ContactId::as_str),
    });
    append(&mut tx, &Event::new(now, actor, EventKind::NumberDecided, p.proposal.case.as_str(), &payload))
        .await?;
    tx.commit().await?;
    Ok(point)
}

fn number_from_row(r: &DbRow, ring: &Keyring) -> Result<NumberProposal> {
    Ok(NumberProposal {
        id: int(r, "id")?,
        proposal: NewNumber {
            case: id(r, "case_id", CaseId::parse)?,
            replaces: opt_id(r, "replaces", ContactId::parse)?,
            role: word(r, "role")?,
            number: ring.open("number_proposals.number", &text(r, "number")?)?,
            name: ring.open_opt("number_proposals.name", opt_text(r, "name")?)?,
            source: word(r, "source")?,
        },
        status: word(r, "status")?,
        requested_by: text(r, "requested_by")?,
        requested_at: time(r, "requested_at")?,
        decided_by: opt_text(r, "decided_by")?,
        decided_at: opt_time(r, "decided_at")?,
        contact_point: opt_id(r, "contact_point_id", ContactId::parse)?,
    })
}

/// Rows of a request table (`case_id`, `status`, `requested_at`) on cases within `scope` (on
/// `case` only, if given), oldest first: the approval queues.
async fn requests_in(
    pool: &DbPool,
    table: &'static str,
    scope: &Scope,
    case: Option<&CaseId>,
    status: Option<WaiverStatus>,
    limit: u32,
) -> Result<Vec<DbRow>> {
    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT r.* FROM {table} r JOIN cases c ON c.id = r.case_id WHERE 1 = 1"
    ));
    if let Some(case) = case {
        qb.push(" AND r.case_id = ").push_bind(case.as_str().to_owned());
    }
    if let Some(s) = status {
        qb.push(" AND r.status = ").push_bind(s.as_str());
    }
    push_scope(&mut qb, scope);
    qb.push(" ORDER BY r.requested_at, r.id LIMIT ").push_bind(i64::from(limit.min(CaseFilter::MAX_LIMIT)));
    Ok(qb.build().fetch_all(pool).await?)
}

async fn read_numbers_in(
    pool: &DbPool,
    ring: &Keyring,
    scope: &Scope,
    case: Option<&CaseId>,
    status: Option<WaiverStatus>,
    limit: u32,
) -> Result<Vec<NumberProposal>> {
    let rows = requests_in(pool, "number_proposals", scope, case, status, limit).await?;
    rows.iter().map(|r| number_from_row(r, ring)).collect()
}

/// A rejection with its reason, in one transaction: the request (read `FOR UPDATE`) must still
/// wait, and be decided by someone other than who asked.
async fn write_rejection(
    write: &DbPool,
    what: Decidable,
    id: i64,
    reason: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    let reason = reason.trim();
    required("a reason", reason)?;
    let (table, noun, kind, asker) = match what {
        Decidable::Arrangement => {
            ("arrangements", "arrangement", EventKind::ArrangementDecided, "proposed_by")
        }
        Decidable::Waiver => ("waivers", "waiver", EventKind::WaiverDecided, "requested_by"),
        Decidable::ThirdParty => {
            ("third_party_requests", "request", EventKind::ThirdPartyDecided, "requested_by")
        }
        Decidable::Number => ("number_proposals", "proposal", EventKind::NumberDecided, "requested_by"),
    };
    let mut tx = begin_write(write).await?;
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT case_id, status, {asker} AS asker FROM {table} WHERE id = $1{FOR_UPDATE}"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| StoreError::not_found(noun, id.to_string()))?;
    let from = text(&row, "status")?;
    let to = match what {
        Decidable::Arrangement => {
            let current: ArrangementStatus = word(&row, "status")?;
            current.become_(ArrangementStatus::Rejected)?.to_string()
        }
        _ => {
            let current: WaiverStatus = word(&row, "status")?;
            current.become_(WaiverStatus::Rejected)?.as_str().to_owned()
        }
    };
    agreement::check_approver(&text(&row, "asker")?, actor)?;
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE {table} SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4 WHERE id = $5"
    )))
    .bind(&to)
    .bind(actor)
    .bind(DbTime::new(now))
    .bind(reason)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let payload = json!({noun: id, "from": from, "to": to, "reason_sha256": digest(reason)});
    append(&mut tx, &Event::new(now, actor, kind, &text(&row, "case_id")?, &payload)).await?;
    tx.commit().await?;
    Ok(())
}

async fn update_third_party_request(
    write: &DbPool,
    id: i64,
    approve: bool,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let kind = EventKind::ThirdPartyDecided;
    decide_request(write, "third_party_requests", "request", kind, id, approve, actor, now, None).await
}

async fn read_third_party_requests_in(
    pool: &DbPool,
    scope: &Scope,
    case: Option<&CaseId>,
    status: Option<WaiverStatus>,
    limit: u32,
) -> Result<Vec<ThirdPartyRequest>> {
    let rows = requests_in(pool, "third_party_requests", scope, case, status, limit).await?;
    rows.iter().map(third_party_from_row).collect()
}

async fn read_third_party_confirmed(
    pool: &DbPool,
    case: &CaseId,
    point: &ContactId,
    at: Timestamp,
) -> Result<bool> {
    let mut conn = pool.acquire().await?;
    third_party_confirmed_in(&mut conn, case, point, at).await
}

/// Whether a team lead's approval of a call to third party `point` on `case` is in force at
/// `at`: the gate reads it in its own transaction, the case screen for its preview.
async fn third_party_confirmed_in(
    conn: &mut <Db as sqlx::Database>::Connection,
    case: &CaseId,
    point: &ContactId,
    at: Timestamp,
) -> Result<bool> {
    // An approval confirms contacts from its decision for VALID_FOR.
    let since = at.checked_sub(ThirdPartyRequest::VALID_FOR).map_err(|e| corrupt("decided_at", e))?;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM third_party_requests WHERE case_id = $1 AND contact_point_id = $2 \
         AND status = $3 AND decided_at <= $4 AND decided_at > $5",
    )
    .bind(case.as_str())
    .bind(point.as_str())
    .bind(WaiverStatus::Approved.as_str())
    .bind(DbTime::new(at))
    .bind(DbTime::new(since))
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

async fn read_waivers_in(
    pool: &DbPool,
    scope: &Scope,
    status: Option<WaiverStatus>,
    limit: u32,
) -> Result<Vec<StoredWaiver>> {
    let mut qb =
        QueryBuilder::<Db>::new("SELECT w.* FROM waivers w JOIN cases c ON c.id = w.case_id WHERE 1 = 1");
    if let Some(s) = status {
        qb.push(" AND w.status = ").push_bind(s.as_str());
    }
    push_scope(&mut qb, scope);
    qb.push(" ORDER BY w.requested_at, w.id LIMIT ").push_bind(i64::from(limit.min(CaseFilter::MAX_LIMIT)));
    let rows = qb.build().fetch_all(pool).await?;
    rows.iter().map(waiver_from_row).collect()
}

async fn insert_complaint(write: &DbPool, c: &NewComplaint, actor: &str, now: Timestamp) -> Result<i64> {
    required("actor", actor)?;
    c.validate()?;
    let mut tx = begin_write(write).await?;
    case_customer(&mut tx, &c.case).await?;
    if let Some(a) = c.attempt {
        attempt_of(&mut tx, a, &c.case).await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO complaints (case_id, attempt_id, source, text, registered_by, registered_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(c.case.as_str())
    .bind(c.attempt)
    .bind(c.source.as_str())
    .bind(c.text.trim())
    .bind(actor)
    .bind(DbTime::new(now))
    .fetch_one(&mut *tx)
    .await?;
    let payload = json!({
        "complaint": id,
        "attempt": c.attempt,
        "source": c.source.as_str(),
        "text_sha256": digest(c.text.trim()),
    });
    append(&mut tx, &Event::new(now, actor, EventKind::ComplaintRegistered, c.case.as_str(), &payload))
        .await?;
    tx.commit().await?;
    Ok(id)
}

async fn read_complaints_in(pool: &DbPool, scope: &Scope, limit: u32) -> Result<Vec<Complaint>> {
    let mut qb =
        QueryBuilder::<Db>::new("SELECT k.* FROM complaints k JOIN cases c ON c.id = k.case_id WHERE 1 = 1");
    push_scope(&mut qb, scope);
    qb.push(" ORDER BY k.registered_at DESC, k.id DESC LIMIT ")
        .push_bind(i64::from(limit.min(CaseFilter::MAX_LIMIT)));
    let rows = qb.build().fetch_all(pool).await?;
    rows.iter().map(complaint_from_row).collect()
}

async fn write_sweep(write: &DbPool, actor: &str, now: Timestamp) -> Result<Sweep> {
    required("actor", actor)?;
    let horizon = now.checked_add(Sweep::REMINDER_LEAD).map_err(|e| corrupt("due_at", e))?;
    let cutoff = now.checked_sub(Sweep::GRACE).map_err(|e| corrupt("due_at", e))?;
    let mut tx = begin_write(write).await?;
    let mut report = Sweep::default();
    let reminders = sqlx::query(
        "INSERT INTO tasks (case_id, kind, audience, promise_id, due_at, status, created_at) \
         SELECT p.case_id, $1, $2, p.id, $3, $4, $3 FROM promises p \
         WHERE p.status = $5 AND p.due_at > $3 AND p.due_at <= $6 \
         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.promise_id = p.id AND t.kind = $1) \
         ON CONFLICT (promise_id, kind) DO NOTHING",
    )
    .bind(TaskKind::PromiseReminder.as_str())
    .bind(Audience::Collector.as_str())
    .bind(DbTime::new(now))
    .bind(TaskStatus::Open.as_str())
    .bind(PromiseStatus::Pending.as_str())
    .bind(DbTime::new(horizon))
    .execute(&mut *tx)
    .await?;
    report.reminders = u32::try_from(reminders.rows_affected()).unwrap_or(u32::MAX);
    // Locked (PostgreSQL): a second server sweeping at the same moment waits, then finds them
    // settled.
    let due = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, case_id, amount, created_at, due_at FROM promises \
         WHERE status = $1 AND due_at <= $2 ORDER BY due_at, id LIMIT $3{FOR_UPDATE}"
    )))
    .bind(PromiseStatus::Pending.as_str())
    .bind(DbTime::new(cutoff))
    .bind(i64::from(Sweep::BATCH))
    .fetch_all(&mut *tx)
    .await?;
    for p in &due {
        let (promise, case) = (int(p, "id")?, text(p, "case_id")?);
        let amount = int(p, "amount")?;
        let due_at = time(p, "due_at")?;
        let until = due_at.checked_add(Sweep::GRACE).map_err(|e| corrupt("due_at", e))?;
        // Payments on the debtor's accounts between the promise and its due time (with grace).
        let paid: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(pay.amount), 0) AS BIGINT) FROM payments pay \
             JOIN accounts a ON a.id = pay.account_id JOIN cases c ON c.customer_id = a.customer_id \
             WHERE c.id = $1 AND pay.paid_at >= $2 AND pay.paid_at <= $3",
        )
        .bind(&case)
        .bind(DbTime::new(time(p, "created_at")?))
        .bind(DbTime::new(until))
        .fetch_one(&mut *tx)
        .await?;
        let to = if paid >= amount { PromiseStatus::Kept } else { PromiseStatus::Broken };
        sqlx::query("UPDATE promises SET status = $1, settled_by = $2, settled_at = $3 WHERE id = $4")
            .bind(to.as_str())
            .bind(actor)
            .bind(DbTime::new(now))
            .bind(promise)
            .execute(&mut *tx)
            .await?;
        let payload = json!({"promise": promise, "from": "pending", "to": to.as_str(), "paid_fen": paid});
        append(&mut tx, &Event::new(now, actor, EventKind::PromiseSettled, case.as_str(), &payload)).await?;
        if to == PromiseStatus::Kept {
            report.kept += 1;
            continue;
        }
        report.broken += 1;
        sqlx::query(
            "INSERT INTO tasks (case_id, kind, audience, promise_id, due_at, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $5)",
        )
        .bind(&case)
        .bind(TaskKind::PromiseBroken.as_str())
        .bind(Audience::Lead.as_str())
        .bind(promise)
        .bind(DbTime::new(now))
        .bind(TaskStatus::Open.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

async fn read_tasks_in(
    pool: &DbPool,
    scope: &Scope,
    audience: Option<Audience>,
    status: Option<TaskStatus>,
    limit: u32,
) -> Result<Vec<Task>> {
    let mut qb =
        QueryBuilder::<Db>::new("SELECT t.* FROM tasks t JOIN cases c ON c.id = t.case_id WHERE 1 = 1");
    if let Some(a) = audience {
        qb.push(" AND t.audience = ").push_bind(a.as_str());
    }
    if let Some(s) = status {
        qb.push(" AND t.status = ").push_bind(s.as_str());
    }
    push_scope(&mut qb, scope);
    qb.push(" ORDER BY t.due_at, t.id LIMIT ").push_bind(i64::from(limit.min(CaseFilter::MAX_LIMIT)));
    let rows = qb.build().fetch_all(pool).await?;
    rows.iter().map(task_from_row).collect()
}

async fn read_attempt_tasks(pool: &DbPool, scope: &Scope, attempt: i64) -> Result<Vec<Task>> {
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT t.* FROM tasks t JOIN cases c ON c.id = t.case_id WHERE t.attempt_id = ",
    );
    qb.push_bind(attempt);
    push_scope(&mut qb, scope);
    qb.push(" ORDER BY t.id");
    let rows = qb.build().fetch_all(pool).await?;
    rows.iter().map(task_from_row).collect()
}

async fn write_task_done(
    write: &DbPool,
    scope: &Scope,
    id: i64,
    close: &TaskClose,
    actor: &str,
    now: Timestamp,
) -> Result<Option<i64>> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let mut qb =
        QueryBuilder::<Db>::new("SELECT t.* FROM tasks t JOIN cases c ON c.id = t.case_id WHERE t.id = ");
    qb.push_bind(id);
    push_scope(&mut qb, scope);
    let row = qb
        .build()
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("task", id.to_string()))?;
    let task = task_from_row(&row)?;
    if task.status == TaskStatus::Done {
        return Err(Invalid::new(Code::Transition, format!("task {id} is already done")).into());
    }
    close.check(task.kind)?;
    let note = close.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    sqlx::query(
        "UPDATE tasks SET status = $1, done_by = $2, done_at = $3, outcome = $4, outcome_note = $5 WHERE id = $6",
    )
    .bind(TaskStatus::Done.as_str())
    .bind(actor)
    .bind(DbTime::new(now))
    .bind(close.outcome.map(TaskOutcome::as_str))
    .bind(note)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    // An upheld finding goes to the collector; an appeal to compliance: the next task in the chain,
    // due at once, carrying the reason it was opened for.
    let next = match close.outcome.and_then(TaskOutcome::follow_up) {
        Some((kind, audience)) => Some(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO tasks (case_id, kind, audience, attempt_id, note, due_at, status, created_at, follows) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $8) RETURNING id",
            )
            .bind(task.case.as_str())
            .bind(kind.as_str())
            .bind(audience.as_str())
            .bind(task.attempt)
            .bind(note)
            .bind(DbTime::new(now))
            .bind(TaskStatus::Open.as_str())
            .bind(id)
            .fetch_one(&mut *tx)
            .await?,
        ),
        None => None,
    };
    let payload = json!({
        "task": id,
        "kind": task.kind.as_str(),
        "promise": task.promise,
        "attempt": task.attempt,
        "outcome": close.outcome.map(TaskOutcome::as_str),
        "reason_sha256": note.map(digest),
        "next": next,
    });
    append(&mut tx, &Event::new(now, actor, EventKind::TaskDone, task.case.as_str(), &payload)).await?;
    tx.commit().await?;
    Ok(next)
}

/// Runs a grouped count (`SELECT <key>, <values…> FROM … WHERE … <scope> GROUP BY 1`) and
/// hands each row's key and values to `put`.
async fn grouped(
    pool: &DbPool,
    mut qb: QueryBuilder<Db>,
    scope: &Scope,
    values: usize,
    mut put: impl FnMut(Option<String>, &[i64]),
) -> Result<()> {
    push_scope(&mut qb, scope);
    qb.push(" GROUP BY 1");
    for r in qb.build().fetch_all(pool).await? {
        let key: Option<String> = r.try_get(0)?;
        let mut v = Vec::with_capacity(values);
        for i in 1..=values {
            v.push(r.try_get::<Option<i64>, _>(i)?.unwrap_or(0));
        }
        put(key, &v);
    }
    Ok(())
}

/// Runs `SELECT <key>, <day index>, <values…> FROM … WHERE … <scope> GROUP BY 1, 2` and hands
/// each row's key, day (`None` before the first) and values to `put`.
async fn by_day(
    pool: &DbPool,
    mut qb: QueryBuilder<Db>,
    scope: &Scope,
    values: usize,
    mut put: impl FnMut(Option<String>, Option<usize>, &[i64]),
) -> Result<()> {
    push_scope(&mut qb, scope);
    qb.push(" GROUP BY 1, 2");
    for r in qb.build().fetch_all(pool).await? {
        let key: Option<String> = r.try_get(0)?;
        let day: i64 = r.try_get(1)?;
        let mut v = Vec::with_capacity(values);
        for i in 2..values + 2 {
            v.push(r.try_get::<Option<i64>, _>(i)?.unwrap_or(0));
        }
        put(key, usize::try_from(day).ok(), &v);
    }
    Ok(())
}

async fn read_kpis(
    pool: &DbPool,
    scope: &Scope,
    dim: KpiDimension,
    from: Timestamp,
    to: Timestamp,
    days: &[Timestamp],
) -> Result<Kpis> {
    use std::collections::BTreeMap;
    let key = dim.column();
    let mut groups: BTreeMap<Option<String>, KpiCounts> = BTreeMap::new();
    fn at(groups: &mut BTreeMap<Option<String>, KpiCounts>, k: Option<String>) -> &mut KpiCounts {
        groups.entry(k.clone()).or_insert_with(|| KpiCounts { key: k, ..KpiCounts::default() })
    }
    let (from_t, to_t) = (DbTime::new(from), DbTime::new(to));
    let reached = outcome_words(|o| {
        o.class() == daylight_domain::attempt::OutcomeClass::Conversation
            || matches!(o, Outcome::ThirdPartyAnswered | Outcome::WrongNumber | Outcome::Visited)
    });
    let right = outcome_words(|o| {
        o.class() == daylight_domain::attempt::OutcomeClass::Conversation || o == Outcome::Visited
    });

    let open = CaseStatus::Open.as_str();
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {key}, COUNT(*) FROM cases c WHERE c.status = "));
    qb.push_bind(open);
    grouped(pool, qb, scope, 1, |k, v| at(&mut groups, k).cases = v[0]).await?;

    let account_key = if dim == KpiDimension::Bucket { "a.bucket" } else { key };
    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT {account_key}, COUNT(*) FROM accounts a JOIN cases c ON c.customer_id = a.customer_id WHERE c.status = "
    ));
    qb.push_bind(open);
    grouped(pool, qb, scope, 1, |k, v| {
        let g = at(&mut groups, k);
        g.accounts = v[0];
        g.exposed += v[0];
    })
    .await?;

    // Attempts and payments are read once, by group and by day: the groups' figures and the
    // days' are sums of the same rows.
    let mut per_day: Vec<KpiDay> = days.iter().map(|d| KpiDay { start: *d, ..KpiDay::default() }).collect();
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {key}, "));
    push_day_index(&mut qb, "t.at", days, to);
    qb.push(format!(
        ", COUNT(*), SUM(CASE WHEN t.outcome IN ({reached}) THEN 1 ELSE 0 END), \
         SUM(CASE WHEN t.outcome IN ({right}) AND t.recipient = 'debtor' THEN 1 ELSE 0 END) \
         FROM attempts t JOIN cases c ON c.id = t.case_id WHERE t.at >= "
    ));
    qb.push_bind(from_t).push(" AND t.at < ").push_bind(to_t);
    by_day(pool, qb, scope, 3, |k, day, v| {
        let g = at(&mut groups, k);
        g.attempts += v[0];
        g.contacts += v[1];
        g.rpc += v[2];
        if let Some(d) = day.and_then(|i| per_day.get_mut(i)) {
            d.attempts += v[0];
            d.rpc += v[2];
        }
    })
    .await?;

    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT {key}, COUNT(*), CAST(SUM(p.amount) AS BIGINT) FROM promises p JOIN cases c ON c.id = p.case_id WHERE p.created_at >= "
    ));
    qb.push_bind(from_t).push(" AND p.created_at < ").push_bind(to_t);
    grouped(pool, qb, scope, 2, |k, v| {
        let g = at(&mut groups, k);
        (g.promises, g.promised) = (v[0], v[1]);
    })
    .await?;

    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT {key}, SUM(CASE WHEN p.status = 'kept' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN p.status = 'broken' THEN 1 ELSE 0 END) \
         FROM promises p JOIN cases c ON c.id = p.case_id WHERE p.settled_at >= "
    ));
    qb.push_bind(from_t).push(" AND p.settled_at < ").push_bind(to_t);
    grouped(pool, qb, scope, 2, |k, v| {
        let g = at(&mut groups, k);
        (g.kept, g.broken) = (v[0], v[1]);
    })
    .await?;

    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {key}, "));
    push_day_index(&mut qb, "pay.paid_at", days, to);
    qb.push(
        ", CAST(SUM(pay.amount) AS BIGINT) FROM payments pay JOIN accounts a ON a.id = pay.account_id \
         JOIN cases c ON c.customer_id = a.customer_id WHERE pay.paid_at >= ",
    );
    qb.push_bind(from_t).push(" AND pay.paid_at < ").push_bind(to_t);
    by_day(pool, qb, scope, 1, |k, day, v| {
        at(&mut groups, k).recovered += v[0];
        if let Some(d) = day.and_then(|i| per_day.get_mut(i)) {
            d.recovered += v[0];
        }
    })
    .await?;

    let move_key = if dim == KpiDimension::Bucket { "m.from_bucket" } else { key };
    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT {move_key}, COUNT(DISTINCT m.account_id) FROM bucket_moves m \
         JOIN accounts a ON a.id = m.account_id JOIN cases c ON c.customer_id = a.customer_id \
         WHERE {} > {} AND m.at >= ",
        bucket_rank("m.to_bucket"),
        bucket_rank("m.from_bucket")
    ));
    qb.push_bind(from_t).push(" AND m.at < ").push_bind(to_t);
    grouped(pool, qb, scope, 1, |k, v| {
        let g = at(&mut groups, k);
        g.rolled = v[0];
        if dim == KpiDimension::Bucket {
            g.exposed += v[0];
        }
    })
    .await?;

    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT {key}, COUNT(*) FROM complaints k JOIN cases c ON c.id = k.case_id WHERE k.registered_at >= "
    ));
    qb.push_bind(from_t).push(" AND k.registered_at < ").push_bind(to_t);
    grouped(pool, qb, scope, 1, |k, v| at(&mut groups, k).complaints = v[0]).await?;

    let mut out = Kpis { groups: groups.into_values().collect(), days: Vec::new() };
    if dim == KpiDimension::Bucket {
        let rank = |k: &Option<String>| {
            k.as_deref().and_then(|s| Bucket::ALL.iter().position(|b| b.label() == s)).unwrap_or(usize::MAX)
        };
        out.groups.sort_by_key(|g| rank(&g.key));
    }
    out.days = per_day;
    Ok(out)
}

/// The day index of a time column: `CASE WHEN col < d0 THEN -1 WHEN col < d1 THEN 0 … END`
/// (-1: before the first day; no days: always -1).
fn push_day_index(qb: &mut QueryBuilder<Db>, column: &str, days: &[Timestamp], to: Timestamp) {
    let Some(first) = days.first() else {
        qb.push("CAST(-1 AS BIGINT)");
        return;
    };
    qb.push(format!("CAST(CASE WHEN {column} < ")).push_bind(DbTime::new(*first)).push(" THEN -1");
    for (i, end) in days.iter().skip(1).chain(std::iter::once(&to)).enumerate() {
        qb.push(format!(" WHEN {column} < ")).push_bind(DbTime::new(*end)).push(format!(" THEN {i}"));
    }
    qb.push(" END AS BIGINT)");
}

#[async_trait]
impl DeskStore for Adapter {
    async fn arrangements_in(
        &self,
        scope: &Scope,
        status: Option<ArrangementStatus>,
        limit: u32,
    ) -> Result<Vec<StoredArrangement>> {
        read_arrangements_in(&self.read, scope, status, limit).await
    }

    async fn create_promise(&self, promise: &NewPromise, actor: &str, now: Timestamp) -> Result<i64> {
        insert_promise(&self.write, promise, actor, now).await
    }

    async fn promise_batch(&self, ops: &[PromiseOp], actor: &str) -> Result<Vec<Option<i64>>> {
        promise_batch(&self.write, ops, actor).await
    }

    async fn change_promise(
        &self,
        id: i64,
        change: &PromiseChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        edit_promise(&self.write, id, change, actor, now).await
    }

    async fn settle_promise(
        &self,
        id: i64,
        status: PromiseStatus,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        update_promise(&self.write, id, status, actor, now).await
    }

    async fn propose_arrangement(
        &self,
        arrangement: &NewArrangement,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        insert_arrangement(&self.write, arrangement, actor, now).await
    }

    async fn decide_arrangement(
        &self,
        id: i64,
        status: ArrangementStatus,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        update_arrangement(&self.write, id, status, actor, now).await
    }

    async fn reject(
        &self,
        what: Decidable,
        id: i64,
        reason: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        write_rejection(&self.write, what, id, reason, actor, now).await
    }

    async fn request_waiver(&self, waiver: &NewWaiver, actor: &str, now: Timestamp) -> Result<i64> {
        insert_waiver(&self.write, waiver, actor, now).await
    }

    async fn decide_waiver(
        &self,
        id: i64,
        approve: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<WaiverVerdict> {
        update_waiver(&self.write, id, approve, actor, now).await
    }

    async fn waivers_in(
        &self,
        scope: &Scope,
        status: Option<WaiverStatus>,
        limit: u32,
    ) -> Result<Vec<StoredWaiver>> {
        read_waivers_in(&self.read, scope, status, limit).await
    }

    async fn request_third_party(
        &self,
        request: &NewThirdPartyRequest,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        insert_third_party_request(&self.write, request, actor, now).await
    }

    async fn decide_third_party(&self, id: i64, approve: bool, actor: &str, now: Timestamp) -> Result<()> {
        update_third_party_request(&self.write, id, approve, actor, now).await
    }

    async fn third_party_requests_in(
        &self,
        scope: &Scope,
        case: Option<&CaseId>,
        status: Option<WaiverStatus>,
        limit: u32,
    ) -> Result<Vec<ThirdPartyRequest>> {
        read_third_party_requests_in(&self.read, scope, case, status, limit).await
    }

    async fn third_party_confirmed(&self, case: &CaseId, point: &ContactId, at: Timestamp) -> Result<bool> {
        read_third_party_confirmed(&self.read, case, point, at).await
    }

    async fn register_complaint(&self, complaint: &NewComplaint, actor: &str, now: Timestamp) -> Result<i64> {
        insert_complaint(&self.write, complaint, actor, now).await
    }

    async fn complaints_in(&self, scope: &Scope, limit: u32) -> Result<Vec<Complaint>> {
        read_complaints_in(&self.read, scope, limit).await
    }

    async fn sweep_promises(&self, actor: &str, now: Timestamp) -> Result<Sweep> {
        write_sweep(&self.write, actor, now).await
    }

    async fn tasks_in(
        &self,
        scope: &Scope,
        audience: Option<Audience>,
        status: Option<TaskStatus>,
        limit: u32,
    ) -> Result<Vec<Task>> {
        read_tasks_in(&self.read, scope, audience, status, limit).await
    }

    async fn finish_task(
        &self,
        scope: &Scope,
        id: i64,
        close: &TaskClose,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        write_task_done(&self.write, scope, id, close, actor, now).await
    }

    async fn attempt_tasks(&self, scope: &Scope, attempt: i64) -> Result<Vec<Task>> {
        read_attempt_tasks(&self.read, scope, attempt).await
    }

    async fn kpis(
        &self,
        scope: &Scope,
        dim: KpiDimension,
        from: Timestamp,
        to: Timestamp,
        days: &[Timestamp],
    ) -> Result<Kpis> {
        read_kpis(&self.read, scope, dim, from, to, days).await
    }

    async fn propose_number(&self, number: &NewNumber, actor: &str, now: Timestamp) -> Result<i64> {
        insert_number(&self.write, &*self.keyring().await?, number, actor, now).await
    }

    async fn decide_number(
        &self,
        id: i64,
        approve: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<ContactId>> {
        update_number(&self.write, &*self.keyring().await?, id, approve, actor, now).await
    }

    async fn numbers_in(
        &self,
        scope: &Scope,
        case: Option<&CaseId>,
        status: Option<WaiverStatus>,
        limit: u32,
    ) -> Result<Vec<NumberProposal>> {
        read_numbers_in(&self.read, &*self.keyring().await?, scope, case, status, limit).await
    }
}
