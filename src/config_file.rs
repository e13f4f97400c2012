//! The optional TOML config file (`palaver config` shows its effect: see
//! `admin::config_report`).
//!
//! The file is read before the command line is parsed. Each key is the long
//! name of an option (`bind`, `max_upload_mb` or `max-upload-mb`) and is
//! turned into that option's `CHAT_*` variable — only where that variable is
//! not already set. clap then parses as usual, so the precedence is
//! flags > environment > file > defaults, with no second copy of any option:
//! the keys a file may hold are read off [`Cli::command`], so they never
//! drift from the flags.
//!
//! Which file: `--config PATH`, else `CHAT_CONFIG`, else `palaver.toml` in
//! the current directory if there is one.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;

/// The option naming the file; it cannot appear in a file.
pub const CONFIG_FLAG: &str = "config";
const CONFIG_ENV: &str = "CHAT_CONFIG";
const DEFAULT_FILE: &str = "palaver.toml";

/// What the config file contributed.
#[derive(Debug, Default, Clone)]
pub struct FileSettings {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// The variables the file set: `CHAT_*` name → the key as written.
    pub applied: BTreeMap<String, String>,
}

impl FileSettings {
    /// `message` (which names options by their `CHAT_*` variables), plus
    /// which of them the config file set, so a bad value can be found.
    pub fn explain(&self, message: &str) -> String {
        let Some(path) = &self.path else {
            return message.to_string();
        };
        let keys: Vec<String> = self
            .applied
            .iter()
            .filter(|(env, _)| names(message, env))
            .map(|(_, key)| format!("`{key}`"))
            .collect();
        if keys.is_empty() {
            message.to_string()
        } else {
            format!("{message} ({} in {})", keys.join(", "), path.display())
        }
    }
}

/// Does `message` mention the variable `env` (not just a longer name that
/// starts with it, as `CHAT_LOGIN_WINDOW_SECS` starts with `CHAT_LOG`)?
fn names(message: &str, env: &str) -> bool {
    message.match_indices(env).any(|(at, _)| {
        !message[at + env.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// One option a config file may set.
struct Known {
    env: String,
    /// Separator for a list value (`ws_allowed_origins = ["a", "b"]`).
    delimiter: Option<char>,
}

/// Find and read the config file for this command line, and set the
/// variables it holds that the environment does not. Call it first thing in
/// `main`, while the process has a single thread.
pub fn load(args: &[OsString]) -> Result<FileSettings, String> {
    let Some(path) = locate(args) else {
        return Ok(FileSettings::default());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("cannot read the config file {}: {err}", path.display()))?;
    let pairs = parse(&text, &path)?;
    let mut applied = BTreeMap::new();
    for (env, (key, value)) in pairs {
        if std::env::var_os(&env).is_none() {
            std::env::set_var(&env, value);
            applied.insert(env, key);
        }
    }
    Ok(FileSettings {
        path: Some(path),
        applied,
    })
}

/// `--config PATH` / `--config=PATH`, then `CHAT_CONFIG`, then
/// `./palaver.toml` if it exists.
fn locate(args: &[OsString]) -> Option<PathBuf> {
    let flag = format!("--{CONFIG_FLAG}");
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--" {
            break;
        }
        if arg == flag {
            return args.next().map(PathBuf::from);
        }
        if let Some(value) = arg.strip_prefix(&flag).and_then(|r| r.strip_prefix('=')) {
            return Some(PathBuf::from(value));
        }
    }
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Path::new(DEFAULT_FILE)
        .is_file()
        .then(|| PathBuf::from(DEFAULT_FILE))
}

/// The file's settings as `CHAT_*` name → (key, value as the variable holds it).
fn parse(text: &str, path: &Path) -> Result<BTreeMap<String, (String, String)>, String> {
    let file = path.display();
    let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
        let line = err
            .span()
            .and_then(|span| text.get(..span.start))
            .map(|before| format!(" line {}", before.matches('\n').count() + 1))
            .unwrap_or_default();
        let message = err.message().lines().next().unwrap_or("invalid TOML");
        format!("config file {file}{line}: {message}")
    })?;
    let known = known_options();
    let mut pairs = BTreeMap::new();
    for (key, value) in table {
        let Some(option) = known.get(&key.replace('_', "-")) else {
            return Err(format!("config file {file}: unknown key `{key}`"));
        };
        let value = env_value(&value, option.delimiter)
            .map_err(|why| format!("config file {file}: `{key}` {why}"))?;
        if let Some((earlier, _)) = pairs.insert(option.env.clone(), (key.clone(), value)) {
            return Err(format!(
                "config file {file}: `{key}` and `{earlier}` are the same option"
            ));
        }
    }
    Ok(pairs)
}

/// Every option with a long name and a variable, by long name.
fn known_options() -> BTreeMap<String, Known> {
    Cli::command()
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let env = arg.get_env()?.to_str()?;
            (long != CONFIG_FLAG).then(|| {
                let known = Known {
                    env: env.to_string(),
                    delimiter: arg.get_value_delimiter(),
                };
                (long.to_string(), known)
            })
        })
        .collect()
}

/// A TOML value as the text its `CHAT_*` variable would hold.
fn env_value(value: &toml::Value, delimiter: Option<char>) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Array(items) => {
            let Some(delimiter) = delimiter else {
                return Err("takes one value, not a list".into());
            };
            let items = items
                .iter()
                .map(|item| match item {
                    toml::Value::Array(_) | toml::Value::Table(_) => {
                        Err("must be a list of plain values".to_string())
                    }
                    item => env_value(item, None),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if items.iter().any(|i| i.contains(delimiter)) {
                return Err(format!("items may not contain `{delimiter}`"));
            }
            Ok(items.join(&delimiter.to_string()))
        }
        toml::Value::Datetime(_) | toml::Value::Table(_) => {
            Err("must be a string, number, boolean or list".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<BTreeMap<String, (String, String)>, String> {
        parse(text, Path::new("test.toml"))
    }

    fn var(text: &str, env: &str) -> String {
        parsed(text).unwrap().remove(env).unwrap().1
    }

    #[test]
    fn keys_are_long_option_names_with_dashes_or_underscores() {
        assert_eq!(var("bind = \"0.0.0.0:80\"", "CHAT_BIND"), "0.0.0.0:80");
        assert_eq!(var("max_upload_mb = 20", "CHAT_MAX_UPLOAD_MB"), "20");
        assert_eq!(var("max-upload-mb = 20", "CHAT_MAX_UPLOAD_MB"), "20");
        assert_eq!(
            var(
                "ws_allowed_origins = [\"https://a.org\", \"https://b.org\"]",
                "CHAT_WS_ALLOWED_ORIGINS"
            ),
            "https://a.org,https://b.org"
        );
    }

    #[test]
    fn every_option_with_a_variable_can_be_set_from_the_file() {
        let known = known_options();
        assert!(known.contains_key("data-dir"));
        assert!(known.contains_key("session-check-secs"));
        assert!(!known.contains_key(CONFIG_FLAG));
        assert!(!known.contains_key("help"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = parsed("bind = \"x\"\nport = 80").unwrap_err();
        assert_eq!(err, "config file test.toml: unknown key `port`");
        let err = parsed("bind = [\"a\", \"b\"]").unwrap_err();
        assert!(err.contains("`bind` takes one value"), "{err}");
        let err = parsed("[server]\nbind = \"x\"").unwrap_err();
        assert!(err.contains("unknown key `server`"), "{err}");
        let err = parsed("config = \"other.toml\"").unwrap_err();
        assert!(err.contains("unknown key `config`"), "{err}");
        let err = parsed("log = \"a\"\nlog-x = 1").unwrap_err();
        assert!(err.contains("`log-x`"), "{err}");
        let err = parsed("max_upload_mb = 1\nmax-upload-mb = 2").unwrap_err();
        assert!(err.contains("same option"), "{err}");
    }

    #[test]
    fn toml_syntax_errors_are_one_line_with_the_line_number() {
        let err = parsed("bind = \"ok\"\nlog = \n").unwrap_err();
        assert!(err.starts_with("config file test.toml line 2: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    #[test]
    fn the_config_file_is_found_by_flag_then_variable() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            locate(&args(&["palaver", "serve", "--config", "a.toml"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            locate(&args(&["palaver", "--config=b.toml"])),
            Some(PathBuf::from("b.toml"))
        );
    }

    #[test]
    fn errors_about_a_variable_the_file_set_name_the_key_and_file() {
        let file = FileSettings {
            path: Some(PathBuf::from("palaver.toml")),
            applied: [("CHAT_LOG".to_string(), "log".to_string())].into(),
        };
        assert_eq!(
            file.explain("CHAT_LOG is not a valid log filter"),
            "CHAT_LOG is not a valid log filter (`log` in palaver.toml)"
        );
        let other = "CHAT_LOGIN_WINDOW_SECS must be at least 1";
        assert_eq!(file.explain(other), other);
    }
}
