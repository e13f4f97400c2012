//! `AppState`: what every handler shares, built once by `Application::build`.

use actix_web::web;

use actix::Addr;

use crate::auth::csrf::CsrfKey;
use crate::auth::throttle::LoginThrottle;
use crate::chat::server::ChatServer;
use crate::chat::session::WsLimits;
use crate::chat::SendLimiter;
use crate::config::Config;
use crate::db::writer::WriterHandle;
use crate::db::{Conn, DbPool};
use crate::error::AppError;

pub struct AppState {
    pub config: Config,
    pub pool: DbPool,
    pub templates: tera::Tera,
    pub writer: WriterHandle,
    pub chat: Addr<ChatServer>,
    pub ws_limits: WsLimits,
    pub send_limiter: SendLimiter,
    pub uploads: crate::uploads::Store,
    pub metrics: crate::metrics::Metrics,
    pub csrf: CsrfKey,
    pub throttle: LoginThrottle,
    /// bcrypt hash checked for unknown users, at the configured cost.
    pub dummy_hash: String,
    /// Cookies get `Secure` and the `__Host-` prefix (site served over HTTPS).
    pub secure_cookies: bool,
    /// When Palaver serves HTTPS itself: its HTTPS port, where the plain-HTTP
    /// redirect listener sends browsers (`web::middleware::https`).
    pub https_port: Option<u16>,
}

impl AppState {
    /// The CSRF and Origin check every state-changing form goes through
    /// (see `auth::csrf`), with this server's settings.
    pub fn check_form(
        &self,
        req: &actix_web::HttpRequest,
        user: Option<&crate::auth::CurrentUser>,
        token: Option<&str>,
    ) -> Result<(), AppError> {
        crate::auth::csrf::check(
            &self.csrf,
            req,
            user,
            token,
            self.secure_cookies,
            self.config.public_origin.as_deref(),
            self.config.behind_proxy,
        )
    }

    /// Run a query function on a pooled connection on the blocking pool.
    pub async fn db<F, T, E>(&self, query: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            query(&mut conn).map_err(Into::into)
        })
        .await?
    }
}
