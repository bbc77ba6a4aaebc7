//! Interface text, Japanese first, English second. Keys are stable; error
//! messages are looked up by the domain's stable error codes.

mod coordination;

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

    /// The `n`th version of an entry: 第2版, "Version 2".
    pub fn version(&self, n: impl std::fmt::Display) -> String {
        match self.lang {
            Lang::Ja => format!("第{n}版"),
            Lang::En => format!("Version {n}"),
        }
    }

    /// A consultation topic: the municipality's own name, or tsunagu's in English.
    pub fn topic(&self, t: &tsunagu_domain::coordination::TopicDef) -> String {
        match (self.lang, t.label_en()) {
            (Lang::En, Some(en)) => en.to_owned(),
            _ => t.label.clone(),
        }
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

static CATALOG: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> = LazyLock::new(|| {
    ENTRIES
        .iter()
        .chain(BACKUP_ENTRIES)
        .chain(PUBLIC_ENTRIES)
        .chain(PAGES_ENTRIES)
        .chain(INTEROP_ENTRIES)
        .chain(coordination::ENTRIES)
        .map(|(k, ja, en)| (*k, (*ja, *en)))
        .collect()
});

/// The backup system's text (groups, rosters, absences, urgent requests).
const BACKUP_ENTRIES: &[(&str, &str, &str)] = &[
    ("backup.link", "バックアップ体制（当番表・不在・病床）", "Backup system (rosters, absences, beds)"),
    ("backup.title", "主治医・副主治医のバックアップ体制", "Primary/backup physician system"),
    (
        "backup.help",
        "医師グループで夜間・休日の当番を分担し、急変時は病院がバックアップします。",
        "Physician groups share nights and holidays; hospitals back up admission when a patient at home gets worse.",
    ),
    ("backup.clinics_in_groups", "グループに参加している診療所", "Clinics in groups"),
    ("backup.physicians_in_groups", "医師", "Physicians"),
    ("backup.groups", "医師グループ", "Physician groups"),
    ("backup.no_groups", "まだグループがありません。", "No groups yet."),
    ("backup.members", "メンバー", "Members"),
    ("backup.coordinator", "世話人", "Coordinator"),
    ("backup.new_group", "グループを作る", "Create a group"),
    ("backup.group_name", "グループ名", "Group name"),
    ("backup.area", "地域（圏域）", "Area"),
    ("backup.login_hint", "ログインIDまたは名前で検索", "search by login ID or name"),
    ("backup.create", "作成する", "Create"),
    ("backup.no_members", "メンバーがいません。", "No members yet."),
    ("backup.add_member", "医師を追加", "Add a physician"),
    ("backup.on_call_phone", "当番時の連絡先（携帯）", "On-call phone"),
    ("roster.title", "当番表", "On-call roster"),
    ("roster.holes_30", "30日以内の空き", "Holes in the next 30 days"),
    ("roster.complete_30", "30日先まで当番あり", "Covered for 30 days"),
    ("roster.ok", "空き・重複なし", "No holes or conflicts"),
    ("roster.holes", "空き", "Holes"),
    ("roster.conflicts", "不在と重なる", "Conflicts"),
    ("roster.date", "日付", "Date"),
    ("roster.slot", "時間帯", "Slot"),
    ("roster.physician", "医師", "Physician"),
    ("roster.hole", "当番なし", "Nobody on call"),
    ("roster.absent", "不在予定と重なっています", "Physician is away"),
    ("roster.not_in_group", "グループ外の医師です", "Not in the group"),
    ("roster.save", "当番表を保存", "Save the roster"),
    ("roster.fill", "空きを自動で割り振る", "Fill the holes in turn"),
    ("load.primary", "主治医", "Primary"),
    ("load.backup", "副主治医", "Backup"),
    ("load.shifts", "当番（今月）", "Shifts (month)"),
    ("coverage.title", "今後30日の対応の空白", "Gaps in the next 30 days"),
    (
        "coverage.help",
        "主治医・副主治医がどちらも不在で、当番医もいない時間です。当番を入れるか、医師を増やしてください。",
        "Times when both the primary and the backup physician are away and nobody is on call. Add a shift or recruit.",
    ),
    ("coverage.none", "空白はありません", "No gaps"),
    ("absence.link", "自分の不在予定", "My absences"),
    ("absence.title", "不在予定（学会・休暇・夜間不在）", "Absences"),
    (
        "absence.help",
        "不在の間は、患者さんの「今の連絡先」にあなたの名前は出ず、副主治医や当番医が案内されます。",
        "While you are away, patients' \"who answers now\" skips you and names the backup or on-call physician.",
    ),
    ("absence.starts_at", "開始", "From"),
    ("absence.ends_at", "終了", "Until"),
    ("absence.reason", "理由", "Reason"),
    ("absence.note", "メモ", "Note"),
    ("absence.record", "不在を登録", "Record the absence"),
    ("absence.record_for_member", "メンバーの不在を登録", "Record a member's absence"),
    ("absence.upcoming", "これからの不在", "Upcoming absences"),
    ("absence.of_members", "メンバーの不在予定", "Members' absences"),
    ("absence.none", "不在予定はありません。", "No absences."),
    ("absence.cancel", "取り消す", "Cancel"),
    ("absence.cancelled", "取り消し済み", "cancelled"),
    ("beds.title", "バックアップ病院と空床", "Backup hospitals and beds"),
    (
        "beds.help",
        "病院の地域連携室が、受け入れ可能な病床数を随時更新してください。急変時の依頼は空床の多い病院から順に届きます。",
        "Hospital liaison staff keep the free backup beds current; requests reach hospitals with more free beds first.",
    ),
    ("beds.free", "空床", "Free beds"),
    ("beds.not_participating", "未参加", "Not taking part"),
    ("beds.confirmed", "更新", "updated"),
    ("beds.participates", "バックアップに参加", "Takes part"),
    ("beds.count", "受け入れ可能な病床数", "Free backup beds"),
    ("beds.note_hint", "メモ（例：小児不可）", "Note"),
    ("beds.none", "病院が登録されていません。", "No hospitals registered."),
    ("chain.title", "今の連絡先", "Who answers now"),
    ("chain.call", "電話", "Call"),
    ("chain.until", "戻り", "back at"),
    (
        "chain.no_physician",
        "いま対応できる医師がいません。バックアップ病院へ連絡してください。",
        "No physician is available now. Call a backup hospital.",
    ),
    ("chain.empty", "主治医・副主治医がチームに登録されていません。", "No primary or backup physician in the team."),
    ("chain.backup_hospital", "バックアップ病院（退院元など）", "Backup hospital"),
    ("chain.backup_hospital_help", "急変時に最初に依頼する病院", "The hospital asked first"),
    ("urgent.raise", "急変時の依頼（往診・入院）", "Urgent request (visit or admission)"),
    ("urgent.kind", "依頼の種類", "Request"),
    ("urgent.note", "状況", "Situation"),
    ("urgent.note_hint", "例：SpO2 88%、呼吸苦あり。往診をお願いします。", "e.g. SpO2 88%, short of breath"),
    ("urgent.send", "依頼を送る", "Send the request"),
    (
        "urgent.raised",
        "依頼を送りました。応答がなければ自動で次の連絡先へ回ります。",
        "Request sent. Without an answer it moves on to the next responder by itself.",
    ),
    ("urgent.waiting", "あなた宛ての急変時の依頼", "Urgent requests waiting for you"),
    ("urgent.called_as", "依頼先", "Called as"),
    (
        "urgent.unanswered_alarm",
        "応答なし：誰も応答していない急変時の依頼があります",
        "Nobody answered: an urgent request has no response",
    ),
    (
        "urgent.unanswered_help",
        "連絡先の順番を最後まで呼び出しましたが、応答がありません。直接電話するか、依頼を開いてバックアップ病院へ依頼してください。",
        "Every responder in the chain was called without an answer. Call directly, or open the request and ask the backup hospitals.",
    ),
    ("urgent.team_requests", "担当患者さんの急変時の依頼", "Urgent requests for your patients"),
    ("urgent.mine", "あなたの依頼", "your request"),
    ("urgent.taken_by", "対応:", "Taken by"),
    ("urgent.nobody_yet", "まだ誰も応答していません", "Nobody has responded yet"),
    ("urgent.patient", "患者", "Patient"),
    ("urgent.open_record", "記録を開く", "Open the record"),
    ("urgent.acknowledged_by", "対応する医師", "Physician on it"),
    ("urgent.accepted_by", "受け入れ病院", "Admitting hospital"),
    ("urgent.outcome", "転帰", "Outcome"),
    ("urgent.outcome_note", "メモ", "Note"),
    ("urgent.acknowledge", "対応します", "I'll take it"),
    ("urgent.hospital_answer", "入院の受け入れ", "Admission"),
    ("urgent.reason", "理由・連絡事項", "Reason or message"),
    ("urgent.reason_hint", "受け入れ不可のときは必須", "required when declining"),
    ("urgent.accept", "受け入れる", "Accept"),
    ("urgent.decline", "受け入れできない", "Decline"),
    ("urgent.steps", "連絡の経過", "Steps"),
    (
        "urgent.end_of_chain",
        "応答がなければ「応答なし」としてチームに知らせます",
        "If nobody answers, the team is told",
    ),
    ("urgent.called_at", "連絡", "Called"),
    ("urgent.due_at", "予定", "Due"),
    ("urgent.ask_hospitals", "いますぐバックアップ病院へ依頼", "Ask the backup hospitals now"),
    ("urgent.close", "転帰を記録して終了", "Record the outcome and close"),
    ("notify.urgent_request", "さんから急変時の依頼があります", " sent an urgent request"),
    ("notify.urgent_unanswered", "さんの急変時の依頼に誰も応答していません", "'s urgent request went unanswered"),
    ("notify.urgent_acknowledged", "さんの依頼に医師が応答しました", "'s request was taken by a physician"),
    ("notify.urgent_accepted", "さんの依頼を病院が受け入れました", "'s request was accepted by a hospital"),
    ("notify.urgent_declined", "さんの依頼を病院が受け入れできませんでした", "'s request was declined by a hospital"),
    ("webhook.title", "外部連携（Webhook）の配信記録", "Webhook deliveries"),
    ("webhook.delivered", "配信済み", "Delivered"),
    ("webhook.pending", "未配信", "Pending"),
    ("webhook.attempts", "試行", "attempts"),
    ("field.starts_at", "開始", "From"),
    ("field.ends_at", "終了", "Until"),
    ("field.month", "月", "Month"),
    ("field.beds_available", "病床数", "Beds"),
    ("field.situation", "状況", "Situation"),
    ("field.area", "地域", "Area"),
    ("error.ends_at.before_start", "終了は開始より後にしてください。", "The end must be after the start."),
    ("error.ends_at.too_long", "一度に登録できる不在は92日までです。", "One absence can be at most 92 days."),
    ("error.starts_at.format", "開始の日時を入力してください。", "Enter when it starts."),
    ("error.ends_at.format", "終了の日時を入力してください。", "Enter when it ends."),
    ("error.month.format", "月は 2026-12 の形で指定してください。", "Give the month as 2026-12."),
    ("error.month.out_of_range", "その月の当番表は作れません。", "No roster can be made for that month."),
    ("error.absence_reason.unknown", "理由を選んでください。", "Choose a reason."),
    (
        "error.decline_reason.required",
        "受け入れできない理由を入力してください。",
        "Please give the reason for declining.",
    ),
    ("error.beds_available.number", "病床数は数字で入力してください。", "Enter the number of beds."),
    ("error.beds_available.range", "病床数は0〜500で入力してください。", "Beds must be between 0 and 500."),
    ("error.login_id.not_a_physician", "医師のアカウントではありません。", "That account is not a physician's."),
    ("error.login_id.unknown", "そのIDの方が見つかりません。", "No one with that ID was found."),
    ("error.coordinator.unknown", "世話人のIDが見つかりません。", "The coordinator's ID was not found."),
    ("error.physician.not_in_group", "グループのメンバー以外は当番にできません。", "Only members can be on call."),
    ("error.physician.unknown", "その医師が見つかりません。", "That physician was not found."),
    ("error.slot.unknown", "当番表の枠が正しくありません。再読み込みしてください。", "Unknown slot; please reload."),
    ("error.request.not_open", "この依頼はすでに対応済みです。", "This request has already been handled."),
    ("error.request.not_waiting", "あなたの病院への依頼はありません。", "Nothing is waiting for your hospital."),
    (
        "error.hospital.none_taking_part",
        "バックアップに参加している病院がありません。",
        "No hospital takes part in backup.",
    ),
    ("error.hospital.unknown", "その病院が見つかりません。", "That hospital was not found."),
    ("error.facility.not_a_hospital", "病院ではありません。", "That facility is not a hospital."),
    ("error.request_kind.unknown", "依頼の種類を選んでください。", "Choose a kind of request."),
    ("error.outcome.unknown", "転帰を選んでください。", "Choose an outcome."),
    ("error.situation.required", "状況を入力してください。", "Please describe the situation."),
    ("error.situation.too_long", "状況は1000文字までです。", "At most 1000 characters."),
    ("error.answer.unknown", "受け入れるかどうかを選んでください。", "Choose accept or decline."),
    // The registry: imports and facility profiles.
    ("import.title", "公開データの取り込み", "Import open data"),
    (
        "import.help",
        "介護サービス情報公表システム・医療情報ネットのCSV、厚生局の届出受理医療機関名簿（.xlsx/.csv）を取り込みます。まず内容を確認し、問題がなければ反映してください。同じファイルを何度取り込んでも重複しません。",
        "Import the care-service and medical-facility open data and the regional health bureau's notification list. Check the preview, then apply; importing the same file again never duplicates.",
    ),
    ("import.source", "ファイルの種類", "Kind of file"),
    ("import.file", "ファイル（CSV・Excel）", "File (CSV or Excel)"),
    ("import.preview_button", "内容を確認する", "Preview"),
    ("import.preview", "確認（まだ反映していません）", "Preview (nothing changed yet)"),
    ("import.applied", "反映しました", "Applied"),
    ("import.apply", "この内容で反映する", "Apply"),
    ("import.refused", "取り込めません", "Cannot be imported"),
    ("import.added", "追加", "Added"),
    ("import.updated", "更新", "Updated"),
    ("import.unchanged", "変更なし", "Unchanged"),
    ("import.closed", "廃止・掲載終了", "Closed"),
    ("import.rejected", "取り込めない行", "Rejected"),
    ("import.elsewhere", "他の市区町村の行", "Other municipalities"),
    ("import.rejected_rows", "取り込めなかった行と理由", "Rejected rows and why"),
    ("import.line", "行", "Line"),
    ("import.runs", "これまでの取り込み", "Earlier imports"),
    ("import.no_runs", "まだ取り込みはありません。", "No imports yet."),
    ("registry.title", "資源情報（公開される情報）", "Registry (public information)"),
    ("registry.closed", "廃止・掲載終了", "Closed"),
    ("registry.since", "から", "from"),
    ("registry.services", "対応できること", "Services"),
    ("registry.accepting", "新規の受け入れ", "New patients"),
    ("registry.confirmed", "時点", "as of"),
    ("registry.hours", "受付時間", "Opening hours"),
    ("registry.hours_hint", "例：月〜金 9:00〜18:00（夜間は電話で対応）", "e.g. Mon–Fri 9:00–18:00"),
    ("registry.contact", "担当者", "Contact person"),
    ("registry.languages", "対応言語", "Languages"),
    ("registry.note", "備考", "Note"),
    ("registry.not_said", "未回答", "Not said"),
    ("registry.edit_profile", "公開情報を更新する", "Update the public information"),
    ("registry.history", "変更履歴", "History"),
    ("field.services", "対応できること", "Services"),
    ("field.accepting", "新規の受け入れ", "New patients"),
    ("field.opening_hours", "受付時間", "Opening hours"),
    ("field.contact_person", "担当者", "Contact person"),
    ("field.languages", "対応言語", "Languages"),
    ("field.file", "ファイル", "File"),
    ("field.source", "ファイルの種類", "Kind of file"),
    ("error.file.required", "ファイルを選んでください。", "Choose a file."),
    ("error.file.too_large", "ファイルが大きすぎます（64MBまで）。", "The file is too large (64 MB at most)."),
    ("error.source.unknown", "ファイルの種類を選んでください。", "Choose the kind of file."),
    ("error.services.unknown", "対応できることは一覧から選んでください。", "Choose services from the list."),
    ("error.accepting.unknown", "新規の受け入れは一覧から選んでください。", "Choose from the list."),
    ("public.accepting_only", "新規の利用者・患者を受け入れ中の事業所だけ", "Only those accepting new patients now"),
    ("error.service.unknown", "対応できることは一覧から選んでください。", "Choose a service from the list."),
];

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
    (
        "draft.restored",
        "送信前の書きかけを、この端末から戻しました。内容を確かめて投稿してください。",
        "Your unsent text was restored from this device. Check it and post.",
    ),
    (
        "draft.kept",
        "書きかけの記録はこの端末に残っています。サインインすると元のページに戻ります。",
        "Your unsent text is kept on this device. Sign in to go back to where you were.",
    ),
    (
        "draft.files_again",
        "添付ファイルは戻せないため、もう一度選んでください。",
        "Attached files cannot be kept: please choose them again.",
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
    (
        "admin.not_yours",
        "この方の主な所属先は他の事業所です。ID再発行・停止はその事業所の管理者か市区町村が行います。",
        "This person's main practice is another facility: its admin or the municipality reissues or stops the ID.",
    ),
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
    ("patients.without_primary", "主治医が未登録", "No primary physician"),
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
    ("team.confirm_primary_title", "主治医をチームから外しますか？", "Remove the primary physician from the team?"),
    (
        "team.confirm_primary_body",
        "外すと、この患者さんの主治医がいなくなります。急変時の連絡先から主治医が外れ、チーム全員のホームに「主治医が未登録」と表示されます。新しい主治医をチームに加えてください。",
        "The patient will have no primary physician: they leave the emergency contacts, and every member's home shows \"No primary physician\" until a new one joins the team.",
    ),
    ("team.confirm_remove", "外す", "Remove"),
    ("team.keep", "やめる（外さない）", "Cancel (keep them)"),
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
    ("entry.emergency", "緊急アクセスで記録", "Posted under emergency access"),
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
    ("entry.acknowledge", "確認しました（対応します）", "Acknowledge"),
    ("entry.acknowledged", "確認済み", "Acknowledged"),
    ("entry.physician_responding", "医師が対応", "A physician is responding"),
    ("entry.waiting_for_physician", "医師の応答待ち", "Waiting for a physician"),
    ("urgent.requester", "依頼した人", "Raised by"),
    ("urgent.call_back", "電話する", "Call"),
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
    ("error.from.out_of_range", "開始日が範囲外です。", "The start date is out of range."),
    ("error.to.out_of_range", "終了日が範囲外です。", "The end date is out of range."),
    ("error.starts_at.out_of_range", "開始日時が範囲外です。", "The start is out of range."),
    ("error.ends_at.out_of_range", "終了日時が範囲外です。", "The end is out of range."),
    ("error.date.out_of_range", "その日付は入力できません。", "That date cannot be entered."),
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
        "error.team_role.does_not_fit",
        "この役割はその方の職種に合いません（主治医・副主治医は医師のみ、各職の役割はその職種の方のみ）。",
        "This role does not fit the person's profession (physician roles are for physicians only).",
    ),
    (
        "error.member.confirm_primary_physician",
        "主治医を外すときは、確認のうえもう一度操作してください。",
        "To remove the primary physician, confirm it and try again.",
    ),
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

/// The public resource map's text (no sign-in: citizens and professionals).
const PUBLIC_ENTRIES: &[(&str, &str, &str)] = &[
    ("public.title", "在宅医療・介護の資源マップ", "Home care resource map"),
    (
        "public.intro",
        "訪問診療をする診療所、訪問看護ステーション、ケアマネジャーの事業所、薬局など、自宅での療養を支える施設を探せます。",
        "Find the clinics that visit patients at home, home nursing stations, care managers, pharmacies and others who support care at home.",
    ),
    ("public.search", "条件で探す", "Search"),
    ("public.kind_any", "すべての種別", "All kinds"),
    ("public.flag", "在宅医療の届出", "Home-care notification"),
    ("public.flag_any", "指定しない", "Any"),
    ("public.area", "地域（町名など）", "Area (town name)"),
    ("public.area_hint", "例：豊四季台", "e.g. 豊四季台"),
    ("public.name", "名称・よみがな", "Name or reading"),
    ("public.near", "地点の近くから探す", "Near a point"),
    (
        "public.near_help",
        "「現在地の近くを探す」を押すか地図をタップすると、近い順に並びます。緯度・経度を入力することもできます。",
        "Press “Near my location” or tap the map to sort by distance. You can also type a latitude and longitude.",
    ),
    ("public.locate", "現在地の近くを探す", "Near my location"),
    ("public.locating", "現在地を確かめています…", "Finding your location…"),
    (
        "public.locate_failed",
        "現在地がわかりませんでした。地図をタップして地点を選んでください。",
        "Your location could not be found. Tap the map to choose a point.",
    ),
    ("public.search_here", "この地点の近くを探す", "Search near this point"),
    ("public.submit", "検索する", "Search"),
    ("public.clear", "条件をクリア", "Clear the search"),
    ("public.map", "地図", "Map"),
    ("public.map_label", "施設の地図", "Map of the facilities"),
    ("public.skip_map", "地図をとばして一覧へ", "Skip the map to the list"),
    ("public.map_loading", "地図を読み込んでいます…", "Loading the map…"),
    (
        "public.map_failed",
        "地図の情報を読み込めませんでした。一覧をご覧ください。",
        "The map could not be loaded. Please use the list.",
    ),
    ("public.results", "検索結果", "Results"),
    ("public.count", "件", " facilities"),
    ("public.by_distance", "近い順", "nearest first"),
    (
        "public.unlocated",
        "近い順では、位置情報（緯度・経度）が登録されていない施設は表示されません。",
        "Sorted by distance, facilities without a recorded location are not shown.",
    ),
    (
        "public.none",
        "条件に合う施設はありません。条件を変えてお試しください。",
        "No facility matches. Please try other conditions.",
    ),
    ("public.distance", "ここから約", "About"),
    ("public.page", "ページ", "Page"),
    ("public.previous", "前のページ", "Previous page"),
    ("public.next", "次のページ", "Next page"),
    ("public.pages", "ページ移動", "Pages"),
    ("public.print", "印刷用の一覧（A4・地域別）", "Printable list (A4, by area)"),
    ("public.print_title", "在宅医療・介護の資源一覧", "Home care resources"),
    ("public.print_conditions", "条件", "Conditions"),
    ("public.print_all", "すべての施設", "All facilities"),
    (
        "public.print_truncated",
        "件数が多いため先頭の2,000件だけを載せています。条件で絞り込んでください。",
        "Only the first 2,000 are listed: please narrow the search.",
    ),
    ("public.area_other", "その他の地域", "Other areas"),
    ("public.back_to_map", "地図と一覧にもどる", "Back to the map and list"),
    ("public.fax", "FAX", "Fax"),
    ("public.service", "サービス", "Service"),
    ("public.since", "算定開始", "Since"),
    ("public.other_flags", "その他の届出", "Other notifications"),
    ("public.no_location", "この施設の位置情報はありません。", "This facility has no location on the map."),
    ("public.here", "選んだ地点", "The point you chose"),
    ("public.call", "電話", "Phone"),
    (
        "public.source",
        "国の公開データ（介護サービス情報公表システム、医療情報ネット、地方厚生局の届出受理医療機関名簿）などをもとに作成しています。受け入れ状況などは各施設にお問い合わせください。",
        "Made from the national open data (the long-term care service information system, the medical information net, the regional health bureaus' lists of notifications) and others. Please ask each facility whether it can take you on.",
    ),
    ("field.flag", "在宅医療の届出", "Home-care notification"),
    ("field.page", "ページ", "Page"),
    ("field.limit", "件数", "Number of results"),
    ("error.out_of_range", "範囲外の値です", "is out of range"),
];

/// The public pages (item キ) and the staff pages that write them.
const PAGES_ENTRIES: &[(&str, &str, &str)] = &[
    ("pages.title", "在宅医療・介護のご案内", "Home medical and long-term care"),
    (
        "pages.intro",
        "住み慣れた家で、医療や介護を受けながら暮らすことができます。市内の診療所・訪問看護ステーションなどの探し方、市からのお知らせ、講座や相談会のご案内です。",
        "You can live at home while receiving medical and long-term care. Find clinics and home nursing stations, read the city's news, and join its talks and consultations.",
    ),
    ("pages.links", "このページの内容", "On this site"),
    ("pages.find_facilities", "近くの診療所・訪問看護などを探す", "Find clinics and nursing stations near you"),
    ("pages.articles", "お知らせ・記事", "News and articles"),
    ("pages.all_articles", "お知らせ・記事の一覧へ", "All news and articles"),
    ("pages.events", "講座・相談会などの催し", "Talks and consultations"),
    ("pages.news", "新着のお知らせ", "Latest news"),
    ("pages.no_articles", "現在、お知らせはありません。", "No news at the moment."),
    ("pages.upcoming", "これからの催し", "Coming events"),
    ("pages.past", "終了した催し", "Past events"),
    ("pages.no_events", "現在、予定している催しはありません。", "No events planned at the moment."),
    ("pages.cancelled", "中止", "Cancelled"),
    ("pages.place", "場所", "Place"),
    ("pages.published", "掲載日", "Published"),
    ("pages.updated", "更新日", "Updated"),
    ("pages.figures", "数字で見る在宅医療", "Home care in figures"),
    ("pages.no_figures", "まだ数値がありません。", "No figures yet."),
    (
        "pages.figures_caption",
        "在宅医療を支える施設の数と、在宅での看取りの数",
        "Facilities supporting home care, and deaths at home",
    ),
    ("pages.period", "時点・年度", "When"),
    (
        "pages.figures_when",
        "施設の数は各年度の4月1日時点、在宅看取りは年度（4月〜翌年3月）の件数です。",
        "Facilities are counted on April 1st of each fiscal year; deaths at home over the fiscal year (April to March).",
    ),
    ("pages.figures_entered", "＊ 市の統計による数値です。", "* From the city's statistics."),
    (
        "pages.figures_partial",
        "† 年度の途中まで、またはこのシステムの利用開始後の分だけを数えた数値です。",
        "† Counted for part of the year only (the year is under way, or the system started during it).",
    ),
    (
        "pages.figures_small",
        "在宅看取りの数が少ないときは、ご本人やご家族が特定されないよう「5未満」と表示します。",
        "Small numbers of deaths at home are shown as \"fewer than 5\" so that nobody can be identified.",
    ),
    ("pages.figures_sources", "市の統計の出典", "Sources of the city's figures"),
    ("pages.admin_title", "市民向けページの編集", "Public pages"),
    (
        "pages.admin_intro",
        "お知らせ・催し・数値を市民向けページに掲載します。公開ページ:",
        "Publish news, events and figures on the citizens' pages. Public page:",
    ),
    ("pages.state_published", "公開中", "Published"),
    ("pages.state_draft", "下書き", "Draft"),
    ("pages.new_article", "お知らせ・記事を書く", "Write an article"),
    ("pages.edit_article", "お知らせ・記事の編集", "Edit the article"),
    ("pages.article_title", "題名", "Title"),
    ("pages.body", "本文", "Text"),
    (
        "pages.markdown_help",
        "見出しは「# 見出し」、箇条書きは「- 項目」、リンクは「[文字](https://...)」と書けます（Markdown）。HTMLのタグはそのまま文字として表示されます。",
        "Write headings as \"# Heading\", lists as \"- item\", links as \"[text](https://...)\" (Markdown). HTML tags are shown as text.",
    ),
    ("pages.publish", "公開する（チェックしないと下書きとして保存）", "Publish (unchecked: saved as a draft)"),
    ("pages.public_at", "公開ページ:", "Public page:"),
    ("pages.preview", "表示の確認", "Preview"),
    ("pages.save", "保存する", "Save"),
    ("pages.new_event", "催しを登録する", "Announce an event"),
    ("pages.edit_event", "催しの編集", "Edit the event"),
    ("pages.event_title", "催しの名前", "Name of the event"),
    ("pages.date", "日付", "Date"),
    ("pages.starts", "開始", "Starts"),
    ("pages.ends", "終了（任意）", "Ends (optional)"),
    ("pages.description", "内容・申込方法など（任意）", "What, and how to apply (optional)"),
    ("pages.cancel_event", "この催しを中止にする", "Cancel this event"),
    ("pages.reinstate", "中止を取り消す", "Reinstate the event"),
    ("pages.cancelled_note", "この催しは中止として公開されています。", "This event is shown as cancelled."),
    ("pages.enter_figure", "市の統計の数値を入力", "Enter a figure from the city's statistics"),
    (
        "pages.enter_figure_help",
        "このシステムのデータがない年度の数値を入力します。システムのデータがある年度は、そちらが表示されます。",
        "For years the system's own data does not cover; where it does, the system's figure is shown.",
    ),
    ("pages.metric", "項目", "Figure"),
    ("pages.year", "年度", "Fiscal year"),
    ("pages.value", "数値", "Value"),
    ("pages.note", "出典（任意）", "Source (optional)"),
    ("pages.note_hint", "例: 人口動態統計", "e.g. vital statistics"),
    ("pages.entered", "入力済みの数値", "Entered figures"),
    ("pages.remove", "取り消す", "Remove"),
    ("field.title", "題名", "Title"),
    ("field.place", "場所", "Place"),
    ("field.description", "内容", "Description"),
    ("field.metric", "項目", "Figure"),
    ("field.year", "年度", "Fiscal year"),
    ("field.value", "数値", "Value"),
    ("field.note", "出典", "Source"),
    ("field.starts", "開始", "Start"),
    ("field.ends", "終了", "End"),
    (
        "error.year.fiscal_year",
        "年度は 2024 や 令和6 のように入力してください。",
        "Give the fiscal year as 2024 or 令和6.",
    ),
    ("error.year.out_of_range", "その年度は入力できません。", "That fiscal year cannot be entered."),
    ("error.starts.time", "開始の時刻は 13:30 のように入力してください。", "Give the start time as 13:30."),
    ("error.ends.time", "終了の時刻は 15:00 のように入力してください。", "Give the end time as 15:00."),
    ("error.ends.before_start", "終了は開始より後の時刻にしてください。", "The end must be after the start."),
    ("error.date.date", "日付を 2026-12-12 のように入力してください。", "Give the date as 2026-12-12."),
];

/// API tokens (FHIR and device links) on the account page.
const INTEROP_ENTRIES: &[(&str, &str, &str)] = &[
    ("public.csv", "一覧をCSVでダウンロード", "Download the list (CSV)"),
    ("export.link", "転院・転居用に書き出す（FHIR）", "Export for a transfer (FHIR)"),
    ("api_token.title", "APIトークン（電子カルテ・機器との連携）", "API tokens (EHR and device links)"),
    (
        "api_token.help",
        "電子カルテやバイタル測定機器を、あなたの権限の範囲で tsunagu につなぐためのトークンです（FHIR API）。できることは選んだ範囲だけで、使われた記録は監査ログにトークン名つきで残ります。",
        "A token lets an EHR or a measuring device reach tsunagu's FHIR API with your access rights, limited to what you choose. Everything it does is in the audit log under its name.",
    ),
    ("api_token.name", "名前（どこで使うか）", "Name (where it is used)"),
    ("api_token.name_hint", "例: 〇〇クリニック電子カルテ", "e.g. Clinic EHR"),
    ("api_token.scopes", "許可すること", "What it may do"),
    ("api_token.scope.patient", "担当患者の基本情報を読む", "Read your patients' details"),
    ("analysis.title", "分析用データの書き出し", "Data for analysis"),
    (
        "analysis.intro",
        "在宅医療・介護の実態を分析するための、個人を特定しない一覧表（CSV）を書き出します。書き出しのたびに監査ログに記録されます。",
        "Download a table (CSV) of the home-care programme for analysis, without anything that identifies a person. Every download is recorded in the audit log.",
    ),
    ("analysis.holds_title", "含まれるもの", "What it holds"),
    (
        "analysis.holds",
        "同意が有効な（または有効なまま療養を終えた）患者さん一人につき一行：年齢区分（5歳刻み）、性別、要介護度、日常生活圏域、特別な医療・ケア、状態、転帰とその年月、登録・同意の年月、療養月数、ケアチームの職種、記録の件数（種類別）、急変時の依頼件数とうち入院、人生会議で希望する最期の場所。行の順番は毎回ばらばらです。",
        "One row per patient whose consent is in force (or was when care ended): age band (5 years), sex, care level, daily living area, special care, status, outcome and its month, months of registration and consent, months in care, the team's professions, entries by kind, urgent requests and admissions, and the place of death wished in the advance care plan. Rows come in a new random order each time.",
    ),
    ("analysis.leaves_out_title", "含まれないもの", "What it leaves out"),
    (
        "analysis.leaves_out",
        "氏名・ふりがな、生年月日、住所、電話番号、キーパーソン、病名、アレルギー、記録の本文など、自由記述はすべて含みません。日付は年月までです。",
        "Names and kana, birth dates, addresses, phone numbers, key persons, diagnoses, allergies, the text of entries and every other free text. Dates are months only.",
    ),
    ("analysis.small_title", "少人数の扱い", "Small groups"),
    ("analysis.small_before", "年齢区分・性別・日常生活圏域が同じ人が", "Where fewer than "),
    (
        "analysis.small_after",
        "人未満になる行は、圏域を空欄にし、それでも少なければ年齢区分を広げ（65歳未満・65〜74歳・75歳以上）、なお少なければ「非表示」とします。",
        " rows share an age band, sex and daily living area, the area is left blank; if still too few, the age band is widened (under 65, 65–74, 75 and over), and if still too few, hidden.",
    ),
    (
        "analysis.care",
        "個人を特定しにくくした資料ですが、個人に関する情報であることに変わりはありません。庁内の分析に限って使い、公表するときは集計した数字にしてください。",
        "This is harder to trace back to a person, but it is still information about people: use it for analysis within the municipality, and publish only aggregated figures.",
    ),
    ("analysis.download", "CSV を書き出す", "Download CSV"),
    ("api_token.scope.team", "ケアチームを読む", "Read care teams"),
    ("api_token.scope.consent", "同意と人生会議（ACP）を読む", "Read consents and advance care plans"),
    ("api_token.scope.vitals_read", "バイタルを読む", "Read vital signs"),
    ("api_token.scope.vitals_write", "バイタルを記録する", "Record vital signs"),
    ("api_token.scope.notes_read", "記録・連絡を読む", "Read the timeline (notes, visit records)"),
    ("api_token.scope.notes_write", "記録・連絡を書き込む", "Post notes and visit records"),
    ("api_token.scope.documents", "添付の写真・PDFを読む", "Read attached photos and PDFs"),
    ("api_token.scope.colleagues", "同じ市区町村の職員を調べる", "Look up colleagues"),
    ("api_token.scope.access", "閲覧履歴（誰が記録を見たか）を読む", "Read who looked at a record"),
    ("api_token.valid_days", "有効期間", "Valid for"),
    ("api_token.days_30", "30日", "30 days"),
    ("api_token.days_90", "90日", "90 days"),
    ("api_token.days_180", "180日", "180 days"),
    ("api_token.days_366", "1年", "1 year"),
    ("api_token.create", "トークンを発行", "Create a token"),
    ("api_token.created", "APIトークンを発行しました", "API token created"),
    (
        "api_token.created_help",
        "このトークンが表示されるのは今だけです。連携する機器やシステムに設定してください。なくしたときは失効させて、新しく発行してください。",
        "This is the only time the token is shown. Put it into the system or device now. If it is lost, revoke it and create a new one.",
    ),
    ("api_token.expires", "有効期限", "Expires"),
    ("api_token.revoke", "失効させる", "Revoke"),
    ("api_token.revoked", "失効済み", "Revoked"),
    ("api_token.expired", "期限切れ", "Expired"),
    ("api_token.none", "発行したトークンはありません。", "You have no tokens."),
    ("api_token.back", "アカウント設定へ戻る", "Back to your account"),
    ("api_token.revoked_notice", "トークンを失効させました。", "The token was revoked."),
    ("error.scopes.required", "許可することを一つ以上選んでください。", "Choose at least one thing it may do."),
    ("error.scopes.unknown_scope", "許可の指定が正しくありません。", "Unknown permission."),
    ("error.valid_days.out_of_range", "有効期間は1日から1年までです。", "A token is valid for 1 day to 1 year."),
    ("error.valid_days.number", "有効期間を選んでください。", "Choose how long it is valid."),
    (
        "error.address-city.required",
        "市区町村を address-city に名前かコードで指定してください（例: 柏市、122173）。",
        "Name the municipality in address-city, by name or code (e.g. 柏市, 122173).",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_complete() {
        assert_eq!(
            CATALOG.len(),
            ENTRIES.len()
                + BACKUP_ENTRIES.len()
                + PUBLIC_ENTRIES.len()
                + PAGES_ENTRIES.len()
                + INTEROP_ENTRIES.len()
                + coordination::ENTRIES.len(),
            "a key is listed twice"
        );
        for (key, ja, en) in ENTRIES
            .iter()
            .chain(BACKUP_ENTRIES)
            .chain(PUBLIC_ENTRIES)
            .chain(PAGES_ENTRIES)
            .chain(INTEROP_ENTRIES)
            .chain(coordination::ENTRIES)
        {
            assert!(!ja.is_empty() && !en.is_empty(), "{key}");
        }
    }

    /// Every key a template or a handler names literally (through `t.s`) is in the
    /// catalogue: a missing one would show the key itself to a nurse.
    #[test]
    fn every_key_the_pages_use_exists() {
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "html" || e == "rs") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("templates"), &mut files);
        sources(&root.join("src"), &mut files);
        assert!(files.len() > 50, "the templates and sources were found: {}", files.len());
        let mut missing = Vec::new();
        let mut used = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            for piece in text.split("t.s(\"").skip(1) {
                let Some(key) = piece.split('"').next() else { continue };
                used += 1;
                if !CATALOG.contains_key(key) {
                    missing.push(format!("{}: {key}", file.display()));
                }
            }
        }
        assert!(used > 300, "only {used} uses found");
        assert!(missing.is_empty(), "keys missing from the catalogue:\n{}", missing.join("\n"));
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
