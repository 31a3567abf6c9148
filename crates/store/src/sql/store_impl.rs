// Shared by both adapters (see common.rs). This part: the `Store` trait, delegating to the
// functions above with the right pool.

#[async_trait]
impl Store for Adapter {
    fn backend(&self) -> Backend {
        BACKEND
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn schema(&self) -> Result<SchemaStatus> {
        schema_status(&self.read).await
    }

    async fn migrate(&self, actor: &str, now: Timestamp) -> Result<MigrateReport> {
        run_migrations(&self.write, actor, now).await
    }

    async fn begin_import(&self, meta: &BatchMeta) -> Result<Box<dyn ImportSession>> {
        self.import_session(meta).await
    }

    async fn stats(&self) -> Result<Stats> {
        read_stats(&self.read).await
    }

    async fn ledger_head(&self) -> Result<Link> {
        read_ledger_head(&self.read).await
    }

    async fn ledger_rows(&self, after: i64, limit: u32) -> Result<Vec<LedgerRow>> {
        read_ledger_rows(&self.read, after, limit).await
    }

    async fn config(&self) -> Result<Vec<ConfigEntry>> {
        read_config(&self.read).await
    }

    async fn bucket_scheme(&self) -> Result<BucketScheme> {
        let mut conn = self.read.acquire().await?;
        read_scheme(&mut conn, "").await
    }

    async fn set_bucket_scheme(&self, scheme: BucketScheme, actor: &str, now: Timestamp) -> Result<Rebucket> {
        change_bucket_scheme(&self.write, scheme, actor, now).await
    }

    async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>> {
        read_case_list(&self.read, filter).await
    }

    async fn case_detail_in(&self, scope: &Scope, id: &CaseId) -> Result<CaseDetail> {
        read_case_detail(&self.read, scope, id).await
    }

    async fn arrangements_in(
        &self,
        scope: &Scope,
        status: Option<ArrangementStatus>,
        limit: u32,
    ) -> Result<Vec<StoredArrangement>> {
        read_arrangements_in(&self.read, scope, status, limit).await
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

    async fn record_attempt(&self, attempt: &Attempt, actor: &str, now: Timestamp) -> Result<Gated> {
        gate_record(&self.write, attempt, actor, now).await
    }

    async fn record_attempts(&self, batch: &[Attempt], actor: &str, now: Timestamp) -> Result<Vec<Gated>> {
        gate_record_batch(&self.write, batch, actor, now).await
    }

    async fn start_attempt(&self, planned: &Planned, actor: &str, now: Timestamp) -> Result<Gated> {
        gate_start(&self.write, planned, actor, now).await
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
        finish_started(&self.write, started, outcome, duration_secs, note, actor, now).await
    }

    async fn started_attempts(&self) -> Result<Vec<StartedAttempt>> {
        let rows = sqlx::query("SELECT * FROM attempts_started ORDER BY started_at, id")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(started_from_row).collect()
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

    async fn contact_context(&self, planned: &Planned) -> Result<ContactContext> {
        read_contact_context(&self.read, planned).await
    }

    async fn contact_contexts(&self, planned: &[Planned]) -> Result<Vec<ContactContext>> {
        read_contact_contexts(&self.read, planned).await
    }

    async fn debtor_histories(
        &self,
        filter: &HistoryFilter,
        until: Timestamp,
    ) -> Result<Vec<daylight_scoring::features::DebtorHistory>> {
        read_histories(&self.read, filter, until).await
    }

    async fn plan_cases(&self, until: Timestamp) -> Result<Vec<daylight_strategy::plan::PlanCase>> {
        self.read_plan_cases(until).await
    }

    async fn pack_source(&self) -> Result<String> {
        read_pack_source(&self.read).await
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

    async fn create_experiment(
        &self,
        experiment: &NewExperiment,
        actor: &str,
        now: Timestamp,
    ) -> Result<Experiment> {
        insert_experiment(&self.write, experiment, actor, now).await
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

    async fn policy_pack(&self) -> Result<Pack> {
        get_pack(&self.read).await
    }

    async fn set_policy_pack(&self, pack: &Pack, actor: &str, now: Timestamp) -> Result<()> {
        put_pack(&self.write, pack, actor, now).await
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

    async fn create_promise(&self, promise: &NewPromise, actor: &str, now: Timestamp) -> Result<i64> {
        insert_promise(&self.write, promise, actor, now).await
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

    async fn request_waiver(&self, waiver: &NewWaiver, actor: &str, now: Timestamp) -> Result<i64> {
        insert_waiver(&self.write, waiver, actor, now).await
    }

    async fn decide_waiver(&self, id: i64, approve: bool, actor: &str, now: Timestamp) -> Result<()> {
        update_waiver(&self.write, id, approve, actor, now).await
    }

    async fn reveal(
        &self,
        customer: &CustomerId,
        field: &PiiField,
        purpose: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<String> {
        reveal_field(&self.write, customer, field, purpose, actor, now).await
    }

    async fn create_user(&self, user: &NewUser, actor: &str, now: Timestamp) -> Result<User> {
        insert_user(&self.write, user, actor, now).await
    }

    async fn update_user(&self, user: &NewUser, actor: &str, now: Timestamp) -> Result<User> {
        change_user(&self.write, user, actor, now).await
    }

    async fn users(&self) -> Result<Vec<User>> {
        read_users(&self.read).await
    }

    async fn user(&self, login: &str) -> Result<User> {
        read_user(&self.read, login).await
    }

    async fn credentials(&self, who: &str) -> Result<Option<(User, String)>> {
        read_credentials(&self.read, who).await
    }

    async fn login_failed(
        &self,
        login: &str,
        lock_after: u32,
        lock_until: Timestamp,
        now: Timestamp,
    ) -> Result<User> {
        write_login_failed(&self.write, login, lock_after, lock_until, now).await
    }

    async fn open_session(&self, session: &NewSession, now: Timestamp) -> Result<()> {
        write_open_session(&self.write, session, now).await
    }

    async fn session(&self, token_sha256: &str, now: Timestamp) -> Result<Option<UserSession>> {
        read_session(&self.read, token_sha256, now).await
    }

    async fn touch_session(&self, token_sha256: &str, now: Timestamp, expires_at: Timestamp) -> Result<()> {
        write_touch_session(&self.write, token_sha256, now, expires_at).await
    }

    async fn close_session(&self, token_sha256: &str) -> Result<()> {
        write_close_session(&self.write, token_sha256).await
    }

    async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        write_set_password(&self.write, login, password_hash, must_change, keep_session, actor, now).await
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

    async fn record_qc(&self, qc: &NewQcCall, actor: &str, now: Timestamp) -> Result<QcRecorded> {
        insert_qc_call(&self.write, qc, actor, now).await
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
        read_qc_transcript(&self.read, scope, attempt).await
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

    async fn finish_task(&self, scope: &Scope, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        write_task_done(&self.write, scope, id, actor, now).await
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
}
