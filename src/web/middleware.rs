//! Middleware wrapped around every route: request logging, security
//! headers, and rendering error responses as the templated page or JSON.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::error::ErrorInfo;
use crate::metrics::HttpLabels;
use crate::state::AppState;

/// Content Security Policy: nothing inline, nothing from elsewhere.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers on every response, errors and static files included (SPEC §4.8).
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
}

/// One log line per request: method, path, status, duration.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    let result = next.call(req).await;
    let (status, route) = match &result {
        Ok(res) => (
            res.status().as_u16(),
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into()),
        ),
        Err(err) => (
            err.as_response_error().status_code().as_u16(),
            "unmatched".into(),
        ),
    };
    if let Some(metrics) = metrics {
        metrics
            .http_requests
            .get_or_create(&HttpLabels {
                route,
                method: method.to_string(),
                status,
            })
            .inc();
    }
    tracing::info!(
        %method,
        %path,
        status,
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    result
}

#[derive(Serialize)]
struct JsonError<'a> {
    error: JsonErrorBody<'a>,
}

#[derive(Serialize)]
struct JsonErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

/// Turn every error response that is not already a page or JSON (our own
/// `AppError`s, unknown routes, wrong methods, extractor failures, missing
/// static files) into the templated error page, or JSON under `/api/`.
pub fn error_pages<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render_error)
}

fn render_error<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already_rendered = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    if already_rendered {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let info = res
        .response()
        .extensions()
        .get::<ErrorInfo>()
        .cloned()
        .unwrap_or_else(|| ErrorInfo::for_status(status));
    let (req, old) = res.into_parts();
    let mut new = if req.path().starts_with("/api/") {
        HttpResponse::build(status).json(JsonError {
            error: JsonErrorBody {
                code: info.code,
                message: &info.message,
            },
        })
    } else {
        let mut context = tera::Context::new();
        context.insert("status", &status.as_u16());
        context.insert("reason", status.canonical_reason().unwrap_or("Error"));
        context.insert("message", &info.message);
        context.insert("me", &Option::<()>::None);
        let html = req
            .app_data::<web::Data<AppState>>()
            .and_then(|state| state.templates.render("error.html", &context).ok())
            .unwrap_or_else(|| format!("<!doctype html><title>{status}</title><p>{status}"));
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html)
    };
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    new.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}
