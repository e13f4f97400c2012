//! Search over HTTP: `GET /api/search` and the `/search` page (SPEC §4.5,
//! §8). What the triggers do on edits and deletions, and private rooms,
//! are unit-tested in `src/db/search.rs` on a bare database.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with, unescape, TestApp};

/// Post `body` to `room` through the API; the new message's id.
async fn say(app: &TestApp, token: &str, room: &str, body: &str) -> i64 {
    let res = app
        .api(Method::POST, &format!("/api/rooms/{room}/messages"), token)
        .json(&serde_json::json!({ "body": body }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "posting {body:?}");
    let answer: Value = res.json().await.unwrap();
    answer["message"]["id"].as_i64().unwrap()
}

/// `GET /api/search?{query}`: status and JSON body.
async fn search(app: &TestApp, token: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let res = app
        .api(Method::GET, "/api/search", token)
        .query(query)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn ids(answer: &Value) -> Vec<i64> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

/// A server where alice has posted to `general`; her token.
async fn app_with_room() -> (TestApp, String) {
    let app = spawn_app_with(|config| {
        config.send_rate = 1000;
        config.send_burst = 1000;
    })
    .await;
    let token = app.api_user("alice").await;
    app.api_create_room(&token, "general").await;
    (app, token)
}

#[actix_web::test]
async fn a_word_is_found_with_its_room_author_time_and_a_marked_snippet() {
    let (app, token) = app_with_room().await;
    say(&app, &token, "general", "nothing to see").await;
    let id = say(&app, &token, "general", "The deploy is done, thanks all").await;
    let (status, answer) = search(&app, &token, &[("q", "DEPLOY")]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(ids(&answer), vec![id]);
    let hit = &answer["results"][0];
    assert_eq!(hit["room"], "general");
    assert_eq!(hit["seq"], 2);
    assert_eq!(hit["user"], "alice");
    assert_eq!(hit["body"], "The deploy is done, thanks all");
    assert_eq!(
        hit["snippet"],
        "The <mark>deploy</mark> is done, thanks all"
    );
    assert!(hit["ts"].as_str().unwrap().ends_with('Z'), "{hit}");
    assert_eq!(answer["next_page"], Value::Null);
}

#[actix_web::test]
async fn every_word_must_match_and_better_matches_come_first() {
    let (app, token) = app_with_room().await;
    let weak = say(
        &app,
        &token,
        "general",
        "the release notes mention the server once among many other words here",
    )
    .await;
    let strong = say(&app, &token, "general", "release server release server").await;
    say(&app, &token, "general", "release only").await;
    let (_, answer) = search(&app, &token, &[("q", "server release")]).await;
    assert_eq!(ids(&answer), vec![strong, weak]);
}

#[actix_web::test]
async fn results_come_twenty_to_a_page_and_before_limits_them_by_id() {
    let (app, token) = app_with_room().await;
    let mut posted = Vec::new();
    for n in 0..25 {
        posted.push(say(&app, &token, "general", &format!("standup note {n}")).await);
    }
    let (_, first) = search(&app, &token, &[("q", "standup")]).await;
    assert_eq!(ids(&first).len(), 20);
    assert_eq!(first["next_page"], 2);
    let (_, second) = search(&app, &token, &[("q", "standup"), ("page", "2")]).await;
    assert_eq!(ids(&second).len(), 5);
    assert_eq!(second["next_page"], Value::Null);
    let mut all: Vec<i64> = ids(&first).into_iter().chain(ids(&second)).collect();
    all.sort_unstable();
    assert_eq!(all, posted);

    let cut = posted[10].to_string();
    let (_, before) = search(&app, &token, &[("q", "standup"), ("before", &cut)]).await;
    let mut older = ids(&before);
    older.sort_unstable();
    assert_eq!(older, posted[..10].to_vec());

    let (status, _) = search(&app, &token, &[("q", "standup"), ("page", "0")]).await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn the_room_parameter_keeps_one_room_and_an_unknown_room_is_404() {
    let (app, token) = app_with_room().await;
    app.api_create_room(&token, "random").await;
    let in_general = say(&app, &token, "general", "coffee machine is fixed").await;
    let in_random = say(&app, &token, "random", "coffee machine is broken").await;
    let (_, both) = search(&app, &token, &[("q", "coffee")]).await;
    assert_eq!(ids(&both).len(), 2);
    let (_, general) = search(&app, &token, &[("q", "coffee"), ("room", "GENERAL")]).await;
    assert_eq!(ids(&general), vec![in_general]);
    let (_, random) = search(&app, &token, &[("q", "coffee"), ("room", "random")]).await;
    assert_eq!(ids(&random), vec![in_random]);
    let (status, answer) = search(&app, &token, &[("q", "coffee"), ("room", "nowhere")]).await;
    assert_eq!(status, 404);
    assert_eq!(answer["error"]["code"], "not_found");
}

#[actix_web::test]
async fn fts_operator_characters_in_the_query_are_just_text() {
    let (app, token) = app_with_room().await;
    let id = say(&app, &token, "general", "NEAR the tree AND OR gate: x-ray").await;
    for q in [
        "\"",
        "\"tree",
        "tree*",
        "*",
        "NEAR(",
        "NEAR(tree gate)",
        "AND OR",
        "tree AND",
        "NOT",
        "(",
        ")",
        "-x",
        "-",
        ":",
        "body:tree",
        "^tree",
        "{tree}",
        "'",
        "\\",
        "tree\"\"gate",
        "日本語 ümlaut 😀",
    ] {
        let (status, answer) = search(&app, &token, &[("q", q)]).await;
        assert_eq!(status, 200, "{q}: {answer}");
        assert!(answer["results"].is_array(), "{q}: {answer}");
    }
    let (_, answer) = search(&app, &token, &[("q", "AND OR")]).await;
    assert_eq!(ids(&answer), vec![id]);
    let (_, answer) = search(&app, &token, &[("q", "NEAR(")]).await;
    assert_eq!(ids(&answer), vec![id]);
    let (_, answer) = search(&app, &token, &[("q", "gate:")]).await;
    assert_eq!(ids(&answer), vec![id]);
}

#[actix_web::test]
async fn a_query_without_words_finds_nothing_and_a_missing_one_is_a_400() {
    let (app, token) = app_with_room().await;
    say(&app, &token, "general", "anything").await;
    let (status, answer) = search(&app, &token, &[("q", "\" * ( -")]).await;
    assert_eq!(status, 200);
    assert_eq!(answer["results"], serde_json::json!([]));
    for query in [&[][..], &[("q", "   ")][..]] {
        let (status, answer) = search(&app, &token, query).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["code"], "bad_request");
    }
}

#[actix_web::test]
async fn snippets_escape_html_and_mark_only_the_matches() {
    let (app, token) = app_with_room().await;
    say(
        &app,
        &token,
        "general",
        "<script>alert(1)</script> <mark>not me</mark> & <b>findme</b>",
    )
    .await;
    let (_, answer) = search(&app, &token, &[("q", "findme")]).await;
    let snippet = answer["results"][0]["snippet"].as_str().unwrap();
    assert_eq!(
        snippet,
        "&lt;script&gt;alert(1)&lt;/script&gt; &lt;mark&gt;not me&lt;/mark&gt; &amp; &lt;b&gt;<mark>findme</mark>&lt;/b&gt;"
    );
    // The page shows the same snippet, unescaped by nobody.
    let page = app
        .api(Method::GET, "/search?q=findme", &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(snippet), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
}

#[actix_web::test]
async fn search_needs_a_login() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/search?q=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = app.get("/search?q=x").await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
}

#[actix_web::test]
async fn the_search_page_shows_results_with_links_and_pages() {
    let app = spawn_app_with(|config| {
        config.send_rate = 1000;
        config.send_burst = 1000;
    })
    .await;
    app.signed_up("bob").await;
    app.create_room("ops").await;
    for n in 0..22 {
        app.post_message("ops", &format!("incident report {n}"))
            .await;
    }
    // The header has a search box on every page.
    let home = app.get_text("/").await;
    assert!(home.contains("action=\"/search\""), "{home}");

    let res = app.get("/search?q=incident&room=ops").await;
    assert_eq!(res.status().as_u16(), 200);
    // As a browser reads attributes (Tera escapes `/` and `&` in them).
    let page = unescape(&res.text().await.unwrap());
    assert_eq!(page.matches("class=\"hit\"").count(), 20, "{page}");
    assert!(page.contains("<mark>incident</mark>"), "{page}");
    assert!(page.contains("href=\"/rooms/ops#m"), "{page}");
    assert!(page.contains("<option value=\"ops\" selected>"), "{page}");
    assert!(
        page.contains("href=\"/search?q=incident&room=ops&page=2\""),
        "{page}"
    );
    let second = unescape(&app.get_text("/search?q=incident&room=ops&page=2").await);
    assert_eq!(second.matches("class=\"hit\"").count(), 2, "{second}");
    assert!(
        second.contains("href=\"/search?q=incident&room=ops\""),
        "{second}"
    );
}

#[actix_web::test]
async fn the_search_page_renders_without_a_query_and_without_results() {
    let app = spawn_app().await;
    app.signed_up("carol").await;
    app.create_room("quiet").await;
    let blank = app.get("/search").await;
    assert_eq!(blank.status().as_u16(), 200);
    let blank = blank.text().await.unwrap();
    assert!(blank.contains("name=\"q\""), "{blank}");
    assert!(blank.contains("<option value=\"quiet\">"), "{blank}");
    assert!(!blank.contains("No messages match"), "{blank}");

    let none = app.get("/search?q=%3Cnothing%3E+NEAR%28").await;
    assert_eq!(none.status().as_u16(), 200);
    let none = none.text().await.unwrap();
    assert!(none.contains("No messages match"), "{none}");
    assert!(!none.contains("<nothing>"), "the query is escaped: {none}");

    let missing = app.get("/search?q=x&room=nope").await;
    assert_eq!(missing.status().as_u16(), 404);
}

#[actix_web::test]
async fn an_edited_message_is_found_by_its_new_words_only_and_a_deleted_one_not_at_all() {
    let (app, token) = app_with_room().await;
    let id = say(&app, &token, "general", "meet at the lighthouse").await;
    assert_eq!(
        ids(&search(&app, &token, &[("q", "lighthouse")]).await.1),
        vec![id]
    );
    let res = app
        .api(Method::PATCH, &format!("/api/messages/{id}"), &token)
        .json(&serde_json::json!({"body": "meet at the harbour"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(ids(&search(&app, &token, &[("q", "lighthouse")]).await.1).is_empty());
    assert_eq!(
        ids(&search(&app, &token, &[("q", "harbour")]).await.1),
        vec![id]
    );
    let res = app
        .api(Method::DELETE, &format!("/api/messages/{id}"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(ids(&search(&app, &token, &[("q", "harbour")]).await.1).is_empty());
}

#[actix_web::test]
async fn a_dm_is_searched_by_its_members_only() {
    let (app, alice) = app_with_room().await;
    let bob = app.api_user("bob").await;
    let eve = app.api_user("eve").await;
    let res = app
        .api(Method::POST, "/api/dms", &alice)
        .json(&serde_json::json!({"users": ["bob"]}))
        .send()
        .await
        .unwrap();
    let room = res.json::<Value>().await.unwrap()["room"]
        .as_str()
        .unwrap()
        .to_string();
    let id = say(&app, &alice, &room, "the surprise party is friday").await;
    for member in [&alice, &bob] {
        assert_eq!(
            ids(&search(&app, member, &[("q", "surprise party")]).await.1),
            vec![id]
        );
    }
    assert!(ids(&search(&app, &eve, &[("q", "surprise party")]).await.1).is_empty());
    let (status, _) = search(&app, &eve, &[("q", "surprise"), ("room", &room)]).await;
    assert_eq!(status, 404);
}
