//! The real binary: exit codes and one-line errors for bad flags and config.

use std::process::Command;

fn palaver() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palaver"));
    // Start from a clean slate: no CHAT_* from the developer's shell.
    for (key, _) in std::env::vars() {
        if key.starts_with("CHAT_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn assert_usage_error(args: &[&str], envs: &[(&str, &str)], mentions: &str) {
    let out = palaver()
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?} {envs:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("palaver: "), "{stderr}");
    assert!(
        stderr.contains(mentions),
        "{stderr} should mention {mentions}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn bad_flags_and_config_exit_2_with_one_line() {
    assert_usage_error(&["--bind", "not-an-address"], &[], "--bind");
    assert_usage_error(&["--no-such-flag"], &[], "--no-such-flag");
    assert_usage_error(&["frobnicate"], &[], "frobnicate");
    assert_usage_error(&[], &[("CHAT_BIND", "999.1.1.1:80")], "999.1.1.1");
    assert_usage_error(&["--bcrypt-cost", "40"], &[], "CHAT_BCRYPT_COST");
    assert_usage_error(&[], &[("CHAT_BCRYPT_COST", "ten")], "ten");
    assert_usage_error(&[], &[("CHAT_LOG", "palaver=shout")], "CHAT_LOG");
    assert_usage_error(&[], &[("CHAT_DURABILITY", "maybe")], "maybe");
    assert_usage_error(&[], &[("CHAT_PUBLIC_URL", "ftp://x")], "CHAT_PUBLIC_URL");
}

#[test]
fn help_lists_the_subcommands_and_exits_0() {
    let out = palaver().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("serve") && text.contains("migrate") && text.contains("CHAT_BIND"));
}

#[test]
fn migrate_creates_and_migrates_the_database_then_exits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let out = palaver()
        .args(["migrate", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("palaver.db").is_file());
    // Running it again is a no-op.
    let again = palaver()
        .arg("migrate")
        .env("CHAT_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(again.status.success());
}

#[test]
fn an_unusable_data_dir_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = palaver()
        .args(["migrate", "--data-dir"])
        .arg(file.join("sub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("Failed to create the data dir"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}
