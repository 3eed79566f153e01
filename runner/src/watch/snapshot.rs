//! What a step's files looked like, so that watch can tell which file a save
//! really changed, and whether one changed at all.
//!
//! Editors and cargo touch files without changing them, and one save often
//! arrives as several events, so an event only says "look". Looking reads as
//! little as it can: a file whose length and modification time are as before is
//! not read again, unless that time was so recent that a second write in the
//! same tick could hide behind it.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

/// A write within this long of the moment a file was looked at could share its
/// modification time with a later write (coarse clocks on some file systems),
/// so such a file is read again the next time.
const SAME_TICK: Duration = Duration::from_secs(2);

/// One file as it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    /// A hash of the contents.
    contents: u64,
    /// When it was looked at.
    at: SystemTime,
}

/// Every file of a step (as [`crate::generate::walk`] lists them), by path
/// relative to the step's directory.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    files: BTreeMap<PathBuf, Seen>,
}

impl Snapshot {
    /// Looks at every file under `dir`, reading only those that may have changed
    /// since `before`. Fails when a file cannot be listed or read right now (an
    /// editor's temporary file gone between the two).
    pub fn take(dir: &Path, before: &Snapshot) -> Result<Snapshot> {
        let mut paths = Vec::new();
        if dir.is_dir() {
            crate::generate::walk(dir, Path::new(""), &mut paths)?;
        }
        let now = SystemTime::now();
        let mut files = BTreeMap::new();
        for relative in paths {
            let path = dir.join(&relative);
            let meta = std::fs::metadata(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let (len, modified) = (meta.len(), meta.modified().ok());
            let unchanged = before.files.get(&relative).filter(|seen| {
                seen.len == len
                    && seen.modified.is_some()
                    && seen.modified == modified
                    && modified.is_some_and(|m| m + SAME_TICK < seen.at)
            });
            let seen = match unchanged {
                Some(seen) => seen.clone(),
                None => {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let mut hasher = std::hash::DefaultHasher::new();
                    bytes.hash(&mut hasher);
                    Seen {
                        len,
                        modified,
                        contents: hasher.finish(),
                        at: now,
                    }
                }
            };
            files.insert(relative, seen);
        }
        Ok(Snapshot { files })
    }

    /// The files whose contents differ from `before`, with files added and
    /// removed, relative to the step's directory.
    pub fn changed(&self, before: &Snapshot) -> Vec<PathBuf> {
        let mut changed: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|(path, seen)| {
                before.files.get(*path).map(|b| b.contents) != Some(seen.contents)
            })
            .map(|(path, _)| path.clone())
            .collect();
        changed.extend(
            before
                .files
                .keys()
                .filter(|path| !self.files.contains_key(*path))
                .cloned(),
        );
        changed
    }

    /// The changed file to name when saying what was saved: the one written
    /// last, else a removed one; `None` when no file changed.
    pub fn saved(&self, before: &Snapshot) -> Option<PathBuf> {
        self.changed(before)
            .into_iter()
            .max_by_key(|path| self.files.get(path).map(|seen| seen.modified))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (path, text) in [
            ("Cargo.toml", "[package]\nname = \"step00\"\n"),
            ("src/lib.rs", "pub fn seats_left() {}\n"),
            ("tests/seats_left.rs", "#[test]\nfn t() {}\n"),
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    /// Sets a file's modification time `ago` in the past, as an old file has.
    fn age(path: &Path, ago: Duration) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - ago).unwrap();
    }

    #[test]
    fn the_file_named_as_saved_is_the_one_whose_contents_changed() {
        let dir = step_dir();
        let before = Snapshot::take(dir.path(), &Snapshot::default()).unwrap();
        // The test file is newer on disk (generated after the source), but it
        // was only read; the source is what the learner changed.
        std::fs::write(dir.path().join("src/lib.rs"), "pub fn seats_left() { }\n").unwrap();
        age(&dir.path().join("src/lib.rs"), Duration::from_secs(60));
        let after = Snapshot::take(dir.path(), &before).unwrap();
        assert_eq!(
            after.saved(&before),
            Some(PathBuf::from("src/lib.rs")),
            "watch must name the file whose contents changed, not one that was only read"
        );
        assert_eq!(after.changed(&before), vec![PathBuf::from("src/lib.rs")]);
    }

    #[test]
    fn a_file_touched_without_a_change_is_no_save() {
        let dir = step_dir();
        let before = Snapshot::take(dir.path(), &Snapshot::default()).unwrap();
        let lib = dir.path().join("src/lib.rs");
        std::fs::write(&lib, std::fs::read(&lib).unwrap()).unwrap();
        let after = Snapshot::take(dir.path(), &before).unwrap();
        assert_eq!(
            after.saved(&before),
            None,
            "writing the same contents again changes nothing to check"
        );
    }

    #[test]
    fn added_and_removed_files_are_changes() {
        let dir = step_dir();
        let before = Snapshot::take(dir.path(), &Snapshot::default()).unwrap();
        std::fs::remove_file(dir.path().join("tests/seats_left.rs")).unwrap();
        std::fs::write(dir.path().join("src/extra.rs"), "\n").unwrap();
        let after = Snapshot::take(dir.path(), &before).unwrap();
        assert_eq!(
            after.changed(&before),
            vec![
                PathBuf::from("src/extra.rs"),
                PathBuf::from("tests/seats_left.rs")
            ],
            "a new file and a removed file both count as changes"
        );
    }

    #[test]
    fn an_old_file_whose_length_and_time_are_unchanged_is_not_read_again() {
        let dir = step_dir();
        let lib = dir.path().join("src/lib.rs");
        age(&lib, Duration::from_secs(60));
        let before = Snapshot::take(dir.path(), &Snapshot::default()).unwrap();
        // Change its contents but not its length, and put the old time back:
        // only a read would see the difference, and there must be no read.
        let modified = std::fs::metadata(&lib).unwrap().modified().unwrap();
        std::fs::write(&lib, "pub fn seats_left() {{\n").unwrap();
        let file = std::fs::File::options().write(true).open(&lib).unwrap();
        file.set_modified(modified).unwrap();
        let after = Snapshot::take(dir.path(), &before).unwrap();
        assert!(
            after.changed(&before).is_empty(),
            "a file with the same length and an old, unchanged time must not be read again"
        );
    }
}
