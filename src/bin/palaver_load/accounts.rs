//! Getting the load accounts' bearer tokens and the rooms, through the same
//! HTTP endpoints a person uses: the register form (with its CSRF cookie),
//! `POST /api/login` and `POST /api/rooms`.
//!
//! Failed logins are throttled by the server (per account and per IP), so a
//! rejected password stops the run at once; nothing here retries a login.

use std::path::Path;

use anyhow::{bail, Context};
use futures_util::{stream, StreamExt, TryStreamExt};
use reqwest::{header, redirect, Client, StatusCode, Url};
use serde::{Deserialize, Serialize};

/// The CSRF cookie of the anonymous register form (`__Host-` under TLS).
const CSRF_COOKIES: [&str; 2] = ["palaver_csrf=", "__Host-palaver_csrf="];
const CSRF_FIELD: &str = r#"name="csrf" value=""#;

pub fn http_client() -> anyhow::Result<Client> {
    Client::builder()
        .redirect(redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("Failed to build the HTTP client")
}

/// One bearer token per account, from `tokens_file` when it has enough.
pub async fn tokens(
    http: &Client,
    base: &Url,
    names: &[String],
    password: &str,
    concurrency: usize,
    tokens_file: Option<&Path>,
) -> anyhow::Result<Vec<String>> {
    if let Some(path) = tokens_file {
        if let Ok(text) = std::fs::read_to_string(path) {
            let saved: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            if saved.len() >= names.len() {
                eprintln!("using {} tokens from {}", names.len(), path.display());
                return Ok(saved.into_iter().take(names.len()).collect());
            }
        }
    }
    // The first account alone: a wrong password then costs one failed login,
    // not one per concurrent request against the server's per-IP throttle.
    let Some((first, rest)) = names.split_first() else {
        return Ok(Vec::new());
    };
    let mut tokens = vec![register_and_log_in(http, base, first, password).await?];
    let others: Vec<String> = stream::iter(rest)
        .map(|name| register_and_log_in(http, base, name, password))
        .buffered(concurrency)
        .try_collect()
        .await?;
    tokens.extend(others);
    if let Some(path) = tokens_file {
        std::fs::write(path, tokens.join("\n") + "\n")
            .with_context(|| format!("Failed to write {}", path.display()))?;
    }
    Ok(tokens)
}

async fn register_and_log_in(
    http: &Client,
    base: &Url,
    name: &str,
    password: &str,
) -> anyhow::Result<String> {
    register(http, base, name, password).await?;
    log_in(http, base, name, password).await
}

/// Registers `name` through the HTML form; an existing account is fine.
async fn register(http: &Client, base: &Url, name: &str, password: &str) -> anyhow::Result<()> {
    let url = base.join("register")?;
    let form = http
        .get(url.clone())
        .send()
        .await
        .context("Failed to load the register form")?;
    let cookie = form
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| CSRF_COOKIES.iter().any(|c| v.starts_with(c)))
        .and_then(|v| v.split(';').next())
        .map(String::from)
        .context(
            "The register form set no CSRF cookie (is this a Palaver server? use --raw for a peer)",
        )?;
    let page = form
        .text()
        .await
        .context("Failed to read the register form")?;
    let csrf = csrf_field(&page).context("The register form has no csrf field")?;
    let answer = http
        .post(url)
        .header(header::COOKIE, cookie)
        .form(&[("username", name), ("password", password), ("csrf", csrf)])
        .send()
        .await
        .with_context(|| format!("Failed to register {name}"))?;
    match answer.status() {
        s if s.is_redirection() || s.is_success() => Ok(()),
        StatusCode::BAD_REQUEST => {
            let page = answer.text().await.unwrap_or_default();
            if page.contains("taken") {
                Ok(())
            } else {
                bail!("registering {name} was refused: {}", page_error(&page))
            }
        }
        status => bail!("registering {name}: HTTP {status}"),
    }
}

fn csrf_field(page: &str) -> Option<&str> {
    let start = page.find(CSRF_FIELD)? + CSRF_FIELD.len();
    let len = page[start..].find('"')?;
    Some(&page[start..start + len])
}

/// The form's error message, for the report (`<p class="error">...</p>` or so).
fn page_error(page: &str) -> String {
    page.lines()
        .find(|l| l.contains("error"))
        .map(|l| l.trim().chars().take(200).collect())
        .unwrap_or_else(|| "(no message)".into())
}

#[derive(Serialize)]
struct LoginBody<'a> {
    username: &'a str,
    password: &'a str,
}

#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
}

async fn log_in(http: &Client, base: &Url, name: &str, password: &str) -> anyhow::Result<String> {
    let answer = http
        .post(base.join("api/login")?)
        .json(&LoginBody {
            username: name,
            password,
        })
        .send()
        .await
        .with_context(|| format!("Failed to log in {name}"))?;
    match answer.status() {
        StatusCode::OK => Ok(answer.json::<LoginAnswer>().await?.token),
        StatusCode::UNAUTHORIZED => bail!(
            "login of {name} was refused: the account exists with another password \
             (use --password, or another --user-prefix; not retrying, logins are throttled)"
        ),
        StatusCode::TOO_MANY_REQUESTS => {
            bail!("login of {name} was throttled (429): wait for the window to pass")
        }
        status => bail!("login of {name}: HTTP {status}"),
    }
}

#[derive(Serialize)]
struct NewRoom<'a> {
    name: &'a str,
}

/// Creates the rooms; one that already exists is fine.
pub async fn ensure_rooms(
    http: &Client,
    base: &Url,
    token: &str,
    names: &[String],
) -> anyhow::Result<()> {
    let url = base.join("api/rooms")?;
    for name in names {
        let answer = http
            .post(url.clone())
            .bearer_auth(token)
            .json(&NewRoom { name })
            .send()
            .await
            .with_context(|| format!("Failed to create room {name}"))?;
        match answer.status() {
            StatusCode::CREATED | StatusCode::OK | StatusCode::CONFLICT => {}
            StatusCode::UNAUTHORIZED => bail!(
                "creating room {name}: token rejected (401); delete the --tokens-file to log in again"
            ),
            status => bail!(
                "creating room {name}: HTTP {status} {}",
                answer.text().await.unwrap_or_default()
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_field_is_read_from_the_form() {
        let page = r#"<form method="post"><input type="hidden" name="csrf" value="ab12cd"><input name="username">"#;
        assert_eq!(csrf_field(page), Some("ab12cd"));
        assert_eq!(csrf_field("<form></form>"), None);
    }
}
