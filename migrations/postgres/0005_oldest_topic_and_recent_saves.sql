-- A `[[slug/Title]]` link resolves to the oldest topic of that title in the target subject:
-- the first by `created_at`, then by id (ids are invented at random, so the smallest id is not
-- the first topic). This index finds it with one probe (`oldest_titled!` in
-- `arbor_db::topics`). It makes `topics_title` (its first two columns) redundant; that one
-- stays until a later migration drops it.
CREATE INDEX topics_title_age ON topics (subject_id, title_key, created_at, id);

-- Trending counts the saves in its window as well as the likes (`likes_recent`).
CREATE INDEX saves_recent ON saves (created_at);
