//! Keys every replica must share: `server_secrets`. The first replica to ask for a key stores
//! the candidate it brings; every later one reads that stored value.

use crate::{Db, DbResult, dispatch};

impl Db {
    /// The shared secret called `name`, created from `candidate` if it does not exist yet.
    #[tracing::instrument(skip(self, candidate))]
    pub async fn server_secret(&self, name: &str, candidate: &[u8]) -> DbResult<Vec<u8>> {
        dispatch!(self, |pool| {
            sqlx::query(
                "INSERT INTO server_secrets (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(candidate)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(dispatch!(self, |pool| {
            sqlx::query_scalar::<_, Vec<u8>>("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await
        })?)
    }
}
