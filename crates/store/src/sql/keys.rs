// Shared by both adapters (see common.rs). This part: the keys that seal personal data at rest
// (crate::keys), loaded once per KEY_RELOAD, their rotation, and the re-sealing of stored values.

use crate::keys::{KeyCache, Keyring, MasterKey, StoredKey};
use crate::rows::{BLIND_CONTACT, BLIND_NAME, BLIND_RESIDENT};

/// A table's sealed columns: each with the blind index kept beside it, if any, and its domain.
struct SealedTable {
    table: &'static str,
    key: &'static str,
    int_key: bool,
    /// The associated data of every column of the table, if not each column's own
    /// `table.column`.
    aad: Option<&'static str>,
    columns: &'static [(&'static str, Option<(&'static str, &'static str)>)],
}

/// Every sealed column. A column named here is written only through [`Keyring::seal`].
const SEALED_TABLES: &[SealedTable] = &[
    SealedTable {
        table: "customers",
        key: "id",
        int_key: false,
        aad: None,
        columns: &[
            ("name", Some(("name_bidx", BLIND_NAME))),
            ("resident_id", Some(("resident_id_bidx", BLIND_RESIDENT))),
            ("employer", None),
            ("address", None),
        ],
    },
    SealedTable {
        table: "contact_points",
        key: "id",
        int_key: false,
        aad: None,
        columns: &[("value", Some(("value_bidx", BLIND_CONTACT))), ("name", None)],
    },
    SealedTable {
        table: "number_proposals",
        key: "id",
        int_key: true,
        aad: None,
        columns: &[("number", Some(("number_bidx", BLIND_CONTACT))), ("name", None)],
    },
    SealedTable { table: "qc_calls", key: "id", int_key: true, aad: None, columns: &[("transcript", None)] },
    SealedTable {
        table: "users",
        key: "login",
        int_key: false,
        // Confirming an enrolment moves the sealed secret from one column to the other.
        aad: Some(TOTP_AAD),
        columns: &[("totp_secret", None), ("totp_pending", None)],
    },
];

/// Rows re-sealed per transaction.
const RESEAL_PAGE: i64 = 500;

const STORED_KEYS: &str = "SELECT id, purpose, master, wrapped, active FROM data_keys ORDER BY id";

async fn read_stored_keys(pool: &DbPool) -> Result<Vec<StoredKey>> {
    stored_keys(&sqlx::query(STORED_KEYS).fetch_all(pool).await?)
}

fn stored_keys(rows: &[DbRow]) -> Result<Vec<StoredKey>> {
    rows.iter()
        .map(|r| {
            Ok(StoredKey {
                id: int(r, "id")?,
                purpose: text(r, "purpose")?,
                master: text(r, "master")?,
                wrapped: text(r, "wrapped")?,
                active: r.try_get::<bool, _>("active")?,
            })
        })
        .collect()
}

/// Inserts `k` unless its id is taken; whether it was inserted.
async fn insert_key(tx: &mut Tx, k: &StoredKey) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO data_keys (id, purpose, master, wrapped, active) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(k.id)
    .bind(&k.purpose)
    .bind(&k.master)
    .bind(&k.wrapped)
    .bind(k.active)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The database's keys unwrapped; a database with none gets its first data key and its index
/// key (and the default master key file, if there is none yet).
async fn load_keyring(write: &DbPool, cache: &KeyCache) -> Result<Keyring> {
    let mut stored = read_stored_keys(write).await?;
    if stored.is_empty() {
        let master = cache.master(true)?;
        let mut tx = begin_write(write).await?;
        // Two processes starting at once: the first insert of each id wins, and both read it.
        insert_key(&mut tx, &StoredKey::generate(0, "index", &*master, false)?).await?;
        insert_key(&mut tx, &StoredKey::generate(1, "data", &*master, true)?).await?;
        tx.commit().await?;
        stored = read_stored_keys(write).await?;
    }
    Keyring::unwrap(&stored, &*cache.master(false)?)
}

impl Adapter {
    /// This store with `master` as its master key instead of the default key file
    /// ([`crate::keys::FileMaster::default_path`]).
    #[must_use]
    pub fn with_master(mut self, master: std::sync::Arc<dyn MasterKey>) -> Self {
        self.keys = std::sync::Arc::new(KeyCache::with_master(master));
        self
    }

    /// This store with the master key file at `path` instead of the default one.
    #[must_use]
    pub fn with_key_file(mut self, path: std::path::PathBuf) -> Self {
        self.keys = std::sync::Arc::new(KeyCache::with_key_file(path));
        self
    }

    /// The keys personal values are sealed and opened with: read again after
    /// [`crate::keys::KEY_RELOAD`]; if that read fails, the keys already loaded go on serving.
    async fn keyring(&self) -> Result<std::sync::Arc<Keyring>> {
        if let Some(ring) = self.keys.fresh() {
            return Ok(ring);
        }
        match load_keyring(&self.write, &self.keys).await {
            Ok(ring) => Ok(self.keys.keep(ring)),
            Err(e) => match self.keys.last() {
                Some(ring) => {
                    tracing::warn!(code = e.code(), error = %e, "reloading the data keys failed; keeping those loaded");
                    Ok(ring)
                }
                None => Err(e),
            },
        }
    }
}

fn table_key(t: &SealedTable, row: &DbRow) -> Result<(Option<i64>, String)> {
    if t.int_key {
        let k = int(row, t.key)?;
        Ok((Some(k), k.to_string()))
    } else {
        Ok((None, text(row, t.key)?))
    }
}

/// One page of `t` after `after`, re-sealed where a value is not sealed with the active key
/// or a blind index is missing. Returns the last key read (none: the table is done).
async fn reseal_page(
    write: &DbPool,
    ring: &Keyring,
    t: &SealedTable,
    after: &(Option<i64>, String),
    done: &mut Resealed,
) -> Result<Option<(Option<i64>, String)>> {
    let mut cols: Vec<&str> = vec![t.key];
    for (c, b) in t.columns {
        cols.push(c);
        if let Some((b, _)) = b {
            cols.push(b);
        }
    }
    let mut tx = begin_write(write).await?;
    let sql = format!(
        "SELECT {} FROM {} WHERE {} > $1 ORDER BY {} LIMIT {RESEAL_PAGE}{FOR_UPDATE}",
        cols.join(", "),
        t.table,
        t.key,
        t.key
    );
    let q = sqlx::query(AssertSqlSafe(sql));
    let q = match after.0 {
        Some(k) => q.bind(k),
        None => q.bind(after.1.clone()),
    };
    let rows = q.fetch_all(&mut *tx).await?;
    let Some(last) = rows.last() else { return Ok(None) };
    let last = table_key(t, last)?;
    let prefix = format!("{}{}:", crate::keys::SEALED, ring.active());
    for row in &rows {
        done.rows += 1;
        let mut sets: Vec<(String, Option<String>)> = Vec::new();
        for (c, b) in t.columns {
            let column = t.aad.map_or_else(|| format!("{}.{c}", t.table), str::to_owned);
            let Some(stored) = opt_text(row, c)? else { continue };
            let blind_missing = match b {
                Some((b, _)) => opt_text(row, b)?.is_none(),
                None => false,
            };
            if stored.starts_with(&prefix) && !blind_missing {
                continue;
            }
            let clear = ring.open(&column, &stored)?;
            if !stored.starts_with(&prefix) {
                sets.push(((*c).to_owned(), Some(ring.seal(&column, &clear))));
                done.values += 1;
            }
            if let Some((b, domain)) = b {
                sets.push(((*b).to_owned(), Some(ring.blind(domain, &clear))));
            }
        }
        if sets.is_empty() {
            continue;
        }
        let assign: Vec<String> =
            sets.iter().enumerate().map(|(i, (c, _))| format!("{c} = ${}", i + 1)).collect();
        let sql =
            format!("UPDATE {} SET {} WHERE {} = ${}", t.table, assign.join(", "), t.key, sets.len() + 1);
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (_, v) in &sets {
            q = q.bind(v.clone());
        }
        let (ik, tk) = table_key(t, row)?;
        let q = match ik {
            Some(k) => q.bind(k),
            None => q.bind(tk),
        };
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Some(last))
}

#[async_trait]
impl KeyStore for Adapter {
    async fn key_status(&self) -> Result<KeyStatus> {
        let ring = self.keyring().await?;
        let stored = read_stored_keys(&self.read).await?;
        let mut counts: std::collections::BTreeMap<i64, u64> =
            stored.iter().filter(|k| k.purpose == "data").map(|k| (k.id, 0)).collect();
        let mut clear = 0;
        // Counted by the database, by each value's prefix (`dl1:<key id>:`).
        let count = |sql: String| async move {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&self.read).await?;
            Ok::<u64, StoreError>(u64::try_from(n).unwrap_or(0))
        };
        for t in SEALED_TABLES {
            for (c, _) in t.columns {
                let from = format!("SELECT COUNT(*) FROM {} WHERE {c}", t.table);
                for (k, n) in &mut counts {
                    *n += count(format!("{from} LIKE '{}{k}:%'", crate::keys::SEALED)).await?;
                }
                clear +=
                    count(format!("{from} IS NOT NULL AND {c} NOT LIKE '{}%'", crate::keys::SEALED)).await?;
            }
        }
        Ok(KeyStatus {
            master: stored.first().map(|k| k.master.clone()).unwrap_or_default(),
            active: ring.active(),
            keys: counts.into_iter().collect(),
            clear,
        })
    }

    async fn stage_data_key(&self, actor: &str, now: Timestamp) -> Result<i64> {
        required("actor", actor)?;
        self.keyring().await?;
        let master = self.keys.master(false)?;
        let mut tx = begin_write(&self.write).await?;
        let id: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM data_keys").fetch_one(&mut *tx).await?;
        if !insert_key(&mut tx, &StoredKey::generate(id, "data", &*master, false)?).await? {
            return Err(StoreError::Busy("another rotation added a data key at the same time".into()));
        }
        let payload = json!({"staged": id, "master": master.id()});
        append(&mut tx, &Event::new(now, actor, EventKind::Keys, "store".to_owned(), &payload)).await?;
        tx.commit().await?;
        self.keys.forget();
        Ok(id)
    }

    async fn activate_data_key(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        required("actor", actor)?;
        let mut tx = begin_write(&self.write).await?;
        let known: Option<String> = sqlx::query_scalar("SELECT purpose FROM data_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if known.as_deref() != Some("data") {
            return Err(StoreError::not_found("data key", id.to_string()));
        }
        sqlx::query("UPDATE data_keys SET active = (id = $1) WHERE purpose = 'data'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let payload = json!({"activated": id});
        append(&mut tx, &Event::new(now, actor, EventKind::Keys, "store".to_owned(), &payload)).await?;
        tx.commit().await?;
        self.keys.forget();
        Ok(())
    }

    async fn reseal(&self, actor: &str, now: Timestamp) -> Result<Resealed> {
        required("actor", actor)?;
        self.keys.forget();
        let ring = self.keyring().await?;
        let mut done = Resealed::default();
        for t in SEALED_TABLES {
            let mut after: (Option<i64>, String) =
                if t.int_key { (Some(i64::MIN), String::new()) } else { (None, String::new()) };
            while let Some(last) = reseal_page(&self.write, &ring, t, &after, &mut done).await? {
                after = last;
            }
        }
        if done.values > 0 {
            let mut tx = begin_write(&self.write).await?;
            let payload = json!({"resealed": done.values, "key": ring.active()});
            append(&mut tx, &Event::new(now, actor, EventKind::Keys, "store".to_owned(), &payload)).await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    async fn rewrap_keys(&self, to: &dyn MasterKey, actor: &str, now: Timestamp) -> Result<usize> {
        required("actor", actor)?;
        self.keyring().await?;
        let from = self.keys.master(false)?;
        let mut tx = begin_write(&self.write).await?;
        let stored = stored_keys(&sqlx::query(STORED_KEYS).fetch_all(&mut *tx).await?)?;
        for k in &stored {
            let k = k.rewrap(&*from, to)?;
            sqlx::query("UPDATE data_keys SET master = $1, wrapped = $2 WHERE id = $3")
                .bind(&k.master)
                .bind(&k.wrapped)
                .bind(k.id)
                .execute(&mut *tx)
                .await?;
        }
        let payload = json!({"rewrapped": stored.len(), "from": from.id(), "to": to.id()});
        append(&mut tx, &Event::new(now, actor, EventKind::Keys, "store".to_owned(), &payload)).await?;
        tx.commit().await?;
        Ok(stored.len())
    }
}
