//! Palaver: a self-hosted, single-binary real-time chat service.
//!
//! [`Application::build`] turns a [`config::Config`] into a bound, ready
//! server; `main.rs`, the integration tests and the tools all start Palaver
//! through it. See README.md ("Architecture") for a map of the modules.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod config;
pub mod config_file;
pub mod db;
pub mod domain;
pub mod error;
pub mod markdown;
pub mod metrics;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod uploads;
pub mod web;

use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;

use actix::Actor;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{middleware::from_fn, web as aweb, App, HttpServer};
use anyhow::Context;

use crate::auth::csrf::CsrfKey;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::db::writer::WriterHandle;
use crate::error::AppError;
use crate::state::AppState;

/// Largest form body accepted (a message of 4000 four-byte characters,
/// url-encoded, fits with room to spare).
const FORM_LIMIT_BYTES: usize = 64 * 1024;

/// Zero: no lingering before closing a connection whose request body was
/// not read to the end. actix-http's default (1 s) keeps a finished
/// WebSocket's TCP connection open after the close handshake, which RFC 6455
/// §7.1.1 says the server should drop at once (Autobahn case 2.2 etc.).
const CLIENT_DISCONNECT_TIMEOUT: std::time::Duration = std::time::Duration::ZERO;

/// How long in-flight HTTP requests may take to finish after a shutdown
/// signal before their connections are dropped.
const SHUTDOWN_GRACE_SECS: u64 = 10;

/// A bound server, ready to run.
pub struct Application {
    address: SocketAddr,
    redirect_address: Option<SocketAddr>,
    server: Server,
    writer_thread: JoinHandle<()>,
    chat: actix::Addr<chat::server::ChatServer>,
}

/// Stops a running [`Application`] gracefully: every WebSocket is closed
/// with 1001, in-flight HTTP requests finish (bounded), then the writer
/// stores everything it accepted and the run ends.
#[derive(Clone)]
pub struct ShutdownHandle {
    server: ServerHandle,
    chat: actix::Addr<chat::server::ChatServer>,
}

impl ShutdownHandle {
    pub async fn shutdown(&self) {
        let _ = self.chat.send(chat::messages::Shutdown).await;
        self.server.stop(true).await;
    }
}

impl Application {
    /// Prepare the data dir and database, start the writer, bind the port.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        db::prepare(&config)?;
        let pool = db::build_pool(&config)?;
        db::wal::spawn_keeper(pool.clone(), config.sqlite_path());
        let metrics = metrics::Metrics::new();
        let writer_conn = db::SqliteSetup {
            durability: config.durability,
        }
        .open(config.sqlite_path())?;
        let chat = chat::server::ChatServer::new(
            chat::server::ConnectionLimits {
                per_user: config.max_sockets_per_user,
                per_ip: config.max_connections_per_ip,
                session_check: config.session_check,
            },
            pool.clone(),
            metrics.clone(),
        )
        .start();
        let (writer, writer_thread) = WriterHandle::spawn(
            writer_conn,
            chat::publish_hook(chat.clone()),
            metrics.clone(),
        )?;
        let templates = assets::templates(config.assets_dir.as_deref())?;
        let static_dir =
            assets::materialize_static(&config.data_dir, config.assets_dir.as_deref())?;
        let csrf = CsrfKey::load_or_create(&config.data_dir)?;
        let cost = config.bcrypt_cost;
        let data_dir = config.data_dir.clone();
        let dummy_hash =
            aweb::block(move || auth::password::load_or_create_dummy_hash(&data_dir, cost))
                .await
                .context("Failed to prepare the dummy password hash")??;

        let tls = match &config.tls {
            Some(source) => Some(
                tls::server_config(&tls::load(source, &config.data_dir)?)
                    .context("Failed to set up TLS")?,
            ),
            None => None,
        };
        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("Failed to bind {}", config.bind))?;
        let address = listener.local_addr()?;
        let redirect_listener = match config.redirect_http {
            Some(port) => {
                let at = SocketAddr::new(config.bind.ip(), port);
                Some(TcpListener::bind(at).with_context(|| format!("Failed to bind {at}"))?)
            }
            None => None,
        };
        let redirect_address = redirect_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        log_transport(&config, address, redirect_address);
        let state = aweb::Data::new(AppState {
            throttle: LoginThrottle::new(
                config.login_failures_per_account,
                config.login_failures_per_ip,
                config.login_window,
            ),
            secure_cookies: config.tls.is_some()
                || config
                    .public_origin
                    .as_deref()
                    .is_some_and(|o| o.starts_with("https://")),
            https_port: tls.is_some().then_some(address.port()),
            ws_limits: chat::session::WsLimits {
                heartbeat: config.ws_heartbeat,
                timeout: config.ws_timeout,
                max_message_bytes: config.ws_max_message_bytes,
                queue: config.ws_queue,
            },
            send_limiter: chat::send_limiter(config.send_rate, config.send_burst),
            uploads: uploads::Store::new(&config.data_dir)?,
            metrics,
            config,
            pool,
            templates,
            writer,
            chat: chat.clone(),
            csrf,
            dummy_hash,
        });

        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(
                    aweb::FormConfig::default()
                        .limit(FORM_LIMIT_BYTES)
                        .error_handler(|err, _| {
                            AppError::bad_request(format!("The form could not be read: {err}"))
                                .into()
                        }),
                )
                .app_data(
                    aweb::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()),
                )
                .app_data(aweb::QueryConfig::default().error_handler(|err, _| {
                    AppError::bad_request(format!("Bad query string: {err}")).into()
                }))
                .wrap(from_fn(web::middleware::https))
                .wrap(web::middleware::error_pages())
                .wrap(web::middleware::security_headers())
                .wrap(from_fn(web::middleware::log_requests))
                .configure(web::routes)
                .service(
                    actix_files::Files::new("/static", static_dir.clone())
                        .use_etag(true)
                        .use_last_modified(true),
                )
                .default_service(aweb::to(web::pages::not_found))
        })
        .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
        // Keeps each connection's write buffer at its initial size, so an
        // idle WebSocket holds no memory for frames it sent long ago.
        .h1_write_buffer_size(chat::session::WRITE_BUFFER_BYTES)
        // Chat frames are small and latency-bound: never hold them back
        // waiting for the peer's delayed ACK (Nagle).
        .tcp_nodelay(true)
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        // Signals are ours (see `run_until_signal`): sockets must get 1001.
        .disable_signals();
        let server = match tls {
            Some(tls) => server.listen_rustls_0_23(listener, tls)?,
            None => server.listen(listener)?,
        };
        // The same app serves the redirect port: `web::middleware::https`
        // answers everything that arrives there with 301.
        let server = match redirect_listener {
            Some(redirect) => server.listen(redirect)?,
            None => server,
        };
        let server = server.run();
        Ok(Application {
            address,
            redirect_address,
            server,
            writer_thread,
            chat,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Where the plain-HTTP redirect listens (`--redirect-http`), if it does.
    pub fn redirect_address(&self) -> Option<SocketAddr> {
        self.redirect_address
    }

    /// A handle to stop the server gracefully.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            server: self.server.handle(),
            chat: self.chat.clone(),
        }
    }

    /// Serve until SIGINT or SIGTERM, then shut down gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        let handle = self.shutdown_handle();
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            tracing::info!(
                "shutting down: closing WebSockets, finishing requests, flushing writes"
            );
            handle.shutdown().await;
        });
        self.run_until_stopped().await?;
        tracing::info!("stopped cleanly");
        Ok(())
    }

    /// Serve until the server is stopped, then let the writer finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await?;
        // The server's workers (and with them every writer handle) are gone;
        // the writer drains what it was given and exits.
        let writer = self.writer_thread;
        aweb::block(move || writer.join())
            .await
            .context("waiting for the writer")?
            .map_err(|_| anyhow::anyhow!("the writer thread panicked"))?;
        Ok(())
    }
}

/// Say how the site is reached, and warn when cookies will lack `Secure`
/// behind a proxy that (probably) terminates TLS.
fn log_transport(config: &Config, address: SocketAddr, redirect: Option<SocketAddr>) {
    let https_public = config
        .public_origin
        .as_deref()
        .is_some_and(|o| o.starts_with("https://"));
    if config.tls.is_some() {
        tracing::info!(%address, "serving HTTPS and WSS");
    }
    if let Some(redirect) = redirect {
        tracing::info!(address = %redirect, "redirecting plain HTTP to HTTPS");
    }
    if config.behind_proxy && config.tls.is_none() && !https_public {
        tracing::warn!(
            "behind a proxy without CHAT_PUBLIC_URL=https://...: cookies are not marked Secure"
        );
    }
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
