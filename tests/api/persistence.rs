use crate::helpers::{spawn_app, spawn_with, test_config, PASSWORD};

#[actix_web::test]
async fn users_sessions_and_messages_survive_a_restart() {
    let app = spawn_app().await;
    app.signed_up("alice").await;
    app.create_room("durable").await;
    app.post_message("durable", "still here after restart")
        .await;
    let client = app.client.clone();
    let dir = app.stop().await;

    let data_dir = dir.as_ref().unwrap().path().to_path_buf();
    let mut again = spawn_with(test_config(&data_dir), dir).await;
    // The same browser (same cookie jar) is still logged in.
    again.client = client;
    let home = again.get_text("/").await;
    assert!(home.contains("Welcome back, alice"), "session lost");
    assert!(home.contains("1 message<"));
    let page = again.get_text("/rooms/durable").await;
    assert!(page.contains("still here after restart"));
    // And the account still works from a new browser.
    let mut fresh = again;
    fresh.client = crate::helpers::new_client();
    assert_eq!(fresh.login("alice", PASSWORD).await.status().as_u16(), 303);
    // New messages continue the sequence.
    fresh.post_message("durable", "second").await;
    let page = fresh.get_text("/rooms/durable").await;
    assert!(page.contains("data-seq=\"2\""), "{page}");
}

#[actix_web::test]
async fn the_database_file_lives_in_the_data_dir() {
    let app = spawn_app().await;
    assert!(app.data_dir.join("palaver.db").is_file());
    assert!(app.data_dir.join("secret.key").is_file());
}
