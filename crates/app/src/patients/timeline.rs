//! The timeline: the patient page, posting, corrections, replies, acknowledgements, attachments, the printed record.

use super::*;
use tsunagu_domain::record_access::{RecordGrant, RecordIntent, Refusal};

/// Groups a page of the timeline (newest first) into threads: a reply goes
/// under its parent when the parent is on the page; threads come newest
/// activity first, so a fresh reply brings its conversation to the top.
pub fn threads(timeline: &[EntryView]) -> Vec<Thread> {
    let shown: std::collections::HashSet<Uuid> = timeline.iter().map(|e| e.id).collect();
    let mut threads: Vec<Thread> = timeline
        .iter()
        .filter(|e| e.reply_to.is_none_or(|parent| !shown.contains(&parent)))
        .map(|e| (e.clone(), Vec::new()))
        .collect();
    for reply in timeline.iter().rev() {
        if let Some(parent) = reply.reply_to.filter(|p| shown.contains(p)) {
            // Replies to replies join the thread of the reply's own root.
            let root = root_of(timeline, parent);
            if let Some((_, replies)) = threads.iter_mut().find(|(e, _)| e.id == root) {
                replies.push(reply.clone());
            }
        }
    }
    let latest =
        |(e, replies): &Thread| replies.iter().map(|r| r.created_at).max().unwrap_or(e.created_at).max(e.created_at);
    threads.sort_by_key(|t| std::cmp::Reverse(latest(t)));
    threads
}

pub(crate) fn root_of(timeline: &[EntryView], mut id: Uuid) -> Uuid {
    // Bounded by the page: a cycle cannot occur (a reply is newer than its parent).
    for _ in 0..timeline.len() {
        match timeline.iter().find(|e| e.id == id).and_then(|e| e.reply_to) {
            Some(parent) if timeline.iter().any(|e| e.id == parent) => id = parent,
            _ => break,
        }
    }
    id
}

/// Whether `account` was an active member of the team at `at` (the team's rows
/// include those who have left).
pub(crate) fn was_member(team: &[TeamMemberRow], account: Uuid, at: OffsetDateTime) -> bool {
    team.iter().any(|m| m.account_id == account && m.joined_at <= at && m.left_at.is_none_or(|left| left > at))
}

pub(crate) fn entry_view(r: TimelineRow, reader: Uuid, team: &[TeamMemberRow]) -> EntryView {
    EntryView {
        by_emergency_access: !was_member(team, r.author_id, r.created_at),
        id: r.id,
        kind: EntryKind::parse(&r.kind).unwrap_or(EntryKind::Message),
        author_profession: Profession::parse(&r.author_profession).ok(),
        author_name: r.author_name,
        is_mine: r.author_id == reader,
        created_at: r.created_at,
        body: r.body,
        vitals: serde_json::from_str(&r.vitals).unwrap_or_default(),
        corrected: r.latest_version > 1,
        needs_reply: r.needs_reply,
        reply_to: r.reply_to,
        audience: Audience::parse(&r.audience).unwrap_or(Audience::Team),
        attachments: Vec::new(),
        was_unread: !r.read_by_me && r.author_id != reader,
        read_count: r.read_count,
        acknowledged_by_me: r.acknowledged_by_me,
        acknowledgement_count: r.acknowledgement_count,
        reply_count: r.reply_count,
    }
}

/// The row naming a file already written durably, on the entry that carries it.
pub(crate) fn attachment_row(
    id: Uuid,
    kind: tsunagu_domain::care::AttachmentFile,
    size: usize,
    sha256: Vec<u8>,
    entry_id: Uuid,
    patient_id: Uuid,
    at: OffsetDateTime,
) -> tsunagu_store::AttachmentRow {
    tsunagu_store::AttachmentRow {
        id,
        entry_id,
        patient_id,
        content_type: kind.content_type.to_owned(),
        file_name: kind.file_name,
        size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        sha256,
        created_at: at,
    }
}

/// Who hears about a new entry: every other member if it is urgent; members
/// mentioned as @login otherwise.
pub(crate) fn recipients(team: &[TeamMemberRow], author: Uuid, draft: &EntryDraft) -> Vec<(Uuid, &'static str)> {
    let mentioned = tsunagu_domain::care::mentions(&draft.body);
    team.iter()
        .filter(|m| m.left_at.is_none() && m.account_id != author)
        .filter(|m| visible_audiences(TeamRole::parse(&m.team_role).ok()).contains(&draft.audience))
        .filter_map(|m| {
            if draft.kind == EntryKind::Urgent {
                Some((m.account_id, "urgent"))
            } else if mentioned.contains(&m.login_id) {
                Some((m.account_id, "mention"))
            } else {
                None
            }
        })
        .collect()
}

/// Puts each attachment under its entry.
pub(crate) fn attach(entries: &mut [EntryView], rows: &[tsunagu_store::AttachmentRow]) {
    for e in entries.iter_mut() {
        e.attachments = rows
            .iter()
            .filter(|a| a.entry_id == e.id)
            .map(|a| AttachmentView {
                id: a.id,
                file_name: a.file_name.clone(),
                is_image: a.content_type.starts_with("image/"),
            })
            .collect();
    }
}

/// Parses an entry form (what the web layer and the API share).
pub fn parse_entry(kind: &str, body: &str, vitals: &VitalsForm<'_>, needs_reply: bool) -> Result<EntryDraft, AppError> {
    Ok(EntryDraft::parse(kind, body, vitals, needs_reply)?)
}

/// The moment a Japanese calendar day (typed in by a reader) begins, in UTC;
/// a day whose moment cannot be represented is out of range, not a panic.
pub(crate) fn day_starts(field: &'static str, day: Date) -> Result<OffsetDateTime, ValidationError> {
    day.midnight()
        .assume_offset(JST)
        .checked_to_offset(time::UtcOffset::UTC)
        .ok_or(ValidationError::new(field, "out_of_range"))
}

/// The moment after a Japanese calendar day ends (the next day's midnight), in UTC.
pub(crate) fn day_ends(field: &'static str, day: Date) -> Result<OffsetDateTime, ValidationError> {
    day_starts(field, day)?.checked_add(time::Duration::days(1)).ok_or(ValidationError::new(field, "out_of_range"))
}

impl App {
    /// The patient page: profile, consent, team and the newest 50 entries
    /// (optionally of one kind). Showing them marks them read.
    pub async fn patient_page(
        &self,
        session: &Session,
        patient: PatientId,
        query: &TimelineQuery<'_>,
        meta: &RequestMeta,
    ) -> Result<PatientPage, AppError> {
        let patient = patient.0;
        let actor = session.actor()?;
        let kind = match query.kind.trim() {
            "" => None,
            k => Some(EntryKind::parse(k).map_err(|_| ValidationError::new("kind", "unknown"))?),
        };
        let text = Some(query.text).filter(|t| !t.trim().is_empty());
        let profession = match query.profession.trim() {
            "" => None,
            p => Some(Profession::parse(p).map_err(|_| ValidationError::new("profession", "unknown"))?),
        };
        let author = match query.author.trim() {
            "" => None,
            a => Some(Uuid::parse_str(a).map_err(|_| ValidationError::new("author", "unknown"))?),
        };
        let since = match query.from.trim() {
            "" => None,
            raw => Some(day_starts("from", tsunagu_domain::patient::parse_date("from", raw)?)?),
        };
        let until = match query.to.trim() {
            "" => None,
            raw => Some(day_ends("to", tsunagu_domain::patient::parse_date("to", raw)?)?),
        };
        // Read without holding the write lock; then record the read (audit event,
        // read receipts) in a short write transaction that commits before any of
        // it is returned: no patient datum leaves without its audit event on disk.
        let loaded = self.kept_scope(patient).await?;
        let decided = self.decide(RecordIntent::Read, &loaded, session, meta)?;
        let me = actor.account_id.0;
        let unfiltered = kind.is_none()
            && text.is_none()
            && profession.is_none()
            && author.is_none()
            && since.is_none()
            && until.is_none();
        let page = match unfiltered.then(|| self.timelines.get(decided.grant())).flatten() {
            Some(page) => page,
            None => {
                let generation = self.timelines.generation();
                let page = Arc::new(
                    self.read_timeline(decided.grant(), &loaded, kind, text, profession, author, since, until).await?,
                );
                // A page with entries new to the reader changes as soon as it
                // is shown (the receipts below): not worth keeping.
                if unfiltered && !page.timeline.iter().any(|e| e.was_unread) {
                    self.timelines.keep(decided.grant(), Arc::clone(&page), generation);
                }
                page
            }
        };
        let now = self.now();
        // Who answers now (numbers of physicians on call) and the urgent
        // requests are for the professionals: family see neither.
        let team_only = policy::read_team_only(&actor, &loaded.scope).is_allowed();
        let (responders, urgent_requests) = if query.with_responders && team_only {
            let mut tx = self.store.reader().await?;
            let day = time::Duration::days(1);
            let chain = crate::on_call::chain_data(tx.as_mut(), &loaded, now - day, now + day).await?;
            let requests = crate::escalation::RequestLine::requests_of_patient(tx.as_mut(), patient).await?;
            (Some(chain.view(&loaded, now)), requests)
        } else {
            (None, Vec::new())
        };
        let unread: Vec<Uuid> = page.timeline.iter().filter(|e| e.was_unread).map(|e| e.id).collect();
        let event = decided.patient_event(now, AuditAction::PatientViewed, json!({ "entries_shown": page.timeline.len(), "kind": kind.map(|k| k.code()), "searched": text.is_some_and(|t| !t.trim().is_empty()) }));
        let trace = ReadTrace {
            audit: decided.audit_record(event),
            receipts: unread.into_iter().map(|entry_id| EntryRead { entry_id, reader: me, at: now }).collect(),
            opened: Some(PatientRead { reader: me, patient_id: patient, at: now }),
        };
        let marks_read = !trace.receipts.is_empty();
        self.store.record_read(trace).await?;
        if marks_read {
            // Read counts and "read by me" changed, for this reader and the team.
            self.timelines_changed(&[patient]).await;
        }
        let vitals_trend = page.vitals_trend.clone();
        let latest_vitals = vitals_trend.last().cloned();
        Ok(PatientPage {
            acp: page.acp.clone(),
            patient: patient_view(&loaded.row, self.today())?,
            consent_state: loaded.scope.consent,
            consent: loaded.consents.first().map(consent_view),
            team: team_views(&loaded.team, me)
                .into_iter()
                .map(|mut m| {
                    let change = if m.is_me {
                        TeamChange::Leave
                    } else {
                        // The member's facilities are not loaded for the page: a facility
                        // admin removes their staff through the use case, which loads them.
                        TeamChange::Remove { member: AccountId(m.account_id), facilities: Vec::new() }
                    };
                    m.removable = m.active && policy::change_team(&actor, &loaded.scope, &change).is_allowed();
                    m
                })
                .collect(),
            can_add_to_team: policy::change_team(
                &actor,
                &loaded.scope,
                &TeamChange::Add { role: TeamRole::Other, profession: Profession::Other },
            )
            .is_allowed(),
            can_invite_family: policy::change_team(&actor, &loaded.scope, &TeamChange::InviteFamily).is_allowed(),
            can_write: policy::write_patient(&actor, &loaded.scope).is_allowed(),
            can_acknowledge_urgent: policy::acknowledge_urgent_entry(&actor, session.account.profession, &loaded.scope)
                .is_allowed(),
            can_act_for_team: policy::act_for_team(&actor, &loaded.scope).is_allowed(),
            viewer_is_family: loaded.is_family(me),
            timeline: Arc::clone(&page.timeline),
            latest_vitals,
            vitals_trend,
            responders,
            urgent_requests,
            emergency_until: if loaded.scope.is_member(actor.account_id) {
                None
            } else {
                loaded.grants.iter().filter(|g| g.account_id == me).map(|g| g.expires_at).max()
            },
        })
    }

    /// The timeline's part of a patient page as `reader` may see it: the
    /// newest 50 entries (filtered as asked) with their attachments, the vital
    /// signs' trend and the current ACP. Access is decided by the caller: the
    /// parts are read statement by statement.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn read_timeline(
        &self,
        grant: &RecordGrant,
        loaded: &Loaded,
        kind: Option<EntryKind>,
        text: Option<&str>,
        profession: Option<Profession>,
        author: Option<Uuid>,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
    ) -> Result<KeptTimeline, AppError> {
        let reader = grant.reader().0;
        let mut tx = self.store.reader().await?;
        let filter = TimelineFilter {
            kind: kind.map(|k| k.code().to_owned()),
            text: text.map(str::to_owned),
            profession: profession.map(|p| p.code().to_owned()),
            author,
            since,
            until,
            with_vitals: false,
            oldest_first: false,
            ..TimelineFilter::default()
        };
        let rows = tx.timeline(grant, &filter, 50).await?;
        let vitals_rows =
            if kind == Some(EntryKind::Vitals) { Vec::new() } else { tx.vitals_points(grant, 20).await? };
        let acp = tx.acp_revisions(grant).await?.into_iter().next().map(acp_view);
        // Most pages have no attachment: no query for them then.
        let attachment_rows = match rows.iter().filter(|r| r.has_attachments).map(|r| r.created_at).min() {
            Some(oldest) => tx.attachments_since(grant, oldest).await?,
            None => Vec::new(),
        };
        drop(tx);
        let mut timeline: Vec<EntryView> = rows.into_iter().map(|r| entry_view(r, reader, &loaded.team)).collect();
        attach(&mut timeline, &attachment_rows);
        // The recent vital signs, oldest first, from vitals entries and from any
        // shown entry that carried vitals (a visit record often does).
        let mut trend: Vec<(OffsetDateTime, Uuid, VitalSigns)> = vitals_rows
            .into_iter()
            .map(|r| (r.created_at, r.id, serde_json::from_str(&r.vitals).unwrap_or_default()))
            .chain(timeline.iter().map(|e| (e.created_at, e.id, e.vitals.clone())))
            .filter(|(_, _, vitals): &(OffsetDateTime, Uuid, VitalSigns)| !vitals.is_empty())
            .collect();
        trend.sort_by_key(|(at, id, _)| (*at, *id));
        trend.dedup_by_key(|(_, id, _)| *id);
        let vitals_trend = trend.into_iter().rev().take(20).rev().map(|(at, _, v)| (at, v)).collect();
        Ok(KeptTimeline { timeline: Arc::new(timeline), vitals_trend, acp })
    }

    /// Posts to a patient's timeline. Acknowledged only once committed (durable).
    pub async fn post_entry(
        &self,
        session: &Session,
        patient: PatientId,
        draft: &EntryDraft,
        reply_to: Option<Uuid>,
        files: &[crate::attachments::UploadedFile],
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let patient = patient.0;
        if files.len() > 5 {
            return Err(ValidationError::new("attachment", "too_many").into());
        }
        let inspected: Vec<tsunagu_domain::care::AttachmentFile> = files
            .iter()
            .map(|f| tsunagu_domain::care::AttachmentFile::inspect(&f.declared_type, &f.file_name, &f.bytes))
            .collect::<Result<_, _>>()?;
        // Check access before writing any file (and before queueing for the
        // writer): on the scope as kept, the authoritative check is below.
        let precheck = self.kept_scope(patient).await?;
        self.decide(RecordIntent::Write, &precheck, session, meta)?;
        let mut stored = Vec::new();
        for (file, kind) in files.iter().zip(&inspected) {
            let id = Uuid::now_v7();
            let sha256 = crate::attachments::store(&self.settings.attachments_dir, id, file.bytes.clone()).await?;
            stored.push((id, kind.clone(), file.bytes.len(), sha256));
        }
        let mut tx = self.begin_keeping_records().await?;
        let loaded = load(tx.as_mut(), patient, self.now()).await?;
        tx.changes_timeline_of(patient);
        let now = self.now();
        let (id, _) = self.write_entry(tx.as_mut(), &loaded, session, draft, reply_to, meta, now).await?;
        for (attachment_id, kind, size, sha256) in stored {
            tx.insert_attachment(&attachment_row(attachment_id, kind, size, sha256, id, patient, now)).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Writes one entry in `tx` for a member who may write: the entry, its
    /// audit event and the team's notifications (the compose form's and the
    /// FHIR API's posts alike). Checks the policy; `loaded` must come from `tx`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write_entry(
        &self,
        tx: &mut dyn StoreTx,
        loaded: &Loaded,
        session: &Session,
        draft: &EntryDraft,
        reply_to: Option<Uuid>,
        meta: &RequestMeta,
        now: OffsetDateTime,
    ) -> Result<(Uuid, RecordGrant), AppError> {
        let actor = session.actor()?;
        let patient = loaded.row.id;
        let decided = self.decide(RecordIntent::Write, loaded, session, meta)?;
        let draft = &draft.clone().for_audience(draft.audience.code(), loaded.role_of(actor.account_id.0))?;
        if let Some(parent) = reply_to {
            // An entry the author may not read is answered as unknown: a reply
            // must not confirm that a physicians-only entry exists.
            let parent = tx.entry(decided.grant(), parent).await?;
            let readable = |p: &TimelineRow| {
                Audience::parse(&p.audience).is_ok_and(|a| decided.grant().shows(AccountId(p.author_id), a))
            };
            if !parent.as_ref().is_some_and(readable) {
                return Err(ValidationError::new("reply_to", "unknown").into());
            }
        }
        let id = Uuid::now_v7();
        let entry = NewEntry {
            id,
            patient_id: patient,
            kind: draft.kind.code().to_owned(),
            author_id: actor.account_id.0,
            reply_to,
            needs_reply: draft.needs_reply,
            created_at: now,
            body: draft.body.clone(),
            vitals: serde_json::to_string(&draft.vitals).map_err(|e| AppError::Internal(e.to_string()))?,
            audience: draft.audience.code().to_owned(),
        };
        self.audit(tx, &decided, PatientEvent {
                at: now,
                action: AuditAction::EntryPosted,
                target_kind: "entry",
                target: Some(id),
                // A post under an emergency grant says so (invariant 1).
                details: json!({ "patient": patient, "kind": draft.kind.code(), "emergency": !loaded.scope.is_member(actor.account_id) }),
            },
        )
        .await?;
        let notifications: Vec<NewNotification> = recipients(&loaded.team, actor.account_id.0, draft)
            .into_iter()
            .map(|(account_id, kind)| NewNotification {
                id: Uuid::now_v7(),
                account_id,
                patient_id: patient,
                entry_id: Some(id),
                kind: kind.to_owned(),
                actor_id: actor.account_id.0,
                created_at: now,
            })
            .collect();
        // The entry, its notifications and the e-mail notices in one round trip
        // where the backend allows it: a post's time is the writer's round trips.
        tx.insert_posted_entry(&entry, &notifications, &mail_notices(&notifications)).await?;
        Ok((id, decided.grant().clone()))
    }

    /// Unread notifications (mentions, urgent entries, new teams), newest first.
    pub async fn notifications(&self, session: &Session) -> Result<Vec<NotificationView>, AppError> {
        let actor = session.actor()?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.unread_notifications(actor.account_id.0, 50).await?;
        Ok(rows
            .into_iter()
            .map(|r| NotificationView {
                patient_id: r.patient_id,
                entry_id: r.entry_id,
                kind: r.kind,
                created_at: r.created_at,
                actor_name: r.actor_name,
                patient_name: format!("{} {}", r.patient_family_name, r.patient_given_name),
            })
            .collect())
    }

    /// Loads the scope of an entry's patient; the use case decides on it and
    /// the entry with [`App::decide_on_entry`].
    pub(crate) async fn entry_scope(&self, tx: &mut dyn StoreTx, entry: Uuid) -> Result<Loaded, AppError> {
        let patient = tx.entry_patient(entry).await?.ok_or(AppError::NotFound)?;
        load(tx, patient, self.now()).await
    }

    /// The use case's decision on one entry: the policy's on the patient for
    /// `intent`, then the entry as the grant's reader sees it (an entry for
    /// others is refused like an unknown one). One decision, audited if refused.
    pub(crate) async fn decide_on_entry<'a>(
        &self,
        tx: &mut dyn StoreTx,
        intent: RecordIntent<'_>,
        entry: Uuid,
        loaded: &'a Loaded,
        session: &'a Session,
        meta: &'a RequestMeta,
    ) -> Result<(TimelineRow, Decided<'a>), AppError> {
        let decided = self.decide(intent, loaded, session, meta)?;
        let row = tx.entry(decided.grant(), entry).await?.ok_or(AppError::NotFound)?;
        let audience = Audience::parse(&row.audience).unwrap_or(Audience::Physicians);
        if !decided.grant().shows(AccountId(row.author_id), audience) {
            return Err(self.refused(Refusal::Hidden, intent.attempt(), loaded, session, meta));
        }
        Ok((row, decided))
    }

    /// Corrects one's own entry: a new version; the old one stays readable (真正性).
    pub async fn correct_entry(
        &self,
        session: &Session,
        entry: EntryId,
        draft: &EntryDraft,
        reason: &str,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let entry = entry.0;
        let actor = session.actor()?;
        let reason = tsunagu_domain::text::required("reason", reason, 200)?;
        let mut tx = self.begin_keeping_records().await?;
        let loaded = self.entry_scope(tx.as_mut(), entry).await?;
        tx.changes_timeline_of(loaded.row.id);
        let (row, decided) =
            self.decide_on_entry(tx.as_mut(), RecordIntent::Write, entry, &loaded, session, meta).await?;
        if row.author_id != actor.account_id.0 {
            return Err(AppError::Forbidden);
        }
        if draft.kind.code() != row.kind {
            return Err(ValidationError::new("kind", "cannot_change").into());
        }
        let now = self.now();
        let vitals = serde_json::to_string(&draft.vitals).map_err(|e| AppError::Internal(e.to_string()))?;
        tx.insert_entry_version(&NewEntryVersion {
            entry_id: entry,
            version: row.latest_version + 1,
            body: draft.body.clone(),
            vitals,
            edited_by: actor.account_id.0,
            edited_at: now,
            reason,
        })
        .await?;
        self.audit(
            tx.as_mut(),
            &decided,
            PatientEvent {
                at: now,
                action: AuditAction::EntryCorrected,
                target_kind: "entry",
                target: Some(entry),
                details: json!({ "patient": row.patient_id, "version": row.latest_version + 1 }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(row.patient_id)
    }

    /// One entry with every version and its read receipts.
    pub async fn entry_detail(
        &self,
        session: &Session,
        entry: EntryId,
        meta: &RequestMeta,
    ) -> Result<EntryDetail, AppError> {
        let entry = entry.0;
        let actor = session.actor()?;
        let mut tx = self.begin_keeping_all().await?;
        let loaded = self.entry_scope(tx.as_mut(), entry).await?;
        let (row, decided) =
            self.decide_on_entry(tx.as_mut(), RecordIntent::Read, entry, &loaded, session, meta).await?;
        let versions = tx.entry_versions(decided.grant(), entry).await?;
        let reads = tx.read_receipts(decided.grant(), entry).await?;
        let acks = tx.acknowledgements(decided.grant(), entry).await?;
        let files = tx.attachments_of_patient(decided.grant()).await?;
        self.audit(
            tx.as_mut(),
            &decided,
            PatientEvent {
                at: self.now(),
                action: AuditAction::EntryViewed,
                target_kind: "entry",
                target: Some(entry),
                details: json!({ "patient": row.patient_id }),
            },
        )
        .await?;
        tx.commit().await?;
        let patient_name = format!("{} {}", loaded.row.family_name, loaded.row.given_name);
        let patient_id = row.patient_id;
        let mut view = entry_view(row, actor.account_id.0, &loaded.team);
        attach(std::slice::from_mut(&mut view), &files);
        Ok(EntryDetail {
            patient_id,
            patient_name,
            entry: view,
            versions: versions
                .into_iter()
                .map(|v| EntryVersionView {
                    version: v.version,
                    body: v.body,
                    vitals: serde_json::from_str(&v.vitals).unwrap_or_default(),
                    editor_name: v.editor_name,
                    edited_at: v.edited_at,
                    reason: v.reason,
                })
                .collect(),
            reads: reads.into_iter().map(|r| (r.display_name, r.at)).collect(),
            acknowledgements: acks.into_iter().map(|r| (r.display_name, r.at)).collect(),
        })
    }

    /// "I have seen this and am acting on it" for an urgent entry.
    pub async fn acknowledge_entry(
        &self,
        session: &Session,
        entry: EntryId,
        meta: &RequestMeta,
    ) -> Result<Uuid, AppError> {
        let entry = entry.0;
        let actor = session.actor()?;
        let mut tx = self.begin_keeping_records().await?;
        let loaded = self.entry_scope(tx.as_mut(), entry).await?;
        tx.changes_timeline_of(loaded.row.id);
        let (row, decided) = self
            .decide_on_entry(
                tx.as_mut(),
                RecordIntent::AcknowledgeUrgentEntry(session.account.profession),
                entry,
                &loaded,
                session,
                meta,
            )
            .await?;
        if row.kind != EntryKind::Urgent.code() {
            return Err(ValidationError::new("kind", "not_urgent").into());
        }
        let now = self.now();
        if tx.acknowledge(entry, actor.account_id.0, now).await? {
            tx.mark_read(&[tsunagu_store::EntryRead { entry_id: entry, reader: actor.account_id.0, at: now }]).await?;
            self.audit(
                tx.as_mut(),
                &decided,
                PatientEvent {
                    at: now,
                    action: AuditAction::EntryAcknowledged,
                    target_kind: "entry",
                    target: Some(entry),
                    details: json!({ "patient": row.patient_id }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(row.patient_id)
    }

    /// The whole record for `[from, to]` (JST dates), for printing or saving as PDF.
    pub async fn print_record(
        &self,
        session: &Session,
        patient: PatientId,
        from: &str,
        to: &str,
        meta: &RequestMeta,
    ) -> Result<PrintedRecord, AppError> {
        let patient = patient.0;
        const MAX_ENTRIES: i64 = 2_000;
        let actor = session.actor()?;
        let today = self.today();
        let from = match from.trim() {
            "" => today.checked_sub(time::Duration::days(30)).unwrap_or(today),
            raw => tsunagu_domain::patient::parse_date("from", raw)?,
        };
        let to = match to.trim() {
            "" => today,
            raw => tsunagu_domain::patient::parse_date("to", raw)?,
        };
        if to < from {
            return Err(ValidationError::new("to", "before_from").into());
        }
        let start = day_starts("from", from)?;
        let end = day_ends("to", to)?;
        let loaded = self.kept_scope(patient).await?;
        let decided = self.decide(RecordIntent::Read, &loaded, session, meta)?;
        let me = actor.account_id.0;
        let mut tx = self.store.reader().await?;
        let rows = tx.timeline_between(decided.grant(), start, end, MAX_ENTRIES + 1).await?;
        let acp = tx.acp_revisions(decided.grant()).await?.into_iter().next().map(acp_view);
        drop(tx);
        let details = json!({ "from": from.to_string(), "to": to.to_string(), "entries": rows.len() });
        self.record_read(&decided, decided.patient_event(self.now(), AuditAction::PatientPrinted, details)).await?;
        let truncated = rows.len() as i64 > MAX_ENTRIES;
        Ok(PrintedRecord {
            patient: patient_view(&loaded.row, today)?,
            consent: loaded.consents.first().map(consent_view),
            team: team_views(&loaded.team, me),
            acp,
            from,
            to,
            entries: rows.into_iter().take(MAX_ENTRIES as usize).map(|r| entry_view(r, me, &loaded.team)).collect(),
            truncated,
        })
    }

    /// An attachment's bytes, for someone who may read its entry; audited.
    pub async fn attachment(
        &self,
        session: &Session,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<(String, String, Vec<u8>), AppError> {
        session.require_scope("DocumentReference", tsunagu_domain::interop::Access::Read)?;
        let mut tx = self.store.begin_read().await?;
        let row = tx.attachment(id).await?.ok_or(AppError::NotFound)?;
        let loaded = self.entry_scope(tx.as_mut(), row.entry_id).await?;
        let (_, decided) =
            self.decide_on_entry(tx.as_mut(), RecordIntent::Read, row.entry_id, &loaded, session, meta).await?;
        drop(tx);
        let bytes = crate::attachments::load(&self.settings.attachments_dir, row.id, row.sha256.clone()).await?;
        let details = json!({ "patient": row.patient_id, "entry": row.entry_id });
        self.record_read(
            &decided,
            PatientEvent {
                at: self.now(),
                action: AuditAction::AttachmentViewed,
                target_kind: "attachment",
                target: Some(id),
                details,
            },
        )
        .await?;
        Ok((row.content_type, row.file_name, bytes))
    }
}

#[cfg(test)]
mod thread_tests {
    use super::*;

    fn entry(n: i64, reply_to: Option<i64>) -> EntryView {
        let id = |n: i64| Uuid::from_u128(n as u128);
        EntryView {
            id: id(n),
            kind: EntryKind::Message,
            author_name: String::new(),
            author_profession: None,
            is_mine: false,
            created_at: OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(n),
            body: format!("{n}"),
            vitals: VitalSigns::default(),
            corrected: false,
            needs_reply: false,
            reply_to: reply_to.map(id),
            audience: Audience::Team,
            attachments: Vec::new(),
            was_unread: false,
            read_count: 0,
            acknowledged_by_me: false,
            acknowledgement_count: 0,
            reply_count: 0,
            by_emergency_access: false,
        }
    }

    #[test]
    fn replies_sit_under_their_parent_and_bring_it_to_the_top() {
        // Newest first, as the timeline comes: 5 replies to 4 (a reply to 1), 3 stands alone, 2 replies to 1.
        let page = [entry(5, Some(4)), entry(4, Some(1)), entry(3, None), entry(2, Some(1)), entry(1, None)];
        let shape: Vec<(String, Vec<String>)> =
            threads(&page).into_iter().map(|(e, r)| (e.body, r.into_iter().map(|r| r.body).collect())).collect();
        assert_eq!(
            shape,
            vec![("1".into(), vec!["2".into(), "4".into(), "5".into()]), ("3".into(), vec![])],
            "the thread with the newest reply first, its replies oldest first"
        );
    }

    #[test]
    fn a_reply_whose_parent_is_not_on_the_page_stands_alone() {
        let shape: Vec<usize> = threads(&[entry(9, Some(1)), entry(8, None)]).iter().map(|(_, r)| r.len()).collect();
        assert_eq!(shape, vec![0, 0]);
    }
}
