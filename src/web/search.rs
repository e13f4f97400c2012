//! Search (SPEC §4.5, §8): the `/search` page and `GET /api/search`. Thin
//! handlers over `db::search`, which owns the query, who may see what, and
//! the safe highlighting.
//!
//! `room` names a room the caller may read; any other name is 404, so a
//! private room of others looks exactly like one that does not exist. A
//! query with no searchable word (only punctuation, say) finds nothing; a
//! missing or blank `q` is a 400 on the API (a script's bug worth telling)
//! and an empty form on the page.

use std::num::NonZeroU32;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use super::page::{login_redirect, render, room_path};
use crate::auth::{CurrentUser, MaybeUser};
use crate::chat;
use crate::db::search::{self, SearchFilter, SearchHit, SearchPage, SearchTerms};
use crate::error::AppError;
use crate::state::AppState;

/// `?q=&room=&before=&page=`, for the page and the API alike.
#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    room: Option<String>,
    before: Option<i32>,
    page: Option<NonZeroU32>,
}

impl SearchQuery {
    fn q(&self) -> &str {
        self.q.as_deref().unwrap_or("").trim()
    }

    /// The room asked for; blank means every room (the form's default).
    fn room(&self) -> Option<&str> {
        self.room
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
    }

    fn page(&self) -> u32 {
        self.page.map_or(1, NonZeroU32::get)
    }
}

/// Check the room and run the search. No searchable words: an empty page.
async fn find(
    state: &AppState,
    user: &CurrentUser,
    query: &SearchQuery,
) -> Result<SearchPage, AppError> {
    let user_id = user.id;
    let room_id = match query.room() {
        None => None,
        Some(name) => Some(chat::find_room(state, user_id, name.to_string()).await?.id),
    };
    let Some(terms) = SearchTerms::parse(query.q()) else {
        return Ok(SearchPage {
            hits: Vec::new(),
            has_next: false,
        });
    };
    let filter = SearchFilter {
        room_id,
        before: query.before,
        page: query.page(),
    };
    state
        .db(move |conn| search::search(conn, user_id, &terms, filter))
        .await
}

/// RFC 3339 in UTC with milliseconds, like every other message timestamp.
fn rfc3339(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// One result in the API's answer.
#[derive(Serialize)]
struct ResultItem {
    id: i32,
    room: String,
    seq: i64,
    user: String,
    body: String,
    /// Escaped text with `<mark>` around the matches.
    snippet: String,
    ts: String,
}

#[derive(Serialize)]
struct SearchAnswer {
    results: Vec<ResultItem>,
    /// The `page` to ask for next, or null on the last page.
    next_page: Option<u32>,
}

/// `GET /api/search?q=&room=&before=&page=`
pub async fn api_search(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    if query.q().is_empty() {
        return Err(AppError::bad_request("Give `q`, the words to search for."));
    }
    let found = find(&state, &user, &query).await?;
    let results = found
        .hits
        .into_iter()
        .map(|hit| ResultItem {
            ts: rfc3339(hit.created_at).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            id: hit.id,
            room: hit.room,
            seq: hit.seq,
            user: hit.user,
            body: hit.body,
            snippet: hit.snippet_html,
        })
        .collect();
    Ok(HttpResponse::Ok().json(SearchAnswer {
        results,
        next_page: found.has_next.then(|| query.page() + 1),
    }))
}

/// One result as the page shows it.
#[derive(Serialize)]
struct HitItem {
    room: String,
    /// The message in its room. The room page shows only the latest 100
    /// messages, so an older one's anchor lands at the top of the room,
    /// not on the message; paging the room page is a separate feature.
    link: String,
    user: String,
    ts: String,
    time: String,
    /// Built escaped-then-marked by `db::search`; the template's one `safe`.
    snippet: String,
}

impl From<SearchHit> for HitItem {
    fn from(hit: SearchHit) -> Self {
        let at = rfc3339(hit.created_at);
        HitItem {
            link: format!("{}#m{}", room_path(&hit.room), hit.seq),
            room: hit.room,
            user: hit.user,
            ts: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            time: at.format("%Y-%m-%d %H:%M").to_string(),
            snippet: hit.snippet_html,
        }
    }
}

/// `/search?q=…&room=…&page=N`, the query string of another page of these
/// results.
fn page_url(query: &SearchQuery, page: u32) -> String {
    let mut url = format!(
        "/search?q={}",
        utf8_percent_encode(query.q(), NON_ALPHANUMERIC)
    );
    if let Some(room) = query.room() {
        url.push_str(&format!(
            "&room={}",
            utf8_percent_encode(room, NON_ALPHANUMERIC)
        ));
    }
    if let Some(before) = query.before {
        url.push_str(&format!("&before={before}"));
    }
    if page > 1 {
        url.push_str(&format!("&page={page}"));
    }
    url
}

/// `GET /search?q=&room=&page=`: the form, and results when there is a query.
pub async fn search_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(login_redirect(&req));
    };
    let user_id = user.id;
    let rooms = state
        .db(move |conn| search::readable_rooms(conn, user_id))
        .await?;
    let searched = !query.q().is_empty();
    let found = if searched {
        find(&state, &user, &query).await?
    } else {
        SearchPage {
            hits: Vec::new(),
            has_next: false,
        }
    };
    let page = query.page();
    let hits: Vec<HitItem> = found.hits.into_iter().map(HitItem::from).collect();
    let mut context = tera::Context::new();
    context.insert("q", query.q());
    context.insert("room", &query.room().unwrap_or(""));
    context.insert("rooms", &rooms);
    context.insert("searched", &searched);
    context.insert("hits", &hits);
    context.insert("page", &page);
    context.insert("prev_url", &(page > 1).then(|| page_url(&query, page - 1)));
    context.insert(
        "next_url",
        &found.has_next.then(|| page_url(&query, page + 1)),
    );
    render(
        &state,
        &req,
        Some(&user),
        "search.html",
        context,
        StatusCode::OK,
    )
}
