//! `spawn_app()` and `TestApp`: a running server with a world of its own.
//! Set `TEST_LOG=1` to see the server's logs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use palaver::config::Config;
use palaver::Application;
use reqwest::{redirect, Client, Response};
use tempfile::TempDir;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub data_dir: PathBuf,
    /// Keeps the temp dir alive as long as any app uses it.
    _dir: Option<Arc<TempDir>>,
    handle: ServerHandle,
    task: JoinHandle<anyhow::Result<()>>,
}

pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config::for_tests(data_dir.to_path_buf());
    if std::env::var_os("TEST_LOG").is_some() {
        config.log = "debug".into();
        palaver::telemetry::init(&config.log);
    }
    config
}

pub async fn spawn_app() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let config = test_config(dir.path());
    spawn_with(config, Some(dir)).await
}

pub async fn spawn_with(config: Config, dir: Option<Arc<TempDir>>) -> TestApp {
    let data_dir = config.data_dir.clone();
    let app = Application::build(config).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let task = tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: new_client(),
        data_dir,
        _dir: dir,
        handle,
        task,
    }
}

/// A browser-like client: cookie jar, redirects not followed.
pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first `name="csrf"` hidden field in a page.
pub fn csrf_in(html: &str) -> String {
    hidden_field(html, "csrf").expect("page has a csrf field")
}

pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

/// Undo Tera's HTML escaping, as a browser does when it reads an attribute.
pub fn unescape(text: &str) -> String {
    text.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// The CSRF token from the form on `path`.
    pub async fn csrf(&self, path: &str) -> String {
        csrf_in(&self.get_text(path).await)
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// POST a form with the CSRF token taken from `form_page`.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self.csrf(form_page).await;
        let mut all = fields.to_vec();
        all.push(("csrf", &csrf));
        self.post_form(action, &all).await
    }

    pub async fn register(&self, name: &str, password: &str) -> Response {
        self.submit(
            "/register",
            "/register",
            &[("username", name), ("password", password)],
        )
        .await
    }

    pub async fn login(&self, name: &str, password: &str) -> Response {
        self.submit(
            "/login",
            "/login",
            &[("username", name), ("password", password)],
        )
        .await
    }

    /// Register `name` with [`PASSWORD`]; the client is then logged in.
    pub async fn signed_up(&self, name: &str) {
        let res = self.register(name, PASSWORD).await;
        assert_eq!(res.status().as_u16(), 303, "registering {name}");
    }

    pub async fn logout(&self) -> Response {
        self.submit("/", "/logout", &[]).await
    }

    pub async fn create_room(&self, name: &str) -> Response {
        self.submit("/", "/rooms", &[("name", name)]).await
    }

    pub async fn post_message(&self, room: &str, body: &str) -> Response {
        let page = format!("/rooms/{room}");
        self.submit(&page, &format!("{page}/messages"), &[("body", body)])
            .await
    }

    /// Stop the server and wait until its writer has finished.
    pub async fn stop(self) -> Option<Arc<TempDir>> {
        self.handle.stop(true).await;
        self.task.await.unwrap().unwrap();
        self._dir
    }
}
