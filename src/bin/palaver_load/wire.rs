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

    #[test]
    fn outgoing_frames_follow_the_protocol() {
        let join = Outgoing::Join { room: "load-0" }.to_message();
        assert_eq!(
            join.to_text().ok(),
            Some(r#"{"type":"join","room":"load-0"}"#)
        );
    }
}
