//! `/register`, `/login` and `/logout`: thin handlers over `auth`.

use actix_web::http::StatusCode;
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::page::{render, safe_next, see_other};
use crate::auth::login::{self, LoginError};
use crate::auth::{client, password, session, CurrentUser, MaybeUser};
use crate::db;
use crate::domain::{Password, Username};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    csrf: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// What the login and register forms show besides the basics.
struct AccountView<'a> {
    template: &'a str,
    username: &'a str,
    next: Option<&'a str>,
    error: Option<&'a str>,
    status: StatusCode,
}

impl AccountView<'_> {
    fn render(
        &self,
        state: &AppState,
        req: &HttpRequest,
        user: Option<&CurrentUser>,
    ) -> Result<HttpResponse, AppError> {
        let mut context = tera::Context::new();
        context.insert("username", self.username);
        context.insert("next", safe_next(self.next));
        context.insert("error", &self.error);
        render(state, req, user, self.template, context, self.status)
    }
}

pub async fn register_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
) -> Result<HttpResponse, AppError> {
    AccountView {
        template: "register.html",
        username: "",
        next: None,
        error: None,
        status: StatusCode::OK,
    }
    .render(&state, &req, user.0.as_ref())
}

pub async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = query.next.as_deref();
    AccountView {
        template: "login.html",
        username: "",
        next,
        error: None,
        status: StatusCode::OK,
    }
    .render(&state, &req, user.0.as_ref())
}

pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    state.check_form(&req, user.0.as_ref(), form.csrf.as_deref())?;
    let fail = |message: &str| {
        AccountView {
            template: "register.html",
            username: &form.username,
            next: None,
            error: Some(message),
            status: StatusCode::BAD_REQUEST,
        }
        .render(&state, &req, user.0.as_ref())
    };
    let name = match Username::parse(&form.username) {
        Ok(name) => name,
        Err(message) => return fail(&message),
    };
    let password = match Password::parse(&form.password) {
        Ok(password) => password,
        Err(message) => return fail(&message),
    };
    let hash = password::hash(password, state.config.bcrypt_cost).await?;
    let created = state
        .db(move |conn| Ok::<_, AppError>(db::users::create(conn, &name, &hash, false)))
        .await?;
    let new_user = match created {
        Ok(new_user) => new_user,
        Err(db::users::CreateUserError::NameTaken) => return fail("That username is taken."),
        Err(db::users::CreateUserError::Db(err)) => return Err(err.into()),
    };
    tracing::info!(user = %new_user.name, "registered");
    start_session(&state, &user, new_user.id, "/").await
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    state.check_form(&req, user.0.as_ref(), form.csrf.as_deref())?;
    let next = form.next.as_deref();
    let ip = client::ip(&req, state.config.behind_proxy);
    let fail = |message: &str, status: StatusCode| {
        AccountView {
            template: "login.html",
            username: &form.username,
            next,
            error: Some(message),
            status,
        }
        .render(&state, &req, user.0.as_ref())
    };
    match login::authenticate(&state, &form.username, &form.password, ip).await {
        Ok(found) => start_session(&state, &user, found.id, safe_next(next)).await,
        Err(err @ LoginError::Throttled(retry_after)) => {
            let mut response = fail(&err.to_string(), StatusCode::TOO_MANY_REQUESTS)?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after.into());
            Ok(response)
        }
        Err(err @ LoginError::BadCredentials) => fail(&err.to_string(), StatusCode::UNAUTHORIZED),
        Err(LoginError::BadInput(message)) => fail(&message, StatusCode::BAD_REQUEST),
        Err(LoginError::Other(err)) => Err(err),
    }
}

/// Give the browser a brand-new session cookie, then redirect.
async fn start_session(
    state: &AppState,
    previous: &MaybeUser,
    user_id: i32,
    location: &str,
) -> Result<HttpResponse, AppError> {
    let token = login::start_session(state, previous, user_id).await?;
    let mut response = see_other(location);
    response
        .add_cookie(&session::cookie(
            token,
            state.config.session_ttl,
            state.secure_cookies,
        ))
        .map_err(|err| AppError::Internal(err.into()))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, AppError> {
    state.check_form(&req, user.0.as_ref(), form.csrf.as_deref())?;
    if let Some(current) = &user.0 {
        login::end_session(&state, current).await?;
    }
    let mut response = see_other("/");
    response
        .add_cookie(&session::removal_cookie(state.secure_cookies))
        .map_err(|err| AppError::Internal(err.into()))?;
    Ok(response)
}
