//! Database access: the r2d2 pool, per-connection SQLite set-up, embedded
//! migrations, and the plain synchronous query functions in the submodules.
//!
//! Query functions take `&mut SqliteConnection` and are called from
//! `web::block` (HTTP handlers) or from the writer thread, never directly on
//! an async thread.

pub mod messages;
pub mod models;
pub mod reads;
pub mod rooms;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod uploads;
pub mod users;
pub mod wal;
pub mod writer;

use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{Config, Durability};

pub type Conn = SqliteConnection;
pub type DbPool = Pool<ConnectionManager<SqliteConnection>>;
pub type PooledConn = PooledConnection<ConnectionManager<SqliteConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a connection waits for a lock held by another one before it
/// reports "database is locked" (the writer's batches are far shorter).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Pool size: SQLite serialises writers anyway; readers gain little past this
/// on the small machines Palaver targets.
const POOL_SIZE: u32 = 8;

/// The PRAGMAs every connection gets, applied when it is opened.
#[derive(Debug, Clone, Copy)]
pub struct SqliteSetup {
    pub durability: Durability,
}

impl SqliteSetup {
    pub fn apply(&self, conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
        // FULL: each commit is fsynced, so an acknowledged write survives power
        // loss. NORMAL in WAL mode survives a crash of the process only.
        // secure_delete: freed space is zeroed, so a deleted message's text
        // does not linger in the database file.
        let synchronous = match self.durability {
            Durability::Full => "FULL",
            Durability::Relaxed => "NORMAL",
        };
        // busy_timeout first: until it is set, a statement that meets a lock
        // (even `journal_mode`, while another connection restarts the WAL)
        // fails at once with "database is locked" instead of waiting.
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {};
             PRAGMA journal_mode = WAL;
             PRAGMA foreign_keys = ON;
             PRAGMA synchronous = {synchronous};
             PRAGMA secure_delete = ON;
             PRAGMA cache_size = -16000;",
            BUSY_TIMEOUT.as_millis()
        ))
    }

    pub fn open(&self, path: &str) -> anyhow::Result<SqliteConnection> {
        let mut conn = SqliteConnection::establish(path)
            .with_context(|| format!("Failed to open the database {path}"))?;
        self.apply(&mut conn)
            .with_context(|| format!("Failed to set up the database {path}"))?;
        Ok(conn)
    }
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqliteSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Create the data dir, open the database, run pending migrations.
pub fn prepare(config: &Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "Failed to create the data dir {}",
            config.data_dir.display()
        )
    })?;
    let setup = SqliteSetup {
        durability: config.durability,
    };
    let mut conn = setup.open(config.sqlite_path())?;
    run_migrations(&mut conn)
}

pub fn run_migrations(conn: &mut SqliteConnection) -> anyhow::Result<()> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|err| anyhow::anyhow!("Failed to run database migrations: {err}"))?;
    for version in applied {
        tracing::info!(%version, "applied migration");
    }
    Ok(())
}

/// `palaver migrate`: bring the database up to date and exit.
pub fn migrate_only(config: &Config) -> anyhow::Result<()> {
    prepare(config)?;
    tracing::info!(database = config.sqlite_path(), "database is up to date");
    Ok(())
}

pub fn build_pool(config: &Config) -> anyhow::Result<DbPool> {
    let manager = ConnectionManager::<SqliteConnection>::new(config.sqlite_path());
    Pool::builder()
        .max_size(POOL_SIZE)
        .connection_customizer(Box::new(SqliteSetup {
            durability: config.durability,
        }))
        .build(manager)
        .context("Failed to open the database pool")
}

/// Milliseconds since the Unix epoch: every timestamp column uses this.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Is this Diesel error a UNIQUE constraint violation?
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_opened_while_another_holds_the_database_waits_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.db");
        let path = path.to_str().unwrap().to_string();
        let setup = SqliteSetup {
            durability: Durability::Full,
        };
        let mut holder = setup.open(&path).unwrap();
        // Exclusive locking mode: after its first write this connection
        // keeps the database to itself until it is closed.
        holder
            .batch_execute(
                "PRAGMA locking_mode = EXCLUSIVE;
                 CREATE TABLE t (x INTEGER);
                 INSERT INTO t VALUES (1);",
            )
            .unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(holder);
        });
        let opened = setup.open(&path);
        release.join().unwrap();
        let mut conn = opened.expect("the new connection waits for the lock instead of failing");
        conn.batch_execute("INSERT INTO t VALUES (2);").unwrap();
    }
}
