#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]
//! The binary as an operator uses it: demo, audit verify (before and after
//! tampering), user create, configuration errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Installation(PathBuf);

impl Installation {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tsunagu-cli-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        Self(dir)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .args(args)
            .current_dir(&self.0)
            .env_remove("TSUNAGU_DATABASE_URL")
            .env_remove("TSUNAGU_CONFIG")
            .output()
            .unwrap_or_else(|e| panic!("run tsunagu: {e}"))
    }

    fn db(&self) -> PathBuf {
        self.0.join("data").join("tsunagu.db")
    }
}

impl Drop for Installation {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

async fn tamper(db: &Path, statements: &[&str]) {
    use sqlx::Connection;
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap_or_else(|e| panic!("{e}"));
    for s in statements {
        sqlx::query(sqlx::AssertSqlSafe(s.to_string())).execute(&mut conn).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

#[tokio::test]
async fn demo_then_audit_verify_detects_tampering_and_names_the_event() {
    let inst = Installation::new();
    let demo = inst.run(&["demo"]);
    assert!(demo.status.success(), "{}", text(&demo));
    assert!(text(&demo).contains("dr.sato") && text(&demo).contains("tsunagu-demo-2026"));
    assert!(inst.db().exists(), "the database lives under ./data of the working directory");
    let again = inst.run(&["demo"]);
    assert!(again.status.success() && text(&again).contains("already"));

    let ok = inst.run(&["audit", "verify"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("122173") && text(&ok).contains("intact"));

    tamper(
        &inst.db(),
        &[
            "DROP TRIGGER audit_events_no_update",
            "UPDATE audit_events SET details = '{}' WHERE seq = 5 AND action = 'facility_created'",
        ],
    )
    .await;
    let bad = inst.run(&["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("FAILED  122173: event #5"), "{}", text(&bad));
}

#[tokio::test]
async fn user_create_prints_a_one_time_code_and_refuses_bad_input() {
    let inst = Installation::new();
    let created =
        inst.run(&["user", "create", "--login", "first.operator", "--name", "最初の運用者", "--role", "operator"]);
    assert!(created.status.success(), "{}", text(&created));
    let out = text(&created);
    assert!(out.contains("one-time code:") && out.contains("first.operator"));
    let duplicate =
        inst.run(&["user", "create", "--login", "first.operator", "--name", "二人目", "--role", "operator"]);
    assert!(!duplicate.status.success());
    assert!(text(&duplicate).contains("login_id"), "{}", text(&duplicate));
    let bad_code = inst.run(&[
        "user",
        "create",
        "--login",
        "cityadmin",
        "--name",
        "市",
        "--role",
        "municipality_admin",
        "--municipality",
        "122174",
    ]);
    assert!(!bad_code.status.success());
    let reset = inst.run(&["user", "reset", "--login", "first.operator"]);
    assert!(reset.status.success() && text(&reset).contains("one-time code:"));
}

#[test]
fn unknown_configuration_keys_are_an_error() {
    let inst = Installation::new();
    std::fs::write(inst.0.join("tsunagu.toml"), "lisen = \"127.0.0.1:9999\"\n").unwrap_or_else(|e| panic!("{e}"));
    let out = inst.run(&["migrate"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("lisen"), "{}", text(&out));
}

#[test]
fn secrets_in_the_database_url_are_not_printed() {
    let inst = Installation::new();
    let out = inst.run(&["--database-url", "postgres://someone:hunter2secret@127.0.0.1:notaport/nowhere", "migrate"]);
    assert!(!out.status.success());
    assert!(!text(&out).contains("hunter2secret"), "{}", text(&out));
}

#[tokio::test]
async fn demo_generates_a_history_at_scale_once() {
    let inst = Installation::new();
    let refused = inst.run(&["demo", "--patients", "0", "--entries", "10"]);
    assert!(!refused.status.success() && text(&refused).contains("--patients is out of range"), "{}", text(&refused));
    assert!(!inst.run(&["demo", "--patients", "10"]).status.success(), "both sizes are needed");
    let generated = inst.run(&["demo", "--patients", "120", "--entries", "3001"]);
    assert!(generated.status.success(), "{}", text(&generated));
    assert!(text(&generated).contains("Generated 120 patients, 3001 entries"), "{}", text(&generated));
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", inst.db().display())).await.unwrap();
    let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM entries").fetch_one(&mut conn).await.unwrap();
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM entry_versions").fetch_one(&mut conn).await.unwrap();
    let with_consent: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT patient_id) FROM consents").fetch_one(&mut conn).await.unwrap();
    // The demo's own three patients come on top of the generated ones.
    assert!(entries >= 3001 && entries == versions, "{entries} entries, {versions} versions");
    assert!(with_consent >= 120);
    drop(conn);
    let again = inst.run(&["demo", "--patients", "10", "--entries", "10"]);
    assert!(!again.status.success() && text(&again).contains("already holds generated data"), "{}", text(&again));
    let verify = inst.run(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
}

#[test]
fn import_reports_each_file_and_fails_when_nothing_could_be_imported() {
    let inst = Installation::new();
    assert!(inst.run(&["demo"]).status.success());
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../import/tests/fixtures");
    let standards = format!("{fixtures}/todokede_juri_ika_synthetic.xlsx");
    // Two municipalities in the demo: the tenant must be named.
    let unnamed = inst.run(&["import", "facility-standards", &standards]);
    assert!(!unnamed.status.success(), "{}", text(&unnamed));
    let first = inst.run(&["import", "facility-standards", &standards, "--municipality", "122173"]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("(xlsx): 9 added, 0 updated, 0 unchanged"), "{}", text(&first));
    let again = inst.run(&["import", "facility-standards", &standards, "--municipality", "122173"]);
    assert!(text(&again).contains("0 added, 0 updated, 9 unchanged"), "{}", text(&again));
    // The wrong kind of file: nothing imported, the reason given, a failing exit status.
    let wrong = inst.run(&["import", "care-offices", &standards, "--municipality", "122173"]);
    assert!(!wrong.status.success());
    assert!(text(&wrong).contains("not imported"), "{}", text(&wrong));
    // Bad rows are listed with their line and reason; the good ones are imported.
    let care = format!("{fixtures}/jigyosho_130_synthetic.csv");
    let offices = inst.run(&["import", "care-offices", &care, "--municipality", "122173"]);
    assert!(offices.status.success(), "{}", text(&offices));
    assert!(text(&offices).contains("line 4 (1260000003)"), "{}", text(&offices));
}
