//! Direct messages over HTTP: `POST /dms` (the no-JS form, 303 to the DM),
//! `POST /api/dms` (`{"users":[...]}` → `{"room","members"}`), and the
//! user page `/users/{name}` that mentions link to, with its "send a direct
//! message" form.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::api::check_write;
use super::page::{login_redirect, render, room_path, see_other};
use crate::auth::{CurrentUser, MaybeUser};
use crate::chat::dms;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DmForm {
    /// Names separated by commas and/or spaces.
    #[serde(default)]
    users: String,
    csrf: Option<String>,
}

/// `POST /dms`
pub async fn open_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    form: web::Form<DmForm>,
) -> Result<HttpResponse, AppError> {
    state.check_form(&req, Some(&user), form.csrf.as_deref())?;
    let names = form
        .users
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|n| !n.is_empty())
        .map(|n| n.trim_start_matches('@').to_string())
        .collect();
    let dm = dms::open_dm(&state, &user, names).await?;
    Ok(see_other(&room_path(&dm.room.name)))
}

#[derive(Deserialize)]
pub struct DmBody {
    users: Vec<String>,
}

#[derive(Serialize)]
struct DmAnswer {
    room: String,
    members: Vec<String>,
}

/// `POST /api/dms` → 201 when created, 200 when it already existed.
pub async fn open_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    body: web::Json<DmBody>,
) -> Result<HttpResponse, AppError> {
    check_write(&req, &state, Some(&user))?;
    let dm = dms::open_dm(&state, &user, body.into_inner().users).await?;
    let status = if dm.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(DmAnswer {
        room: dm.room.name,
        members: dm.members,
    }))
}

#[derive(Serialize)]
struct Profile {
    name: String,
    /// "2026-11-23"
    created: String,
    is_admin: bool,
}

/// `GET /users/{name}`
pub async fn user_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(current) = user.0 else {
        return Ok(login_redirect(&req));
    };
    let name = name.into_inner();
    let found = state
        .db(move |conn| db::users::find_by_name(conn, &name))
        .await?
        .filter(|u| !u.disabled)
        .ok_or(AppError::NotFound)?;
    let profile = Profile {
        created: chrono::DateTime::from_timestamp_millis(found.created_at)
            .unwrap_or_default()
            .format("%Y-%m-%d")
            .to_string(),
        name: found.name,
        is_admin: found.is_admin,
    };
    let mut context = tera::Context::new();
    context.insert("profile", &profile);
    render(
        &state,
        &req,
        Some(&current),
        "user.html",
        context,
        StatusCode::OK,
    )
}
