//! Health, readiness, metrics and graceful shutdown.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::*;

#[actix_web::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.text().await.unwrap(), "ok\n");
    let res = app.get("/readyz").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"database": true, "writer": true})
    );
}

#[actix_web::test]
async fn metrics_count_connections_messages_and_requests() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    send_message(&mut a, "general", "counted", "m1").await;
    // The echo of one's own message and the ack come in either order.
    let (mut acked, mut echoed) = (false, false);
    while !(acked && echoed) {
        match next_frame(&mut a).await["type"].as_str() {
            Some("ack") => acked = true,
            Some("message") => echoed = true,
            _ => {}
        }
    }
    let res = app.get("/metrics").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("openmetrics-text"));
    let text = res.text().await.unwrap();
    for line in [
        "palaver_websocket_connections 1",
        "palaver_rooms 1",
        "palaver_messages_stored_total 1",
        "palaver_messages_delivered_total 1",
        r#"palaver_http_requests_total{route="/api/rooms",method="POST",status="201"} 1"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.contains("palaver_fanout_seconds_count 1"));
    assert!(text.contains("palaver_db_batch_commit_seconds_count"));
}

#[actix_web::test]
async fn shutdown_closes_sockets_with_1001_after_storing_what_was_accepted() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "general").await;
    let mut a = app.joined(&alice, "general").await;
    send_message(&mut a, "general", "last words", "z").await;
    expect_type(&mut a, "ack").await;
    let data_dir = app.data_dir.clone();
    let dir = app.stop().await;
    assert_eq!(close_code(&mut a).await, Some(1001));
    let app = spawn_with(test_config(&data_dir), dir).await;
    let list: Value = app.get_json("/api/rooms/general/messages", &alice).await;
    assert_eq!(list["messages"][0]["body"], "last words");
}

#[actix_web::test]
async fn sigterm_closes_sockets_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, url) = crate::durability::start_binary(dir.path());
    let app = TestApp::remote(&url);
    let alice = app.api_user("alice").await;
    let mut a = app.open_ws(&alice).await;
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(close_code(&mut a).await, Some(1001));
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit.code(), Some(0), "{exit:?}");
}

#[actix_web::test]
async fn the_binary_runs_as_a_container_would() {
    // The Dockerfile's environment: every interface, a data dir that does
    // not exist yet, no subcommand.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("x");
    let (mut server, url) = crate::durability::start_binary_on(&data, "0.0.0.0:0");
    let res = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(data.join("palaver.db").is_file());
    server.kill().unwrap();
    server.wait().unwrap();
}
