//! The queries both backends run. SQLite and PostgreSQL accept the same
//! text here (`$n` parameters, `RETURNING`, `ON CONFLICT`), and sqlx binds the
//! same Rust types to each (UUID, timestamps, bytes), so the implementation of
//! [`crate::StoreTx`] is written once and stamped out per backend by this macro;
//! what differs (schema, connection set-up) lives in each backend's module.

/// Readers marked per statement (3 binds a row).
pub(crate) const READS_PER_STATEMENT: usize = 300;
/// Audit events inserted per statement (13 binds a row: far under both
/// backends' bind limits).
pub(crate) const AUDIT_EVENTS_PER_STATEMENT: usize = 500;

/// The statements that read a patient's scope (`$1` the patient, `$2` now),
/// written once for the methods that run them one by one and for SQLite's
/// one round trip (`sqlite.rs` `patient_scope_on`). `$part` goes before the
/// select list, so that the rows of several statements sent together can be
/// told apart.
macro_rules! scope_sql {
    (patient, $part:literal) => {
        concat!("SELECT ", $part, " * FROM patients WHERE id = $1")
    };
    (consents, $part:literal) => {
        concat!("SELECT ", $part, " * FROM consents WHERE patient_id = $1 ORDER BY recorded_at DESC, id DESC")
    };
    (team, $part:literal) => {
        concat!(
            "SELECT ",
            $part,
            " m.*, a.display_name, a.login_id, a.profession, \
             (SELECT f.name FROM facility_memberships fm JOIN facilities f ON f.id = fm.facility_id \
              WHERE fm.account_id = m.account_id ORDER BY f.name, f.id LIMIT 1) AS facility_name, \
             (SELECT f.phone FROM facility_memberships fm JOIN facilities f ON f.id = fm.facility_id \
              WHERE fm.account_id = m.account_id ORDER BY f.name, f.id LIMIT 1) AS facility_phone \
             FROM team_members m \
             JOIN accounts a ON a.id = m.account_id WHERE m.patient_id = $1 ORDER BY m.joined_at, m.id"
        )
    };
    (grants, $part:literal) => {
        concat!(
            "SELECT ",
            $part,
            " * FROM break_glass_grants WHERE patient_id = $1 AND expires_at > $2 ORDER BY granted_at"
        )
    };
}
pub(crate) use scope_sql;

macro_rules! impl_store_tx {
    ($tx:ident, $db:ty) => {
        /// A transaction on this backend: a read transaction of its own, a
        /// use case's part of the writer's batch (see [`crate::group_commit`]),
        /// or a pooled connection reading statement by statement (`Store::reader`).
        pub(crate) enum $tx {
            Read(sqlx::Transaction<'static, $db>),
            Write($crate::group_commit::WriteSlot<<$db as sqlx::Database>::Connection>),
            Plain(sqlx::pool::PoolConnection<$db>),
        }

        impl $tx {
            fn conn(&mut self) -> &mut <$db as sqlx::Database>::Connection {
                match self {
                    $tx::Read(tx) => &mut *tx,
                    $tx::Write(slot) => slot.conn(),
                    $tx::Plain(c) => &mut *c,
                }
            }
        }

        /// Adds read receipts (one already there is kept as it is): one statement
        /// for a whole batch of readers, as the writer's round trips are its cost.
        pub(crate) async fn mark_read_on(
            conn: &mut <$db as sqlx::Database>::Connection,
            reads: &[$crate::EntryRead],
        ) -> Result<(), $crate::StoreError> {
            for chunk in reads.chunks($crate::sql::READS_PER_STATEMENT) {
                let mut rows = sqlx::QueryBuilder::<$db>::new("");
                push_mark_read(&mut rows, chunk);
                rows.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// A patient's scope, one query after another (`StoreTx::patient_scope`;
        /// SQLite's fallback when the statements sent together did not all run).
        pub(crate) async fn patient_scope_step_by_step(
            conn: &mut <$db as sqlx::Database>::Connection,
            id: uuid::Uuid,
            now: time::OffsetDateTime,
        ) -> Result<Option<$crate::PatientScopeRows>, $crate::StoreError> {
            let patient = sqlx::query_as($crate::sql::scope_sql!(patient, "")).bind(id).fetch_optional(&mut *conn).await?;
            let Some(patient) = patient else { return Ok(None) };
            let consents = sqlx::query_as($crate::sql::scope_sql!(consents, "")).bind(id).fetch_all(&mut *conn).await?;
            let team = sqlx::query_as($crate::sql::scope_sql!(team, "")).bind(id).fetch_all(&mut *conn).await?;
            let grants =
                sqlx::query_as($crate::sql::scope_sql!(grants, "")).bind(id).bind(now).fetch_all(&mut *conn).await?;
            Ok(Some($crate::PatientScopeRows { patient, consents, team, grants }))
        }

        /// A posted entry, its notifications and e-mail notices, one statement
        /// after another (`StoreTx::insert_posted_entry`).
        pub(crate) async fn insert_posted_entry_step_by_step(
            conn: &mut <$db as sqlx::Database>::Connection,
            e: &$crate::NewEntry,
            notifications: &[$crate::NewNotification],
            mails: &[(uuid::Uuid, uuid::Uuid)],
        ) -> Result<(), $crate::StoreError> {
            let one = std::slice::from_ref(e);
            let mut q = sqlx::QueryBuilder::<$db>::new("");
            push_entries(&mut q, one);
            q.build().execute(&mut *conn).await?;
            let mut q = sqlx::QueryBuilder::<$db>::new("");
            push_first_versions(&mut q, one);
            q.build().execute(&mut *conn).await?;
            if !notifications.is_empty() {
                let mut q = sqlx::QueryBuilder::<$db>::new("");
                push_notifications(&mut q, notifications);
                q.build().execute(&mut *conn).await?;
            }
            if !mails.is_empty() {
                let mut q = sqlx::QueryBuilder::<$db>::new("");
                push_enqueue_mails(&mut q, mails, e.created_at);
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// The statement inserting `entries` (their first version apart), into `q`.
        pub(crate) fn push_entries(q: &mut sqlx::QueryBuilder<$db>, entries: &[$crate::NewEntry]) {
            q.push(
                "INSERT INTO entries (id, patient_id, kind, author_id, reply_to, needs_reply, latest_version, \
                 created_at, audience) ",
            );
            q.push_values(entries, |mut row, e| {
                row.push_bind(e.id).push_bind(e.patient_id).push_bind(&e.kind).push_bind(e.author_id)
                    .push_bind(e.reply_to).push_bind(e.needs_reply).push("1").push_bind(e.created_at)
                    .push_bind(&e.audience);
            });
        }

        /// The statement inserting the first version of each of `entries`, into `q`.
        pub(crate) fn push_first_versions(q: &mut sqlx::QueryBuilder<$db>, entries: &[$crate::NewEntry]) {
            q.push("INSERT INTO entry_versions (entry_id, version, body, vitals, edited_by, edited_at, reason) ");
            q.push_values(entries, |mut row, e| {
                row.push_bind(e.id).push("1").push_bind(&e.body).push_bind(&e.vitals).push_bind(e.author_id)
                    .push_bind(e.created_at).push("NULL");
            });
        }

        /// The statement inserting `notifications` (at least one), into `q`.
        pub(crate) fn push_notifications(q: &mut sqlx::QueryBuilder<$db>, notifications: &[$crate::NewNotification]) {
            q.push("INSERT INTO notifications (id, account_id, patient_id, entry_id, kind, actor_id, created_at, read_at) ");
            q.push_values(notifications, |mut row, n| {
                row.push_bind(n.id).push_bind(n.account_id).push_bind(n.patient_id).push_bind(n.entry_id)
                    .push_bind(&n.kind).push_bind(n.actor_id).push_bind(n.created_at).push("NULL");
            });
        }

        /// The statement queueing e-mail notices (at least one; `StoreTx::enqueue_mails`), into `q`.
        pub(crate) fn push_enqueue_mails(
            q: &mut sqlx::QueryBuilder<$db>,
            mails: &[(uuid::Uuid, uuid::Uuid)],
            at: time::OffsetDateTime,
        ) {
            // VALUES names its columns column1, column2 on both backends.
            q.push(
                "INSERT INTO mail_outbox (id, account_id, created_at, sent_at, attempts, last_error) \
                 SELECT v.column1, a.id, ",
            );
            q.push_bind(at).push(", NULL, 0, NULL FROM (");
            q.push_values(mails, |mut row, (id, account_id)| {
                row.push_bind(*id).push_bind(*account_id);
            });
            q.push(
                ") AS v JOIN accounts a ON a.id = v.column2 \
                 WHERE a.email_notifications AND a.email IS NOT NULL AND a.email <> '' \
                 AND NOT EXISTS (SELECT 1 FROM mail_outbox o WHERE o.account_id = a.id AND o.sent_at IS NULL)",
            );
        }

        /// The statement of [`mark_read_on`] for up to `READS_PER_STATEMENT` receipts, into `rows`.
        pub(crate) fn push_mark_read(rows: &mut sqlx::QueryBuilder<$db>, reads: &[$crate::EntryRead]) {
            rows.push("INSERT INTO entry_reads (entry_id, account_id, read_at) ");
            rows.push_values(reads, |mut row, r| {
                row.push_bind(r.entry_id).push_bind(r.reader).push_bind(r.at);
            });
            rows.push(" ON CONFLICT (entry_id, account_id) DO NOTHING");
        }

        /// Marks each reader's notifications about the patient they opened read:
        /// the pairs as a table joined on the unread index (account_id, read_at).
        pub(crate) async fn mark_notifications_read_on(
            conn: &mut <$db as sqlx::Database>::Connection,
            reads: &[$crate::PatientRead],
        ) -> Result<(), $crate::StoreError> {
            for chunk in reads.chunks($crate::sql::READS_PER_STATEMENT) {
                let mut rows = sqlx::QueryBuilder::<$db>::new("");
                push_mark_notifications_read(&mut rows, chunk);
                rows.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// The statement of [`mark_notifications_read_on`] for up to `READS_PER_STATEMENT` readers, into `rows`.
        pub(crate) fn push_mark_notifications_read(
            rows: &mut sqlx::QueryBuilder<$db>,
            reads: &[$crate::PatientRead],
        ) {
            rows.push("WITH opened (account_id, patient_id, at) AS (");
            rows.push_values(reads, |mut row, r| {
                row.push_bind(r.reader).push_bind(r.patient_id).push_bind(r.at);
            });
            rows.push(
                ") UPDATE notifications SET read_at = opened.at FROM opened \
                 WHERE notifications.account_id = opened.account_id AND notifications.patient_id = opened.patient_id \
                 AND notifications.read_at IS NULL",
            );
        }

        /// The INSERT of up to `AUDIT_EVENTS_PER_STATEMENT` linked audit events, into `rows`.
        pub(crate) fn push_audit_events(
            rows: &mut sqlx::QueryBuilder<$db>,
            events: &[tsunagu_domain::audit::ChainedEvent],
        ) {
            rows.push(
                "INSERT INTO audit_events (id, chain, seq, occurred_at, actor_account_id, actor_label, action, \
                 target_kind, target_id, source_ip, details, prev_hash, hash) ",
            );
            rows.push_values(events, |mut row, e| {
                row.push_bind(e.id).push_bind(e.chain).push_bind(e.seq).push_bind(e.occurred_at)
                    .push_bind(e.actor_account_id).push_bind(&e.actor_label).push_bind(&e.action)
                    .push_bind(&e.target_kind).push_bind(e.target_id).push_bind(&e.source_ip)
                    .push_bind(&e.details).push_bind(&e.prev_hash).push_bind(&e.hash);
            });
        }

        /// Appends audit events (each to its municipality's chain, in the given
        /// order) with a few statements per chain; returns the chains' new heads.
        pub(crate) async fn append_audits_to(
            conn: &mut <$db as sqlx::Database>::Connection,
            records: &[&tsunagu_domain::audit::AuditRecord],
        ) -> Result<Vec<$crate::records::ChainHead>, $crate::StoreError> {
            use $crate::audit_chain::{by_chain, head_after, link};
            let mut heads = Vec::new();
            for (chain, of_chain) in by_chain(records) {
                let count = of_chain.len() as i64;
                // Claiming the next numbers locks the chain head until commit, so
                // concurrent appenders to one chain queue up instead of forking it.
                let (last_seq, prev_hash): (i64, Vec<u8>) = sqlx::query_as(
                    "INSERT INTO audit_chain_heads (chain, seq, hash) VALUES ($1, $3, $2) \
                     ON CONFLICT (chain) DO UPDATE SET seq = audit_chain_heads.seq + $3 RETURNING seq, hash",
                )
                .bind(chain).bind(tsunagu_domain::audit::GENESIS_HASH.as_slice()).bind(count)
                .fetch_one(&mut *conn).await?;
                let events = link(chain, (last_seq - count, &prev_hash), &of_chain);
                for chunk in events.chunks($crate::sql::AUDIT_EVENTS_PER_STATEMENT) {
                    let mut rows = sqlx::QueryBuilder::<$db>::new("");
                    push_audit_events(&mut rows, chunk);
                    rows.build().execute(&mut *conn).await?;
                }
                if let Some(head) = head_after(chain, &events) {
                    sqlx::query("UPDATE audit_chain_heads SET hash = $2 WHERE chain = $1")
                        .bind(chain).bind(&head.hash).execute(&mut *conn).await?;
                    heads.push(head);
                }
            }
            Ok(heads)
        }

        #[async_trait::async_trait]
        impl $crate::StoreTx for $tx {
            async fn commit(self: Box<Self>) -> Result<(), $crate::StoreError> {
                match *self {
                    $tx::Read(tx) => Ok(tx.commit().await?),
                    $tx::Write(slot) => slot.commit().await,
                    // Each statement committed on its own.
                    $tx::Plain(_) => Ok(()),
                }
            }

            async fn insert_municipality(&mut self, m: &$crate::MunicipalityRow) -> Result<(), $crate::StoreError> {
                sqlx::query("INSERT INTO municipalities (id, code, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(m.id).bind(&m.code).bind(&m.name).bind(m.created_at)
                    .execute(self.conn()).await?;
                Ok(())
            }

            async fn municipality(&mut self, id: uuid::Uuid) -> Result<Option<$crate::MunicipalityRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM municipalities WHERE id = $1").bind(id).fetch_optional(self.conn()).await?)
            }

            async fn municipality_by_code(&mut self, code: &str) -> Result<Option<$crate::MunicipalityRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM municipalities WHERE code = $1").bind(code).fetch_optional(self.conn()).await?)
            }

            async fn municipalities(&mut self) -> Result<Vec<$crate::MunicipalityRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM municipalities ORDER BY code").fetch_all(self.conn()).await?)
            }

            async fn insert_facility(&mut self, f: &$crate::FacilityRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO facilities (id, municipality_id, kind, name, name_kana, medical_institution_code, \
                     care_provider_number, postal_code, address, phone, latitude, longitude, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(f.id).bind(f.municipality_id).bind(f.kind.code()).bind(&f.name).bind(&f.name_kana)
                .bind(&f.medical_institution_code).bind(&f.care_provider_number).bind(&f.postal_code)
                .bind(&f.address).bind(&f.phone).bind(f.latitude).bind(f.longitude).bind(f.created_at).bind(f.updated_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn update_facility(&mut self, f: &$crate::FacilityRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE facilities SET kind = $2, name = $3, name_kana = $4, medical_institution_code = $5, \
                     care_provider_number = $6, postal_code = $7, address = $8, phone = $9, latitude = $10, \
                     longitude = $11, updated_at = $12 WHERE id = $1",
                )
                .bind(f.id).bind(f.kind.code()).bind(&f.name).bind(&f.name_kana).bind(&f.medical_institution_code)
                .bind(&f.care_provider_number).bind(&f.postal_code).bind(&f.address).bind(&f.phone)
                .bind(f.latitude).bind(f.longitude).bind(f.updated_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn facility(&mut self, id: uuid::Uuid) -> Result<Option<$crate::FacilityRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM facilities WHERE id = $1").bind(id).fetch_optional(self.conn()).await?)
            }

            async fn facilities(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::FacilityRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM facilities WHERE municipality_id = $1 ORDER BY kind, name_kana, name")
                    .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn insert_account(&mut self, a: &$crate::AccountRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO accounts (id, municipality_id, login_id, display_name, display_name_kana, email, \
                     profession, roles, status, password_hash, totp_secret, totp_last_step, language, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(a.id).bind(a.municipality_id).bind(&a.login_id).bind(&a.display_name).bind(&a.display_name_kana)
                .bind(&a.email).bind(a.profession.code()).bind(&a.roles).bind(a.status.code()).bind(&a.password_hash)
                .bind(&a.totp_secret).bind(a.totp_last_step).bind(&a.language).bind(a.created_at).bind(a.updated_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn account(&mut self, id: uuid::Uuid) -> Result<Option<$crate::AccountRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM accounts WHERE id = $1").bind(id).fetch_optional(self.conn()).await?)
            }

            async fn account_by_login(&mut self, login_id: &str) -> Result<Option<$crate::AccountRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM accounts WHERE login_id = $1").bind(login_id).fetch_optional(self.conn()).await?)
            }

            async fn search_colleagues(
                &mut self,
                municipality_id: uuid::Uuid,
                text: &str,
                kana: &str,
                limit: i64,
            ) -> Result<Vec<$crate::AccountRow>, $crate::StoreError> {
                let like = |t: &str| format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
                Ok(sqlx::query_as(
                    "SELECT * FROM accounts WHERE municipality_id = $1 AND status = 'active' AND profession <> 'family' \
                     AND (LOWER(login_id) LIKE $2 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\' \
                          OR REPLACE(COALESCE(display_name_kana, ''), ' ', '') LIKE $3 ESCAPE '\\') \
                     ORDER BY login_id LIMIT $4",
                )
                .bind(municipality_id).bind(like(text)).bind(like(kana)).bind(limit)
                .fetch_all(self.conn()).await?)
            }

            async fn accounts(&mut self, municipality_id: Option<uuid::Uuid>) -> Result<Vec<$crate::AccountRow>, $crate::StoreError> {
                let rows = match municipality_id {
                    Some(m) => sqlx::query_as("SELECT * FROM accounts WHERE municipality_id = $1 ORDER BY login_id")
                        .bind(m).fetch_all(self.conn()).await?,
                    None => sqlx::query_as("SELECT * FROM accounts WHERE municipality_id IS NULL ORDER BY login_id")
                        .fetch_all(self.conn()).await?,
                };
                Ok(rows)
            }

            async fn set_account_status(&mut self, id: uuid::Uuid, status: &str, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE accounts SET status = $2, updated_at = $3 WHERE id = $1")
                    .bind(id).bind(status).bind(at).execute(self.conn()).await?;
                Ok(())
            }

            async fn set_password_hash(&mut self, id: uuid::Uuid, hash: Option<&str>, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE accounts SET password_hash = $2, updated_at = $3 WHERE id = $1")
                    .bind(id).bind(hash).bind(at).execute(self.conn()).await?;
                Ok(())
            }

            async fn set_totp(&mut self, id: uuid::Uuid, secret: Option<&[u8]>, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE accounts SET totp_secret = $2, totp_last_step = NULL, updated_at = $3 WHERE id = $1")
                    .bind(id).bind(secret).bind(at).execute(self.conn()).await?;
                Ok(())
            }

            async fn totp_secrets(&mut self) -> Result<Vec<(uuid::Uuid, Vec<u8>)>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT id, totp_secret FROM accounts WHERE totp_secret IS NOT NULL")
                    .fetch_all(self.conn()).await?)
            }

            async fn replace_totp_secret(&mut self, id: uuid::Uuid, stored: &[u8]) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE accounts SET totp_secret = $2 WHERE id = $1")
                    .bind(id).bind(stored).execute(self.conn()).await?;
                Ok(())
            }

            async fn advance_totp_step(&mut self, id: uuid::Uuid, step: i64) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE accounts SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(id).bind(step).execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_email_notifications(&mut self, account_id: uuid::Uuid, on: bool) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE accounts SET email_notifications = $2 WHERE id = $1")
                    .bind(account_id).bind(on).execute(self.conn()).await?;
                Ok(())
            }

            async fn email_notifications(&mut self, account_id: uuid::Uuid) -> Result<bool, $crate::StoreError> {
                let on: Option<bool> = sqlx::query_scalar("SELECT email_notifications FROM accounts WHERE id = $1")
                    .bind(account_id).fetch_optional(self.conn()).await?;
                Ok(on.unwrap_or(false))
            }

            async fn enqueue_mails(
                &mut self,
                mails: &[(uuid::Uuid, uuid::Uuid)],
                at: time::OffsetDateTime,
            ) -> Result<u64, $crate::StoreError> {
                if mails.is_empty() {
                    return Ok(0);
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("");
                push_enqueue_mails(&mut q, mails, at);
                Ok(q.build().execute(self.conn()).await?.rows_affected())
            }

            async fn pending_mails(&mut self, max_attempts: i64, limit: i64) -> Result<Vec<$crate::PendingMail>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT o.id, o.account_id, a.email, a.language, o.attempts FROM mail_outbox o \
                     JOIN accounts a ON a.id = o.account_id \
                     WHERE o.sent_at IS NULL AND o.attempts < $1 AND a.email_notifications AND a.status = 'active' \
                     AND a.email IS NOT NULL AND a.email <> '' ORDER BY o.created_at LIMIT $2",
                )
                .bind(max_attempts).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn mark_mail_sent(&mut self, id: uuid::Uuid, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE mail_outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1")
                    .bind(id).bind(at).execute(self.conn()).await?;
                Ok(())
            }

            async fn mark_mail_failed(&mut self, id: uuid::Uuid, error: &str) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
                    .bind(id).bind(error).execute(self.conn()).await?;
                Ok(())
            }

            async fn set_language(&mut self, id: uuid::Uuid, language: &str) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE accounts SET language = $2 WHERE id = $1").bind(id).bind(language).execute(self.conn()).await?;
                Ok(())
            }

            async fn upsert_membership(&mut self, m: &$crate::MembershipRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO facility_memberships (account_id, facility_id, is_admin, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (account_id, facility_id) DO UPDATE SET is_admin = $3",
                )
                .bind(m.account_id).bind(m.facility_id).bind(m.is_admin).bind(m.created_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn remove_membership(&mut self, account_id: uuid::Uuid, facility_id: uuid::Uuid) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query("DELETE FROM facility_memberships WHERE account_id = $1 AND facility_id = $2")
                    .bind(account_id).bind(facility_id).execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn memberships_of_account(&mut self, account_id: uuid::Uuid) -> Result<Vec<$crate::MembershipRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM facility_memberships WHERE account_id = $1 ORDER BY created_at")
                    .bind(account_id).fetch_all(self.conn()).await?)
            }

            async fn facilities_of_account(&mut self, account_id: uuid::Uuid) -> Result<Vec<$crate::AccountFacilityRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT m.facility_id, f.name AS facility_name, f.kind AS facility_kind, m.is_admin FROM facility_memberships m \
                     JOIN facilities f ON f.id = m.facility_id WHERE m.account_id = $1 ORDER BY m.created_at",
                )
                .bind(account_id).fetch_all(self.conn()).await?)
            }

            async fn memberships_in_municipality(&mut self, municipality_id: uuid::Uuid) -> Result<Vec<$crate::MembershipRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT fm.* FROM facility_memberships fm JOIN facilities f ON f.id = fm.facility_id \
                     WHERE f.municipality_id = $1 ORDER BY fm.created_at",
                )
                .bind(municipality_id).fetch_all(self.conn()).await?)
            }

            async fn insert_invitation(&mut self, i: &$crate::InvitationRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO invitations (id, account_id, code_hash, created_by, created_at, expires_at, used_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(i.id).bind(i.account_id).bind(&i.code_hash).bind(i.created_by).bind(i.created_at)
                .bind(i.expires_at).bind(i.used_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn invitation_by_code_hash(&mut self, code_hash: &[u8]) -> Result<Option<$crate::InvitationRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM invitations WHERE code_hash = $1").bind(code_hash).fetch_optional(self.conn()).await?)
            }

            async fn close_invitations(&mut self, account_id: uuid::Uuid, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE invitations SET used_at = $2 WHERE account_id = $1 AND used_at IS NULL")
                    .bind(account_id).bind(at).execute(self.conn()).await?;
                Ok(())
            }

            async fn replace_recovery_codes(&mut self, account_id: uuid::Uuid, code_hashes: &[Vec<u8>]) -> Result<(), $crate::StoreError> {
                sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1").bind(account_id).execute(self.conn()).await?;
                for hash in code_hashes {
                    sqlx::query("INSERT INTO recovery_codes (account_id, code_hash, used_at) VALUES ($1, $2, NULL)")
                        .bind(account_id).bind(hash).execute(self.conn()).await?;
                }
                Ok(())
            }

            async fn use_recovery_code(&mut self, account_id: uuid::Uuid, code_hash: &[u8], at: time::OffsetDateTime) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL",
                )
                .bind(account_id).bind(code_hash).bind(at).execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn unused_recovery_codes(&mut self, account_id: uuid::Uuid) -> Result<i64, $crate::StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL")
                    .bind(account_id).fetch_one(self.conn()).await?)
            }

            async fn insert_session(&mut self, s: &$crate::SessionRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, account_id, stage, csrf_token, pending_totp_secret, created_at, \
                     last_seen_at, expires_at, source_ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&s.token_hash).bind(s.account_id).bind(&s.stage).bind(&s.csrf_token).bind(&s.pending_totp_secret)
                .bind(s.created_at).bind(s.last_seen_at).bind(s.expires_at).bind(&s.source_ip).bind(&s.user_agent)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn session(&mut self, token_hash: &[u8]) -> Result<Option<$crate::SessionRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM sessions WHERE token_hash = $1").bind(token_hash).fetch_optional(self.conn()).await?)
            }

            async fn update_session(&mut self, s: &$crate::SessionRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE sessions SET stage = $2, csrf_token = $3, pending_totp_secret = $4, last_seen_at = $5, \
                     expires_at = $6 WHERE token_hash = $1",
                )
                .bind(&s.token_hash).bind(&s.stage).bind(&s.csrf_token).bind(&s.pending_totp_secret)
                .bind(s.last_seen_at).bind(s.expires_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn delete_session(&mut self, token_hash: &[u8]) -> Result<(), $crate::StoreError> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(self.conn()).await?;
                Ok(())
            }

            async fn delete_sessions_of_account(&mut self, account_id: uuid::Uuid) -> Result<u64, $crate::StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id).execute(self.conn()).await?;
                Ok(done.rows_affected())
            }

            async fn count_sessions_of_account(&mut self, account_id: uuid::Uuid, now: time::OffsetDateTime) -> Result<i64, $crate::StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE account_id = $1 AND expires_at > $2")
                    .bind(account_id).bind(now).fetch_one(self.conn()).await?)
            }

            async fn delete_expired_sessions(&mut self, now: time::OffsetDateTime) -> Result<u64, $crate::StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(self.conn()).await?;
                Ok(done.rows_affected())
            }

            async fn record_sign_in_failure(&mut self, throttle_key: &str, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("INSERT INTO sign_in_failures (id, throttle_key, at) VALUES ($1, $2, $3)")
                    .bind(uuid::Uuid::now_v7()).bind(throttle_key).bind(at).execute(self.conn()).await?;
                Ok(())
            }

            async fn sign_in_failures_since(&mut self, throttle_key: &str, since: time::OffsetDateTime) -> Result<i64, $crate::StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE throttle_key = $1 AND at > $2")
                    .bind(throttle_key).bind(since).fetch_one(self.conn()).await?)
            }

            async fn clear_sign_in_failures(&mut self, throttle_key: &str) -> Result<(), $crate::StoreError> {
                sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1").bind(throttle_key).execute(self.conn()).await?;
                Ok(())
            }

            async fn insert_patient(&mut self, p: &$crate::PatientRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO patients (id, municipality_id, created_by, family_name, given_name, family_name_kana, \
                     given_name_kana, search_key, birth_date, sex, address, daily_living_area, phone, key_person, \
                     key_person_phone, care_level, main_diagnoses, allergies, special_care, status, outcome, outcome_date, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, $18, $19, $20, $21, $22, $23, $24)",
                )
                .bind(p.id).bind(p.municipality_id).bind(p.created_by).bind(&p.family_name).bind(&p.given_name)
                .bind(&p.family_name_kana).bind(&p.given_name_kana).bind(&p.search_key).bind(p.birth_date).bind(p.sex.code())
                .bind(&p.address).bind(&p.daily_living_area).bind(&p.phone).bind(&p.key_person).bind(&p.key_person_phone)
                .bind(p.care_level.code()).bind(&p.main_diagnoses).bind(&p.allergies).bind(&p.special_care).bind(p.status.code())
                .bind(&p.outcome).bind(p.outcome_date).bind(p.created_at).bind(p.updated_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn update_patient(&mut self, p: &$crate::PatientRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE patients SET family_name = $2, given_name = $3, family_name_kana = $4, given_name_kana = $5, \
                     search_key = $6, birth_date = $7, sex = $8, address = $9, daily_living_area = $10, phone = $11, \
                     key_person = $12, key_person_phone = $13, care_level = $14, main_diagnoses = $15, allergies = $16, \
                     special_care = $17, status = $18, outcome = $19, outcome_date = $20, updated_at = $21 WHERE id = $1",
                )
                .bind(p.id).bind(&p.family_name).bind(&p.given_name).bind(&p.family_name_kana).bind(&p.given_name_kana)
                .bind(&p.search_key).bind(p.birth_date).bind(p.sex.code()).bind(&p.address).bind(&p.daily_living_area)
                .bind(&p.phone).bind(&p.key_person).bind(&p.key_person_phone).bind(p.care_level.code()).bind(&p.main_diagnoses)
                .bind(&p.allergies).bind(&p.special_care).bind(p.status.code()).bind(&p.outcome).bind(p.outcome_date)
                .bind(p.updated_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn patient(&mut self, id: uuid::Uuid) -> Result<Option<$crate::PatientRow>, $crate::StoreError> {
                Ok(sqlx::query_as($crate::sql::scope_sql!(patient, "")).bind(id).fetch_optional(self.conn()).await?)
            }

            async fn patient_scope(
                &mut self,
                id: uuid::Uuid,
                now: time::OffsetDateTime,
            ) -> Result<Option<$crate::PatientScopeRows>, $crate::StoreError> {
                patient_scope_on(self.conn(), id, now).await
            }

            async fn patients_of_member(&mut self, account_id: uuid::Uuid) -> Result<Vec<$crate::MemberPatientRow>, $crate::StoreError> {
                // One query for the whole list (no query per patient): consent comes
                // from the newest consent record.
                Ok(sqlx::query_as(
                    "SELECT p.*, (SELECT c.withdrawn_at IS NULL FROM consents c WHERE c.patient_id = p.id \
                       ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1) AS consent_in_force, \
                     EXISTS (SELECT 1 FROM team_members x WHERE x.patient_id = p.id AND x.left_at IS NULL \
                       AND x.team_role = $2) AS has_primary_physician \
                     FROM patients p JOIN team_members m ON m.patient_id = p.id \
                     WHERE m.account_id = $1 AND m.left_at IS NULL \
                     ORDER BY p.family_name_kana, p.given_name_kana",
                )
                .bind(account_id).bind(tsunagu_domain::care::TeamRole::PrimaryPhysician.code())
                .fetch_all(self.conn()).await?)
            }

            async fn patient_counts(&mut self, account_id: uuid::Uuid) -> Result<Vec<$crate::PatientCountsRow>, $crate::StoreError> {
                // The counts, each filtered by who may read what: see `audience_sql.rs`.
                Ok(sqlx::query_as(sqlx::AssertSqlSafe($crate::audience_sql::PATIENT_COUNTS.as_str()))
                .bind(account_id).bind($crate::UNREAD_WINDOW).fetch_all(self.conn()).await?)
            }

            async fn insert_consent(&mut self, c: &$crate::ConsentRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO consents (id, patient_id, given_on, method, proxy_name, proxy_relation, scope, recorded_by, \
                     recorded_at, withdrawn_at, withdrawn_by, withdrawal_reason, document_entry_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(c.id).bind(c.patient_id).bind(c.given_on).bind(&c.method).bind(&c.proxy_name).bind(&c.proxy_relation)
                .bind(&c.scope).bind(c.recorded_by).bind(c.recorded_at).bind(c.withdrawn_at).bind(c.withdrawn_by)
                .bind(&c.withdrawal_reason).bind(c.document_entry_id)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn consents(&mut self, patient_id: uuid::Uuid) -> Result<Vec<$crate::ConsentRow>, $crate::StoreError> {
                Ok(sqlx::query_as($crate::sql::scope_sql!(consents, "")).bind(patient_id).fetch_all(self.conn()).await?)
            }

            async fn withdraw_consent(&mut self, id: uuid::Uuid, by: uuid::Uuid, at: time::OffsetDateTime, reason: &str) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE consents SET withdrawn_at = $3, withdrawn_by = $2, withdrawal_reason = $4 WHERE id = $1 AND withdrawn_at IS NULL",
                )
                .bind(id).bind(by).bind(at).bind(reason).execute(self.conn()).await?;
                Ok(())
            }

            async fn insert_team_member(&mut self, m: &$crate::NewTeamMember) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO team_members (id, patient_id, account_id, team_role, added_by, joined_at, left_at, left_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
                )
                .bind(m.id).bind(m.patient_id).bind(m.account_id).bind(&m.team_role).bind(m.added_by).bind(m.joined_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn team(&mut self, patient_id: uuid::Uuid) -> Result<Vec<$crate::TeamMemberRow>, $crate::StoreError> {
                Ok(sqlx::query_as($crate::sql::scope_sql!(team, "")).bind(patient_id).fetch_all(self.conn()).await?)
            }

            async fn end_team_membership(&mut self, id: uuid::Uuid, by: uuid::Uuid, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE team_members SET left_at = $3, left_by = $2 WHERE id = $1 AND left_at IS NULL")
                    .bind(id).bind(by).bind(at).execute(self.conn()).await?;
                Ok(())
            }

            async fn insert_entry(&mut self, e: &$crate::NewEntry) -> Result<(), $crate::StoreError> {
                insert_posted_entry_step_by_step(self.conn(), e, &[], &[]).await
            }

            async fn insert_posted_entry(
                &mut self,
                e: &$crate::NewEntry,
                notifications: &[$crate::NewNotification],
                mails: &[(uuid::Uuid, uuid::Uuid)],
            ) -> Result<(), $crate::StoreError> {
                insert_posted_entry_on(self.conn(), e, notifications, mails).await
            }

            async fn insert_entries(&mut self, entries: &[$crate::NewEntry]) -> Result<(), $crate::StoreError> {
                // Multi-row inserts, in chunks well under both backends' bind limits.
                for chunk in entries.chunks(1_000) {
                    let mut rows = sqlx::QueryBuilder::<$db>::new("");
                    push_entries(&mut rows, chunk);
                    rows.build().execute(self.conn()).await?;
                    let mut versions = sqlx::QueryBuilder::<$db>::new("");
                    push_first_versions(&mut versions, chunk);
                    versions.build().execute(self.conn()).await?;
                }
                Ok(())
            }

            async fn insert_entry_version(&mut self, v: &$crate::NewEntryVersion) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO entry_versions (entry_id, version, body, vitals, edited_by, edited_at, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(v.entry_id).bind(v.version).bind(&v.body).bind(&v.vitals).bind(v.edited_by).bind(v.edited_at).bind(&v.reason)
                .execute(self.conn()).await?;
                sqlx::query("UPDATE entries SET latest_version = $2 WHERE id = $1")
                    .bind(v.entry_id).bind(v.version).execute(self.conn()).await?;
                Ok(())
            }

            async fn entry_patient(&mut self, id: uuid::Uuid) -> Result<Option<uuid::Uuid>, $crate::StoreError> {
                Ok(sqlx::query_scalar("SELECT patient_id FROM entries WHERE id = $1").bind(id).fetch_optional(self.conn()).await?)
            }

            async fn entry(&mut self, grant: &$crate::RecordGrant, id: uuid::Uuid) -> Result<Option<$crate::TimelineRow>, $crate::StoreError> {
                let sql = format!("{} WHERE e.id = $1 AND e.patient_id = $3", &*$crate::audience_sql::TIMELINE_SELECT);
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id).bind(grant.reader().0).bind(grant.patient().0)
                    .fetch_optional(self.conn()).await?)
            }

            async fn vitals_points(&mut self, grant: &$crate::RecordGrant, limit: i64) -> Result<Vec<$crate::VitalsPointRow>, $crate::StoreError> {
                let shows = |a| grant.shows_audience(a);
                Ok(sqlx::query_as(
                    "SELECT e.id, e.created_at, v.vitals FROM entries e \
                     JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.latest_version \
                     WHERE e.patient_id = $1 AND e.kind = 'vitals' \
                     AND (e.author_id = $2 OR ($3 AND e.audience = 'team') OR ($4 AND e.audience = 'family') \
                          OR ($5 AND e.audience = 'physicians')) \
                     ORDER BY e.created_at DESC, e.id DESC LIMIT $6",
                )
                .bind(grant.patient().0).bind(grant.reader().0)
                .bind(shows(tsunagu_domain::care::Audience::Team)).bind(shows(tsunagu_domain::care::Audience::WithFamily)).bind(shows(tsunagu_domain::care::Audience::Physicians))
                .bind(limit)
                .fetch_all(self.conn()).await?)
            }

            async fn timeline(
                &mut self,
                grant: &$crate::RecordGrant,
                filter: &$crate::TimelineFilter,
                limit: i64,
            ) -> Result<Vec<$crate::TimelineRow>, $crate::StoreError> {
                // Per patient, a LIKE over the patient's own entries is exact for terms of
                // any length (one-character Japanese words included) and stays cheap:
                // the index on (patient_id, created_at) bounds the scan to one patient.
                let sql = format!(
                    "{} WHERE e.patient_id = $1 AND ($3 = '' OR e.kind = $3) \
                     AND ($4 = '' OR LOWER(v.body) LIKE $4 ESCAPE '\\') \
                     AND (e.author_id = $2 OR ($6 AND e.audience = 'team') OR ($7 AND e.audience = 'family') \
                          OR ($8 AND e.audience = 'physicians')) \
                     AND ($9 = '' OR a.profession = $9) AND e.created_at >= $10 AND e.created_at < $11 \
                     AND (NOT $12 OR e.author_id = $13) AND (NOT $14 OR v.vitals <> '{{}}') \
                     AND v.edited_at >= $15 AND v.edited_at < $16 \
                     ORDER BY e.created_at {order}, e.id {order} LIMIT $5",
                    &*$crate::audience_sql::TIMELINE_SELECT,
                    // One of two constants, never input; the index serves both directions.
                    order = if filter.oldest_first { "ASC" } else { "DESC" },
                );
                let since = filter.since.unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                let until = filter.until.unwrap_or(time::macros::datetime!(9999-12-31 00:00 UTC));
                let edited_since = filter.edited_since.unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                let edited_until = filter.edited_until.unwrap_or(time::macros::datetime!(9999-12-31 00:00 UTC));
                let shows = |a| grant.shows_audience(a);
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(grant.patient().0).bind(grant.reader().0).bind(filter.kind.as_deref().unwrap_or_default())
                    .bind(filter.like_pattern()).bind(limit)
                    .bind(shows(tsunagu_domain::care::Audience::Team)).bind(shows(tsunagu_domain::care::Audience::WithFamily)).bind(shows(tsunagu_domain::care::Audience::Physicians))
                    .bind(filter.profession.as_deref().unwrap_or_default()).bind(since).bind(until)
                    .bind(filter.author.is_some()).bind(filter.author.unwrap_or_default()).bind(filter.with_vitals)
                    .bind(edited_since).bind(edited_until)
                    .fetch_all(self.conn()).await?)
            }

            async fn entry_versions(&mut self, grant: &$crate::RecordGrant, entry_id: uuid::Uuid) -> Result<Vec<$crate::EntryVersionRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT v.*, a.display_name AS editor_name FROM entry_versions v JOIN accounts a ON a.id = v.edited_by \
                     JOIN entries e ON e.id = v.entry_id WHERE v.entry_id = $1 AND e.patient_id = $2 ORDER BY v.version DESC",
                )
                .bind(entry_id).bind(grant.patient().0).fetch_all(self.conn()).await?)
            }

            async fn mark_read(&mut self, reads: &[$crate::EntryRead]) -> Result<(), $crate::StoreError> {
                mark_read_on(self.conn(), reads).await
            }

            async fn read_receipts(&mut self, grant: &$crate::RecordGrant, entry_id: uuid::Uuid) -> Result<Vec<$crate::ReceiptRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT r.account_id, a.display_name, r.read_at AS at FROM entry_reads r \
                     JOIN accounts a ON a.id = r.account_id JOIN entries e ON e.id = r.entry_id \
                     WHERE r.entry_id = $1 AND e.patient_id = $2 ORDER BY r.read_at",
                )
                .bind(entry_id).bind(grant.patient().0).fetch_all(self.conn()).await?)
            }

            async fn acknowledge(&mut self, entry_id: uuid::Uuid, account_id: uuid::Uuid, at: time::OffsetDateTime) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "INSERT INTO entry_acknowledgements (entry_id, account_id, acknowledged_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (entry_id, account_id) DO NOTHING",
                )
                .bind(entry_id).bind(account_id).bind(at).execute(self.conn()).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn acknowledgements(&mut self, grant: &$crate::RecordGrant, entry_id: uuid::Uuid) -> Result<Vec<$crate::ReceiptRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT k.account_id, a.display_name, k.acknowledged_at AS at FROM entry_acknowledgements k \
                     JOIN accounts a ON a.id = k.account_id JOIN entries e ON e.id = k.entry_id \
                     WHERE k.entry_id = $1 AND e.patient_id = $2 ORDER BY k.acknowledged_at",
                )
                .bind(entry_id).bind(grant.patient().0).fetch_all(self.conn()).await?)
            }

            async fn insert_acp(&mut self, a: &$crate::AcpRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO advance_care_plans (id, patient_id, discussed_on, participants, place_of_care, place_of_death, \
                     treatment, proxy_name, proxy_relation, wishes, recorded_by, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(a.id).bind(a.patient_id).bind(a.discussed_on).bind(&a.participants).bind(&a.place_of_care)
                .bind(&a.place_of_death).bind(&a.treatment).bind(&a.proxy_name).bind(&a.proxy_relation).bind(&a.wishes)
                .bind(a.recorded_by).bind(a.recorded_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn acp_revisions(&mut self, grant: &$crate::RecordGrant) -> Result<Vec<$crate::AcpRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT p.*, a.display_name AS recorder_name FROM advance_care_plans p \
                     JOIN accounts a ON a.id = p.recorded_by WHERE p.patient_id = $1 ORDER BY p.recorded_at DESC, p.id DESC",
                )
                .bind(grant.patient().0).fetch_all(self.conn()).await?)
            }

            async fn timeline_between(
                &mut self,
                grant: &$crate::RecordGrant,
                from: time::OffsetDateTime,
                to: time::OffsetDateTime,
                limit: i64,
            ) -> Result<Vec<$crate::TimelineRow>, $crate::StoreError> {
                let sql = format!(
                    "{} WHERE e.patient_id = $1 AND e.created_at >= $3 AND e.created_at < $4 \
                     AND (e.author_id = $2 OR ($6 AND e.audience = 'team') OR ($7 AND e.audience = 'family') \
                          OR ($8 AND e.audience = 'physicians')) \
                     ORDER BY e.created_at, e.id LIMIT $5",
                    &*$crate::audience_sql::TIMELINE_SELECT
                );
                let shows = |a| grant.shows_audience(a);
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(grant.patient().0).bind(grant.reader().0).bind(from).bind(to).bind(limit)
                    .bind(shows(tsunagu_domain::care::Audience::Team)).bind(shows(tsunagu_domain::care::Audience::WithFamily)).bind(shows(tsunagu_domain::care::Audience::Physicians))
                    .fetch_all(self.conn()).await?)
            }

            async fn insert_attachment(&mut self, a: &$crate::AttachmentRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO attachments (id, entry_id, patient_id, content_type, file_name, size_bytes, sha256, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(a.id).bind(a.entry_id).bind(a.patient_id).bind(&a.content_type).bind(&a.file_name).bind(a.size_bytes)
                .bind(&a.sha256).bind(a.created_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn attachment(&mut self, id: uuid::Uuid) -> Result<Option<$crate::AttachmentRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM attachments WHERE id = $1").bind(id).fetch_optional(self.conn()).await?)
            }

            async fn attachments_of_patient(&mut self, grant: &$crate::RecordGrant) -> Result<Vec<$crate::AttachmentRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM attachments WHERE patient_id = $1 ORDER BY created_at, id")
                    .bind(grant.patient().0).fetch_all(self.conn()).await?)
            }

            async fn attachments_since(&mut self, grant: &$crate::RecordGrant, since: time::OffsetDateTime) -> Result<Vec<$crate::AttachmentRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM attachments WHERE patient_id = $1 AND created_at >= $2 ORDER BY created_at, id")
                    .bind(grant.patient().0).bind(since).fetch_all(self.conn()).await?)
            }

            async fn insert_break_glass(&mut self, g: &$crate::BreakGlassRow) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO break_glass_grants (id, patient_id, account_id, reason_kind, reason, granted_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(g.id).bind(g.patient_id).bind(g.account_id).bind(&g.reason_kind).bind(&g.reason).bind(g.granted_at).bind(g.expires_at)
                .execute(self.conn()).await?;
                Ok(())
            }

            async fn active_break_glass(&mut self, patient_id: uuid::Uuid, now: time::OffsetDateTime) -> Result<Vec<$crate::BreakGlassRow>, $crate::StoreError> {
                Ok(sqlx::query_as($crate::sql::scope_sql!(grants, "")).bind(patient_id).bind(now).fetch_all(self.conn()).await?)
            }

            async fn patients_born_on(&mut self, municipality_id: uuid::Uuid, birth_date: time::Date) -> Result<Vec<$crate::PatientRow>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM patients WHERE municipality_id = $1 AND birth_date = $2")
                    .bind(municipality_id).bind(birth_date).fetch_all(self.conn()).await?)
            }

            async fn insert_notifications(&mut self, ns: &[$crate::NewNotification]) -> Result<(), $crate::StoreError> {
                if ns.is_empty() {
                    return Ok(());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("");
                push_notifications(&mut q, ns);
                q.build().execute(self.conn()).await?;
                Ok(())
            }

            async fn unread_notifications(&mut self, account_id: uuid::Uuid, limit: i64) -> Result<Vec<$crate::NotificationRow>, $crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT n.id, n.patient_id, n.entry_id, n.kind, n.created_at, a.display_name AS actor_name, \
                       p.family_name AS patient_family_name, p.given_name AS patient_given_name \
                     FROM notifications n JOIN accounts a ON a.id = n.actor_id JOIN patients p ON p.id = n.patient_id \
                     WHERE n.account_id = $1 AND n.read_at IS NULL AND EXISTS (SELECT 1 FROM team_members m \
                       WHERE m.patient_id = n.patient_id AND m.account_id = $1 AND m.left_at IS NULL) \
                     ORDER BY n.created_at DESC, n.id DESC LIMIT $2",
                )
                .bind(account_id).bind(limit).fetch_all(self.conn()).await?)
            }

            async fn append_audit(&mut self, record: &tsunagu_domain::audit::AuditRecord) -> Result<(), $crate::StoreError> {
                self.append_audits(&[record]).await
            }

            async fn append_audits(&mut self, records: &[&tsunagu_domain::audit::AuditRecord]) -> Result<(), $crate::StoreError> {
                match self {
                    // In the writer's batch: appended with the whole batch's just before its
                    // COMMIT (a few statements per batch instead of per use case), and
                    // dropped with the use case if it is undone.
                    $tx::Write(slot) => {
                        slot.defer_audits(records);
                        Ok(())
                    }
                    _ => append_audits_to(self.conn(), records).await.map(|_| ()),
                }
            }

            async fn audit_heads(&mut self) -> Result<Vec<$crate::ChainHead>, $crate::StoreError> {
                Ok(sqlx::query_as("SELECT * FROM audit_chain_heads ORDER BY chain").fetch_all(self.conn()).await?)
            }

            async fn audit_events_after(
                &mut self,
                chain: uuid::Uuid,
                after_seq: i64,
                limit: i64,
            ) -> Result<Vec<tsunagu_domain::audit::ChainedEvent>, $crate::StoreError> {
                let rows: Vec<$crate::records::AuditEventRow> =
                    sqlx::query_as("SELECT * FROM audit_events WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                        .bind(chain).bind(after_seq).bind(limit).fetch_all(self.conn()).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn audit_events_for_target(
                &mut self,
                chain: uuid::Uuid,
                target_id: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<tsunagu_domain::audit::ChainedEvent>, $crate::StoreError> {
                let rows: Vec<$crate::records::AuditEventRow> =
                    sqlx::query_as("SELECT * FROM audit_events WHERE target_id = $2 AND chain = $1 ORDER BY seq DESC LIMIT $3")
                        .bind(chain).bind(target_id).bind(limit).fetch_all(self.conn()).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn recent_audit_events(
                &mut self,
                chain: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<tsunagu_domain::audit::ChainedEvent>, $crate::StoreError> {
                let rows: Vec<$crate::records::AuditEventRow> =
                    sqlx::query_as("SELECT * FROM audit_events WHERE chain = $1 ORDER BY seq DESC LIMIT $2")
                        .bind(chain).bind(limit).fetch_all(self.conn()).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }
    };
}

pub(crate) use impl_store_tx;
