//! `palaver config`: the effective configuration — every option, its value
//! and where the value came from (flag, environment, config file, default)
//! — printed as TOML that could itself be a config file. Secrets are masked.
//!
//! The options and their sources are read off clap's own parse of the
//! command line, so the list never drifts from the flags.

use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, CommandFactory};

use super::AdminError;
use crate::cli::Cli;
use crate::config_file::{FileSettings, CONFIG_FLAG};

/// Options whose names contain these are shown masked.
const SECRET_WORDS: [&str; 4] = ["key", "password", "secret", "token"];

/// `palaver config`: every option, its value and where the value came from,
/// as TOML that could itself be a config file. Secrets are masked.
pub fn run(file: &FileSettings, args: &[OsString]) -> Result<String, AdminError> {
    let matches = Cli::command()
        .try_get_matches_from(args)
        .map_err(|err| AdminError::Invalid(err.to_string()))?;
    let lines: Vec<(String, String)> = Cli::command()
        .get_arguments()
        .filter(|arg| !arg.is_hide_set() && arg.get_env().is_some())
        .filter(|arg| arg.get_long().is_some_and(|long| long != CONFIG_FLAG))
        .map(|arg| setting(arg, &matches, file))
        .collect();
    let width = lines.iter().map(|(l, _)| l.chars().count()).max();
    let mut out = String::from(
        "# Palaver's effective configuration (flag > environment > config file > default)\n",
    );
    match &file.path {
        Some(path) => out.push_str(&format!("# config file: {}\n", path.display())),
        None => out.push_str("# config file: none\n"),
    }
    for (line, source) in lines {
        let width = width.unwrap_or(0);
        out.push_str(&format!("{line:width$}  # {source}\n"));
    }
    Ok(out)
}

/// One option as `key = value` (or `# key =` when unset) and its source.
fn setting(arg: &Arg, matches: &ArgMatches, file: &FileSettings) -> (String, String) {
    let long = arg.get_long().unwrap_or_default();
    let key = long.replace('-', "_");
    let id = arg.get_id().as_str();
    let env = arg.get_env().and_then(|e| e.to_str()).unwrap_or_default();
    let source = match matches.value_source(id) {
        Some(ValueSource::CommandLine) => format!("flag --{long}"),
        Some(ValueSource::EnvVariable) if file.applied.contains_key(env) => {
            "config file".to_string()
        }
        Some(ValueSource::EnvVariable) => format!("environment {env}"),
        Some(ValueSource::DefaultValue) => "default".to_string(),
        _ => return (format!("# {key} ="), "not set".to_string()),
    };
    let raw: Vec<String> = matches
        .try_get_raw(id)
        .ok()
        .flatten()
        .map(|values| values.map(|v| v.to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let value = if is_secret(&key) {
        toml_text("********")
    } else {
        toml_value(&raw, arg.get_value_delimiter().is_some())
    };
    (format!("{key} = {value}"), source)
}

fn is_secret(key: &str) -> bool {
    SECRET_WORDS.iter().any(|word| key.contains(word))
}

/// Raw option values as a TOML value: a list for list options, bare numbers
/// and booleans, quoted strings otherwise.
fn toml_value(raw: &[String], list: bool) -> String {
    let scalar = |v: &String| {
        if v.parse::<i64>().is_ok() || v == "true" || v == "false" {
            v.clone()
        } else {
            toml_text(v)
        }
    };
    match raw {
        [one] if !list => scalar(one),
        many => format!(
            "[{}]",
            many.iter().map(scalar).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn toml_text(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_by_name() {
        assert!(is_secret("tls_key"));
        assert!(is_secret("admin_password"));
        assert!(!is_secret("bind"));
    }

    #[test]
    fn values_print_as_toml() {
        assert_eq!(toml_value(&["8080".into()], false), "8080");
        assert_eq!(toml_value(&["info".into()], false), "\"info\"");
        assert_eq!(
            toml_value(&["a".into(), "b".into()], true),
            "[\"a\", \"b\"]"
        );
    }
}
