//! What the bench files share: a typical chat line as a `MessageObject`.
//! The only place the benches build one, so a change to its fields
//! touches one function.

use palaver::chat::protocol::MessageObject;

pub fn message(room: &str, id: i64, seq: i64) -> MessageObject {
    MessageObject {
        id,
        room: room.into(),
        seq,
        user: "alice".into(),
        body: "Hello everyone, the build is green again".into(),
        ts: "2026-11-23T18:00:00.000Z".into(),
        client_id: Some(format!("c-1732384800000-{seq}")),
        attachment: None,
        // Plain text: the wire leaves `html` out (see `markdown::needs_html`).
        html: String::new(),
        edited: None,
        deleted: false,
        reactions: Vec::new(),
        reply_to: None,
        reply: None,
        mentions: Vec::new(),
    }
}
