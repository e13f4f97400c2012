//! Session tokens and their cookie.
//!
//! A token is 256 random bits, hex-encoded; the database keeps only its
//! SHA-256, so a leaked database does not leak live sessions. The cookie is
//! `HttpOnly; SameSite=Lax; Path=/` with a Max-Age, and under HTTPS also
//! `Secure` with the `__Host-` name prefix.

use actix_web::cookie::{time, Cookie, SameSite};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Bytes of randomness in a session token (256 bits).
const TOKEN_BYTES: usize = 32;
/// Length of a token as sent: hex, two characters a byte.
pub const TOKEN_LEN: usize = TOKEN_BYTES * 2;

const COOKIE: &str = "palaver_session";
const SECURE_COOKIE: &str = "__Host-palaver_session";

/// A fresh random token, hex-encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Is this shaped like one of our tokens? Anything else is refused before
/// the database is asked.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The form of a token that is stored and looked up.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

pub fn cookie(token: String, max_age: std::time::Duration, secure: bool) -> Cookie<'static> {
    let max_age = time::Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX));
    Cookie::build(cookie_name(secure), token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(max_age)
        .finish()
}

/// A cookie that makes the browser forget its session cookie.
pub fn removal_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = cookie(String::new(), std::time::Duration::ZERO, secure);
    cookie.make_removal();
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_hex_and_unique() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 64);
        assert!(is_well_formed(&a));
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        assert!(!is_well_formed(""));
        assert!(!is_well_formed(&"g".repeat(64)));
        assert!(!is_well_formed(&"A".repeat(64)));
        assert!(!is_well_formed(&"a".repeat(63)));
    }

    #[test]
    fn the_stored_hash_is_sha256_of_the_token() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(hash_token(&new_token()), hash_token(&new_token()));
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_only_under_tls() {
        let plain = cookie("t".into(), std::time::Duration::from_secs(60), false);
        let text = plain.to_string();
        assert!(text.starts_with("palaver_session=t"), "{text}");
        assert!(
            text.contains("HttpOnly") && text.contains("SameSite=Lax") && text.contains("Path=/")
        );
        assert!(text.contains("Max-Age=60") && !text.contains("Secure"));
        let tls = cookie("t".into(), std::time::Duration::from_secs(60), true).to_string();
        assert!(
            tls.starts_with("__Host-palaver_session=t") && tls.contains("Secure"),
            "{tls}"
        );
    }
}
