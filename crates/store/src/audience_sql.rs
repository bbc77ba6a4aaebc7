//! Who reads which entry, in SQL: the condition is generated from the domain's
//! own rule (`tsunagu_domain::care::visible_audiences`), never written again by
//! hand, so that the counts, the reply counts and the timeline cannot disagree
//! with what a member is shown.

use std::sync::LazyLock;
use tsunagu_domain::care::{Audience, TeamRole, visible_audiences};

/// The SQL condition "an entry of audience `audience` is visible to a reader whose
/// team role is `role`" (`role` is `''` for a reader who is not a member, e.g. an
/// emergency grant). Both are SQL expressions; the codes are the domain's constants.
pub(crate) fn visible_to(audience: &str, role: &str) -> String {
    let mut cases = Vec::new();
    for a in Audience::ALL {
        let mut roles: Vec<String> = TeamRole::ALL
            .iter()
            .filter(|r| visible_audiences(Some(**r)).contains(a))
            .map(|r| format!("'{}'", r.code()))
            .collect();
        if visible_audiences(None).contains(a) {
            roles.push("''".to_owned());
        }
        if !roles.is_empty() {
            cases.push(format!("({audience} = '{}' AND {role} IN ({}))", a.code(), roles.join(", ")));
        }
    }
    format!("({})", cases.join(" OR "))
}

/// The team roles that answer urgent entries (`TeamRole::is_physician`), as an SQL list.
fn physician_roles() -> String {
    let roles: Vec<String> =
        TeamRole::ALL.iter().filter(|r| r.is_physician()).map(|r| format!("'{}'", r.code())).collect();
    roles.join(", ")
}

/// The reader's (`$2`) role in the team of the patient of the entry aliased `entry`,
/// or `''` when they are not a member.
fn role_of_reader(entry: &str) -> String {
    format!(
        "COALESCE((SELECT m.team_role FROM team_members m WHERE m.patient_id = {entry}.patient_id \
         AND m.account_id = $2 AND m.left_at IS NULL LIMIT 1), '')"
    )
}

/// An entry with its current version and how it stands for the reader (`$2`).
/// Its reply count counts only the replies the reader may read.
pub(crate) static TIMELINE_SELECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT e.id, e.patient_id, e.kind, e.author_id, e.reply_to, e.needs_reply, \
         e.latest_version, e.created_at, e.audience, v.body, v.vitals, v.edited_at, a.display_name AS author_name, \
         a.profession AS author_profession, \
         EXISTS (SELECT 1 FROM entry_reads r WHERE r.entry_id = e.id AND r.account_id = $2) AS read_by_me, \
         (SELECT COUNT(*) FROM entry_reads r WHERE r.entry_id = e.id) AS read_count, \
         EXISTS (SELECT 1 FROM entry_acknowledgements k WHERE k.entry_id = e.id AND k.account_id = $2) AS acknowledged_by_me, \
         (SELECT COUNT(*) FROM entry_acknowledgements k WHERE k.entry_id = e.id) AS acknowledgement_count, \
         EXISTS (SELECT 1 FROM attachments f WHERE f.entry_id = e.id) AS has_attachments, \
         (SELECT COUNT(*) FROM entries x WHERE x.reply_to = e.id AND (x.author_id = $2 OR {})) AS reply_count \
         FROM entries e \
         JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.latest_version \
         JOIN accounts a ON a.id = e.author_id",
        visible_to("x.audience", &role_of_reader("x"))
    )
});

/// Each of `$1`'s patients with its unread, urgent-unacknowledged and
/// needs-reply counts, each counting only what the member may read. Each count
/// is an index range of one patient, so the list costs the same after years of
/// history: unread is counted among the patient's newest `$2` entries
/// (entries_timeline backwards; filtering before the limit would walk past all
/// of one's own), urgent ones by entries_by_kind and those asking for a reply by
/// entries_needing_reply. A reply the member may not read does not answer an entry.
/// An urgent entry waits on a physician until they say they will respond, on
/// everyone else until they have read it.
pub(crate) static PATIENT_COUNTS: LazyLock<String> = LazyLock::new(|| {
    let visible = |alias: &str| visible_to(&format!("{alias}.audience"), "m.team_role");
    format!(
        "SELECT m.patient_id, \
           (SELECT COUNT(*) FROM \
              (SELECT e.id, e.author_id, e.created_at, e.audience FROM entries e \
               WHERE e.patient_id = m.patient_id ORDER BY e.created_at DESC, e.id DESC LIMIT $2) w \
            WHERE w.author_id <> $1 AND w.created_at >= m.joined_at AND {w} \
              AND NOT EXISTS (SELECT 1 FROM entry_reads r WHERE r.entry_id = w.id AND r.account_id = $1)) AS unread, \
           (SELECT COUNT(*) FROM entries e \
            WHERE e.patient_id = m.patient_id AND e.kind = 'urgent' AND e.author_id <> $1 \
              AND e.created_at >= m.joined_at AND {e} \
              AND CASE WHEN m.team_role IN ({physicians}) \
                THEN NOT EXISTS (SELECT 1 FROM entry_acknowledgements k WHERE k.entry_id = e.id AND k.account_id = $1) \
                ELSE NOT EXISTS (SELECT 1 FROM entry_reads r WHERE r.entry_id = e.id AND r.account_id = $1) END) \
             AS urgent_unacknowledged, \
           (SELECT COUNT(*) FROM entries e \
            WHERE e.patient_id = m.patient_id AND e.needs_reply AND e.author_id <> $1 \
              AND e.created_at >= m.joined_at AND {e} \
              AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.reply_to = e.id AND (x.author_id = $1 OR {x}))) \
             AS needs_reply \
         FROM team_members m WHERE m.account_id = $1 AND m.left_at IS NULL",
        physicians = physician_roles(),
        w = visible("w"),
        e = visible("e"),
        x = visible("x"),
    )
});

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    /// The generated condition answers as the domain's rule for every role
    /// (and for a reader who is not a member) and every audience.
    #[tokio::test]
    async fn the_sql_condition_is_the_domains_rule() {
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let condition = visible_to("audience", "role");
        let roles: Vec<Option<TeamRole>> = TeamRole::ALL.iter().copied().map(Some).chain([None]).collect();
        for role in roles {
            for audience in Audience::ALL {
                let sql =
                    format!("SELECT CASE WHEN {condition} THEN 1 ELSE 0 END FROM (SELECT $1 AS audience, $2 AS role)");
                let seen: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(audience.code())
                    .bind(role.map(|r| r.code()).unwrap_or(""))
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
                assert_eq!(seen == 1, visible_audiences(role).contains(audience), "{role:?} reading {audience:?}");
            }
        }
    }
}
