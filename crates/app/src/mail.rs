//! Optional e-mail notifications: an account opts in; a notification queues
//! one "something new" mail in the same transaction (see the store's outbox);
//! [`App::deliver_mail`] hands queued mails to a [`MailSender`]. The text
//! comes from [`tsunagu_domain::mail`] and holds no patient data.

use crate::{App, AppError, AuditActor, RequestMeta, Session, audit_record};
use base64::Engine;
use serde_json::json;
use std::sync::Arc;
use tsunagu_domain::ValidationError;
use tsunagu_domain::audit::AuditAction;
use tsunagu_domain::mail::notification_mail;

/// After this many failed attempts a mail is left alone (and stays visible in the outbox).
pub const MAX_ATTEMPTS: i64 = 5;

/// Something that sends a plain-text mail. Blocking: it runs off the async runtime.
pub trait MailSender: Send + Sync {
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String>;
}

/// Hands the message to a local mail program such as `sendmail -t -i`
/// (Postfix, msmtp, ...), which knows the organisation's relay. tsunagu holds
/// no SMTP credentials.
pub struct CommandMailSender {
    pub program: String,
    pub args: Vec<String>,
    pub from: String,
}

impl CommandMailSender {
    /// `command` is the program and its arguments separated by spaces.
    pub fn parse(command: &str, from: &str) -> Option<Self> {
        let mut words = command.split_whitespace().map(str::to_owned);
        let program = words.next()?;
        Some(Self { program, args: words.collect(), from: from.to_owned() })
    }
}

/// An RFC 5322 message in UTF-8 (subject encoded per RFC 2047).
pub fn message(from: &str, to: &str, subject: &str, body: &str) -> Result<String, String> {
    if [from, to].iter().any(|h| h.contains(['\r', '\n'])) {
        return Err("a header contains a line break".into());
    }
    let subject = base64::engine::general_purpose::STANDARD.encode(subject);
    Ok(format!(
        "From: {from}\r\nTo: {to}\r\nSubject: =?UTF-8?B?{subject}?=\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
        body.replace('\n', "\r\n")
    ))
}

impl MailSender for CommandMailSender {
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        use std::io::Write;
        let text = message(&self.from, to, subject, body)?;
        let mut child = std::process::Command::new(&self.program)
            .args(&self.args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.program))?;
        child
            .stdin
            .take()
            .ok_or("no stdin")?
            .write_all(text.as_bytes())
            .map_err(|e| format!("writing to {}: {e}", self.program))?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{} exited with {}: {}", self.program, out.status, String::from_utf8_lossy(&out.stderr).trim()))
        }
    }
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub failed: usize,
}

impl App {
    /// Whether the signed-in person gets e-mail notifications.
    pub async fn email_notifications(&self, session: &Session) -> Result<bool, AppError> {
        let mut tx = self.store.begin_read().await?;
        Ok(tx.email_notifications(session.account.id.0).await?)
    }

    /// Turns one's own e-mail notifications on or off (on needs an address on the account).
    pub async fn set_email_notifications(
        &self,
        session: &Session,
        on: bool,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let actor = session.actor()?;
        if on && session.account.email.as_deref().is_none_or(str::is_empty) {
            return Err(ValidationError::new("email", "missing_for_notifications").into());
        }
        let mut tx = self.begin().await?;
        tx.set_email_notifications(actor.account_id.0, on).await?;
        let who = AuditActor { account_id: Some(actor.account_id), label: &session.audit_label, meta };
        tx.append_audit(&audit_record(
            self.now(),
            actor.municipality_id,
            &who,
            AuditAction::EmailNotificationsChanged,
            "account",
            Some(actor.account_id.0),
            json!({ "on": on }),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends what the outbox holds (at most `limit`), each mail marked sent or
    /// failed as soon as its sender answers. `base_url` is the installation's
    /// public address, for the link.
    pub async fn deliver_mail(
        &self,
        sender: Arc<dyn MailSender>,
        base_url: &str,
        limit: i64,
    ) -> Result<Delivery, AppError> {
        let mut tx = self.store.begin_read().await?;
        let pending = tx.pending_mails(MAX_ATTEMPTS, limit).await?;
        drop(tx);
        let mut done = Delivery::default();
        for mail in pending {
            let text = notification_mail(&mail.language, base_url);
            let sender = sender.clone();
            let to = mail.email.clone();
            let outcome = tokio::task::spawn_blocking(move || sender.send(&to, text.subject, &text.body))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let mut tx = self.begin().await?;
            match outcome {
                Ok(()) => {
                    tx.mark_mail_sent(mail.id, self.now()).await?;
                    done.sent += 1;
                }
                Err(why) => {
                    tracing::warn!(error = %why, attempt = mail.attempts + 1, "a notification mail was not sent");
                    tx.mark_mail_failed(mail.id, &why).await?;
                    done.failed += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_encode_the_subject_and_refuse_header_injection() {
        let m = message("tsunagu@example.jp", "ns@example.jp", "【つなぐ】新しいお知らせ", "一行目\n二行目").unwrap();
        assert!(m.contains("Subject: =?UTF-8?B?") && !m.contains("【"));
        assert!(m.ends_with("一行目\r\n二行目"));
        assert!(message("a@example.jp", "x@example.jp\r\nBcc: all@example.jp", "s", "b").is_err());
    }

    #[test]
    fn the_mail_command_is_split_into_program_and_arguments() {
        let s = CommandMailSender::parse("/usr/sbin/sendmail -t -i", "tsunagu@example.jp").unwrap();
        assert_eq!((s.program.as_str(), s.args.len()), ("/usr/sbin/sendmail", 2));
        assert!(CommandMailSender::parse("  ", "x").is_none());
    }

    #[test]
    fn a_failing_mail_program_is_an_error_not_a_silent_success() {
        let fails = CommandMailSender::parse("false", "tsunagu@example.jp").unwrap();
        assert!(fails.send("ns@example.jp", "s", "b").is_err());
        let missing = CommandMailSender::parse("/nonexistent/sendmail", "tsunagu@example.jp").unwrap();
        assert!(missing.send("ns@example.jp", "s", "b").is_err());
    }
}
