//! Test harness: the whole web application on a fresh database (SQLite in a
//! temp dir; PostgreSQL in a new database when TSUNAGU_TEST_POSTGRES_URL is set),
//! driven through HTTP with a cookie-keeping client and a hand-moved clock.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;
use tower::ServiceExt;
use tsunagu_app::{App, ManualClock, Settings};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database; removed again by [`TestDb::cleanup`].
pub struct TestDb {
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<TempDir>,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tsunagu-test-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("temp dir: {e}"));
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn postgres_url() -> Option<String> {
    std::env::var("TSUNAGU_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

impl TestDb {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = TempDir::new();
                let url = format!("sqlite://{}", dir.0.join("tsunagu.db").display());
                Self { url, admin_url: None, name: String::new(), _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin_url = postgres_url().unwrap_or_else(|| panic!("TSUNAGU_TEST_POSTGRES_URL is not set"));
                let name = format!("tsunagu_t_{}", uuid::Uuid::now_v7().simple());
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is unreachable: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("create database: {e}"));
                let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
                Self { url: format!("{base}/{name}"), admin_url: Some(admin_url), name, _dir: None }
            }
        }
    }

    pub async fn cleanup(self) {
        if let Some(admin_url) = &self.admin_url
            && let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(admin_url).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await;
        }
    }
}

/// Runs each named async test function once per backend: `sqlite::name`
/// always, `postgres::name` when TSUNAGU_TEST_POSTGRES_URL is set.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::helpers::TestDb::create($crate::helpers::Backend::Sqlite).await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::helpers::postgres_url().is_none() {
                        eprintln!("skipped: set TSUNAGU_TEST_POSTGRES_URL to run on PostgreSQL");
                        return;
                    }
                    let db = $crate::helpers::TestDb::create($crate::helpers::Backend::Postgres).await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

/// The application under test.
pub struct TestApp {
    pub app: App,
    /// The same database, for test set-up and inspection only.
    pub store: Arc<dyn tsunagu_store::Store>,
    pub router: Router,
    pub clock: ManualClock,
    _attachments: TempDir,
}

pub const PASSWORD: &str = "a long enough pass phrase";

/// The installation key of the test apps (tests only).
pub const TEST_SEALING_KEY: [u8; 32] = [0x5e; 32];

impl TestApp {
    pub async fn start(db: &TestDb) -> Self {
        let store = tsunagu_store::connect(&db.url).await.unwrap_or_else(|e| panic!("connect {}: {e}", db.url));
        let clock = ManualClock::new(OffsetDateTime::now_utc());
        // Cheap hashing keeps the suite fast; production uses the OWASP parameters.
        let attachments = TempDir::new();
        let settings = Settings {
            argon2_memory_kib: 256,
            argon2_iterations: 1,
            attachments_dir: attachments.0.clone(),
            // As `tsunagu serve` runs: second factors sealed in the database.
            sealing_key: Some(tsunagu_app::sealing::SealingKey::from_bytes(TEST_SEALING_KEY)),
            ..Settings::default()
        };
        let app = App::new(store.clone(), Arc::new(clock.clone()), settings);
        let config = tsunagu_web::WebConfig { secure_cookies: false, behind_proxy: false, ..Default::default() };
        let router = tsunagu_web::router(app.clone(), config);
        Self { app, store, router, clock, _attachments: attachments }
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
            address: SocketAddr::from(([192, 0, 2, 10], 50000)),
        }
    }

    /// The current TOTP code for a base32 secret, by the app's clock.
    pub fn totp(&self, secret_base32: &str) -> String {
        let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap_or_else(|e| panic!("secret: {e:?}"));
        let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap_or_else(|e| panic!("totp: {e:?}"));
        let now = u64::try_from(tsunagu_domain::clock::Clock::now(&self.clock).unix_timestamp()).unwrap_or(0);
        totp.generate(now).to_string()
    }

    /// Issues an ID from the shell, redeems it and signs in through the web,
    /// enrolling TOTP. Returns the signed-in client and the TOTP secret.
    pub async fn signed_in(
        &self,
        login: &str,
        municipality: Option<&str>,
        profession: &str,
        roles: &[&str],
        facility: Option<tsunagu_domain::ids::FacilityId>,
    ) -> (Client, String) {
        let new = tsunagu_domain::account::NewAccount::parse(
            login,
            &format!("{login} さん"),
            "テスト",
            "",
            profession,
            roles,
        )
        .unwrap_or_else(|e| panic!("account: {e}"));
        let issued = self
            .app
            .issue_account_from_shell(municipality, &new, facility)
            .await
            .unwrap_or_else(|e| panic!("issue: {e}"));
        let mut client = self.client();
        client.redeem(&issued.code, login, PASSWORD).await;
        let secret = client.sign_in_and_enrol(self, login, PASSWORD).await;
        (client, secret)
    }
}

/// What came back.
pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Reply {
    /// The `value` of the first hidden input named `name`.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(self.body[start..start + end].to_owned())
    }

    /// Text inside the element with `id` (up to its first `<`).
    pub fn by_id(&self, id: &str) -> Option<String> {
        let marker = format!("id=\"{id}\"");
        let at = self.body.find(&marker)?;
        let start = at + self.body[at..].find('>')? + 1;
        let end = self.body[start..].find('<')?;
        Some(self.body[start..start + end].trim().to_owned())
    }

    pub fn redirects_to(&self, prefix: &str) -> bool {
        self.status.is_redirection() && self.location.as_deref().is_some_and(|l| l.starts_with(prefix))
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
#[derive(Clone)]
pub struct Client {
    router: Router,
    pub cookies: HashMap<String, String>,
    pub address: SocketAddr,
}

impl Client {
    pub async fn send(&mut self, method: &str, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send_with_headers(method, path, form, &[]).await
    }

    /// [`Self::send`] with extra request headers (`Referer`, `Host`, ...).
    pub async fn send_with_headers(
        &mut self,
        method: &str,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut request = Request::builder().method(method).uri(path).header(header::COOKIE, cookie);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = if method == "POST" {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            let encoded: Vec<String> = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
            Body::from(encoded.join("&"))
        } else {
            Body::empty()
        };
        let mut request = request.body(body).unwrap_or_else(|e| panic!("request: {e}"));
        request.extensions_mut().insert(ConnectInfo(self.address));
        let response = self.router.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap_or_default();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || attrs.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        let status = response.status();
        let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        Reply { status, location, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// POSTs a multipart form with files: (field, file name, content type, bytes).
    pub async fn send_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Reply {
        let boundary = "tsunagu-test-boundary-7f3a";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        for (field, name, content_type, bytes) in files {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n")
                    .as_bytes(),
            );
            body.extend(*bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut request = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("request: {e}"));
        request.extensions_mut().insert(ConnectInfo(self.address));
        let response = self.router.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
        let status = response.status();
        let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        Reply { status, location, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// Sends a JSON body (or none) with extra headers; the reply body is the JSON text.
    pub async fn send_json(&mut self, method: &str, path: &str, json: Option<&str>, headers: &[(&str, &str)]) -> Reply {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut builder = Request::builder().method(method).uri(path).header(header::COOKIE, cookie);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let body = match json {
            Some(j) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(j.to_owned())
            }
            None => Body::empty(),
        };
        let mut request = builder.body(body).unwrap_or_else(|e| panic!("{e}"));
        request.extensions_mut().insert(ConnectInfo(self.address));
        let response = self.router.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
        let status = response.status();
        let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        Reply { status, location, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// GET returning the raw bytes and content type.
    pub async fn get_bytes(&mut self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut request = Request::builder()
            .uri(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"));
        request.extensions_mut().insert(ConnectInfo(self.address));
        let response = self.router.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
        (status, content_type, bytes)
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, &[]).await
    }

    /// GETs `page` for its CSRF token, then POSTs `form` (plus the token) to `action`.
    pub async fn submit(&mut self, page: &str, action: &str, form: &[(&str, &str)]) -> Reply {
        let csrf = self.get(page).await.input_value("csrf").unwrap_or_default();
        let mut with_token = form.to_vec();
        with_token.push(("csrf", &csrf));
        self.send("POST", action, &with_token).await
    }

    pub async fn redeem(&mut self, code: &str, login: &str, password: &str) {
        let reply = self
            .submit(
                "/invite",
                "/invite",
                &[("login_id", login), ("code", code), ("password", password), ("password_again", password)],
            )
            .await;
        assert!(reply.redirects_to("/sign-in?notice=redeemed"), "redeem failed: {} {}", reply.status, reply.body);
    }

    /// Signs in for the first time: password, then TOTP enrolment. Returns the secret.
    pub async fn sign_in_and_enrol(&mut self, t: &TestApp, login: &str, password: &str) -> String {
        let reply = self.submit("/sign-in", "/sign-in", &[("login_id", login), ("password", password)]).await;
        assert!(reply.redirects_to("/sign-in/enrol"), "sign-in: {} {:?}", reply.status, reply.location);
        let page = self.get("/sign-in/enrol").await;
        let secret = page.by_id("totp-secret").unwrap_or_else(|| panic!("no secret on the enrolment page"));
        let code = t.totp(&secret);
        let reply = self.submit("/sign-in/enrol", "/sign-in/enrol", &[("code", &code)]).await;
        assert_eq!(reply.status, StatusCode::OK, "enrol: {}", reply.body);
        assert!(reply.body.contains("recovery-codes"));
        secret
    }

    /// Signs in again with password and TOTP (moving the clock past the last used step).
    pub async fn sign_in_with_totp(&mut self, t: &TestApp, login: &str, password: &str, secret: &str) -> Reply {
        t.clock.advance(time::Duration::seconds(31));
        let reply = self.submit("/sign-in", "/sign-in", &[("login_id", login), ("password", password)]).await;
        if !reply.redirects_to("/sign-in/code") {
            return reply;
        }
        let code = t.totp(secret);
        self.submit("/sign-in/code", "/sign-in/code", &[("code", &code)]).await
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What a walk of the FHIR routes fills their patterns with.
pub struct FhirIds<'a> {
    /// `name=` of the Patient search (percent-encoded).
    pub name: &'a str,
    pub patient: &'a str,
    /// An entry with a temperature (its Observation is `{entry}-bt`).
    pub vitals: &'a str,
    /// Any entry (its Communication).
    pub entry: &'a str,
    /// A visit record (its Encounter).
    pub visit: &'a str,
    pub attachment: &'a str,
    /// An account working at a facility (its Practitioner and first PractitionerRole).
    pub practitioner: &'a str,
}

/// A path for a FHIR route pattern of the router, with searches that name
/// the patient (or the practitioner) the walk is about.
pub fn fhir_path(pattern: &str, ids: &FhirIds<'_>) -> String {
    let FhirIds { name, patient, vitals, entry, visit, attachment, practitioner } = ids;
    match pattern {
        "/fhir/Patient" => format!("/fhir/Patient?name={name}"),
        "/fhir/Observation"
        | "/fhir/CareTeam"
        | "/fhir/Communication"
        | "/fhir/AuditEvent"
        | "/fhir/Consent"
        | "/fhir/Encounter"
        | "/fhir/DocumentReference" => format!("{pattern}?patient={patient}"),
        p if p.starts_with("/fhir/Observation/{id}") => {
            p.replace("{id}", &format!("{vitals}-bt")).replace("{vid}", "1")
        }
        p if p.starts_with("/fhir/Communication/{id}") => p.replace("{id}", entry).replace("{vid}", "1"),
        "/fhir/Practitioner" => "/fhir/Practitioner?name=sato".to_owned(),
        "/fhir/DocumentReference/{id}" | "/fhir/Binary/{id}" => pattern.replace("{id}", attachment),
        "/fhir/Encounter/{id}" => format!("/fhir/Encounter/{visit}"),
        "/fhir/Consent/{id}" => format!("/fhir/Consent/{patient}-consent-1"),
        "/fhir/PractitionerRole" => format!("/fhir/PractitionerRole?practitioner=Practitioner/{practitioner}"),
        "/fhir/PractitionerRole/{id}" => format!("/fhir/PractitionerRole/{practitioner}-1"),
        "/fhir/{*rest}" => "/fhir/Medication".to_owned(),
        p => p.replace("{id}", patient),
    }
}

/// A grant to read `patient`'s record as a physician of its team would: for a
/// test that checks the store's rows directly after driving the application.
/// The application gets its grants only from the policy; a test asks the same
/// policy with a scope it made up.
pub fn inspecting(patient: uuid::Uuid) -> tsunagu_domain::record_access::RecordGrant {
    use tsunagu_domain::account::{Profession, Role};
    use tsunagu_domain::care::TeamRole;
    use tsunagu_domain::ids::{AccountId, MunicipalityId, PatientId};
    use tsunagu_domain::policy::{Actor, ConsentState, PatientScope, TeamSeat};
    let (inspector, city) = (AccountId::new(), MunicipalityId::new());
    let scope = PatientScope {
        patient_id: PatientId(patient),
        municipality_id: city,
        created_by: inspector,
        consent: ConsentState::Active,
        team: vec![TeamSeat {
            account_id: inspector,
            role: TeamRole::PrimaryPhysician,
            profession: Profession::Physician,
        }],
        emergency_access: vec![],
    };
    let actor = Actor {
        account_id: inspector,
        municipality_id: Some(city),
        roles: vec![Role::Professional],
        admin_of: vec![],
        member_of: vec![],
    };
    tsunagu_domain::record_access::decide(&actor, &scope, tsunagu_domain::record_access::RecordIntent::Read)
        .unwrap_or_else(|e| panic!("the inspecting physician is refused: {e:?}"))
}
