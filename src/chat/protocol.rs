//! The WebSocket protocol (SPEC §6) as types: every frame a client may send
//! is a variant of [`ClientFrame`], every frame the server sends a variant of
//! [`ServerFrame`]. JSON text frames, tagged by `"type"`. The same
//! [`MessageObject`] is used by live frames, `history` and the JSON API.
//! docs/protocol.md shows one example of each frame.

use serde::{Deserialize, Serialize};

use crate::db::messages::MessageView;
use crate::db::models::Upload;

/// Largest `limit` a `history` request may ask for.
pub const HISTORY_MAX_LIMIT: i64 = 200;
/// Messages a `history` request returns when it names no `limit`.
pub const HISTORY_DEFAULT_LIMIT: i64 = 50;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Start receiving a room's events: the latest messages come back as a
    /// `history` frame, then every new event, live.
    Join { room: String },
    /// Stop receiving a room's events.
    Leave { room: String },
    /// Post a message. `client_id` makes a resend harmless.
    Send {
        room: String,
        body: String,
        client_id: String,
        #[serde(default)]
        reply_to: Option<i64>,
    },
    /// "I am typing in this room" (relayed, not stored).
    Typing { room: String },
    /// Older messages: those with `seq < before` (or the latest), newest
    /// `limit`, oldest first.
    History {
        room: String,
        #[serde(default)]
        before: Option<i64>,
        #[serde(default)]
        limit: Option<i64>,
    },
    /// Join (if needed) and receive every event with `seq > after`, then
    /// live events, with no gap and no duplicate between them.
    Resume { room: String, after: i64 },
    /// Replace the body of one's own message (admins: any message).
    Edit { id: i64, body: String },
    /// Delete one's own message (admins: any message): it becomes a
    /// tombstone and its text is gone.
    Delete { id: i64 },
    /// Add an emoji reaction to a message (once per user per emoji).
    React { id: i64, emoji: String },
    /// Take one's reaction back.
    Unreact { id: i64, emoji: String },
    /// "I have read `room` up to `seq`": clears its unread count in every
    /// tab of this user.
    Read { room: String, seq: i64 },
}

/// A message as every transport shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageObject {
    pub id: i64,
    pub room: String,
    pub seq: i64,
    pub user: String,
    pub body: String,
    /// RFC 3339, UTC, milliseconds.
    pub ts: String,
    pub client_id: Option<String>,
    /// The uploaded file this message carries (its body is the caption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// The body rendered as markdown-lite: sanitised HTML (see
    /// `crate::markdown`), the same for the page and the live client.
    /// Left out (empty) when the body is plain text with nothing to render:
    /// clients show the body itself.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub html: String,
    /// When the body was last edited (RFC 3339), or null.
    #[serde(default)]
    pub edited: Option<String>,
    /// A tombstone: the body (and html) are empty.
    #[serde(default)]
    pub deleted: bool,
    /// Reactions, in the order each emoji was first used.
    #[serde(default)]
    pub reactions: Vec<ReactionCount>,
    /// The id of the message this one replies to, or null.
    #[serde(default)]
    pub reply_to: Option<i64>,
    /// An excerpt of the message replied to, for the quote above this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyPreview>,
    /// Names of the users this message mentions (`@name`), as they are
    /// spelled in their accounts.
    #[serde(default)]
    pub mentions: Vec<String>,
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: usize,
    /// Who reacted, in the order they did.
    pub users: Vec<String>,
}

/// The message a reply quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPreview {
    pub id: i64,
    pub seq: i64,
    pub user: String,
    /// The start of its body (plain text), empty once it is deleted.
    pub excerpt: String,
    pub deleted: bool,
}

/// A message was edited: `message` is its new current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditedEvent {
    pub room: String,
    pub seq: i64,
    pub id: i64,
    pub message: MessageObject,
}

/// A message was deleted; it is now a tombstone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedEvent {
    pub room: String,
    pub seq: i64,
    pub id: i64,
}

/// `user` added (or, with `added: false`, removed) `emoji` on message `id`;
/// `reactions` is that message's full current list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionEvent {
    pub room: String,
    pub seq: i64,
    pub id: i64,
    pub emoji: String,
    pub user: String,
    pub added: bool,
    pub reactions: Vec<ReactionCount>,
}

/// A stored room event other than a new message, as `history` lists it;
/// the same objects as the live frames of the same `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomEventFrame {
    MessageEdited(Box<EditedEvent>),
    MessageDeleted(DeletedEvent),
    Reaction(ReactionEvent),
}

impl RoomEventFrame {
    pub fn seq(&self) -> i64 {
        match self {
            RoomEventFrame::MessageEdited(e) => e.seq,
            RoomEventFrame::MessageDeleted(e) => e.seq,
            RoomEventFrame::Reaction(e) => e.seq,
        }
    }

    /// The live frame of this event.
    pub fn into_frame(self) -> ServerFrame {
        match self {
            RoomEventFrame::MessageEdited(e) => ServerFrame::MessageEdited(e),
            RoomEventFrame::MessageDeleted(e) => ServerFrame::MessageDeleted(e),
            RoomEventFrame::Reaction(e) => ServerFrame::Reaction(e),
        }
    }
}

/// An uploaded file as messages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: i64,
    /// `image`, `audio`, `video`, `pdf` or `text`.
    pub kind: String,
    pub mime: String,
    pub size: i64,
    /// The sanitised original filename, for display only.
    pub name: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub url: String,
    /// A small JPEG for images.
    pub thumb_url: Option<String>,
}

impl From<&Upload> for Attachment {
    fn from(upload: &Upload) -> Self {
        Attachment {
            id: i64::from(upload.id),
            kind: upload.kind.clone(),
            mime: upload.mime.clone(),
            size: upload.size,
            name: upload.original_name.clone(),
            width: upload.width,
            height: upload.height,
            url: format!("/uploads/{}", upload.id),
            thumb_url: (upload.kind == "image").then(|| format!("/uploads/{}/thumb", upload.id)),
        }
    }
}

impl MessageObject {
    /// A stored message in its current state. The body is rendered once
    /// here (markdown-lite), so every transport shows the same HTML.
    pub fn from_view(room: &str, view: &MessageView) -> Self {
        let m = &view.message;
        let deleted = m.deleted_at.is_some();
        MessageObject {
            id: i64::from(m.id),
            room: room.to_string(),
            seq: m.seq,
            user: view.user_name.clone(),
            body: m.body.clone(),
            ts: rfc3339(m.created_at),
            client_id: m.client_id.clone(),
            attachment: if deleted {
                None
            } else {
                view.upload.as_ref().map(Attachment::from)
            },
            html: if deleted || !crate::markdown::needs_html(&m.body) {
                String::new()
            } else {
                crate::markdown::render(&m.body, &view.mentions)
            },
            edited: m.edited_at.map(rfc3339),
            deleted,
            reactions: view.reactions.clone(),
            reply_to: m.reply_to.map(i64::from),
            reply: view.reply.clone(),
            mentions: view.mentions.clone(),
        }
    }
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A room as the room list shows it to one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub name: String,
    pub message_count: i64,
    pub online: usize,
    /// `public` or `dm`.
    #[serde(default = "public_kind")]
    pub kind: String,
    /// A DM's members (the caller included), sorted; empty for public rooms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// Messages from others after the caller's read marker (0 for rooms the
    /// caller has never opened).
    #[serde(default)]
    pub unread: i64,
    /// How many of those mention the caller.
    #[serde(default)]
    pub mentions: i64,
}

fn public_kind() -> String {
    "public".to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// A new message in a room the client has joined.
    Message(Box<MessageObject>),
    /// The client's `send` is stored: its `client_id` is now message `id`.
    Ack {
        client_id: String,
        id: i64,
        room: String,
        seq: i64,
    },
    /// A batch of stored messages, oldest first, in their current state.
    /// After `join`/`resume`, `has_more` says another page follows; after
    /// `history`, that older messages exist. After `resume`, `events` holds
    /// the other events (edits, deletions, reactions) of the same range,
    /// and `last_seq` is where the client's cursor now stands.
    History {
        room: String,
        messages: Vec<MessageObject>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        events: Vec<RoomEventFrame>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<i64>,
        has_more: bool,
    },
    /// A message was edited.
    MessageEdited(Box<EditedEvent>),
    /// A message was deleted.
    MessageDeleted(DeletedEvent),
    /// A reaction was added or removed.
    Reaction(ReactionEvent),
    /// The caller's unread count in a room changed (a new message, or the
    /// room was read in another tab).
    Unread {
        room: String,
        count: i64,
        mentions: i64,
    },
    /// Who is online in a room (sorted, each name once).
    Presence {
        room: String,
        /// Present users by name, at most `presence::PRESENCE_LIST_MAX`.
        users: Vec<String>,
        /// How many users are present in all.
        count: usize,
    },
    /// The caller's room list (public rooms and their DMs), sent on connect
    /// and whenever a room is created.
    Rooms { rooms: Vec<RoomInfo> },
    /// `user` is typing in `room`.
    Typing { room: String, user: String },
    /// A request failed; the connection stays usable. `client_id` is set
    /// when the failed request was a `send`.
    Error {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
}

impl ServerFrame {
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        ServerFrame::Error {
            code: code.to_string(),
            message: message.into(),
            client_id: None,
        }
    }

    /// Serialize once; the text is then shared by every recipient.
    pub fn to_text(&self) -> bytestring::ByteString {
        serde_json::to_string(self)
            .unwrap_or_else(|err| {
                format!(
                    r#"{{"type":"error","code":"internal","message":"could not encode a frame: {err}"}}"#
                )
            })
            .into()
    }
}

/// Why a text frame is not a valid [`ClientFrame`], as an `error` frame code
/// and message.
pub fn decode(text: &str) -> Result<ClientFrame, (&'static str, String)> {
    serde_json::from_str(text).map_err(|err| {
        use serde_json::error::Category;
        match err.classify() {
            Category::Syntax | Category::Eof => ("invalid_json", format!("not valid JSON: {err}")),
            Category::Data if err.to_string().starts_with("unknown variant") => {
                ("unknown_type", format!("unknown frame type: {err}"))
            }
            _ => ("invalid_frame", format!("invalid frame: {err}")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_frame_decodes() {
        let cases = [
            (
                r#"{"type":"join","room":"a"}"#,
                ClientFrame::Join { room: "a".into() },
            ),
            (
                r#"{"type":"leave","room":"a"}"#,
                ClientFrame::Leave { room: "a".into() },
            ),
            (
                r#"{"type":"send","room":"a","body":"hi","client_id":"c1"}"#,
                ClientFrame::Send {
                    room: "a".into(),
                    body: "hi".into(),
                    client_id: "c1".into(),
                    reply_to: None,
                },
            ),
            (
                r#"{"type":"typing","room":"a"}"#,
                ClientFrame::Typing { room: "a".into() },
            ),
            (
                r#"{"type":"history","room":"a","before":10,"limit":5}"#,
                ClientFrame::History {
                    room: "a".into(),
                    before: Some(10),
                    limit: Some(5),
                },
            ),
            (
                r#"{"type":"resume","room":"a","after":7}"#,
                ClientFrame::Resume {
                    room: "a".into(),
                    after: 7,
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(decode(text).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn bad_frames_are_classified() {
        assert_eq!(decode("not json").unwrap_err().0, "invalid_json");
        assert_eq!(decode(r#"{"type":"join""#).unwrap_err().0, "invalid_json");
        assert_eq!(
            decode(r#"{"type":"dance","room":"a"}"#).unwrap_err().0,
            "unknown_type"
        );
        assert_eq!(decode(r#"{"type":"join"}"#).unwrap_err().0, "invalid_frame");
        assert_eq!(decode(r#"{"room":"a"}"#).unwrap_err().0, "invalid_frame");
        assert_eq!(
            decode(r#"{"type":"join","room":5}"#).unwrap_err().0,
            "invalid_frame"
        );
        assert_eq!(
            decode(r#"{"type":"resume","room":"a","after":"x"}"#)
                .unwrap_err()
                .0,
            "invalid_frame"
        );
        assert_eq!(decode("[1,2]").unwrap_err().0, "invalid_frame");
    }

    #[test]
    fn server_frames_are_tagged_snake_case() {
        let ack = ServerFrame::Ack {
            client_id: "c".into(),
            id: 1,
            room: "a".into(),
            seq: 2,
        };
        assert_eq!(
            ack.to_text().to_string(),
            r#"{"type":"ack","client_id":"c","id":1,"room":"a","seq":2}"#
        );
        let err = ServerFrame::error("rate_limited", "slow down").to_text();
        assert_eq!(
            err.to_string(),
            r#"{"type":"error","code":"rate_limited","message":"slow down"}"#
        );
    }
}
