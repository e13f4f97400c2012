use crate::helpers::{cookie_pair, new_client, set_cookie, spawn_app, PASSWORD};

#[actix_web::test]
async fn a_new_user_registers_logs_out_and_logs_back_in() {
    let app = spawn_app().await;
    let res = app.register("alice", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/");
    assert!(app.get_text("/").await.contains("Welcome back, alice"));

    assert_eq!(app.logout().await.status().as_u16(), 303);
    assert!(!app.get_text("/").await.contains("Welcome back"));

    let res = app.login("ALICE", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(app.get_text("/").await.contains("Welcome back, alice"));
}

#[actix_web::test]
async fn the_session_cookie_is_http_only_lax_with_a_max_age() {
    let app = spawn_app().await;
    let res = app.register("alice", PASSWORD).await;
    let cookie = set_cookie(&res, "palaver_session");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    let token = &cookie["palaver_session=".len()..cookie.find(';').unwrap()];
    assert_eq!(token.len(), 64, "256-bit hex token");
}

#[actix_web::test]
async fn usernames_are_unique_ignoring_case() {
    let app = spawn_app().await;
    app.signed_up("Alice").await;
    let other = app.url("/register");
    let client = new_client();
    let page = client
        .get(&other)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_in(&page);
    let res = client
        .post(&other)
        .form(&[
            ("username", "aLiCe"),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("That username is taken."), "{html}");
    assert!(
        html.contains("value=\"aLiCe\""),
        "the form keeps what was typed"
    );
}

#[actix_web::test]
async fn registration_explains_every_bad_input() {
    let app = spawn_app().await;
    let long_name = "x".repeat(33);
    let long_password = "p".repeat(73);
    let cases = [
        ("", PASSWORD, "Choose a username."),
        (long_name.as_str(), PASSWORD, "at most 32 characters"),
        ("bad name", PASSWORD, "may only contain"),
        ("bob", "short", "at least 8 characters"),
        ("bob", long_password.as_str(), "at most 72 bytes"),
    ];
    for (name, password, expected) in cases {
        let res = app.register(name, password).await;
        assert_eq!(res.status().as_u16(), 400, "{name:?}/{password:?}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(expected),
            "{expected:?} not in the page for {name:?}"
        );
    }
    // Nothing was created along the way.
    assert_eq!(app.login("bob", PASSWORD).await.status().as_u16(), 401);
}

#[actix_web::test]
async fn a_password_is_never_trimmed() {
    let app = spawn_app().await;
    app.register("carol", "  padded pass  ").await;
    app.logout().await;
    assert_eq!(
        app.login("carol", "padded pass").await.status().as_u16(),
        401
    );
    assert_eq!(
        app.login("carol", "  padded pass  ")
            .await
            .status()
            .as_u16(),
        303
    );
}

#[actix_web::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.signed_up("dave").await;
    app.logout().await;
    let wrong = app.login("dave", "not the password").await;
    let unknown = app.login("nobody", "not the password").await;
    assert_eq!(wrong.status().as_u16(), 401);
    assert_eq!(unknown.status().as_u16(), 401);
    let (a, b) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(a.contains("Wrong username or password."));
    assert!(b.contains("Wrong username or password."));
}

#[actix_web::test]
async fn an_over_long_password_at_login_is_a_clear_400() {
    let app = spawn_app().await;
    app.signed_up("erin").await;
    app.logout().await;
    let res = app.login("erin", &"p".repeat(100)).await;
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("72 bytes"));
}

#[actix_web::test]
async fn repeated_failed_logins_are_throttled_with_retry_after() {
    let app = spawn_app().await;
    app.signed_up("frank").await;
    app.logout().await;
    for _ in 0..5 {
        assert_eq!(
            app.login("frank", "wrong password").await.status().as_u16(),
            401
        );
    }
    let res = app.login("frank", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 429, "even the right password waits");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    // Another account from the same IP is not locked by this account's failures.
    assert_eq!(
        app.login("someone", "wrong password")
            .await
            .status()
            .as_u16(),
        401
    );
}

#[actix_web::test]
async fn logging_in_replaces_a_planted_session_cookie() {
    let app = spawn_app().await;
    app.signed_up("grace").await;
    app.logout().await;
    let planted = "ab".repeat(32);
    let client = new_client();
    let page = client
        .get(app.url("/login"))
        .header("cookie", format!("palaver_session={planted}"))
        .send()
        .await
        .unwrap();
    let anon = cookie_pair(&page, "palaver_csrf");
    let csrf = crate::helpers::csrf_in(&page.text().await.unwrap());
    let res = client
        .post(app.url("/login"))
        .header("cookie", format!("palaver_session={planted}; {anon}"))
        .form(&[
            ("username", "grace"),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let issued = set_cookie(&res, "palaver_session");
    assert!(!issued.contains(&planted), "the planted token was kept");
}

#[actix_web::test]
async fn after_logout_the_old_cookie_no_longer_works() {
    let app = spawn_app().await;
    app.signed_up("heidi").await;
    let res = app.login("heidi", PASSWORD).await;
    let cookie = cookie_pair(&res, "palaver_session");
    app.logout().await;
    let replay = new_client()
        .get(app.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !replay.contains("Welcome back"),
        "logged-out cookie still works"
    );
}

#[actix_web::test]
async fn a_forged_session_cookie_is_ignored() {
    let app = spawn_app().await;
    app.signed_up("ivan").await;
    for forged in ["ff".repeat(32), "not-a-token".into(), "<script>".into()] {
        let html = new_client()
            .get(app.url("/"))
            .header("cookie", format!("palaver_session={forged}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("Welcome back"), "{forged} was accepted");
    }
}

#[actix_web::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let app = spawn_app().await;
    // No token at all, on the anonymous forms.
    let res = app
        .post_form(
            "/register",
            &[("username", "mallory"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.text().await.unwrap().contains("Reload the page"));
    let res = app
        .post_form(
            "/login",
            &[("username", "x"), ("password", PASSWORD), ("csrf", "0")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 403);

    // Logged in: a token from another session does not work.
    app.signed_up("judy").await;
    let res = app
        .post_form("/rooms", &[("name", "stolen"), ("csrf", &"0".repeat(64))])
        .await;
    assert_eq!(res.status().as_u16(), 403);
    let res = app.post_form("/logout", &[]).await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(
        app.get_text("/").await.contains("Welcome back, judy"),
        "still logged in"
    );
    assert!(!app.get_text("/").await.contains("stolen"));
}

#[actix_web::test]
async fn a_form_posted_from_another_origin_is_refused() {
    let app = spawn_app().await;
    app.signed_up("ken").await;
    let csrf = app.csrf("/").await;
    let res = app
        .client
        .post(app.url("/rooms"))
        .header("origin", "https://evil.example")
        .form(&[("name", "evil"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let res = app
        .client
        .post(app.url("/rooms"))
        .header("origin", app.address.as_str())
        .form(&[("name", "fine"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
}

#[actix_web::test]
async fn login_goes_back_to_the_page_that_asked_for_it() {
    let app = spawn_app().await;
    app.signed_up("leo").await;
    app.create_room("lobby").await;
    app.logout().await;
    let res = app.get("/rooms/lobby").await;
    assert_eq!(res.status().as_u16(), 303);
    let to_login = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to_login.starts_with("/login?next="), "{to_login}");
    let page = app.get_text(&to_login).await;
    let next = crate::helpers::hidden_field(&page, "next").unwrap();
    assert_eq!(next, "/rooms/lobby");
    let csrf = crate::helpers::csrf_in(&page);
    let res = app
        .post_form(
            "/login",
            &[
                ("username", "leo"),
                ("password", PASSWORD),
                ("next", &next),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(res.headers()["location"], "/rooms/lobby");
    // An off-site `next` is ignored.
    app.logout().await;
    let csrf = app.csrf("/login").await;
    let res = app
        .post_form(
            "/login",
            &[
                ("username", "leo"),
                ("password", PASSWORD),
                ("next", "//evil.example"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(res.headers()["location"], "/");
}
