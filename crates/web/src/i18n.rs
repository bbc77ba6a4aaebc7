//! Interface text, Japanese first, English second. Keys are stable; error
//! messages are looked up by the domain's stable error codes.

use std::collections::HashMap;
use std::sync::LazyLock;
use tsunagu_domain::text::Label;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

/// The translator handed to every template as `t`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    /// The text for `key`; a missing key shows itself, so it is noticed in review.
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        match CATALOG.get(key) {
            Some((ja, en)) => match self.lang {
                Lang::Ja => ja,
                Lang::En => en,
            },
            None => key,
        }
    }

    pub fn label<L: Label>(&self, value: &L) -> &'static str {
        match self.lang {
            Lang::Ja => value.label_ja(),
            Lang::En => value.label_en(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// An instant as people in Japan read it (JST).
    pub fn when(&self, t: &time::OffsetDateTime) -> String {
        tsunagu_domain::clock::format_jst(*t)
    }

    /// The message for a validation error: field-specific first, then generic.
    pub fn error(&self, field: &str, code: &str) -> String {
        let specific = format!("error.{field}.{code}");
        if CATALOG.contains_key(specific.as_str()) {
            return self.s(&specific).to_owned();
        }
        let generic = format!("error.{code}");
        if CATALOG.contains_key(generic.as_str()) {
            return format!("{}: {}", self.s(&format!("field.{field}")), self.s(&generic));
        }
        self.s("error.invalid").to_owned()
    }
}

static CATALOG: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| ENTRIES.iter().map(|(k, ja, en)| (*k, (*ja, *en))).collect());

const ENTRIES: &[(&str, &str, &str)] = &[
    // Layout
    ("app.name", "つなぐ", "tsunagu"),
    ("app.tagline", "在宅医療・介護連携", "Home medical and long-term care collaboration"),
    ("nav.home", "ホーム", "Home"),
    ("nav.admin", "管理", "Admin"),
    ("nav.account", "アカウント", "Account"),
    ("nav.sign_out", "サインアウト", "Sign out"),
    ("nav.other_language", "English", "日本語"),
    ("nav.skip", "本文へ移動", "Skip to content"),
    ("common.save", "保存する", "Save"),
    ("common.back", "戻る", "Back"),
    ("common.none", "なし", "None"),
    ("common.print", "印刷する", "Print"),
    ("common.required", "必須", "required"),
    ("common.optional", "任意", "optional"),
    // Sign-in
    ("sign_in.title", "サインイン", "Sign in"),
    ("sign_in.login_id", "ログインID", "Login ID"),
    ("sign_in.password", "パスワード", "Password"),
    ("sign_in.submit", "次へ", "Continue"),
    ("sign_in.refused", "ログインIDまたはパスワードが正しくありません。", "The login ID or password is not correct."),
    (
        "sign_in.throttled",
        "失敗が続いたため、しばらくお待ちください（15分ほど）。",
        "Too many failed attempts. Please wait about 15 minutes.",
    ),
    ("sign_in.expired", "時間切れです。もう一度サインインしてください。", "This took too long. Please sign in again."),
    ("sign_in.have_code", "招待コードをお持ちの方", "I have an invitation code"),
    ("sign_in.signed_out", "サインアウトしました。", "You have signed out."),
    ("sign_in.redeemed", "パスワードを設定しました。サインインしてください。", "Your password is set. Please sign in."),
    ("second_factor.title", "認証コードの入力", "Enter your code"),
    (
        "second_factor.help",
        "認証アプリに表示されている6桁のコードを入力してください。スマートフォンを紛失した場合は回復コードも使えます。",
        "Enter the 6-digit code shown in your authenticator app. If you lost your phone, a recovery code works too.",
    ),
    ("second_factor.code", "認証コード", "Code"),
    ("second_factor.refused", "コードが正しくありません。", "That code is not correct."),
    ("second_factor.submit", "サインイン", "Sign in"),
    ("enrol.title", "二要素認証の設定", "Set up two-factor sign-in"),
    (
        "enrol.why",
        "患者さんの情報を守るため、パスワードに加えて認証アプリ（Google Authenticator、Microsoft Authenticator など）のコードでサインインします。",
        "To protect patients' information, you sign in with a code from an authenticator app (Google Authenticator, Microsoft Authenticator, ...) as well as your password.",
    ),
    (
        "enrol.step1",
        "1. 認証アプリでこのQRコードを読み取るか、下のキーを入力してください。",
        "1. Scan this QR code with your authenticator app, or type the key below.",
    ),
    ("enrol.key", "キー", "Key"),
    ("enrol.step2", "2. アプリに表示された6桁のコードを入力してください。", "2. Enter the 6-digit code the app shows."),
    ("enrol.submit", "設定する", "Set up"),
    ("recovery.title", "回復コード", "Recovery codes"),
    (
        "recovery.help",
        "スマートフォンを紛失したときに、認証コードの代わりに1回ずつ使えます。印刷するか書き写して、安全な場所に保管してください。この画面は二度と表示されません。",
        "Each code works once instead of an authenticator code, if you lose your phone. Print or copy them and keep them somewhere safe. This page will not be shown again.",
    ),
    ("recovery.continue", "保管しました。続ける", "I have stored them. Continue"),
    // Invitation
    ("invite.title", "招待コードで登録", "Register with an invitation code"),
    (
        "invite.help",
        "管理者から受け取ったログインIDと招待コードを入力し、パスワードを決めてください。",
        "Enter the login ID and code you received from your administrator, and choose a password.",
    ),
    ("invite.code", "招待コード", "Invitation code"),
    ("invite.password", "新しいパスワード（10文字以上）", "New password (10 characters or more)"),
    ("invite.password_again", "新しいパスワード（確認）", "New password (again)"),
    ("invite.submit", "登録する", "Register"),
    // Home
    ("home.title", "ホーム", "Home"),
    ("home.welcome", "さん、おつかれさまです。", ", welcome."),
    ("home.facilities", "所属事業所", "Your facilities"),
    ("home.roles", "役割", "Roles"),
    ("home.no_facility", "所属事業所はまだありません。", "You do not belong to a facility yet."),
    (
        "home.recovery_low",
        "未使用の回復コードが残り少なくなっています。アカウント画面で再発行してください。",
        "You are running out of recovery codes. Issue new ones on the account page.",
    ),
    ("home.admin_link", "管理画面へ", "Go to administration"),
    // Account settings
    ("account.title", "アカウント設定", "Account settings"),
    ("account.profile", "プロフィール", "Profile"),
    ("account.language", "表示言語", "Language"),
    ("account.change_password", "パスワードの変更", "Change password"),
    ("account.current_password", "現在のパスワード", "Current password"),
    ("account.new_password", "新しいパスワード（10文字以上）", "New password (10 characters or more)"),
    (
        "account.password_changed",
        "パスワードを変更しました。他の端末はサインアウトされました。",
        "Your password is changed. Your other devices have been signed out.",
    ),
    ("account.sessions", "サインイン中の端末", "Devices signed in"),
    ("account.sign_out_everywhere", "すべての端末からサインアウト", "Sign out on every device"),
    ("account.recovery_codes", "回復コード", "Recovery codes"),
    ("account.recovery_unused", "未使用の回復コード", "Unused recovery codes"),
    ("account.regenerate", "回復コードを再発行する", "Issue new recovery codes"),
    // Admin
    ("admin.title", "管理", "Administration"),
    ("admin.municipalities", "市区町村", "Municipalities"),
    ("admin.facilities", "事業所", "Facilities"),
    ("admin.accounts", "アカウント（ID発行）", "Accounts (IDs)"),
    ("admin.audit", "監査ログ", "Audit log"),
    ("admin.new_municipality", "市区町村を登録", "Register a municipality"),
    ("admin.new_facility", "事業所を登録", "Register a facility"),
    ("admin.edit_facility", "事業所情報の変更", "Edit facility"),
    ("admin.staff", "職員", "Staff"),
    ("admin.issue_id", "IDを発行", "Issue an ID"),
    (
        "admin.issue_help",
        "発行すると1回限りの招待コードが表示されます。印刷して本人に渡してください（有効期限14日）。",
        "Issuing shows a one-time invitation code. Print it and hand it to the person (valid for 14 days).",
    ),
    ("admin.count", "件", " items"),
    ("admin.created", "登録しました。", "Registered."),
    ("admin.saved", "保存しました。", "Saved."),
    ("admin.status", "状態", "Status"),
    ("admin.second_factor", "二要素認証", "Two-factor"),
    ("admin.enrolled", "設定済み", "Enrolled"),
    ("admin.not_enrolled", "未設定", "Not yet"),
    ("admin.disable", "利用を停止する", "Disable"),
    ("admin.enable", "利用を再開する", "Re-enable"),
    (
        "admin.reissue",
        "再設定コードを発行（パスワード・認証アプリの再設定）",
        "Issue a reset code (new password and authenticator)",
    ),
    ("admin.memberships", "所属", "Facilities"),
    ("admin.add_membership", "所属を追加", "Add to a facility"),
    ("admin.remove", "解除", "Remove"),
    ("admin.is_admin", "事業所管理者", "Facility admin"),
    ("admin.no_rights", "この画面を使う権限がありません。", "You do not have permission to use this page."),
    ("issued.title", "招待コード", "Invitation code"),
    ("issued.for", "対象", "For"),
    ("issued.expires", "有効期限", "Valid until"),
    (
        "issued.instructions",
        "つなぐのサインイン画面で「招待コードをお持ちの方」を選び、ログインIDと下のコードを入力してパスワードを設定してください。その後、認証アプリを設定します。",
        "On the tsunagu sign-in page choose \"I have an invitation code\", enter the login ID and the code below, and choose a password. You will then set up an authenticator app.",
    ),
    ("issued.send_by_mail", "メールで送る", "Send by e-mail"),
    ("issued.mail_subject", "つなぐ 招待コードのお知らせ", "Your tsunagu invitation code"),
    ("audit.when", "日時", "When"),
    ("audit.who", "操作者", "Who"),
    ("audit.what", "操作", "What"),
    ("audit.from", "接続元", "From"),
    ("audit.details", "内容", "Details"),
    // Patients and the care team
    ("patients.mine", "担当の患者さん", "My patients"),
    ("patients.people", "人", " people"),
    ("patients.years", "歳", " y"),
    ("patients.new", "患者さんを登録", "Register a patient"),
    (
        "patients.new_help",
        "登録したあなたがケアチームの最初のメンバーになります。本人または代理人の同意を記録するまで、ほかの人には表示されません。",
        "You become the first member of the care team. Nobody else sees the patient until the consent of the patient or a proxy is recorded.",
    ),
    ("patients.register", "登録する", "Register"),
    ("patients.search", "氏名・ふりがなで検索", "Search by name or kana"),
    ("patients.none", "担当の患者さんはまだいません。", "No patients yet."),
    ("patients.unread", "未読", "Unread"),
    ("patients.needs_reply", "要返信", "Reply needed"),
    ("patients.latest_vitals", "最新のバイタル", "Latest vital signs"),
    ("patients.key_person_hint", "例：長女 柏 花子", "e.g. daughter, Hanako Kashiwa"),
    ("patient.posted", "投稿しました。", "Posted."),
    (
        "patient.consent_recorded",
        "同意を記録しました。チームでの共有を始めます。",
        "Consent recorded. The team now shares this record.",
    ),
    ("patient.corrected", "訂正しました（元の記録も残っています）。", "Corrected (the original is kept)."),
    ("patient.acknowledged", "確認済みにしました。", "Acknowledged."),
    ("consent.title", "情報共有への同意", "Consent to sharing"),
    (
        "consent.pending",
        "まだ同意が記録されていません。本人または代理人から同意を得て記録すると、ケアチームで共有できるようになります。",
        "No consent is recorded yet. Record the consent of the patient or a proxy to start sharing with the care team.",
    ),
    ("consent.pending_short", "同意未記録", "No consent yet"),
    ("consent.given_on", "同意日", "Date of consent"),
    ("consent.method", "方法", "How"),
    ("consent.proxy_name", "代理人の氏名", "Proxy's name"),
    ("consent.proxy_hint", "本人の場合は空欄", "leave empty if the patient consented"),
    ("consent.proxy_relation", "続柄", "Relation"),
    ("consent.relation_hint", "例：長女", "e.g. daughter"),
    ("consent.scope", "共有の範囲", "Scope of sharing"),
    ("consent.scope_default", "在宅療養に関わるケアチーム内での情報共有", "Sharing within the home-care team"),
    ("consent.record", "同意を記録する", "Record consent"),
    ("consent.by_patient", "本人", "the patient"),
    ("consent.withdraw", "同意の撤回を記録する", "Record withdrawal of consent"),
    ("consent.withdraw_reason", "撤回の理由・経緯", "Reason"),
    (
        "consent.withdrawn",
        "同意が撤回されたため、この記録は閲覧のみです（新しい投稿はできません）。",
        "Consent was withdrawn: this record is read-only.",
    ),
    ("consent.withdrawn_short", "撤回済み", "withdrawn"),
    ("team.title", "ケアチーム", "Care team"),
    ("team.add", "メンバーを追加", "Add a member"),
    ("team.add_hint", "ログインIDまたは氏名", "Login ID or name"),
    ("team.leave", "チームから外れる", "Leave the team"),
    ("team.remove", "外す", "Remove"),
    ("entry.kind", "種類", "Kind"),
    ("notify.title", "お知らせ", "Notifications"),
    ("entry.attach", "写真・PDFを添付", "Attach photos or PDFs"),
    ("entry.attach_hint", "JPEG・PNG・PDF、1件10MBまで、5件まで", "JPEG, PNG or PDF, up to 10 MB each, 5 files"),
    ("error.attachment.too_large", "添付ファイルは1件10MBまでです。", "Each attachment can be at most 10 MB."),
    ("error.attachment.too_many", "添付ファイルは5件までです。", "At most 5 attachments."),
    (
        "error.attachment.too_many_consent",
        "同意書は1つのファイルにまとめてください。",
        "Put the consent form in one file.",
    ),
    ("consent.document", "同意書のスキャン・写真", "Scanned consent form"),
    ("consent.document_link", "同意書を見る", "See the consent form"),
    (
        "error.attachment.unsupported_type",
        "添付できるのはJPEG・PNGの写真とPDFだけです。",
        "Only JPEG or PNG photos and PDFs can be attached.",
    ),
    (
        "error.attachment.disguised",
        "ファイルの中身と名前・種類が一致しません。",
        "The file's content does not match its name or type.",
    ),
    ("error.attachment.empty", "空のファイルは添付できません。", "The file is empty."),
    ("field.attachment", "添付ファイル", "Attachment"),
    ("entry.share_with_family", "ご家族にも共有する", "Share with the family"),
    ("family.to", "宛先", "To"),
    ("family.to_team", "ケアチームのみなさんへ", "The whole care team"),
    ("family.to_doctor", "医師だけに", "The doctor only"),
    ("family.body_hint", "ご質問やご様子をお書きください", "Questions, or how things are at home"),
    ("family.invite", "ご家族を招待", "Invite a family member"),
    (
        "family.invite_help",
        "ご家族は「ご家族にも共有」とした記録と人生会議、閲覧履歴を見ることができ、チームや医師にメッセージを送れます。",
        "Family members see entries shared with the family, the advance care plan and who read the record, and can write to the team or to the doctor.",
    ),
    ("family.invited_title", "ご家族の招待コード", "Family invitation code"),
    (
        "family.instructions",
        "つなぐのサインイン画面で「招待コードをお持ちの方」を選び、ログインIDと下のコードを入力してパスワードを設定してください。その後、スマートフォンの認証アプリを設定します。",
        "On the tsunagu sign-in page choose \"I have an invitation code\", enter the login ID and the code below, and choose a password; then set up an authenticator app on your phone.",
    ),
    ("access.title", "閲覧履歴", "Who read this record"),
    ("access.link", "閲覧履歴", "Who read this record"),
    (
        "access.help",
        "この記録を開いた人と日時です（監査ログから）。ご本人・ご家族もいつでも確認できます。",
        "Everyone who opened this record, and when (from the audit log). The patient and family can always see this.",
    ),
    ("field.relation", "続柄", "Relation"),
    ("field.audience", "宛先", "Audience"),
    (
        "error.kind.family_messages_only",
        "ご家族はメッセージのみ投稿できます。",
        "Family members can post messages only.",
    ),
    ("notify.break_glass", "さんがチーム外から緊急閲覧しました", " opened the record by break-glass"),
    ("break_glass.title", "緊急閲覧（ケアチーム外の患者）", "Break-glass access (a patient outside your teams)"),
    (
        "break_glass.link",
        "チーム外の患者を緊急に閲覧する（副主治医の代診・病院での急変対応など）",
        "Open a patient outside your teams in an emergency (covering physician, hospital escalation)",
    ),
    (
        "break_glass.warning",
        "ケアチームのメンバーでない患者の記録を、理由を記録したうえで閲覧します。閲覧は監査ログに残り、ケアチーム全員にすぐ通知されます。閲覧できる時間は",
        "You are opening the record of a patient whose team you are not on. The reason is recorded, the access is audited, and the whole care team is notified at once. Access lasts",
    ),
    ("break_glass.hours", "時間です。", " hours."),
    ("break_glass.name", "患者さんの氏名（漢字またはカナ、姓名とも）", "Patient's full name (kanji or kana)"),
    ("break_glass.reason_kind", "理由", "Reason"),
    ("break_glass.reason.covering_physician", "副主治医として代診", "Covering as backup physician"),
    ("break_glass.reason.hospital_escalation", "病院での急変受け入れ", "Hospital admission on an escalation"),
    ("break_glass.reason.emergency_call", "緊急の連絡・往診依頼への対応", "Answering an emergency call"),
    ("break_glass.reason.other", "その他", "Other"),
    ("break_glass.reason", "具体的な状況", "What is happening"),
    (
        "break_glass.reason_hint",
        "例：主治医不在のため夜間の発熱で往診",
        "e.g. night fever call while the primary physician is away",
    ),
    ("break_glass.open", "理由を記録して閲覧する", "Record the reason and open"),
    (
        "break_glass.no_match",
        "氏名と生年月日が一致する患者さんが見つかりません。",
        "No patient with that name and date of birth.",
    ),
    (
        "break_glass.banner",
        "緊急閲覧中です。この閲覧は記録され、チームに通知されています。閲覧期限：",
        "Break-glass access: recorded and notified to the team. Until",
    ),
    ("break_glass.badge", "緊急閲覧", "Break-glass"),
    (
        "error.name.ambiguous",
        "同じ氏名・生年月日の患者さんが複数います。ケアチームに連絡してください。",
        "Several patients share that name and date of birth. Please contact the care team.",
    ),
    ("error.reason.too_short", "状況を具体的に書いてください。", "Please describe the situation."),
    ("field.reason_kind", "理由", "Reason"),
    ("notify.mention", "さんがあなた宛てに書き込みました", " mentioned you"),
    ("notify.urgent", "さんが急変を投稿しました", " posted an urgent entry"),
    ("notify.team_added", "さんがあなたをケアチームに追加しました", " added you to the care team"),
    ("entry.mention_hint", "@ログインID で宛先を指定できます", "Write @login to address someone"),
    ("entry.more_filters", "職種・記入者・期間で絞り込む", "Filter by profession, author or period"),
    ("entry.search", "記録を検索（例：褥瘡）", "Search the record (e.g. pressure ulcer)"),
    ("entry.search_results", "の検索結果", ": results"),
    ("entry.clear_search", "検索をやめる", "Clear the search"),
    ("entry.body", "内容", "Text"),
    (
        "entry.body_hint",
        "訪問時の様子、実施したこと、気づいたことなど",
        "What you saw, what you did, what the team should know",
    ),
    ("entry.vitals", "バイタルを入力", "Vital signs"),
    ("entry.needs_reply", "返信が必要", "Needs a reply"),
    ("entry.compose", "記録・連絡を投稿", "Post to the timeline"),
    ("entry.post", "投稿する", "Post"),
    ("entry.timeline", "タイムライン", "Timeline"),
    ("entry.all", "すべて", "All"),
    ("entry.author", "記入者", "Author"),
    ("entry.reply", "返信", "Reply"),
    ("entry.replied", "返信済み", "Replied"),
    ("entry.replies", "返信", "Replies"),
    ("entry.replying_to", "返信先：", "Replying to:"),
    ("entry.cancel_reply", "返信をやめる", "Cancel reply"),
    ("entry.in_reply_to", "↩ 返信先の記録を見る", "↩ See the entry this replies to"),
    ("account.email_notifications", "メールでのお知らせ", "E-mail notifications"),
    (
        "account.email_notifications_help",
        "メンションや急変など新しいお知らせがあると、メールでお知らせします。メールには患者さんの情報は含まれず、つなぐへのリンクだけが届きます。",
        "When something new is there for you (a mention, an urgent entry), we send a mail. It holds no patient information, only a link to tsunagu.",
    ),
    ("account.email_notifications_to", "お知らせをメールで受け取る：", "Send notifications by e-mail to"),
    (
        "account.no_email",
        "メールアドレスが登録されていません。受け取るには、所属先の管理者に登録を依頼してください。",
        "No e-mail address is registered. Ask your facility's administrator to add one.",
    ),
    (
        "error.email.missing_for_notifications",
        "メールアドレスが登録されていないため、メールでのお知らせは使えません。",
        "E-mail notifications need an e-mail address on your account.",
    ),
    ("entry.none", "まだ記録はありません。", "Nothing here yet."),
    ("entry.new", "未読", "New"),
    ("entry.urgent", "急変", "Urgent"),
    ("entry.corrected", "訂正あり", "Corrected"),
    ("entry.read_by", "既読", "Read by"),
    ("entry.correct", "訂正する", "Correct"),
    (
        "entry.correct_help",
        "記録は上書きされません。訂正は新しい版として保存され、元の内容と訂正者・日時・理由が残ります。",
        "Entries are never overwritten: a correction is saved as a new version, and the original, who changed it, when and why are kept.",
    ),
    ("entry.reason", "訂正の理由", "Reason for the correction"),
    ("entry.reason_hint", "例：血圧の入力誤り", "e.g. blood pressure mistyped"),
    ("entry.save_correction", "訂正を保存する", "Save the correction"),
    ("entry.history", "履歴", "History"),
    ("entry.version", "第", "Version"),
    ("entry.acknowledge", "確認しました（対応します）", "Acknowledge"),
    ("entry.acknowledged", "確認済み", "Acknowledged"),
    ("acp.title", "人生会議（ACP）", "Advance care plan"),
    (
        "acp.help",
        "本人の思いを、家族や医療・介護の関係者と話し合った記録です。考えは変わってよいものです。話し合うたびに新しい版を追加し、以前の版もすべて残ります。",
        "What the patient wants, as discussed with family and the care team. Wishes may change: each discussion adds a new revision and every earlier one is kept.",
    ),
    ("acp.new_revision", "話し合いの内容を記録", "Record a discussion"),
    ("acp.discussed_on", "話し合った日", "Discussed on"),
    ("acp.participants", "参加者", "Who took part"),
    ("acp.participants_hint", "例：本人、長女、主治医、訪問看護師", "e.g. patient, daughter, physician, nurse"),
    ("acp.place_of_care", "療養したい場所", "Preferred place of care"),
    ("acp.place_of_death", "最期を迎えたい場所", "Preferred place of death"),
    ("acp.treatment", "延命治療についての希望", "Wishes about life-sustaining treatment"),
    ("acp.proxy", "代わりに判断する人", "Proxy decision-maker"),
    ("acp.wishes", "本人の思い・大切にしていること", "In the patient's words: what matters"),
    ("acp.wishes_hint", "例：孫の結婚式までは家で過ごしたい", "e.g. to stay at home until the grandchild's wedding"),
    ("acp.save", "記録する", "Save"),
    ("acp.none", "まだ記録はありません。", "Nothing recorded yet."),
    ("acp.open", "人生会議を記録・履歴を見る", "Record or see the history"),
    ("acp.recorded", "記録者", "Recorded by"),
    ("print.title", "在宅療養記録", "Home care record"),
    ("print.link", "期間を指定して印刷", "Print a period"),
    ("print.period", "期間", "Period"),
    ("print.to", "終了日", "Until"),
    ("print.show", "表示", "Show"),
    (
        "print.truncated",
        "件数が多いため最初の2,000件のみ表示しています。期間を短くしてください。",
        "Only the first 2,000 entries are shown; choose a shorter period.",
    ),
    ("status.change", "療養の状況を変更", "Change where the patient is"),
    ("status.now", "現在の状況", "Now"),
    ("status.outcome", "終了の理由", "How care ended"),
    ("status.outcome_hint", "「終了」のときのみ", "only when ending"),
    ("status.outcome_date", "終了日", "Date"),
    ("field.discussed_on", "話し合った日", "Date of the discussion"),
    ("field.participants", "参加者", "Who took part"),
    ("field.place_of_care", "療養したい場所", "Preferred place of care"),
    ("field.place_of_death", "最期を迎えたい場所", "Preferred place of death"),
    ("field.treatment", "延命治療についての希望", "Treatment wishes"),
    ("field.wishes", "本人の思い", "Wishes"),
    ("field.status", "状況", "Status"),
    ("field.outcome", "終了の理由", "Outcome"),
    ("field.outcome_date", "終了日", "Date of outcome"),
    ("field.from", "開始日", "From"),
    ("field.to", "終了日", "Until"),
    (
        "error.outcome.required_when_ended",
        "「終了」にするときは終了の理由（在宅看取りなど）を選んでください。",
        "When ending care, choose how it ended (e.g. died at home).",
    ),
    ("error.to.before_from", "終了日は開始日より後にしてください。", "The end date must not be before the start."),
    ("vitals.temperature", "体温 (℃)", "Temp (°C)"),
    ("vitals.systolic", "血圧 上", "BP systolic"),
    ("vitals.diastolic", "血圧 下", "BP diastolic"),
    ("vitals.pulse", "脈拍 (/分)", "Pulse (/min)"),
    ("vitals.respiratory_rate", "呼吸数 (/分)", "Resp. (/min)"),
    ("vitals.weight", "体重 (kg)", "Weight (kg)"),
    ("vitals.glucose", "血糖 (mg/dL)", "Glucose (mg/dL)"),
    ("vitals.pain", "疼痛 (0-10)", "Pain (0-10)"),
    ("vitals.bowel", "排便 (回)", "Bowel (times)"),
    // Fields
    ("field.family_name", "姓", "Family name"),
    ("field.given_name", "名", "Given name"),
    ("field.family_name_kana", "せい（カナ）", "Family name (kana)"),
    ("field.given_name_kana", "めい（カナ）", "Given name (kana)"),
    ("field.birth_date", "生年月日", "Date of birth"),
    ("field.sex", "性別", "Sex"),
    ("field.daily_living_area", "日常生活圏域", "Daily living area"),
    ("field.key_person", "キーパーソン", "Key person"),
    ("field.key_person_phone", "キーパーソンの電話", "Key person's phone"),
    ("field.care_level", "要介護度", "Care level"),
    ("field.main_diagnoses", "主な病名", "Main diagnoses"),
    ("field.allergies", "アレルギー", "Allergies"),
    ("field.special_care", "特別な医療・ケア", "Special care"),
    ("field.team_role", "チームでの役割", "Role in the team"),
    ("field.team_role_mine", "あなたのチームでの役割", "Your role in the team"),
    ("field.given_on", "同意日", "Date of consent"),
    ("field.method", "同意の方法", "How consent was given"),
    ("field.proxy_relation", "続柄", "Relation"),
    ("field.scope", "共有の範囲", "Scope"),
    ("field.reason", "理由", "Reason"),
    ("field.body", "内容", "Text"),
    ("field.member", "メンバー", "Member"),
    ("field.temperature_c", "体温", "Temperature"),
    ("field.systolic", "血圧（上）", "Systolic pressure"),
    ("field.diastolic", "血圧（下）", "Diastolic pressure"),
    ("field.pulse", "脈拍", "Pulse"),
    ("field.spo2", "SpO2", "SpO2"),
    ("field.respiratory_rate", "呼吸数", "Respiratory rate"),
    ("field.weight_kg", "体重", "Weight"),
    ("field.blood_glucose", "血糖", "Blood glucose"),
    ("field.pain", "疼痛スケール", "Pain scale"),
    ("field.bowel_movements", "排便回数", "Bowel movements"),
    ("error.implausible", "ありえない値です。入力を確認してください", "is not a plausible value; please check it"),
    ("error.date", "日付の形式が正しくありません（例：1940-04-01）", "is not a valid date (e.g. 1940-04-01)"),
    ("error.kana_only", "カタカナまたはひらがなで入力してください", "must be written in kana"),
    ("error.in_future", "未来の日付は入力できません", "cannot be in the future"),
    (
        "error.diastolic.not_below_systolic",
        "血圧の下（拡張期）は上（収縮期）より低い値にしてください。",
        "The diastolic pressure must be lower than the systolic.",
    ),
    ("error.diastolic.both_pressures", "血圧は上と下の両方を入力してください。", "Enter both blood pressure values."),
    ("error.body.required", "内容を入力してください。", "Please write something."),
    (
        "error.body.vitals_empty",
        "バイタルを1つ以上入力するか、内容を書いてください。",
        "Enter at least one vital sign, or write something.",
    ),
    (
        "error.member.unknown_colleague",
        "そのログインIDの職員が見つかりません。候補から選んでください。",
        "No colleague with that login ID. Please choose from the list.",
    ),
    ("error.member.already_member", "すでにチームのメンバーです。", "Already a member of the team."),
    (
        "error.member.last_member",
        "最後のメンバーはチームから外れられません。先に別の方を追加してください。",
        "The last member cannot leave. Add someone else first.",
    ),
    ("error.kind.cannot_change", "記録の種類は訂正で変えられません。", "A correction cannot change the kind of entry."),
    ("error.kind.not_urgent", "急変の記録ではありません。", "This is not an urgent entry."),
    ("error.reply_to.unknown", "返信先の記録が見つかりません。", "The entry you are replying to was not found."),
    ("error.author.unknown", "記入者の指定が正しくありません。", "That author is not known."),
    // Fields
    ("field.municipality_code", "全国地方公共団体コード（6桁）", "Local government code (6 digits)"),
    ("field.name", "名称", "Name"),
    ("field.name_kana", "名称（カナ）", "Name (kana)"),
    ("field.kind", "種別", "Kind"),
    ("field.medical_institution_code", "医療機関コード", "Medical institution code"),
    ("field.care_provider_number", "介護保険事業所番号", "Care provider number"),
    ("field.postal_code", "郵便番号", "Postal code"),
    ("field.address", "所在地", "Address"),
    ("field.phone", "電話番号", "Phone"),
    ("field.latitude", "緯度", "Latitude"),
    ("field.longitude", "経度", "Longitude"),
    ("field.login_id", "ログインID", "Login ID"),
    ("field.display_name", "氏名", "Name"),
    ("field.display_name_kana", "氏名（カナ）", "Name (kana)"),
    ("field.email", "メールアドレス", "E-mail"),
    ("field.profession", "職種", "Profession"),
    ("field.roles", "役割", "Roles"),
    ("field.facility_id", "所属事業所", "Facility"),
    ("field.password", "パスワード", "Password"),
    ("field.code", "コード", "Code"),
    ("field.id", "ID", "ID"),
    ("field.language", "表示言語", "Language"),
    // Errors
    ("error.title", "エラー", "Error"),
    ("error.invalid", "入力内容を確認してください。", "Please check what you entered."),
    ("error.required", "入力してください", "is required"),
    ("error.too_long", "長すぎます", "is too long"),
    ("error.control_characters", "使えない文字が含まれています", "contains characters that cannot be used"),
    ("error.unknown", "選択肢から選んでください", "must be one of the choices"),
    ("error.format", "形式が正しくありません", "is not in the right format"),
    ("error.number", "数値で入力してください", "must be a number"),
    ("error.outside_japan", "日本国内の値ではありません", "is outside Japan"),
    (
        "error.municipality_code.six_digits",
        "全国地方公共団体コードは6桁の数字です（例：柏市 122173）。",
        "The local government code is 6 digits (e.g. Kashiwa 122173).",
    ),
    (
        "error.municipality_code.check_digit",
        "全国地方公共団体コードの検査数字（6桁目）が合いません。番号を確認してください。",
        "The check digit (6th digit) of the local government code does not match. Please check the number.",
    ),
    (
        "error.municipality_code.conflict",
        "この市区町村はすでに登録されています。",
        "This municipality is already registered.",
    ),
    (
        "error.medical_institution_code.check_digit",
        "医療機関コードの検証番号が合いません。番号を確認してください。",
        "The check digit of the medical institution code does not match.",
    ),
    (
        "error.medical_institution_code.length",
        "医療機関コードは7桁（または都道府県・点数表を含む10桁）です。",
        "The medical institution code has 7 digits (or 10 with prefecture and fee schedule).",
    ),
    (
        "error.medical_institution_code.digits",
        "医療機関コードは数字で入力してください。",
        "The medical institution code must be digits.",
    ),
    (
        "error.medical_institution_code.not_for_kind",
        "この種別の事業所には医療機関コードを入力できません。",
        "This kind of facility has no medical institution code.",
    ),
    (
        "error.care_provider_number.ten_digits",
        "介護保険事業所番号は10桁の数字です。",
        "The care provider number has 10 digits.",
    ),
    (
        "error.facility_code.conflict",
        "同じ医療機関コードまたは事業所番号の事業所がすでに登録されています。",
        "A facility with the same code is already registered.",
    ),
    ("error.postal_code.seven_digits", "郵便番号は7桁です。", "The postal code has 7 digits."),
    (
        "error.phone.format",
        "電話番号は0から始まる10〜11桁で入力してください。",
        "Enter a phone number of 10 or 11 digits starting with 0.",
    ),
    ("error.login_id.length", "ログインIDは3〜32文字です。", "The login ID has 3 to 32 characters."),
    (
        "error.login_id.characters",
        "ログインIDに使えるのは半角英小文字・数字と . _ - です。",
        "A login ID may use a-z, 0-9, '.', '_' and '-'.",
    ),
    (
        "error.login_id.conflict",
        "このログインIDはすでに使われています。別のIDにしてください。",
        "This login ID is already taken. Please choose another.",
    ),
    ("error.email.format", "メールアドレスの形式が正しくありません。", "The e-mail address is not valid."),
    (
        "error.password.too_short",
        "パスワードは10文字以上にしてください。",
        "The password needs at least 10 characters.",
    ),
    (
        "error.password.too_long",
        "パスワードは128文字以内にしてください。",
        "The password can have at most 128 characters.",
    ),
    (
        "error.password.contains_login_id",
        "パスワードにログインIDを含めないでください。",
        "The password must not contain your login ID.",
    ),
    (
        "error.password.too_common",
        "推測されやすいパスワードです。別のものにしてください。",
        "This password is too easy to guess. Please choose another.",
    ),
    ("error.password.mismatch", "確認用のパスワードが一致しません。", "The two passwords do not match."),
    ("error.current_password.wrong", "現在のパスワードが正しくありません。", "The current password is not correct."),
    (
        "error.code.wrong_code",
        "コードが正しくありません。アプリの最新のコードを入力してください。",
        "That code is not correct. Enter the latest code from the app.",
    ),
    (
        "error.code.invalid_or_expired",
        "ログインIDと招待コードの組み合わせが正しくないか、有効期限が切れています。",
        "The login ID and code do not match, or the code has expired.",
    ),
    (
        "error.facility_id.required_for_facility_admin",
        "事業所管理者には所属事業所が必要です。",
        "A facility admin needs a facility.",
    ),
    ("error.language.unknown", "表示言語を選んでください。", "Please choose a language."),
    (
        "error.form.malformed",
        "送信内容を読み取れませんでした。画面を読み込み直して、もう一度入力してください。",
        "The form could not be read. Please reload the page and try again.",
    ),
    ("error.not_found", "見つかりません。", "Not found."),
    ("error.forbidden", "この操作を行う権限がありません。", "You do not have permission to do this."),
    (
        "error.csrf",
        "画面の有効期限が切れました。もう一度操作してください。",
        "This page has expired. Please try again.",
    ),
    (
        "error.internal",
        "システムエラーが発生しました。時間をおいてもう一度お試しください。",
        "Something went wrong. Please try again later.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_complete() {
        assert_eq!(CATALOG.len(), ENTRIES.len(), "a key is listed twice");
        for (key, ja, en) in ENTRIES {
            assert!(!ja.is_empty() && !en.is_empty(), "{key}");
        }
    }

    #[test]
    fn errors_prefer_the_specific_message() {
        let ja = Tr { lang: Lang::Ja };
        assert!(ja.error("municipality_code", "check_digit").contains("検査数字"));
        assert_eq!(ja.error("name", "required"), "名称: 入力してください");
        let en = Tr { lang: Lang::En };
        assert_eq!(en.error("name", "required"), "Name: is required");
        assert_eq!(en.error("mystery", "mystery"), "Please check what you entered.");
    }
}
