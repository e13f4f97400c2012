//! A room's stored event stream as frames: what `join`, `resume`,
//! `history` and the JSON API's `after` cursor send. Every stored event
//! is shown in its current state, so replaying a page is idempotent.

use super::protocol::{
    DeletedEvent, EditedEvent, MessageObject, ReactionEvent, RoomEventFrame, ServerFrame,
};
use crate::db::messages::{MessageView, StreamPage};

/// The non-message events of a page, as frames, in seq order. An event
/// about a message that no longer exists is skipped.
pub fn event_frames(room: &str, page: &StreamPage) -> Vec<RoomEventFrame> {
    page.events
        .iter()
        .filter_map(|(event, actor)| {
            let id = i64::from(event.message_id);
            let subject = page.subjects.get(&event.message_id);
            let frame = match event.kind.as_str() {
                "edit" => RoomEventFrame::MessageEdited(Box::new(EditedEvent {
                    room: room.to_string(),
                    seq: event.seq,
                    id,
                    message: MessageObject::from_view(room, subject?),
                })),
                "delete" => RoomEventFrame::MessageDeleted(DeletedEvent {
                    room: room.to_string(),
                    seq: event.seq,
                    id,
                }),
                kind @ ("react" | "unreact") => RoomEventFrame::Reaction(ReactionEvent {
                    room: room.to_string(),
                    seq: event.seq,
                    id,
                    emoji: event.emoji.clone().unwrap_or_default(),
                    user: actor.clone(),
                    added: kind == "react",
                    reactions: subject.map(|s| s.reactions.clone()).unwrap_or_default(),
                }),
                other => {
                    tracing::warn!(kind = other, seq = event.seq, "unknown stored event kind");
                    return None;
                }
            };
            Some(frame)
        })
        .collect()
}

/// The messages of a page as message objects.
pub fn message_objects(room: &str, messages: &[MessageView]) -> Vec<MessageObject> {
    messages
        .iter()
        .map(|view| MessageObject::from_view(room, view))
        .collect()
}

/// A `history` frame for a page. `cursor`: the page moves the reader's
/// cursor (join, resume), so it carries `last_seq`; paging back does not.
pub fn history_frame(room: &str, page: &StreamPage, cursor: bool) -> ServerFrame {
    ServerFrame::History {
        room: room.to_string(),
        messages: message_objects(room, &page.messages),
        events: event_frames(room, page),
        last_seq: cursor.then_some(page.last_seq),
        has_more: page.has_more,
    }
}
