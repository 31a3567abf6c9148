// Shared by both adapters (see common.rs). This part: calls through Daylight's switch (the
// number dialled, the call's end with its recording, audited access to recordings).

async fn dial_number(read: &DbPool, case: &CaseId, point: &ContactId) -> Result<String> {
    let value: Option<String> = sqlx::query_scalar(
        "SELECT p.value FROM contact_points p JOIN cases c ON c.customer_id = p.customer_id \
         WHERE c.id = $1 AND p.id = $2 AND p.kind = 'phone'",
    )
    .bind(case.as_str())
    .bind(point.as_str())
    .fetch_optional(read)
    .await?;
    value.ok_or_else(|| StoreError::not_found("phone of the case", point.as_str()))
}

async fn withdraw_started(
    write: &DbPool,
    started: i64,
    reason: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    required("reason", reason)?;
    let mut tx = begin_write(write).await?;
    let case: Option<String> = sqlx::query_scalar("SELECT case_id FROM attempts_started WHERE id = $1")
        .bind(started)
        .fetch_optional(&mut *tx)
        .await?;
    let case = case.ok_or_else(|| StoreError::not_found("started attempt", started.to_string()))?;
    let customer = case_customer(&mut tx, &CaseId::parse(&case).map_err(|e| corrupt("case_id", e))?).await?;
    lock_debtor(&mut tx, &customer).await?;
    let gone =
        sqlx::query("DELETE FROM attempts_started WHERE id = $1").bind(started).execute(&mut *tx).await?;
    if gone.rows_affected() == 0 {
        return Err(StoreError::not_found("started attempt", started.to_string()));
    }
    let payload = json!({ "started": started, "reason": reason.trim() });
    append(&mut tx, &Event::new(now, actor, EventKind::AttemptWithdrawn, &case, &payload)).await?;
    tx.commit().await?;
    Ok(())
}

fn recording_from_row(row: &DbRow) -> Result<RecordingRow> {
    let count = |col: &str| -> Result<u64> { u64::try_from(int(row, col)?).map_err(|e| corrupt(col, e)) };
    Ok(RecordingRow {
        id: int(row, "id")?,
        attempt: int(row, "attempt_id")?,
        case: CaseId::parse(&text(row, "case_id")?).map_err(|e| corrupt("case_id", e))?,
        file: NewRecording {
            path: text(row, "path")?,
            sha256: text(row, "sha256")?,
            bytes: count("bytes")?,
            millis: count("millis")?,
        },
        recorded_at: time(row, "recorded_at")?,
    })
}

#[async_trait]
impl CallStore for Adapter {
    async fn dial_number(&self, case: &CaseId, point: &ContactId) -> Result<String> {
        dial_number(&self.read, case, point).await
    }

    async fn finish_call(
        &self,
        started: i64,
        outcome: Outcome,
        duration_secs: u32,
        recording: Option<&NewRecording>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        finish_started(&self.write, started, outcome, duration_secs, None, recording, actor, now).await
    }

    async fn withdraw_call(&self, started: i64, reason: &str, actor: &str, now: Timestamp) -> Result<()> {
        withdraw_started(&self.write, started, reason, actor, now).await
    }

    async fn recordings_of(&self, case: &CaseId) -> Result<Vec<RecordingRow>> {
        let rows = sqlx::query("SELECT * FROM recordings WHERE case_id = $1 ORDER BY id")
            .bind(case.as_str())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(recording_from_row).collect()
    }

    async fn recording(&self, id: i64) -> Result<RecordingRow> {
        let row = sqlx::query("SELECT * FROM recordings WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or_else(|| StoreError::not_found("recording", id.to_string()))?;
        recording_from_row(&row)
    }

    async fn recording_accessed(&self, id: i64, how: &str, actor: &str, now: Timestamp) -> Result<()> {
        required("actor", actor)?;
        if !matches!(how, "listen" | "download") {
            return Err(Invalid::new(
                Code::Inconsistent,
                format!("access {how:?}: expected listen or download"),
            )
            .into());
        }
        let mut tx = begin_write(&self.write).await?;
        let row = sqlx::query("SELECT * FROM recordings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("recording", id.to_string()))?;
        let r = recording_from_row(&row)?;
        let payload = json!({ "recording": id, "attempt": r.attempt, "how": how, "sha256": r.file.sha256 });
        append(&mut tx, &Event::new(now, actor, EventKind::RecordingAccessed, r.case.as_str(), &payload))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
