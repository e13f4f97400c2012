//! The JSON API under /api.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

#[actix_web::test]
async fn api_login_gives_a_bearer_token_and_bad_credentials_a_json_401() {
    let app = spawn_app().await;
    let token = app.api_user("alice").await;
    assert_eq!(token.len(), 64);
    let me: Value = app.get_json("/api/me", &token).await;
    assert_eq!(me, json!({"name":"alice","is_admin":false}));

    let res = reqwest::Client::new()
        .post(app.url("/api/login"))
        .json(&json!({"username":"alice","password":"wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_credentials");

    let res = reqwest::Client::new()
        .post(app.url("/api/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");

    let res = reqwest::Client::new()
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "unauthorized"
    );
}

#[actix_web::test]
async fn rooms_are_listed_and_created_with_clear_errors() {
    let app = spawn_app().await;
    let token = app.api_user("alice").await;
    app.api_create_room(&token, "general").await;
    let list: Value = app.get_json("/api/rooms", &token).await;
    assert_eq!(
        list["rooms"],
        json!([{"name":"general","message_count":0,"online":0,"kind":"public","unread":0,"mentions":0}])
    );
    for (name, status) in [("GENERAL", 409), ("bad name", 400), ("", 400)] {
        let res = app
            .api(Method::POST, "/api/rooms", &token)
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{name:?}");
        assert!(res.json::<Value>().await.unwrap()["error"]["message"].is_string());
    }
}

#[actix_web::test]
async fn messages_are_posted_and_paged_by_seq() {
    let app = spawn_app().await;
    let token = app.api_user("alice").await;
    app.api_create_room(&token, "general").await;
    for n in 1..=7 {
        let res = app
            .api(Method::POST, "/api/rooms/general/messages", &token)
            .json(&json!({"body": format!("m{n}"), "client_id": format!("c{n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["message"]["seq"], n);
    }
    // The same client_id again: 200 with the original message.
    let res = app
        .api(Method::POST, "/api/rooms/general/messages", &token)
        .json(&json!({"body": "m1 again", "client_id": "c1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["message"]["body"], "m1");

    let get = |query: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.get_json(&format!("/api/rooms/general/messages{query}"), &token)
                .await
        }
    };
    let seqs = |v: &Value| -> Vec<i64> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };
    let latest = get("?limit=3").await;
    assert_eq!(seqs(&latest), [5, 6, 7]);
    assert_eq!(latest["has_more"], true);
    let older = get("?before=5&limit=3").await;
    assert_eq!(seqs(&older), [2, 3, 4]);
    let newer = get("?after=4&limit=2").await;
    assert_eq!(seqs(&newer), [5, 6]);
    assert_eq!(newer["has_more"], true);
    let rest = get("?after=6").await;
    assert_eq!(seqs(&rest), [7]);
    assert_eq!(rest["has_more"], false);
}

#[actix_web::test]
async fn bad_message_requests_get_json_errors() {
    let app = spawn_app().await;
    let token = app.api_user("alice").await;
    app.api_create_room(&token, "general").await;
    let cases = [
        (json!({"body": ""}), 400),
        (json!({"body": "x".repeat(4001)}), 400),
        (json!({"nobody": "x"}), 400),
        (json!({"body": "ok", "client_id": "has space"}), 400),
    ];
    for (body, status) in cases {
        let res = app
            .api(Method::POST, "/api/rooms/general/messages", &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{body:.50}");
        assert_eq!(res.headers()["content-type"], "application/json");
    }
    let res = app
        .api(Method::GET, "/api/rooms/nowhere/messages", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let res = app
        .api(Method::GET, "/api/rooms/general/messages?limit=0", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = app
        .api(Method::GET, "/api/rooms/general/messages?after=x", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = app
        .api(
            Method::GET,
            "/api/rooms/general/messages?after=1&before=3",
            &token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}

#[actix_web::test]
async fn cookie_authenticated_writes_need_this_sites_origin() {
    let app = spawn_app().await;
    app.signed_up("alice").await;
    let res = app
        .client
        .post(app.url("/api/rooms"))
        .json(&json!({"name":"sneaky"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403, "no Origin");
    let res = app
        .client
        .post(app.url("/api/rooms"))
        .header("origin", "https://evil.example")
        .json(&json!({"name":"sneaky"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403, "foreign Origin");
    let res = app
        .client
        .post(app.url("/api/rooms"))
        .header("origin", app.address.as_str())
        .json(&json!({"name":"fine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
}

#[actix_web::test]
async fn long_poll_returns_as_soon_as_a_message_arrives() {
    let app = spawn_app().await;
    let token = app.api_user("alice").await;
    app.api_create_room(&token, "general").await;
    let poll = app
        .api(
            Method::GET,
            "/api/rooms/general/messages?after=0&wait=20",
            &token,
        )
        .send();
    let poster = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.api(Method::POST, "/api/rooms/general/messages", &token)
            .json(&json!({"body": "wake up"}))
            .send()
            .await
            .unwrap()
    };
    let started = std::time::Instant::now();
    let (polled, _) = tokio::join!(poll, poster);
    let body: Value = polled.unwrap().json().await.unwrap();
    assert_eq!(body["messages"][0]["body"], "wake up");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited for the timeout instead"
    );
    // With nothing new, it waits `wait` seconds and returns an empty page.
    let empty: Value = app
        .get_json("/api/rooms/general/messages?after=1&wait=1", &token)
        .await;
    assert_eq!(empty["messages"], json!([]));
}

#[actix_web::test]
async fn online_counts_users_with_open_sockets() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    let _a = app.open_ws(&alice).await;
    let _b = app.open_ws(&bob).await;
    let _b2 = app.open_ws(&bob).await;
    let online: Value = app.get_json("/api/online", &alice).await;
    assert_eq!(
        online,
        json!({"count":2,"users":["alice","bob"],"connections":3})
    );
}
