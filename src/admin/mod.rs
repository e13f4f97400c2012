//! The admin commands (`palaver user …`, `palaver room …`, `palaver backup`,
//! `palaver config`):
//! their clap arguments, their errors and exit codes, and the database
//! connection they share.
//!
//! They open the same SQLite file as a running server, with the same
//! per-connection set-up (WAL, busy timeout), so they can run while it
//! serves. A command returns the text it prints on success; [`finish`] turns
//! that or an [`AdminError`] into stdout/stderr and the exit code.

pub mod backup;
pub mod config_report;
pub mod password_input;
pub mod rooms;
pub mod users;

use std::io::Write;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use crate::config::Config;
use crate::db::{self, Conn, SqliteSetup};

/// Shown under `--help` of every admin command.
pub const EXIT_CODES_HELP: &str = "\
Exit status:
  0  done
  1  failed: the database is locked, unwritable, full, ...
  2  bad input: an invalid or taken name, an unacceptable password, a bad argument
  3  not found: no such user";

/// `palaver user …`
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    ///
    /// The password is asked for twice on a terminal, or read as one line
    /// from standard input (`printf '%s\n' "$PW" | palaver user add NAME`);
    /// never from a flag.
    #[command(after_help = EXIT_CODES_HELP)]
    Add {
        /// The account's name (1-32 letters, digits, '_', '-', '.').
        #[arg(value_name = "NAME")]
        name: String,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
    },
    /// Set a new password and end the user's sessions.
    ///
    /// The password is read as for `user add`. Every session of the user is
    /// deleted; their open WebSockets close at the server's next session
    /// check (CHAT_SESSION_CHECK_SECS).
    #[command(after_help = EXIT_CODES_HELP)]
    Passwd {
        /// The account's name (1-32 letters, digits, '_', '-', '.').
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Make a user an admin or a member.
    #[command(after_help = EXIT_CODES_HELP)]
    Role {
        /// The account's name (1-32 letters, digits, '_', '-', '.').
        #[arg(value_name = "NAME")]
        name: String,
        /// The new role.
        role: Role,
    },
    /// List every account: name, role, disabled, created.
    #[command(after_help = EXIT_CODES_HELP)]
    List,
    /// Disable an account and end its sessions.
    ///
    /// Logging in fails, its sessions are deleted, and its open WebSockets
    /// close (1008) at the server's next session check
    /// (CHAT_SESSION_CHECK_SECS). Its messages stay.
    #[command(after_help = EXIT_CODES_HELP)]
    Disable {
        /// The account's name (1-32 letters, digits, '_', '-', '.').
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Enable a disabled account again.
    #[command(after_help = EXIT_CODES_HELP)]
    Enable {
        /// The account's name (1-32 letters, digits, '_', '-', '.').
        #[arg(value_name = "NAME")]
        name: String,
    },
}

/// `palaver room …`
#[derive(Debug, Clone, Subcommand)]
pub enum RoomCommand {
    /// Create a room.
    #[command(after_help = EXIT_CODES_HELP)]
    Add {
        /// The room's name (1-64 letters or digits of any script, '_', '-', '.').
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// List every room with its number of messages.
    #[command(after_help = EXIT_CODES_HELP)]
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    Admin,
    Member,
}

/// Why an admin command failed; each kind has its exit code.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Bad input: exit 2.
    #[error("{0}")]
    Invalid(String),
    /// No such user: exit 3.
    #[error("{0}")]
    NotFound(String),
    /// Anything else (locked database, I/O): exit 1.
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

impl AdminError {
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Failed(_) => 1,
            AdminError::Invalid(_) => 2,
            AdminError::NotFound(_) => 3,
        }
    }

    /// A database error while doing `what` ("add the user").
    pub fn db(what: &str) -> impl FnOnce(diesel::result::Error) -> AdminError + '_ {
        move |err| AdminError::Failed(anyhow::anyhow!("Failed to {what}: {err}"))
    }
}

/// Bring the database up to date (as the server does at start) and open a
/// connection to it with the server's per-connection settings.
pub fn open(config: &Config) -> Result<Conn, AdminError> {
    db::prepare(config)?;
    let conn = SqliteSetup {
        durability: config.durability,
    }
    .open(config.sqlite_path())?;
    Ok(conn)
}

/// Print a command's output (stdout) or its error (one line on stderr, as
/// `palaver: …`) and give the matching exit code.
pub fn finish(result: Result<String, AdminError>) -> ExitCode {
    match result {
        Ok(output) => {
            // A closed pipe (`palaver user list | head -1`) is not a failure.
            let _ = std::io::stdout().lock().write_all(output.as_bytes());
            ExitCode::SUCCESS
        }
        Err(err) => {
            let message = err.to_string();
            let line = message.lines().collect::<Vec<_>>().join(" ");
            eprintln!("palaver: {line}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// A Unix-millisecond timestamp as `2026-01-31 17:04 UTC`.
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Rows as left-aligned columns separated by two spaces, header first.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(String::from);
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_trim_line_ends() {
        let text = table(
            ["NAME", "ROLE"],
            &[
                ["alice".into(), "admin".into()],
                ["bo".into(), "member".into()],
            ],
        );
        assert_eq!(text, "NAME   ROLE\nalice  admin\nbo     member\n");
    }

    #[test]
    fn timestamps_are_shown_in_utc_to_the_minute() {
        assert_eq!(format_ms(0), "1970-01-01 00:00 UTC");
    }

    #[test]
    fn each_error_kind_has_its_exit_code() {
        assert_eq!(AdminError::Invalid("x".into()).exit_code(), 2);
        assert_eq!(AdminError::NotFound("x".into()).exit_code(), 3);
        assert_eq!(AdminError::Failed(anyhow::anyhow!("x")).exit_code(), 1);
    }
}
