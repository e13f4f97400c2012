//! Unread counts and mentions: kept per user and room, pushed live, cleared
//! by reading in any tab.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn unread_of(rooms: &Value, room: &str) -> (i64, i64) {
    let item = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == room)
        .unwrap();
    (
        item["unread"].as_i64().unwrap(),
        item["mentions"].as_i64().unwrap(),
    )
}

async fn next_unread(ws: &mut Ws) -> (String, i64, i64) {
    let frame = expect_type(ws, "unread").await;
    (
        frame["room"].as_str().unwrap().to_string(),
        frame["count"].as_i64().unwrap(),
        frame["mentions"].as_i64().unwrap(),
    )
}

#[actix_web::test]
async fn unread_counts_and_mentions_follow_messages_and_clear_in_every_tab() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    app.api_create_room(&alice, "general").await;
    app.api_post(&alice, "general", json!({"body": "before bob came"}))
        .await;
    // A room bob never opened shows no unread count.
    assert_eq!(
        unread_of(&app.get_json("/api/rooms", &bob).await, "general"),
        (0, 0)
    );

    // bob opens the room once (reads it), then has two tabs elsewhere.
    let read = app
        .api(Method::POST, "/api/rooms/general/read", &bob)
        .json(&json!({"seq": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 200);
    assert_eq!(
        read.json::<Value>().await.unwrap(),
        json!({"room": "general", "last_read_seq": 1, "unread": 0, "mentions": 0})
    );
    let mut tab1 = app.open_ws(&bob).await;
    let mut tab2 = app.open_ws(&bob).await;

    app.api_post(&alice, "general", json!({"body": "news"}))
        .await;
    let message = app
        .api_post(&alice, "general", json!({"body": "@bob look at this"}))
        .await;
    assert_eq!(message["mentions"], json!(["bob"]));
    let html = message["html"].as_str().unwrap();
    assert!(
        html.contains(r#"class="mention""#) && html.contains(r#"href="/users/bob""#),
        "{html}"
    );
    for tab in [&mut tab1, &mut tab2] {
        assert_eq!(next_unread(tab).await, ("general".into(), 1, 0));
        assert_eq!(next_unread(tab).await, ("general".into(), 2, 1));
    }
    assert_eq!(
        unread_of(&app.get_json("/api/rooms", &bob).await, "general"),
        (2, 1)
    );
    // The sender's own messages never count for them.
    assert_eq!(
        unread_of(&app.get_json("/api/rooms", &alice).await, "general"),
        (0, 0)
    );

    // Reading in one tab clears the count in both.
    send_json(
        &mut tab1,
        json!({"type": "read", "room": "general", "seq": 3}),
    )
    .await;
    assert_eq!(next_unread(&mut tab1).await, ("general".into(), 0, 0));
    assert_eq!(next_unread(&mut tab2).await, ("general".into(), 0, 0));
    assert_eq!(
        unread_of(&app.get_json("/api/rooms", &bob).await, "general"),
        (0, 0)
    );

    // A deleted unread message is taken back; markers never move back.
    let id = app
        .api_post(&alice, "general", json!({"body": "oops"}))
        .await["id"]
        .clone();
    assert_eq!(next_unread(&mut tab2).await, ("general".into(), 1, 0));
    app.api(Method::DELETE, &format!("/api/messages/{id}"), &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(next_unread(&mut tab2).await, ("general".into(), 0, 0));
    for seq in [-5, 1, 1_000_000] {
        let res = app
            .api(Method::POST, "/api/rooms/general/read", &bob)
            .json(&json!({"seq": seq}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let body: Value = res.json().await.unwrap();
        assert!(
            body["last_read_seq"].as_i64().unwrap() >= 3,
            "{seq}: {body}"
        );
    }
    for bad in [json!({}), json!({"seq": "x"})] {
        let res = app
            .api(Method::POST, "/api/rooms/general/read", &bob)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "{bad}");
    }
}

#[actix_web::test]
async fn opening_the_room_page_marks_it_read() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.signed_up("bob").await;
    app.api_create_room(&alice, "general").await;
    assert_eq!(app.get("/rooms/general").await.status().as_u16(), 200);
    app.api_post(&alice, "general", json!({"body": "hi @bob"}))
        .await;
    let bob = app.api_login("bob").await;
    assert_eq!(
        unread_of(&app.get_json("/api/rooms", &bob).await, "general"),
        (1, 1)
    );
    app.get("/rooms/general").await;
    assert_eq!(
        unread_of(&app.get_json("/api/rooms", &bob).await, "general"),
        (0, 0)
    );
}

#[actix_web::test]
async fn a_new_dm_counts_unread_for_its_members_from_the_start() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    let mut bob_ws = app.open_ws(&bob).await;
    let res = app
        .api(Method::POST, "/api/dms", &alice)
        .json(&json!({"users": ["bob"]}))
        .send()
        .await
        .unwrap();
    let room = res.json::<Value>().await.unwrap()["room"]
        .as_str()
        .unwrap()
        .to_string();
    expect_type(&mut bob_ws, "rooms").await;
    app.api_post(&alice, &room, json!({"body": "hey"})).await;
    assert_eq!(next_unread(&mut bob_ws).await, (room.clone(), 1, 0));
    assert_eq!(
        unread_of(&app.get_json("/api/rooms", &bob).await, &room),
        (1, 0)
    );
}

#[actix_web::test]
async fn a_mention_counts_even_in_a_room_never_opened() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    app.api_create_room(&alice, "random").await;
    app.api_post(&alice, "random", json!({"body": "no one reads this"}))
        .await;
    let mut bob_ws = app.open_ws(&bob).await;
    app.api_post(&alice, "random", json!({"body": "@bob your opinion?"}))
        .await;
    assert_eq!(next_unread(&mut bob_ws).await, ("random".into(), 1, 1));
    app.api_post(&alice, "random", json!({"body": "and more"}))
        .await;
    assert_eq!(next_unread(&mut bob_ws).await, ("random".into(), 2, 1));
    assert_eq!(
        unread_of(&app.get_json("/api/rooms", &bob).await, "random"),
        (2, 1)
    );
}
