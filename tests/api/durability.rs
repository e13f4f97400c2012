//! Crash safety with the real binary: every acknowledged message survives
//! SIGKILL, exactly once.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

/// Start `palaver serve` on a free port; returns the child and its base URL.
pub fn start_binary(data_dir: &Path) -> (Child, String) {
    start_binary_on(data_dir, "127.0.0.1:0")
}

/// Start `palaver` (no subcommand, as a container does) bound to `bind`.
pub fn start_binary_on(data_dir: &Path, bind: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_palaver"))
        .env("CHAT_DATA_DIR", data_dir)
        .env("CHAT_BIND", bind)
        .env("CHAT_BCRYPT_COST", "4")
        .env("CHAT_LOG", "info")
        .env("CHAT_SEND_RATE", "100000")
        .env("CHAT_SEND_BURST", "100000")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(at) = line.find("address=") {
            let address = line[at + "address=".len()..].trim();
            // Bound to every interface: talk to it over loopback.
            break address.replace("0.0.0.0", "127.0.0.1");
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://{address}"))
}

#[actix_web::test]
async fn every_acked_message_survives_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, url) = start_binary(dir.path());
    let app = TestApp::remote(&url);
    let token = app.api_user("alice").await;
    app.api_create_room(&token, "crash").await;
    let mut ws = app.joined(&token, "crash").await;

    // Keep a window of sends in flight; kill the server mid-stream.
    let mut acked: Vec<(String, i64, i64)> = Vec::new();
    let mut sent = 0;
    while acked.len() < 300 {
        while sent < acked.len() + 32 {
            send_message(
                &mut ws,
                "crash",
                &format!("msg {sent}"),
                &format!("k{sent}"),
            )
            .await;
            sent += 1;
        }
        let frame = next_frame(&mut ws).await;
        if frame["type"] == "ack" {
            acked.push((
                frame["client_id"].as_str().unwrap().to_string(),
                frame["id"].as_i64().unwrap(),
                frame["seq"].as_i64().unwrap(),
            ));
        }
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    // Acks that were already on the wire count too.
    while let Some(frame) = try_next_frame_or_close(&mut ws, Duration::from_millis(200)).await {
        if frame["type"] == "ack" {
            acked.push((
                frame["client_id"].as_str().unwrap().to_string(),
                frame["id"].as_i64().unwrap(),
                frame["seq"].as_i64().unwrap(),
            ));
        }
    }

    let (mut server, url) = start_binary(dir.path());
    let app = TestApp::remote(&url);
    let mut stored: Vec<Value> = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = app
            .get_json(
                &format!("/api/rooms/crash/messages?after={after}&limit=200"),
                &token,
            )
            .await;
        let messages = page["messages"].as_array().unwrap().clone();
        let Some(last) = messages.last() else { break };
        after = last["seq"].as_i64().unwrap();
        stored.extend(messages);
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "contiguous seqs"
    );
    for (client_id, id, seq) in &acked {
        let copies: Vec<&Value> = stored
            .iter()
            .filter(|m| m["client_id"] == client_id.as_str())
            .collect();
        assert_eq!(copies.len(), 1, "{client_id} stored {} times", copies.len());
        assert_eq!(
            (
                copies[0]["id"].as_i64().unwrap(),
                copies[0]["seq"].as_i64().unwrap()
            ),
            (*id, *seq)
        );
    }
    assert!(stored.len() >= acked.len());
}

/// Like `try_next_frame`, but a closed or broken socket is just the end.
async fn try_next_frame_or_close(ws: &mut Ws, wait: Duration) -> Option<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).ok(),
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) | Err(_) => return None,
            Ok(Some(Ok(_))) => continue,
        }
    }
}
