// Shared by both adapters (see common.rs). This part: calls through Daylight's switch (the
// number dialled, the call's end with its recording, audited access to recordings).

async fn dial_number(read: &DbPool, ring: &Keyring, case: &CaseId, point: &ContactId) -> Result<String> {
    let value: Option<String> = sqlx::query_scalar(
        "SELECT p.value FROM contact_points p JOIN cases c ON c.customer_id = p.customer_id \
         WHERE c.id = $1 AND p.id = $2 AND p.kind = 'phone'",
    )
    .bind(case.as_str())
    .bind(point.as_str())
    .fetch_optional(read)
    .await?;
    let value = value.ok_or_else(|| StoreError::not_found("phone of the case", point.as_str()))?;
    ring.open("contact_points.value", &value)
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

fn agent_from_row(row: &DbRow) -> Result<AgentRow> {
    let state: Option<String> = opt_text(row, "state")?;
    let reason: Option<String> = opt_text(row, "reason")?;
    let parse_state = |w: &str| w.parse().map_err(|e| corrupt("state", e));
    Ok(AgentRow {
        login: text(row, "login")?,
        name: text(row, "name")?,
        state: state
            .as_deref()
            .map(parse_state)
            .transpose()?
            .unwrap_or(daylight_domain::agent::AgentState::Offline),
        reason: reason.as_deref().map(|w| w.parse().map_err(|e| corrupt("reason", e))).transpose()?,
        since: opt_time(row, "since")?,
        calls: u32::try_from(row.try_get::<Option<i64>, _>("calls")?.unwrap_or(0))
            .map_err(|e| corrupt("calls", e))?,
        talk_secs: u64::try_from(row.try_get::<Option<i64>, _>("talk_secs")?.unwrap_or(0))
            .map_err(|e| corrupt("talk_secs", e))?,
        day: opt_text(row, "day")?.filter(|d| !d.is_empty()),
    })
}

const AGENT_SELECT: &str = "SELECT u.login, u.name, s.state, s.reason, s.since, s.calls, s.talk_secs, s.day \
     FROM users u LEFT JOIN agent_states s ON s.login = u.login";

/// Recording `id`, read on `db` (the read pool, or a write transaction).
async fn recording_by_id<'e, E: sqlx::Executor<'e, Database = Db>>(db: E, id: i64) -> Result<RecordingRow> {
    let row = sqlx::query("SELECT * FROM recordings WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| StoreError::not_found("recording", id.to_string()))?;
    recording_from_row(&row)
}

fn recording_from_row(row: &DbRow) -> Result<RecordingRow> {
    let count = |col: &str| -> Result<u64> { u64::try_from(int(row, col)?).map_err(|e| corrupt(col, e)) };
    Ok(RecordingRow {
        id: int(row, "id")?,
        attempt: row.try_get::<Option<i64>, _>("attempt_id")?,
        inbound: row.try_get::<Option<i64>, _>("inbound_id")?,
        case: CaseId::parse(&text(row, "case_id")?).map_err(|e| corrupt("case_id", e))?,
        file: NewRecording {
            path: text(row, "path")?,
            sha256: text(row, "sha256")?,
            bytes: count("bytes")?,
            millis: count("millis")?,
        },
        recorded_at: time(row, "recorded_at")?,
        purged_at: opt_time(row, "purged_at")?,
    })
}

/// The forms a trunk may send a stored number in: the digits, without `86` or a leading `0`.
fn number_forms(number: &str) -> [String; 3] {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let national = digits
        .strip_prefix("0086")
        .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11))
        .unwrap_or(&digits)
        .to_owned();
    let trunk = national.strip_prefix('0').unwrap_or(&national).to_owned();
    [if number.starts_with('+') { format!("+{digits}") } else { digits }, national, trunk]
}

const OUTCOMES_IN: [&str; 5] = ["answered", "missed", "abandoned", "unmatched", "interrupted"];

/// A call in with its recording's id in the vault.
const INBOUND_SELECT: &str =
    "SELECT i.*, r.id AS recording_id FROM inbound_calls i LEFT JOIN recordings r ON r.inbound_id = i.id";

fn inbound_from_row(row: &DbRow) -> Result<InboundRow> {
    let outcome = opt_text(row, "outcome")?;
    let count = |col: &str| -> Result<Option<u64>> {
        row.try_get::<Option<i64>, _>(col)?.map(|v| u64::try_from(v).map_err(|e| corrupt(col, e))).transpose()
    };
    let recording =
        match (opt_text(row, "path")?, opt_text(row, "sha256")?, count("bytes")?, count("millis")?) {
            (Some(path), Some(sha256), Some(bytes), Some(millis)) => {
                Some(NewRecording { path, sha256, bytes, millis })
            }
            _ => None,
        };
    Ok(InboundRow {
        id: int(row, "id")?,
        at: time(row, "at")?,
        call: NewInbound {
            number_masked: text(row, "number_masked")?,
            number_sha256: text(row, "number_sha256")?,
            dialled: text(row, "dialled")?,
            case: opt_id(row, "case_id", CaseId::parse)?,
            contact_point: opt_id(row, "contact_point", ContactId::parse)?,
            node: opt_text(row, "node")?.unwrap_or_default(),
        },
        end: match outcome {
            None => None,
            Some(outcome) => Some(InboundEnd {
                collector: opt_text(row, "collector")?,
                outcome,
                talk_secs: small(row, "talk_secs")?,
                recording,
            }),
        },
        ended_at: opt_time(row, "ended_at")?,
        recording_id: row.try_get::<Option<i64>, _>("recording_id")?,
    })
}

/// Ends call in `call` as `end` in `tx`: its row, its recording in the vault's list, its
/// `call.inbound` event.
async fn end_inbound(
    tx: &mut Tx,
    call: &InboundRow,
    end: &InboundEnd,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let id = call.id;
    if call.end.is_some() {
        return Err(Invalid::new(Code::Inconsistent, format!("inbound call {id} has ended already")).into());
    }
    let r = end.recording.as_ref();
    let as_i64 = |v: u64| i64::try_from(v).map_err(|e| corrupt("bytes", e));
    sqlx::query(
        "UPDATE inbound_calls SET collector = $1, outcome = $2, talk_secs = $3, path = $4, sha256 = $5, \
         bytes = $6, millis = $7, ended_at = $8 WHERE id = $9",
    )
    .bind(end.collector.as_deref())
    .bind(&end.outcome)
    .bind(i64::from(end.talk_secs))
    .bind(r.map(|r| r.path.as_str()))
    .bind(r.map(|r| r.sha256.as_str()))
    .bind(r.map(|r| as_i64(r.bytes)).transpose()?)
    .bind(r.map(|r| as_i64(r.millis)).transpose()?)
    .bind(DbTime::new(now))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let mut recording_id = None;
    if let Some(r) = r {
        let Some(case) = &call.call.case else {
            return Err(Invalid::new(
                Code::Inconsistent,
                format!("inbound call {id} matched no case: its recording has nowhere to be kept"),
            )
            .into());
        };
        let row = sqlx::query(
            "INSERT INTO recordings (inbound_id, case_id, path, sha256, bytes, millis, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(id)
        .bind(case.as_str())
        .bind(&r.path)
        .bind(&r.sha256)
        .bind(as_i64(r.bytes)?)
        .bind(as_i64(r.millis)?)
        .bind(DbTime::new(now))
        .fetch_one(&mut **tx)
        .await?;
        recording_id = Some(int(&row, "id")?);
    }
    let subject = call.call.case.as_ref().map_or_else(|| format!("inbound-{id}"), |c| c.as_str().to_owned());
    let payload = json!({
        "inbound": id,
        "number": call.call.number_masked,
        "number_sha256": call.call.number_sha256,
        "dialled": call.call.dialled,
        "contact_point": call.call.contact_point.as_ref().map(ContactId::as_str),
        "collector": end.collector,
        "outcome": end.outcome,
        "talk_secs": end.talk_secs,
        "recording": r.map(|r| json!({
            "id": recording_id, "path": r.path, "sha256": r.sha256, "bytes": r.bytes, "millis": r.millis,
        })),
    });
    append(tx, &Event::new(now, actor, EventKind::CallInbound, &subject, &payload)).await?;
    Ok(())
}

/// The note an interrupted call's attempt carries.
const INTERRUPTED_NOTE: &str = "通话中断：拨打该电话的服务在通话中停止，重启后记录；录音未能保存。The server carrying this call stopped mid-call; recorded at its restart, without a recording.";

async fn interrupted_calls(
    write: &DbPool,
    node: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Vec<InterruptedCall>> {
    required("node", node)?;
    let rows = sqlx::query(
        "SELECT l.started_id, l.recording, s.started_by FROM live_calls l \
             LEFT JOIN attempts_started s ON s.id = l.started_id WHERE l.node = $1 ORDER BY l.started_id",
    )
    .bind(node)
    .fetch_all(write)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let started = int(row, "started_id")?;
        let recording = text(row, "recording")?;
        let started_by = opt_text(row, "started_by")?;
        let attempt = match finish_started(
            write,
            started,
            Outcome::Interrupted,
            0,
            Some(INTERRUPTED_NOTE),
            None,
            actor,
            now,
        )
        .await
        {
            Ok(id) => Some(id),
            // Expired: the gate records it without a result; gone: finished meanwhile.
            Err(StoreError::Invalid(i)) if i.code == Code::Expired => None,
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        // Left behind only when the start outlived its expiry.
        sqlx::query("DELETE FROM live_calls WHERE started_id = $1").bind(started).execute(write).await?;
        out.push(InterruptedCall { started, attempt, recording, started_by });
    }
    Ok(out)
}

async fn wrap_up_call(
    write: &DbPool,
    attempt: i64,
    outcome: Outcome,
    note: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        daylight_domain::case::check_note(n)?;
    }
    let refines = outcome.class() == daylight_domain::attempt::OutcomeClass::Conversation
        || matches!(outcome, Outcome::ThirdPartyAnswered | Outcome::WrongNumber);
    if !refines {
        return Err(Invalid::new(
            Code::Enum,
            format!("outcome {outcome}: a wrap-up says what was said (conversation, promise_to_pay, refused, hardship, dispute, abusive, cease_request, third_party_answered or wrong_number)"),
        )
        .into());
    }
    let mut tx = begin_write(write).await?;
    let row = sqlx::query(
        "SELECT case_id, channel, outcome, recorded_by, recorded_at, contact_point_id, wrapped_up_at FROM attempts WHERE id = $1",
    )
    .bind(attempt)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| StoreError::not_found("attempt", attempt.to_string()))?;
    let case = CaseId::parse(&text(&row, "case_id")?).map_err(|e| corrupt("case_id", e))?;
    let customer = case_customer(&mut tx, &case).await?;
    lock_debtor(&mut tx, &customer).await?;
    let from: Outcome = word(&row, "outcome")?;
    if opt_time(&row, "wrapped_up_at")?.is_some() {
        return Err(
            Invalid::new(Code::Inconsistent, format!("attempt {attempt} was wrapped up already")).into()
        );
    }
    if text(&row, "channel")? != "call" || from != Outcome::Conversation {
        return Err(Invalid::new(
            Code::Inconsistent,
            format!(
                "attempt {attempt} is not a bridged call (its outcome is {from}): there is nothing to wrap up"
            ),
        )
        .into());
    }
    if text(&row, "recorded_by")? != actor {
        return Err(Invalid::new(
            Code::Inconsistent,
            format!("attempt {attempt} is another collector's call"),
        )
        .into());
    }
    let ended = time(&row, "recorded_at")?;
    if now > ended + jiff::SignedDuration::from_mins(WRAP_UP_MINUTES) {
        return Err(Invalid::new(
            Code::Expired,
            format!(
                "attempt {attempt} ended at {ended}: a wrap-up is possible for {} minutes; add a note instead",
                WRAP_UP_MINUTES
            ),
        )
        .into());
    }
    sqlx::query("UPDATE attempts SET outcome = $1, wrapped_up_at = $2 WHERE id = $3")
        .bind(outcome.as_str())
        .bind(DbTime::new(now))
        .bind(attempt)
        .execute(&mut *tx)
        .await?;
    if let Some(n) = note {
        sqlx::query("INSERT INTO notes (case_id, attempt_id, author, at, text) VALUES ($1, $2, $3, $4, $5)")
            .bind(case.as_str())
            .bind(attempt)
            .bind(actor)
            .bind(DbTime::new(now))
            .bind(n)
            .execute(&mut *tx)
            .await?;
    }
    if let (Some(point), Some(status)) = (opt_text(&row, "contact_point_id")?, outcome.contact_status()) {
        sqlx::query("UPDATE contact_points SET status = $1, status_at = $2, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(DbTime::new(now))
            .bind(point)
            .execute(&mut *tx)
            .await?;
    }
    let mut chain = Chain::default();
    let payload = json!({
        "attempt": attempt,
        "from": from.as_str(),
        "to": outcome.as_str(),
        "note_sha256": note.map(digest),
    });
    chain
        .append(&mut tx, &Event::new(now, actor, EventKind::AttemptWrappedUp, case.as_str(), &payload))
        .await?;
    if outcome == Outcome::CeaseRequest {
        let mut flags = read_flags(&mut tx, &customer).await?;
        if !flags.cease {
            flags.cease = true;
            write_flags(&mut tx, &mut chain, &customer, &flags, actor, now).await?;
        }
    }
    chain.close(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn set_legal_hold(
    write: &DbPool,
    case: &CaseId,
    reason: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    let reason = reason.map(str::trim);
    if let Some(r) = reason {
        required("reason", r)?;
        daylight_domain::case::check_note(r)?;
    }
    let mut tx = begin_write(write).await?;
    // Exists, or not found.
    case_customer(&mut tx, case).await?;
    let held: Option<String> = sqlx::query_scalar("SELECT reason FROM legal_holds WHERE case_id = $1")
        .bind(case.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    match (reason, &held) {
        (Some(r), _) => {
            sqlx::query(
                "INSERT INTO legal_holds (case_id, reason, held_by, held_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (case_id) DO UPDATE SET reason = excluded.reason, held_by = excluded.held_by, \
                 held_at = excluded.held_at",
            )
            .bind(case.as_str())
            .bind(r)
            .bind(actor)
            .bind(DbTime::new(now))
            .execute(&mut *tx)
            .await?;
        }
        (None, None) => {
            return Err(
                Invalid::new(Code::Inconsistent, format!("case {case} is not under a legal hold")).into()
            );
        }
        (None, Some(_)) => {
            sqlx::query("DELETE FROM legal_holds WHERE case_id = $1")
                .bind(case.as_str())
                .execute(&mut *tx)
                .await?;
        }
    }
    let payload = json!({ "held": reason.is_some(), "reason": reason.or(held.as_deref()) });
    append(&mut tx, &Event::new(now, actor, EventKind::LegalHold, case.as_str(), &payload)).await?;
    tx.commit().await?;
    Ok(())
}

#[async_trait]
impl CallStore for Adapter {
    async fn dial_number(&self, case: &CaseId, point: &ContactId) -> Result<String> {
        dial_number(&self.read, &*self.keyring().await?, case, point).await
    }

    async fn finish_call(
        &self,
        started: i64,
        outcome: Outcome,
        duration_secs: u32,
        recording: Option<&NewRecording>,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        finish_started(&self.write, started, outcome, duration_secs, note, recording, actor, now).await
    }

    async fn withdraw_call(&self, started: i64, reason: &str, actor: &str, now: Timestamp) -> Result<()> {
        withdraw_started(&self.write, started, reason, actor, now).await
    }

    async fn call_placed(&self, started: i64, node: &str, recording: &str, now: Timestamp) -> Result<()> {
        required("node", node)?;
        required("recording", recording)?;
        let mut tx = begin_write(&self.write).await?;
        let done = sqlx::query(
            "INSERT INTO live_calls (started_id, node, recording, placed_at) \
             SELECT id, $2, $3, $4 FROM attempts_started WHERE id = $1",
        )
        .bind(started)
        .bind(node)
        .bind(recording)
        .bind(DbTime::new(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("started attempt", started.to_string()));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn start_call(
        &self,
        planned: &Planned,
        node: &str,
        recording: &(dyn Fn(i64) -> String + Sync),
        actor: &str,
        now: Timestamp,
    ) -> Result<Gated> {
        gate_start(&self.write, planned, actor, now, Some((node, recording))).await
    }

    async fn interrupted_calls(
        &self,
        node: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<InterruptedCall>> {
        interrupted_calls(&self.write, node, actor, now).await
    }

    async fn wrap_up_call(
        &self,
        attempt: i64,
        outcome: Outcome,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        wrap_up_call(&self.write, attempt, outcome, note, actor, now).await
    }

    async fn set_legal_hold(
        &self,
        case: &CaseId,
        reason: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        set_legal_hold(&self.write, case, reason, actor, now).await
    }

    async fn legal_holds(&self) -> Result<Vec<LegalHold>> {
        let rows = sqlx::query("SELECT * FROM legal_holds ORDER BY case_id").fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                Ok(LegalHold {
                    case: CaseId::parse(&text(r, "case_id")?).map_err(|e| corrupt("case_id", e))?,
                    reason: text(r, "reason")?,
                    held_by: text(r, "held_by")?,
                    held_at: time(r, "held_at")?,
                })
            })
            .collect()
    }

    async fn recordings_due(&self, cutoff: Timestamp) -> Result<Vec<RecordingRow>> {
        let rows = sqlx::query(
            "SELECT r.* FROM recordings r WHERE r.purged_at IS NULL AND r.recorded_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.case_id = r.case_id) \
             AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = r.case_id AND a.at >= $1) \
             AND NOT EXISTS (SELECT 1 FROM attempts_started s WHERE s.case_id = r.case_id) \
             AND NOT EXISTS (SELECT 1 FROM inbound_calls i WHERE i.case_id = r.case_id \
                             AND (i.at >= $1 OR i.outcome IS NULL)) \
             ORDER BY r.id",
        )
        .bind(DbTime::new(cutoff))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(recording_from_row).collect()
    }

    async fn recording_purged(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        required("actor", actor)?;
        let mut tx = begin_write(&self.write).await?;
        let r = recording_by_id(&mut *tx, id).await?;
        if r.purged_at.is_some() {
            return Err(Invalid::new(Code::Inconsistent, format!("recording {id} was purged already")).into());
        }
        let held: Option<String> = sqlx::query_scalar("SELECT reason FROM legal_holds WHERE case_id = $1")
            .bind(r.case.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(reason) = held {
            return Err(Invalid::new(
                Code::LegalHold,
                format!("case {} is under a legal hold ({reason}): its recordings are kept", r.case),
            )
            .into());
        }
        sqlx::query("UPDATE recordings SET purged_at = $1 WHERE id = $2")
            .bind(DbTime::new(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let payload = json!({ "recording": id, "attempt": r.attempt, "inbound": r.inbound, "sha256": r.file.sha256, "path": r.file.path });
        append(&mut tx, &Event::new(now, actor, EventKind::RecordingPurged, r.case.as_str(), &payload))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn recordings_of(&self, case: &CaseId) -> Result<Vec<RecordingRow>> {
        let rows = sqlx::query("SELECT * FROM recordings WHERE case_id = $1 ORDER BY id")
            .bind(case.as_str())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(recording_from_row).collect()
    }

    async fn recording(&self, id: i64) -> Result<RecordingRow> {
        recording_by_id(&self.read, id).await
    }

    async fn agent(&self, login: &str) -> Result<AgentRow> {
        let sql = format!("{AGENT_SELECT} WHERE u.login = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(login)
            .fetch_optional(&self.read)
            .await?
            .ok_or_else(|| StoreError::not_found("user", login))?;
        agent_from_row(&row)
    }

    async fn set_agent_state(
        &self,
        login: &str,
        state: daylight_domain::agent::AgentState,
        reason: Option<daylight_domain::agent::PauseReason>,
        now: Timestamp,
    ) -> Result<()> {
        required("login", login)?;
        let mut tx = begin_write(&self.write).await?;
        // No calls counted yet: the first call's day starts the counts.
        sqlx::query(
            "INSERT INTO agent_states (login, state, reason, day, since) VALUES ($1, $2, $3, '', $4) \
             ON CONFLICT (login) DO UPDATE SET state = excluded.state, reason = excluded.reason, \
             since = CASE WHEN agent_states.state = excluded.state \
                          AND agent_states.reason IS NOT DISTINCT FROM excluded.reason \
                     THEN agent_states.since ELSE excluded.since END",
        )
        .bind(login)
        .bind(state.as_str())
        .bind(reason.map(|r| r.as_str()))
        .bind(DbTime::new(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn agent_call_done(&self, login: &str, day: &str, talk_secs: u32, now: Timestamp) -> Result<()> {
        required("login", login)?;
        let mut tx = begin_write(&self.write).await?;
        sqlx::query(
            "INSERT INTO agent_states (login, state, reason, day, calls, talk_secs, since) \
             VALUES ($1, 'ready', NULL, $2, 1, $3, $4) \
             ON CONFLICT (login) DO UPDATE SET \
             calls = CASE WHEN agent_states.day = excluded.day THEN agent_states.calls + 1 ELSE 1 END, \
             talk_secs = CASE WHEN agent_states.day = excluded.day THEN agent_states.talk_secs + excluded.talk_secs \
                         ELSE excluded.talk_secs END, \
             day = excluded.day",
        )
        .bind(login)
        .bind(day)
        .bind(i64::from(talk_secs))
        .bind(DbTime::new(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn agent_board(&self, team: &str) -> Result<Vec<AgentRow>> {
        let sql = format!(
            "{AGENT_SELECT} WHERE u.team = $1 AND u.role = 'collector' AND u.disabled = $2 ORDER BY u.login"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(team).bind(false).fetch_all(&self.read).await?;
        rows.iter().map(agent_from_row).collect()
    }

    async fn recording_by_attempt(&self, attempt: i64) -> Result<Option<RecordingRow>> {
        let row = sqlx::query("SELECT * FROM recordings WHERE attempt_id = $1")
            .bind(attempt)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(recording_from_row).transpose()
    }

    async fn callers(&self, number: &str) -> Result<Vec<CallerMatch>> {
        let [a, b, c] = number_forms(number);
        if b.is_empty() {
            return Ok(Vec::new());
        }
        // By the numbers' blind indexes: the stored numbers are sealed.
        let ring = self.keyring().await?;
        let [a, b, c] = [a, b, c].map(|n| ring.blind(BLIND_CONTACT, &n));
        let rows = sqlx::query(
            "SELECT c.id AS case_id, p.id AS point, p.role, c.collector, c.team FROM contact_points p \
             JOIN cases c ON c.customer_id = p.customer_id \
             WHERE p.kind = 'phone' AND p.value_bidx IN ($1, $2, $3) \
             ORDER BY CASE WHEN c.status = 'open' THEN 0 ELSE 1 END, c.updated_at DESC, c.id",
        )
        .bind(a)
        .bind(b)
        .bind(c)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CallerMatch {
                    case: id(r, "case_id", CaseId::parse)?,
                    contact_point: id(r, "point", ContactId::parse)?,
                    role: text(r, "role")?,
                    collector: opt_text(r, "collector")?,
                    team: opt_text(r, "team")?,
                })
            })
            .collect()
    }

    async fn inbound_started(&self, call: &NewInbound, now: Timestamp) -> Result<i64> {
        required("number_sha256", &call.number_sha256)?;
        let mut tx = begin_write(&self.write).await?;
        let row = sqlx::query(
            "INSERT INTO inbound_calls (at, number_masked, number_sha256, dialled, case_id, contact_point, node) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(DbTime::new(now))
        .bind(&call.number_masked)
        .bind(&call.number_sha256)
        .bind(&call.dialled)
        .bind(call.case.as_ref().map(CaseId::as_str))
        .bind(call.contact_point.as_ref().map(ContactId::as_str))
        .bind(Some(call.node.as_str()).filter(|n| !n.is_empty()))
        .fetch_one(&mut *tx)
        .await?;
        let id = int(&row, "id")?;
        tx.commit().await?;
        Ok(id)
    }

    async fn inbound_finished(&self, id: i64, end: &InboundEnd, actor: &str, now: Timestamp) -> Result<()> {
        required("actor", actor)?;
        if !OUTCOMES_IN.contains(&end.outcome.as_str()) {
            return Err(Invalid::new(
                Code::Enum,
                format!(
                    "outcome {:?}: expected answered, missed, abandoned, unmatched or interrupted",
                    end.outcome
                ),
            )
            .into());
        }
        let mut tx = begin_write(&self.write).await?;
        let row = sqlx::query(AssertSqlSafe(format!("{INBOUND_SELECT} WHERE i.id = $1")))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("inbound call", id.to_string()))?;
        let call = inbound_from_row(&row)?;
        end_inbound(&mut tx, &call, end, actor, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn inbound_calls_of(&self, case: &CaseId) -> Result<Vec<InboundRow>> {
        let rows =
            sqlx::query(AssertSqlSafe(format!("{INBOUND_SELECT} WHERE i.case_id = $1 ORDER BY i.id DESC")))
                .bind(case.as_str())
                .fetch_all(&self.read)
                .await?;
        rows.iter().map(inbound_from_row).collect()
    }

    async fn inbound_offered(&self, id: i64, collector: &str) -> Result<()> {
        required("collector", collector)?;
        let mut tx = begin_write(&self.write).await?;
        sqlx::query("UPDATE inbound_calls SET collector = $1 WHERE id = $2 AND outcome IS NULL")
            .bind(collector)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn interrupted_calls_in(&self, node: &str, actor: &str, now: Timestamp) -> Result<Vec<InboundRow>> {
        required("node", node)?;
        required("actor", actor)?;
        let mut tx = begin_write(&self.write).await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{INBOUND_SELECT} WHERE i.node = $1 AND i.outcome IS NULL ORDER BY i.id"
        )))
        .bind(node)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut call = inbound_from_row(row)?;
            // The collector last offered the call, noted while it was live.
            let collector = opt_text(row, "collector")?;
            let end = InboundEnd { collector, outcome: "interrupted".into(), talk_secs: 0, recording: None };
            end_inbound(&mut tx, &call, &end, actor, now).await?;
            call.end = Some(end);
            call.ended_at = Some(now);
            out.push(call);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn call_supervised(
        &self,
        case: &CaseId,
        call: i64,
        collector: &str,
        action: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        required("actor", actor)?;
        required("collector", collector)?;
        if !matches!(action, "listen" | "whisper" | "barge" | "end" | "hangup") {
            return Err(Invalid::new(
                Code::Enum,
                format!("action {action:?}: expected listen, whisper, barge, end or hangup"),
            )
            .into());
        }
        let mut tx = begin_write(&self.write).await?;
        let payload = json!({ "call": call, "collector": collector, "action": action });
        append(&mut tx, &Event::new(now, actor, EventKind::CallSupervised, case.as_str(), &payload)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn recording_accessed(&self, id: i64, how: &str, actor: &str, now: Timestamp) -> Result<()> {
        required("actor", actor)?;
        if !matches!(how, "listen" | "download" | "export" | "recognize") {
            return Err(Invalid::new(
                Code::Inconsistent,
                format!("access {how:?}: expected listen, download, export or recognize"),
            )
            .into());
        }
        let mut tx = begin_write(&self.write).await?;
        let r = recording_by_id(&mut *tx, id).await?;
        let payload = json!({ "recording": id, "attempt": r.attempt, "how": how, "sha256": r.file.sha256 });
        append(&mut tx, &Event::new(now, actor, EventKind::RecordingAccessed, r.case.as_str(), &payload))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
