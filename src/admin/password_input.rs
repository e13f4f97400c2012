//! Reading a new password for `user add` / `user passwd`: never from a flag
//! (it would sit in the shell history and in `ps`).
//!
//! On a terminal it is asked for twice without echo (rpassword, which talks
//! to the terminal itself); otherwise standard input holds it as one line,
//! for scripts: `printf '%s\n' "$PW" | palaver user add alice`.

use std::io::{BufRead, IsTerminal};

use super::AdminError;
use crate::domain::Password;

/// The new password, checked against the password rules.
pub fn read_new_password() -> Result<Password, AdminError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        prompt_twice()
    } else {
        first_line(&mut stdin.lock())
    }
}

fn prompt_twice() -> Result<Password, AdminError> {
    let prompt = |text: &str| {
        rpassword::prompt_password(text).map_err(|err| {
            AdminError::Failed(anyhow::anyhow!("Failed to read the password: {err}"))
        })
    };
    let first = prompt("New password: ")?;
    // Say what is wrong before asking for it again.
    let password = Password::parse(&first).map_err(AdminError::Invalid)?;
    if prompt("Repeat the password: ")? != first {
        return Err(AdminError::Invalid("The passwords do not match.".into()));
    }
    Ok(password)
}

/// The first line of `input` without its line ending, as the password.
/// Nothing else is trimmed: spaces belong to the password.
fn first_line(input: &mut impl BufRead) -> Result<Password, AdminError> {
    let mut line = String::new();
    let read = input.read_line(&mut line).map_err(|err| {
        AdminError::Invalid(format!(
            "Could not read the password from standard input: {err}"
        ))
    })?;
    if read == 0 {
        return Err(AdminError::Invalid(
            "No password given: type it at the prompt, or pipe it in as one line.".into(),
        ));
    }
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Password::parse(line).map_err(AdminError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Result<String, String> {
        first_line(&mut input.as_bytes())
            .map(|p| p.expose().to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_first_line_is_the_password_without_its_line_ending_only() {
        assert_eq!(read("  spaced out  \nignored\n").unwrap(), "  spaced out  ");
        assert_eq!(read("windows-line\r\n").unwrap(), "windows-line");
        assert_eq!(read("no-newline-at-end").unwrap(), "no-newline-at-end");
    }

    #[test]
    fn empty_input_and_short_passwords_are_refused() {
        assert!(read("").unwrap_err().contains("No password"));
        assert!(read("short\n").unwrap_err().contains("at least"));
        assert!(read("\n").unwrap_err().contains("at least"));
    }
}
