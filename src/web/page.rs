//! Rendering a Tera page with what every page needs: the visitor, a CSRF
//! token for its forms, and no-store caching (pages hold private data).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use crate::auth::{csrf, CurrentUser};
use crate::error::AppError;
use crate::state::AppState;

/// Characters left as they are in a path segment we build.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The visitor as templates see it.
#[derive(Serialize)]
struct Me<'a> {
    name: &'a str,
    is_admin: bool,
}

/// Render `template` with `context` plus `me` and `csrf`, at `status`.
pub fn render(
    state: &AppState,
    req: &HttpRequest,
    user: Option<&CurrentUser>,
    template: &str,
    mut context: tera::Context,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (token, cookie) = csrf::token_for_page(&state.csrf, req, user, state.secure_cookies);
    context.insert("csrf", &token);
    context.insert(
        "me",
        &user.map(|u| Me {
            name: &u.name,
            is_admin: u.is_admin,
        }),
    );
    let html = state
        .templates
        .render(template, &context)
        .map_err(|err| AppError::Internal(anyhow::anyhow!("rendering {template}: {err:?}")))?;
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    Ok(response.body(html))
}

/// 303 See Other to `location` (after a successful form post).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The path of a room's page, percent-encoded.
pub fn room_path(name: &str) -> String {
    format!("/rooms/{}", utf8_percent_encode(name, PATH_SEGMENT))
}

/// Where to send a visitor who must log in first, coming back here after.
pub fn login_redirect(req: &HttpRequest) -> HttpResponse {
    let back = utf8_percent_encode(req.path(), PATH_SEGMENT).to_string();
    see_other(&format!("/login?next={back}"))
}

/// A `next` target is only followed if it is a path on this site.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_paths_are_percent_encoded() {
        assert_eq!(room_path("general"), "/rooms/general");
        assert_eq!(room_path("café"), "/rooms/caf%C3%A9");
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/rooms/x")), "/rooms/x");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
