//! Edits, deletions, reactions and replies: each a room event with its own
//! seq, live on every socket, resumable, and the same over the JSON API.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// alice and bob in `general`, both sockets joined.
async fn two_in_a_room(app: &TestApp) -> (String, String, Ws, Ws) {
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    app.api_create_room(&alice, "general").await;
    let a = app.joined(&alice, "general").await;
    let b = app.joined(&bob, "general").await;
    (alice, bob, a, b)
}

/// The next frame of `kind` on both sockets; they must be the same.
async fn both_see(a: &mut Ws, b: &mut Ws, kind: &str) -> Value {
    let seen = expect_type(a, kind).await;
    assert_eq!(expect_type(b, kind).await, seen);
    seen
}

#[actix_web::test]
async fn edits_reactions_and_deletions_reach_every_member_live_each_with_its_own_seq() {
    let app = spawn_app().await;
    let (_, _, mut a, mut b) = two_in_a_room(&app).await;
    send_message(&mut a, "general", "hello wrold", "c1").await;
    let message = both_see(&mut a, &mut b, "message").await;
    assert_eq!(message["seq"], 1);
    assert_eq!(message["edited"], Value::Null);
    assert_eq!(message["deleted"], false);
    assert_eq!(message["reactions"], json!([]));
    let id = message["id"].as_i64().unwrap();

    send_json(
        &mut a,
        json!({"type": "edit", "id": id, "body": "hello world"}),
    )
    .await;
    let edited = both_see(&mut a, &mut b, "message_edited").await;
    assert_eq!(
        (
            edited["room"].clone(),
            edited["seq"].clone(),
            edited["id"].clone()
        ),
        (json!("general"), json!(2), json!(id))
    );
    assert_eq!(edited["message"]["body"], "hello world");
    assert_eq!(edited["message"]["seq"], 1, "the message keeps its place");
    assert!(edited["message"]["edited"].is_string());

    send_json(&mut b, json!({"type": "react", "id": id, "emoji": "👍"})).await;
    let reaction = both_see(&mut a, &mut b, "reaction").await;
    assert_eq!(reaction["seq"], 3);
    assert_eq!(
        (reaction["user"].clone(), reaction["added"].clone()),
        (json!("bob"), json!(true))
    );
    assert_eq!(
        reaction["reactions"],
        json!([{"emoji": "👍", "count": 1, "users": ["bob"]}])
    );
    send_json(&mut a, json!({"type": "react", "id": id, "emoji": "👍"})).await;
    let reaction = both_see(&mut a, &mut b, "reaction").await;
    assert_eq!(
        reaction["reactions"],
        json!([{"emoji": "👍", "count": 2, "users": ["bob", "alice"]}])
    );
    // A second identical reaction changes nothing and is not an event.
    send_json(&mut b, json!({"type": "react", "id": id, "emoji": "👍"})).await;
    send_json(&mut b, json!({"type": "unreact", "id": id, "emoji": "👍"})).await;
    let reaction = both_see(&mut a, &mut b, "reaction").await;
    assert_eq!(
        (reaction["seq"].clone(), reaction["added"].clone()),
        (json!(5), json!(false))
    );
    assert_eq!(
        reaction["reactions"],
        json!([{"emoji": "👍", "count": 1, "users": ["alice"]}])
    );

    send_json(&mut a, json!({"type": "delete", "id": id})).await;
    let deleted = both_see(&mut a, &mut b, "message_deleted").await;
    assert_eq!(
        deleted,
        json!({"type": "message_deleted", "room": "general", "seq": 6, "id": id})
    );
}

#[actix_web::test]
async fn resume_replays_every_event_kind_in_current_state_with_contiguous_seqs() {
    let app = spawn_app().await;
    let (alice, _, mut a, mut b) = two_in_a_room(&app).await;
    for (i, body) in ["one", "two", "three"].iter().enumerate() {
        send_message(&mut a, "general", body, &format!("c{i}")).await;
        both_see(&mut a, &mut b, "message").await;
    }
    send_json(&mut a, json!({"type": "edit", "id": 1, "body": "ONE"})).await; // seq 4
    both_see(&mut a, &mut b, "message_edited").await;
    send_json(&mut b, json!({"type": "react", "id": 2, "emoji": "🎉"})).await; // seq 5
    both_see(&mut a, &mut b, "reaction").await;
    send_json(&mut a, json!({"type": "delete", "id": 3})).await; // seq 6
    both_see(&mut a, &mut b, "message_deleted").await;

    // A reader who saw nothing gets everything, once.
    let mut c = app.open_ws(&alice).await;
    send_json(
        &mut c,
        json!({"type": "resume", "room": "general", "after": 0}),
    )
    .await;
    let page = expect_type(&mut c, "history").await;
    assert_eq!(page["last_seq"], 6);
    assert_eq!(page["has_more"], false);
    let messages = page["messages"].as_array().unwrap();
    let events = page["events"].as_array().unwrap();
    let mut seqs: Vec<i64> = messages
        .iter()
        .chain(events)
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    // Messages come in their current state.
    assert_eq!(messages[0]["body"], "ONE");
    assert!(messages[0]["edited"].is_string());
    assert_eq!(messages[1]["reactions"][0]["emoji"], "🎉");
    assert_eq!(
        (messages[2]["deleted"].clone(), messages[2]["body"].clone()),
        (json!(true), json!(""))
    );
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["message_edited", "reaction", "message_deleted"]);

    // A reader who had seen up to the first edit gets only what followed.
    let mut d = app.open_ws(&alice).await;
    send_json(
        &mut d,
        json!({"type": "resume", "room": "general", "after": 4}),
    )
    .await;
    let page = expect_type(&mut d, "history").await;
    assert_eq!(page["messages"], json!([]));
    let seqs: Vec<i64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![5, 6]);
    // ... and then live events, with nothing missed at the seam.
    send_message(&mut a, "general", "four", "c9").await;
    assert_eq!(expect_type(&mut d, "message").await["seq"], 7);

    // The JSON API's cursor speaks the same stream.
    let api = app
        .get_json("/api/rooms/general/messages?after=4", &alice)
        .await;
    assert_eq!(api["last_seq"], 7);
    assert_eq!(api["events"], page["events"]);
    assert_eq!(api["messages"][0]["body"], "four");
    let latest = app.get_json("/api/rooms/general/messages", &alice).await;
    assert_eq!(latest["messages"].as_array().unwrap().len(), 4);
    assert_eq!(latest["messages"][0]["body"], "ONE");
    assert_eq!(latest["messages"][2]["deleted"], true);
}

#[actix_web::test]
async fn only_the_author_or_an_admin_may_edit_or_delete() {
    let app = spawn_app().await;
    let (alice, bob, mut a, mut b) = two_in_a_room(&app).await;
    let message = app
        .api_post(&alice, "general", json!({"body": "mine"}))
        .await;
    let id = message["id"].as_i64().unwrap();
    both_see(&mut a, &mut b, "message").await;

    send_json(&mut b, json!({"type": "edit", "id": id, "body": "hacked"})).await;
    assert_eq!(expect_type(&mut b, "error").await["code"], "not_yours");
    send_json(&mut b, json!({"type": "delete", "id": id})).await;
    assert_eq!(expect_type(&mut b, "error").await["code"], "not_yours");
    let res = app
        .api(Method::PATCH, &format!("/api/messages/{id}"), &bob)
        .json(&json!({"body": "hacked"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "not_yours"
    );
    let res = app
        .api(Method::DELETE, &format!("/api/messages/{id}"), &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let latest = app.get_json("/api/rooms/general/messages", &alice).await;
    assert_eq!(latest["messages"][0]["body"], "mine", "nothing changed");

    // The author may; so may an admin.
    let res = app
        .api(Method::PATCH, &format!("/api/messages/{id}"), &alice)
        .json(&json!({"body": "mine, edited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"]["body"],
        "mine, edited"
    );
    app.make_admin("bob");
    let res = app
        .api(Method::DELETE, &format!("/api/messages/{id}"), &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let tombstone = res.json::<Value>().await.unwrap()["message"].clone();
    assert_eq!(
        (
            tombstone["deleted"].clone(),
            tombstone["body"].clone(),
            tombstone.get("html").cloned()
        ),
        (json!(true), json!(""), None),
        "a tombstone has nothing to render"
    );
    // A tombstone can be neither edited nor reacted to.
    let res = app
        .api(Method::PATCH, &format!("/api/messages/{id}"), &alice)
        .json(&json!({"body": "back"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    let res = app
        .api(
            Method::POST,
            &format!("/api/messages/{id}/reactions"),
            &alice,
        )
        .json(&json!({"emoji": "👍"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
}

#[actix_web::test]
async fn an_edit_window_that_has_passed_refuses_the_author_but_not_an_admin() {
    let app = spawn_app_with(|c| c.edit_window = Some(std::time::Duration::from_millis(1))).await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let id = app
        .api_post(&alice, "general", json!({"body": "typo"}))
        .await["id"]
        .clone();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let edit = |token: String| {
        app.api(Method::PATCH, &format!("/api/messages/{id}"), &token)
            .json(&json!({"body": "fixed"}))
            .send()
    };
    let res = edit(alice.clone()).await.unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "edit_window_passed"
    );
    app.make_admin("alice");
    assert_eq!(edit(alice.clone()).await.unwrap().status().as_u16(), 200);
}

#[actix_web::test]
async fn a_deleted_messages_text_is_gone_from_the_database_files() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let secret = "zebra-quokka-31337-secret";
    let id = app
        .api_post(
            &alice,
            "general",
            json!({"body": format!("the code is {secret}")}),
        )
        .await["id"]
        .clone();
    let read_all = || {
        let mut bytes = Vec::new();
        for name in ["palaver.db", "palaver.db-wal"] {
            if let Ok(b) = std::fs::read(app.data_dir.join(name)) {
                bytes.extend(b);
            }
        }
        bytes
    };
    let contains = |hay: &[u8]| hay.windows(secret.len()).any(|w| w == secret.as_bytes());
    assert!(contains(&read_all()), "stored before the deletion");
    let res = app
        .api(Method::DELETE, &format!("/api/messages/{id}"), &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(!contains(&read_all()), "the text is still on disk");
}

#[actix_web::test]
async fn a_reply_quotes_the_original_which_must_be_in_the_same_room() {
    let app = spawn_app().await;
    let (alice, bob, mut a, mut b) = two_in_a_room(&app).await;
    app.api_create_room(&alice, "other").await;
    let original = app
        .api_post(&alice, "general", json!({"body": "Lunch at **noon**?"}))
        .await;
    both_see(&mut a, &mut b, "message").await;
    let id = original["id"].as_i64().unwrap();
    send_json(&mut b, json!({"type": "send", "room": "general", "body": "Yes!", "client_id": "r1", "reply_to": id})).await;
    let reply = both_see(&mut a, &mut b, "message").await;
    assert_eq!(reply["reply_to"], id);
    assert_eq!(reply["reply"]["user"], "alice");
    assert_eq!(reply["reply"]["seq"], 1);
    assert!(reply["reply"]["excerpt"].as_str().unwrap().contains("noon"));
    // Over the API too, and the history shows the same quote.
    let api_reply = app
        .api_post(&bob, "general", json!({"body": "me too", "reply_to": id}))
        .await;
    assert_eq!(api_reply["reply"]["id"], id);
    // A reply to a message of another room, or to nothing, is refused.
    let elsewhere = app
        .api_post(&alice, "other", json!({"body": "elsewhere"}))
        .await["id"]
        .clone();
    for bad in [elsewhere, json!(999_999)] {
        let res = app
            .api(Method::POST, "/api/rooms/general/messages", &bob)
            .json(&json!({"body": "?", "reply_to": bad}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "{bad}");
    }
    send_json(&mut b, json!({"type": "send", "room": "general", "body": "?", "client_id": "r2", "reply_to": 999_999})).await;
    let error = expect_type(&mut b, "error").await;
    assert_eq!(
        (error["code"].clone(), error["client_id"].clone()),
        (json!("bad_request"), json!("r2"))
    );
}

#[actix_web::test]
async fn bad_change_frames_get_clear_errors_and_the_socket_stays_usable() {
    let app = spawn_app().await;
    let (alice, _, mut a, _) = two_in_a_room(&app).await;
    let id = app.api_post(&alice, "general", json!({"body": "hi"})).await["id"].clone();
    expect_type(&mut a, "message").await;
    let cases = [
        (
            json!({"type": "react", "id": id, "emoji": "not an emoji"}),
            "invalid_emoji",
        ),
        (
            json!({"type": "react", "id": id, "emoji": "👍👍"}),
            "invalid_emoji",
        ),
        (
            json!({"type": "react", "id": 424_242, "emoji": "👍"}),
            "no_such_message",
        ),
        (
            json!({"type": "edit", "id": id, "body": "   "}),
            "invalid_body",
        ),
        (
            json!({"type": "edit", "id": 99_999_999_999_i64, "body": "x"}),
            "no_such_message",
        ),
        (json!({"type": "edit", "id": id}), "invalid_frame"),
        (json!({"type": "delete", "id": "one"}), "invalid_frame"),
        (
            json!({"type": "read", "room": "nowhere", "seq": 1}),
            "no_such_room",
        ),
    ];
    for (frame, code) in cases {
        send_json(&mut a, frame.clone()).await;
        assert_eq!(expect_type(&mut a, "error").await["code"], code, "{frame}");
    }
    let res = app
        .api(
            Method::POST,
            &format!("/api/messages/{id}/reactions"),
            &alice,
        )
        .json(&json!({"emoji": "<script>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = app
        .api(
            Method::DELETE,
            &format!("/api/messages/{id}/reactions/%F0%9F%91%8D"),
            &alice,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "taking back a reaction that isn't there is harmless"
    );
    send_message(&mut a, "general", "still here", "ok1").await;
    assert_eq!(expect_type(&mut a, "ack").await["client_id"], "ok1");
}

#[actix_web::test]
async fn only_a_body_with_markup_carries_html_the_rest_is_shown_as_typed() {
    let app = spawn_app().await;
    let (alice, _, mut a, mut b) = two_in_a_room(&app).await;
    send_message(&mut a, "general", "note: plain words, 10:30", "c1").await;
    let plain = both_see(&mut a, &mut b, "message").await;
    assert_eq!(plain["body"], "note: plain words, 10:30");
    assert!(plain.get("html").is_none(), "{plain}");
    send_message(&mut a, "general", "see **this**", "c2").await;
    let rich = both_see(&mut a, &mut b, "message").await;
    assert_eq!(rich["html"], "<p>see <strong>this</strong></p>");
    // The API and history speak the same objects.
    let res = app
        .api(Method::GET, "/api/rooms/general/messages", &alice)
        .send()
        .await
        .unwrap();
    let listed = res.json::<Value>().await.unwrap()["messages"].clone();
    assert_eq!(listed[0].get("html"), None);
    assert_eq!(listed[1]["html"], rich["html"]);
}
