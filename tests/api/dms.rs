//! Direct messages: a private room of its members. For everyone else it
//! does not exist — on every path: room list, page, API, socket, uploads.

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn open_dm(app: &TestApp, token: &str, users: &[&str]) -> (u16, Value) {
    let res = app
        .api(Method::POST, "/api/dms", token)
        .json(&json!({ "users": users }))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[actix_web::test]
async fn two_friends_dm_and_the_room_is_theirs_alone_on_every_path() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    let eve = app.api_user("eve").await;
    let mut bob_ws = app.open_ws(&bob).await;

    let (status, dm) = open_dm(&app, &alice, &["Bob"]).await;
    assert_eq!(status, 201);
    assert_eq!(dm["members"], json!(["alice", "bob"]));
    let room = dm["room"].as_str().unwrap().to_string();
    // Asking again, from either side, finds the same room.
    assert_eq!(
        open_dm(&app, &alice, &["bob", "bob"]).await,
        (200, dm.clone())
    );
    assert_eq!(open_dm(&app, &bob, &["alice"]).await, (200, dm.clone()));
    // bob is told about it at once.
    let rooms = expect_type(&mut bob_ws, "rooms").await;
    let listed: Vec<&Value> = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "dm")
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0]["name"].as_str().unwrap(),
            listed[0]["members"].clone()
        ),
        (room.as_str(), json!(["alice", "bob"]))
    );

    // They talk, live and through the API, with uploads.
    send_json(&mut bob_ws, json!({"type": "join", "room": room})).await;
    expect_type(&mut bob_ws, "history").await;
    let hello = app
        .api_post(&alice, &room, json!({"body": "psst, bob"}))
        .await;
    assert_eq!(
        expect_type(&mut bob_ws, "message").await["body"],
        "psst, bob"
    );
    let form = Form::new().part(
        "file",
        Part::bytes(b"just between us".to_vec()).file_name("note.txt"),
    );
    let res = app
        .api(Method::POST, &format!("/api/rooms/{room}/uploads"), &alice)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let upload_url = res.json::<Value>().await.unwrap()["message"]["attachment"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let fetched = app
        .api(Method::GET, &upload_url, &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status().as_u16(), 200);

    // eve: the room does not exist.
    let eve_rooms = app.get_json("/api/rooms", &eve).await;
    assert!(!eve_rooms.to_string().contains(&room), "{eve_rooms}");
    let id = hello["id"].as_i64().unwrap();
    let not_found: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/rooms/{room}/messages"), None),
        (
            Method::GET,
            format!("/api/rooms/{room}/messages?after=0&wait=1"),
            None,
        ),
        (
            Method::POST,
            format!("/api/rooms/{room}/messages"),
            Some(json!({"body": "let me in"})),
        ),
        (
            Method::POST,
            format!("/api/rooms/{room}/read"),
            Some(json!({"seq": 1})),
        ),
        (
            Method::PATCH,
            format!("/api/messages/{id}"),
            Some(json!({"body": "x"})),
        ),
        (Method::DELETE, format!("/api/messages/{id}"), None),
        (
            Method::POST,
            format!("/api/messages/{id}/reactions"),
            Some(json!({"emoji": "👀"})),
        ),
        (Method::GET, upload_url.clone(), None),
        (Method::GET, format!("{upload_url}/thumb"), None),
    ];
    for (method, path, body) in not_found {
        let mut req = app.api(method.clone(), &path, &eve);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 404, "{method} {path}");
    }
    let mut eve_ws = app.open_ws(&eve).await;
    for frame in [
        json!({"type": "join", "room": room}),
        json!({"type": "resume", "room": room, "after": 0}),
        json!({"type": "history", "room": room}),
        json!({"type": "send", "room": room, "body": "hi", "client_id": "e1"}),
        json!({"type": "typing", "room": room}),
        json!({"type": "read", "room": room, "seq": 1}),
    ] {
        send_json(&mut eve_ws, frame.clone()).await;
        assert_eq!(
            expect_type(&mut eve_ws, "error").await["code"],
            "no_such_room",
            "{frame}"
        );
    }
    for frame in [
        json!({"type": "react", "id": id, "emoji": "👀"}),
        json!({"type": "edit", "id": id, "body": "x"}),
        json!({"type": "delete", "id": id}),
    ] {
        send_json(&mut eve_ws, frame.clone()).await;
        assert_eq!(
            expect_type(&mut eve_ws, "error").await["code"],
            "no_such_message",
            "{frame}"
        );
    }
    // Nothing eve tried reached the room.
    let history = app
        .get_json(&format!("/api/rooms/{room}/messages"), &bob)
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 2);
    assert_eq!(history["messages"][0]["reactions"], json!([]));
    // The pages agree: 404 for eve (logged in through the browser forms).
    app.signed_up("eve2").await;
    assert_eq!(
        app.get(&format!("/rooms/{room}")).await.status().as_u16(),
        404
    );
    assert_eq!(
        app.get(&format!("/rooms/{room}/media"))
            .await
            .status()
            .as_u16(),
        404
    );
    // A public room can't take a DM-looking name.
    let res = app
        .api(Method::POST, "/api/rooms", &eve)
        .json(&json!({"name": "dm-0123456789abcdef"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}

#[actix_web::test]
async fn a_small_group_dm_is_one_room_per_set_of_people() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    for name in ["bob", "carol", "dave"] {
        app.api_user(name).await;
    }
    let (status, group) = open_dm(&app, &alice, &["carol", "bob"]).await;
    assert_eq!(status, 201);
    assert_eq!(group["members"], json!(["alice", "bob", "carol"]));
    let (_, pair) = open_dm(&app, &alice, &["bob"]).await;
    assert_ne!(pair["room"], group["room"]);
    let (status, again) = open_dm(&app, &alice, &["bob", "carol"]).await;
    assert_eq!(
        (status, again["room"].clone()),
        (200, group["room"].clone())
    );
    let carol = app.api_login("carol").await;
    let rooms = app.get_json("/api/rooms", &carol).await;
    let dms: Vec<&Value> = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "dm")
        .collect();
    assert_eq!(dms.len(), 1, "carol is in the group only");
}

#[actix_web::test]
async fn bad_dm_requests_get_clear_errors() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let many: Vec<String> = (0..8).map(|i| format!("user{i}")).collect();
    for name in &many {
        app.api_user(name).await;
    }
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    for users in [vec![], vec!["alice"], vec!["nobody"], vec![""], many] {
        let (status, body) = open_dm(&app, &alice, &users).await;
        assert_eq!(status, 400, "{users:?}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 10);
    }
    let res = app
        .api(Method::POST, "/api/dms", &alice)
        .json(&json!({"users": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}

#[actix_web::test]
async fn the_user_page_starts_a_dm_without_javascript() {
    let app = spawn_app().await;
    app.api_user("bob").await;
    app.signed_up("alice").await;
    let page = app.get_text("/users/bob").await;
    assert!(page.contains("Send a direct message"), "{page}");
    let res = app.submit("/users/bob", "/dms", &[("users", "bob")]).await;
    assert_eq!(res.status().as_u16(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/rooms/dm-"), "{location}");
    assert_eq!(app.get(&location).await.status().as_u16(), 200);
    assert_eq!(app.get("/users/nobody").await.status().as_u16(), 404);
    let res = app
        .submit("/users/bob", "/dms", &[("users", "nobody")])
        .await;
    assert_eq!(res.status().as_u16(), 400);
}
