//! The discharge rules (退院支援ルール): the rule book every member reads and
//! prints, and the form with which the municipality adopts a new version.

use super::*;
use tsunagu_app::coordination::RuleBook;
use tsunagu_domain::discharge_rules::{DischargeRule, HandoverItem, Provider, RuleRow};

#[derive(Template, WebTemplate)]
#[template(path = "discharge_rules.html")]
struct RulesPage {
    t: Tr,
    c: Chrome,
    b: RuleBook,
    items: &'static [HandoverItem],
    providers: &'static [Provider],
    /// The rows of the form: the rules in force, then blank rows to add.
    rows: Vec<DischargeRule>,
}

impl RulesPage {
    fn item_label(&self, r: &DischargeRule) -> String {
        r.item().map(|i| self.t.label(&i).to_owned()).unwrap_or_else(|| r.item.clone())
    }

    /// "退院の7日前まで" / "7 days before discharge".
    fn due(&self, days: &i64) -> String {
        match self.t.lang {
            Lang::Ja => format!("退院の{days}日前まで"),
            Lang::En => format!("{days} days before discharge"),
        }
    }

    fn provider_label(&self, r: &DischargeRule) -> String {
        r.provider().map(|p| self.t.label(&p).to_owned()).unwrap_or_else(|| r.provider.clone())
    }
}

async fn render(state: &AppState, ctx: &Ctx, c: Chrome) -> Result<RulesPage, WebError> {
    let session = ctx.signed_in()?;
    let b = state.app.discharge_rules(session).await?;
    let mut rows = b.rules.clone();
    for _ in 0..3 {
        rows.push(DischargeRule { item: String::new(), provider: String::new(), days_before: 7, note: None });
    }
    Ok(RulesPage { t: ctx.t, c, b, items: HandoverItem::ALL, providers: Provider::ALL, rows })
}

/// `GET /centre/rules`: the rule book (printable).
pub(crate) async fn rules(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    Ok(render(&state, &ctx, ctx.chrome(q.notice.as_deref())).await?.into_response())
}

/// `POST /centre/rules`: a new version, rows as repeated `item`, `provider`, `days_before`, `note`.
pub(crate) async fn adopt_rules(
    State(state): State<AppState>,
    ctx: Ctx,
    Verified(pairs): Verified<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let session = ctx.signed_in()?;
    let column =
        |name: &str| -> Vec<&str> { pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect() };
    let (items, providers, days, notes) = (column("item"), column("provider"), column("days_before"), column("note"));
    let rows: Vec<RuleRow<'_>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| RuleRow {
            item,
            provider: providers.get(i).copied().unwrap_or_default(),
            days_before: days.get(i).copied().unwrap_or_default(),
            note: notes.get(i).copied().unwrap_or_default(),
        })
        .collect();
    let adoption = pairs.iter().find(|(k, _)| k == "adoption_note").map(|(_, v)| v.as_str()).unwrap_or_default();
    match state.app.adopt_discharge_rules(session, &rows, adoption, &ctx.meta).await {
        Ok(_) => Ok(Redirect::to("/centre/rules?notice=saved").into_response()),
        Err(e) => {
            let (status, message) = ctx.form_error(e)?;
            let mut c = ctx.chrome(None);
            c.error = Some(message);
            Ok((status, render(&state, &ctx, c).await?).into_response())
        }
    }
}
