//! HTTPS built in: the development certificate, a client that trusts it
//! (never one that trusts anything), HSTS, `Secure` `__Host-` cookies, WSS,
//! the plain-HTTP redirect, bad TLS settings, and proxy headers that count
//! only with `--behind-proxy`.

use std::ffi::OsStr;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use palaver::config::TlsSource;
use palaver::Application;
use reqwest::header::{LOCATION, SET_COOKIE, STRICT_TRANSPORT_SECURITY};
use reqwest::redirect;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::Connector;

use crate::helpers::{next_frame, spawn_with, test_config, TestApp, Ws, PASSWORD};

/// A server on HTTPS with its development certificate, a browser-like client
/// that trusts exactly that certificate, and the certificate's PEM.
async fn spawn_https() -> (TestApp, Vec<u8>) {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(dir.path());
    config.tls = Some(TlsSource::SelfSigned);
    let mut app = spawn_with(config, Some(dir)).await;
    let pem = std::fs::read(app.data_dir.join("tls/cert.pem")).unwrap();
    app.address = app.address.replace("http://", "https://");
    app.client = https_client(&pem);
    (app, pem)
}

fn https_client(pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem).unwrap())
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// A rustls client configuration whose only trusted root is `pem`.
fn trusting(pem: &[u8]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Open `wss://…/ws` with a bearer token (and an `Origin`, if given).
async fn open_wss(
    app: &TestApp,
    pem: &[u8],
    token: &str,
    origin: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let url = format!("{}/ws", app.address.replace("https://", "wss://"));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    let connector = Connector::Rustls(Arc::new(trusting(pem)));
    tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(connector))
        .await
        .map(|(ws, _)| ws)
}

async fn api_login(app: &TestApp, name: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/login"))
        .json(&serde_json::json!({"username": name, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "api login {name}");
    let body: serde_json::Value = res.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn https_pages_carry_hsts_and_secure_host_prefixed_cookies() {
    let (app, _pem) = spawn_https().await;
    assert!(app.address.starts_with("https://127.0.0.1:"));

    let home = app.get("/").await;
    assert_eq!(home.status().as_u16(), 200);
    assert_eq!(
        home.headers()[STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
    // The anonymous CSRF cookie that the login and register forms use.
    let cookies = set_cookies(&home);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-palaver_csrf=") && c.contains("Secure")),
        "{cookies:?}"
    );
    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(
        missing.headers()[STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );

    let res = app.register("alice", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 303);
    let cookies = set_cookies(&res);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-palaver_session="))
        .unwrap_or_else(|| panic!("no __Host- session cookie in {cookies:?}"));
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attribute), "{session} lacks {attribute}");
    }
    assert!(!session.contains("Domain="), "{session}");
    assert!(app.get_text("/").await.contains("alice"));

    app.logout().await;
    let res = app.login("alice", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(set_cookies(&res)
        .iter()
        .any(|c| c.starts_with("__Host-palaver_session=") && c.contains("Secure")),);
}

#[actix_web::test]
async fn the_site_origin_under_tls_is_https() {
    let (app, _pem) = spawn_https().await;
    app.signed_up("bob").await;
    let csrf = app.csrf("/").await;
    let http_origin = app.address.replace("https://", "http://");
    let refused = app
        .client
        .post(app.url("/rooms"))
        .header("origin", &http_origin)
        .form(&[("name", "lobby"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403, "http:// is another origin");
    let created = app
        .client
        .post(app.url("/rooms"))
        .header("origin", &app.address)
        .form(&[("name", "lobby"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 303);
}

#[actix_web::test]
async fn a_wss_client_with_a_bearer_token_gets_the_rooms_frame() {
    let (app, pem) = spawn_https().await;
    app.signed_up("carol").await;
    let token = api_login(&app, "carol").await;

    let mut ws = open_wss(&app, &pem, &token, None).await.unwrap();
    let first = next_frame(&mut ws).await;
    assert_eq!(first["type"], "rooms", "{first}");

    // A browser on this site sends the https origin; the http one is foreign.
    let mut ws = open_wss(&app, &pem, &token, Some(&app.address))
        .await
        .unwrap();
    assert_eq!(next_frame(&mut ws).await["type"], "rooms");
    let http_origin = app.address.replace("https://", "http://");
    match open_wss(&app, &pem, &token, Some(&http_origin)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 403)
        }
        other => panic!("expected 403, got {:?}", other.map(|_| "a socket")),
    }
}

#[actix_web::test]
async fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let (app, _pem) = spawn_https().await;
    let stranger = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(stranger.get(app.url("/")).send().await.is_err());
}

#[actix_web::test]
async fn the_redirect_port_sends_every_request_to_https() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.tls = Some(TlsSource::SelfSigned);
    config.redirect_http = Some(0);
    let app = Application::build(config).await.unwrap();
    let https_port = app.port();
    let plain = app.redirect_address().unwrap();
    let handle = app.shutdown_handle();
    let task = tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .get(format!("http://{plain}/rooms/lobby?before=7"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 301);
    assert_eq!(
        res.headers()[LOCATION],
        format!("https://127.0.0.1:{https_port}/rooms/lobby?before=7").as_str()
    );
    assert!(res.headers().get(STRICT_TRANSPORT_SECURITY).is_none());

    // The host name the browser used is kept; the port becomes the HTTPS one.
    let res = client
        .post(format!("http://{plain}/login"))
        .header("host", format!("localhost:{}", plain.port()))
        .form(&[("username", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 301);
    assert_eq!(
        res.headers()[LOCATION],
        format!("https://localhost:{https_port}/login").as_str()
    );
    let res = client
        .get(format!("http://{plain}/"))
        .header("host", "[::1]")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()[LOCATION],
        format!("https://[::1]:{https_port}/").as_str()
    );
    let res = client
        .get(format!("http://{plain}/"))
        .header("host", "evil\"example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);

    handle.shutdown().await;
    task.await.unwrap().unwrap();
}

fn palaver() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palaver"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CHAT_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Run the binary with `args` and `envs`; it must refuse to start with
/// exit code 2 and one line on stderr that mentions `mentions`.
fn assert_refused(args: &[&OsStr], envs: &[(&str, &OsStr)], mentions: &str) {
    let data = tempfile::tempdir().unwrap();
    let out = palaver()
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?} {envs:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("palaver: "), "{stderr}");
    assert!(
        stderr.contains(mentions),
        "{stderr} should mention {mentions}"
    );
}

#[test]
fn bad_tls_settings_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    palaver::tls::self_signed(&dir.path().join("good")).unwrap();
    let cert = dir.path().join("good/cert.pem");
    let key = dir.path().join("good/key.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN NONSENSE-----\n").unwrap();
    let missing = dir.path().join("missing.pem");
    let (cert, key) = (cert.as_os_str(), key.as_os_str());
    let (garbage, missing) = (garbage.as_os_str(), missing.as_os_str());
    let flag = OsStr::new;

    assert_refused(
        &[flag("--tls-cert"), missing, flag("--tls-key"), key],
        &[],
        "CHAT_TLS_CERT: cannot read",
    );
    assert_refused(
        &[flag("--tls-cert"), cert, flag("--tls-key"), missing],
        &[],
        "CHAT_TLS_KEY: cannot read",
    );
    assert_refused(
        &[],
        &[("CHAT_TLS_CERT", garbage), ("CHAT_TLS_KEY", key)],
        "CHAT_TLS_CERT",
    );
    assert_refused(
        &[flag("--tls-cert"), cert, flag("--tls-key"), garbage],
        &[],
        "CHAT_TLS_KEY",
    );
    assert_refused(&[flag("--tls-cert"), cert], &[], "CHAT_TLS_KEY");
    assert_refused(&[], &[("CHAT_TLS_KEY", key)], "CHAT_TLS_CERT");
    assert_refused(
        &[
            flag("--tls-self-signed"),
            flag("--tls-cert"),
            cert,
            flag("--tls-key"),
            key,
        ],
        &[],
        "CHAT_TLS_SELF_SIGNED",
    );
    assert_refused(
        &[flag("--redirect-http"), flag("8081")],
        &[],
        "CHAT_REDIRECT_HTTP",
    );
}

#[test]
fn the_binary_prints_the_development_certificate_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = palaver()
        .args([
            "--tls-self-signed",
            "--bind",
            "127.0.0.1:0",
            "--log",
            "warn",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let line = loop {
        match received.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.contains("fingerprint") => break line,
            Ok(_) => continue,
            Err(err) => {
                let _ = child.kill();
                panic!("no fingerprint line: {err}");
            }
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let pem = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();
    let der = CertificateDer::from_pem_slice(&pem).unwrap();
    let fingerprint = palaver::tls::fingerprint(&der);
    assert!(line.starts_with("palaver: "), "{line}");
    assert!(line.contains(&fingerprint), "{line} vs {fingerprint}");
}

/// Fail `count` logins for fresh names, each claiming another client IP.
async fn failed_logins_with_spoofed_ips(app: &TestApp, count: u32) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..count {
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .header("forwarded", format!("for=198.51.100.{i}"))
            .json(&serde_json::json!({"username": format!("nobody{i}"), "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    statuses
}

/// A plain-HTTP server that throttles a client IP after 3 failed logins.
async fn spawn_throttled_after_3(behind_proxy: bool) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(dir.path());
    config.login_failures_per_ip = 3;
    config.behind_proxy = behind_proxy;
    spawn_with(config, Some(dir)).await
}

#[actix_web::test]
async fn a_spoofed_x_forwarded_for_does_not_change_the_throttled_ip() {
    let app = spawn_throttled_after_3(false).await;
    let statuses = failed_logins_with_spoofed_ips(&app, 4).await;
    assert_eq!(statuses, [401, 401, 401, 429]);
}

#[actix_web::test]
async fn behind_a_proxy_the_forwarded_client_ip_is_throttled() {
    let app = spawn_throttled_after_3(true).await;
    // Four different clients, as the proxy says: nobody is throttled...
    let statuses = failed_logins_with_spoofed_ips(&app, 4).await;
    assert_eq!(statuses, [401, 401, 401, 401]);
    // ...but one client failing again and again is.
    let mut last = 0;
    for i in 0..4 {
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("x-forwarded-for", "192.0.2.50")
            .json(&serde_json::json!({"username": format!("someone{i}"), "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        last = res.status().as_u16();
    }
    assert_eq!(last, 429);
}

#[actix_web::test]
async fn x_forwarded_proto_sets_the_origin_only_behind_a_proxy() {
    for (behind_proxy, expected) in [(false, 403), (true, 200)] {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let mut config = test_config(dir.path());
        config.behind_proxy = behind_proxy;
        let app = spawn_with(config, Some(dir)).await;
        app.signed_up("dave").await;
        let https_origin = app.address.replace("http://", "https://");
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("origin", &https_origin)
            .header("x-forwarded-proto", "https")
            .json(&serde_json::json!({"username": "dave", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            expected,
            "behind_proxy={behind_proxy}"
        );
    }
}
