//! Middleware wrapped around every route: request logging, security
//! headers, HTTPS (redirect and HSTS), and rendering error responses as the
//! templated page or JSON.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::auth::client;
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

/// `Strict-Transport-Security` under built-in TLS: one year, the usual
/// value (and what browsers' preload lists ask for).
pub const HSTS: &str = "max-age=31536000";

/// Under built-in TLS (nothing otherwise): a request that arrived on the
/// plain-HTTP redirect port gets 301 to the same path and query over HTTPS;
/// every response over TLS gets HSTS.
pub async fn https(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let Some((state, https_port)) = state.and_then(|s| s.https_port.map(|port| (s, port))) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    if !req.app_config().secure() {
        let response = match https_location(req.request(), &state, https_port) {
            Some(location) => HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, location))
                .finish(),
            None => HttpResponse::BadRequest().finish(),
        };
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    res.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    Ok(res.map_into_left_body())
}

/// Where a plain-HTTP request goes: the configured `https://` public URL,
/// else the host the client asked for on the HTTPS port; same path and
/// query. `None` for a `Host` that is not a plain host name or address.
fn https_location(req: &HttpRequest, state: &AppState, https_port: u16) -> Option<String> {
    let path = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    if let Some(public) = state
        .config
        .public_origin
        .as_deref()
        .filter(|o| o.starts_with("https://"))
    {
        return Some(format!("{public}{path}"));
    }
    let host = client::host(req, state.config.behind_proxy);
    let name = match host.strip_prefix('[') {
        // An IPv6 literal keeps its brackets.
        Some(rest) => {
            let ip = rest.split_once(']')?.0;
            ip.parse::<std::net::Ipv6Addr>().ok()?;
            format!("[{ip}]")
        }
        None => host.split(':').next().unwrap_or_default().to_string(),
    };
    let valid = !name.is_empty()
        && (name.starts_with('[')
            || name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')));
    if !valid {
        return None;
    }
    Some(match https_port {
        443 => format!("https://{name}{path}"),
        port => format!("https://{name}:{port}{path}"),
    })
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
