use time::Duration;

/// Tunables of the use cases, with secure defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A session ends after this long without a request.
    pub session_idle_timeout: Duration,
    /// A session ends this long after sign-in, whatever happens.
    pub session_absolute_timeout: Duration,
    /// Failed sign-ins counted over this window.
    pub throttle_window: Duration,
    /// Failures per account within the window before it is locked for the window.
    pub max_failures_per_account: i64,
    /// Failures per source address within the window.
    pub max_failures_per_address: i64,
    /// How long an invitation or reset code stays valid.
    pub invitation_validity: Duration,
    /// argon2id memory cost in KiB (OWASP: 19 MiB) and iterations.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// Shown in authenticator apps.
    pub totp_issuer: String,
    /// Where attachment files live (outside the database).
    pub attachments_dir: std::path::PathBuf,
    /// How long each link of an escalation has to answer, and the most it may
    /// take to reach a backup hospital.
    pub escalation: tsunagu_domain::escalation::EscalationPolicy,
    /// The outgoing webhook for escalation events, if configured.
    pub webhook: Option<WebhookSettings>,
    /// How long this instance reuses an answer of the public map (public data;
    /// a write here empties it at once, and other instances once told; this
    /// time bounds an untold one). Zero also switches off the in-memory
    /// nearby index (`nearby.rs`): nothing public is kept in memory.
    pub public_cache: std::time::Duration,
    /// How long this instance reuses a session or token look-up (a change here
    /// forgets them at once, and other instances once told; this time bounds
    /// an untold one).
    pub session_cache: std::time::Duration,
    /// Seals second-factor secrets in the database (`None`: stored as they are;
    /// `tsunagu serve` always sets one, from its key file).
    pub sealing_key: Option<crate::sealing::SealingKey>,
}

/// Where escalation events are posted (e.g. a municipality's SMS or phone gateway).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The base address of this installation, for links in the events.
    pub public_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_idle_timeout: Duration::minutes(30),
            session_absolute_timeout: Duration::hours(12),
            throttle_window: Duration::minutes(15),
            max_failures_per_account: 5,
            max_failures_per_address: 50,
            invitation_validity: Duration::days(14),
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            totp_issuer: "tsunagu".to_owned(),
            attachments_dir: std::path::PathBuf::from("data").join("attachments"),
            escalation: tsunagu_domain::escalation::EscalationPolicy::default(),
            webhook: None,
            public_cache: std::time::Duration::from_secs(10),
            session_cache: std::time::Duration::from_secs(2),
            sealing_key: None,
        }
    }
}
