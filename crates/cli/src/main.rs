//! The `tsunagu` binary: configuration, start-up and the subcommands.

mod config;
mod secret_key;
mod tls;
mod webhook;

use clap::{Args, Parser, Subcommand};
use config::{DatabaseUrl, FileConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tsunagu_app::backup::InstallationLock;
use tsunagu_app::{App, Settings, SystemClock};
use tsunagu_domain::account::NewAccount;
use tsunagu_domain::clock::{Clock, format_jst, monotonic_now};
use tsunagu_domain::ids::FacilityId;

#[derive(Parser)]
#[command(
    name = "tsunagu",
    version,
    about = "tsunagu: home medical and long-term care collaboration for a municipality"
)]
struct Cli {
    /// Settings file (TOML). Default: ./tsunagu.toml if present.
    #[arg(long, env = "TSUNAGU_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Database URL: postgres://... or sqlite://... Default: sqlite under ./data.
    #[arg(long, env = "TSUNAGU_DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve {
        /// Address to listen on. Default: 127.0.0.1:8080.
        #[arg(long, env = "TSUNAGU_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Create a synthetic demo municipality with facilities and accounts;
    /// with --patients, also a synthetic history at that scale (for benchmarks).
    Demo {
        /// Generate this many synthetic patients (with consent and a team of four:
        /// primary and backup physician, nurse, care manager; in physician groups with rosters).
        #[arg(long, requires = "entries")]
        patients: Option<usize>,
        /// Spread this many timeline entries over them.
        #[arg(long, requires = "patients")]
        entries: Option<usize>,
    },
    /// Write a consistent backup of a running SQLite installation (database
    /// and attachments, with checksums) as a new generation in DIR.
    Backup {
        /// Where the generations live (ideally another disk; see docs/backup.md).
        #[arg(long)]
        out: PathBuf,
        /// How many generations to keep (older ones are removed).
        #[arg(long, default_value_t = 7)]
        keep: usize,
    },
    /// Restore a backup generation into this installation (server stopped).
    /// The replaced database is kept beside it.
    Restore {
        /// A backup generation directory (tsunagu-backup-...).
        backup: PathBuf,
    },
    /// Import government open data into the resource registry (idempotent:
    /// a newer file updates, rows it no longer lists are closed).
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage accounts from the shell (e.g. the first operator).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API clients (the FHIR API): tokens for scripts, EHRs and devices.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Make an API token that acts for an account (narrowed by its scopes) and print it.
    Create {
        /// The account the token acts for (a professional of a municipality).
        #[arg(long)]
        login: String,
        /// What the token is for, as the audit log will name it.
        #[arg(long)]
        name: String,
        /// SMART-style scopes, e.g. "user/Patient.read user/Observation.write".
        #[arg(long)]
        scopes: String,
        /// How many days it is valid (1 to 366).
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
}

#[derive(Subcommand)]
enum ImportSource {
    /// 介護サービス情報公表システム open data (one CSV per service type).
    CareOffices(ImportFiles),
    /// 医療情報ネット open data (hospitals, clinics, dental clinics, pharmacies).
    MedicalInstitutions(ImportFiles),
    /// 届出受理医療機関名簿（医科）: the regional health bureau's list (.xlsx or .csv).
    FacilityStandards(ImportFiles),
}

#[derive(Args)]
struct ImportFiles {
    /// CSV (UTF-8, with or without BOM, or Shift_JIS) or .xlsx files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// 全国地方公共団体コード of the municipality to import into (default: the only one).
    #[arg(long)]
    municipality: Option<String>,
    /// Import every row into that municipality, whatever municipality a row
    /// names (an installation run by a prefecture). Default: only its own rows.
    #[arg(long)]
    all_rows: bool,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify every hash chain; exits non-zero and names the first bad event if one was altered.
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Issue an ID and print its one-time invitation code.
    Create(CreateUser),
    /// Print a new one-time code with which the person sets a new password and second factor.
    Reset {
        #[arg(long)]
        login: String,
    },
}

#[derive(Args)]
struct CreateUser {
    #[arg(long)]
    login: String,
    /// Full name as shown to others.
    #[arg(long)]
    name: String,
    #[arg(long, default_value = "")]
    kana: String,
    #[arg(long, default_value = "")]
    email: String,
    /// Profession code (physician, nurse, care_manager, clerk, municipal_officer, ...).
    #[arg(long, default_value = "clerk")]
    profession: String,
    /// Role codes: operator, municipality_admin, coordinator, facility_admin.
    #[arg(long = "role")]
    roles: Vec<String>,
    /// 全国地方公共団体コード of the account's municipality (not for operators).
    #[arg(long)]
    municipality: Option<String>,
    /// Facility id to attach the account to.
    #[arg(long)]
    facility: Option<String>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Failure = Box<dyn std::error::Error>;

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let file = FileConfig::load(cli.config.as_deref())?;
    let url = match cli.database_url.filter(|u| !u.trim().is_empty()).or(file.database_url.clone()) {
        Some(url) => DatabaseUrl::new(url),
        None => DatabaseUrl::default_sqlite()?,
    };
    let mut settings = Settings::default();
    if let Some(m) = file.session_idle_minutes {
        settings.session_idle_timeout = time::Duration::minutes(m.clamp(1, 24 * 60));
    }
    if let Some(h) = file.session_absolute_hours {
        settings.session_absolute_timeout = time::Duration::hours(h.clamp(1, 24 * 7));
    }
    if let Some(e) = &file.escalation {
        use tsunagu_domain::escalation::EscalationPolicy;
        settings.escalation = match (e.drill_step_seconds, e.drill_to_hospital_seconds) {
            (Some(step), to_hospital) => {
                tracing::warn!(step, "escalation runs in drill mode (seconds, not minutes)");
                EscalationPolicy::from_seconds(step, to_hospital.unwrap_or(step.saturating_mul(3)))
            }
            (None, _) => {
                EscalationPolicy::from_minutes(e.step_minutes.unwrap_or(10), e.to_hospital_minutes.unwrap_or(30))
            }
        };
    }
    if let Some(s) = file.public_cache_seconds {
        settings.public_cache = std::time::Duration::from_secs(s.min(3_600));
    }
    if let Some(s) = file.session_cache_seconds {
        settings.session_cache = std::time::Duration::from_secs(s.min(60));
    }
    if let Some(w) = &file.webhook {
        settings.webhook = Some(tsunagu_app::WebhookSettings { public_url: w.public_url.clone() });
    }
    if let Command::Serve { .. } = &cli.command {
        // Second-factor secrets are sealed with a key kept beside the database, not in it.
        let path = file.secret_key_file.clone().unwrap_or_else(|| match url.sqlite_file() {
            Some(db) => db.parent().map(|d| d.join("secret.key")).unwrap_or_else(|| PathBuf::from("secret.key")),
            None => PathBuf::from("data").join("secret.key"),
        });
        let (key, made) = secret_key::load_or_create(&path)?;
        if made {
            tracing::info!(path = %path.display(), "made the installation's secret key: keep a copy apart from the backups");
        }
        settings.sealing_key = Some(key);
    }
    if let Command::Restore { backup } = &cli.command {
        // Before connecting: the database file is about to be replaced.
        return restore(&url, backup, settings).await;
    }
    // A running server holds the installation, so that no restore replaces it underneath.
    let _installation = match (&cli.command, url.sqlite_file()) {
        (Command::Serve { .. }, Some(file)) => {
            let dir = file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
            Some(InstallationLock::serving(&dir).map_err(|_| "a restore of this installation is under way")?)
        }
        _ => None,
    };
    let store =
        tsunagu_store::connect(url.expose()).await.map_err(|e| format!("cannot open the database {url}: {e}"))?;
    let app = App::new(store, Arc::new(SystemClock), settings);
    match cli.command {
        Command::Serve { listen } => serve(app, listen.or(file.listen), &file, &url).await,
        Command::Migrate => {
            println!("database {url} is up to date ({})", app.backend());
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { patients: Some(patients), entries: Some(entries) } => scale(&app, patients, entries).await,
        Command::Demo { .. } => demo(&app).await,
        Command::Backup { out, keep } => backup(&app, &out, keep).await,
        Command::Restore { .. } => Err("unreachable: restore runs before the database opens".into()),
        Command::Import { source } => import(&app, source).await,
        Command::Audit { command: AuditCommand::Verify } => verify(&app).await,
        Command::User { command } => user(&app, command).await,
        Command::Client { command: ClientCommand::Create { login, name, scopes, days } } => {
            let made = app.create_api_token_for(&login, &name, &scopes, &days.to_string()).await?;
            println!("token:           {}", made.token);
            println!("valid until:     {} (JST)", format_jst(made.expires_at));
            println!("Send it as Authorization: Bearer <token> to /fhir. It is shown only now.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(
    app: App,
    listen: Option<SocketAddr>,
    file: &FileConfig,
    url: &DatabaseUrl,
) -> Result<ExitCode, Failure> {
    let listen = listen.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
    // Read the certificate before anything else, so that bad files stop the start.
    let tls = match &file.tls {
        Some(t) => Some(tls::acceptor(&tls::TlsFiles {
            certificate: t.certificate.clone(),
            private_key: t.private_key.clone(),
        })?),
        None => None,
    };
    let config = tsunagu_web::WebConfig {
        // Over HTTPS (built in, or at a proxy) cookies are Secure and HSTS is sent.
        secure_cookies: file.secure_cookies.unwrap_or(tls.is_some() || !listen.ip().is_loopback()),
        behind_proxy: file.behind_proxy.unwrap_or(false),
        // Off with 0; generous enough for a whole station working through one NAT.
        write_limit: match file.writes_per_minute.unwrap_or(300) {
            0 => None,
            n => Some(tsunagu_web::WriteLimit { per_minute: n, burst: n.clamp(10, 100) }),
        },
        metrics_token: file.metrics_token.clone().filter(|t| !t.trim().is_empty()),
        // Off with 0; twice the writes' default: a page and its markers per view.
        public_read_limit: match file.public_reads_per_minute.unwrap_or(600) {
            0 => None,
            n => Some(tsunagu_web::PublicReadLimit { per_minute: n, burst: n.clamp(20, 200) }),
        },
        map_tiles: file.map.as_ref().map(config::MapConfig::tiles).unwrap_or_default(),
        // Off with 0; 20 a second sustained is plenty for an EHR's or a device's sync.
        token_limit: match file.api_requests_per_minute.unwrap_or(1200) {
            0 => None,
            n => Some(tsunagu_web::TokenLimit { per_minute: n, burst: n.clamp(20, 200) }),
        },
    };
    // Before the first request: what other instances change is forgotten here at once.
    if app.follow_other_instances().await? {
        tracing::info!("following the other instances' changes (PostgreSQL LISTEN)");
    }
    let sealed = app.seal_second_factors().await?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed second-factor secrets stored before sealing existed");
    }
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%listen, database = %url, backend = app.backend(), scheme, "tsunagu is serving");
    println!("tsunagu: {scheme}://{listen}/  (database: {url})");
    let sweeper = tokio::spawn(sweep_sessions(app.clone()));
    let mailer = match &file.mail {
        Some(mail) => {
            let sender = tsunagu_app::mail::CommandMailSender::parse(&mail.command, &mail.from)
                .ok_or("[mail] command is empty")?;
            tracing::info!(command = %mail.command, "e-mail notifications are on");
            Some(tokio::spawn(deliver_mail(app.clone(), Arc::new(sender), mail.public_url.clone())))
        }
        None => {
            tracing::info!("e-mail notifications are off (no [mail] in the configuration)");
            None
        }
    };
    let check = file.escalation.as_ref().and_then(|e| e.check_seconds).unwrap_or(15).clamp(1, 300);
    let instance = format!("{}:{}", listen, std::process::id());
    let timers = tokio::spawn(fire_escalations(app.clone(), instance, check));
    let webhook = match &file.webhook {
        Some(w) => {
            let sender = webhook::HttpWebhook::new(&w.url)?;
            tracing::info!(url = %w.url, "escalation webhook is on");
            Some(tokio::spawn(deliver_webhooks(app.clone(), sender, check)))
        }
        None => None,
    };
    let (router, limits) = tsunagu_web::router_with_limits(app.clone(), config);
    // A SQLite installation is one process: nobody to share with.
    let sharer = (app.backend() == "postgres").then(|| tokio::spawn(share_rate_limits(app, limits)));
    match tls {
        Some(acceptor) => {
            use axum::serve::ListenerExt;
            // tap_io: the connection's address reaches the handlers as with plain TCP.
            let listener = tls::TlsListener::new(listener, acceptor)?.tap_io(|_| {});
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(shutdown_signal())
                .await?;
        }
        None => {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(shutdown_signal())
                .await?;
        }
    }
    sweeper.abort();
    if let Some(sharer) = sharer {
        sharer.abort();
    }
    timers.abort();
    if let Some(webhook) = webhook {
        webhook.abort();
    }
    if let Some(mailer) = mailer {
        mailer.abort();
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends queued notification mails every minute (a burst of notifications to
/// one person is one mail). Mails are marked sent one by one, so a restart
/// resends at most the one in flight.
async fn deliver_mail(app: App, sender: Arc<dyn tsunagu_app::mail::MailSender>, public_url: String) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        match app.deliver_mail(sender.clone(), &public_url, 100).await {
            Ok(done) if done.sent + done.failed > 0 => {
                tracing::info!(sent = done.sent, failed = done.failed, "notification mails");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not deliver notification mails"),
        }
    }
}

/// Imports each file and prints its report; fails when none could be imported.
async fn import(app: &App, source: ImportSource) -> Result<ExitCode, Failure> {
    use tsunagu_import::Source;
    let (source, files) = match source {
        ImportSource::CareOffices(f) => (Source::CareOffices, f),
        ImportSource::MedicalInstitutions(f) => (Source::MedicalInstitutions, f),
        ImportSource::FacilityStandards(f) => (Source::FacilityStandards, f),
    };
    let mut anything = false;
    for path in &files.files {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let report = app
            .import_registry_from_shell_with(files.municipality.as_deref(), source, &name, &bytes, files.all_rows)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(why) = &report.refused {
            println!("{}: not imported: {why}", path.display());
            continue;
        }
        println!(
            "{} ({}): {} added, {} updated, {} unchanged, {} closed, {} rejected, {} of other municipalities",
            path.display(),
            report.encoding,
            report.added,
            report.updated,
            report.unchanged,
            report.closed,
            report.rejected.len(),
            report.elsewhere
        );
        for r in &report.rejected {
            println!(
                "  line {}{}: {}",
                r.line,
                r.source_id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default(),
                r.message
            );
        }
        anything |= report.imported_anything();
    }
    Ok(if anything { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Shares this instance's rate-limit usage with the others every second, so
/// that a client spread over several instances gets one budget.
async fn share_rate_limits(app: App, limits: Arc<tsunagu_web::RateLimits>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = limits.share(&app).await {
            tracing::warn!(error = %e, "could not share rate-limit usage");
        }
    }
}

/// Fires escalation steps whose timers have run out. Every instance runs
/// this; the store lets exactly one of them fire each step.
async fn fire_escalations(app: App, instance: String, every_seconds: u64) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(every_seconds));
    loop {
        every.tick().await;
        match app.fire_due_steps(&instance, 100).await {
            Ok(done) if done.fired > 0 => tracing::info!(fired = done.fired, "escalation steps"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not fire escalation steps"),
        }
        // The coordination centre's requests near their deadline (cheap when there are none).
        match app.remind_candidates(100).await {
            Ok(n) if n > 0 => tracing::info!(reminded = n, "candidate facilities reminded"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not remind candidate facilities"),
        }
    }
}

/// Posts queued webhook events (retries back off inside the app).
async fn deliver_webhooks(app: App, sender: webhook::HttpWebhook, every_seconds: u64) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(every_seconds));
    loop {
        every.tick().await;
        match app.deliver_webhooks(&sender, 100).await {
            Ok(done) if done.delivered + done.failed > 0 => {
                tracing::info!(delivered = done.delivered, failed = done.failed, "webhook events");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not deliver webhook events"),
        }
    }
}

/// Removes expired sessions now and then. Safe with several instances.
async fn sweep_sessions(app: App) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        if let Err(e) = app.sweep_expired_sessions().await {
            tracing::warn!(error = %e, "could not sweep expired sessions");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down after in-flight requests");
}

async fn demo(app: &App) -> Result<ExitCode, Failure> {
    let summary = app.create_demo().await?;
    if summary.already_present {
        println!("The demo data is already in this database.");
    } else {
        println!("Created the demo data (synthetic people and facilities).");
    }
    for (code, name) in &summary.municipalities {
        println!("  municipality {code} {name}");
    }
    println!();
    println!(
        "Start the server with `tsunagu serve` (or `cargo run --release -- serve`) and open http://127.0.0.1:8080/"
    );
    println!("Every demo account's password is: {}", summary.password);
    println!("At first sign-in you set up an authenticator app (Google Authenticator, Microsoft Authenticator, ...).");
    println!();
    println!("{:<18} {:<14} {:<20} facility", "login", "name", "profession / roles");
    for a in &summary.accounts {
        let roles = if a.roles.is_empty() { a.profession.clone() } else { format!("{} / {}", a.profession, a.roles) };
        println!("{:<18} {:<14} {:<20} {}", a.login_id, a.display_name, roles, a.facility.as_deref().unwrap_or("-"));
    }
    Ok(ExitCode::SUCCESS)
}

async fn scale(app: &App, patients: usize, entries: usize) -> Result<ExitCode, Failure> {
    let spec = tsunagu_app::scale::ScaleSpec::parse(patients, entries)
        .map_err(|e| format!("--{} is out of range (patients 1..=1000000, entries ..=50000000)", e.field))?;
    let started = monotonic_now();
    let mut last_report = 0;
    let mut progress = |written: usize| {
        if written >= last_report + 500_000 || written == entries {
            last_report = written;
            println!("  {written} entries ({:.0} s)", started.elapsed().as_secs_f64());
        }
    };
    let report = match app.generate_scale(spec, &mut progress).await {
        Err(tsunagu_app::AppError::Conflict { .. }) => {
            return Err("this database already holds generated data; use a fresh one".into());
        }
        other => other?,
    };
    println!(
        "Generated {} patients, {} entries and {} staff accounts (synthetic, cannot sign in) in {:.1} s.",
        report.patients,
        report.entries,
        report.staff,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

async fn backup(app: &App, out: &Path, keep: usize) -> Result<ExitCode, Failure> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let report = app.backup(out, keep).await?;
    println!(
        "backup written: {} ({} files, {} bytes, checksums in MANIFEST)",
        report.generation.display(),
        report.files,
        report.bytes
    );
    for old in &report.removed {
        println!("  removed the older generation {}", old.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn restore(url: &DatabaseUrl, backup: &Path, settings: Settings) -> Result<ExitCode, Failure> {
    let Some(file) = url.sqlite_file() else {
        return Err("tsunagu restore is for SQLite installations; on PostgreSQL use pg_restore (docs/backup.md)".into());
    };
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let lock = InstallationLock::restoring(&dir)?;
    let stamp = SystemClock.now().unix_timestamp().to_string();
    let report = tsunagu_app::backup::restore(backup, &file, &settings.attachments_dir, &lock, &stamp)?;
    println!("restored {} files from {} (checksums verified)", report.files, backup.display());
    if let Some(previous) = &report.previous {
        println!("the database it replaced is kept as {}", previous.display());
    }
    let store =
        tsunagu_store::connect(url.expose()).await.map_err(|e| format!("cannot open the restored database: {e}"))?;
    let app = App::new(store, Arc::new(SystemClock), settings);
    drop(lock);
    verify(&app).await
}

async fn verify(app: &App) -> Result<ExitCode, Failure> {
    let report = app.verify_audit().await?;
    for chain in &report.chains {
        let name = chain.municipality_code.as_deref().unwrap_or("installation");
        match &chain.problem {
            None => println!("ok      {name}: {} events, chain intact", chain.events_checked),
            Some(problem) => println!("FAILED  {name}: {problem}"),
        }
    }
    if report.is_intact() {
        println!("audit log intact ({} chains)", report.chains.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("audit log has been tampered with");
        Ok(ExitCode::FAILURE)
    }
}

async fn user(app: &App, command: UserCommand) -> Result<ExitCode, Failure> {
    let issued = match command {
        UserCommand::Create(u) => {
            let roles: Vec<&str> = u.roles.iter().map(String::as_str).collect();
            let new = NewAccount::parse(&u.login, &u.name, &u.kana, &u.email, &u.profession, &roles)?;
            let facility = match &u.facility {
                Some(raw) => Some(raw.parse::<FacilityId>()?),
                None => None,
            };
            app.issue_account_from_shell(u.municipality.as_deref(), &new, facility).await?
        }
        UserCommand::Reset { login } => app.reissue_code_from_shell(&login).await?,
    };
    println!("login id:        {}", issued.account.login_id);
    println!("one-time code:   {}", issued.code);
    println!("valid until:     {} (JST)", format_jst(issued.expires_at));
    println!("Open /invite on the server, enter the login id and the code, and choose a password.");
    Ok(ExitCode::SUCCESS)
}
