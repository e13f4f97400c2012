//! The load tool's command line, and the checks that keep a run bounded and
//! on this machine unless asked otherwise.

use std::net::IpAddr;

use anyhow::{bail, Context};
use clap::Parser;
use reqwest::Url;

/// Load-test a Palaver server (or a reference peer with --raw) over real
/// WebSockets: N clients in R rooms, S of them sending, latency measured at
/// every receiver.
///
/// Start the server with cheap bcrypt and raised limits, e.g.
/// CHAT_BCRYPT_COST=4 CHAT_SEND_RATE=100000 CHAT_SEND_BURST=100000
/// CHAT_MAX_CONNECTIONS_PER_IP=100000 palaver
///
/// then: palaver-load --url http://127.0.0.1:8080 --clients 200 --senders 20
#[derive(Debug, Parser)]
#[command(name = "palaver-load", version, verbatim_doc_comment)]
pub struct Args {
    /// The server to load (required, e.g. http://127.0.0.1:8080; ws:// also
    /// works). The WebSocket is its /ws.
    #[arg(long)]
    pub url: String,

    /// Allow a URL whose host is not a loopback address.
    #[arg(long)]
    pub allow_remote: bool,

    /// Reference-peer mode (/work/shared/peers): plain WebSocket, no login,
    /// no rooms; every text frame received counts as a delivery.
    #[arg(long, visible_alias = "peer")]
    pub raw: bool,

    /// WebSocket connections to open.
    #[arg(short, long, default_value_t = 100)]
    pub clients: u32,

    /// Accounts to spread the connections over [default: one per client].
    #[arg(long)]
    pub users: Option<u32>,

    /// Rooms; client i joins room i mod ROOMS.
    #[arg(short, long, default_value_t = 1)]
    pub rooms: u32,

    /// Clients that send (the first SENDERS clients, so spread over the rooms).
    #[arg(short, long, default_value_t = 10)]
    pub senders: u32,

    /// Total messages per second over all senders. Without it each sender
    /// sends as fast as acks allow, keeping --window messages in flight.
    #[arg(long)]
    pub rate: Option<f64>,

    /// Unacknowledged messages per sender when no --rate is given.
    #[arg(long, default_value_t = 1)]
    pub window: u32,

    /// With --rate: unacknowledged messages per sender beyond which sends are
    /// skipped (and counted) instead of piling up.
    #[arg(long, default_value_t = 256)]
    pub max_inflight: u32,

    /// Seconds measured, after the warm-up.
    #[arg(short, long, default_value_t = 20)]
    pub duration: u64,

    /// Seconds of sending before measuring starts.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,

    /// Seconds to keep receiving after sending stops, so messages sent at the
    /// end of the window still arrive.
    #[arg(long, default_value_t = 2)]
    pub drain: u64,

    /// Pad message bodies to this many bytes (0: just the ~45-byte stamp).
    #[arg(long, default_value_t = 0)]
    pub body_bytes: usize,

    /// Connections (and logins) being set up at once.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,

    /// Registrations and logins at once (each costs a bcrypt on the server).
    #[arg(long, default_value_t = 16)]
    pub login_concurrency: usize,

    /// Seconds allowed for logging in, connecting and joining.
    #[arg(long, default_value_t = 120)]
    pub setup_timeout: u64,

    /// Account names are PREFIX0, PREFIX1, ... (registered if missing).
    #[arg(long, default_value = "load")]
    pub user_prefix: String,

    /// Password of the load accounts.
    #[arg(
        long,
        env = "PALAVER_LOAD_PASSWORD",
        default_value = "load-test-password"
    )]
    pub password: String,

    /// Room names are PREFIX-0, PREFIX-1, ... (created if missing).
    #[arg(long, default_value = "load")]
    pub room_prefix: String,

    /// Reuse the tokens in this file (one per line) if it has enough; otherwise
    /// log in and write the tokens to it.
    #[arg(long)]
    pub tokens_file: Option<std::path::PathBuf>,

    /// PID of the server (or peer) process, to report the CPU time it used in
    /// the measured window (Linux).
    #[arg(long)]
    pub server_pid: Option<u32>,

    /// Worker threads of the load tool [default: one per CPU].
    #[arg(long)]
    pub threads: Option<usize>,

    /// Print one JSON object on stdout (the human summary goes to stderr).
    #[arg(long)]
    pub json: bool,

    /// No progress line.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Longest measured window, warm-up or drain: a load run always ends.
const MAX_PHASE_SECS: u64 = 3600;

impl Args {
    pub fn validate(&self) -> anyhow::Result<()> {
        self.urls()?;
        if self.clients == 0 {
            bail!("--clients must be at least 1");
        }
        if self.rooms == 0 || self.rooms > self.clients {
            bail!("--rooms must be between 1 and --clients");
        }
        if self.raw && self.rooms != 1 {
            bail!("--raw has one room: a peer broadcasts every frame to every client");
        }
        if self.senders > self.clients {
            bail!("--senders cannot exceed --clients");
        }
        if matches!(self.users, Some(0)) || self.users.is_some_and(|u| u > self.clients) {
            bail!("--users must be between 1 and --clients");
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate > 0.0) {
                bail!("--rate must be a positive number of messages per second");
            }
        }
        if self.window == 0 || self.max_inflight == 0 {
            bail!("--window and --max-inflight must be at least 1");
        }
        if self.duration == 0 {
            bail!("--duration must be at least 1 second");
        }
        if [self.duration, self.warmup, self.drain, self.setup_timeout]
            .iter()
            .any(|&s| s > MAX_PHASE_SECS)
        {
            bail!(
                "--duration, --warmup, --drain and --setup-timeout are at most {MAX_PHASE_SECS} s"
            );
        }
        if let Some(pid) = self.server_pid {
            if !super::machine::process_exists(pid) {
                bail!("--server-pid {pid}: no such process (or no /proc here)");
            }
        }
        if self.connect_concurrency == 0 || self.login_concurrency == 0 {
            bail!("--connect-concurrency and --login-concurrency must be at least 1");
        }
        let longest_name = format!("{}{}", self.user_prefix, self.users() - 1);
        if !self.raw && !is_username(&longest_name) {
            bail!("--user-prefix must make names of 1-32 letters, digits, '_', '-', '.' (e.g. {longest_name:?} does not)");
        }
        Ok(())
    }

    /// Accounts used: each client is account `i mod users`.
    pub fn users(&self) -> u32 {
        self.users.unwrap_or(self.clients)
    }

    /// The HTTP base URL and the WebSocket URL, after the loopback check.
    pub fn urls(&self) -> anyhow::Result<(Url, String)> {
        let mut url =
            Url::parse(&self.url).with_context(|| format!("--url {:?} is not a URL", self.url))?;
        let http_scheme = match url.scheme() {
            "http" | "ws" => "http",
            "https" | "wss" => bail!("TLS is not supported by palaver-load; load the plain-HTTP listener (e.g. behind the proxy)"),
            other => bail!("--url scheme {other:?}: use http:// or ws://"),
        };
        if !self.allow_remote && !is_loopback(&url) {
            bail!(
                "--url {} is not a loopback address; pass --allow-remote to load another machine",
                self.url
            );
        }
        url.set_scheme(http_scheme)
            .map_err(|()| anyhow::anyhow!("cannot use --url {:?}", self.url))?;
        let path = match url.path() {
            "" | "/" => "/ws".to_string(),
            path => path.to_string(),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let host = url.host_str().unwrap_or("127.0.0.1");
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let ws = format!("ws://{host}:{port}{path}");
        url.set_path("/");
        Ok((url, ws))
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

fn is_username(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["palaver-load"];
        argv.extend_from_slice(extra);
        Args::parse_from(argv)
    }

    #[test]
    fn the_websocket_url_is_derived_from_the_http_one() -> anyhow::Result<()> {
        let (http, ws) = args(&["--url", "http://127.0.0.1:8080"]).urls()?;
        assert_eq!(http.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(ws, "ws://127.0.0.1:8080/ws");
        let (_, ws) = args(&["--url", "ws://localhost:9001/ws", "--raw"]).urls()?;
        assert_eq!(ws, "ws://localhost:9001/ws");
        let (_, ws) = args(&["--url", "http://[::1]:9001"]).urls()?;
        assert_eq!(ws, "ws://[::1]:9001/ws");
        Ok(())
    }

    #[test]
    fn other_machines_are_refused_unless_allowed() {
        assert!(args(&["--url", "http://10.0.0.5:8080"]).urls().is_err());
        assert!(args(&["--url", "http://example.org"]).urls().is_err());
        assert!(args(&["--url", "http://10.0.0.5:8080", "--allow-remote"])
            .urls()
            .is_ok());
    }

    #[test]
    fn impossible_shapes_are_rejected() {
        assert!(args(&["--url", "http://127.0.0.1", "--senders", "200"])
            .validate()
            .is_err());
        assert!(args(&["--url", "http://127.0.0.1", "--rate", "0"])
            .validate()
            .is_err());
        assert!(args(&["--url", "http://127.0.0.1"]).validate().is_ok());
    }
}
