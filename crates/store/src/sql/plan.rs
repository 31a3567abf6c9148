// Shared by both adapters (see common.rs). This part: the planner's inputs, stored plans,
// debtor tags.

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
        input: if with_documents {
            match row.try_get::<Option<Vec<u8>>, _>("input_zstd")? {
                Some(bytes) => Some(crate::plan_rows::decompressed(&bytes)?),
                None => Some(text(row, "input")?),
            }
        } else {
            None
        },
        plan: if with_documents { Some(text(row, "plan")?) } else { None },
    })
}

async fn insert_plan(write: &DbPool, p: &NewPlan<'_>, actor: &str, now: Timestamp) -> Result<StoredPlan> {
    required("actor", actor)?;
    let (input, input_sha) = (&p.input.zstd, p.input.sha256.clone());
    let plan = &p.plan.json;
    let plan_sha = digest(plan);
    let skipped = p.plan.skipped.to_string();
    let actions = i64::try_from(p.plan.actions).unwrap_or(i64::MAX);
    let date = p.plan.date;
    if p.input.date != date {
        return Err(Invalid::new(
            Code::Inconsistent,
            format!("the plan is for {date} but its input for {}", p.input.date),
        )
        .into());
    }
    let mut tx = begin_write(write).await?;
    let last: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT version FROM plans WHERE plan_date = $1 ORDER BY version DESC LIMIT 1{FOR_UPDATE}"
    )))
    .bind(date.to_sqlx())
    .fetch_optional(&mut *tx)
    .await?;
    let version = last.unwrap_or(0) + 1;
    sqlx::query(
        "INSERT INTO plans (plan_date, version, strategy, input_zstd, input_sha256, plan, plan_sha256, actions, skipped, created_by, created_at, strategy_source) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(date.to_sqlx())
    .bind(version)
    .bind(&p.plan.strategy)
    .bind(input)
    .bind(&input_sha)
    .bind(plan)
    .bind(&plan_sha)
    .bind(actions)
    .bind(&skipped)
    .bind(actor)
    .bind(DbTime::new(now))
    .bind(&p.input.strategy)
    .execute(&mut *tx)
    .await?;
    let payload = json!({
        "date": date.to_string(), "version": version, "strategy": p.plan.strategy, "actions": actions,
        "skipped": p.plan.skipped, "input_sha256": input_sha, "plan_sha256": plan_sha,
    });
    append(&mut tx, &Event::new(now, actor, EventKind::PlanSaved, format!("plan:{date}"), &payload)).await?;
    tx.commit().await?;
    Ok(StoredPlan {
        date,
        version,
        strategy: p.plan.strategy.clone(),
        input_sha256: input_sha,
        plan_sha256: plan_sha,
        actions,
        skipped,
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
                "SELECT {PLAN_COLUMNS}, input, input_zstd, plan FROM plans WHERE plan_date = $1 AND version = $2"
            )))
            .bind(day.to_sqlx())
            .bind(v)
            .fetch_optional(read)
            .await?
        }
        None => sqlx::query(AssertSqlSafe(format!(
            "SELECT {PLAN_COLUMNS}, input, input_zstd, plan FROM plans WHERE plan_date = $1 ORDER BY version DESC LIMIT 1"
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
    if !crate::qc::QC_TAGS.contains(&tag) {
        return Err(
            Invalid::new(Code::Enum, format!("tag {tag:?}; expected hardship, abusive or anxious")).into()
        );
    }
    let mut tx = begin_write(write).await?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM customers WHERE id = $1")
        .bind(customer.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(StoreError::not_found("customer", customer.as_str()));
    }
    set_tag(&mut tx, customer.as_str(), tag, note, actor, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn read_plan_strategy(pool: &DbPool, date: Date, version: i64) -> Result<Option<String>> {
    use jiff_sqlx::ToSqlx as _;
    let row: Option<Option<String>> =
        sqlx::query_scalar("SELECT strategy_source FROM plans WHERE plan_date = $1 AND version = $2")
            .bind(date.to_sqlx())
            .bind(version)
            .fetch_optional(pool)
            .await?;
    match row {
        None => Err(StoreError::not_found("plan", format!("{date} v{version}"))),
        Some(Some(text)) => Ok(Some(text)),
        // Stored before the column: the text is in the input.
        Some(None) => {
            let stored = select_plan(pool, date, Some(version)).await?;
            #[derive(serde::Deserialize)]
            struct Only {
                strategy: String,
            }
            Ok(stored.input.as_deref().and_then(|i| serde_json::from_str::<Only>(i).ok()).map(|o| o.strategy))
        }
    }
}

#[async_trait]
impl PlanStore for Adapter {
    async fn plan_cases(&self, until: Timestamp) -> Result<Vec<daylight_domain::facts::PlanCase>> {
        self.read_plan_cases(until).await
    }

    async fn save_plan(&self, plan: &NewPlan<'_>, actor: &str, now: Timestamp) -> Result<StoredPlan> {
        insert_plan(&self.write, plan, actor, now).await
    }

    async fn stored_plan(&self, date: Date, version: Option<i64>) -> Result<StoredPlan> {
        select_plan(&self.read, date, version).await
    }

    async fn list_plans(&self) -> Result<Vec<StoredPlan>> {
        select_plans(&self.read).await
    }

    async fn plan_strategy(&self, date: Date, version: i64) -> Result<Option<String>> {
        read_plan_strategy(&self.read, date, version).await
    }

    async fn create_experiment(
        &self,
        experiment: &NewExperiment,
        actor: &str,
        now: Timestamp,
    ) -> Result<Experiment> {
        insert_experiment(&self.write, experiment, actor, now).await
    }

    async fn save_strategy(
        &self,
        name: &str,
        text: &str,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<StrategyVersion> {
        insert_strategy(&self.write, name, text, note, actor, now).await
    }

    async fn strategy(&self, version: Option<i64>) -> Result<Option<(StrategyVersion, String)>> {
        select_strategy(&self.read, version).await
    }

    async fn strategy_versions(&self) -> Result<Vec<StrategyVersion>> {
        select_strategy_versions(&self.read).await
    }

    async fn experiment(&self, name: &str) -> Result<Experiment> {
        select_experiments(&self.read, Some(name))
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found("experiment", name.to_owned()))
    }

    async fn list_experiments(&self) -> Result<Vec<Experiment>> {
        select_experiments(&self.read, None).await
    }
}
