//! Configuration: command-line flags, then environment variables (TSUNAGU_*),
//! then a TOML file, then defaults. Unknown keys in the file are an error.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the configuration file {path} is not valid: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
}

/// The settings file (`tsunagu.toml`). Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub database_url: Option<String>,
    /// Mark cookies Secure. Defaults to on unless listening on loopback.
    pub secure_cookies: Option<bool>,
    /// Trust X-Forwarded-For (only behind your own reverse proxy).
    pub behind_proxy: Option<bool>,
    pub session_idle_minutes: Option<i64>,
    pub session_absolute_hours: Option<i64>,
    /// State-changing requests allowed per client address per minute (0: no limit).
    pub writes_per_minute: Option<u32>,
    /// Bearer token for /metrics (without one, only the local machine may read it).
    pub metrics_token: Option<String>,
    /// Public map reads (`GET /m/...`, `/api/public/...`) allowed per client
    /// address per minute (0: no limit; default 600).
    pub public_reads_per_minute: Option<u32>,
    /// FHIR API requests allowed per API token per minute (0: no limit; default 1200).
    pub api_requests_per_minute: Option<u32>,
    /// Seconds an instance reuses an answer of the public map (0: never; default 10).
    pub public_cache_seconds: Option<u64>,
    /// Seconds an instance reuses a session or API token look-up (0: never;
    /// default 2, at most 60). With several instances, this is how long a
    /// sign-out or revocation on one takes to reach the others.
    pub session_cache_seconds: Option<u64>,
    /// The public map's background tiles (default: 地理院タイル).
    pub map: Option<MapConfig>,
    /// E-mail notifications: off unless all three are set.
    pub mail: Option<MailConfig>,
    pub escalation: Option<EscalationConfig>,
    pub webhook: Option<WebhookConfig>,
    /// Built-in TLS (HTTPS without a reverse proxy): off unless set.
    pub tls: Option<TlsConfig>,
    /// The key that seals second-factor secrets (default: `secret.key` beside
    /// the SQLite file, or `data/secret.key`); made on the first start.
    pub secret_key_file: Option<PathBuf>,
}

/// `[tls]`: serve HTTPS directly, for a small installation without a reverse
/// proxy. The files are PEM (e.g. certbot's fullchain.pem and privkey.pem) and
/// are read again when they change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, the server's certificate first.
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

/// `[map]`: where the public map's tiles come from and the credit they need.
/// Whatever is not set keeps the default (地理院タイル, 標準地図).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MapConfig {
    /// A Leaflet URL template, e.g. "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png".
    pub tile_url: Option<String>,
    /// The credit the tile server asks for, e.g. "地理院タイル".
    pub attribution: Option<String>,
    /// Where the credit links to.
    pub attribution_url: Option<String>,
    pub max_zoom: Option<u8>,
}

impl MapConfig {
    pub fn tiles(&self) -> tsunagu_web::MapTiles {
        let d = tsunagu_web::MapTiles::default();
        tsunagu_web::MapTiles {
            url: self.tile_url.clone().unwrap_or(d.url),
            attribution: self.attribution.clone().unwrap_or(d.attribution),
            attribution_url: self.attribution_url.clone().unwrap_or(d.attribution_url),
            max_zoom: self.max_zoom.unwrap_or(d.max_zoom),
        }
    }
}

/// `[escalation]`: how long each responder has before the next is called.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// Minutes each physician or hospital has to answer (default 10).
    pub step_minutes: Option<u32>,
    /// The most it may take to reach the first backup hospital (default 30).
    pub to_hospital_minutes: Option<u32>,
    /// How often each instance looks for due steps, in seconds (default 15).
    pub check_seconds: Option<u64>,
    /// For drills (訓練): the same two times in seconds, overriding the minutes.
    pub drill_step_seconds: Option<u32>,
    pub drill_to_hospital_seconds: Option<u32>,
}

/// `[webhook]`: where escalation events are posted as JSON (an SMS or phone
/// gateway). Plain `http://` only: put a TLS-terminating relay in front for
/// anything beyond the local network.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// E.g. "http://127.0.0.1:9000/tsunagu".
    pub url: String,
    /// The installation's public address, for the link in each event.
    pub public_url: String,
}

/// `[mail]`: how notification mails leave (through a local mail program that
/// knows the relay) and where their link points.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// E.g. "/usr/sbin/sendmail -t -i".
    pub command: String,
    /// The sender address, e.g. "tsunagu@city.example.lg.jp".
    pub from: String,
    /// The installation's public address, e.g. "https://tsunagu.city.example.lg.jp".
    pub public_url: String,
}

impl FileConfig {
    /// Reads `path` if given, else `./tsunagu.toml` if it exists.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("tsunagu.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path, source })
    }
}

/// A database URL that never prints its password.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: String) -> Self {
        Self(url)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The database file, when this is an SQLite URL (`sqlite://path`,
    /// `sqlite:path?options` or a bare path).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        if self.0.starts_with("postgres://") || self.0.starts_with("postgresql://") {
            return None;
        }
        let rest = self.0.strip_prefix("sqlite://").or_else(|| self.0.strip_prefix("sqlite:")).unwrap_or(&self.0);
        let path = rest.split('?').next().unwrap_or_default();
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// The default: an SQLite file under ./data of the current directory,
    /// so several installations can live side by side.
    pub fn default_sqlite() -> Result<Self, ConfigError> {
        let dir = PathBuf::from("data");
        std::fs::create_dir_all(&dir).map_err(|source| ConfigError::DataDir { path: dir.clone(), source })?;
        Ok(Self(format!("sqlite://{}", dir.join("tsunagu.db").display())))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the userinfo part (before the last '@' of the authority) can hold a password.
        if let Some((scheme, rest)) = self.0.split_once("://") {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            if let Some(at) = rest[..authority_end].rfind('@')
                && let Some((user, _password)) = rest[..at].split_once(':')
            {
                return write!(f, "{scheme}://{user}:***{}", &rest[at..]);
            }
        }
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_never_print() {
        let url = DatabaseUrl::new("postgres://tsunagu:s3cret@db.example:5432/tsunagu".into());
        assert_eq!(url.to_string(), "postgres://tsunagu:***@db.example:5432/tsunagu");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(DatabaseUrl::new("sqlite://data/t.db".into()).to_string(), "sqlite://data/t.db");
        let no_password = "postgres://root@127.0.0.1:5432/test";
        assert_eq!(DatabaseUrl::new(no_password.into()).to_string(), no_password);
    }

    #[test]
    fn the_sqlite_file_is_found_in_every_url_form() {
        let file = |u: &str| DatabaseUrl::new(u.into()).sqlite_file();
        assert_eq!(file("sqlite://data/tsunagu.db"), Some(PathBuf::from("data/tsunagu.db")));
        assert_eq!(file("sqlite:/srv/t.db?mode=rwc"), Some(PathBuf::from("/srv/t.db")));
        assert_eq!(file("/srv/t.db"), Some(PathBuf::from("/srv/t.db")));
        assert_eq!(file("postgres://u@h/db"), None);
        assert_eq!(file("sqlite::memory:"), None);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("listen = \"127.0.0.1:9000\"").is_ok());
        assert!(toml::from_str::<FileConfig>("lisen = \"127.0.0.1:9000\"").is_err());
        let mail = "[mail]\ncommand = \"/usr/sbin/sendmail -t -i\"\nfrom = \"a@example.jp\"\npublic_url = \"https://t.example.jp\"";
        assert!(toml::from_str::<FileConfig>(mail).is_ok_and(|c| c.mail.is_some()));
        assert!(toml::from_str::<FileConfig>("[mail]\ncommand = \"sendmail\"").is_err(), "all three are needed");
        let map =
            toml::from_str::<FileConfig>("public_reads_per_minute = 0\n[map]\nattribution = \"地理院タイル（淡色）\"");
        let tiles = map.ok().and_then(|c| c.map).map(|m| m.tiles()).unwrap_or_default();
        assert_eq!(tiles.attribution, "地理院タイル（淡色）");
        assert!(tiles.url.starts_with("https://cyberjapandata.gsi.go.jp/"), "the rest keeps its default");
        assert!(toml::from_str::<FileConfig>("[map]\ntiles = \"x\"").is_err());
    }
}
