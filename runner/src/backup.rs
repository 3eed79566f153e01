//! Copies of a learner's files, taken before any command replaces or removes
//! them, and `restore`, which puts a copy back.
//!
//! Backups live in `.workshop/backups/<UTC time>/` at the workshop root, each file
//! at its path relative to the root. Not under `target/`: `cargo clean` must not
//! take a learner's work with it. `.gitignore` lists `.workshop/`.

use std::path::{Path, PathBuf};

use anstream::println;
use anyhow::{Context, Result, bail};

use crate::generate;
use crate::manifest::Workshop;
use crate::ui::{DIM, PATH, confirm, paint};

/// Where the backups are, relative to the workshop root.
pub const BACKUPS: &str = ".workshop/backups";

/// Copies the existing files among `paths` (relative to the root) into a new
/// backup. Returns the backup's directory relative to the root, or `None` when
/// none of the files existed.
pub fn backup_files(workshop: &Workshop, paths: &[PathBuf]) -> Result<Option<PathBuf>> {
    let existing: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| workshop.path(p).is_file())
        .collect();
    if existing.is_empty() {
        return Ok(None);
    }
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let stamp = utc_stamp(seconds);
    let base = Path::new(BACKUPS);
    let mut relative = base.join(&stamp);
    let mut n = 2;
    while workshop.path(&relative).exists() {
        relative = base.join(format!("{stamp}-{n}"));
        n += 1;
    }
    let dir = workshop.path(&relative);
    for path in existing {
        let to = dir.join(path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::copy(workshop.path(path), &to)
            .with_context(|| format!("cannot back up {} to {}", path.display(), to.display()))?;
    }
    Ok(Some(relative))
}

/// The name of a backup directory: its path under [`BACKUPS`].
pub fn name_of(backup: &Path) -> String {
    backup
        .strip_prefix(BACKUPS)
        .unwrap_or(backup)
        .display()
        .to_string()
}

/// One backup: its name (the time it was made) and its files, relative to the
/// workshop root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub name: String,
    pub files: Vec<PathBuf>,
}

/// Every backup, oldest first (the names are UTC times, so they sort).
pub fn list(workshop: &Workshop) -> Result<Vec<Backup>> {
    let dir = workshop.path(BACKUPS);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut backups = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
    {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        generate::walk(&entry.path(), Path::new(""), &mut files)?;
        files.sort();
        backups.push(Backup {
            name: entry.file_name().to_string_lossy().into_owned(),
            files,
        });
    }
    backups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(backups)
}

/// `restore [BACKUP] [--list]`: lists the backups, or puts one back (the newest
/// when none is named). What it replaces is backed up first, so a restore can
/// itself be undone.
pub fn restore(workshop: &Workshop, name: Option<&str>, only_list: bool, yes: bool) -> Result<()> {
    let backups = list(workshop)?;
    if backups.is_empty() {
        println!(
            "There are no backups in {}: no command has replaced any of your files yet.",
            BACKUPS
        );
        return Ok(());
    }
    if only_list || name.is_none() {
        println!("Backups, oldest first (in {}):", paint(PATH, BACKUPS));
        for backup in &backups {
            let shown: Vec<String> = backup
                .files
                .iter()
                .take(3)
                .map(|f| f.display().to_string())
                .collect();
            let more = backup.files.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            println!("  {}  {}{more}", backup.name, paint(DIM, shown.join(", ")));
        }
        if only_list {
            println!("`cargo workshop restore NAME` puts one back.");
            return Ok(());
        }
        println!();
    }
    let chosen = match name {
        Some(name) => backups
            .iter()
            .find(|b| {
                b.name
                    == name
                        .trim()
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or(name)
            })
            .with_context(|| {
                format!("there is no backup {name:?}; `cargo workshop restore --list` lists them")
            })?,
        None => backups.last().context("no backups")?,
    };
    println!("This puts back, from backup {}:", chosen.name);
    for file in &chosen.files {
        println!("  {}", paint(PATH, file.display()));
    }
    for file in &chosen.files {
        if file.starts_with("solutions") {
            bail!(
                "backup {} holds {}, under solutions/, which no command writes; copy it by hand if you mean it",
                chosen.name,
                file.display()
            );
        }
    }
    if !yes && !confirm("Go ahead? The versions there now are backed up first. [y/N] ")? {
        println!("Nothing changed.");
        return Ok(());
    }
    let source = workshop.path(BACKUPS).join(&chosen.name);
    let replaced: Vec<PathBuf> = chosen
        .files
        .iter()
        .filter(|f| {
            let now = std::fs::read(workshop.path(f)).ok();
            now.is_some() && now != std::fs::read(source.join(f)).ok()
        })
        .cloned()
        .collect();
    let undo = backup_files(workshop, &replaced)?;
    for file in &chosen.files {
        let to = workshop.path(file);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::copy(source.join(file), &to)
            .with_context(|| format!("cannot restore {}", file.display()))?;
    }
    println!(
        "Restored {} file(s) from backup {}.",
        chosen.files.len(),
        chosen.name
    );
    if let Some(undo) = undo {
        let undo = name_of(&undo);
        println!(
            "What they replaced is in backup {undo}: `cargo workshop restore {undo}` undoes this."
        );
    }
    Ok(())
}

/// `2026-11-30T09-45-12` for a time in seconds since 1970, in UTC: sortable,
/// and a valid file name everywhere (no `:`).
pub fn utc_stamp(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}-{:02}-{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The calendar date of a day counted from 1970-01-01, after Howard Hinnant's
/// `civil_from_days`, for days on or after 1970.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::utc_stamp;

    #[test]
    fn backup_names_are_utc_times_that_sort() {
        assert_eq!(utc_stamp(0), "1970-01-01T00-00-00");
        assert_eq!(utc_stamp(1_700_000_000), "2023-11-14T22-13-20");
        assert_eq!(utc_stamp(951_782_400), "2000-02-29T00-00-00", "a leap day");
        assert!(utc_stamp(1_700_000_000) < utc_stamp(1_800_000_000));
    }
}
