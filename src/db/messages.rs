//! Queries on `messages` and the stream events about them (`room_events`).
//! Inserts and changes happen only in the writer (`db::writer`), which owns
//! sequence numbers.
//!
//! Reads return [`MessageView`]s: a message in its current state, with its
//! sender's name, attachment, reactions, the message it replies to and the
//! users it mentions — everything a page or a frame shows.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sqlite::Sqlite;

use super::models::{Message, NewMessage, NewRoomEvent, RoomEventRow, Upload};
use super::schema::{mentions, messages, reactions, room_events, rooms, uploads, users};
use super::Conn;
use crate::chat::protocol::{ReactionCount, ReplyPreview};

/// Characters of the quoted message a reply shows.
const REPLY_EXCERPT_CHARS: usize = 140;

/// A message as pages and frames show it, in its current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    pub message: Message,
    pub user_name: String,
    pub upload: Option<Upload>,
    pub reactions: Vec<ReactionCount>,
    pub reply: Option<ReplyPreview>,
    /// Names of the mentioned users.
    pub mentions: Vec<String>,
}

type Row = (Message, String, Option<Upload>);

/// Messages joined with their sender's name and attachment, as [`Row`]s.
/// (A macro because Diesel's joined-select types are unwieldy to name.)
macro_rules! rows {
    () => {
        messages::table
            .inner_join(users::table)
            .left_join(uploads::table)
            .select((
                Message::as_select(),
                users::name,
                uploads::all_columns.nullable(),
            ))
    };
}

/// The newest `limit` messages of a room, oldest first.
pub fn latest(conn: &mut Conn, room_id: i32, limit: i64) -> QueryResult<Vec<MessageView>> {
    before(conn, room_id, None, limit)
}

/// Messages with `after < seq <= up_to`, oldest first, at most `limit`.
pub fn after(
    conn: &mut Conn,
    room_id: i32,
    after: i64,
    up_to: i64,
    limit: i64,
) -> QueryResult<Vec<MessageView>> {
    let found: Vec<Row> = rows!()
        .filter(messages::room_id.eq(room_id))
        .filter(messages::seq.gt(after))
        .filter(messages::seq.le(up_to))
        .order(messages::seq.asc())
        .limit(limit)
        .load(conn)?;
    views(conn, found)
}

/// The newest `limit` messages with `seq < before` (all, without
/// `before`), oldest first.
pub fn before(
    conn: &mut Conn,
    room_id: i32,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<MessageView>> {
    let mut query = rows!().filter(messages::room_id.eq(room_id)).into_boxed();
    if let Some(before) = before {
        query = query.filter(messages::seq.lt(before));
    }
    let mut found: Vec<Row> = query.order(messages::seq.desc()).limit(limit).load(conn)?;
    found.reverse();
    views(conn, found)
}

/// One message by id, in its current state.
pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<MessageView>> {
    let found: Vec<Row> = rows!().filter(messages::id.eq(id)).load(conn)?;
    Ok(views(conn, found)?.pop())
}

/// One message row by id.
pub fn find_row(conn: &mut Conn, id: i32) -> QueryResult<Option<Message>> {
    messages::table
        .find(id)
        .select(Message::as_select())
        .first(conn)
        .optional()
}

/// Add reactions, reply previews and mentions to bare rows (three queries
/// for the whole page, not three per message).
fn views(conn: &mut Conn, rows: Vec<Row>) -> QueryResult<Vec<MessageView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = rows.iter().map(|(m, _, _)| m.id).collect();
    let mut reactions = reaction_counts(conn, &ids)?;
    let mut mentioned = mention_names(conn, &ids)?;
    let reply_ids: Vec<i32> = rows.iter().filter_map(|(m, _, _)| m.reply_to).collect();
    let replies = reply_previews(conn, &reply_ids)?;
    Ok(rows
        .into_iter()
        .map(|(message, user_name, upload)| MessageView {
            reactions: reactions.remove(&message.id).unwrap_or_default(),
            mentions: mentioned.remove(&message.id).unwrap_or_default(),
            reply: message.reply_to.and_then(|id| replies.get(&id).cloned()),
            message,
            user_name,
            upload,
        })
        .collect())
}

/// Reactions per message: each emoji with its users, in the order the
/// emoji (and each user) first reacted.
pub fn reaction_counts(
    conn: &mut Conn,
    message_ids: &[i32],
) -> QueryResult<HashMap<i32, Vec<ReactionCount>>> {
    let found: Vec<(i32, String, String)> = reactions::table
        .inner_join(users::table)
        .filter(reactions::message_id.eq_any(message_ids))
        .order((reactions::created_at.asc(), reactions::user_id.asc()))
        .select((reactions::message_id, reactions::emoji, users::name))
        .load(conn)?;
    let mut out: HashMap<i32, Vec<ReactionCount>> = HashMap::new();
    for (message_id, emoji, user) in found {
        let list = out.entry(message_id).or_default();
        match list.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => {
                r.count += 1;
                r.users.push(user);
            }
            None => list.push(ReactionCount {
                emoji,
                count: 1,
                users: vec![user],
            }),
        }
    }
    Ok(out)
}

fn mention_names(conn: &mut Conn, message_ids: &[i32]) -> QueryResult<HashMap<i32, Vec<String>>> {
    let found: Vec<(i32, String)> = mentions::table
        .inner_join(users::table)
        .filter(mentions::message_id.eq_any(message_ids))
        .order(users::name_key.asc())
        .select((mentions::message_id, users::name))
        .load(conn)?;
    let mut out: HashMap<i32, Vec<String>> = HashMap::new();
    for (message_id, name) in found {
        out.entry(message_id).or_default().push(name);
    }
    Ok(out)
}

fn reply_previews(conn: &mut Conn, ids: &[i32]) -> QueryResult<HashMap<i32, ReplyPreview>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found: Vec<(i32, i64, String, String, Option<i64>)> = messages::table
        .inner_join(users::table)
        .filter(messages::id.eq_any(ids))
        .select((
            messages::id,
            messages::seq,
            users::name,
            messages::body,
            messages::deleted_at,
        ))
        .load(conn)?;
    Ok(found
        .into_iter()
        .map(|(id, seq, user, body, deleted_at)| {
            (id, reply_preview(id, seq, user, &body, deleted_at))
        })
        .collect())
}

/// The message a user already sent with this idempotency key, if any.
///
/// `(user_id, client_id)` is UNIQUE, so no `LIMIT`: `.first()` would bind
/// `LIMIT ?`, and SQLite marks a statement with a bound LIMIT for
/// re-preparation whenever that parameter is rebound, so the writer parsed
/// and planned this query again for every message it stored.
pub fn find_by_client_id(
    conn: &mut Conn,
    user_id: i32,
    client_id: &str,
) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::user_id.eq(user_id))
        .filter(messages::client_id.eq(client_id))
        .select(Message::as_select())
        .get_result(conn)
        .optional()
}

/// A room's last handed-out sequence number.
pub fn last_seq(conn: &mut Conn, room_id: i32) -> QueryResult<i64> {
    // `get_result`, not `first`: a bound LIMIT makes SQLite re-prepare the
    // statement on every call.
    rooms::table
        .filter(rooms::id.eq(room_id))
        .select(rooms::last_seq)
        .get_result(conn)
}

/// Record a room's last handed-out sequence number. Only the writer calls
/// this, inside the transaction that stored those events, so numbers never
/// have gaps.
pub fn set_last_seq(conn: &mut Conn, room_id: i32, seq: i64) -> QueryResult<()> {
    diesel::update(rooms::table.find(room_id))
        .set(rooms::last_seq.eq(seq))
        .execute(conn)
        .map(drop)
}

/// The search index, as the writer feeds it. Searching reads it with
/// `sql_query` (`db::search`); `diesel print-schema` leaves it out.
mod fts {
    diesel::table! {
        messages_fts (rowid) {
            rowid -> Integer,
            body -> Text,
        }
    }
}

/// Index for search every message with `id >= first_id`: the messages the
/// writer stored since `first_id` (ids only grow, and only the writer
/// inserts). One statement for a batch's run of new messages, because FTS5
/// writes out its pending terms as a new segment at every statement
/// savepoint (migration `2026-11-23-000004_search_index_per_batch`). Must
/// run before any edit or deletion of those messages, whose triggers tell
/// the index what to forget.
pub fn index_new(conn: &mut Conn, first_id: i32) -> QueryResult<()> {
    diesel::insert_into(fts::messages_fts::table)
        .values(
            messages::table
                .filter(messages::id.ge(first_id))
                .select((messages::id, messages::body)),
        )
        .into_columns((fts::messages_fts::rowid, fts::messages_fts::body))
        .execute(conn)
        .map(drop)
}

/// The highest message id given out so far (0 for none).
pub fn last_id(conn: &mut Conn) -> QueryResult<i32> {
    messages::table
        .select(diesel::dsl::max(messages::id))
        .get_result::<Option<i32>>(conn)
        .map(Option::unwrap_or_default)
}

/// Store a new message under the id and seq the writer handed out. False
/// when nothing was stored because its sender already stored a message
/// with this `client_id` (a resend). Not searchable until [`index_new`].
pub fn insert(conn: &mut Conn, new: &NewMessage<'_>) -> QueryResult<bool> {
    InsertMessage(new).execute(conn).map(|n| n == 1)
}

/// `INSERT OR IGNORE INTO messages (…) VALUES (?, …)`: one row, as a
/// statement Diesel keeps prepared (cached by this type).
///
/// Written out because Diesel's own single-row insert is cached by its SQL
/// text, which it builds and hashes on every call (optional columns may
/// change it) — more work than SQLite's on the row. `VALUES`, not
/// `SELECT ?, …`: an INSERT from a SELECT may write many rows, so SQLite
/// gives it a statement journal (every touched page copied) for the
/// foreign-key checks. No `RETURNING`: the writer knows every column, and
/// SQLite collects returned rows in a temporary table.
struct InsertMessage<'a>(&'a NewMessage<'a>);

impl QueryId for InsertMessage<'_> {
    type QueryId = InsertMessage<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Sqlite> for InsertMessage<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Integer, Nullable, Text};
        let new = self.0;
        out.push_sql(
            "INSERT OR IGNORE INTO messages \
             (id, room_id, seq, user_id, body, created_at, client_id, upload_id, reply_to) \
             VALUES (",
        );
        out.push_bind_param::<Integer, _>(&new.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&new.room_id)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&new.seq)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&new.user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&new.body)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&new.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&new.client_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Integer>, _>(&new.upload_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Integer>, _>(&new.reply_to)?;
        out.push_sql(")");
        Ok(())
    }
}

impl RunQueryDsl<Conn> for InsertMessage<'_> {}

/// Replace a message's body (writer only).
pub fn set_body(conn: &mut Conn, id: i32, body: &str, edited_at: i64) -> QueryResult<()> {
    diesel::update(messages::table.find(id))
        .set((messages::body.eq(body), messages::edited_at.eq(edited_at)))
        .execute(conn)
        .map(drop)
}

/// Make a message a tombstone: its text, mentions and reactions are gone
/// (writer only).
pub fn tombstone(conn: &mut Conn, id: i32, deleted_at: i64) -> QueryResult<()> {
    diesel::update(messages::table.find(id))
        .set((messages::body.eq(""), messages::deleted_at.eq(deleted_at)))
        .execute(conn)?;
    diesel::delete(mentions::table.filter(mentions::message_id.eq(id))).execute(conn)?;
    diesel::delete(reactions::table.filter(reactions::message_id.eq(id))).execute(conn)?;
    Ok(())
}

/// Record who a message mentions (replacing any earlier list).
pub fn set_mentions(conn: &mut Conn, message_id: i32, user_ids: &[i32]) -> QueryResult<()> {
    diesel::delete(mentions::table.filter(mentions::message_id.eq(message_id))).execute(conn)?;
    for &user_id in user_ids {
        diesel::insert_into(mentions::table)
            .values((
                mentions::message_id.eq(message_id),
                mentions::user_id.eq(user_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Add a reaction; false if this user already reacted with this emoji.
pub fn add_reaction(
    conn: &mut Conn,
    message_id: i32,
    user_id: i32,
    emoji: &str,
    at: i64,
) -> QueryResult<bool> {
    diesel::insert_or_ignore_into(reactions::table)
        .values((
            reactions::message_id.eq(message_id),
            reactions::user_id.eq(user_id),
            reactions::emoji.eq(emoji),
            reactions::created_at.eq(at),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Remove a reaction; false if there was none.
pub fn remove_reaction(
    conn: &mut Conn,
    message_id: i32,
    user_id: i32,
    emoji: &str,
) -> QueryResult<bool> {
    diesel::delete(
        reactions::table
            .filter(reactions::message_id.eq(message_id))
            .filter(reactions::user_id.eq(user_id))
            .filter(reactions::emoji.eq(emoji)),
    )
    .execute(conn)
    .map(|n| n == 1)
}

pub fn insert_event(conn: &mut Conn, new: &NewRoomEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(room_events::table)
        .values(new)
        .execute(conn)
        .map(drop)
}

/// Stream events other than new messages with `after < seq <= up_to`, in
/// order, with the acting user's name.
pub fn events_between(
    conn: &mut Conn,
    room_id: i32,
    after: i64,
    up_to: i64,
) -> QueryResult<Vec<(RoomEventRow, String)>> {
    room_events::table
        .inner_join(users::table)
        .filter(room_events::room_id.eq(room_id))
        .filter(room_events::seq.gt(after))
        .filter(room_events::seq.le(up_to))
        .order(room_events::seq.asc())
        .select((RoomEventRow::as_select(), users::name))
        .load(conn)
}

/// Several messages by id, in their current state.
pub fn by_ids(conn: &mut Conn, ids: &[i32]) -> QueryResult<HashMap<i32, MessageView>> {
    let found: Vec<Row> = rows!().filter(messages::id.eq_any(ids)).load(conn)?;
    Ok(views(conn, found)?
        .into_iter()
        .map(|v| (v.message.id, v))
        .collect())
}

/// A stretch of a room's event stream, read in one snapshot.
#[derive(Debug, Clone, Default)]
pub struct StreamPage {
    /// New-message events of the stretch, in their current state.
    pub messages: Vec<MessageView>,
    /// The other events of the stretch, with the acting user's name.
    pub events: Vec<(RoomEventRow, String)>,
    /// The current state of the messages those events are about.
    pub subjects: HashMap<i32, MessageView>,
    /// The stretch ends here: the reader's cursor after this page.
    pub last_seq: i64,
    /// More events follow `last_seq`.
    pub has_more: bool,
}

/// Every event with `after < seq <= after + limit`, and where that leaves
/// the reader. Seqs are contiguous, so a page is at most `limit` events.
pub fn stream_after(
    conn: &mut Conn,
    room_id: i32,
    after: i64,
    limit: i64,
) -> QueryResult<StreamPage> {
    conn.transaction(|conn| {
        let room_seq: i64 = rooms::table
            .find(room_id)
            .select(rooms::last_seq)
            .first(conn)?;
        let up_to = room_seq.min(after.saturating_add(limit)).max(after);
        let messages = self::after(conn, room_id, after, up_to, limit)?;
        let events = events_between(conn, room_id, after, up_to)?;
        let ids: Vec<i32> = events.iter().map(|(e, _)| e.message_id).collect();
        let subjects = by_ids(conn, &ids)?;
        Ok(StreamPage {
            messages,
            events,
            subjects,
            last_seq: up_to,
            has_more: room_seq > up_to,
        })
    })
}

/// The newest `limit` messages and the room's last seq, in one snapshot:
/// what a reader joining now starts from.
pub fn latest_page(conn: &mut Conn, room_id: i32, limit: i64) -> QueryResult<StreamPage> {
    conn.transaction(|conn| {
        let room_seq: i64 = rooms::table
            .find(room_id)
            .select(rooms::last_seq)
            .first(conn)?;
        let messages = latest(conn, room_id, limit)?;
        Ok(StreamPage {
            has_more: messages.first().is_some_and(|m| m.message.seq > 1),
            messages,
            last_seq: room_seq,
            ..StreamPage::default()
        })
    })
}

/// Ids of the users a message mentions.
pub fn mentioned_ids(conn: &mut Conn, message_id: i32) -> QueryResult<Vec<i32>> {
    mentions::table
        .filter(mentions::message_id.eq(message_id))
        .select(mentions::user_id)
        .load(conn)
}

impl MessageView {
    /// How a reply to this message quotes it.
    pub fn reply_preview(&self) -> ReplyPreview {
        let m = &self.message;
        reply_preview(m.id, m.seq, self.user_name.clone(), &m.body, m.deleted_at)
    }
}

/// The quote of message `id` that a reply shows.
fn reply_preview(
    id: i32,
    seq: i64,
    user: String,
    body: &str,
    deleted_at: Option<i64>,
) -> ReplyPreview {
    ReplyPreview {
        id: i64::from(id),
        seq,
        user,
        excerpt: crate::markdown::excerpt(body, REPLY_EXCERPT_CHARS),
        deleted: deleted_at.is_some(),
    }
}
