//! Keeps SQLite's write-ahead log from growing without bound.
//!
//! SQLite copies the log into the database as it goes (every 1,000 pages),
//! but it can start the log over only at a moment when no reader is using
//! it. A server that always has a reader somewhere (steady page views, a
//! storm of sign-ups and logins) never reaches that moment: the log file
//! grows for as long as the load lasts (~400 MB for 10,000 sign-ups here),
//! reads get slower as it grows, and the file keeps its size afterwards.
//! So every [`CHECK_EVERY`] the log's size is looked at, and a log past
//! [`LIMIT_BYTES`] gets a `TRUNCATE` checkpoint: it waits for the readers
//! of the moment to finish (new readers then read the database file), copies
//! the log in and empties the file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::QueryResult;

use super::{Conn, DbPool};

/// How often the log's size is looked at (one `stat`).
const CHECK_EVERY: Duration = Duration::from_secs(2);
/// A log this large has not been started over for a while: SQLite's own
/// checkpoints keep it near 4 MiB when it can restart.
const LIMIT_BYTES: u64 = 16 * 1024 * 1024;

/// The log's path next to the database at `db_path`.
pub fn wal_path(db_path: &str) -> PathBuf {
    PathBuf::from(format!("{db_path}-wal"))
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// If the log at `wal` is over `limit` bytes, copy it into the database and
/// empty it, waiting (up to the busy timeout) for the readers of the moment;
/// the log's size before, if it was over.
pub fn shrink_if_over(conn: &mut Conn, wal: &Path, limit: u64) -> QueryResult<Option<u64>> {
    let before = size(wal);
    if before <= limit {
        return Ok(None);
    }
    conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(Some(before))
}

/// Look at the log every [`CHECK_EVERY`] for as long as the current actix
/// system runs, and shrink it with a pooled connection when it is too big.
pub fn spawn_keeper(pool: DbPool, db_path: &str) {
    let wal = wal_path(db_path);
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(CHECK_EVERY);
        loop {
            every.tick().await;
            // One `stat` here; the blocking pool and a pooled connection
            // only when there is something to do.
            if size(&wal) <= LIMIT_BYTES {
                continue;
            }
            let (pool, wal) = (pool.clone(), wal.clone());
            let shrunk = web::block(move || -> anyhow::Result<Option<u64>> {
                let mut conn = pool.get()?;
                Ok(shrink_if_over(&mut conn, &wal, LIMIT_BYTES)?)
            })
            .await
            .map_err(anyhow::Error::from)
            .and_then(|shrunk| shrunk);
            match shrunk {
                Ok(Some(before)) => tracing::debug!(
                    before_bytes = before,
                    "write-ahead log checkpointed and emptied"
                ),
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "could not shrink the write-ahead log"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Durability;
    use crate::db::SqliteSetup;

    const LIMIT: u64 = 1024 * 1024;

    fn open(path: &str) -> Conn {
        SqliteSetup {
            durability: Durability::Full,
        }
        .open(path)
        .unwrap()
    }

    fn count(conn: &mut Conn) -> i64 {
        use diesel::prelude::*;
        diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT count(*) FROM t")
            .get_result(conn)
            .unwrap()
    }

    /// A new database in a temp dir: the dir (kept alive), its path, its
    /// log's path and a connection.
    fn fresh() -> (tempfile::TempDir, String, PathBuf, Conn) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db").to_str().unwrap().to_string();
        let wal = wal_path(&path);
        let conn = open(&path);
        (dir, path, wal, conn)
    }

    #[test]
    fn a_log_past_the_limit_is_copied_in_and_emptied() {
        let (_dir, path, wal, mut writer) = fresh();
        writer.batch_execute("CREATE TABLE t (x BLOB);").unwrap();
        for _ in 0..300 {
            writer
                .batch_execute("INSERT INTO t VALUES (zeroblob(8192));")
                .unwrap();
        }
        let grown = size(&wal);
        assert!(grown > LIMIT, "the log grew to {grown} bytes");

        assert_eq!(
            shrink_if_over(&mut writer, &wal, LIMIT).unwrap(),
            Some(grown)
        );
        assert_eq!(size(&wal), 0);
        assert_eq!(count(&mut writer), 300);
        assert_eq!(count(&mut open(&path)), 300);
    }

    #[test]
    fn a_small_log_is_left_alone() {
        let (_dir, _path, wal, mut conn) = fresh();
        conn.batch_execute("CREATE TABLE t (x BLOB); INSERT INTO t VALUES (1);")
            .unwrap();
        let before = size(&wal);
        assert!(before > 0);
        assert_eq!(shrink_if_over(&mut conn, &wal, LIMIT).unwrap(), None);
        assert_eq!(size(&wal), before);
    }
}
