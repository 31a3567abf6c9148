// Shared by both adapters (see common.rs). This part: the contact gate. No attempt is started
// or recorded except through `gate`, which judges it under the policy pack against everything
// stored about the debtor, inside the transaction that writes it, with the debtor's row locked.

/// The configuration key of the policy pack in force (its TOML).
const CONFIG_PACK: &str = "policy.pack";

/// A started attempt not finished within this long is recorded by the gate as made without a
/// result (`not_connected`, `undelivered`, `sent` or `not_home` by channel) and can no longer be
/// finished: its place under the caps is then final.
const STARTED_EXPIRY_MINUTES: i64 = 120;

/// Who the ledger names for an expired start.
const EXPIRY_ACTOR: &str = "daylight:start-expiry";

/// How far a start's time may be from `now`, and a record's time ahead of it.
const CONTACT_SKEW_SECS: i64 = 60;

/// The last pack read from the database, by its text: parsing it once per process.
static PACK_CACHE: std::sync::Mutex<Option<(String, std::sync::Arc<Pack>)>> = std::sync::Mutex::new(None);

/// Parses the stored pack text (or the default pack), reusing the last one parsed.
fn parse_pack(source: Option<String>) -> Result<std::sync::Arc<Pack>> {
    let Some(text) = source else {
        return Ok(std::sync::Arc::new(Pack::shipped(daylight_compliance::DEFAULT_PACK)?));
    };
    let mut cache = PACK_CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((t, p)) = cache.as_ref()
        && *t == text
    {
        return Ok(p.clone());
    }
    let pack = std::sync::Arc::new(Pack::from_toml(&text, "the stored pack")?);
    *cache = Some((text, pack.clone()));
    Ok(pack)
}

/// The result a start that never reported back is recorded with.
fn expired_outcome(channel: Channel) -> Outcome {
    match channel {
        Channel::Call | Channel::RobotCall => Outcome::NotConnected,
        Channel::Sms | Channel::Email => Outcome::Undelivered,
        Channel::Letter => Outcome::Sent,
        Channel::Visit => Outcome::NotHome,
    }
}

/// What the gate needs: the contact, and whether it is only being started.
struct GateInput<'a> {
    planned: &'a Planned,
    mode: &'static str,
}

/// Judges a contact inside `tx` under the pack in force; returns the decision and the account
/// the contact is about (named, or the debtor's worst). When denied, the denial's ledger event
/// has been appended.
async fn gate(
    tx: &mut Tx,
    chain: &mut Chain,
    input: &GateInput<'_>,
    actor: &str,
    now: Timestamp,
) -> Result<(Gated, Option<AccountId>)> {
    let customer = case_customer(tx, &input.planned.case).await?;
    // One debtor at a time: concurrent gates (and finishes) for the same debtor queue here
    // (SQLite's writer lock does the same for the whole database).
    let mut debtor = read_debtor(tx, chain, &customer, Some(now)).await?;
    // One number at a time: two debtors who share it queue here.
    lock_numbers(tx, &debtor, std::slice::from_ref(input.planned)).await?;
    // The pack in force, read in this transaction: callers cannot bring their own.
    let pack = pack_in_force(tx).await?;
    let gated = judge(tx, chain, &mut AttemptRows::default(), &pack, &mut debtor, input, actor, now).await?;
    Ok((gated, contact_debt_of(&debtor, input.planned.account.as_ref())))
}

/// Judges a contact against `debtor` (read in `tx`) under `pack`; appends the denial's ledger
/// event when denied.
#[allow(clippy::too_many_arguments)]
async fn judge(
    tx: &mut Tx,
    chain: &mut Chain,
    rows: &mut AttemptRows,
    pack: &Pack,
    debtor: &mut GateDebtor,
    input: &GateInput<'_>,
    actor: &str,
    now: Timestamp,
) -> Result<Gated> {
    let p = input.planned;
    let req = gate_request(tx, rows, debtor, p).await?;
    let decision = daylight_compliance::evaluate(pack, &req, &debtor.history, now);
    if !decision.allowed {
        let payload = json!({
            "mode": input.mode,
            "at": daylight_ledger::canonical_time(p.at),
            "channel": p.channel.as_str(),
            "recipient": p.recipient.as_str(),
            "contact_point": p.contact_point.as_ref().map(ContactId::as_str),
            "account": p.account.as_ref().map(AccountId::as_str),
            "agent": p.agent.code(),
            "pack": pack.name,
            "rules": decision.violations.iter().map(|r| r.code()).collect::<Vec<_>>(),
            "next_allowed_at": decision.next_allowed_at.map(daylight_ledger::canonical_time),
        });
        chain
            .append(tx, &Event::new(now, actor, EventKind::AttemptDenied, p.case.as_str(), &payload))
            .await?;
    }
    let texts = decision.violations.iter().filter_map(|r| pack.text(*r)).cloned().collect();
    Ok(Gated { decision, id: None, pack: pack.name.clone(), time_zone: debtor.zone.clone(), texts })
}

/// `a` about the account the gate judged it by: the one it names, else the debtor's worst.
fn with_debt(d: &GateDebtor, a: &Attempt) -> Attempt {
    let mut a = a.clone();
    if a.account.is_none() {
        a.account = contact_debt_of(d, None);
    }
    a
}

/// The account a contact of `d` is about ([`daylight_compliance::contact_debt`]).
fn contact_debt_of(d: &GateDebtor, named: Option<&AccountId>) -> Option<AccountId> {
    let debts = debt_facts(d);
    let debt = daylight_compliance::contact_debt(&debts, named.map(AccountId::as_str))?;
    AccountId::parse(debt.id).ok()
}

fn debt_facts(d: &GateDebtor) -> Vec<daylight_compliance::DebtFacts<'_>> {
    d.accounts
        .iter()
        .map(|(id, dpd, day)| daylight_compliance::DebtFacts { id, days_past_due: *dpd, statement_day: *day })
        .collect()
}

/// The pack in force, read in `tx` (the default pack when none was stored).
async fn pack_in_force(tx: &mut Tx) -> Result<std::sync::Arc<Pack>> {
    let source: Option<String> = sqlx::query_scalar("SELECT value FROM config WHERE key = $1")
        .bind(CONFIG_PACK)
        .fetch_optional(&mut **tx)
        .await?;
    parse_pack(source)
}

/// A contact point of a debtor, as the gate reads it.
struct GatePoint {
    id: String,
    role: daylight_domain::customer::ContactRole,
    kind: daylight_domain::customer::ContactKind,
    /// For phones, the number's blind index (`contact_points.value_bidx`): which physical
    /// number per-number rules count, without the number itself.
    number: Option<String>,
    /// Whether another contact point carries the same number (read once per debtor).
    shared: bool,
    time_zone: Option<String>,
    status: ContactStatus,
    status_at: Option<Timestamp>,
}

impl GatePoint {
    fn facts(&self) -> daylight_compliance::PointFacts<'_> {
        use daylight_domain::customer::ContactStatus as S;
        let status = match (self.status, self.status_at) {
            (S::Unknown | S::Valid, _) | (S::PoweredOff, None) => None,
            (status, since) => Some(daylight_compliance::PointStatus {
                status,
                since: since.unwrap_or(Timestamp::UNIX_EPOCH),
            }),
        };
        daylight_compliance::PointFacts {
            id: &self.id,
            recipient: self.role.recipient(),
            kind: self.kind,
            zone: self.time_zone.as_deref(),
            status,
        }
    }
}

/// What the gate judges a debtor's contacts by, read once per transaction (a batch's later
/// contacts of the debtor add to its history as they are recorded).
struct GateDebtor {
    customer: String,
    zone: String,
    points: Vec<GatePoint>,
    /// Each account: id, days past due, statement day.
    accounts: Vec<(String, i64, i8)>,
    /// Closed cases of the debtor (a closed case refuses contacts).
    closed_cases: Vec<String>,
    flags: ContactFlags,
    history: Vec<daylight_compliance::Contact>,
}

/// Reads `customer` for the gate. With `expire_at` the debtor is locked for the rest of `tx`
/// (their accounts too) and their starts past their time are first recorded as made without
/// a result; without it, a plain read (a preview).
async fn read_debtor(
    tx: &mut Tx,
    chain: &mut Chain,
    customer: &str,
    expire_at: Option<Timestamp>,
) -> Result<GateDebtor> {
    read_debtors(tx, chain, &[customer.to_owned()], expire_at)
        .await?
        .remove(customer)
        .ok_or_else(|| StoreError::not_found("customer", customer))
}

/// Debtors the gate reads at a time.
const GATE_CHUNK: usize = 500;

/// `$first, …` for `n` bound values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|k| format!("${k}")).collect::<Vec<_>>().join(", ")
}

/// Runs `sql`, whose `$1…` list is `ids`, in `tx`.
async fn fetch_in<S: AsRef<str>>(tx: &mut Tx, sql: String, ids: &[S]) -> Result<Vec<DbRow>> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.as_ref());
    }
    Ok(q.fetch_all(&mut **tx).await?)
}

/// [`read_debtor`] for many debtors, a few statements per 500 of them.
async fn read_debtors(
    tx: &mut Tx,
    chain: &mut Chain,
    customers: &[String],
    expire_at: Option<Timestamp>,
) -> Result<HashMap<String, GateDebtor>> {
    let lock = if expire_at.is_some() { FOR_UPDATE } else { "" };
    let mut out: HashMap<String, GateDebtor> = HashMap::with_capacity(customers.len());
    for chunk in customers.chunks(GATE_CHUNK) {
        let list = placeholders(1, chunk.len());
        // Locked in id order, so that two batches cannot wait for each other.
        let sql = format!("SELECT id, time_zone FROM customers WHERE id IN ({list}) ORDER BY id{lock}");
        for row in fetch_in(tx, sql, chunk).await? {
            let customer = text(&row, "id")?;
            out.insert(
                customer.clone(),
                GateDebtor {
                    customer,
                    zone: text(&row, "time_zone")?,
                    points: Vec::new(),
                    accounts: Vec::new(),
                    closed_cases: Vec::new(),
                    flags: ContactFlags::default(),
                    history: Vec::new(),
                },
            );
        }
        if let Some(now) = expire_at {
            let cutoff = now - jiff::SignedDuration::from_mins(STARTED_EXPIRY_MINUTES);
            let sql = format!(
                "SELECT s.* FROM attempts_started s JOIN cases c ON c.id = s.case_id \
                 WHERE c.customer_id IN ({list}) AND s.started_at < ${} ORDER BY s.id",
                chunk.len() + 1
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for c in chunk {
                q = q.bind(c);
            }
            for row in &q.bind(DbTime::new(cutoff)).fetch_all(&mut **tx).await? {
                let started = started_from_row(row)?;
                let outcome = expired_outcome(started.planned.channel);
                let attempt = started.planned.finished(outcome, 0, None);
                sqlx::query("DELETE FROM attempts_started WHERE id = $1")
                    .bind(started.id)
                    .execute(&mut **tx)
                    .await?;
                store_attempt(tx, chain, &attempt, Some(started.id), EXPIRY_ACTOR, now).await?;
            }
        }
        let sql = format!(
            "SELECT customer_id, id, role, kind, value_bidx, time_zone, status, status_at FROM contact_points \
             WHERE customer_id IN ({list}) ORDER BY id"
        );
        for row in fetch_in(tx, sql, chunk).await? {
            if let Some(d) = out.get_mut(&text(&row, "customer_id")?) {
                let kind: daylight_domain::customer::ContactKind = word(&row, "kind")?;
                d.points.push(GatePoint {
                    id: text(&row, "id")?,
                    role: word(&row, "role")?,
                    kind,
                    number: (kind == daylight_domain::customer::ContactKind::Phone)
                        .then(|| text(&row, "value_bidx"))
                        .transpose()?,
                    time_zone: opt_text(&row, "time_zone")?,
                    status: word(&row, "status")?,
                    status_at: opt_time(&row, "status_at")?,
                    shared: false,
                });
            }
        }
        // Which of their numbers another contact point carries too: only those need the
        // same-number read. By the (kind, value_bidx) index, for the numbers just read.
        let mut numbers: Vec<String> = chunk
            .iter()
            .filter_map(|c| out.get(c))
            .flat_map(|d| d.points.iter().filter_map(|x| x.number.clone()))
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        let mut shared: Vec<String> = Vec::new();
        for part in numbers.chunks(GATE_CHUNK * 4) {
            let sql = format!(
                "SELECT value_bidx FROM contact_points WHERE kind = 'phone' AND value_bidx IN ({}) \
                 GROUP BY value_bidx HAVING COUNT(*) > 1",
                placeholders(1, part.len())
            );
            for row in fetch_in(tx, sql, part).await? {
                shared.push(text(&row, "value_bidx")?);
            }
        }
        shared.sort_unstable();
        if !shared.is_empty() {
            for c in chunk {
                if let Some(d) = out.get_mut(c) {
                    for x in &mut d.points {
                        x.shared = x.number.as_ref().is_some_and(|n| shared.binary_search(n).is_ok());
                    }
                }
            }
        }
        let sql = format!(
            "SELECT customer_id, id, days_past_due, statement_day FROM accounts WHERE customer_id IN ({list}) \
             ORDER BY id{lock}"
        );
        for row in fetch_in(tx, sql, chunk).await? {
            if let Some(d) = out.get_mut(&text(&row, "customer_id")?) {
                d.accounts.push((
                    text(&row, "id")?,
                    int(&row, "days_past_due")?,
                    small(&row, "statement_day")?,
                ));
            }
        }
        // By the customer index (a status filter in SQL would scan every closed case).
        let sql = format!("SELECT customer_id, id, status FROM cases WHERE customer_id IN ({list})");
        for row in fetch_in(tx, sql, chunk).await? {
            if word::<CaseStatus>(&row, "status")? == CaseStatus::Closed
                && let Some(d) = out.get_mut(&text(&row, "customer_id")?)
            {
                d.closed_cases.push(text(&row, "id")?);
            }
        }
        let sql = format!(
            "SELECT customer_id, cease, opt_out, consented_hours FROM contact_flags WHERE customer_id IN ({list})"
        );
        for row in fetch_in(tx, sql, chunk).await? {
            if let Some(d) = out.get_mut(&text(&row, "customer_id")?) {
                d.flags = flags_from_row(&row)?;
            }
        }
        // Every attempt made on the debtors (all their cases), started ones included (without
        // an outcome), read in one statement so that no finish can fall between two reads.
        // One row per debtor, their contacts joined into one text: a debtor's history is tens
        // of rows, and a row costs more to fetch than its few fields cost to split.
        let sql = format!(
            "SELECT customer_id, string_agg({LEDGER_AT} || '|' || channel || '|' || recipient || '|' || \
             COALESCE(contact_point_id, '') || '|' || COALESCE(account_id, '') || '|' || COALESCE(outcome, ''), ';') \
             AS contacts FROM ( \
             SELECT c.customer_id, t.at, t.channel, t.recipient, t.contact_point_id, t.account_id, t.outcome \
             FROM attempts t JOIN cases c ON c.id = t.case_id WHERE c.customer_id IN ({list}) \
             UNION ALL \
             SELECT c.customer_id, s.at, s.channel, s.recipient, s.contact_point_id, s.account_id, NULL \
             FROM attempts_started s JOIN cases c ON c.id = s.case_id WHERE c.customer_id IN ({list}) \
             ) h GROUP BY customer_id"
        );
        for row in fetch_in(tx, sql, chunk).await? {
            if let Some(d) = out.get_mut(&text(&row, "customer_id")?) {
                for entry in text(&row, "contacts")?.split(';') {
                    d.history.push(past_contact(entry)?);
                }
            }
        }
    }
    Ok(out)
}

/// The request the gate judges for `p`: the facts read in `tx` (the debtor as read, a
/// third-party confirmation in force, the contacts through the same number) put together by
/// [`daylight_compliance::request_for`], as every other caller does.
/// Attempts `rows` holds back are written before anything is read, so that every read sees them.
async fn gate_request(
    tx: &mut Tx,
    rows: &mut AttemptRows,
    d: &GateDebtor,
    p: &Planned,
) -> Result<daylight_compliance::Request> {
    let point = match &p.contact_point {
        Some(cp) if d.points.iter().any(|x| x.id == cp.as_str()) => Some(debtor_point(tx, d, cp).await?),
        Some(cp) => {
            rows.flush(tx).await?;
            Some(debtor_point(tx, d, cp).await?)
        }
        None => None,
    };
    if let Some(acc) = &p.account
        && !d.accounts.iter().any(|(id, _, _)| id == acc.as_str())
    {
        // Not the debtor's: the lookup names why.
        rows.flush(tx).await?;
        account_of(tx, acc, &d.customer).await?;
    }
    let confirmed = match (p.recipient, &p.contact_point) {
        (Recipient::ThirdParty, Some(cp)) => {
            rows.flush(tx).await?;
            third_party_confirmed_in(tx, &p.case, cp, p.at).await?
        }
        _ => false,
    };
    let same_number = match point.filter(|x| x.shared).and_then(|x| x.number.as_deref()) {
        Some(number) => {
            rows.flush(tx).await?;
            same_number_contacts(tx, number, p).await?
        }
        None => Vec::new(),
    };
    let points: Vec<daylight_compliance::PointFacts<'_>> = d.points.iter().map(GatePoint::facts).collect();
    let debts = debt_facts(d);
    let facts = daylight_compliance::ContactFacts {
        at: p.at,
        channel: p.channel,
        recipient: p.recipient,
        debtor_zone: &d.zone,
        points: &points,
        point: p.contact_point.as_ref().map(ContactId::as_str),
        debts: &debts,
        debt: p.account.as_ref().map(AccountId::as_str),
        flags: daylight_compliance::Flags {
            cease: d.flags.cease,
            opt_out: d.flags.opt_out.iter().copied().collect(),
            consented_hours: d.flags.consented_hours,
        },
        third_party_confirmed: confirmed,
        case_closed: d.closed_cases.iter().any(|c| c == p.case.as_str()),
        same_number,
        // No collector on the line when the debtor answers: a robot's or a predictive
        // dialler's call.
        unattended: matches!(p.agent, Agent::Robot(_)),
    };
    daylight_compliance::request_for(facts).map_err(|e| match e {
        daylight_compliance::FactsError::Zone(z) => StoreError::Corrupt(format!("time zone {z:?}")),
        e => Invalid::new(Code::Inconsistent, e.to_string()).into(),
    })
}

/// The debtor's contact point `cp`; for one that is not the debtor's, whether it exists at all.
async fn debtor_point<'d>(tx: &mut Tx, d: &'d GateDebtor, cp: &ContactId) -> Result<&'d GatePoint> {
    if let Some(point) = d.points.iter().find(|x| x.id == cp.as_str()) {
        return Ok(point);
    }
    let owner: Option<String> = sqlx::query_scalar("SELECT customer_id FROM contact_points WHERE id = $1")
        .bind(cp.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    Err(match owner {
        None => StoreError::not_found("contact point", cp.as_str()),
        Some(_) => Invalid::new(
            Code::Inconsistent,
            format!("contact point {cp} is not kept for this case's customer"),
        )
        .into(),
    })
}

/// How far back contacts through a shared number are read: the per-number caps count a day,
/// the third-party caps per number count ever, so those read everything.
const SAME_NUMBER_DAYS: i64 = 2;

/// Call contacts through `number` on any other contact point than the one `p` uses (another
/// debtor's record of it, or another of this debtor's), started ones included.
async fn same_number_contacts(
    tx: &mut Tx,
    number: &str,
    p: &Planned,
) -> Result<Vec<daylight_compliance::Contact>> {
    let own = p.contact_point.as_ref().map_or("", ContactId::as_str);
    let others: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM contact_points WHERE kind = 'phone' AND value_bidx = $1 AND id <> $2 ORDER BY id",
    )
    .bind(number)
    .bind(own)
    .fetch_all(&mut **tx)
    .await?;
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let since = if p.recipient == Recipient::ThirdParty {
        Timestamp::MIN
    } else {
        p.at - jiff::SignedDuration::from_hours(24 * SAME_NUMBER_DAYS)
    };
    let list = placeholders(2, others.len());
    let sql = format!(
        "SELECT at, channel, recipient, contact_point_id, account_id, outcome FROM attempts \
         WHERE contact_point_id IN ({list}) AND at >= $1 \
         UNION ALL SELECT at, channel, recipient, contact_point_id, account_id, NULL FROM attempts_started \
         WHERE contact_point_id IN ({list}) AND at >= $1"
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(DbTime::new(since));
    for id in &others {
        q = q.bind(id);
    }
    let mut out = Vec::new();
    for row in q.fetch_all(&mut **tx).await? {
        // The debtor's own contacts on another of their points are in their history under that
        // point, which the per-number rules do not count there: they count them here, once.
        let contact = past_contact_row(&row)?;
        if contact.channel.is_call() {
            out.push(contact);
        }
    }
    Ok(out)
}

fn past_contact_row(row: &DbRow) -> Result<daylight_compliance::Contact> {
    Ok(daylight_compliance::Contact {
        at: time(row, "at")?,
        channel: word(row, "channel")?,
        recipient: word(row, "recipient")?,
        contact_point: opt_text(row, "contact_point_id")?,
        debt: opt_text(row, "account_id")?,
        outcome: opt_text(row, "outcome")?
            .map(|o| o.parse().map_err(|e| corrupt("outcome", e)))
            .transpose()?,
    })
}

/// A past contact as the debtor read joins it: `at|channel|recipient|point|account|outcome`
/// (an empty point, account or outcome is none).
fn past_contact(entry: &str) -> Result<daylight_compliance::Contact> {
    let bad = |what: &str| StoreError::Corrupt(format!("{what} in a past contact {entry:?}"));
    let mut f = entry.split('|');
    let mut next = |what: &str| f.next().ok_or_else(|| bad(what));
    let at = next("time")?;
    let at: Timestamp = at.parse().map_err(|_| bad("time"))?;
    let channel = next("channel")?.parse().map_err(|_| bad("channel"))?;
    let recipient = next("recipient")?.parse().map_err(|_| bad("recipient"))?;
    let some = |t: &str| (!t.is_empty()).then(|| t.to_owned());
    let contact_point = some(next("contact point")?);
    let debt = some(next("account")?);
    let outcome = next("outcome")?;
    let outcome = if outcome.is_empty() { None } else { Some(outcome.parse().map_err(|_| bad("outcome"))?) };
    Ok(daylight_compliance::Contact { at, channel, recipient, contact_point, debt, outcome })
}

/// Locks every contact point carrying a number the contacts `ps` use, in id order (after the
/// debtors' rows), so that gates for two debtors sharing a number queue.
async fn lock_numbers(tx: &mut Tx, d: &GateDebtor, ps: &[Planned]) -> Result<()> {
    let mut numbers: Vec<&str> = ps
        .iter()
        .filter_map(|p| p.contact_point.as_ref())
        .filter_map(|cp| d.points.iter().find(|x| x.id == cp.as_str()))
        .filter_map(|x| x.number.as_deref())
        .collect();
    lock_number_list(tx, &mut numbers).await
}

async fn lock_number_list(tx: &mut Tx, numbers: &mut Vec<&str>) -> Result<()> {
    if FOR_UPDATE.is_empty() || numbers.is_empty() {
        // SQLite's writer lock already serialises every gate.
        return Ok(());
    }
    numbers.sort_unstable();
    numbers.dedup();
    for chunk in numbers.chunks(GATE_CHUNK) {
        let sql = format!(
            "SELECT id FROM contact_points WHERE kind = 'phone' AND value_bidx IN ({}) ORDER BY id{FOR_UPDATE}",
            placeholders(1, chunk.len())
        );
        fetch_in(tx, sql, chunk).await?;
    }
    Ok(())
}

/// What the gate would judge `p` by, read without the debtor's lock (a preview).
async fn read_contact_context(read: &DbPool, p: &Planned) -> Result<ContactContext> {
    let mut one = read_contact_contexts(read, std::slice::from_ref(p)).await?;
    one.pop().ok_or_else(|| StoreError::Corrupt("no context read for a contact".into()))
}

async fn read_contact_contexts(read: &DbPool, ps: &[Planned]) -> Result<Vec<ContactContext>> {
    let Some(first) = ps.first() else { return Ok(Vec::new()) };
    if ps.iter().any(|p| p.case != first.case) {
        return Err(
            Invalid::new(Code::Inconsistent, "contact contexts are read for one case at a time").into()
        );
    }
    let mut tx: Tx = read.begin().await?;
    let customer = case_customer(&mut tx, &first.case).await?;
    let debtor = read_debtor(&mut tx, &mut Chain::default(), &customer, None).await?;
    let pack = pack_in_force(&mut tx).await?;
    let mut out = Vec::with_capacity(ps.len());
    for p in ps {
        let request = gate_request(&mut tx, &mut AttemptRows::default(), &debtor, p).await?;
        out.push(ContactContext {
            pack: (*pack).clone(),
            request,
            history: debtor.history.clone(),
            time_zone: debtor.zone.clone(),
        });
    }
    tx.rollback().await?;
    Ok(out)
}

/// Locks the debtor's row; returns their time zone.
async fn lock_debtor(tx: &mut Tx, customer: &str) -> Result<String> {
    Ok(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT time_zone FROM customers WHERE id = $1{FOR_UPDATE}"
    )))
    .bind(customer)
    .fetch_one(&mut **tx)
    .await?)
}

async fn read_flags(tx: &mut Tx, customer: &str) -> Result<ContactFlags> {
    let row = sqlx::query("SELECT cease, opt_out, consented_hours FROM contact_flags WHERE customer_id = $1")
        .bind(customer)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map_or(Ok(ContactFlags::default()), flags_from_row)
}

fn flags_from_row(row: &DbRow) -> Result<ContactFlags> {
    let opt_out = text(row, "opt_out")?
        .split(',')
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().map_err(|e| corrupt("opt_out", e)))
        .collect::<Result<Vec<Channel>>>()?;
    Ok(ContactFlags {
        cease: row.try_get::<bool, _>("cease")?,
        opt_out,
        consented_hours: row.try_get::<bool, _>("consented_hours")?,
    })
}

async fn write_flags(
    tx: &mut Tx,
    chain: &mut Chain,
    customer: &str,
    f: &ContactFlags,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let opt_out: Vec<&str> = f.opt_out.iter().map(|c| c.as_str()).collect();
    sqlx::query(
        "INSERT INTO contact_flags (customer_id, cease, opt_out, consented_hours, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id) DO UPDATE SET cease = excluded.cease, \
         opt_out = excluded.opt_out, consented_hours = excluded.consented_hours, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(customer)
    .bind(f.cease)
    .bind(opt_out.join(","))
    .bind(f.consented_hours)
    .bind(actor)
    .bind(DbTime::new(now))
    .execute(&mut **tx)
    .await?;
    let payload = json!({"cease": f.cease, "opt_out": opt_out, "consented_hours": f.consented_hours});
    chain.append(tx, &Event::new(now, actor, EventKind::ContactFlagsChanged, customer, &payload)).await?;
    Ok(())
}

/// Refuses a start whose time is not now, or a record of a contact in the future.
fn check_contact_time(at: Timestamp, now: Timestamp, start: bool) -> Result<()> {
    let skew = jiff::SignedDuration::from_secs(CONTACT_SKEW_SECS);
    if start && (at < now - skew || at > now + skew) {
        return Err(Invalid::new(
            Code::ContactTime,
            format!(
                "a contact is started when it is made: {at} is not now ({now}); record a past one instead"
            ),
        )
        .into());
    }
    if !start && at > now + skew {
        return Err(Invalid::new(
            Code::ContactTime,
            format!("{at} is in the future: only a contact made can be recorded"),
        )
        .into());
    }
    Ok(())
}

/// What a record needs of an attempt before the gate sees it.
fn check_record(a: &Attempt, now: Timestamp) -> Result<()> {
    a.check()?;
    if let Some(note) = &a.note {
        daylight_domain::case::check_note(note)?;
    }
    check_contact_time(a.at, now, false)
}

/// Gates one attempt already made inside `tx` and, when allowed, stores it.
async fn gate_and_store(tx: &mut Tx, a: &Attempt, actor: &str, now: Timestamp) -> Result<Gated> {
    let customer = case_customer(tx, &a.case).await?;
    let mut chain = Chain::default();
    let mut debtor = read_debtor(tx, &mut chain, &customer, Some(now)).await?;
    lock_numbers(tx, &debtor, &[Planned::from(a)]).await?;
    let pack = pack_in_force(tx).await?;
    let mut rows = AttemptRows::default();
    let gated = judge_and_store(tx, &mut chain, &mut rows, &pack, &mut debtor, a, actor, now).await?;
    rows.flush(tx).await?;
    chain.close(tx).await?;
    Ok(gated)
}

/// Judges an attempt already made against `debtor` and, when allowed, stores it and adds it to
/// the debtor as read (history, the point's status, cease flag) for their later contacts in
/// the same transaction.
#[allow(clippy::too_many_arguments)]
async fn judge_and_store(
    tx: &mut Tx,
    chain: &mut Chain,
    rows: &mut AttemptRows,
    pack: &Pack,
    debtor: &mut GateDebtor,
    a: &Attempt,
    actor: &str,
    now: Timestamp,
) -> Result<Gated> {
    let planned = Planned::from(a);
    let input = GateInput { planned: &planned, mode: "record" };
    let mut gated = judge(tx, chain, rows, pack, debtor, &input, actor, now).await?;
    if gated.decision.allowed {
        let a = &with_debt(debtor, a);
        gated.id = Some(rows.push(tx, chain, a, None, None, actor, now).await?);
        debtor.history.push(daylight_compliance::Contact {
            at: a.at,
            channel: a.channel,
            recipient: a.recipient,
            contact_point: a.contact_point.as_ref().map(|c| c.as_str().to_owned()),
            debt: a.account.as_ref().map(|x| x.as_str().to_owned()),
            outcome: Some(a.outcome),
        });
        if a.outcome == Outcome::CeaseRequest {
            debtor.flags.cease = true;
        }
        if let (Some(cp), Some(status)) = (&a.contact_point, a.outcome.contact_status())
            && let Some(point) = debtor.points.iter_mut().find(|p| p.id == cp.as_str())
        {
            point.status = status;
            point.status_at = Some(a.at);
        }
    }
    Ok(gated)
}

async fn gate_record(write: &DbPool, a: &Attempt, actor: &str, now: Timestamp) -> Result<Gated> {
    required("actor", actor)?;
    check_record(a, now)?;
    let mut tx = begin_write(write).await?;
    let gated = gate_and_store(&mut tx, a, actor, now).await?;
    tx.commit().await?;
    Ok(gated)
}

async fn gate_record_batch(
    write: &DbPool,
    batch: &[Attempt],
    actor: &str,
    now: Timestamp,
) -> Result<Vec<Gated>> {
    required("actor", actor)?;
    for (i, a) in batch.iter().enumerate() {
        check_record(a, now).map_err(|e| match e {
            StoreError::Invalid(v) => {
                Invalid::new(v.code, format!("attempt {} of the batch: {}", i + 1, v.message)).into()
            }
            e => e,
        })?;
    }
    let mut tx = begin_write(write).await?;
    let pack = pack_in_force(&mut tx).await?;
    // Each debtor is read (and locked) once; their later contacts in the batch are judged
    // against the history as the batch's earlier ones left it.
    let mut cases: Vec<&str> = batch.iter().map(|a| a.case.as_str()).collect();
    cases.sort_unstable();
    cases.dedup();
    let mut customers: HashMap<String, String> = HashMap::with_capacity(cases.len());
    for chunk in cases.chunks(GATE_CHUNK) {
        let sql = format!("SELECT id, customer_id FROM cases WHERE id IN ({})", placeholders(1, chunk.len()));
        for row in fetch_in(&mut tx, sql, chunk).await? {
            customers.insert(text(&row, "id")?, text(&row, "customer_id")?);
        }
    }
    let mut wanted: Vec<String> = customers.values().cloned().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut chain = Chain::default();
    let mut debtors = read_debtors(&mut tx, &mut chain, &wanted, Some(now)).await?;
    // Every number the batch uses, locked once, in order, after the debtors.
    let mut numbers: Vec<&str> = batch
        .iter()
        .filter_map(|a| Some((customers.get(a.case.as_str())?, a.contact_point.as_ref()?)))
        .filter_map(|(c, cp)| debtors.get(c)?.points.iter().find(|x| x.id == cp.as_str())?.number.as_deref())
        .collect();
    lock_number_list(&mut tx, &mut numbers).await?;
    let mut rows = AttemptRows::expecting(batch.len());
    let mut out = Vec::with_capacity(batch.len());
    for a in batch {
        let customer =
            customers.get(a.case.as_str()).ok_or_else(|| StoreError::not_found("case", a.case.as_str()))?;
        let debtor = debtors.get_mut(customer).ok_or_else(|| StoreError::not_found("customer", customer))?;
        out.push(judge_and_store(&mut tx, &mut chain, &mut rows, &pack, debtor, a, actor, now).await?);
    }
    rows.flush(&mut tx).await?;
    chain.close(&mut tx).await?;
    tx.commit().await?;
    Ok(out)
}

/// Which switch places a started call, and where its recording goes (by the start's id).
type LiveNote<'a> = (&'a str, &'a (dyn Fn(i64) -> String + Sync));

async fn gate_start(
    write: &DbPool,
    p: &Planned,
    actor: &str,
    now: Timestamp,
    live: Option<LiveNote<'_>>,
) -> Result<Gated> {
    required("actor", actor)?;
    if let Some((node, _)) = live {
        required("node", node)?;
    }
    check_contact_time(p.at, now, true)?;
    let mut tx = begin_write(write).await?;
    let input = GateInput { planned: p, mode: "start" };
    let mut chain = Chain::default();
    let (mut gated, account) = gate(&mut tx, &mut chain, &input, actor, now).await?;
    if gated.decision.allowed {
        let p = &Planned { account, ..p.clone() };
        let started: i64 = sqlx::query_scalar(
            "INSERT INTO attempts_started (case_id, account_id, at, channel, recipient, contact_point_id, agent, \
             started_by, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(p.case.as_str())
        .bind(p.account.as_ref().map(AccountId::as_str))
        .bind(DbTime::new(p.at))
        .bind(p.channel.as_str())
        .bind(p.recipient.as_str())
        .bind(p.contact_point.as_ref().map(ContactId::as_str))
        .bind(p.agent.code())
        .bind(actor)
        .bind(DbTime::new(now))
        .fetch_one(&mut *tx)
        .await?;
        let payload = json!({
            "started": started,
            "at": daylight_ledger::canonical_time(p.at),
            "channel": p.channel.as_str(),
            "recipient": p.recipient.as_str(),
            "contact_point": p.contact_point.as_ref().map(ContactId::as_str),
            "account": p.account.as_ref().map(AccountId::as_str),
            "agent": p.agent.code(),
            "pack": gated.pack,
        });
        chain
            .append(&mut tx, &Event::new(now, actor, EventKind::AttemptStarted, p.case.as_str(), &payload))
            .await?;
        if let Some((node, recording)) = live {
            sqlx::query(
                "INSERT INTO live_calls (started_id, node, recording, placed_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(started)
            .bind(node)
            .bind(recording(started))
            .bind(DbTime::new(now))
            .execute(&mut *tx)
            .await?;
        }
        gated.id = Some(started);
    }
    chain.close(&mut tx).await?;
    tx.commit().await?;
    Ok(gated)
}

fn started_from_row(row: &DbRow) -> Result<StartedAttempt> {
    Ok(StartedAttempt {
        id: int(row, "id")?,
        planned: planned_from_row(row)?,
        started_by: text(row, "started_by")?,
        started_at: time(row, "started_at")?,
    })
}

#[allow(clippy::too_many_arguments)]
async fn finish_started(
    write: &DbPool,
    started: i64,
    outcome: Outcome,
    duration_secs: u32,
    note: Option<&str>,
    recording: Option<&NewRecording>,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    let case: Option<String> = sqlx::query_scalar("SELECT case_id FROM attempts_started WHERE id = $1")
        .bind(started)
        .fetch_optional(&mut *tx)
        .await?;
    let not_found = || {
        StoreError::not_found(
            "started attempt",
            format!(
                "{started} (finished already, or not finished within {STARTED_EXPIRY_MINUTES} minutes and recorded without a result)"
            ),
        )
    };
    let case = CaseId::parse(&case.ok_or_else(not_found)?).map_err(|e| corrupt("case_id", e))?;
    // The debtor's lock first, as the gate takes it: no gate sees this finish half-done.
    let customer = case_customer(&mut tx, &case).await?;
    lock_debtor(&mut tx, &customer).await?;
    let row = sqlx::query("SELECT * FROM attempts_started WHERE id = $1")
        .bind(started)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(not_found)?;
    let started_at = time(&row, "started_at")?;
    if started_at < now - jiff::SignedDuration::from_mins(STARTED_EXPIRY_MINUTES) {
        return Err(Invalid::new(
            Code::Expired,
            format!(
                "started attempt {started} began at {started_at}, more than {STARTED_EXPIRY_MINUTES} minutes ago: it is recorded without a result"
            ),
        )
        .into());
    }
    let attempt = started_from_row(&row)?.planned.finished(outcome, duration_secs, note.map(str::to_owned));
    attempt.check()?;
    if let Some(n) = &attempt.note {
        daylight_domain::case::check_note(n)?;
    }
    sqlx::query("DELETE FROM attempts_started WHERE id = $1").bind(started).execute(&mut *tx).await?;
    let mut chain = Chain::default();
    let mut rows = AttemptRows::default();
    let id = rows.push(&mut tx, &mut chain, &attempt, Some(started), recording, actor, now).await?;
    rows.flush(&mut tx).await?;
    chain.close(&mut tx).await?;
    tx.commit().await?;
    Ok(id)
}

async fn put_pack(write: &DbPool, pack: &Pack, actor: &str, now: Timestamp) -> Result<()> {
    required("actor", actor)?;
    let mut tx = begin_write(write).await?;
    put_config(&mut tx, CONFIG_PACK, &pack.source, actor, now).await?;
    // Only the text is stored, so a pack's calendar years must be in its text.
    let from_text = Pack::from_toml(&pack.source, "the pack")?;
    if from_text.calendar.years().count() != pack.calendar.years().count() {
        return Err(Invalid::new(
            Code::Inconsistent,
            "calendar years added from a file are not part of the pack's text: put them under [[calendar.year]] in the pack",
        )
        .into());
    }
    let payload = json!({"config": {CONFIG_PACK: pack.name}, "pack_sha256": digest(&pack.source)});
    append(&mut tx, &Event::new(now, actor, EventKind::ConfigChanged, "config", &payload)).await?;
    tx.commit().await?;
    Ok(())
}

async fn get_pack(read: &DbPool) -> Result<Pack> {
    let source: Option<String> = sqlx::query_scalar("SELECT value FROM config WHERE key = $1")
        .bind(CONFIG_PACK)
        .fetch_optional(read)
        .await?;
    Ok((*parse_pack(source)?).clone())
}

#[async_trait]
impl GateStore for Adapter {
    async fn record_attempt(&self, attempt: &Attempt, actor: &str, now: Timestamp) -> Result<Gated> {
        gate_record(&self.write, attempt, actor, now).await
    }

    async fn record_attempts(&self, batch: &[Attempt], actor: &str, now: Timestamp) -> Result<Vec<Gated>> {
        gate_record_batch(&self.write, batch, actor, now).await
    }

    async fn start_attempt(&self, planned: &Planned, actor: &str, now: Timestamp) -> Result<Gated> {
        gate_start(&self.write, planned, actor, now, None).await
    }

    async fn finish_attempt(
        &self,
        started: i64,
        outcome: Outcome,
        duration_secs: u32,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        finish_started(&self.write, started, outcome, duration_secs, note, None, actor, now).await
    }

    async fn started_attempts(&self) -> Result<Vec<StartedAttempt>> {
        let rows = sqlx::query("SELECT * FROM attempts_started ORDER BY started_at, id")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(started_from_row).collect()
    }

    async fn contact_context(&self, planned: &Planned) -> Result<ContactContext> {
        read_contact_context(&self.read, planned).await
    }

    async fn contact_contexts(&self, planned: &[Planned]) -> Result<Vec<ContactContext>> {
        read_contact_contexts(&self.read, planned).await
    }
}
