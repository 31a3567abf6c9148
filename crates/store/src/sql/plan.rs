// Shared by both adapters (see common.rs). This part: the planner's inputs, stored plans,
// debtor tags.

use futures::TryStreamExt as _;

// The planner reads the whole portfolio, so each statement scans its table once and rows of
// debtors without an open case are dropped here (a lookup in `at`): measured on 100,000 open
// cases, a filter by `customer_id IN (open cases)` spent twice as long probing indexes.

/// The open cases as the planner reads them, in one read transaction: accounts rolled up,
/// contact points, flags, tags, and every earlier contact (started ones too), payment and
/// promise before `until`.
async fn read_plan_cases(read: &DbPool, until: Timestamp) -> Result<Vec<daylight_strategy::plan::PlanCase>> {
    use daylight_strategy::plan::{PastContact, PastPromise, PlanCase, Point};
    let cut = DbTime::new(until);
    let mut tx: Tx = read.begin().await?;
    let mut rows = sqlx::query(
        "SELECT c.id, c.customer_id, c.bucket, c.max_dpd, c.agency, u.time_zone, u.birth_date \
         FROM cases c JOIN customers u ON u.id = c.customer_id WHERE c.status = 'open' ORDER BY c.id",
    )
    .fetch(&mut *tx);
    let mut out: Vec<PlanCase> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    while let Some(row) = rows.try_next().await? {
        let row = &row;
        let customer = text(row, "customer_id")?;
        at.insert(customer.clone(), out.len());
        out.push(PlanCase {
            case: text(row, "id")?,
            customer,
            zone: text(row, "time_zone")?,
            birth_date: Some(date(row, "birth_date")?),
            bucket: word(row, "bucket")?,
            dpd: small(row, "max_dpd")?,
            overdue_fen: 0,
            credit_limit_fen: 0,
            account: None,
            statement_day: None,
            agency: opt_text(row, "agency")?,
            points: Vec::new(),
            cease: false,
            opt_out: Vec::new(),
            consented_hours: false,
            hardship: false,
            abusive: false,
            contacts: Vec::new(),
            payments: Vec::new(),
            promises: Vec::new(),
        });
    }
    drop(rows);
    // Accounts: overdue and limits summed; the worst account is the debt contacts are about.
    let mut accounts = sqlx::query(
        "SELECT id, customer_id, credit_limit, statement_day, days_past_due, \
         overdue_principal + overdue_interest + overdue_fees + overdue_late_fees AS overdue \
         FROM accounts ORDER BY customer_id, days_past_due DESC, id",
    )
    .fetch(&mut *tx);
    while let Some(row) = accounts.try_next().await? {
        let row = &row;
        let Some(&i) = at.get(&text(row, "customer_id")?) else { continue };
        let c = &mut out[i];
        c.overdue_fen += int(row, "overdue")?;
        c.credit_limit_fen += int(row, "credit_limit")?;
        // The worst account comes first: contacts are about it, and its cycle is theirs (the
        // gate takes the cycle of the account a contact names).
        if c.account.is_none() {
            c.account = Some(text(row, "id")?);
            c.statement_day = Some(small(row, "statement_day")?);
        }
    }
    drop(accounts);
    let mut points = sqlx::query(
        "SELECT id, customer_id, role, kind, status, time_zone FROM contact_points \
         ORDER BY customer_id, id",
    )
    .fetch(&mut *tx);
    while let Some(row) = points.try_next().await? {
        let row = &row;
        let Some(&i) = at.get(&text(row, "customer_id")?) else { continue };
        let role: daylight_domain::customer::ContactRole = word(row, "role")?;
        out[i].points.push(Point {
            id: text(row, "id")?,
            recipient: role.recipient(),
            kind: text(row, "kind")?,
            status: text(row, "status")?,
            zone: opt_text(row, "time_zone")?,
        });
    }
    drop(points);
    let mut flags =
        sqlx::query("SELECT customer_id, cease, opt_out, consented_hours FROM contact_flags").fetch(&mut *tx);
    while let Some(row) = flags.try_next().await? {
        let row = &row;
        let Some(&i) = at.get(&text(row, "customer_id")?) else { continue };
        out[i].cease = int(row, "cease")? != 0;
        out[i].consented_hours = int(row, "consented_hours")? != 0;
        out[i].opt_out = text(row, "opt_out")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(|e| corrupt("opt_out", e)))
            .collect::<Result<_>>()?;
    }
    drop(flags);
    let mut tags = sqlx::query("SELECT customer_id, tag FROM debtor_tags").fetch(&mut *tx);
    while let Some(row) = tags.try_next().await? {
        let row = &row;
        let Some(&i) = at.get(&text(row, "customer_id")?) else { continue };
        match text(row, "tag")?.as_str() {
            "hardship" => out[i].hardship = true,
            "abusive" => out[i].abusive = true,
            other => return Err(corrupt("tag", other)),
        }
    }
    drop(tags);
    let mut contacts = sqlx::query(
        "SELECT c.customer_id, t.at, t.channel, t.recipient, t.contact_point_id, t.account_id, t.outcome, t.duration_secs, t.id AS seq \
         FROM attempts t JOIN cases c ON c.id = t.case_id WHERE t.at < $1 \
         UNION ALL \
         SELECT c.customer_id, s.at, s.channel, s.recipient, s.contact_point_id, s.account_id, NULL, 0, -s.id \
         FROM attempts_started s JOIN cases c ON c.id = s.case_id WHERE s.at < $1 \
         ORDER BY 2, 9",
    )
    .bind(cut)
    .fetch(&mut *tx);
    while let Some(row) = contacts.try_next().await? {
        let row = &row;
        let Some(&i) = at.get(&text(row, "customer_id")?) else { continue };
        out[i].contacts.push(PastContact {
            at: time(row, "at")?,
            channel: word(row, "channel")?,
            recipient: word(row, "recipient")?,
            contact_point: opt_text(row, "contact_point_id")?,
            debt: opt_text(row, "account_id")?,
            outcome: opt_text(row, "outcome")?
                .map(|o| o.parse().map_err(|e| corrupt("outcome", e)))
                .transpose()?,
            duration_secs: small(row, "duration_secs")?,
        });
    }
    drop(contacts);
    let mut payments = sqlx::query(
        "SELECT a.customer_id, p.paid_at, p.amount FROM payments p JOIN accounts a ON a.id = p.account_id \
         WHERE p.paid_at < $1 ORDER BY p.paid_at, p.id",
    )
    .bind(cut)
    .fetch(&mut *tx);
    while let Some(row) = payments.try_next().await? {
        let row = &row;
        let Some(&i) = at.get(&text(row, "customer_id")?) else { continue };
        out[i].payments.push((time(row, "paid_at")?, int(row, "amount")?));
    }
    drop(payments);
    let mut promises = sqlx::query(
        "SELECT c.customer_id, p.created_at, p.status, p.settled_at FROM promises p JOIN cases c ON c.id = p.case_id \
         WHERE p.created_at < $1 ORDER BY p.created_at, p.id",
    )
    .bind(cut)
    .fetch(&mut *tx);
    while let Some(row) = promises.try_next().await? {
        let row = &row;
        let Some(&i) = at.get(&text(row, "customer_id")?) else { continue };
        let status: PromiseStatus = word(row, "status")?;
        out[i].promises.push(PastPromise {
            created_at: time(row, "created_at")?,
            settled_at: opt_time(row, "settled_at")?,
            kept: status == PromiseStatus::Kept,
            broken: status == PromiseStatus::Broken,
        });
    }
    drop(promises);
    tx.rollback().await?;
    Ok(out)
}

/// The pack in force as its TOML source (the shipped default until one is put in force).
async fn read_pack_source(read: &DbPool) -> Result<String> {
    let source: Option<String> = sqlx::query_scalar("SELECT value FROM config WHERE key = $1")
        .bind(CONFIG_PACK)
        .fetch_optional(read)
        .await?;
    match source {
        Some(s) => Ok(s),
        None => daylight_compliance::pack::SHIPPED
            .iter()
            .find(|(n, _)| *n == daylight_compliance::DEFAULT_PACK)
            .map(|(_, t)| (*t).to_owned())
            .ok_or_else(|| StoreError::Corrupt("the default pack is not shipped".into())),
    }
}

fn plan_from_row(row: &DbRow, with_documents: bool) -> Result<StoredPlan> {
    Ok(StoredPlan {
        date: date(row, "plan_date")?,
        version: int(row, "version")?,
        strategy: text(row, "strategy")?,
        input_sha256: text(row, "input_sha256")?,
        plan_sha256: text(row, "plan_sha256")?,
        actions: int(row, "actions")?,
        skipped: text(row, "skipped")?,
        created_by: text(row, "created_by")?,
        created_at: time(row, "created_at")?,
        input: if with_documents { Some(text(row, "input")?) } else { None },
        plan: if with_documents { Some(text(row, "plan")?) } else { None },
    })
}

async fn insert_plan(write: &DbPool, p: &NewPlan, actor: &str, now: Timestamp) -> Result<StoredPlan> {
    use jiff_sqlx::ToSqlx as _;
    required("actor", actor)?;
    for (what, doc) in [("plan input", &p.input), ("plan", &p.plan), ("skipped", &p.skipped)] {
        // Checked without building the document (a plan input runs to hundreds of megabytes).
        serde_json::from_str::<serde::de::IgnoredAny>(doc)
            .map_err(|e| Invalid::new(Code::Inconsistent, format!("the {what} is not JSON: {e}")))?;
    }
    let mut tx = begin_write(write).await?;
    let last: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT version FROM plans WHERE plan_date = $1 ORDER BY version DESC LIMIT 1{FOR_UPDATE}"
    )))
    .bind(p.date.to_sqlx())
    .fetch_optional(&mut *tx)
    .await?;
    let version = last.unwrap_or(0) + 1;
    let (input_sha, plan_sha) = (digest(&p.input), digest(&p.plan));
    sqlx::query(
        "INSERT INTO plans (plan_date, version, strategy, input, input_sha256, plan, plan_sha256, actions, skipped, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(p.date.to_sqlx())
    .bind(version)
    .bind(&p.strategy)
    .bind(&p.input)
    .bind(&input_sha)
    .bind(&p.plan)
    .bind(&plan_sha)
    .bind(p.actions)
    .bind(&p.skipped)
    .bind(actor)
    .bind(DbTime::new(now))
    .execute(&mut *tx)
    .await?;
    let payload = json!({
        "date": p.date.to_string(), "version": version, "strategy": p.strategy, "actions": p.actions,
        "skipped": serde_json::from_str::<serde_json::Value>(&p.skipped).unwrap_or_default(),
        "input_sha256": input_sha, "plan_sha256": plan_sha,
    });
    append(&mut tx, &Event::new(now, actor, EventKind::PlanSaved, format!("plan:{}", p.date), &payload))
        .await?;
    tx.commit().await?;
    Ok(StoredPlan {
        date: p.date,
        version,
        strategy: p.strategy.clone(),
        input_sha256: input_sha,
        plan_sha256: plan_sha,
        actions: p.actions,
        skipped: p.skipped.clone(),
        created_by: actor.to_owned(),
        created_at: now,
        input: None,
        plan: None,
    })
}

const PLAN_COLUMNS: &str =
    "plan_date, version, strategy, input_sha256, plan_sha256, actions, skipped, created_by, created_at";

async fn select_plan(read: &DbPool, day: Date, version: Option<i64>) -> Result<StoredPlan> {
    use jiff_sqlx::ToSqlx as _;
    let row = match version {
        Some(v) => {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT {PLAN_COLUMNS}, input, plan FROM plans WHERE plan_date = $1 AND version = $2"
            )))
            .bind(day.to_sqlx())
            .bind(v)
            .fetch_optional(read)
            .await?
        }
        None => sqlx::query(AssertSqlSafe(format!(
            "SELECT {PLAN_COLUMNS}, input, plan FROM plans WHERE plan_date = $1 ORDER BY version DESC LIMIT 1"
        )))
        .bind(day.to_sqlx())
        .fetch_optional(read)
        .await?,
    };
    let what = match version {
        Some(v) => format!("{day} version {v}"),
        None => format!("{day} (no plan made for that date)"),
    };
    plan_from_row(&row.ok_or_else(|| StoreError::not_found("plan", what))?, true)
}

async fn select_plans(read: &DbPool) -> Result<Vec<StoredPlan>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans ORDER BY plan_date DESC, version DESC"
    )))
    .fetch_all(read)
    .await?;
    rows.iter().map(|r| plan_from_row(r, false)).collect()
}

async fn write_debtor_tag(
    write: &DbPool,
    customer: &CustomerId,
    tag: &str,
    note: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    required("actor", actor)?;
    if !["hardship", "abusive"].contains(&tag) {
        return Err(Invalid::new(Code::Enum, format!("tag {tag:?}; expected hardship or abusive")).into());
    }
    let mut tx = begin_write(write).await?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM customers WHERE id = $1")
        .bind(customer.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(StoreError::not_found("customer", customer.as_str()));
    }
    match note {
        Some(n) => {
            required("note", n)?;
            sqlx::query("DELETE FROM debtor_tags WHERE customer_id = $1 AND tag = $2")
                .bind(customer.as_str())
                .bind(tag)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO debtor_tags (customer_id, tag, note, set_by, set_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(customer.as_str())
                .bind(tag)
                .bind(n)
                .bind(actor)
                .bind(DbTime::new(now))
                .execute(&mut *tx)
                .await?;
        }
        None => {
            sqlx::query("DELETE FROM debtor_tags WHERE customer_id = $1 AND tag = $2")
                .bind(customer.as_str())
                .bind(tag)
                .execute(&mut *tx)
                .await?;
        }
    }
    // The note stays in the table; the ledger keeps its digest (it may name people).
    let payload = json!({"tag": tag, "set": note.is_some(), "note_sha256": note.map(digest)});
    append(
        &mut tx,
        &Event::new(now, actor, EventKind::DebtorTagged, format!("customer:{}", customer.as_str()), &payload),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
