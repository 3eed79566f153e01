//! Copies of a learner's files, taken before any command replaces or removes them.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::manifest::Workshop;

/// Copies the existing files among `paths` (relative to the root) into a new
/// directory under `target/workshop/backup/`. Returns that directory, or `None`
/// when none of the files existed.
pub fn backup_files(workshop: &Workshop, paths: &[PathBuf]) -> Result<Option<PathBuf>> {
    let existing: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| workshop.path(p).is_file())
        .collect();
    if existing.is_empty() {
        return Ok(None);
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut dir = workshop.path(format!("target/workshop/backup/{stamp}"));
    let mut n = 1;
    while dir.exists() {
        dir = workshop.path(format!("target/workshop/backup/{stamp}-{n}"));
        n += 1;
    }
    for path in existing {
        let to = dir.join(path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::copy(workshop.path(path), &to)
            .with_context(|| format!("cannot back up {} to {}", path.display(), to.display()))?;
    }
    Ok(Some(
        dir.strip_prefix(&workshop.root)
            .unwrap_or(&dir)
            .to_path_buf(),
    ))
}
