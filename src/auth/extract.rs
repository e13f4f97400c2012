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
}

/// The user, if the request carries a live session.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

/// The token this request presents, bearer header first.
fn presented_token(req: &HttpRequest, secure: bool) -> Option<String> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let token = bearer.or_else(|| {
        req.cookie(session::cookie_name(secure))
            .map(|c| c.value().to_string())
    })?;
    session::is_well_formed(&token).then_some(token)
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
                Some(token) => {
                    let hash = session::hash_token(&token);
                    state
                        .db(move |conn| db::sessions::find_active(conn, &hash))
                        .await?
                        .map(|(_, user)| CurrentUser {
                            id: user.id,
                            name: user.name,
                            is_admin: user.is_admin,
                            token,
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
