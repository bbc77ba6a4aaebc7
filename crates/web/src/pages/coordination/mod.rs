//! The coordination centre's pages (items オ and ウ): the desk and its
//! cases, the report for the council, the hospitals' discharge requests, the
//! candidates' answer page, and the public consultation form.

use super::{Chrome, Id, NoticeQuery, with_cookies};
use crate::AppState;
use crate::context::{Ctx, NoFields, Verified};
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::Date;
use tsunagu_domain::clock::JST;
use tsunagu_domain::ids::CaseId;

mod case;
mod desk;
mod public_form;
mod reports;
mod requests;
mod rules;
mod topics;

pub(crate) use case::*;
pub(crate) use desk::*;
pub(crate) use public_form::*;
pub(crate) use reports::*;
pub(crate) use requests::*;
pub(crate) use rules::*;
pub(crate) use topics::*;

/// Dates and spans as the desk reads them.
pub(crate) struct Words {
    t: Tr,
}

impl Words {
    /// "12月20日（日）" / "2026-12-20 (Sun)".
    pub fn day(&self, d: &Date) -> String {
        let wd = usize::from(d.weekday().number_days_from_monday());
        match self.t.lang {
            Lang::Ja => {
                let w = ["月", "火", "水", "木", "金", "土", "日"].get(wd).copied().unwrap_or_default();
                format!("{}月{}日（{w}）", u8::from(d.month()), d.day())
            }
            Lang::En => {
                let w = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].get(wd).copied().unwrap_or_default();
                format!("{d} ({w})")
            }
        }
    }

    /// Minutes as "2時間10分" / "2 h 10 min".
    pub fn minutes(&self, m: &i64) -> String {
        let (h, m) = (m / 60, m % 60);
        match (self.t.lang, h) {
            (Lang::Ja, 0) => format!("{m}分"),
            (Lang::Ja, h) => format!("{h}時間{m}分"),
            (Lang::En, 0) => format!("{m} min"),
            (Lang::En, h) => format!("{h} h {m} min"),
        }
    }

    /// A distance in kilometres, one decimal.
    pub fn km(&self, d: &Option<f64>) -> String {
        match d {
            Some(m) => format!("{:.1} km", m / 1000.0),
            None => "—".to_owned(),
        }
    }

    /// A number of days or hours, one decimal.
    pub fn figure(&self, v: &Option<f64>) -> String {
        v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".to_owned())
    }
}
