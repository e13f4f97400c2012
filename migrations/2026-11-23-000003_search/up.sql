-- Full-text search over message bodies (SPEC §4.5).
--
-- messages_fts is an FTS5 index of messages.body that stores no copy of the
-- text (external content: content='messages'); snippets read the body from
-- `messages`. The triggers keep it in step inside the same transaction as
-- the writer's INSERT or UPDATE, so an edit is searchable by its new words
-- only, and a deletion (body set to '') leaves nothing to find.
--
-- unicode61 with remove_diacritics 2: "cafe" finds "café", any case.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- secure-delete (SQLite >= 3.42): removing a row rewrites the index pages
-- that held its words, so a deleted message's words do not linger in the
-- database file until the next merge. Stored in the index's config table.
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);

-- Index the history that exists already.
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;

-- An external-content index is told what to forget: the old body, exactly.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;
