//! The desk's own work on a case: the queue, the case page, state, assignee,
//! tasks, the contact log, closing.

use super::*;
use tsunagu_domain::account::Role;
use tsunagu_domain::coordination::{Closing, ContactDraft, ContactKind, TaskDraft};
use tsunagu_domain::ids::AccountId;
use tsunagu_store::{CaseLogRow, CaseTaskRow};
use uuid::Uuid;

/// How long the desk's figure of time to first response looks back.
const RESPONSE_WINDOW: time::Duration = time::Duration::days(90);

/// The desk's page.
#[derive(Debug, Clone, PartialEq)]
pub struct Desk {
    /// Open cases, oldest first.
    pub open: Vec<CaseLine>,
    /// Closed in the last 30 days.
    pub recently_closed: Vec<CaseLine>,
    /// Open cases with an overdue task.
    pub overdue: usize,
    /// Open cases nobody has answered yet.
    pub unanswered: usize,
    /// Median time to first response over the last 90 days (minutes), and of how many cases.
    pub median_first_response_minutes: Option<i64>,
    pub answered_cases: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    pub id: Uuid,
    pub title: String,
    pub due_on: Option<Date>,
    pub done_at: Option<OffsetDateTime>,
    pub overdue: bool,
}

/// A file of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFile {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub kind: ContactKind,
    pub note: String,
    pub writer: Option<String>,
    pub at: OffsetDateTime,
}

/// A case as the desk works it.
#[derive(Debug, Clone, PartialEq)]
pub struct CasePage {
    pub line: CaseLine,
    pub summary: String,
    pub requester_contact: Option<String>,
    pub subject_area: Option<String>,
    pub closing_note: Option<String>,
    pub assignee: Option<AccountId>,
    pub coordinators: Vec<(AccountId, String)>,
    /// The states the desk may move the case to by hand.
    pub next_states: Vec<CaseState>,
    pub tasks: Vec<TaskView>,
    pub log: Vec<LogLine>,
    pub handover: Option<Handover>,
    pub hospital_name: Option<String>,
    /// How the handover stands against the municipality's discharge rules.
    pub rule_checks: Vec<tsunagu_domain::discharge_rules::RuleCheck>,
    pub conference: Option<ConferenceView>,
    /// Who the desk would invite to the conference.
    pub suggested_participants: String,
    /// The team being found (discharge cases).
    pub team: Option<TeamFinding>,
    pub files: Vec<CaseFile>,
}

pub(crate) fn median(mut values: Vec<i64>) -> Option<i64> {
    values.sort_unstable();
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = values.get(n / 2).copied()?;
    if n % 2 == 1 { Some(mid) } else { values.get(n / 2 - 1).map(|lo| (lo + mid) / 2) }
}

/// Marks a case answered (and in progress) by the desk's first action on it.
pub(super) fn answered(row: &mut CaseRow, now: OffsetDateTime) {
    if row.first_response_at.is_none() {
        row.first_response_at = Some(now);
    }
    if row.state == CaseState::New {
        row.state = CaseState::InProgress;
    }
    row.updated_at = now;
}

impl App {
    /// The desk: its queue, what is overdue, and how fast it answers.
    pub async fn desk(&self, session: &Session, meta: &RequestMeta) -> Result<Desk, AppError> {
        let desk = self.decide_desk(session, meta)?;
        let now = self.now();
        let today = self.today();
        let mut tx = self.store.begin_read().await?;
        let open = tx.open_cases(desk.grant()).await?;
        let closed = tx.closed_cases(desk.grant(), now - time::Duration::days(30)).await?;
        let recent = tx.cases_created_between(desk.grant(), now - RESPONSE_WINDOW, now).await?;
        let topics = topics_in(tx.as_mut(), desk.municipality().0).await?;
        drop(tx);
        let open = open.into_iter().map(|r| case_line(r, today, &topics)).collect::<Result<Vec<_>, _>>()?;
        let recently_closed =
            closed.into_iter().map(|r| case_line(r, today, &topics)).collect::<Result<Vec<_>, _>>()?;
        let waits: Vec<i64> =
            recent.iter().filter_map(|c| c.first_response_at.map(|at| (at - c.created_at).whole_minutes())).collect();
        self.case_read(desk.event(now, AuditAction::CaseViewed, None, json!({ "view": "queue", "open": open.len() })))
            .await?;
        Ok(Desk {
            overdue: open.iter().filter(|c| c.overdue).count(),
            unanswered: open.iter().filter(|c| c.first_response_at.is_none()).count(),
            answered_cases: waits.len(),
            median_first_response_minutes: median(waits),
            open,
            recently_closed,
        })
    }

    /// A case with everything the desk needs to work it.
    pub async fn case_page(&self, session: &Session, case: CaseId, meta: &RequestMeta) -> Result<CasePage, AppError> {
        let today = self.today();
        let mut tx = self.store.begin_read().await?;
        let decided = self.decide_case(tx.as_mut(), case, CaseIntent::Work, session, meta).await?;
        let row = tx.case(decided.grant()).await?.ok_or(AppError::NotFound)?;
        let tasks = tx.case_tasks(decided.grant()).await?;
        let log = tx.case_log(decided.grant()).await?;
        let hospital_name = match row.requester_facility_id {
            Some(f) => tx.facility(f).await?.map(|f| f.name),
            None => None,
        };
        let coordinators = tx
            .accounts(Some(row.municipality_id))
            .await?
            .into_iter()
            .filter(|a| {
                a.status == tsunagu_domain::account::AccountStatus::Active
                    && a.roles.split(',').any(|r| r == Role::Coordinator.code())
            })
            .map(|a| (AccountId(a.id), a.display_name))
            .collect();
        let handover = handover_of(&row)?;
        let team = match (&handover, row.kind) {
            (Some(h), CaseKind::Discharge) => Some(self.team_finding(tx.as_mut(), &decided, &row, h).await?),
            _ => None,
        };
        let rule_checks = match &handover {
            Some(h) => tsunagu_domain::discharge_rules::check(
                &super::rules::rules_in_force(tx.as_mut(), row.municipality_id).await?,
                h,
                today,
            ),
            None => Vec::new(),
        };
        let conference = tx.conference(decided.grant()).await?.map(super::rules::conference_view);
        let files = tx
            .case_attachments(decided.grant())
            .await?
            .into_iter()
            .map(|f| CaseFile {
                id: f.id,
                file_name: f.file_name,
                content_type: f.content_type,
                size_bytes: f.size_bytes,
                uploaded_at: f.uploaded_at,
            })
            .collect();
        let topics = topics_in(tx.as_mut(), row.municipality_id).await?;
        let suggested_participants =
            team.as_ref().map(|t| super::rules::suggested_participants(t, &row.requester_name)).unwrap_or_default();
        drop(tx);
        let open_tasks = tasks.iter().filter(|t| t.done_at.is_none()).count() as i64;
        let next_due_on = tasks.iter().filter(|t| t.done_at.is_none()).filter_map(|t| t.due_on).min();
        let page = CasePage {
            summary: row.summary.clone(),
            requester_contact: row.requester_contact.clone(),
            subject_area: row.subject_area.clone(),
            closing_note: row.closing_note.clone(),
            assignee: row.assignee_id.map(AccountId),
            coordinators,
            next_states: CaseState::ALL.iter().copied().filter(|s| row.state.may_move_to(*s)).collect(),
            tasks: tasks
                .into_iter()
                .map(|t| TaskView {
                    overdue: t.done_at.is_none() && t.due_on.is_some_and(|d| d < today),
                    id: t.id,
                    title: t.title,
                    due_on: t.due_on,
                    done_at: t.done_at,
                })
                .collect(),
            log: log
                .into_iter()
                .map(|l| LogLine {
                    kind: ContactKind::parse(&l.line.kind).unwrap_or(ContactKind::Note),
                    note: l.line.note,
                    writer: l.writer_name,
                    at: l.line.written_at,
                })
                .collect(),
            rule_checks,
            conference,
            suggested_participants,
            files,
            handover,
            hospital_name,
            team,
            line: case_line(CaseLineRow { case: row, assignee_name: None, open_tasks, next_due_on }, today, &topics)?,
        };
        self.case_read(decided.event(self.now(), AuditAction::CaseViewed, json!({ "view": "desk" }))).await?;
        Ok(page)
    }

    /// Runs one change of the desk on a case in one transaction: `change`
    /// gets the case's row to change and returns the audit details (or an
    /// error, which changes nothing); the row is saved and the change logged.
    pub(crate) async fn change_case<F>(
        &self,
        session: &Session,
        case: CaseId,
        meta: &RequestMeta,
        action: AuditAction,
        change: F,
    ) -> Result<(), AppError>
    where
        F: for<'t> FnOnce(&'t mut CaseRow, &'t mut CaseChange) -> Result<serde_json::Value, AppError>,
    {
        let now = self.now();
        let mut tx = self.begin_keeping_all().await?;
        let decided = self.decide_case(tx.as_mut(), case, CaseIntent::Work, session, meta).await?;
        let mut row = tx.case(decided.grant()).await?.ok_or(AppError::NotFound)?;
        let open_tasks = tx.case_tasks(decided.grant()).await?.iter().filter(|t| t.done_at.is_none()).count();
        let mut extra = CaseChange { open_tasks, log: None, task: None, done_task: None };
        let details = change(&mut row, &mut extra)?;
        answered(&mut row, now);
        if let Some(task) = extra.task.take() {
            tx.insert_case_task(
                decided.grant(),
                &CaseTaskRow {
                    id: Uuid::now_v7(),
                    case_id: case.0,
                    title: task.title,
                    due_on: task.due_on,
                    created_by: session.account.id.0,
                    created_at: now,
                    done_at: None,
                    done_by: None,
                },
            )
            .await?;
        }
        if let Some(task) = extra.done_task
            && !tx.complete_case_task(decided.grant(), task, session.account.id.0, now).await?
        {
            return Err(AppError::NotFound);
        }
        tx.update_case(decided.grant(), &row).await?;
        if let Some((kind, note)) = extra.log.take() {
            tx.insert_case_log(
                decided.grant(),
                &CaseLogRow {
                    id: Uuid::now_v7(),
                    case_id: case.0,
                    kind: kind.code().to_owned(),
                    note,
                    written_by: Some(session.account.id.0),
                    written_at: now,
                },
            )
            .await?;
        }
        tx.append_audit(&decided.event(now, action, details)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a file to a case (PDF or image, checked by its bytes): written
    /// durably before the row that refers to it, for the desk only.
    pub async fn attach_to_case(
        &self,
        session: &Session,
        case: CaseId,
        file: &crate::attachments::UploadedFile,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let kind = tsunagu_domain::care::AttachmentFile::inspect(&file.declared_type, &file.file_name, &file.bytes)?;
        // Only the desk writes a file (checked before the bytes reach the disk, and again in the transaction).
        let mut tx = self.store.begin_read().await?;
        self.decide_case(tx.as_mut(), case, CaseIntent::Work, session, meta).await?;
        drop(tx);
        let id = Uuid::now_v7();
        let sha256 = crate::attachments::store(&self.settings.attachments_dir, id, file.bytes.clone()).await?;
        let now = self.now();
        let mut tx = self.begin_keeping_all().await?;
        let decided = self.decide_case(tx.as_mut(), case, CaseIntent::Work, session, meta).await?;
        tx.insert_case_attachment(
            decided.grant(),
            &tsunagu_store::CaseAttachmentRow {
                id,
                case_id: case.0,
                file_name: kind.file_name.clone(),
                content_type: kind.content_type.to_owned(),
                size_bytes: file.bytes.len() as i64,
                sha256,
                uploaded_by: session.account.id.0,
                uploaded_at: now,
            },
        )
        .await?;
        tx.insert_case_log(
            decided.grant(),
            &CaseLogRow {
                id: Uuid::now_v7(),
                case_id: case.0,
                kind: ContactKind::Note.code().to_owned(),
                note: format!("ファイルを添付: {}", kind.file_name),
                written_by: Some(session.account.id.0),
                written_at: now,
            },
        )
        .await?;
        tx.append_audit(&decided.event(now, AuditAction::CaseChanged, json!({ "file": id, "size": file.bytes.len() })))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A file of a case, read by the desk (audited before it is returned):
    /// its type, name and bytes.
    pub async fn case_file(
        &self,
        session: &Session,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<(String, String, Vec<u8>), AppError> {
        let mut tx = self.store.begin_read().await?;
        let case = tx.case_attachment_case(id).await?.ok_or(AppError::NotFound)?;
        let decided = self.decide_case(tx.as_mut(), CaseId(case), CaseIntent::Work, session, meta).await?;
        let row = tx.case_attachment(decided.grant(), id).await?.ok_or(AppError::NotFound)?;
        drop(tx);
        let bytes = crate::attachments::load(&self.settings.attachments_dir, row.id, row.sha256.clone()).await?;
        self.case_read(decided.event(self.now(), AuditAction::AttachmentViewed, json!({ "file": id }))).await?;
        Ok((row.content_type, row.file_name, bytes))
    }

    /// Moves a case to another state (not closing: see [`App::close_case`]).
    pub async fn change_case_state(
        &self,
        session: &Session,
        case: CaseId,
        to: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let to = CaseState::parse(to).map_err(|_| tsunagu_domain::ValidationError::new("state", "unknown"))?;
        self.change_case(session, case, meta, AuditAction::CaseChanged, |row, change| {
            if !row.state.may_move_to(to) {
                return Err(tsunagu_domain::ValidationError::new("state", "not_allowed").into());
            }
            let from = row.state;
            if from == CaseState::Closed {
                row.closed_at = None;
                row.outcome = None;
            }
            row.state = to;
            change.log = Some((ContactKind::State, format!("{} → {}", from.label_ja(), to.label_ja())));
            Ok(json!({ "from": from.code(), "to": to.code() }))
        })
        .await
    }

    /// Gives a case to a coordinator of the centre (or to nobody).
    pub async fn assign_case(
        &self,
        session: &Session,
        case: CaseId,
        assignee: Option<AccountId>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        if let Some(a) = assignee {
            let mut tx = self.store.begin_read().await?;
            let account = tx.account(a.0).await?;
            let fits = account.is_some_and(|acc| {
                acc.municipality_id == session.account.municipality_id.map(|m| m.0)
                    && acc.roles.split(',').any(|r| r == Role::Coordinator.code())
            });
            if !fits {
                return Err(tsunagu_domain::ValidationError::new("assignee", "unknown").into());
            }
        }
        self.change_case(session, case, meta, AuditAction::CaseChanged, |row, _| {
            row.assignee_id = assignee.map(|a| a.0);
            Ok(json!({ "assignee": assignee.map(|a| a.0) }))
        })
        .await
    }

    /// Adds a task with an optional due date.
    pub async fn add_case_task(
        &self,
        session: &Session,
        case: CaseId,
        title: &str,
        due_on: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let task = TaskDraft::parse(title, due_on)?;
        self.change_case(session, case, meta, AuditAction::CaseChanged, |_, change| {
            let details = json!({ "task": task.title, "due_on": task.due_on.map(|d| d.to_string()) });
            change.task = Some(task);
            Ok(details)
        })
        .await
    }

    /// Marks a task done.
    pub async fn complete_case_task(
        &self,
        session: &Session,
        case: CaseId,
        task: Uuid,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        self.change_case(session, case, meta, AuditAction::CaseChanged, |_, change| {
            change.done_task = Some(task);
            Ok(json!({ "task_done": task }))
        })
        .await
    }

    /// Writes a line of the contact log (a call, a meeting, an e-mail, a note).
    pub async fn log_case_contact(
        &self,
        session: &Session,
        case: CaseId,
        kind: &str,
        note: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let draft = ContactDraft::parse(kind, note)?;
        self.change_case(session, case, meta, AuditAction::CaseLogged, |_, change| {
            let details = json!({ "kind": draft.kind.code() });
            change.log = Some((draft.kind, draft.note));
            Ok(details)
        })
        .await
    }

    /// Closes a case with its outcome; with open tasks, only with a reason.
    pub async fn close_case(
        &self,
        session: &Session,
        case: CaseId,
        outcome: &str,
        note: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let now = self.now();
        self.change_case(session, case, meta, AuditAction::CaseClosed, |row, change| {
            if row.state == CaseState::Closed {
                return Err(tsunagu_domain::ValidationError::new("state", "not_allowed").into());
            }
            let closing = Closing::parse(outcome, note, change.open_tasks)?;
            row.state = CaseState::Closed;
            row.outcome = Some(closing.outcome.code().to_owned());
            row.closing_note = closing.note.clone();
            row.closed_at = Some(now);
            change.log = Some((ContactKind::State, format!("終了: {}", closing.outcome.label_ja())));
            Ok(json!({ "outcome": closing.outcome.code(), "open_tasks": change.open_tasks }))
        })
        .await
    }

    /// Whether the session may send discharge requests (for menus): it works at a hospital.
    pub fn may_send_discharge_requests(&self, session: &Session) -> bool {
        session.actor().is_ok()
            && session
                .account
                .memberships
                .iter()
                .any(|m| m.facility_kind == tsunagu_domain::facility::FacilityKind::Hospital)
    }
}

/// What a change of the desk adds besides the case's row.
pub(crate) struct CaseChange {
    /// Open tasks before the change.
    pub open_tasks: usize,
    pub log: Option<(ContactKind, String)>,
    pub task: Option<TaskDraft>,
    pub done_task: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_of_an_even_count_is_between_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![30, 10, 20]), Some(20));
        assert_eq!(median(vec![40, 10, 20, 30]), Some(25));
    }
}
