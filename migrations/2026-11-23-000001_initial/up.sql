-- Palaver's first schema. Timestamps are Unix milliseconds (BIGINT) so the
-- same columns work unchanged on SQLite and PostgreSQL.

CREATE TABLE users (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- lower-cased name: uniqueness is case-insensitive
    name_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT 0,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- hex SHA-256 of the token; the token itself is never stored
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE rooms (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    -- the last sequence number handed out in this room's event stream
    last_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE uploads (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    -- hex SHA-256 of the content: the file lives at uploads/ab/cd/<sha256>
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    original_name TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    created_at BIGINT NOT NULL
);
CREATE INDEX uploads_sha256 ON uploads(sha256);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY NOT NULL,
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    -- position in the room's event stream: contiguous 1, 2, 3...
    seq BIGINT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- the sender's idempotency key: a resend returns the stored row
    client_id TEXT,
    upload_id INTEGER REFERENCES uploads(id),
    UNIQUE (room_id, seq),
    UNIQUE (user_id, client_id)
);
