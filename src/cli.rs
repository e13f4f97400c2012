//! Command-line interface: every option is a flag with a `CHAT_*` env var.
//!
//! Parsing only; turning these raw values into a checked [`crate::config::Config`]
//! happens in `config.rs`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "palaver",
    version,
    about = "Self-hosted, single-binary real-time chat"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// TOML config file whose keys are these options' long names, e.g.
    /// `bind = "0.0.0.0:8080"` or `max_upload_mb = 20`. Also CHAT_CONFIG;
    /// default: ./palaver.toml if it exists. Flags beat the environment,
    /// which beats the file.
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,

    /// Address to listen on.
    #[arg(
        long,
        env = "CHAT_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// Directory for the database, uploads and generated secrets.
    #[arg(long, env = "CHAT_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL; default is the SQLite file `palaver.db` in the data dir.
    #[arg(long, env = "CHAT_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Log filter in tracing's EnvFilter syntax, e.g. `info` or `palaver=debug`.
    #[arg(long, env = "CHAT_LOG", default_value = "info", global = true)]
    pub log: String,

    /// bcrypt cost for new password hashes (4-31; use at least 10 in production).
    #[arg(long, env = "CHAT_BCRYPT_COST", default_value_t = 12, global = true)]
    pub bcrypt_cost: u32,

    /// How long a login session lasts, in hours.
    #[arg(long, env = "CHAT_SESSION_HOURS", default_value_t = 24 * 30, global = true)]
    pub session_hours: u32,

    /// Longest message body, in characters.
    #[arg(
        long,
        env = "CHAT_MAX_MESSAGE_CHARS",
        default_value_t = 4000,
        global = true
    )]
    pub max_message_chars: usize,

    /// How long after posting a user may still edit their message, in
    /// minutes; 0 = always. Admins may edit any message at any time.
    #[arg(
        long,
        env = "CHAT_EDIT_WINDOW_MINUTES",
        default_value_t = 24 * 60,
        global = true
    )]
    pub edit_window_minutes: u64,

    /// Failed logins allowed per account in the throttle window before 429.
    #[arg(
        long,
        env = "CHAT_LOGIN_FAILURES_PER_ACCOUNT",
        default_value_t = 5,
        global = true
    )]
    pub login_failures_per_account: u32,

    /// Failed logins allowed per client IP in the throttle window before 429.
    #[arg(
        long,
        env = "CHAT_LOGIN_FAILURES_PER_IP",
        default_value_t = 20,
        global = true
    )]
    pub login_failures_per_ip: u32,

    /// Length of the failed-login throttle window, in seconds.
    #[arg(
        long,
        env = "CHAT_LOGIN_WINDOW_SECS",
        default_value_t = 900,
        global = true
    )]
    pub login_window_secs: u64,

    /// The site's public URL (e.g. https://chat.example.org), used for Origin checks.
    #[arg(long, env = "CHAT_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Directory whose `static/` and `templates/` override the embedded ones;
    /// default is the directory holding the executable.
    #[arg(long, env = "CHAT_ASSETS_DIR", global = true)]
    pub assets_dir: Option<PathBuf>,

    /// Largest upload, in megabytes (MiB).
    #[arg(long, env = "CHAT_MAX_UPLOAD_MB", default_value_t = 10, global = true)]
    pub max_upload_mb: u64,

    /// Seconds between WebSocket pings.
    #[arg(
        long,
        env = "CHAT_WS_HEARTBEAT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub ws_heartbeat_secs: u64,

    /// A WebSocket peer silent this many seconds is dropped.
    #[arg(
        long,
        env = "CHAT_WS_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub ws_timeout_secs: u64,

    /// Largest WebSocket message (after reassembling fragments), in bytes.
    #[arg(
        long,
        env = "CHAT_WS_MAX_MESSAGE_BYTES",
        default_value_t = 65536,
        global = true
    )]
    pub ws_max_message_bytes: usize,

    /// Frames that may wait for a slow WebSocket client before it is disconnected.
    #[arg(long, env = "CHAT_WS_QUEUE", default_value_t = 4096, global = true)]
    pub ws_queue: usize,

    /// Extra origins allowed to open WebSockets (comma-separated, exact match).
    #[arg(
        long,
        env = "CHAT_WS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub ws_allowed_origins: Vec<String>,

    /// Messages per second each user may send (token bucket refill rate).
    #[arg(long, env = "CHAT_SEND_RATE", default_value_t = 10, global = true)]
    pub send_rate: u32,

    /// Messages a user may send in a burst before the rate applies.
    #[arg(long, env = "CHAT_SEND_BURST", default_value_t = 20, global = true)]
    pub send_burst: u32,

    /// Open WebSockets allowed per user.
    #[arg(
        long,
        env = "CHAT_MAX_SOCKETS_PER_USER",
        default_value_t = 32,
        global = true
    )]
    pub max_sockets_per_user: usize,

    /// Open WebSockets allowed per client IP.
    #[arg(
        long,
        env = "CHAT_MAX_CONNECTIONS_PER_IP",
        default_value_t = 512,
        global = true
    )]
    pub max_connections_per_ip: usize,

    /// Seconds between checks that open WebSockets still belong to live
    /// sessions (logged out elsewhere, expired, account disabled → 1008).
    #[arg(
        long,
        env = "CHAT_SESSION_CHECK_SECS",
        default_value_t = 30,
        global = true
    )]
    pub session_check_secs: u64,

    /// Test-only: `/ws` skips authentication and echoes every message, for
    /// the Autobahn conformance suite (scripts/autobahn.sh). Never in production.
    #[arg(long, env = "CHAT_CONFORMANCE_ECHO", hide = true, global = true)]
    pub conformance_echo: bool,

    /// `full`: fsync every write batch before acknowledging it (survives power
    /// loss). `relaxed`: faster, survives a crash of Palaver but not of the machine.
    #[arg(long, env = "CHAT_DURABILITY", value_enum, default_value_t = Durability::Full, global = true)]
    pub durability: Durability,

    /// PEM certificate (chain) to serve HTTPS and WSS with; needs --tls-key.
    #[arg(long, env = "CHAT_TLS_CERT", global = true)]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "CHAT_TLS_KEY", global = true)]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS with a development certificate for localhost, made once
    /// and kept in <data dir>/tls/; its fingerprint is printed at start-up.
    #[arg(long, env = "CHAT_TLS_SELF_SIGNED", global = true)]
    pub tls_self_signed: bool,

    /// Also listen for plain HTTP on this port (same address as --bind) and
    /// redirect every request there to HTTPS with 301. Needs TLS.
    #[arg(long, env = "CHAT_REDIRECT_HTTP", global = true)]
    pub redirect_http: Option<u16>,

    /// A reverse proxy is in front: trust its X-Forwarded-For/-Proto/-Host
    /// and Forwarded headers for the client IP and the site's origin.
    #[arg(long, env = "CHAT_BEHIND_PROXY", global = true)]
    pub behind_proxy: bool,
}

#[derive(Debug, Clone, Default, Subcommand)]
pub enum Command {
    /// Run the chat server (the default).
    #[default]
    Serve,
    /// Create the data dir and apply pending database migrations, then exit.
    Migrate,
    /// Manage accounts (works while the server runs).
    #[command(subcommand, after_help = crate::admin::EXIT_CODES_HELP)]
    User(crate::admin::UserCommand),
    /// Manage rooms (works while the server runs).
    #[command(subcommand, after_help = crate::admin::EXIT_CODES_HELP)]
    Room(crate::admin::RoomCommand),
    /// Copy the database to FILE, safely while the server runs.
    ///
    /// Uses SQLite's `VACUUM INTO`: an online, consistent snapshot that does
    /// not stop the server's writes. Never overwrites FILE. Uploaded files
    /// and secret.key are in the data dir; copy them with ordinary tools.
    #[command(after_help = crate::admin::EXIT_CODES_HELP)]
    Backup {
        /// Where to write the copy; must not exist yet.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the effective configuration.
    ///
    /// Every option, its value and where it came from (flag, environment,
    /// config file, default), as TOML; secrets are masked.
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Durability {
    Full,
    Relaxed,
}

impl Cli {
    /// Parse `std::env::args`. `--help`/`--version` print and give exit 0;
    /// a usage error prints one line on stderr and gives exit code 2.
    pub fn parse_or_exit_code() -> Result<Self, ExitCode> {
        Self::try_parse_from_args(std::env::args_os())
    }

    pub fn try_parse_from_args<I, T>(args: I) -> Result<Self, ExitCode>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        match Self::try_parse_from(args) {
            Ok(cli) => Ok(cli),
            Err(err) if !err.use_stderr() => {
                // --help and --version: clap's own output, exit 0.
                let _ = err.print();
                Err(ExitCode::SUCCESS)
            }
            Err(err) => {
                eprintln!("palaver: {}", one_line(&err.to_string()));
                Err(ExitCode::from(2))
            }
        }
    }
}

/// The first line of a clap error, without its `error: ` prefix.
/// When that line ends with a colon (e.g. "the following required
/// arguments were not provided:"), the items listed under it are appended.
fn one_line(message: &str) -> String {
    let mut lines = message.lines();
    let first = lines.next().unwrap_or("invalid arguments");
    let mut line = first.trim_start_matches("error: ").trim().to_string();
    if line.ends_with(':') {
        let items: Vec<&str> = lines.map(str::trim).take_while(|l| !l.is_empty()).collect();
        if !items.is_empty() {
            line = format!("{line} {}", items.join(", "));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_subcommand_means_serve_with_defaults() {
        let cli = Cli::try_parse_from(["palaver"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn options_are_accepted_after_the_subcommand() {
        let cli = Cli::try_parse_from(["palaver", "migrate", "--data-dir", "/tmp/x"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Migrate)));
        assert_eq!(cli.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn a_bad_bind_address_is_a_usage_error() {
        let err = Cli::try_parse_from(["palaver", "--bind", "nonsense"]).unwrap_err();
        assert!(err.use_stderr());
        assert!(one_line(&err.to_string()).contains("--bind"));
    }

    /// The README's configuration table lists every option with its flag
    /// and default, so the documentation cannot drift from the code.
    #[test]
    fn the_readme_config_table_matches_the_cli() {
        use clap::CommandFactory;
        let readme = include_str!("../README.md");
        for arg in Cli::command().get_arguments() {
            let Some(env) = arg.get_env() else { continue };
            if arg.is_hide_set() {
                continue;
            }
            let env = env.to_string_lossy();
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{env}` |")))
                .unwrap_or_else(|| panic!("README has no row for {env}"));
            let flag = format!("`--{}`", arg.get_long().unwrap());
            assert!(row.contains(&flag), "README row for {env} lacks {flag}");
            for default in arg.get_default_values() {
                let default = format!("`{}`", default.to_string_lossy());
                let cells: Vec<&str> = row.split('|').collect();
                let shown = cells.get(3).copied().unwrap_or_default();
                assert!(
                    shown.contains(&default),
                    "README default for {env} is {shown}, code says {default}"
                );
            }
        }
    }

    #[test]
    fn one_line_strips_the_prefix_and_keeps_the_first_line() {
        assert_eq!(one_line("error: bad thing\n\nUsage: x"), "bad thing");
        assert_eq!(
            one_line(
                "error: the following required arguments were not provided:\n  <NAME>\n\nUsage: x"
            ),
            "the following required arguments were not provided: <NAME>"
        );
    }
}
