use crate::helpers::{new_client, spawn_app};

#[actix_web::test]
async fn a_user_creates_a_room_posts_without_javascript_and_sees_the_message() {
    let app = spawn_app().await;
    app.signed_up("alice").await;
    let res = app.create_room("general").await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/rooms/general");

    let res = app.post_message("general", "Hello, world!").await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/rooms/general#m1");

    let page = app.get_text("/rooms/general").await;
    assert!(page.contains("Hello, world!"), "{page}");
    assert!(page.contains("alice"));
    assert!(page.contains("<time datetime=\""));
    // The home page lists the room with its message count.
    let home = app.get_text("/").await;
    assert!(
        home.contains("# general") && home.contains("1 message<"),
        "{home}"
    );
}

#[actix_web::test]
async fn messages_are_numbered_contiguously_and_shown_in_order() {
    let app = spawn_app().await;
    app.signed_up("bob").await;
    app.create_room("counting").await;
    for n in 1..=5 {
        app.post_message("counting", &format!("message number {n}"))
            .await;
    }
    let page = app.get_text("/rooms/counting").await;
    let mut last = 0;
    for n in 1..=5 {
        let at = page.find(&format!("message number {n}")).unwrap();
        assert!(at > last, "message {n} out of order");
        last = at;
        assert!(
            page.contains(&format!("id=\"m{n}\" data-seq=\"{n}\"")),
            "seq {n} missing"
        );
    }
}

#[actix_web::test]
async fn the_room_page_shows_the_latest_100_messages() {
    let app = spawn_app().await;
    app.signed_up("carol").await;
    app.create_room("busy").await;
    let csrf = app.csrf("/rooms/busy").await;
    for n in 1..=105 {
        let body = format!("line {n};");
        app.post_form("/rooms/busy/messages", &[("body", &body), ("csrf", &csrf)])
            .await;
    }
    let page = app.get_text("/rooms/busy").await;
    assert!(!page.contains("line 5;"));
    assert!(page.contains("line 6;") && page.contains("line 105;"));
}

#[actix_web::test]
async fn resubmitting_the_same_form_stores_one_message() {
    let app = spawn_app().await;
    app.signed_up("dan").await;
    app.create_room("echo").await;
    let page = app.get_text("/rooms/echo").await;
    let csrf = crate::helpers::csrf_in(&page);
    let client_id = crate::helpers::hidden_field(&page, "client_id").unwrap();
    let fields = [
        ("body", "only once"),
        ("client_id", client_id.as_str()),
        ("csrf", csrf.as_str()),
    ];
    for _ in 0..3 {
        assert_eq!(
            app.post_form("/rooms/echo/messages", &fields)
                .await
                .status()
                .as_u16(),
            303
        );
    }
    let page = app.get_text("/rooms/echo").await;
    assert_eq!(
        page.matches(r#"<div class="body">only once</div>"#).count(),
        1,
        "one stored message"
    );
}

#[actix_web::test]
async fn html_in_names_and_messages_comes_back_escaped() {
    let app = spawn_app().await;
    app.signed_up("eve").await;
    app.create_room("safe").await;
    let script = "<script>alert('x')</script> & <b>bold</b>";
    app.post_message("safe", script).await;
    let page = app.get_text("/rooms/safe").await;
    assert!(!page.contains("<script>alert"), "message body not escaped");
    assert!(page.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2F;script&gt; &amp; &lt;b&gt;"));

    // A room name with markup is refused, and the refusal echoes it escaped.
    let res = app.create_room("<img src=x onerror=alert(1)>").await;
    assert_eq!(res.status().as_u16(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("Room names may only contain"));
    assert!(!html.contains("<img src=x"), "room name not escaped");

    // So is a username with markup.
    let other = crate::helpers::TestApp::url(&app, "/register");
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
            ("username", "<script>x</script>"),
            ("password", "long enough"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>x"), "username not escaped");
    assert!(html.contains("&lt;script&gt;x"));
}

#[actix_web::test]
async fn bad_room_and_message_input_is_explained() {
    let app = spawn_app().await;
    app.signed_up("fay").await;
    app.create_room("Lounge").await;

    let res = app.create_room("lounge").await;
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("already exists"));
    let res = app.create_room(&"r".repeat(65)).await;
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("at most 64 characters"));
    let res = app.create_room("").await;
    assert_eq!(res.status().as_u16(), 400);

    let res = app.post_message("Lounge", "   ").await;
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("the message is empty"));
    let long = "x".repeat(4001);
    let res = app.post_message("Lounge", &long).await;
    assert_eq!(res.status().as_u16(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("at most 4000 characters"));
    assert!(html.contains(&long), "the draft is kept in the form");

    // Room names are case-insensitive in URLs too.
    assert_eq!(app.get("/rooms/LOUNGE").await.status().as_u16(), 200);
    let csrf = app.csrf("/rooms/Lounge").await;
    let res = app
        .post_form(
            "/rooms/nowhere/messages",
            &[("body", "hello"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 404);
}

#[actix_web::test]
async fn only_logged_in_users_create_rooms_and_post() {
    let app = spawn_app().await;
    app.signed_up("gus").await;
    app.create_room("members").await;
    app.logout().await;
    let csrf = app.csrf("/login").await;
    let res = app
        .post_form("/rooms", &[("name", "anon-room"), ("csrf", &csrf)])
        .await;
    assert_eq!(res.status().as_u16(), 401);
    let res = app
        .post_form(
            "/rooms/members/messages",
            &[("body", "hi"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 401);
    assert!(!app.get_text("/").await.contains("anon-room"));
}

#[actix_web::test]
async fn rooms_with_non_ascii_names_work_end_to_end() {
    let app = spawn_app().await;
    app.signed_up("hana").await;
    let res = app.create_room("café").await;
    assert_eq!(res.headers()["location"], "/rooms/caf%C3%A9");
    app.post_message("caf%C3%A9", "un café ?").await;
    assert!(app.get_text("/rooms/caf%C3%A9").await.contains("un café ?"));
}
