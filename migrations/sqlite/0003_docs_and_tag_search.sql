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

-- Tags in the full-text index, as one token each (`arbor_db::subjects::tag_token`: `t` and
-- the tag's UTF-8 in hex), so "these words and this tag" is one intersection of match lists
-- instead of a probe per row. The index is rebuilt with the new column.
ALTER TABLE subjects ADD COLUMN tag_tokens TEXT NOT NULL DEFAULT '';
UPDATE subjects SET tag_tokens = COALESCE(
    (SELECT group_concat('t' || lower(hex(tag)), ' ') FROM subject_tags
     WHERE subject_id = subjects.id), '');
DROP TRIGGER subjects_search_insert;
DROP TRIGGER subjects_search_delete;
DROP TRIGGER subjects_search_update;
DROP TABLE subject_search;
CREATE VIRTUAL TABLE subject_search USING fts5 (
    search_text,
    tag_tokens,
    content = 'subjects',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER subjects_search_insert AFTER INSERT ON subjects BEGIN
    INSERT INTO subject_search (rowid, search_text, tag_tokens)
    VALUES (new.id, new.search_text, new.tag_tokens);
END;
CREATE TRIGGER subjects_search_delete AFTER DELETE ON subjects BEGIN
    INSERT INTO subject_search (subject_search, rowid, search_text, tag_tokens)
    VALUES ('delete', old.id, old.search_text, old.tag_tokens);
END;
CREATE TRIGGER subjects_search_update AFTER UPDATE OF search_text, tag_tokens ON subjects BEGIN
    INSERT INTO subject_search (subject_search, rowid, search_text, tag_tokens)
    VALUES ('delete', old.id, old.search_text, old.tag_tokens);
    INSERT INTO subject_search (rowid, search_text, tag_tokens)
    VALUES (new.id, new.search_text, new.tag_tokens);
END;
INSERT INTO subject_search (subject_search) VALUES ('rebuild');
