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

/// A hash of a random password at the configured cost; checking against
/// it costs the same as checking a real hash.
pub fn dummy_hash(cost: u32) -> anyhow::Result<String> {
    let random = crate::auth::session::new_token();
    bcrypt::non_truncating_hash(&random[..32], cost)
        .map_err(|err| anyhow::anyhow!("bcrypt dummy hash: {err}"))
}

/// The dummy hash, kept in the data dir so that only the first start pays
/// for making it (~0.3 s at cost 12): later starts read it back, unless
/// the file is damaged. It hides nothing secret: it is the
/// hash of a random password nobody knows.
pub fn load_or_create_dummy_hash(data_dir: &std::path::Path, cost: u32) -> anyhow::Result<String> {
    use anyhow::Context;
    let path = data_dir.join(format!("{DUMMY_HASH_FILE_PREFIX}{cost}.hash"));
    if let Ok(kept) = std::fs::read_to_string(&path) {
        let kept = kept.trim();
        let same_cost = kept
            .parse::<bcrypt::HashParts>()
            .is_ok_and(|parts| parts.get_cost() == cost);
        if same_cost {
            return Ok(kept.to_string());
        }
    }
    let fresh = dummy_hash(cost)?;
    std::fs::write(&path, &fresh).with_context(|| format!("Failed to write {}", path.display()))?;
    Ok(fresh)
}

/// Where [`load_or_create_dummy_hash`] keeps it, in the data dir: one file
/// per cost, so switching the cost back and forth stays fast.
const DUMMY_HASH_FILE_PREFIX: &str = "dummy-password.cost-";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_made_once_per_data_dir_and_cost() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_dummy_hash(dir.path(), 4).unwrap();
        assert_eq!(load_or_create_dummy_hash(dir.path(), 4).unwrap(), first);
        let costlier = load_or_create_dummy_hash(dir.path(), 5).unwrap();
        assert_ne!(costlier, first);
        assert!(costlier.starts_with("$2b$05$"), "{costlier}");
        assert_eq!(load_or_create_dummy_hash(dir.path(), 4).unwrap(), first);
        // A damaged file is replaced, not trusted.
        let path = dir.path().join(format!("{DUMMY_HASH_FILE_PREFIX}4.hash"));
        std::fs::write(path, "garbage").unwrap();
        assert!(load_or_create_dummy_hash(dir.path(), 4)
            .unwrap()
            .starts_with("$2b$04$"));
    }
}
