//! Changing a message — edit, delete, react — over both transports that
//! are plain HTTP: the room page's no-JS forms
//! (`POST /rooms/{name}/messages/{id}/edit|delete|react`, answered 303 back
//! to the message) and the JSON API (`PATCH`/`DELETE /api/messages/{id}`,
//! `POST /api/messages/{id}/reactions`, `DELETE
//! /api/messages/{id}/reactions/{emoji}`). Both call `chat::changes`, as the
//! WebSocket does.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::api::{check_write, MessageAnswer};
use super::page::{room_path, see_other};
use crate::auth::CurrentUser;
use crate::chat::{self, changes};
use crate::db::writer::Committed;
use crate::domain::{Emoji, MessageBody};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    body: String,
    csrf: Option<String>,
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
}

#[derive(Deserialize)]
pub struct ReactForm {
    #[serde(default)]
    emoji: String,
    /// Present (any value): take the reaction back.
    remove: Option<String>,
    csrf: Option<String>,
}

/// Back to the message on its room's page.
fn back_to(committed: &Committed) -> HttpResponse {
    see_other(&format!(
        "{}#m{}",
        room_path(&committed.room_name),
        committed.message_seq
    ))
}

/// The room in the path must exist for the user (a DM they are not in is a
/// 404 like any unknown room).
async fn check_room(state: &AppState, user: &CurrentUser, name: String) -> Result<(), AppError> {
    chat::find_room(state, user.id, name).await.map(drop)
}

/// `POST /rooms/{name}/messages/{id}/edit` (`body`, `csrf`)
pub async fn edit_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, AppError> {
    state.check_form(&req, Some(&user), form.csrf.as_deref())?;
    let (room, id) = path.into_inner();
    check_room(&state, &user, room).await?;
    let body = MessageBody::parse(&form.body, state.config.max_message_chars)
        .map_err(AppError::BadRequest)?;
    Ok(back_to(&changes::edit(&state, &user, id, body).await?))
}

/// `POST /rooms/{name}/messages/{id}/delete` (`csrf`)
pub async fn delete_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    state.check_form(&req, Some(&user), form.csrf.as_deref())?;
    let (room, id) = path.into_inner();
    check_room(&state, &user, room).await?;
    Ok(back_to(&changes::delete(&state, &user, id).await?))
}

/// `POST /rooms/{name}/messages/{id}/react` (`emoji`, optional `remove`,
/// `csrf`)
pub async fn react_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<ReactForm>,
) -> Result<HttpResponse, AppError> {
    state.check_form(&req, Some(&user), form.csrf.as_deref())?;
    let (room, id) = path.into_inner();
    check_room(&state, &user, room).await?;
    let emoji = Emoji::parse(&form.emoji).map_err(AppError::BadRequest)?;
    let add = form.remove.is_none();
    Ok(back_to(
        &changes::react(&state, &user, id, emoji, add).await?,
    ))
}

#[derive(Deserialize)]
pub struct EditBody {
    body: String,
}

#[derive(Deserialize)]
pub struct ReactBody {
    emoji: String,
}

async fn answer(state: &AppState, committed: Committed) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(MessageAnswer {
        message: chat::current_message(state, &committed).await?,
    }))
}

/// `PATCH /api/messages/{id}` `{"body"}` → 200 `{"message"}` (edited)
pub async fn edit_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    id: web::Path<i64>,
    body: web::Json<EditBody>,
) -> Result<HttpResponse, AppError> {
    check_write(&req, &state, Some(&user))?;
    let text = MessageBody::parse(&body.body, state.config.max_message_chars)
        .map_err(AppError::BadRequest)?;
    answer(
        &state,
        changes::edit(&state, &user, id.into_inner(), text).await?,
    )
    .await
}

/// `DELETE /api/messages/{id}` → 200 `{"message"}` (the tombstone)
pub async fn delete_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    check_write(&req, &state, Some(&user))?;
    answer(
        &state,
        changes::delete(&state, &user, id.into_inner()).await?,
    )
    .await
}

/// `POST /api/messages/{id}/reactions` `{"emoji"}` → 200 `{"message"}`
pub async fn react_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    id: web::Path<i64>,
    body: web::Json<ReactBody>,
) -> Result<HttpResponse, AppError> {
    check_write(&req, &state, Some(&user))?;
    let emoji = Emoji::parse(&body.emoji).map_err(AppError::BadRequest)?;
    answer(
        &state,
        changes::react(&state, &user, id.into_inner(), emoji, true).await?,
    )
    .await
}

/// `DELETE /api/messages/{id}/reactions/{emoji}` → 200 `{"message"}`
pub async fn unreact_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, AppError> {
    check_write(&req, &state, Some(&user))?;
    let (id, emoji) = path.into_inner();
    let emoji = Emoji::parse(&emoji).map_err(AppError::BadRequest)?;
    answer(
        &state,
        changes::react(&state, &user, id, emoji, false).await?,
    )
    .await
}
