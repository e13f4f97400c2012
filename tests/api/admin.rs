//! The admin commands and the config file, through the real binary, against
//! a temp data dir — mostly while a server is running on the same database.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{close_code, spawn_with, test_config, TestApp, PASSWORD};

/// What a run of the binary printed and its exit status.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> String {
        assert_eq!(self.code, Some(0), "{self:?}");
        self.stdout
    }

    /// Exit `code`, nothing on stdout, one `palaver: …` line on stderr
    /// that mentions `mentions`.
    fn fails(&self, code: i32, mentions: &str) {
        assert_eq!(self.code, Some(code), "{self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "not one line: {self:?}");
        assert!(self.stderr.starts_with("palaver: "), "{self:?}");
        assert!(
            self.stderr.contains(mentions),
            "{self:?} should say {mentions}"
        );
        assert!(!self.stderr.contains("panicked"), "{self:?}");
    }
}

/// `palaver` on `data_dir`, run from that directory (so no stray
/// `palaver.toml` is read), with no `CHAT_*` from the developer's shell.
fn palaver(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palaver"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CHAT_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("CHAT_DATA_DIR", data_dir)
        .env("CHAT_BCRYPT_COST", "4")
        .current_dir(data_dir);
    cmd
}

/// Run `cmd` with `stdin` piped in, off the test's thread (the in-process
/// server's chat actor lives there).
async fn run(mut cmd: Command, stdin: &str) -> Run {
    let stdin = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A command may exit before reading (bad input): ignore EPIPE.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    })
    .await
    .unwrap()
}

async fn admin(app: &TestApp, args: &[&str], stdin: &str) -> Run {
    let mut cmd = palaver(&app.data_dir);
    cmd.args(args);
    run(cmd, stdin).await
}

async fn start(session_check: Duration) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(dir.path());
    config.session_check = session_check;
    spawn_with(config, Some(dir)).await
}

async fn login_status(app: &TestApp, name: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(app.url("/api/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.api(Method::GET, "/api/me", token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `user list` as (name, role, disabled) rows, header checked.
fn user_rows(list: &str) -> Vec<(String, String, String)> {
    let mut lines = list.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "ROLE", "DISABLED", "CREATED"]);
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            assert!(
                cells[3].starts_with("20") && line.ends_with(" UTC"),
                "{line}"
            );
            (cells[0].into(), cells[1].into(), cells[2].into())
        })
        .collect()
}

fn row(name: &str, role: &str, disabled: &str) -> (String, String, String) {
    (name.into(), role.into(), disabled.into())
}

#[actix_web::test]
async fn a_user_added_from_the_shell_while_the_server_runs_can_log_in() {
    let app = start(Duration::from_secs(30)).await;
    let out = admin(&app, &["user", "add", "alice"], &format!("{PASSWORD}\n")).await;
    assert_eq!(out.ok(), "Added member alice.\n");
    let token = app.api_login("alice").await;
    let me: serde_json::Value = app.get_json("/api/me", &token).await;
    assert_eq!(me, json!({"name": "alice", "is_admin": false}));

    // --admin, and a password ending in spaces is kept as typed.
    let spaced = "with spaces  ";
    let out = admin(
        &app,
        &["user", "add", "root", "--admin"],
        &format!("{spaced}\n"),
    )
    .await;
    assert_eq!(out.ok(), "Added admin root.\n");
    assert_eq!(login_status(&app, "root", spaced).await, 200);
    assert_eq!(login_status(&app, "root", spaced.trim_end()).await, 401);
}

#[actix_web::test]
async fn bad_input_exits_2_and_unknown_users_exit_3_with_one_line() {
    let app = start(Duration::from_secs(30)).await;
    let password = format!("{PASSWORD}\n");
    admin(&app, &["user", "add", "alice"], &password).await.ok();

    let taken = admin(&app, &["user", "add", "ALICE"], &password).await;
    taken.fails(2, "taken");
    admin(&app, &["user", "add", "no spaces"], &password)
        .await
        .fails(2, "Usernames may only contain");
    admin(&app, &["user", "add", &"x".repeat(33)], &password)
        .await
        .fails(2, "at most 32");
    admin(&app, &["user", "add", "bob"], "short\n")
        .await
        .fails(2, "at least 8 characters");
    admin(
        &app,
        &["user", "add", "bob"],
        &format!("{}\n", "p".repeat(73)),
    )
    .await
    .fails(2, "72 bytes");
    admin(&app, &["user", "add", "bob"], "")
        .await
        .fails(2, "No password given");
    admin(&app, &["user", "role", "alice", "owner"], "")
        .await
        .fails(2, "owner");
    admin(&app, &["user", "add"], "").await.fails(2, "required");

    for args in [
        &["user", "passwd", "nobody"][..],
        &["user", "role", "nobody", "admin"],
        &["user", "disable", "nobody"],
        &["user", "enable", "nobody"],
    ] {
        admin(&app, args, &password)
            .await
            .fails(3, "no user named nobody");
    }
    // Nothing above created anyone.
    let list = admin(&app, &["user", "list"], "").await.ok();
    assert_eq!(user_rows(&list), [row("alice", "member", "no")]);
}

#[actix_web::test]
async fn user_role_and_list_show_each_account() {
    let app = start(Duration::from_secs(30)).await;
    let password = format!("{PASSWORD}\n");
    admin(&app, &["user", "add", "bob"], &password).await.ok();
    admin(&app, &["user", "add", "Alice", "--admin"], &password)
        .await
        .ok();
    let out = admin(&app, &["user", "role", "bob", "admin"], "").await;
    assert_eq!(out.ok(), "bob is now admin.\n");
    // Names are matched without regard to case.
    let out = admin(&app, &["user", "role", "alice", "member"], "").await;
    assert_eq!(out.ok(), "Alice is now member.\n");
    admin(&app, &["user", "disable", "bob"], "").await.ok();

    let list = admin(&app, &["user", "list"], "").await.ok();
    assert_eq!(
        user_rows(&list),
        [row("Alice", "member", "no"), row("bob", "admin", "yes")]
    );
    // The API sees the new role.
    let token = app.api_login("Alice").await;
    let me: serde_json::Value = app.get_json("/api/me", &token).await;
    assert_eq!(me["is_admin"], false);
}

#[actix_web::test]
async fn disabling_a_user_ends_their_sessions_and_closes_their_socket_with_1008() {
    let app = start(Duration::from_secs(1)).await;
    let token = app.api_user("mallory").await;
    let mut ws = app.open_ws(&token).await;

    let out = admin(&app, &["user", "disable", "mallory"], "").await.ok();
    // The registration's session and the API login's.
    assert!(
        out.starts_with("Disabled mallory; ended 2 sessions."),
        "{out}"
    );
    assert_eq!(close_code(&mut ws).await, Some(1008));
    assert_eq!(me_status(&app, &token).await, 401);
    assert_eq!(login_status(&app, "mallory", PASSWORD).await, 401);

    admin(&app, &["user", "enable", "mallory"], "").await.ok();
    assert_eq!(login_status(&app, "mallory", PASSWORD).await, 200);
}

#[actix_web::test]
async fn a_password_change_ends_every_session_and_only_the_new_password_works() {
    let app = start(Duration::from_secs(1)).await;
    let token = app.api_user("carol").await;
    let mut ws = app.open_ws(&token).await;

    let new_password = "a brand new password";
    let out = admin(
        &app,
        &["user", "passwd", "carol"],
        &format!("{new_password}\n"),
    )
    .await;
    assert_eq!(
        out.ok(),
        "Changed the password of carol; ended 2 sessions.\n",
        "the registration's and the API login's"
    );
    assert_eq!(me_status(&app, &token).await, 401);
    assert_eq!(close_code(&mut ws).await, Some(1008));
    assert_eq!(login_status(&app, "carol", PASSWORD).await, 401);
    assert_eq!(login_status(&app, "carol", new_password).await, 200);
}

#[actix_web::test]
async fn rooms_added_from_the_shell_are_listed_and_served() {
    let app = start(Duration::from_secs(30)).await;
    assert_eq!(
        admin(&app, &["room", "add", "general"], "").await.ok(),
        "Added room general.\n"
    );
    admin(&app, &["room", "add", "café"], "").await.ok();
    admin(&app, &["room", "add", "General"], "")
        .await
        .fails(2, "already exists");
    admin(&app, &["room", "add", "a/b"], "")
        .await
        .fails(2, "Room names may only contain");
    admin(&app, &["room", "add", "DM-mine"], "")
        .await
        .fails(2, "kept for direct messages");

    let token = app.api_user("dave").await;
    let res = app
        .api(Method::POST, "/api/rooms/general/messages", &token)
        .json(&json!({"body": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);

    let list = admin(&app, &["room", "list"], "").await.ok();
    let rows: Vec<Vec<&str>> = list
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["NAME", "MESSAGES"],
            vec!["café", "0"],
            vec!["general", "1"]
        ]
    );
}

/// Row counts of the tables, and SQLite's own integrity verdict.
fn inspect(db: &Path) -> (Vec<i64>, String) {
    use diesel::prelude::*;
    use palaver::db::schema::{messages, rooms, sessions, users};

    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    let counts = vec![
        users::table.count().get_result(&mut conn).unwrap(),
        rooms::table.count().get_result(&mut conn).unwrap(),
        messages::table.count().get_result(&mut conn).unwrap(),
        sessions::table.count().get_result(&mut conn).unwrap(),
    ];
    let check: Check = diesel::sql_query("PRAGMA integrity_check")
        .get_result(&mut conn)
        .unwrap();
    (counts, check.integrity_check)
}

#[actix_web::test]
async fn a_backup_taken_while_the_server_runs_is_a_complete_database() {
    let app = start(Duration::from_secs(30)).await;
    let token = app.api_user("erin").await;
    app.api_user("frank").await;
    app.api_create_room(&token, "general").await;
    for i in 0..20 {
        let res = app
            .api(Method::POST, "/api/rooms/general/messages", &token)
            .json(&json!({"body": format!("message {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }

    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("palaver.db");
    let out = admin(&app, &["backup", copy.to_str().unwrap()], "")
        .await
        .ok();
    assert!(out.starts_with("Backed up "), "{out}");

    let (original, _) = inspect(&app.data_dir.join("palaver.db"));
    let (copied, integrity) = inspect(&copy);
    assert_eq!(copied, original);
    assert_eq!(copied[..3], [2, 1, 20]);
    assert_eq!(integrity, "ok");

    // The copy is a data dir's database like any other.
    let list = run(
        {
            let mut cmd = palaver(copy_dir.path());
            cmd.args(["user", "list"]);
            cmd
        },
        "",
    )
    .await
    .ok();
    let names: Vec<String> = user_rows(&list).into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["erin", "frank"]);

    // Never over an existing file; the directory must exist.
    admin(&app, &["backup", copy.to_str().unwrap()], "")
        .await
        .fails(2, "already exists");
    let nowhere = copy_dir.path().join("missing/palaver.db");
    admin(&app, &["backup", nowhere.to_str().unwrap()], "")
        .await
        .fails(2, "not a directory");
}

#[actix_web::test]
async fn a_locked_database_is_exit_1_with_a_clear_message() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let dir = tempfile::tempdir().unwrap();
    let mut init = palaver(dir.path());
    init.arg("migrate");
    run(init, "").await.ok();

    let db = dir.path().join("palaver.db");
    let mut holder = diesel::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    holder.batch_execute("BEGIN EXCLUSIVE").unwrap();
    let mut cmd = palaver(dir.path());
    cmd.args(["room", "add", "general"]);
    run(cmd, "").await.fails(1, "database is locked");
    holder.batch_execute("ROLLBACK").unwrap();
}

/// `palaver config`'s line for `key`: (value, source).
fn config_line(report: &str, key: &str) -> (String, String) {
    let line = report
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in {report}"));
    let (setting, source) = line.split_once("  # ").unwrap();
    let value = setting.split_once(" = ").unwrap().1.trim().to_string();
    (value, source.trim().to_string())
}

#[actix_web::test]
async fn the_config_file_sits_under_the_environment_and_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.toml");
    std::fs::write(
        &file,
        "max_upload_mb = 20\nsend-rate = 5\nsession_hours = 48\nws_allowed_origins = [\"https://a.example\", \"https://b.example\"]\n",
    )
    .unwrap();
    let mut cmd = palaver(dir.path());
    cmd.args(["config", "--config"])
        .arg(&file)
        .args(["--session-hours", "12"])
        .env("CHAT_SEND_RATE", "7");
    let report = run(cmd, "").await.ok();
    assert!(report.contains(&format!("# config file: {}", file.display())));
    let line = |key| config_line(&report, key);
    assert_eq!(line("max_upload_mb"), ("20".into(), "config file".into()));
    assert_eq!(
        line("send_rate"),
        ("7".into(), "environment CHAT_SEND_RATE".into())
    );
    assert_eq!(
        line("session_hours"),
        ("12".into(), "flag --session-hours".into())
    );
    assert_eq!(
        line("ws_allowed_origins"),
        (
            "[\"https://a.example\", \"https://b.example\"]".into(),
            "config file".into()
        )
    );
    assert_eq!(line("ws_queue"), ("4096".into(), "default".into()));
    assert_eq!(
        line("bcrypt_cost"),
        ("4".into(), "environment CHAT_BCRYPT_COST".into())
    );
    assert!(
        report.contains("# public_url ="),
        "unset options are listed"
    );
}

#[actix_web::test]
async fn palaver_toml_in_the_working_directory_is_read_and_really_applies() {
    let cwd = tempfile::tempdir().unwrap();
    let data = cwd.path().join("chat-data");
    std::fs::write(
        cwd.path().join("palaver.toml"),
        "# a comment\ndata_dir = \"chat-data\"\nbcrypt_cost = 5\n",
    )
    .unwrap();
    let mut cmd = palaver(cwd.path());
    cmd.env_remove("CHAT_DATA_DIR")
        .env_remove("CHAT_BCRYPT_COST")
        .args(["user", "add", "gina"]);
    run(cmd, &format!("{PASSWORD}\n")).await.ok();
    assert!(data.join("palaver.db").is_file(), "data_dir from the file");

    let mut cmd = palaver(cwd.path());
    cmd.env_remove("CHAT_DATA_DIR")
        .env_remove("CHAT_BCRYPT_COST")
        .arg("config");
    let report = run(cmd, "").await.ok();
    assert!(report.contains("# config file: palaver.toml"), "{report}");
    assert_eq!(
        config_line(&report, "data_dir"),
        ("\"chat-data\"".into(), "config file".into())
    );
    // The hash was made at the file's cost.
    let hash: String = {
        use diesel::prelude::*;
        use palaver::db::schema::users;
        let mut conn =
            diesel::SqliteConnection::establish(data.join("palaver.db").to_str().unwrap()).unwrap();
        users::table
            .select(users::password_hash)
            .first(&mut conn)
            .unwrap()
    };
    assert!(hash.starts_with("$2b$05$"), "{hash}");
}

#[actix_web::test]
async fn unknown_keys_and_bad_values_in_the_config_file_exit_2_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("palaver.toml");
    let with = |text: &str| {
        std::fs::write(&file, text).unwrap();
        palaver(dir.path())
    };

    run(with("bind = \"0.0.0.0:8080\"\nport = 8080\n"), "")
        .await
        .fails(2, "unknown key `port`");
    run(with("bind = \n"), "").await.fails(2, "line 1");
    run(with("log = \"palaver=shout\"\n"), "")
        .await
        .fails(2, "`log` in palaver.toml");
    let mut missing = palaver(dir.path());
    missing.env("CHAT_CONFIG", dir.path().join("nope.toml"));
    run(missing, "").await.fails(2, "nope.toml");
}
