//! Optional e-mail notifications: opt-in, one mail per burst, no patient data
//! in it, retried after a failure, never sent after opting out.

use crate::helpers::{Client, PASSWORD, TestApp, TestDb};
use crate::patients::{PATIENT, Team, add, consent, post, register, team};
use axum::http::StatusCode;
use std::sync::{Arc, Mutex};
use tsunagu_app::mail::{Delivery, MailSender};

crate::on_both_databases!(notification_mails_carry_no_patient_data_and_respect_the_choice);

#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<(String, String, String)>>,
    failing: bool,
}

impl MailSender for Outbox {
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        if self.failing {
            return Err("relay refused".into());
        }
        self.sent.lock().unwrap().push((to.to_owned(), subject.to_owned(), body.to_owned()));
        Ok(())
    }
}

/// A professional with an e-mail address on the account, signed in.
async fn with_email(t: &TestApp, login: &str, email: &str) -> Client {
    let new =
        tsunagu_domain::account::NewAccount::parse(login, "メール 受信者", "メール", email, "pharmacist", &[]).unwrap();
    let issued = t.app.issue_account_from_shell(Some("122173"), &new, None).await.unwrap();
    let mut client = t.client();
    client.redeem(&issued.code, login, PASSWORD).await;
    client.sign_in_and_enrol(t, login, PASSWORD).await;
    client
}

async fn notification_mails_carry_no_patient_data_and_respect_the_choice(db: &TestDb) {
    let Team { t, mut nurse, .. } = team(db).await;
    let mut pharmacist = with_email(&t, "ph.mail", "ph.mail@example.jp").await;
    let outbox = Arc::new(Outbox::default());
    let deliver = |sender: Arc<Outbox>| {
        let app = t.app.clone();
        async move { app.deliver_mail(sender, "https://tsunagu.example.jp/", 100).await.unwrap() }
    };

    // Opting in needs an address; the nurse has none.
    let page = pharmacist.get("/account").await;
    assert!(page.body.contains("ph.mail@example.jp") && !page.body.contains("checked> "));
    let refused = nurse.submit("/account", "/account/email-notifications", &[("email_notifications", "on")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("メールアドレスが登録されていない"));
    let on = pharmacist.submit("/account", "/account/email-notifications", &[("email_notifications", "on")]).await;
    assert!(on.redirects_to("/account"), "{} {}", on.status, on.body);
    assert!(pharmacist.get("/account").await.body.contains("value=\"on\" checked"));

    // Added to a team, then an urgent entry: two notifications, one mail.
    let patient = register(&mut nurse, PATIENT).await;
    consent(&mut nurse, &patient).await;
    add(&mut nurse, &patient, "ph.mail", "pharmacist").await;
    post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "ペニシリン系で発疹が出現")]).await;
    assert_eq!(deliver(outbox.clone()).await, Delivery { sent: 1, failed: 0 });
    let sent = outbox.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let (to, subject, body) = &sent[0];
    assert_eq!(to, "ph.mail@example.jp");
    assert!(body.contains("https://tsunagu.example.jp/home"));
    for secret in ["柏", "花子", "カシワ", "発疹", "ペニシリン", &patient] {
        assert!(!subject.contains(secret) && !body.contains(secret), "{secret} leaked into the mail");
    }
    assert_eq!(deliver(outbox.clone()).await, Delivery::default(), "nothing new, nothing sent");

    // A failed attempt is retried; the nurse (not opted in) never gets one.
    post(&mut nurse, &patient, &[("kind", "message"), ("body", "@ph.mail 処方の確認をお願いします")]).await;
    let failing = Arc::new(Outbox { failing: true, ..Outbox::default() });
    assert_eq!(deliver(failing).await, Delivery { sent: 0, failed: 1 });
    assert_eq!(deliver(outbox.clone()).await, Delivery { sent: 1, failed: 0 });
    assert!(outbox.sent.lock().unwrap().iter().all(|(to, _, _)| to == "ph.mail@example.jp"));

    // Two members opted in: one post queues one mail for each (in one statement).
    let mut dietitian = with_email(&t, "rd.mail", "rd.mail@example.jp").await;
    let on = dietitian.submit("/account", "/account/email-notifications", &[("email_notifications", "on")]).await;
    assert!(on.redirects_to("/account"), "{} {}", on.status, on.body);
    add(&mut nurse, &patient, "rd.mail", "pharmacist").await;
    assert_eq!(deliver(outbox.clone()).await, Delivery { sent: 1, failed: 0 }, "added to a team");
    outbox.sent.lock().unwrap().clear();
    post(&mut nurse, &patient, &[("kind", "message"), ("body", "@ph.mail @rd.mail 食事形態の相談です")]).await;
    assert_eq!(deliver(outbox.clone()).await, Delivery { sent: 2, failed: 0 });
    let mut to: Vec<String> = outbox.sent.lock().unwrap().iter().map(|(to, _, _)| to.clone()).collect();
    to.sort();
    assert_eq!(to, ["ph.mail@example.jp", "rd.mail@example.jp"]);

    // Opting out stops them at once.
    pharmacist.submit("/account", "/account/email-notifications", &[]).await;
    dietitian.submit("/account", "/account/email-notifications", &[]).await;
    post(&mut nurse, &patient, &[("kind", "urgent"), ("body", "再度の急変")]).await;
    assert_eq!(deliver(outbox.clone()).await, Delivery::default());
    assert!(t.app.verify_audit().await.unwrap().is_intact());
}
