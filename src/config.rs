//! `Config`: the one checked settings struct, built once from the CLI and
//! passed into [`crate::Application::build`]. Paths default from `data_dir`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::Cli;
pub use crate::cli::Durability;
pub use crate::tls::TlsSource;

/// bcrypt refuses costs outside this range.
const BCRYPT_COSTS: std::ops::RangeInclusive<u32> = 4..=31;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log: String,
    pub bcrypt_cost: u32,
    pub session_ttl: Duration,
    pub max_message_chars: usize,
    /// How long authors may edit their messages; `None`: always.
    pub edit_window: Option<Duration>,
    pub login_failures_per_account: u32,
    pub login_failures_per_ip: u32,
    pub login_window: Duration,
    /// `scheme://host[:port]` of the site, without a trailing slash.
    pub public_origin: Option<String>,
    pub assets_dir: Option<PathBuf>,
    pub durability: Durability,
    pub max_upload_bytes: u64,
    pub ws_heartbeat: Duration,
    pub ws_timeout: Duration,
    pub ws_max_message_bytes: usize,
    pub ws_queue: usize,
    pub ws_allowed_origins: Vec<String>,
    pub send_rate: u32,
    pub send_burst: u32,
    pub max_sockets_per_user: usize,
    pub max_connections_per_ip: usize,
    pub session_check: Duration,
    pub conformance_echo: bool,
    /// Serve HTTPS (and WSS) with this certificate; `None`: plain HTTP.
    pub tls: Option<TlsSource>,
    /// Plain-HTTP port that redirects every request to HTTPS (TLS only).
    pub redirect_http: Option<u16>,
    /// Trust `X-Forwarded-*` / `Forwarded` for the client IP and origin.
    pub behind_proxy: bool,
}

impl Config {
    /// [`Config::edit_window`] in milliseconds, as stored timestamps count.
    pub fn edit_window_ms(&self) -> Option<i64> {
        self.edit_window
            .map(|w| i64::try_from(w.as_millis()).unwrap_or(i64::MAX))
    }

    pub fn from_cli(cli: &Cli) -> Result<Self, String> {
        let database_url = cli.database_url.clone().unwrap_or_else(|| {
            cli.data_dir
                .join("palaver.db")
                .to_string_lossy()
                .into_owned()
        });
        let assets_dir = cli.assets_dir.clone().or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(PathBuf::from))
        });
        let config = Config {
            bind: cli.bind,
            data_dir: cli.data_dir.clone(),
            database_url,
            log: cli.log.clone(),
            bcrypt_cost: cli.bcrypt_cost,
            session_ttl: Duration::from_secs(u64::from(cli.session_hours) * 3600),
            max_message_chars: cli.max_message_chars,
            edit_window: (cli.edit_window_minutes > 0)
                .then(|| Duration::from_secs(cli.edit_window_minutes.saturating_mul(60))),
            login_failures_per_account: cli.login_failures_per_account,
            login_failures_per_ip: cli.login_failures_per_ip,
            login_window: Duration::from_secs(cli.login_window_secs),
            public_origin: cli
                .public_url
                .as_deref()
                .map(parse_origin)
                .transpose()
                .map_err(|e| format!("CHAT_PUBLIC_URL {e}"))?,
            assets_dir,
            durability: cli.durability,
            max_upload_bytes: cli.max_upload_mb.saturating_mul(1024 * 1024),
            ws_heartbeat: Duration::from_secs(cli.ws_heartbeat_secs),
            ws_timeout: Duration::from_secs(cli.ws_timeout_secs),
            ws_max_message_bytes: cli.ws_max_message_bytes,
            ws_queue: cli.ws_queue,
            ws_allowed_origins: cli
                .ws_allowed_origins
                .iter()
                .map(|o| parse_origin(o))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("CHAT_WS_ALLOWED_ORIGINS: each entry {e}"))?,
            send_rate: cli.send_rate,
            send_burst: cli.send_burst,
            max_sockets_per_user: cli.max_sockets_per_user,
            max_connections_per_ip: cli.max_connections_per_ip,
            session_check: Duration::from_secs(cli.session_check_secs),
            conformance_echo: cli.conformance_echo,
            tls: tls_source(cli)?,
            redirect_http: cli.redirect_http,
            behind_proxy: cli.behind_proxy,
        };
        config.validate()?;
        Ok(config)
    }

    /// Settings for tests and tools: everything default, data in `data_dir`,
    /// bound to an ephemeral loopback port, the cheapest bcrypt cost.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        #[allow(clippy::expect_used)]
        let cli = Cli::try_parse_from_args(["palaver"]).expect("defaults parse");
        let mut config = Config::from_cli(&cli).unwrap_or_else(|_| unreachable!());
        config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        config.database_url = data_dir.join("palaver.db").to_string_lossy().into_owned();
        config.data_dir = data_dir;
        config.bcrypt_cost = 4;
        config.assets_dir = None;
        config.log = "warn".into();
        // Tests send in bursts; the rate limit has tests of its own.
        config.send_rate = 1_000_000;
        config.send_burst = 1_000_000;
        config
    }

    pub fn validate(&self) -> Result<(), String> {
        if !BCRYPT_COSTS.contains(&self.bcrypt_cost) {
            return Err(format!(
                "CHAT_BCRYPT_COST must be between {} and {}, got {}",
                BCRYPT_COSTS.start(),
                BCRYPT_COSTS.end(),
                self.bcrypt_cost
            ));
        }
        if self.session_ttl.is_zero() {
            return Err("CHAT_SESSION_HOURS must be at least 1".into());
        }
        if self.max_message_chars == 0 {
            return Err("CHAT_MAX_MESSAGE_CHARS must be at least 1".into());
        }
        if self.login_window.is_zero() {
            return Err("CHAT_LOGIN_WINDOW_SECS must be at least 1".into());
        }
        if self.session_check.is_zero() {
            return Err("CHAT_SESSION_CHECK_SECS must be at least 1".into());
        }
        if self.ws_heartbeat.is_zero() || self.ws_timeout <= self.ws_heartbeat {
            return Err(
                "CHAT_WS_TIMEOUT_SECS must be longer than CHAT_WS_HEARTBEAT_SECS (and both above 0)"
                    .into(),
            );
        }
        // A frame must hold the longest message, JSON-escaped, with room to spare.
        let minimum = self.max_message_chars.saturating_mul(4).min(1024 * 1024);
        if self.ws_max_message_bytes < minimum {
            return Err(format!(
                "CHAT_WS_MAX_MESSAGE_BYTES must be at least {minimum} to carry a message of CHAT_MAX_MESSAGE_CHARS characters"
            ));
        }
        for (name, value) in [
            ("CHAT_WS_QUEUE", self.ws_queue),
            (
                "CHAT_MAX_UPLOAD_MB",
                (self.max_upload_bytes / (1024 * 1024)) as usize,
            ),
            ("CHAT_MAX_SOCKETS_PER_USER", self.max_sockets_per_user),
            ("CHAT_MAX_CONNECTIONS_PER_IP", self.max_connections_per_ip),
            ("CHAT_SEND_RATE", self.send_rate as usize),
            ("CHAT_SEND_BURST", self.send_burst as usize),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err("CHAT_DATA_DIR must not be empty".into());
        }
        if self.database_url.starts_with("postgres") {
            return Err("PostgreSQL is not supported by this build yet; use a SQLite path".into());
        }
        tracing_subscriber::EnvFilter::try_new(&self.log)
            .map_err(|err| format!("CHAT_LOG is not a valid log filter: {err}"))?;
        self.validate_tls()
    }

    /// The redirect port needs TLS, and given files must hold a usable
    /// certificate and key: found now, they are a config error (exit 2)
    /// rather than a failed start.
    fn validate_tls(&self) -> Result<(), String> {
        if let Some(port) = self.redirect_http {
            if self.tls.is_none() {
                return Err("CHAT_REDIRECT_HTTP needs HTTPS: give CHAT_TLS_CERT and CHAT_TLS_KEY, or CHAT_TLS_SELF_SIGNED".into());
            }
            if port == 0 || port == self.bind.port() {
                return Err(format!(
                    "CHAT_REDIRECT_HTTP must be a free port other than CHAT_BIND's, got {port}"
                ));
            }
        }
        if let Some(TlsSource::Files { cert, key }) = &self.tls {
            crate::tls::load_files(cert, key)?;
        }
        Ok(())
    }

    /// Path of the SQLite database file, with any `sqlite://` prefix removed.
    pub fn sqlite_path(&self) -> &str {
        self.database_url
            .strip_prefix("sqlite://")
            .unwrap_or(&self.database_url)
    }
}

/// `--tls-cert` with `--tls-key`, or `--tls-self-signed`, or neither.
fn tls_source(cli: &Cli) -> Result<Option<TlsSource>, String> {
    match (&cli.tls_cert, &cli.tls_key, cli.tls_self_signed) {
        (None, None, false) => Ok(None),
        (None, None, true) => Ok(Some(TlsSource::SelfSigned)),
        (Some(cert), Some(key), false) => Ok(Some(TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        })),
        (_, _, true) => {
            Err("CHAT_TLS_SELF_SIGNED cannot be combined with CHAT_TLS_CERT/CHAT_TLS_KEY".into())
        }
        (Some(_), None, false) => Err("CHAT_TLS_CERT needs CHAT_TLS_KEY as well".into()),
        (None, Some(_), false) => Err("CHAT_TLS_KEY needs CHAT_TLS_CERT as well".into()),
    }
}

/// `https://chat.example.org/` -> `https://chat.example.org`.
fn parse_origin(url: &str) -> Result<String, String> {
    let url = url.trim();
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| format!("must start with http:// or https://, got {url:?}"))?;
    if rest.is_empty() || rest.contains('/') {
        return Err(format!(
            "must be scheme://host[:port] with no path, got {url:?}"
        ));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_from(args: &[&str]) -> Result<Config, String> {
        let cli =
            Cli::try_parse_from_args(args.iter().copied()).map_err(|_| "usage".to_string())?;
        Config::from_cli(&cli)
    }

    #[test]
    fn the_database_defaults_to_a_file_in_the_data_dir() {
        let config = config_from(&["palaver", "--data-dir", "/srv/chat"]).unwrap();
        assert_eq!(config.database_url, "/srv/chat/palaver.db");
    }

    #[test]
    fn a_bcrypt_cost_out_of_range_is_refused() {
        let err = config_from(&["palaver", "--bcrypt-cost", "3"]).unwrap_err();
        assert!(err.contains("CHAT_BCRYPT_COST"), "{err}");
    }

    #[test]
    fn a_bad_log_filter_is_refused() {
        let err = config_from(&["palaver", "--log", "palaver=loud"]).unwrap_err();
        assert!(err.contains("CHAT_LOG"), "{err}");
    }

    #[test]
    fn public_url_is_reduced_to_an_origin() {
        let config =
            config_from(&["palaver", "--public-url", "https://chat.example.org/"]).unwrap();
        assert_eq!(
            config.public_origin.as_deref(),
            Some("https://chat.example.org")
        );
        assert!(config_from(&["palaver", "--public-url", "chat.example.org"]).is_err());
        assert!(config_from(&["palaver", "--public-url", "https://x.org/chat"]).is_err());
    }

    #[test]
    fn tls_settings_must_make_sense_together() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        for (args, mentions) in [
            (vec!["--tls-cert", cert], "CHAT_TLS_KEY"),
            (vec!["--tls-key", key], "CHAT_TLS_CERT"),
            (
                vec!["--tls-self-signed", "--tls-cert", cert, "--tls-key", key],
                "CHAT_TLS_SELF_SIGNED",
            ),
            (vec!["--redirect-http", "8081"], "CHAT_REDIRECT_HTTP"),
            (
                vec!["--tls-self-signed", "--redirect-http", "8080"],
                "CHAT_REDIRECT_HTTP",
            ),
            (vec!["--tls-cert", cert, "--tls-key", key], "cannot read"),
        ] {
            let mut all = vec!["palaver"];
            all.extend(args.iter().copied());
            let err = config_from(&all).unwrap_err();
            assert!(err.contains(mentions), "{args:?}: {err}");
        }
        let config =
            config_from(&["palaver", "--tls-self-signed", "--redirect-http", "8081"]).unwrap();
        assert_eq!(config.tls, Some(TlsSource::SelfSigned));
        assert_eq!(config.redirect_http, Some(8081));
        crate::tls::self_signed(dir.path()).unwrap();
        let config = config_from(&["palaver", "--tls-cert", cert, "--tls-key", key]).unwrap();
        assert!(matches!(config.tls, Some(TlsSource::Files { .. })));
    }
}
