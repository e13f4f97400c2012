//! CSRF protection for every state-changing form.
//!
//! Scheme: each form carries a hidden `csrf` field whose value is
//! `HMAC-SHA256(server key, binding)`. The binding is the visitor's session
//! token when logged in (so the token is per session, like a synchronizer
//! token, without a table), or else a random value in the `palaver_csrf`
//! cookie (for the login and register forms). A cross-site page can neither
//! read the cookie nor compute the HMAC, so it cannot forge the field. The
//! key lives in `<data_dir>/secret.key`, made on first start.
//!
//! On top of that, a request whose `Origin` header names another site is
//! refused outright.

use std::path::Path;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{http::header, HttpRequest};
use anyhow::Context;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::extract::CurrentUser;
use crate::error::AppError;

const ANON_COOKIE: &str = "palaver_csrf";
const SECURE_ANON_COOKIE: &str = "__Host-palaver_csrf";
const KEY_FILE: &str = "secret.key";
const KEY_BYTES: usize = 32;

/// The server's secret for CSRF tokens.
#[derive(Clone)]
pub struct CsrfKey([u8; KEY_BYTES]);

impl CsrfKey {
    /// Read `<data_dir>/secret.key`, creating it (mode 0600) if missing.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(KEY_FILE);
        if let Ok(bytes) = std::fs::read(&path) {
            let key: [u8; KEY_BYTES] = bytes.as_slice().try_into().map_err(|_| {
                anyhow::anyhow!("{} is corrupt: expected {KEY_BYTES} bytes", path.display())
            })?;
            return Ok(CsrfKey(key));
        }
        let mut key = [0u8; KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut key);
        write_private(&path, &key)
            .with_context(|| format!("Failed to write {}", path.display()))?;
        Ok(CsrfKey(key))
    }

    fn sign(&self, binding: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"palaver-csrf\0");
        mac.update(binding.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Create `path` (it must not exist) readable by its owner only.
#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn anon_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_ANON_COOKIE
    } else {
        ANON_COOKIE
    }
}

/// What a token is bound to for this request, if anything yet.
fn binding(req: &HttpRequest, user: Option<&CurrentUser>, secure: bool) -> Option<String> {
    match user {
        Some(user) => Some(format!("s:{}", user.token)),
        None => req
            .cookie(anon_cookie_name(secure))
            .map(|c| c.value().to_string())
            .filter(|v| super::session::is_well_formed(v))
            .map(|v| format!("a:{v}")),
    }
}

/// The token to put in a page's forms, and a cookie to set when the visitor
/// had nothing to bind it to yet.
pub fn token_for_page(
    key: &CsrfKey,
    req: &HttpRequest,
    user: Option<&CurrentUser>,
    secure: bool,
) -> (String, Option<Cookie<'static>>) {
    if let Some(binding) = binding(req, user, secure) {
        return (key.sign(&binding), None);
    }
    let value = super::session::new_token();
    let token = key.sign(&format!("a:{value}"));
    let cookie = Cookie::build(anon_cookie_name(secure), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish();
    (token, Some(cookie))
}

/// Refuse a state-changing request whose token is missing or wrong, or that
/// comes from another site's page.
pub fn check(
    key: &CsrfKey,
    req: &HttpRequest,
    user: Option<&CurrentUser>,
    submitted: Option<&str>,
    secure: bool,
    public_origin: Option<&str>,
    behind_proxy: bool,
) -> Result<(), AppError> {
    if !origin_allowed(req, public_origin, behind_proxy) {
        return Err(AppError::Forbidden(
            "This form was sent from another site, so it was refused.".into(),
        ));
    }
    let expected = binding(req, user, secure).map(|b| key.sign(&b));
    let ok = match (expected, submitted) {
        (Some(expected), Some(submitted)) => {
            bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again."
                .into(),
        ))
    }
}

/// No `Origin` header (older browsers, tools), or one equal to this site's:
/// the configured public origin, else the one this request was sent to
/// (`https://` on the TLS listener; proxy headers only `behind_proxy`).
pub fn origin_allowed(req: &HttpRequest, public_origin: Option<&str>, behind_proxy: bool) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    match public_origin {
        Some(public) => origin == public,
        None => origin == super::client::origin(req, behind_proxy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn key() -> CsrfKey {
        CsrfKey([7; KEY_BYTES])
    }

    fn user(token: &str) -> CurrentUser {
        CurrentUser {
            id: 1,
            name: "alice".into(),
            is_admin: false,
            token: token.into(),
            expires_at: i64::MAX,
            via_bearer: false,
        }
    }

    #[test]
    fn a_logged_in_token_is_bound_to_the_session() {
        let req = TestRequest::default().to_http_request();
        let alice = user(&"a".repeat(64));
        let (token, cookie) = token_for_page(&key(), &req, Some(&alice), false);
        assert!(cookie.is_none());
        assert!(check(&key(), &req, Some(&alice), Some(&token), false, None, false).is_ok());
        let other = user(&"b".repeat(64));
        assert!(check(&key(), &req, Some(&other), Some(&token), false, None, false).is_err());
        assert!(check(&key(), &req, Some(&alice), None, false, None, false).is_err());
        assert!(check(
            &key(),
            &req,
            Some(&alice),
            Some("forged"),
            false,
            None,
            false
        )
        .is_err());
    }

    #[test]
    fn an_anonymous_token_needs_its_cookie() {
        let first = TestRequest::default().to_http_request();
        let (token, cookie) = token_for_page(&key(), &first, None, false);
        let cookie = cookie.unwrap();
        let with_cookie = TestRequest::default()
            .cookie(cookie.clone())
            .to_http_request();
        assert!(check(&key(), &with_cookie, None, Some(&token), false, None, false).is_ok());
        assert!(check(&key(), &first, None, Some(&token), false, None, false).is_err());
        let (again, none) = token_for_page(&key(), &with_cookie, None, false);
        assert_eq!(again, token);
        assert!(none.is_none());
    }

    #[test]
    fn a_foreign_origin_is_refused_even_with_a_valid_token() {
        let alice = user(&"a".repeat(64));
        let req = TestRequest::default()
            .insert_header(("Origin", "https://evil.example"))
            .to_http_request();
        let (token, _) = token_for_page(&key(), &req, Some(&alice), false);
        assert!(check(&key(), &req, Some(&alice), Some(&token), false, None, false).is_err());
        let own = TestRequest::default()
            .insert_header(("Host", "chat.example"))
            .insert_header(("Origin", "http://chat.example"))
            .to_http_request();
        assert!(check(&key(), &own, Some(&alice), Some(&token), false, None, false).is_ok());
        assert!(origin_allowed(&own, Some("http://chat.example"), false));
        assert!(!origin_allowed(&own, Some("https://chat.example"), false));
        // A forged X-Forwarded-Host cannot make another site's Origin ours
        // unless Palaver was told it sits behind a proxy that sets it.
        let forged = TestRequest::default()
            .insert_header(("Host", "chat.example"))
            .insert_header(("X-Forwarded-Host", "evil.example"))
            .insert_header(("Origin", "http://evil.example"))
            .to_http_request();
        assert!(!origin_allowed(&forged, None, false));
        assert!(origin_allowed(&forged, None, true));
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = CsrfKey::load_or_create(dir.path()).unwrap();
        let b = CsrfKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.sign("x"), b.sign("x"));
        std::fs::write(dir.path().join(KEY_FILE), b"short").unwrap();
        assert!(CsrfKey::load_or_create(dir.path()).is_err());
    }
}
