//! The one e-mail tsunagu sends: "there is something new for you", with a link.
//! By construction it carries no patient data: nothing about a patient or an
//! entry is an input to it, so no name, diagnosis or note can reach a mail
//! server or an inbox (e-mail is neither encrypted end to end nor access-checked).

/// A mail's subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailText {
    pub subject: &'static str,
    pub body: String,
}

/// The notification mail in the account's language ("ja" or "en"), pointing
/// at the home screen of the installation at `base_url`.
pub fn notification_mail(language: &str, base_url: &str) -> MailText {
    let home = format!("{}/home", base_url.trim_end_matches('/'));
    if language == "en" {
        MailText {
            subject: "[tsunagu] You have new notifications",
            body: format!(
                "There is something new for you in one of your care teams on tsunagu.\n\n\
                 Please sign in to read it:\n{home}\n\n\
                 This mail contains no patient information. You can turn these mails off on your account page.\n"
            ),
        }
    } else {
        MailText {
            subject: "【つなぐ】新しいお知らせがあります",
            body: format!(
                "担当しているチームに新しいお知らせがあります。\n\n\
                 内容はつなぐにサインインしてご確認ください。\n{home}\n\n\
                 ※このメールには患者さんの情報は含まれていません。\n\
                 ※メールでのお知らせは、アカウント画面で停止できます。\n"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_links_home_in_the_reader_s_language() {
        let ja = notification_mail("ja", "https://tsunagu.example.jp/");
        assert!(ja.body.contains("https://tsunagu.example.jp/home\n"));
        assert!(ja.subject.contains("お知らせ"));
        let en = notification_mail("en", "https://tsunagu.example.jp");
        assert!(en.body.contains("https://tsunagu.example.jp/home\n") && en.body.contains("no patient information"));
    }
}
