//! Validated values parsed once at the edge: after `parse` succeeds, inner
//! code never checks them again. Each error message is shown to the user.

use std::fmt;

/// Longest username, in characters (SPEC §4.2).
pub const USERNAME_MAX_CHARS: usize = 32;
/// Longest room name, in characters (SPEC §4.4).
pub const ROOM_NAME_MAX_CHARS: usize = 64;
/// Shortest password, in characters (SPEC §4.2).
pub const PASSWORD_MIN_CHARS: usize = 8;
/// bcrypt only reads 72 bytes; longer passwords are refused, not truncated.
pub const PASSWORD_MAX_BYTES: usize = 72;
/// Longest client-chosen idempotency key on a message.
pub const CLIENT_ID_MAX_CHARS: usize = 64;

/// A username: 1-32 ASCII letters, digits, `_`, `-` or `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("Choose a username.".into());
        }
        if raw.chars().count() > USERNAME_MAX_CHARS {
            return Err(format!(
                "Usernames are at most {USERNAME_MAX_CHARS} characters long."
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(
                "Usernames may only contain letters (a-z), digits, '_', '-' and '.'.".into(),
            );
        }
        Ok(Username(raw.to_string()))
    }

    /// The lower-cased form that uniqueness is checked on.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A room name: 1-64 letters or digits (any script), `_`, `-` or `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("Give the room a name.".into());
        }
        if raw.chars().count() > ROOM_NAME_MAX_CHARS {
            return Err(format!(
                "Room names are at most {ROOM_NAME_MAX_CHARS} characters long."
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err("Room names may only contain letters, digits, '_', '-' and '.'.".into());
        }
        Ok(RoomName(raw.to_string()))
    }

    /// The lower-cased form that uniqueness and look-ups use.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed: never trimmed, 8 characters to 72 bytes.
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > PASSWORD_MAX_BYTES {
            return Err(format!(
                "Passwords can be at most {PASSWORD_MAX_BYTES} bytes long (this one is {} bytes).",
                raw.len()
            ));
        }
        if raw.chars().count() < PASSWORD_MIN_CHARS {
            return Err(format!(
                "Passwords need at least {PASSWORD_MIN_CHARS} characters."
            ));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A message body: not blank, at most the configured number of characters,
/// no control characters other than tab and line breaks. (Search marks its
/// matches with control characters before escaping a snippet, so they must
/// not occur in bodies; nor do they belong in chat text.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Err("Write something first: the message is empty.".into());
        }
        let chars = raw.chars().count();
        if chars > max_chars {
            return Err(format!(
                "Messages are at most {max_chars} characters long (this one has {chars})."
            ));
        }
        if let Some(c) = raw
            .chars()
            .find(|c| c.is_ascii_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(format!(
                "Messages may not contain control characters (found U+{:04X}).",
                u32::from(c)
            ));
        }
        Ok(MessageBody(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// One emoji, as a reaction: a single known emoji (with any skin-tone or
/// gender variant), checked against the Unicode emoji list by the `emojis`
/// crate, so reactions can't carry arbitrary text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji(String);

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match emojis::get(raw) {
            Some(_) => Ok(Emoji(raw.to_string())),
            None => Err("Reactions must be a single emoji.".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A client's idempotency key for a message: 1-64 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > CLIENT_ID_MAX_CHARS {
            return Err(format!(
                "client_id must be 1 to {CLIENT_ID_MAX_CHARS} characters."
            ));
        }
        if !raw.chars().all(|c| c.is_ascii_graphic()) {
            return Err("client_id may only contain printable ASCII characters.".into());
        }
        Ok(ClientId(raw.to_string()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_accept_the_allowed_alphabet_up_to_32_chars() {
        assert!(Username::parse("a").is_ok());
        assert!(Username::parse("Alice_B-c.9").is_ok());
        assert!(Username::parse(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn usernames_refuse_empty_long_and_odd_characters() {
        assert!(Username::parse("").is_err());
        assert!(Username::parse(&"x".repeat(33)).is_err());
        for bad in ["a b", "<script>", "al/ice", "émile", "a\0", "tab\t"] {
            assert!(Username::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn username_keys_ignore_case() {
        assert_eq!(Username::parse("Alice").unwrap().key(), "alice");
    }

    #[test]
    fn room_names_allow_any_script_but_no_markup() {
        assert!(RoomName::parse("café-talk").is_ok());
        assert!(RoomName::parse(&"r".repeat(64)).is_ok());
        assert!(RoomName::parse(&"r".repeat(65)).is_err());
        assert!(RoomName::parse("").is_err());
        for bad in ["<b>x</b>", "a/b", "two words", "..?"] {
            assert!(RoomName::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(RoomName::parse("Café").unwrap().key(), "café");
    }

    #[test]
    fn passwords_are_8_chars_to_72_bytes_and_never_trimmed() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert_eq!(
            Password::parse("  spaced  ").unwrap().expose(),
            "  spaced  "
        );
        assert!(Password::parse(&"p".repeat(72)).is_ok());
        let err = Password::parse(&"p".repeat(73)).unwrap_err();
        assert!(err.contains("72 bytes"), "{err}");
        // 8 characters but 24 bytes: counted in characters for the minimum.
        assert!(Password::parse("ééééééé€").is_ok());
        // 25 four-byte characters: 100 bytes, refused.
        assert!(Password::parse(&"😀".repeat(25)).is_err());
    }

    #[test]
    fn message_bodies_must_have_content_and_respect_the_limit() {
        assert!(MessageBody::parse("   \n", 10).is_err());
        assert!(MessageBody::parse("hello", 5).is_ok());
        assert!(MessageBody::parse("hello!", 5).is_err());
        assert_eq!(MessageBody::parse(" hi ", 10).unwrap().as_str(), " hi ");
    }

    #[test]
    fn message_bodies_refuse_control_characters_but_keep_tabs_and_line_breaks() {
        assert!(MessageBody::parse("a\tb\r\nc\n", 10).is_ok());
        for c in ['\u{0}', '\u{2}', '\u{3}', '\u{1b}', '\u{7f}'] {
            let err = MessageBody::parse(&format!("hi{c}"), 10).unwrap_err();
            assert!(err.contains("control characters"), "{err}");
        }
        assert_eq!(
            MessageBody::parse("x\u{3}", 10).unwrap_err(),
            "Messages may not contain control characters (found U+0003)."
        );
    }

    #[test]
    fn client_ids_are_short_printable_ascii() {
        assert!(ClientId::parse("c-1").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("has space").is_err());
        assert!(ClientId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn a_reaction_is_one_known_emoji() {
        for ok in ["👍", "❤️", "🎉", "👍🏽", "🇫🇷"] {
            assert!(Emoji::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "x", "👍👍", "👍 ", ":+1:", "<b>", "ok👍"] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
    }
}
