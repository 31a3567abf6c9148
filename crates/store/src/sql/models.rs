// Shared by both adapters (see common.rs). This part: the model registry.

/// Checks a model name: lower-case letters, digits, `-` and `_`, at most 64.
fn check_model_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(Invalid::new(
            Code::IdFormat,
            format!("model name {name:?}; expected lower-case letters, digits, - and _ (at most 64)"),
        )
        .into());
    }
    Ok(())
}

fn model_from_row(row: &DbRow) -> Result<ModelVersion> {
    Ok(ModelVersion {
        name: text(row, "name")?,
        version: int(row, "version")?,
        source: text(row, "source")?,
        status: text(row, "status")?,
        sha256: text(row, "sha256")?,
        metrics: text(row, "metrics")?,
        created_by: text(row, "created_by")?,
        created_at: time(row, "created_at")?,
    })
}

async fn insert_model(write: &DbPool, m: &NewModel, actor: &str, now: Timestamp) -> Result<ModelVersion> {
    required("actor", actor)?;
    check_model_name(&m.name)?;
    if !["daylight", "xgboost", "lightgbm"].contains(&m.source.as_str()) {
        return Err(Invalid::new(
            Code::Enum,
            format!("model source {:?}; expected daylight, xgboost or lightgbm", m.source),
        )
        .into());
    }
    serde_json::from_str::<serde_json::Value>(&m.metrics)
        .map_err(|e| Invalid::new(Code::Inconsistent, format!("metrics are not JSON: {e}")))?;
    required("document", &m.document)?;
    let mut tx = begin_write(write).await?;
    // The newest version row, locked, so two registrations never take the same number.
    let last: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT version FROM models WHERE name = $1 ORDER BY version DESC LIMIT 1{FOR_UPDATE}"
    )))
    .bind(&m.name)
    .fetch_optional(&mut *tx)
    .await?;
    let version = last.unwrap_or(0) + 1;
    let sha = digest(&m.document);
    sqlx::query(
        "INSERT INTO models (name, version, source, status, sha256, metrics, document, created_by, created_at) \
         VALUES ($1, $2, $3, 'challenger', $4, $5, $6, $7, $8)",
    )
    .bind(&m.name)
    .bind(version)
    .bind(&m.source)
    .bind(&sha)
    .bind(&m.metrics)
    .bind(&m.document)
    .bind(actor)
    .bind(DbTime::new(now))
    .execute(&mut *tx)
    .await?;
    let payload = json!({"version": version, "source": m.source, "sha256": sha, "metrics": serde_json::from_str::<serde_json::Value>(&m.metrics).unwrap_or_default()});
    append(
        &mut tx,
        &Event::new(now, actor, EventKind::ModelRegistered, format!("model:{}", m.name), &payload),
    )
    .await?;
    tx.commit().await?;
    Ok(ModelVersion {
        name: m.name.clone(),
        version,
        source: m.source.clone(),
        status: "challenger".into(),
        sha256: sha,
        metrics: m.metrics.clone(),
        created_by: actor.to_owned(),
        created_at: now,
    })
}

const MODEL_COLUMNS: &str = "name, version, source, status, sha256, metrics, created_by, created_at";

async fn select_models(read: &DbPool, name: Option<&str>) -> Result<Vec<ModelVersion>> {
    let rows = match name {
        Some(n) => {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT {MODEL_COLUMNS} FROM models WHERE name = $1 ORDER BY version DESC"
            )))
            .bind(n)
            .fetch_all(read)
            .await?
        }
        None => {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT {MODEL_COLUMNS} FROM models ORDER BY name, version DESC"
            )))
            .fetch_all(read)
            .await?
        }
    };
    rows.iter().map(model_from_row).collect()
}

async fn select_model_document(
    read: &DbPool,
    name: &str,
    version: Option<i64>,
) -> Result<(ModelVersion, String)> {
    let row = match version {
        Some(v) => {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT {MODEL_COLUMNS}, document FROM models WHERE name = $1 AND version = $2"
            )))
            .bind(name)
            .bind(v)
            .fetch_optional(read)
            .await?
        }
        None => {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT {MODEL_COLUMNS}, document FROM models WHERE name = $1 AND status = 'champion'"
            )))
            .bind(name)
            .fetch_optional(read)
            .await?
        }
    };
    let what = match version {
        Some(v) => format!("{name} version {v}"),
        None => format!("{name} (no champion yet: promote a version)"),
    };
    let row = row.ok_or_else(|| StoreError::not_found("model", what))?;
    Ok((model_from_row(&row)?, text(&row, "document")?))
}

async fn set_champion(
    write: &DbPool,
    name: &str,
    version: i64,
    actor: &str,
    now: Timestamp,
) -> Result<ModelVersion> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {MODEL_COLUMNS} FROM models WHERE name = $1 AND version = $2{FOR_UPDATE}"
    )))
    .bind(name)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| StoreError::not_found("model", format!("{name} version {version}")))?;
    let mut chosen = model_from_row(&row)?;
    if chosen.status == "champion" {
        return Err(Invalid::new(
            Code::Transition,
            format!("{name} version {version} is the champion already"),
        )
        .into());
    }
    let before: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT version FROM models WHERE name = $1 AND status = 'champion'{FOR_UPDATE}"
    )))
    .bind(name)
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query("UPDATE models SET status = 'retired' WHERE name = $1 AND status = 'champion'")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE models SET status = 'champion' WHERE name = $1 AND version = $2")
        .bind(name)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    let payload = json!({"version": version, "was": chosen.status, "retired": before});
    append(&mut tx, &Event::new(now, actor, EventKind::ModelPromoted, format!("model:{name}"), &payload))
        .await?;
    tx.commit().await?;
    chosen.status = "champion".into();
    Ok(chosen)
}

// ----- experiments -----

fn experiment_from_row(row: &DbRow) -> Result<Experiment> {
    Ok(Experiment {
        name: text(row, "name")?,
        arms: text(row, "arms")?,
        salt: text(row, "salt")?,
        created_by: text(row, "created_by")?,
        created_at: time(row, "created_at")?,
    })
}

async fn insert_experiment(
    write: &DbPool,
    e: &NewExperiment,
    actor: &str,
    now: Timestamp,
) -> Result<Experiment> {
    required("actor", actor)?;
    check_model_name(&e.name).map_err(|_| {
        Invalid::new(
            Code::IdFormat,
            format!(
                "experiment name {:?}; expected lower-case letters, digits, - and _ (at most 64)",
                e.name
            ),
        )
    })?;
    required("arms", &e.arms)?;
    required("salt", &e.salt)?;
    let mut tx = begin_write(write).await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM experiments WHERE name = $1")
        .bind(&e.name)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(Invalid::new(
            Code::Exists,
            format!(
                "experiment {:?} exists; its arms and salt never change (create one under a new name)",
                e.name
            ),
        )
        .into());
    }
    sqlx::query(
        "INSERT INTO experiments (name, arms, salt, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&e.name)
    .bind(&e.arms)
    .bind(&e.salt)
    .bind(actor)
    .bind(DbTime::new(now))
    .execute(&mut *tx)
    .await?;
    let payload = json!({"arms": e.arms, "salt": e.salt});
    append(
        &mut tx,
        &Event::new(now, actor, EventKind::ExperimentCreated, format!("experiment:{}", e.name), &payload),
    )
    .await?;
    tx.commit().await?;
    Ok(Experiment {
        name: e.name.clone(),
        arms: e.arms.clone(),
        salt: e.salt.clone(),
        created_by: actor.to_owned(),
        created_at: now,
    })
}

async fn select_experiments(read: &DbPool, name: Option<&str>) -> Result<Vec<Experiment>> {
    let rows = match name {
        Some(n) => {
            sqlx::query("SELECT name, arms, salt, created_by, created_at FROM experiments WHERE name = $1")
                .bind(n)
                .fetch_all(read)
                .await?
        }
        None => {
            sqlx::query("SELECT name, arms, salt, created_by, created_at FROM experiments ORDER BY id")
                .fetch_all(read)
                .await?
        }
    };
    rows.iter().map(experiment_from_row).collect()
}

fn strategy_from_row(r: &DbRow) -> Result<StrategyVersion> {
    Ok(StrategyVersion {
        version: int(r, "version")?,
        name: text(r, "name")?,
        sha256: text(r, "sha256")?,
        note: opt_text(r, "note")?,
        saved_by: text(r, "saved_by")?,
        saved_at: time(r, "saved_at")?,
    })
}

async fn insert_strategy(
    write: &DbPool,
    name: &str,
    text: &str,
    note: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<StrategyVersion> {
    required("actor", actor)?;
    required("name", name)?;
    required("text", text)?;
    let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => Some(daylight_domain::case::check_note(n)?),
        None => None,
    };
    let sha256 = digest(text);
    let mut tx = begin_write(write).await?;
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO strategies (name, text, sha256, note, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING version",
    )
    .bind(name)
    .bind(text)
    .bind(&sha256)
    .bind(note)
    .bind(actor)
    .bind(DbTime::new(now))
    .fetch_one(&mut *tx)
    .await?;
    let payload =
        json!({"version": version, "name": name, "sha256": sha256, "note_sha256": note.map(digest)});
    append(
        &mut tx,
        &Event::new(now, actor, EventKind::StrategySaved, format!("strategy:{version}"), &payload),
    )
    .await?;
    tx.commit().await?;
    Ok(StrategyVersion {
        version,
        name: name.to_owned(),
        sha256,
        note: note.map(str::to_owned),
        saved_by: actor.to_owned(),
        saved_at: now,
    })
}

async fn select_strategy(read: &DbPool, version: Option<i64>) -> Result<Option<(StrategyVersion, String)>> {
    let row = match version {
        Some(v) => {
            sqlx::query("SELECT * FROM strategies WHERE version = $1").bind(v).fetch_optional(read).await?
        }
        None => {
            sqlx::query("SELECT * FROM strategies ORDER BY version DESC LIMIT 1").fetch_optional(read).await?
        }
    };
    row.map(|r| Ok((strategy_from_row(&r)?, text(&r, "text")?))).transpose()
}

async fn select_strategy_versions(read: &DbPool) -> Result<Vec<StrategyVersion>> {
    let rows = sqlx::query(
        "SELECT version, name, sha256, note, saved_by, saved_at FROM strategies ORDER BY version DESC",
    )
    .fetch_all(read)
    .await?;
    rows.iter().map(strategy_from_row).collect()
}

#[async_trait]
impl ModelStore for Adapter {
    async fn debtor_histories(
        &self,
        filter: &HistoryFilter,
        until: Timestamp,
    ) -> Result<Vec<daylight_domain::history::DebtorHistory>> {
        read_histories(&self.read, filter, until).await
    }

    async fn register_model(&self, model: &NewModel, actor: &str, now: Timestamp) -> Result<ModelVersion> {
        insert_model(&self.write, model, actor, now).await
    }

    async fn list_models(&self, name: Option<&str>) -> Result<Vec<ModelVersion>> {
        select_models(&self.read, name).await
    }

    async fn model_document(&self, name: &str, version: Option<i64>) -> Result<(ModelVersion, String)> {
        select_model_document(&self.read, name, version).await
    }

    async fn promote_model(
        &self,
        name: &str,
        version: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<ModelVersion> {
        set_champion(&self.write, name, version, actor, now).await
    }
}
