-- Accounts, sessions, personal access tokens and the sign-in throttle.
-- Times are Unix milliseconds (INTEGER) so both backends share one representation.
-- AUTOINCREMENT: ids are never reused, as with Postgres identity columns.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT    NOT NULL,
    username_key   TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    bio            TEXT    NOT NULL DEFAULT '',
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash     BLOB    PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE access_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    token_hash     BLOB    NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER
);
CREATE INDEX access_tokens_user_id ON access_tokens (user_id);

CREATE TABLE login_throttle (
    key            TEXT    PRIMARY KEY,
    window_start   INTEGER NOT NULL,
    failures       INTEGER NOT NULL
);

-- Keys the replicas share (for example, to sign form errors carried in redirect URLs).
CREATE TABLE server_secrets (
    name           TEXT   PRIMARY KEY,
    value          BLOB  NOT NULL
);
