//! Who a session or API token stands for, kept for a moment.
//!
//! Every request starts by looking its cookie or bearer token up: the session
//! (or token), the account and its facilities — three queries that give the
//! same answer to an EHR reading hundreds of resources a second. An answer is
//! reused for at most `Settings::session_cache` (default 2 s), and:
//! - every change on this instance to sessions, tokens, accounts, memberships
//!   or facilities forgets all answers at once (`App::sessions_changed`), so
//!   sign-out, revocation or suspension take effect here immediately;
//! - another instance (several servers on one PostgreSQL) is told of such a
//!   change at once (`App::follow_other_instances`); were it not, it would
//!   see it when its copy expires: within that time, never later;
//! - expiry and idle time-out are checked on every use, cached or not.
//!
//! A lookup that started before a change and finishes after it is not kept:
//! answers carry the generation they were read under (`generation`), and a
//! change moves the generation on.

use crate::cache::answers::KeptAnswers;
use crate::session::Session;
use time::OffsetDateTime;

/// Look-ups kept at most; when full, it starts again empty.
pub(crate) const CAPACITY: usize = 10_000;

/// Look-ups by the SHA-256 of the cookie or token.
pub(crate) type SessionCache = KeptAnswers<Vec<u8>, Known>;

/// A looked-up session and what the time-outs need of its row.
#[derive(Clone)]
pub(crate) struct Known {
    pub session: Session,
    /// When the session was last seen (cookie sessions; `None` for API tokens).
    pub last_seen_at: Option<OffsetDateTime>,
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the tests let sessions grow old on the real clock
mod tests {
    use super::*;
    use crate::session::SessionStage;
    use crate::views::AccountView;
    use std::sync::Arc;
    use std::time::Duration;
    use tsunagu_domain::account::{AccountStatus, Profession};
    use tsunagu_domain::ids::AccountId;

    fn known(login: &str) -> Known {
        let account = AccountView {
            id: AccountId(uuid::Uuid::now_v7()),
            municipality_id: None,
            login_id: login.to_owned(),
            display_name: "試験 花子".to_owned(),
            display_name_kana: None,
            email: None,
            profession: Profession::Nurse,
            roles: Vec::new(),
            status: AccountStatus::Active,
            second_factor_enrolled: true,
            language: "ja".to_owned(),
            memberships: Vec::new(),
        };
        let session = Session {
            token_hash: vec![1],
            stage: SessionStage::Full,
            csrf_token: String::new(),
            account,
            expires_at: OffsetDateTime::now_utc() + time::Duration::hours(1),
            audit_label: login.to_owned(),
            scopes: None,
            client: None,
        };
        Known { session, last_seen_at: None }
    }

    #[test]
    fn an_answer_is_reused_until_a_change_or_its_time_is_up() {
        let cache = SessionCache::new(Duration::from_millis(200), CAPACITY);
        cache.put(vec![1], Arc::new(known("nurse.a")), cache.generation());
        assert_eq!(cache.get(&[1u8][..]).map(|k| k.session.account.login_id.clone()), Some("nurse.a".to_owned()));
        assert!(cache.get(&[2u8][..]).is_none(), "another token is not answered from this one");
        cache.clear();
        assert!(cache.get(&[1u8][..]).is_none(), "a change forgets every answer");
        cache.put(vec![1], Arc::new(known("nurse.a")), cache.generation());
        std::thread::sleep(Duration::from_millis(250));
        assert!(cache.get(&[1u8][..]).is_none(), "an answer older than the time-to-live is not used");
    }

    #[test]
    fn a_lookup_that_overlapped_a_change_is_not_kept() {
        let cache = SessionCache::new(Duration::from_secs(60), CAPACITY);
        let before = cache.generation();
        // The lookup reads the database, then a sign-out commits, then the lookup ends.
        cache.clear();
        cache.put(vec![1], Arc::new(known("nurse.a")), before);
        assert!(cache.get(&[1u8][..]).is_none());
    }

    #[test]
    fn a_zero_time_to_live_keeps_nothing() {
        let cache = SessionCache::new(Duration::ZERO, CAPACITY);
        cache.put(vec![1], Arc::new(known("nurse.a")), cache.generation());
        assert!(cache.get(&[1u8][..]).is_none());
    }
}
