//! `AppError`: the closed set of failures a user can see, each with a cause
//! that is logged but never shown.
//!
//! `ResponseError` maps each kind to a status and attaches an [`ErrorInfo`];
//! the error-page middleware (`web::middleware::render_errors`) turns that
//! into the templated HTML page, or into `{"error":{"code","message"}}`
//! under `/api/`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request was understood but its content is not acceptable.
    #[error("{0}")]
    BadRequest(String),
    #[error("You need to log in first.")]
    Unauthorized,
    #[error("Wrong username or password.")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    /// A rule forbids this change (someone else's message, an edit window
    /// that has passed); `code` names the rule for clients.
    #[error("{message}")]
    NotAllowed { code: &'static str, message: String },
    #[error("There is nothing here.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("Too many attempts. Try again in {retry_after} seconds.")]
    TooManyRequests { retry_after: u64 },
    /// A dependency (the database, the writer) is temporarily unable to work.
    #[error("The server is busy. Please try again shortly.")]
    Unavailable(#[source] anyhow::Error),
    #[error("Something went wrong on our side. Please try again.")]
    Internal(#[from] anyhow::Error),
}

/// What the user is told about a failed request; stored in the response's
/// extensions so the error-page middleware can render it.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub message: String,
}

impl ErrorInfo {
    /// The generic description of a status, for errors raised outside our
    /// handlers (unknown route, wrong method, extractor failures).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "The request could not be understood."),
            401 => ("unauthorized", "You need to log in first."),
            403 => ("forbidden", "You are not allowed to do that."),
            404 => ("not_found", "There is nothing here."),
            405 => ("method_not_allowed", "That method is not allowed here."),
            413 => ("payload_too_large", "The request is too large."),
            415 => (
                "unsupported_media_type",
                "That type of content is not accepted.",
            ),
            429 => ("too_many_requests", "Too many requests. Slow down."),
            503 => (
                "unavailable",
                "The server is busy. Please try again shortly.",
            ),
            s if s >= 500 => ("internal", "Something went wrong on our side."),
            _ => ("error", "The request failed."),
        };
        ErrorInfo {
            code,
            message: message.to_string(),
        }
    }
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotAllowed { code, .. } => code,
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest(message.into())
    }

    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::NotAllowed { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            AppError::Unavailable(cause) => {
                tracing::warn!(error = ?cause, "dependency unavailable")
            }
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        if let AppError::TooManyRequests { retry_after } = self {
            response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        let mut response = response
            .content_type("text/plain; charset=utf-8")
            .body(self.to_string());
        response.extensions_mut().insert(self.info());
        response
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        if is_busy(&err) {
            AppError::Unavailable(err.into())
        } else {
            AppError::Internal(err.into())
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(err.into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        AppError::Unavailable(anyhow::anyhow!("blocking pool: {err}"))
    }
}

/// A locked or busy SQLite database: worth retrying, not a bug.
fn is_busy(err: &diesel::result::Error) -> bool {
    let text = err.to_string();
    text.contains("database is locked") || text.contains("database is busy")
}
