-- Topics deleted from a subject's map wait here until they are restored or purged (30 days
-- after deletion). The subject's structure document (`subject:{id}` in `docs`) is the source
-- of truth for what is in the trash; this table keeps the rows the projection took out of
-- `topics`. A trashed topic's live body document stays in `docs`, owned by the subject
-- instead of the topic while it waits.
CREATE TABLE topic_trash (
    id             INTEGER PRIMARY KEY,
    subject_id     INTEGER NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    title          TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    trashed_at     INTEGER NOT NULL
);
CREATE INDEX topic_trash_subject ON topic_trash (subject_id);

-- Imports into a subject: the file as uploaded (to download again) and what the import
-- changed (to roll the subject back to the state before it).
CREATE TABLE subject_imports (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id     INTEGER NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    user_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    format         TEXT    NOT NULL,
    filename       TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    topics         INTEGER NOT NULL,
    -- JSON written and read by `app::ssr::transfer` (topics created and replaced, the root's
    -- title and body before).
    undo           TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    rolled_back_at INTEGER
);
CREATE INDEX subject_imports_subject ON subject_imports (subject_id, id);
