//! The frames of Palaver's protocol (docs/protocol.md) that the load tool
//! sends and reads, and how a close frame is named in the report.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// Client → server frames (see docs/protocol.md).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outgoing<'a> {
    Join {
        room: &'a str,
    },
    Send {
        room: &'a str,
        body: &'a str,
        client_id: &'a str,
    },
}

impl Outgoing<'_> {
    pub fn to_message(&self) -> Message {
        // Serialising plain strings cannot fail.
        Message::text(serde_json::to_string(self).unwrap_or_default())
    }
}

/// The few fields of a server frame the tool reads. A flat struct rather than
/// the tagged enum, so a delivery is one pass over borrowed text with nothing
/// buffered: the tool shares the machine with the server it measures.
#[derive(Deserialize)]
pub struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub body: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub client_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub code: Option<Cow<'a, str>>,
}

impl<'a> Incoming<'a> {
    /// Reads a server frame. The two kinds that are nearly all of the traffic,
    /// `message` and `ack`, are recognised by their opening (the server writes
    /// the tag first) and only the field the tool reads of them (a message's
    /// `body`, an ack's `client_id`: the stamp) is sliced out, with no JSON
    /// parse: the tool runs on the machine it measures, and a full parse of
    /// every delivery was a tenth of its CPU. Anything else, or a frame that
    /// does not look as expected, is parsed in full.
    pub fn read(text: &'a str) -> serde_json::Result<Self> {
        if let Some(body) = Self::field_after(text, r#"{"type":"message","#, r#","body":""#) {
            return Ok(Incoming::quick("message", Some(body), None));
        }
        if let Some(id) = Self::field_after(text, r#"{"type":"ack","#, r#""client_id":""#) {
            return Ok(Incoming::quick("ack", None, Some(id)));
        }
        serde_json::from_str(text)
    }

    /// The string value that follows `key` in a frame that starts with
    /// `opening`, when it has no escapes (a stamp never has: see `Stamp`).
    /// `key` starts with a quote that JSON cannot leave unescaped inside a
    /// string, so it is found only as a real key; a frame's first `body`
    /// is its own (quotes and attachments come after it).
    fn field_after(text: &'a str, opening: &str, key: &str) -> Option<&'a str> {
        let rest = text.strip_prefix(opening)?;
        let value = &rest[rest.find(key)? + key.len()..];
        let end = value.find(['"', '\\'])?;
        (value.as_bytes()[end] == b'"').then(|| &value[..end])
    }

    fn quick(kind: &'static str, body: Option<&'a str>, client_id: Option<&'a str>) -> Self {
        Incoming {
            kind: Cow::Borrowed(kind),
            body: body.map(Cow::Borrowed),
            client_id: client_id.map(Cow::Borrowed),
            code: None,
        }
    }
}

/// A close frame as the report shows it: "close 1008: too far behind: resume".
pub fn describe_close(frame: Option<CloseFrame>) -> String {
    match frame {
        Some(f) if f.reason.is_empty() => format!("close {}", u16::from(f.code)),
        Some(f) => format!("close {}: {}", u16::from(f.code), f.reason.as_str()),
        None => "close (no code)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_without_caring_about_field_order() -> anyhow::Result<()> {
        let msg: Incoming = serde_json::from_str(
            r#"{"type":"message","id":1,"room":"r","seq":3,"user":"u","body":"lt:1:0:1:5","ts":"x","client_id":"lt-1-0-1-5"}"#,
        )?;
        assert_eq!(
            (msg.kind.as_ref(), msg.body.as_deref()),
            ("message", Some("lt:1:0:1:5"))
        );
        let err: Incoming = serde_json::from_str(
            r#"{"code":"rate_limited","message":"slow down","type":"error"}"#,
        )?;
        assert_eq!(
            (err.kind.as_ref(), err.code.as_deref()),
            ("error", Some("rate_limited"))
        );
        let history: Incoming = serde_json::from_str(
            r#"{"type":"history","room":"r","messages":[{"body":"lt:1:0:1:5"}],"has_more":false}"#,
        )?;
        assert_eq!(history.body, None);
        Ok(())
    }

    /// A `message` frame as the server writes it.
    fn message_frame(room: &str, body: &str, reply: Option<&str>) -> String {
        use palaver::chat::protocol::{MessageObject, ReplyPreview, ServerFrame};
        let object = MessageObject {
            id: 7,
            room: room.into(),
            seq: 3,
            user: "lt-user.1".into(),
            body: body.into(),
            ts: "2026-11-23T23:25:56.123Z".into(),
            client_id: Some("lt-1-0-1-5".into()),
            attachment: None,
            html: String::new(),
            edited: None,
            deleted: false,
            reactions: Vec::new(),
            reply_to: reply.map(|_| 6),
            reply: reply.map(|excerpt| ReplyPreview {
                id: 6,
                seq: 2,
                user: "u".into(),
                excerpt: excerpt.into(),
                deleted: false,
            }),
            mentions: Vec::new(),
        };
        ServerFrame::Message(Box::new(object)).to_text().to_string()
    }

    fn fields(frame: &Incoming) -> (String, Option<String>, Option<String>) {
        (
            frame.kind.to_string(),
            frame.body.as_deref().map(str::to_string),
            frame.client_id.as_deref().map(str::to_string),
        )
    }

    #[test]
    fn the_quick_reading_of_server_frames_agrees_with_a_full_parse() -> anyhow::Result<()> {
        use palaver::chat::protocol::ServerFrame;
        let ack = ServerFrame::Ack {
            client_id: "lt-1-0-1-5".into(),
            id: 7,
            room: "load-0".into(),
            seq: 3,
        }
        .to_text()
        .to_string();
        let frames = [
            message_frame("load-0", "lt:1:0:1:5", None),
            message_frame("load-0", "lt:1:0:1:5 xxxx", Some("lt:9:9:9:9")),
            message_frame(r#"a","body":"lt:2:0:0:0"#, "hello", None),
            message_frame("r", r#"say "lt:1:0:1:5""#, None),
            message_frame("r", r"back\slash", None),
            message_frame("r", "", Some("lt:9:9:9:9")),
            ack,
            ServerFrame::error("rate_limited", "slow down")
                .to_text()
                .to_string(),
        ];
        for text in &frames {
            let full: Incoming = serde_json::from_str(text)?;
            let quick = Incoming::read(text)?;
            // What the tool reads of each kind must agree; cut at an escape,
            // the quick body is a prefix, never a stamp.
            let (kind, body, id) = fields(&quick);
            let want = fields(&full);
            assert_eq!(kind, want.0, "{text}");
            if kind != "message" {
                assert_eq!(id, want.2, "{text}");
            }
            match (&body, &want.1) {
                (Some(quick), Some(full)) if quick != full => {
                    assert!(full.starts_with(quick.as_str()), "{text}");
                    assert_eq!(
                        super::super::stamp::Stamp::parse_body(quick),
                        None,
                        "{text}"
                    );
                }
                _ => assert_eq!(body, want.1, "{text}"),
            }
        }
        Ok(())
    }

    #[test]
    fn outgoing_frames_follow_the_protocol() {
        let join = Outgoing::Join { room: "load-0" }.to_message();
        assert_eq!(
            join.to_text().ok(),
            Some(r#"{"type":"join","room":"load-0"}"#)
        );
    }
}
