//! Home: my patients, notifications, the urgent requests waiting for me and my team's.

use super::*;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub(super) struct HomePage {
    t: Tr,
    c: Chrome,
    account: AccountView,
    roles: Vec<Role>,
    show_admin: bool,
    recovery_low: bool,
    patients: Vec<PatientSummary>,
    notifications: Vec<tsunagu_app::patients::NotificationView>,
    q: String,
    /// Which actions to offer (the use cases check again).
    can_register: bool,
    can_break_glass: bool,
    /// Urgent requests that have called me or my hospital and wait for an answer.
    waiting: Vec<tsunagu_app::escalation::WaitingView>,
    /// My patients' requests not yet closed (nobody answered first).
    team_requests: Vec<tsunagu_app::escalation::TeamRequestView>,
    /// The coordination centre's requests to my facilities to join a team.
    inbox: Vec<tsunagu_app::coordination::InboxItem>,
    works_desk: bool,
    sends_discharge: bool,
}

impl HomePage {
    fn unanswered(&self) -> Vec<&tsunagu_app::escalation::TeamRequestView> {
        self.team_requests.iter().filter(|r| r.nobody_answered()).collect()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct HomeQuery {
    notice: Option<String>,
    q: String,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HomeQuery>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let unused = state.app.unused_recovery_codes(session).await?;
    let patients = match session.account.municipality_id {
        Some(_) => state.app.my_patients(session, &q.q, &ctx.meta).await?,
        None => Vec::new(),
    };
    let notifications = match session.account.municipality_id {
        Some(_) => state.app.notifications(session).await?,
        None => Vec::new(),
    };
    let waiting = match session.account.municipality_id {
        Some(_) => state.app.requests_waiting_for_me(session).await?,
        None => Vec::new(),
    };
    let team_requests = match session.account.municipality_id {
        Some(_) if session.account.profession != tsunagu_domain::account::Profession::Family => {
            state.app.my_team_requests(session, &ctx.meta).await?
        }
        _ => Vec::new(),
    };
    let inbox = match session.account.municipality_id {
        Some(_) => state.app.coordination_inbox(session).await?,
        None => Vec::new(),
    };
    let roles = session.account.all_roles();
    Ok(HomePage {
        inbox,
        works_desk: state.app.may_work_desk(session),
        sends_discharge: state.app.may_send_discharge_requests(session),
        waiting,
        team_requests,
        notifications,
        t: ctx.t,
        c: ctx.chrome(q.notice.as_deref()),
        show_admin: ctx.admin_link,
        roles,
        account: session.account.clone(),
        recovery_low: unused < 3,
        patients,
        q: q.q,
        can_register: state.app.may_register_patients(session).is_ok(),
        can_break_glass: state.app.may_break_glass(session).is_ok(),
    }
    .into_response())
}
