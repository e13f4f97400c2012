-- Conversation features: direct messages, edits, deletions, reactions,
-- replies, read markers and mentions.
--
-- Every change to a message is an event in its room's stream and takes the
-- room's next `seq` (rooms.last_seq), like a new message does. New messages
-- are the `messages` rows themselves; every other event is a `room_events`
-- row. Together they hold each seq 1..last_seq exactly once.

-- 'public' rooms are listed to everyone; 'dm' rooms exist only for their
-- members (room_members). dm_key is the sorted member ids, "3,7,9": one
-- private room per set of people.
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
ALTER TABLE rooms ADD COLUMN dm_key TEXT;
CREATE UNIQUE INDEX rooms_dm_key ON rooms(dm_key);

CREATE TABLE room_members (
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members(user_id);

-- edited_at / deleted_at: when (unix ms), or NULL. A deleted message keeps
-- its row (a tombstone) with an empty body.
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
ALTER TABLE messages ADD COLUMN reply_to INTEGER REFERENCES messages(id);

-- Events other than new messages: kind is 'edit', 'delete', 'react' or
-- 'unreact' (emoji set for the last two).
CREATE TABLE room_events (
    id INTEGER PRIMARY KEY NOT NULL,
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    emoji TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (room_id, seq)
);

-- One reaction per user per emoji per message.
CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

-- The last seq each user has read in a room. A row exists once the user
-- has opened the room (or is a member of the DM); only such rooms show
-- unread counts.
CREATE TABLE read_markers (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    last_read_seq BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id)
);

-- Who a message mentions (@name of an existing user).
CREATE TABLE mentions (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX mentions_user ON mentions(user_id);
