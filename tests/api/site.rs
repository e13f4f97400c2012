use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_home_page_counts_visits_in_a_cookie() {
    let app = spawn_app().await;
    assert!(app
        .get_text("/")
        .await
        .contains("visited this page 1 time."));
    assert!(app
        .get_text("/")
        .await
        .contains("visited this page 2 times."));
    let fresh = crate::helpers::new_client()
        .get(app.url("/"))
        .header("cookie", "palaver_visits=garbage")
        .send()
        .await
        .unwrap();
    assert!(fresh
        .text()
        .await
        .unwrap()
        .contains("visited this page 1 time."));
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/login",
        "/static/style.css",
        "/no-such-page",
        "/static/nope.css",
    ] {
        let res = app.get(path).await;
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(!h.contains_key("server"), "{path} reveals the server");
    }
}

#[actix_web::test]
async fn unknown_routes_get_the_templated_404() {
    let app = spawn_app().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status().as_u16(), 404);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = res.text().await.unwrap();
    assert!(html.contains("404 · Not Found") && html.contains("Back to the home page"));
    let res = app.get("/rooms/does-not-exist").await;
    // Anonymous visitors are first asked to log in.
    assert_eq!(res.status().as_u16(), 303);
}

#[actix_web::test]
async fn api_paths_get_json_errors() {
    let app = spawn_app().await;
    let res = app.get("/api/nothing-here").await;
    assert_eq!(res.status().as_u16(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());
}

#[actix_web::test]
async fn a_wrong_method_is_405() {
    let app = spawn_app().await;
    let res = app.client.delete(app.url("/login")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert!(res.text().await.unwrap().contains("405"));
    let res = app.client.get(app.url("/logout")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 405, "no state change on GET");
}

#[actix_web::test]
async fn moved_paths_redirect_permanently() {
    let app = spawn_app().await;
    let res = app.get("/index.html").await;
    assert_eq!(res.status().as_u16(), 301);
    assert_eq!(res.headers()["location"], "/");
    let res = app.get("/login/").await;
    assert_eq!(res.status().as_u16(), 301);
    assert_eq!(res.headers()["location"], "/login");
    let res = app.get("/login/?next=/x").await;
    assert_eq!(res.headers()["location"], "/login?next=/x");
    // Never into a scheme-relative URL.
    let res = app.get("//evil.example/").await;
    assert_ne!(res.status().as_u16(), 301);
}

#[actix_web::test]
async fn static_files_have_types_etags_and_ranges() {
    let app = spawn_app().await;
    let res = app.get("/static/style.css").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let etag = res.headers()["etag"].clone();
    assert!(res.headers().contains_key("last-modified"));

    let res = app
        .client
        .get(app.url("/static/style.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 304);

    let res = app
        .client
        .get(app.url("/static/style.css"))
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(res.bytes().await.unwrap().len(), 10);

    let res = app.get("/static/robots.txt").await;
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
}

#[actix_web::test]
async fn static_files_have_no_listing_and_no_traversal() {
    let app = spawn_app().await;
    assert_eq!(app.get("/static/").await.status().as_u16(), 404);
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2fpalaver.db",
        "/static/%2e%2e%2fpalaver.db",
        "/static/..%5cpalaver.db",
        "/static/.%2e/secret.key",
    ] {
        let res = app.get(path).await;
        let status = res.status().as_u16();
        assert!(status == 404 || status == 400, "{path} gave {status}");
        let body = res.bytes().await.unwrap();
        assert!(
            !body.starts_with(b"SQLite format"),
            "{path} leaked the database"
        );
    }
}

#[actix_web::test]
async fn a_template_override_dir_changes_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let assets = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(assets.path().join("templates")).unwrap();
    std::fs::create_dir_all(assets.path().join("static")).unwrap();
    std::fs::write(
        assets.path().join("templates/error.html"),
        "custom error page {{ status }}",
    )
    .unwrap();
    std::fs::write(assets.path().join("static/extra.txt"), "theme file").unwrap();
    let mut config = crate::helpers::test_config(dir.path());
    config.assets_dir = Some(assets.path().to_path_buf());
    let app = crate::helpers::spawn_with(config, None).await;
    assert_eq!(app.get_text("/missing").await, "custom error page 404");
    assert_eq!(app.get_text("/static/extra.txt").await, "theme file");
    assert!(app.get("/static/style.css").await.status().is_success());
}
