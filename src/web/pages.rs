//! The home page, redirects for moved paths, and the 404 page.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::page::{render, room_path};
use crate::auth::MaybeUser;
use crate::chat;
use crate::chat::protocol::RoomInfo;
use crate::error::AppError;
use crate::state::AppState;

const VISITS_COOKIE: &str = "palaver_visits";
/// How long the browser keeps the visit counter.
const VISITS_COOKIE_DAYS: i64 = 365;

/// A room as the home page lists it: name, kind, members, counts, unread.
#[derive(Serialize)]
struct RoomItem {
    #[serde(flatten)]
    info: RoomInfo,
    path: String,
    /// The name, or a DM's other members.
    title: String,
}

/// The home page, optionally with an error from the create-room form.
pub async fn home_page(
    state: &AppState,
    req: &HttpRequest,
    user: &MaybeUser,
    form_error: Option<(&str, &str)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let visits = req
        .cookie(VISITS_COOKIE)
        .and_then(|c| c.value().parse::<u64>().ok())
        .unwrap_or(0)
        .saturating_add(1);
    let viewer = user.0.as_ref();
    let (rooms, online) =
        chat::room_list(state, viewer.map_or(0, |u| u.id), chat::Counts::Stored).await?;
    let me = viewer.map_or("", |u| u.name.as_str());
    let rooms: Vec<RoomItem> = rooms
        .into_iter()
        .map(|r| RoomItem {
            path: room_path(&r.name),
            title: super::rooms::room_title(&r.name, &r.members, me),
            info: r,
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("rooms", &rooms);
    context.insert("online_users", &online.user_count);
    context.insert("visits", &visits);
    if let Some((message, name)) = form_error {
        context.insert("error", message);
        context.insert("room_name", name);
    }
    let mut response = render(state, req, user.0.as_ref(), "home.html", context, status)?;
    let cookie = Cookie::build(VISITS_COOKIE, visits.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies)
        .max_age(time::Duration::days(VISITS_COOKIE_DAYS))
        .finish();
    response
        .add_cookie(&cookie)
        .map_err(|err| AppError::Internal(err.into()))?;
    Ok(response)
}

pub async fn home(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
) -> Result<HttpResponse, AppError> {
    home_page(&state, &req, &user, None, StatusCode::OK).await
}

/// `/index.html` has moved to `/`.
pub async fn index_html() -> HttpResponse {
    moved_permanently("/")
}

fn moved_permanently(location: &str) -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Fallback for unmatched requests: `GET /path/` moves to `/path`, anything
/// else is the templated 404 (rendered by the error-page middleware).
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let path = req.path();
    let is_read = req.method() == Method::GET || req.method() == Method::HEAD;
    if is_read && path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let mut location = if trimmed.is_empty() { "/" } else { trimmed }.to_string();
        // A path like `//evil.example/` must not become a scheme-relative URL.
        if location.starts_with("//") {
            return Err(AppError::NotFound);
        }
        if !req.query_string().is_empty() {
            location = format!("{location}?{}", req.query_string());
        }
        return Ok(moved_permanently(&location));
    }
    Err(AppError::NotFound)
}
