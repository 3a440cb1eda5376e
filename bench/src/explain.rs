//! `--explain`: the plan of one sample statement per kind of query, as the bundled SQLite
//! (`EXPLAIN QUERY PLAN`) or Postgres (`EXPLAIN (ANALYZE, BUFFERS)`) runs it.
//!
//! The statements are copies of what `arbor_db::catalogue` builds for these searches (that
//! builder is private); keep them in step when it changes.

use anyhow::Result;

use crate::raw::Raw;

const SELECT: &str = "SELECT s.id, s.slug, s.owner_id, u.username AS owner_username,
    u.display_name AS owner_display_name, s.title, s.summary, s.tags, s.visibility,
    s.like_count, s.save_count, s.view_count, s.created_at, s.updated_at, s.published_at
    FROM subjects s JOIN users u ON u.id = s.owner_id ";

#[derive(Clone, Copy)]
enum Arg {
    Int(i64),
    Text(&'static str),
}

/// One full-text condition over `p` (a placeholder): the join (SQLite) or condition and score
/// (Postgres), the way `catalogue.rs` writes it.
fn fts_sqlite(p: &str) -> String {
    format!(
        " JOIN (SELECT rowid AS sid, bm25(subject_search) AS score
                FROM subject_search WHERE subject_search MATCH {p}) m ON m.sid = s.id"
    )
}

struct Sample {
    kind: char,
    sqlite: String,
    postgres: String,
    args_sqlite: Vec<Arg>,
    args_postgres: Vec<Arg>,
}

fn samples(now: i64) -> Vec<Sample> {
    let tag = "s.id IN (SELECT subject_id FROM subject_tags WHERE tag = ";
    let pg_text = |p: &str| format!("s.search_doc @@ (phraseto_tsquery('simple', {p}))");
    let pg_score =
        |q: &str| format!(" CROSS JOIN LATERAL (SELECT ts_rank(s.search_doc, ({q})) AS score) m");
    let year = 365 * 86_400_000;
    // SQLite only: the full-text match as the outer loop, pinned by CROSS JOIN (SQLite never
    // moves the right side of a CROSS JOIN outward), a candidate fix for (a), (b), (f), (h).
    let pinned = |p: &str| {
        SELECT.replace(
            "FROM subjects s JOIN users u",
            &format!(
                "FROM (SELECT rowid AS sid, bm25(subject_search) AS score FROM subject_search
                       WHERE subject_search MATCH {p}) m
                 CROSS JOIN subjects s ON s.id = m.sid JOIN users u"
            ),
        )
    };
    vec![
        Sample {
            kind: 'a',
            sqlite: format!(
                "{SELECT}{} WHERE s.visibility = 'public' ORDER BY m.score ASC, s.id DESC LIMIT $2",
                fts_sqlite("$1")
            ),
            postgres: format!(
                "{SELECT}{} WHERE s.visibility = 'public' AND {} ORDER BY m.score DESC, s.id DESC LIMIT $2",
                pg_score("phraseto_tsquery('simple', $1)"),
                pg_text("$1")
            ),
            args_sqlite: vec![Arg::Text("\"rust\""), Arg::Int(20)],
            args_postgres: vec![Arg::Text("rust"), Arg::Int(20)],
        },
        Sample {
            kind: 'b',
            sqlite: format!(
                "{SELECT}{} WHERE s.visibility = 'public' ORDER BY m.score ASC, s.id DESC LIMIT $2",
                fts_sqlite("$1")
            ),
            postgres: format!(
                "{SELECT}{} WHERE s.visibility = 'public' AND s.search_doc @@ (phraseto_tsquery('simple', $1) && phraseto_tsquery('simple', $2)) ORDER BY m.score DESC, s.id DESC LIMIT $3",
                pg_score("phraseto_tsquery('simple', $1) && phraseto_tsquery('simple', $2)")
            ),
            args_sqlite: vec![Arg::Text("\"async\" AND \"kafka\""), Arg::Int(20)],
            args_postgres: vec![Arg::Text("async"), Arg::Text("kafka"), Arg::Int(20)],
        },
        Sample {
            kind: 'c',
            sqlite: format!(
                "{SELECT} WHERE s.visibility = 'public' AND {tag}$1) ORDER BY s.like_count DESC, s.id DESC LIMIT $2"
            ),
            postgres: format!(
                "{SELECT} WHERE s.visibility = 'public' AND {tag}$1) ORDER BY s.like_count DESC, s.id DESC LIMIT $2"
            ),
            args_sqlite: vec![Arg::Text("beginner"), Arg::Int(20)],
            args_postgres: vec![Arg::Text("beginner"), Arg::Int(20)],
        },
        Sample {
            kind: 'd',
            sqlite: format!(
                "{SELECT} WHERE s.visibility = 'public' AND u.username_key IN ($1) ORDER BY s.updated_at DESC, s.id DESC LIMIT $2"
            ),
            postgres: format!(
                "{SELECT} WHERE s.visibility = 'public' AND u.username_key IN ($1) ORDER BY s.updated_at DESC, s.id DESC LIMIT $2"
            ),
            args_sqlite: vec![Arg::Text("victor1777"), Arg::Int(20)],
            args_postgres: vec![Arg::Text("victor1777"), Arg::Int(20)],
        },
        Sample {
            kind: 'e',
            sqlite: format!(
                "{SELECT} WHERE s.visibility = 'public' AND s.like_count >= $1 AND s.updated_at >= $2 AND s.updated_at < $3 ORDER BY s.created_at DESC, s.id DESC LIMIT $4"
            ),
            postgres: format!(
                "{SELECT} WHERE s.visibility = 'public' AND s.like_count >= $1 AND s.updated_at >= $2 AND s.updated_at < $3 ORDER BY s.created_at DESC, s.id DESC LIMIT $4"
            ),
            args_sqlite: vec![
                Arg::Int(51),
                Arg::Int(now - 2 * year),
                Arg::Int(now - year),
                Arg::Int(20),
            ],
            args_postgres: vec![
                Arg::Int(51),
                Arg::Int(now - 2 * year),
                Arg::Int(now - year),
                Arg::Int(20),
            ],
        },
        Sample {
            kind: 'f',
            sqlite: format!(
                "{SELECT}{} WHERE s.visibility = 'public' AND {tag}$2) ORDER BY m.score ASC, s.id DESC LIMIT $3",
                fts_sqlite("$1")
            ),
            postgres: format!(
                "{SELECT}{} WHERE s.visibility = 'public' AND {} AND {tag}$2) ORDER BY m.score DESC, s.id DESC LIMIT $3",
                pg_score("phraseto_tsquery('simple', $1)"),
                pg_text("$1")
            ),
            args_sqlite: vec![Arg::Text("\"design\""), Arg::Text("async"), Arg::Int(20)],
            args_postgres: vec![Arg::Text("design"), Arg::Text("async"), Arg::Int(20)],
        },
        Sample {
            kind: 'F',
            sqlite: format!(
                "{} WHERE s.visibility = 'public' AND {tag}$2) ORDER BY m.score ASC, s.id DESC LIMIT $3",
                pinned("$1")
            ),
            postgres: String::new(),
            args_sqlite: vec![Arg::Text("\"design\""), Arg::Text("async"), Arg::Int(20)],
            args_postgres: Vec::new(),
        },
        Sample {
            kind: 'A',
            sqlite: format!(
                "{} WHERE s.visibility = 'public' ORDER BY m.score ASC, s.id DESC LIMIT $2",
                pinned("$1")
            ),
            postgres: String::new(),
            args_sqlite: vec![Arg::Text("\"rust\""), Arg::Int(20)],
            args_postgres: Vec::new(),
        },
        Sample {
            kind: 'i',
            sqlite: format!(
                "{SELECT} WHERE s.visibility = 'public' AND (s.updated_at < $1 OR (s.updated_at = $1 AND s.id < $2)) ORDER BY s.updated_at DESC, s.id DESC LIMIT $3"
            ),
            postgres: format!(
                "{SELECT} WHERE s.visibility = 'public' AND (s.updated_at < $1 OR (s.updated_at = $1 AND s.id < $2)) ORDER BY s.updated_at DESC, s.id DESC LIMIT $3"
            ),
            args_sqlite: vec![Arg::Int(now - year), Arg::Int(i64::MAX), Arg::Int(20)],
            args_postgres: vec![Arg::Int(now - year), Arg::Int(i64::MAX), Arg::Int(20)],
        },
    ]
}

/// Prints each sample statement's plan.
pub async fn explain(raw: &Raw, now: i64) -> Result<()> {
    for sample in samples(now) {
        let rewrite = sample.kind.is_ascii_uppercase();
        if rewrite && !matches!(raw, Raw::Sqlite(_)) {
            continue;
        }
        if rewrite {
            println!(
                "--- ({}) rewritten, full-text match pinned as the outer loop",
                sample.kind.to_ascii_lowercase()
            );
        } else {
            println!("--- ({}) plan", sample.kind);
        }
        match raw {
            Raw::Sqlite(pool) => {
                let sql = format!("EXPLAIN QUERY PLAN {}", sample.sqlite);
                let mut query =
                    sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(sql));
                for arg in &sample.args_sqlite {
                    query = match *arg {
                        Arg::Int(v) => query.bind(v),
                        Arg::Text(v) => query.bind(v),
                    };
                }
                for (_, _, _, detail) in query.fetch_all(pool).await? {
                    println!("  {detail}");
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sample.sqlite));
                for arg in &sample.args_sqlite {
                    query = match *arg {
                        Arg::Int(v) => query.bind(v),
                        Arg::Text(v) => query.bind(v),
                    };
                }
                let started = std::time::Instant::now();
                let rows = query.fetch_all(pool).await?.len();
                println!(
                    "  ran in {:.2} ms, {rows} rows",
                    started.elapsed().as_secs_f64() * 1000.0
                );
            }
            Raw::Postgres(pool) => {
                let sql = format!("EXPLAIN (ANALYZE, BUFFERS) {}", sample.postgres);
                let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
                for arg in sample.args_postgres {
                    query = match arg {
                        Arg::Int(v) => query.bind(v),
                        Arg::Text(v) => query.bind(v),
                    };
                }
                for line in query.fetch_all(pool).await? {
                    println!("  {line}");
                }
            }
        }
    }
    Ok(())
}
