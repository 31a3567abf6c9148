// Shared by both adapters (see common.rs). This part: QC of calls (transcripts, findings, the
// tags and review tasks they cause).

use crate::qc::{NewQcCall, QcCall, QcFinding, QcRecorded};

/// Sets (or with `note` none, clears) a debtor tag inside a transaction, with its ledger event.
async fn set_tag(
    tx: &mut Tx,
    customer: &str,
    tag: &str,
    note: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("DELETE FROM debtor_tags WHERE customer_id = $1 AND tag = $2")
        .bind(customer)
        .bind(tag)
        .execute(&mut **tx)
        .await?;
    if let Some(n) = note {
        required("note", n)?;
        sqlx::query(
            "INSERT INTO debtor_tags (customer_id, tag, note, set_by, set_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(customer)
        .bind(tag)
        .bind(n)
        .bind(actor)
        .bind(DbTime::new(now))
        .execute(&mut **tx)
        .await?;
    }
    // The note stays in the table; the ledger keeps its digest (it may name people).
    let payload = json!({"tag": tag, "set": note.is_some(), "note_sha256": note.map(digest)});
    append(tx, &Event::new(now, actor, EventKind::DebtorTagged, format!("customer:{customer}"), &payload))
        .await?;
    Ok(())
}

async fn insert_qc_call(
    write: &DbPool,
    ring: &Keyring,
    q: &NewQcCall,
    actor: &str,
    now: Timestamp,
) -> Result<QcRecorded> {
    required("actor", actor)?;
    q.validate()?;
    let mut tx = begin_write(write).await?;
    let customer = case_customer(&mut tx, &q.case).await?;
    attempt_of(&mut tx, q.attempt, &q.case).await?;
    let done: Option<i64> = sqlx::query_scalar("SELECT id FROM qc_calls WHERE attempt_id = $1")
        .bind(q.attempt)
        .fetch_optional(&mut *tx)
        .await?;
    if done.is_some() {
        return Err(Invalid::new(
            Code::Exists,
            format!("attempt {}: its call is already analysed", q.attempt),
        )
        .into());
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO qc_calls (attempt_id, case_id, call_id, rules, transcript, promise_fen, promise_due, \
         analysed_by, analysed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(q.attempt)
    .bind(q.case.as_str())
    .bind(&q.call_id)
    .bind(&q.rules)
    .bind(ring.seal("qc_calls.transcript", &q.transcript))
    .bind(q.promise.map(|p| p.0))
    .bind(q.promise.map(|p| DbTime::new(p.1)))
    .bind(actor)
    .bind(DbTime::new(now))
    .fetch_one(&mut *tx)
    .await?;
    for chunk in q.findings.chunks(200) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO qc_findings (qc_call_id, code, severity, speaker, turn, span_start, span_end, text) ",
        );
        qb.push_values(chunk, |mut b, f| {
            b.push_bind(id)
                .push_bind(f.code.clone())
                .push_bind(f.severity.clone())
                .push_bind(f.speaker.clone())
                .push_bind(f.turn)
                .push_bind(f.span[0])
                .push_bind(f.span[1])
                .push_bind(f.text.clone());
        });
        qb.build().execute(&mut *tx).await?;
    }
    let mut tags = Vec::new();
    for (tag, note) in &q.tags {
        set_tag(&mut tx, &customer, tag, Some(note), actor, now).await?;
        tags.push(tag.clone());
    }
    let task = match &q.review {
        Some(reason) => Some(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO tasks (case_id, kind, audience, attempt_id, note, due_at, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $6) RETURNING id",
            )
            .bind(q.case.as_str())
            .bind(TaskKind::QcReview.as_str())
            .bind(Audience::Lead.as_str())
            .bind(q.attempt)
            .bind(reason)
            .bind(DbTime::new(now))
            .bind(TaskStatus::Open.as_str())
            .fetch_one(&mut *tx)
            .await?,
        ),
        None => None,
    };
    let mut codes: Vec<&str> = q.findings.iter().map(|f| f.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let payload = json!({
        "qc_call": id,
        "attempt": q.attempt,
        "call_id": q.call_id,
        "rules": q.rules,
        "transcript_sha256": digest(&q.transcript),
        "codes": codes,
        "findings": q.findings.len(),
        "promise_fen": q.promise.map(|p| p.0),
        "tags": tags,
        "task": task,
    });
    append(&mut tx, &Event::new(now, actor, EventKind::QcAnalysed, q.case.as_str(), &payload)).await?;
    tx.commit().await?;
    Ok(QcRecorded { id, tags, task })
}

fn qc_call_from_row(r: &DbRow) -> Result<QcCall> {
    let promise = match (r.try_get::<Option<i64>, _>("promise_fen")?, opt_time(r, "promise_due")?) {
        (Some(f), Some(d)) => Some((f, d)),
        _ => None,
    };
    Ok(QcCall {
        id: int(r, "id")?,
        attempt: int(r, "attempt_id")?,
        case: id(r, "case_id", CaseId::parse)?,
        call_id: text(r, "call_id")?,
        rules: text(r, "rules")?,
        promise,
        analysed_by: text(r, "analysed_by")?,
        analysed_at: time(r, "analysed_at")?,
        findings: Vec::new(),
    })
}

/// Analyses of calls on cases within `scope` (of one case, or with one code), newest first,
/// each with its findings.
async fn read_qc_calls_in(
    pool: &DbPool,
    scope: &Scope,
    case: Option<&CaseId>,
    code: Option<&str>,
    limit: u32,
) -> Result<Vec<QcCall>> {
    select_qc_calls(pool, scope, case, code, None, limit).await
}

/// Analysed calls within `scope`, filtered by case, code and attempt, each with its findings.
async fn select_qc_calls(
    pool: &DbPool,
    scope: &Scope,
    case: Option<&CaseId>,
    code: Option<&str>,
    attempt: Option<i64>,
    limit: u32,
) -> Result<Vec<QcCall>> {
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT q.id, q.attempt_id, q.case_id, q.call_id, q.rules, q.promise_fen, q.promise_due, \
         q.analysed_by, q.analysed_at FROM qc_calls q JOIN cases c ON c.id = q.case_id WHERE 1 = 1",
    );
    if let Some(case) = case {
        qb.push(" AND q.case_id = ").push_bind(case.as_str());
    }
    if let Some(attempt) = attempt {
        qb.push(" AND q.attempt_id = ").push_bind(attempt);
    }
    if let Some(code) = code {
        qb.push(" AND EXISTS (SELECT 1 FROM qc_findings f WHERE f.qc_call_id = q.id AND f.code = ")
            .push_bind(code)
            .push(")");
    }
    push_scope(&mut qb, scope);
    qb.push(" ORDER BY q.analysed_at DESC, q.id DESC LIMIT ")
        .push_bind(i64::from(limit.min(CaseFilter::MAX_LIMIT)));
    let rows = qb.build().fetch_all(pool).await?;
    let mut calls: Vec<QcCall> = rows.iter().map(qc_call_from_row).collect::<Result<_>>()?;
    if calls.is_empty() {
        return Ok(calls);
    }
    let mut qb = QueryBuilder::<Db>::new("SELECT * FROM qc_findings WHERE qc_call_id IN (");
    let mut sep = qb.separated(", ");
    for c in &calls {
        sep.push_bind(c.id);
    }
    qb.push(") ORDER BY qc_call_id, turn, span_start, id");
    for r in qb.build().fetch_all(pool).await? {
        let call = int(&r, "qc_call_id")?;
        let f = QcFinding {
            code: text(&r, "code")?,
            severity: text(&r, "severity")?,
            speaker: text(&r, "speaker")?,
            turn: int(&r, "turn")?,
            span: [int(&r, "span_start")?, int(&r, "span_end")?],
            text: text(&r, "text")?,
        };
        if let Some(c) = calls.iter_mut().find(|c| c.id == call) {
            c.findings.push(f);
        }
    }
    Ok(calls)
}

/// An attempt's analysis and its transcript, if the attempt's case is within `scope`.
async fn read_qc_transcript(
    pool: &DbPool,
    ring: &Keyring,
    scope: &Scope,
    attempt: i64,
) -> Result<(QcCall, String)> {
    let call = select_qc_calls(pool, scope, None, None, Some(attempt), 1)
        .await?
        .pop()
        .ok_or_else(|| StoreError::not_found("analysed call", attempt.to_string()))?;
    let transcript: String = sqlx::query_scalar("SELECT transcript FROM qc_calls WHERE id = $1")
        .bind(call.id)
        .fetch_one(pool)
        .await?;
    Ok((call, ring.open("qc_calls.transcript", &transcript)?))
}

async fn read_names_of_cases(
    pool: &DbPool,
    ring: &Keyring,
    cases: &[CaseId],
) -> Result<Vec<(CaseId, String)>> {
    let mut out = Vec::new();
    for chunk in cases.chunks(500) {
        let ids = chunk.iter().map(CaseId::as_str);
        let mut qb = select_in(
            "c.id AS case_id, 'customers.name' AS col, cu.name AS name FROM cases c \
             JOIN customers cu ON cu.id = c.customer_id",
            "c.id",
            ids.clone(),
        );
        qb.push(
            " UNION ALL SELECT c.id AS case_id, 'contact_points.name' AS col, cp.name AS name FROM cases c JOIN contact_points cp \
                 ON cp.customer_id = c.customer_id WHERE cp.name IS NOT NULL AND c.id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.to_owned());
        }
        sep.push_unseparated(")");
        for r in qb.build().fetch_all(pool).await? {
            let case = CaseId::parse(&text(&r, "case_id")?).map_err(StoreError::from)?;
            out.push((case, ring.open(&text(&r, "col")?, &text(&r, "name")?)?));
        }
    }
    Ok(out)
}

#[async_trait]
impl QcStore for Adapter {
    async fn names_of_cases(&self, cases: &[CaseId]) -> Result<Vec<(CaseId, String)>> {
        read_names_of_cases(&self.read, &*self.keyring().await?, cases).await
    }

    async fn record_qc(&self, qc: &NewQcCall, actor: &str, now: Timestamp) -> Result<QcRecorded> {
        insert_qc_call(&self.write, &*self.keyring().await?, qc, actor, now).await
    }

    async fn qc_calls_in(
        &self,
        scope: &Scope,
        case: Option<&CaseId>,
        code: Option<&str>,
        limit: u32,
    ) -> Result<Vec<QcCall>> {
        read_qc_calls_in(&self.read, scope, case, code, limit).await
    }

    async fn qc_transcript(&self, scope: &Scope, attempt: i64) -> Result<(QcCall, String)> {
        read_qc_transcript(&self.read, &*self.keyring().await?, scope, attempt).await
    }
}
