//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the
//! database answers and the writer runs), `/metrics` (Prometheus).

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;

use crate::db;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Serialize)]
struct Readiness {
    database: bool,
    writer: bool,
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = state
        .db(|conn| conn.batch_execute("SELECT 1"))
        .await
        .is_ok();
    let ready = Readiness {
        database,
        writer: state.writer.is_running(),
    };
    if ready.database && ready.writer {
        HttpResponse::Ok().json(ready)
    } else {
        HttpResponse::ServiceUnavailable().json(ready)
    }
}

pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rooms = state.db(db::rooms::count).await?;
    state.metrics.rooms.set(rooms);
    let text = state
        .metrics
        .encode()
        .map_err(|err| AppError::Internal(anyhow::anyhow!("encoding metrics: {err}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}
