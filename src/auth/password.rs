//! bcrypt hashing and checking, always on the blocking pool.
//!
//! Only the non-truncating API is used: a password over 72 bytes is an
//! error, never silently shortened. An unknown user is checked against a
//! dummy hash of the same cost, so the answer takes as long as for a real
//! user with a wrong password.

use actix_web::web;

use crate::domain::Password;
use crate::error::AppError;

/// Hash a new password at `cost`.
pub async fn hash(password: Password, cost: u32) -> Result<String, AppError> {
    web::block(move || bcrypt::non_truncating_hash(password.expose(), cost))
        .await?
        .map_err(|err| AppError::Internal(anyhow::anyhow!("bcrypt hash: {err}")))
}

/// A hash of a random password, made once at start-up at the configured
/// cost; checking against it costs the same as checking a real hash.
pub fn dummy_hash(cost: u32) -> anyhow::Result<String> {
    let random = crate::auth::session::new_token();
    bcrypt::non_truncating_hash(&random[..32], cost)
        .map_err(|err| anyhow::anyhow!("bcrypt dummy hash: {err}"))
}

/// Does `password` match `stored`? With `stored = None` (no such user) the
/// dummy hash is checked instead and the answer is always `false`.
pub async fn verify(
    password: String,
    stored: Option<String>,
    dummy: String,
) -> Result<bool, AppError> {
    if password.len() > crate::domain::PASSWORD_MAX_BYTES {
        return Err(AppError::bad_request(format!(
            "Passwords can be at most {} bytes long.",
            crate::domain::PASSWORD_MAX_BYTES
        )));
    }
    let known = stored.is_some();
    let hash = stored.unwrap_or(dummy);
    let matches = web::block(move || bcrypt::non_truncating_verify(&password, &hash))
        .await?
        .map_err(|err| AppError::Internal(anyhow::anyhow!("bcrypt verify: {err}")))?;
    Ok(known && matches)
}
