//! Logging in and out, shared by the HTML forms and the JSON API.

use std::net::IpAddr;
use std::time::Instant;

use super::{password, session, CurrentUser, MaybeUser};
use crate::chat::messages::{CloseSessions, SessionFilter};
use crate::db;
use crate::db::models::User;
use crate::error::AppError;
use crate::state::AppState;

/// Why a login was refused, in words fit for the user.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Too many failed attempts. Try again in {0} seconds.")]
    Throttled(u64),
    #[error("Wrong username or password.")]
    BadCredentials,
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Other(#[from] AppError),
}

impl From<LoginError> for AppError {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::Throttled(retry_after) => AppError::TooManyRequests { retry_after },
            LoginError::BadCredentials => AppError::InvalidCredentials,
            LoginError::BadInput(message) => AppError::BadRequest(message),
            LoginError::Other(err) => err,
        }
    }
}

/// Check a name and password, with throttling and the same work for
/// unknown users as for wrong passwords.
pub async fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<User, LoginError> {
    if let Err(retry_after) = state.throttle.check(username, ip, Instant::now()) {
        return Err(LoginError::Throttled(retry_after));
    }
    let name = username.to_string();
    let found = state
        .db(move |conn| db::users::find_by_name(conn, &name))
        .await?
        .filter(|u| !u.disabled);
    let stored_hash = found.as_ref().map(|u| u.password_hash.clone());
    let matches =
        password::verify(password.to_string(), stored_hash, state.dummy_hash.clone()).await;
    match (matches, found) {
        (Ok(true), Some(user)) => {
            state.throttle.record_success(username);
            tracing::info!(user = %user.name, "logged in");
            Ok(user)
        }
        (Err(AppError::BadRequest(message)), _) => Err(LoginError::BadInput(message)),
        (Err(err), _) => Err(err.into()),
        _ => {
            state.throttle.record_failure(username, ip, Instant::now());
            Err(LoginError::BadCredentials)
        }
    }
}

/// Create a brand-new session for `user_id`, ending the one the request
/// presented (a token planted before login is never kept). Returns the new
/// token.
pub async fn start_session(
    state: &AppState,
    previous: &MaybeUser,
    user_id: i32,
) -> Result<String, AppError> {
    let token = session::new_token();
    let hash = session::hash_token(&token);
    let old_hash = previous.0.as_ref().map(|u| session::hash_token(&u.token));
    let ttl_ms = i64::try_from(state.config.session_ttl.as_millis()).unwrap_or(i64::MAX);
    state
        .db(move |conn| {
            if let Some(old) = old_hash {
                db::sessions::delete_by_hash(conn, &old)?;
            }
            db::sessions::create(conn, user_id, &hash, ttl_ms)
        })
        .await?;
    Ok(token)
}

/// End this login session: delete it and close its open WebSockets.
pub async fn end_session(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    let hash = session::hash_token(&user.token);
    let deleted = hash.clone();
    state
        .db(move |conn| db::sessions::delete_by_hash(conn, &deleted))
        .await?;
    state.chat.do_send(CloseSessions {
        filter: SessionFilter::Token { token_hash: hash },
        reason: "logged out",
    });
    tracing::info!(user = %user.name, "logged out");
    Ok(())
}
