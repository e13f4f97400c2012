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
    pub fn from_view(room: &str, view: MessageView) -> Self {
        let m = view.message;
        MessageObject {
            id: i64::from(m.id),
            room: room.to_string(),
            seq: m.seq,
            user: view.user_name,
            body: m.body,
            ts: rfc3339(m.created_at),
            client_id: m.client_id,
            attachment: view.upload.as_ref().map(Attachment::from),
        }
    }
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub name: String,
    pub message_count: i64,
    pub online: usize,
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
    /// A batch of stored messages, oldest first. After `join`/`resume`,
    /// `has_more` says another page follows; after `history`, that older
    /// messages exist.
    History {
        room: String,
        messages: Vec<MessageObject>,
        has_more: bool,
    },
    /// Who is online in a room (sorted, each name once).
    Presence { room: String, users: Vec<String> },
    /// The room list, sent on connect and whenever a room is created.
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
