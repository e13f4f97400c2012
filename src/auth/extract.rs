//! `MaybeUser` and `CurrentUser`: who sent this request.
//!
//! The session token comes from `Authorization: Bearer TOKEN` (scripts and
//! tools) or else from the session cookie (browsers). Only well-formed tokens
//! reach the database, and the answer is cached in the request's extensions
//! so several extractors in one handler cost one query.

use actix_web::dev::Payload;
use actix_web::{http::header, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::session;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// A logged-in user and the token of the session making this request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i32,
    pub name: String,
    pub is_admin: bool,
    /// The raw session token (never stored): binds CSRF tokens, and logout
    /// deletes its hash.
    pub token: String,
    /// When the session expires (Unix ms): open sockets close then.
    pub expires_at: i64,
    /// Authenticated by `Authorization: Bearer` rather than the cookie
    /// (such requests need no CSRF or Origin check).
    pub via_bearer: bool,
}

/// The user, if the request carries a live session.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

/// The token this request presents, and whether it came as a bearer token.
/// A request with an `Authorization` header is judged by that header alone.
fn presented_token(req: &HttpRequest, secure: bool) -> Option<(String, bool)> {
    let (token, via_bearer) = match req.headers().get(header::AUTHORIZATION) {
        Some(value) => (
            value
                .to_str()
                .ok()?
                .strip_prefix("Bearer ")?
                .trim()
                .to_string(),
            true,
        ),
        None => (
            req.cookie(session::cookie_name(secure))?
                .value()
                .to_string(),
            false,
        ),
    };
    session::is_well_formed(&token).then_some((token, via_bearer))
}

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(cached) = req.extensions().get::<MaybeUser>() {
            let cached = cached.clone();
            return Box::pin(async move { Ok(cached) });
        }
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState missing")))?;
            let user = match presented_token(&req, state.secure_cookies) {
                None => None,
                Some((token, via_bearer)) => {
                    let hash = session::hash_token(&token);
                    state
                        .db(move |conn| db::sessions::find_active(conn, &hash))
                        .await?
                        .map(|(session, user)| CurrentUser {
                            id: user.id,
                            name: user.name,
                            is_admin: user.is_admin,
                            token,
                            expires_at: session.expires_at,
                            via_bearer,
                        })
                }
            };
            let found = MaybeUser(user);
            req.extensions_mut().insert(found.clone());
            Ok(found)
        })
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let maybe = MaybeUser::from_request(req, payload);
        Box::pin(async move { maybe.await?.0.ok_or(AppError::Unauthorized) })
    }
}
