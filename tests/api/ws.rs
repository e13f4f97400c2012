//! The WebSocket at /ws with real clients (tokio-tungstenite).

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn two_users_see_each_others_messages_in_order_and_a_third_room_sees_none() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    let carol = app.api_user("carol").await;
    app.api_create_room(&alice, "general").await;
    app.api_create_room(&carol, "other").await;
    let mut a = app.joined(&alice, "general").await;
    let mut b = app.joined(&bob, "general").await;
    let mut c = app.joined(&carol, "other").await;

    for n in 0..5 {
        let (ws, who) = if n % 2 == 0 {
            (&mut a, "a")
        } else {
            (&mut b, "b")
        };
        send_message(ws, "general", &format!("{who}{n}"), &format!("c{n}")).await;
    }
    let mut orders = Vec::new();
    for ws in [&mut a, &mut b] {
        let mut seqs = Vec::new();
        let mut bodies = Vec::new();
        while seqs.len() < 5 {
            let frame = next_frame(ws).await;
            if frame["type"] == "message" {
                seqs.push(frame["seq"].as_i64().unwrap());
                bodies.push(frame["body"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(seqs, [1, 2, 3, 4, 5], "contiguous, in order, once each");
        orders.push(bodies);
    }
    assert_eq!(orders[0], orders[1], "both see the same order");
    // Nothing leaks into the other room.
    while let Some(frame) = try_next_frame(&mut c, Duration::from_millis(300)).await {
        assert_ne!(frame["type"], "message", "{frame}");
    }
}

#[actix_web::test]
async fn the_ack_carries_the_stored_id_and_the_message_is_stored_first() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    send_message(&mut a, "general", "stored?", "k1").await;
    let ack = expect_type(&mut a, "ack").await;
    assert_eq!(ack["client_id"], "k1");
    assert_eq!(ack["seq"], 1);
    // The moment the ack is in hand, the message is readable from the database.
    let list: serde_json::Value = app.get_json("/api/rooms/general/messages", &alice).await;
    assert_eq!(list["messages"][0]["id"], ack["id"]);
    assert_eq!(list["messages"][0]["body"], "stored?");
}

#[actix_web::test]
async fn a_repeated_client_id_is_acked_again_but_stored_and_sent_once() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    let mut b = app.joined(&bob, "general").await;
    let frame = json!({"type":"send","room":"general","body":"once","client_id":"same"});
    send_json(&mut a, frame.clone()).await;
    let first = expect_type(&mut a, "ack").await;
    send_json(&mut a, frame).await;
    let second = expect_type(&mut a, "ack").await;
    assert_eq!(first, second);
    send_message(&mut a, "general", "next", "other").await;
    let m1 = expect_type(&mut b, "message").await;
    let m2 = expect_type(&mut b, "message").await;
    assert_eq!(
        (m1["body"].as_str(), m2["body"].as_str()),
        (Some("once"), Some("next"))
    );
    assert_eq!(m2["seq"], 2, "the duplicate took no seq");
}

#[actix_web::test]
async fn resume_after_a_disconnect_delivers_exactly_the_missed_messages() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    let mut b = app.joined(&bob, "general").await;
    send_message(&mut a, "general", "seen", "1").await;
    let seen = expect_type(&mut b, "message").await;
    expect_type(&mut a, "ack").await;
    drop(b);
    for n in 2..=4 {
        send_message(&mut a, "general", &format!("missed {n}"), &n.to_string()).await;
        expect_type(&mut a, "ack").await;
    }
    let mut b = app.open_ws(&bob).await;
    send_json(
        &mut b,
        json!({"type":"resume","room":"general","after":seen["seq"]}),
    )
    .await;
    let history = expect_type(&mut b, "history").await;
    let seqs: Vec<i64> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 3, 4]);
    assert_eq!(history["has_more"], false);
    // Then live, with no duplicate at the seam.
    send_message(&mut a, "general", "live", "5").await;
    let live = expect_type(&mut b, "message").await;
    assert_eq!(live["seq"], 5);
}

#[actix_web::test]
async fn resume_while_messages_keep_arriving_has_no_gap_and_no_duplicate() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    app.api_create_room(&alice, "busy").await;
    let mut a = app.joined(&alice, "busy").await;
    // 1,200 messages first: the resume needs three pages.
    for n in 1..=1200 {
        send_message(&mut a, "busy", &format!("m{n}"), &format!("a{n}")).await;
    }
    let mut acked = 0;
    while acked < 1200 {
        if next_frame(&mut a).await["type"] == "ack" {
            acked += 1;
        }
    }
    let mut b = app.open_ws(&bob).await;
    send_json(&mut b, json!({"type":"resume","room":"busy","after":0})).await;
    // Keep sending while bob catches up.
    for n in 1201..=1300 {
        send_message(&mut a, "busy", &format!("m{n}"), &format!("a{n}")).await;
    }
    let mut seen = Vec::new();
    while seen.len() < 1300 {
        let frame = next_frame(&mut b).await;
        match frame["type"].as_str() {
            Some("history") => seen.extend(
                frame["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["seq"].as_i64().unwrap()),
            ),
            Some("message") => seen.push(frame["seq"].as_i64().unwrap()),
            _ => {}
        }
    }
    assert_eq!(seen, (1..=1300).collect::<Vec<_>>());
}

#[actix_web::test]
async fn presence_and_room_list_broadcasts_arrive() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    let mut b = app.open_ws(&bob).await;
    send_json(&mut b, json!({"type":"join","room":"general"})).await;
    let presence = expect_type(&mut a, "presence").await;
    assert_eq!(
        (presence["users"].clone(), presence["count"].clone()),
        (json!(["alice", "bob"]), json!(2))
    );
    // A new room reaches every connected client.
    app.api_create_room(&bob, "fresh").await;
    let rooms = expect_type(&mut a, "rooms").await;
    let names: Vec<&str> = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fresh", "general"]);
    // Bob leaves: alice is told.
    send_json(&mut b, json!({"type":"leave","room":"general"})).await;
    let presence = expect_type(&mut a, "presence").await;
    assert_eq!(
        (presence["users"].clone(), presence["count"].clone()),
        (json!(["alice"]), json!(1))
    );
}

#[actix_web::test]
async fn typing_is_relayed_to_the_others_only() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    let mut b = app.joined(&bob, "general").await;
    expect_type(&mut a, "presence").await;
    send_json(&mut b, json!({"type":"typing","room":"general"})).await;
    let typing = expect_type(&mut a, "typing").await;
    assert_eq!(
        typing,
        json!({"type":"typing","room":"general","user":"bob"})
    );
    while let Some(frame) = try_next_frame(&mut b, Duration::from_millis(300)).await {
        assert_ne!(frame["type"], "typing");
    }
}

#[actix_web::test]
async fn unauthenticated_and_cross_origin_upgrades_are_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Error;
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let status = |err: Error| match err {
        Error::Http(res) => res.status().as_u16(),
        other => panic!("{other}"),
    };
    let err = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap_err();
    assert_eq!(status(err), 401);
    let mut forged = app.ws_url().into_client_request().unwrap();
    forged.headers_mut().insert(
        "authorization",
        format!("Bearer {}", "0".repeat(64)).parse().unwrap(),
    );
    assert_eq!(
        status(tokio_tungstenite::connect_async(forged).await.unwrap_err()),
        401
    );
    let mut foreign = app.ws_url().into_client_request().unwrap();
    foreign
        .headers_mut()
        .insert("authorization", format!("Bearer {alice}").parse().unwrap());
    foreign
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(
        status(tokio_tungstenite::connect_async(foreign).await.unwrap_err()),
        403
    );
    let mut own = app.ws_url().into_client_request().unwrap();
    own.headers_mut()
        .insert("authorization", format!("Bearer {alice}").parse().unwrap());
    own.headers_mut()
        .insert("origin", app.address.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(own).await.is_ok());
}

#[actix_web::test]
async fn a_browser_session_cookie_opens_the_socket() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let res = app.register("alice", PASSWORD).await;
    let cookie = cookie_pair(&res, "palaver_session");
    let mut request = app.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", app.address.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(next_frame(&mut ws).await["type"], "rooms");
}

#[actix_web::test]
async fn every_bad_frame_gets_an_error_and_the_socket_stays_usable() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    let long = "x".repeat(4001);
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "invalid_json"),
        (r#"{"type":"dance"}"#.into(), "unknown_type"),
        (r#"{"type":"join"}"#.into(), "invalid_frame"),
        (r#"{"type":"join","room":7}"#.into(), "invalid_frame"),
        (
            r#"{"type":"history","room":"general","before":"x"}"#.into(),
            "invalid_frame",
        ),
        (
            json!({"type":"send","room":"general","body":long,"client_id":"c"}).to_string(),
            "invalid_body",
        ),
        (
            json!({"type":"send","room":"general","body":"  ","client_id":"c"}).to_string(),
            "invalid_body",
        ),
        (
            json!({"type":"send","room":"general","body":"hi","client_id":""}).to_string(),
            "invalid_client_id",
        ),
        (
            json!({"type":"send","room":"nowhere","body":"hi","client_id":"c"}).to_string(),
            "no_such_room",
        ),
        (
            json!({"type":"join","room":"nowhere"}).to_string(),
            "no_such_room",
        ),
    ];
    for (text, code) in cases {
        send_text(&mut a, &text).await;
        let error = expect_type(&mut a, "error").await;
        assert_eq!(error["code"], code, "{text:.60}");
    }
    a.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(
        expect_type(&mut a, "error").await["code"],
        "binary_not_supported"
    );
    // Still usable.
    send_message(&mut a, "general", "still here", "ok").await;
    assert_eq!(expect_type(&mut a, "ack").await["client_id"], "ok");
}

#[actix_web::test]
async fn protocol_violations_close_with_the_right_code() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;

    let mut a = app.open_ws(&alice).await;
    a.send(Message::text("x".repeat(70_000))).await.unwrap();
    assert_eq!(close_code(&mut a).await, Some(1009), "too big");

    let mut b = app.open_ws(&alice).await;
    let bad_utf8 = Frame::message(vec![0xc3, 0x28], OpCode::Data(Data::Text), true);
    b.send(Message::Frame(bad_utf8)).await.unwrap();
    assert_eq!(close_code(&mut b).await, Some(1007), "invalid UTF-8");

    let mut c = app.open_ws(&alice).await;
    let orphan = Frame::message(b"tail".to_vec(), OpCode::Data(Data::Continue), true);
    c.send(Message::Frame(orphan)).await.unwrap();
    assert_eq!(
        close_code(&mut c).await,
        Some(1002),
        "continuation without a start"
    );

    // Fragments are reassembled.
    let mut d = app.open_ws(&alice).await;
    let first = Frame::message(br#"{"type":"jo"#.to_vec(), OpCode::Data(Data::Text), false);
    let last = Frame::message(
        br#"in","room":"nowhere"}"#.to_vec(),
        OpCode::Data(Data::Continue),
        true,
    );
    d.send(Message::Frame(first)).await.unwrap();
    d.send(Message::Frame(last)).await.unwrap();
    assert_eq!(expect_type(&mut d, "error").await["code"], "no_such_room");
}

#[actix_web::test]
async fn a_client_that_stops_reading_is_disconnected_while_others_keep_receiving() {
    let app = spawn_app_with(|c| {
        c.ws_queue = 64;
    })
    .await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    let slow = app.api_user("slow").await;
    app.api_create_room(&alice, "flood").await;
    let mut b = app.joined(&bob, "flood").await;
    let mut s = app.joined(&slow, "flood").await;
    // `s` stops reading. Big messages fill its socket buffers quickly.
    let body = "y".repeat(3900);
    let total = 2000;
    let reader = tokio::spawn(async move {
        let mut got = 0;
        while got < total {
            if next_frame(&mut b).await["type"] == "message" {
                got += 1;
            }
        }
        (got, b)
    });
    for n in 0..total {
        let res = app
            .api(reqwest::Method::POST, "/api/rooms/flood/messages", &alice)
            .json(&json!({"body": body, "client_id": format!("f{n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }
    let (got, _b) = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, total, "bob received everything");
    // The slow client, once it reads again, finds a policy close after the backlog.
    assert_eq!(close_code(&mut s).await, Some(1008));
    assert_eq!(
        app.online_connections(&alice).await,
        1,
        "only bob is still connected"
    );
}

#[actix_web::test]
async fn closing_sockets_brings_the_connection_count_back_to_zero() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let a = app.joined(&alice, "general").await;
    let b = app.joined(&alice, "general").await;
    assert_eq!(app.online_connections(&alice).await, 2);
    drop(a);
    let mut b = b;
    b.close(None).await.unwrap();
    for _ in 0..50 {
        if app.online_connections(&alice).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("connections did not return to 0");
}

#[actix_web::test]
async fn logout_closes_that_sessions_sockets_with_1008() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let mut a = app.open_ws(&alice).await;
    let res = app
        .api(reqwest::Method::POST, "/api/logout", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(close_code(&mut a).await, Some(1008));
}

#[actix_web::test]
async fn a_message_posted_through_the_html_form_arrives_live() {
    let app = spawn_app().await;
    app.signed_up("alice").await;
    app.create_room("general").await;
    let bob = app.api_user("bob").await;
    let mut b = app.joined(&bob, "general").await;
    app.post_message("general", "from the form").await;
    let message = expect_type(&mut b, "message").await;
    assert_eq!(message["body"], "from the form");
    assert_eq!(message["user"], "alice");
}

#[actix_web::test]
async fn sends_over_the_rate_limit_get_an_error_frame() {
    let app = spawn_app_with(|c| {
        c.send_rate = 1;
        c.send_burst = 3;
    })
    .await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    for n in 0..5 {
        send_message(&mut a, "general", "spam", &format!("s{n}")).await;
    }
    let mut acks = 0;
    let mut limited = 0;
    while acks + limited < 5 {
        let frame = next_frame(&mut a).await;
        match frame["type"].as_str() {
            Some("ack") => acks += 1,
            Some("error") => {
                assert_eq!(frame["code"], "rate_limited");
                assert!(frame["client_id"].is_string());
                limited += 1;
            }
            _ => {}
        }
    }
    assert_eq!((acks, limited), (3, 2));
}

#[actix_web::test]
async fn resume_works_across_a_server_restart() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    for n in 1..=3 {
        send_message(&mut a, "general", &format!("before {n}"), &n.to_string()).await;
        expect_type(&mut a, "ack").await;
    }
    drop(a);
    let dir = app.stop().await;
    let data = dir.as_ref().unwrap().path().to_path_buf();
    let app = spawn_with(test_config(&data), dir).await;
    let mut a = app.open_ws(&alice).await;
    send_json(&mut a, json!({"type":"resume","room":"general","after":1})).await;
    let history = expect_type(&mut a, "history").await;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["before 2", "before 3"]);
    send_message(&mut a, "general", "after", "4").await;
    assert_eq!(expect_type(&mut a, "ack").await["seq"], 4);
}

#[actix_web::test]
async fn history_pages_backwards_by_seq() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    for n in 1..=10 {
        send_message(&mut a, "general", &format!("h{n}"), &n.to_string()).await;
        expect_type(&mut a, "ack").await;
    }
    send_json(
        &mut a,
        json!({"type":"history","room":"general","before":6,"limit":3}),
    )
    .await;
    let page = expect_type(&mut a, "history").await;
    let seqs: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [3, 4, 5]);
    assert_eq!(page["has_more"], true);
}

#[actix_web::test]
async fn a_silent_peer_is_dropped_after_the_heartbeat_timeout() {
    let app = spawn_app_with(|c| {
        c.ws_heartbeat = Duration::from_millis(200);
        c.ws_timeout = Duration::from_millis(700);
    })
    .await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    // Never read again: tungstenite answers pings only while reading, so
    // this client goes silent.
    let _silent = app.joined(&alice, "general").await;
    assert_eq!(app.online_connections(&alice).await, 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.online_connections(&alice).await,
        0,
        "the silent peer was not dropped"
    );
}

#[actix_web::test]
async fn a_socket_is_closed_with_1008_soon_after_its_login_expires() {
    let app = spawn_app_with(|c| {
        c.session_ttl = Duration::from_secs(2);
        c.ws_heartbeat = Duration::from_millis(200);
        c.ws_timeout = Duration::from_secs(30);
        // Not the periodic database check: the session's own.
        c.session_check = Duration::from_secs(3600);
    })
    .await;
    let alice = app.api_user("alice").await;
    let mut ws = app.open_ws(&alice).await;
    let opened = std::time::Instant::now();
    // Reading answers the pings, so the peer is never silent.
    assert_eq!(close_code(&mut ws).await, Some(1008));
    let after = opened.elapsed();
    assert!(
        after > Duration::from_millis(1000) && after < Duration::from_millis(3500),
        "closed after {after:?}"
    );
}

#[actix_web::test]
async fn the_home_page_shows_online_counts() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let _a = app.joined(&alice, "general").await;
    let home = app.get_text("/").await;
    assert!(home.contains("1 online</span></h2>"), "{home}");
    assert!(home.contains("0 messages · 1 online"), "{home}");
}

#[actix_web::test]
async fn sockets_over_the_per_user_cap_are_closed_with_1008() {
    let app = spawn_app_with(|c| {
        c.max_sockets_per_user = 2;
    })
    .await;
    let alice = app.api_user("alice").await;
    let _one = app.open_ws(&alice).await;
    let _two = app.open_ws(&alice).await;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = app.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {alice}").parse().unwrap());
    let (mut three, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(close_code(&mut three).await, Some(1008));
    assert_eq!(app.online_connections(&alice).await, 2);
}

#[actix_web::test]
async fn messages_sent_back_to_back_on_one_socket_are_stored_in_the_order_sent() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let mut ws = app.open_ws(&alice).await;
    // No waiting for acks, and the room not looked up yet when they arrive.
    const SENT: usize = 200;
    for n in 0..SENT {
        send_message(&mut ws, "general", &format!("m{n}"), &format!("c{n}")).await;
    }
    let mut seqs = std::collections::HashMap::new();
    while seqs.len() < SENT {
        let ack = expect_type(&mut ws, "ack").await;
        seqs.insert(
            ack["client_id"].as_str().unwrap().to_string(),
            ack["seq"].as_i64().unwrap(),
        );
    }
    let in_order: Vec<i64> = (0..SENT).map(|n| seqs[&format!("c{n}")]).collect();
    assert_eq!(in_order, (1..=SENT as i64).collect::<Vec<_>>());
}
