-- Live documents (`topic:{id}` bodies; `subject:{id}` maps later): a snapshot (a Yjs v1 update
-- holding the whole state at the last compaction) plus every update accepted since, in the
-- order they were written. A document goes with the topic or subject it belongs to.
CREATE TABLE docs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    topic_id       INTEGER REFERENCES topics (id) ON DELETE CASCADE,
    subject_id     INTEGER REFERENCES subjects (id) ON DELETE CASCADE,
    snapshot       BLOB    NOT NULL,
    -- Bumped by every compaction, so two compactions racing cannot both win.
    version        INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    compacted_at   INTEGER NOT NULL
);
CREATE INDEX docs_topic ON docs (topic_id);
CREATE INDEX docs_subject ON docs (subject_id);

CREATE TABLE doc_updates (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id         INTEGER NOT NULL REFERENCES docs (id) ON DELETE CASCADE,
    data           BLOB    NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX doc_updates_doc ON doc_updates (doc_id, id);
