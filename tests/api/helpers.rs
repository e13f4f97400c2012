//! `spawn_app()` and `TestApp`: a running server with a world of its own.
//! Set `TEST_LOG=1` to see the server's logs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// The in-process server; `None` for a server in another process.
    running: Option<(palaver::ShutdownHandle, JoinHandle<anyhow::Result<()>>)>,
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

/// A server whose test config `tweak` adjusts first (limits, timeouts).
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(dir.path());
    tweak(&mut config);
    spawn_with(config, Some(dir)).await
}

pub async fn spawn_with(config: Config, dir: Option<Arc<TempDir>>) -> TestApp {
    let data_dir = config.data_dir.clone();
    let app = Application::build(config).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.shutdown_handle();
    let task = tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: new_client(),
        data_dir,
        _dir: dir,
        running: Some((handle, task)),
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

/// The whole `Set-Cookie` header that sets cookie `name`.
pub fn set_cookie(res: &Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set"))
}

/// `name=value` of the cookie the response sets, as a `Cookie` header wants it.
pub fn cookie_pair(res: &Response, name: &str) -> String {
    set_cookie(res, name).split(';').next().unwrap().to_string()
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
    /// Helpers for a server running in another process at `address`.
    pub fn remote(address: &str) -> Self {
        TestApp {
            address: address.to_string(),
            client: new_client(),
            data_dir: PathBuf::new(),
            _dir: None,
            running: None,
        }
    }

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
        if let Some((handle, task)) = self.running {
            handle.shutdown().await;
            task.await.unwrap().unwrap();
        }
        self._dir
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for a frame that should arrive.
pub const FRAME_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl TestApp {
    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.address.replace("http://", "ws://"))
    }

    /// Register `name` from a fresh client and log in through the API;
    /// returns the bearer token.
    pub async fn api_user(&self, name: &str) -> String {
        let other = new_client();
        let page = other
            .get(self.url("/register"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_in(&page);
        let res = other
            .post(self.url("/register"))
            .form(&[("username", name), ("password", PASSWORD), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303, "register {name}");
        self.api_login(name).await
    }

    pub async fn api_login(&self, name: &str) -> String {
        let res = reqwest::Client::new()
            .post(self.url("/api/login"))
            .json(&serde_json::json!({"username": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "api login {name}");
        let body: serde_json::Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    /// An API request with a bearer token.
    pub fn api(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    /// `GET path` with a bearer token, answered with JSON.
    pub async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        self.api(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn api_create_room(&self, token: &str, name: &str) {
        let res = self
            .api(reqwest::Method::POST, "/api/rooms", token)
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201, "create room {name}");
    }

    /// Open `/ws` with a bearer token and wait for the initial `rooms` frame.
    pub async fn open_ws(&self, token: &str) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = self.ws_url().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let first = next_frame(&mut ws).await;
        assert_eq!(first["type"], "rooms", "{first}");
        ws
    }

    /// Open `/ws`, join `room` and read the join's `history` and `presence`.
    pub async fn joined(&self, token: &str, room: &str) -> Ws {
        let mut ws = self.open_ws(token).await;
        send_json(&mut ws, serde_json::json!({"type": "join", "room": room})).await;
        // `presence` (from the chat server) and `history` (from the
        // database) may arrive in either order.
        let (mut history, mut presence) = (false, false);
        while !(history && presence) {
            match next_frame(&mut ws).await["type"].as_str() {
                Some("history") => history = true,
                Some("presence") => presence = true,
                _ => {}
            }
        }
        ws
    }

    /// Make `name` an admin, straight in the database (the CLI's job in
    /// production; tests/api/admin.rs covers that path).
    pub fn make_admin(&self, name: &str) {
        let setup = palaver::db::SqliteSetup {
            durability: palaver::config::Durability::Full,
        };
        let path = self.data_dir.join("palaver.db");
        let mut conn = setup.open(path.to_str().unwrap()).unwrap();
        let user = palaver::db::users::find_by_name(&mut conn, name)
            .unwrap()
            .unwrap();
        palaver::db::users::set_admin(&mut conn, user.id, true).unwrap();
    }

    /// `POST /api/rooms/{room}/messages` with a bearer token; the message.
    pub async fn api_post(
        &self,
        token: &str,
        room: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let res = self
            .api(
                reqwest::Method::POST,
                &format!("/api/rooms/{room}/messages"),
                token,
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201, "post to {room}");
        res.json::<serde_json::Value>().await.unwrap()["message"].clone()
    }

    pub async fn online_connections(&self, token: &str) -> u64 {
        let res = self
            .api(reqwest::Method::GET, "/api/online", token)
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        body["connections"].as_u64().unwrap()
    }
}

pub async fn send_json(ws: &mut Ws, value: serde_json::Value) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    ws.send(Message::text(value.to_string())).await.unwrap();
}

/// A `send` frame: `body` to `room` with idempotency key `client_id`.
pub async fn send_message(ws: &mut Ws, room: &str, body: &str, client_id: &str) {
    let frame =
        serde_json::json!({"type": "send", "room": room, "body": body, "client_id": client_id});
    send_json(ws, frame).await;
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    ws.send(Message::text(text)).await.unwrap();
}

/// The next JSON text frame (pings are answered by tungstenite itself).
pub async fn next_frame(ws: &mut Ws) -> serde_json::Value {
    try_next_frame(ws, FRAME_WAIT)
        .await
        .expect("a frame within the wait")
}

/// The next JSON text frame within `wait`, or None.
pub async fn try_next_frame(ws: &mut Ws, wait: std::time::Duration) -> Option<serde_json::Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        match next {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
            Ok(Message::Close(frame)) => panic!("socket closed: {frame:?}"),
            Ok(_) => continue,
            Err(err) => panic!("socket error: {err}"),
        }
    }
}

/// Skip frames until one of `kind` arrives; return it.
pub async fn expect_type(ws: &mut Ws, kind: &str) -> serde_json::Value {
    for _ in 0..50 {
        let frame = next_frame(ws).await;
        if frame["type"] == kind {
            return frame;
        }
    }
    panic!("no {kind} frame");
}

/// Wait for the close frame; return its code.
pub async fn close_code(ws: &mut Ws) -> Option<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("no close within 10 s"),
            Ok(None) => return None,
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_))) => return None,
        }
    }
}
