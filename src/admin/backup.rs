//! `palaver backup FILE`: a consistent copy of the database, taken while the
//! server runs.
//!
//! It uses SQLite's `VACUUM INTO`, not the C backup API (Diesel does not
//! expose the raw handle, and this crate forbids `unsafe`). `VACUUM INTO`
//! reads the database inside one read transaction, so the copy is a
//! snapshot of one moment; in WAL mode that transaction does not block the
//! server's writer, nor the writer it. The copy is compacted, and is fsynced
//! here before the command reports success.
//!
//! Uploaded files and `secret.key` live beside the database in the data dir
//! and are copied with ordinary file tools (see README, "Backups").

use std::fs::File;
use std::path::Path;

use anyhow::Context;
use diesel::RunQueryDsl;

use super::{open, AdminError};
use crate::config::Config;

pub fn run(config: &Config, target: &Path) -> Result<String, AdminError> {
    check_target(target)?;
    let path = target
        .to_str()
        .ok_or_else(|| AdminError::Invalid(format!("{} is not a UTF-8 path.", target.display())))?;
    let mut conn = open(config)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(path)
        .execute(&mut conn)
        .map_err(AdminError::db("copy the database"))?;
    sync(target)?;
    let size = std::fs::metadata(target)
        .with_context(|| format!("Failed to read {}", target.display()))?
        .len();
    Ok(format!(
        "Backed up {} to {} ({size} bytes).\n",
        config.sqlite_path(),
        target.display()
    ))
}

/// FILE must be new, in a directory that exists.
fn check_target(target: &Path) -> Result<(), AdminError> {
    if target.symlink_metadata().is_ok() {
        return Err(AdminError::Invalid(format!(
            "{} already exists; backup never overwrites a file.",
            target.display()
        )));
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(AdminError::Invalid(format!(
            "{} is not a directory.",
            parent.display()
        )));
    }
    Ok(())
}

/// Flush the copy, and its directory entry, to disk.
fn sync(target: &Path) -> Result<(), AdminError> {
    File::open(target)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("Failed to flush {} to disk", target.display()))?;
    #[cfg(unix)]
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("Failed to flush {} to disk", parent.display()))?;
    }
    Ok(())
}
