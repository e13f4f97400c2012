//! Uploads over HTTP: the room page's form (`POST /rooms/{name}/uploads`,
//! works without JavaScript, 303 back to the room), the API
//! (`POST /api/rooms/{room}/uploads`), serving files (`GET /uploads/{id}`,
//! with the stored type, ETag, Range) and thumbnails, and the room gallery.

use actix_files::NamedFile;
use actix_multipart::{Field, Multipart};
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::page::{login_redirect, render, room_path, see_other};
use super::rooms::show_room;
use crate::auth::{CurrentUser, MaybeUser};
use crate::chat::{self, RoomRef};
use crate::db;
use crate::domain::MessageBody;
use crate::error::AppError;
use crate::state::AppState;
use crate::uploads::{Kind, StoredFile, UploadError};

/// What the form or API request carried.
struct UploadParts {
    caption: String,
    file: Option<(StoredFile, String)>,
}

impl From<UploadError> for AppError {
    fn from(err: UploadError) -> Self {
        match err {
            UploadError::TooLarge(_) => AppError::PayloadTooLarge(err.to_string()),
            UploadError::Unsupported(message) => AppError::UnsupportedMediaType(message),
            UploadError::Empty | UploadError::Interrupted(_) => {
                AppError::BadRequest(err.to_string())
            }
            UploadError::Io(cause) => AppError::Internal(cause),
        }
    }
}

/// Read a small text field, refusing more than `max` bytes.
async fn text_field(field: &mut Field, max: usize) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk =
            chunk.map_err(|e| AppError::bad_request(format!("The upload was interrupted: {e}")))?;
        if bytes.len() + chunk.len() > max {
            return Err(AppError::bad_request("A form field is too long."));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| AppError::bad_request("A form field is not valid UTF-8."))
}

/// Read the multipart body. `csrf_ok` is asked before the file is read, with
/// the `csrf` field if it came first (the form puts it first).
async fn read_parts(
    state: &AppState,
    mut multipart: Multipart,
    csrf_ok: impl Fn(Option<&str>) -> Result<(), AppError>,
) -> Result<UploadParts, AppError> {
    let caption_max = state.config.max_message_chars * 4;
    let limit = state.config.max_upload_bytes;
    let mut csrf: Option<String> = None;
    let mut checked = false;
    let mut parts = UploadParts {
        caption: String::new(),
        file: None,
    };
    while let Some(field) = multipart.next().await {
        let mut field = field
            .map_err(|e| AppError::bad_request(format!("The upload could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        if name == "csrf" && !checked {
            csrf = Some(text_field(&mut field, 256).await?);
            continue;
        }
        if !checked {
            csrf_ok(csrf.as_deref())?;
            checked = true;
        }
        match name.as_str() {
            "caption" => {
                parts.caption = text_field(&mut field, caption_max).await?;
                // Refuse a bad caption before a file that follows is stored.
                check_caption(state, &parts.caption)?;
            }
            "file" if parts.file.is_none() => {
                let original = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or("file")
                    .to_string();
                let stored = state.uploads.save(field.by_ref(), limit).await?;
                parts.file = Some((stored, original));
            }
            _ => while field.try_next().await.ok().flatten().is_some() {},
        }
    }
    if !checked {
        csrf_ok(csrf.as_deref())?;
    }
    Ok(parts)
}

/// Check the caption and store the upload as a message.
async fn post(
    state: &AppState,
    user: &CurrentUser,
    room: &RoomRef,
    parts: UploadParts,
) -> Result<crate::db::writer::Committed, AppError> {
    let Some((file, original)) = parts.file else {
        return Err(AppError::bad_request("Choose a file to upload."));
    };
    check_caption(state, &parts.caption)?;
    chat::post_upload(state, user, room, parts.caption, file, &original).await
}

/// A caption may be empty; otherwise it is a message body like any other
/// (length, no control characters).
fn check_caption(state: &AppState, caption: &str) -> Result<(), AppError> {
    if caption.trim().is_empty() {
        return Ok(());
    }
    MessageBody::parse(caption, state.config.max_message_chars)
        .map(drop)
        .map_err(|message| AppError::BadRequest(message.replace("Messages", "Captions")))
}

/// `POST /rooms/{name}/uploads`: the room page's upload form.
pub async fn upload_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    name: web::Path<String>,
    multipart: Multipart,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Err(AppError::Unauthorized);
    };
    let room = chat::find_room(&state, user.id, name.into_inner()).await?;
    let check = |token: Option<&str>| state.check_form(&req, Some(&user), token);
    let result = match read_parts(&state, multipart, check).await {
        Ok(parts) => post(&state, &user, &room, parts).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(_) => Ok(see_other(&room_path(&room.name))),
        Err(err @ (AppError::Forbidden(_) | AppError::Unavailable(_) | AppError::Internal(_))) => {
            Err(err)
        }
        Err(err) => {
            let status = actix_web::ResponseError::status_code(&err);
            show_room(
                &state,
                &req,
                &user,
                room,
                Some(("", &err.to_string())),
                status,
            )
            .await
        }
    }
}

/// `POST /api/rooms/{room}/uploads` (multipart `file`, `caption`) → 201
/// `{"message": ...}`.
pub async fn upload_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    name: web::Path<String>,
    multipart: Multipart,
) -> Result<HttpResponse, AppError> {
    super::api::check_write(&req, &state, Some(&user))?;
    let room = chat::find_room(&state, user.id, name.into_inner()).await?;
    let parts = read_parts(&state, multipart, |_| Ok(())).await?;
    let stored = post(&state, &user, &room, parts).await?;
    Ok(HttpResponse::Created().json(super::api::MessageAnswer {
        message: chat::current_message(&state, &stored).await?,
    }))
}

/// `GET /uploads/{id}` and `/uploads/{id}/thumb`.
async fn serve(
    state: &AppState,
    req: &HttpRequest,
    user: MaybeUser,
    id: i32,
    thumb: bool,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Err(AppError::Unauthorized);
    };
    let user_id = user.id;
    let upload = state
        .db(move |conn| db::uploads::find_readable(conn, id, user_id))
        .await?
        .ok_or(AppError::NotFound)?;
    let (path, mime) = if thumb {
        if upload.kind != Kind::Image.as_str() {
            return Err(AppError::NotFound);
        }
        let thumb = state.uploads.thumb_of(&upload.sha256);
        // A thumbnail that could not be made falls back to the original.
        if thumb.exists() {
            (thumb, "image/jpeg".to_string())
        } else {
            (state.uploads.path_of(&upload.sha256), upload.mime.clone())
        }
    } else {
        (state.uploads.path_of(&upload.sha256), upload.mime.clone())
    };
    let file = NamedFile::open_async(&path)
        .await
        .map_err(|_| AppError::NotFound)?;
    let mime: mime::Mime = mime
        .parse()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("stored type {mime} does not parse")))?;
    let disposition = if Kind::inline(&upload.kind) {
        DispositionType::Inline
    } else {
        DispositionType::Attachment
    };
    let ascii: String = upload
        .original_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut response = file
        .set_content_type(mime)
        .set_content_disposition(ContentDisposition {
            disposition,
            parameters: vec![
                DispositionParam::Filename(ascii),
                DispositionParam::FilenameExt(ExtendedValue {
                    charset: Charset::Ext("UTF-8".into()),
                    language_tag: None,
                    value: upload.original_name.clone().into_bytes(),
                }),
            ],
        })
        .use_etag(true)
        .use_last_modified(true)
        .prefer_utf8(true)
        .into_response(req);
    // Content never changes for an id: cache it for a long time.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
}

pub async fn file(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    serve(&state, &req, user, id.into_inner(), false).await
}

pub async fn thumbnail(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    serve(&state, &req, user, id.into_inner(), true).await
}

#[derive(Serialize)]
struct GalleryEntry {
    url: String,
    thumb_url: String,
    caption: String,
    name: String,
    anchor: String,
}

/// `GET /rooms/{name}/media`: every image in the room with its caption.
pub async fn gallery(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(current) = user.0 else {
        return Ok(login_redirect(&req));
    };
    let room = chat::find_room(&state, current.id, name.into_inner()).await?;
    let room_id = room.id;
    let items = state
        .db(move |conn| db::uploads::images_in_room(conn, room_id))
        .await?;
    let path = room_path(&room.name);
    let entries: Vec<GalleryEntry> = items
        .into_iter()
        .map(|item| GalleryEntry {
            url: format!("/uploads/{}", item.upload.id),
            thumb_url: format!("/uploads/{}/thumb", item.upload.id),
            caption: item.caption,
            name: item.upload.original_name,
            anchor: format!("{path}#m{}", item.seq),
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("room", &room.name);
    context.insert("room_path", &path);
    context.insert("images", &entries);
    render(
        &state,
        &req,
        Some(&current),
        "media.html",
        context,
        StatusCode::OK,
    )
}
