//! Committed offsets on disk, replaced in one step: a crash leaves the old
//! ones or the new ones, never a mix and never nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use solution06_log::{Offset, Partition};
use solution09_offsets::CommittedOffsets;

use crate::disk::{Disk, DiskFile};

/// The file holding the committed offsets, in the store's directory.
pub const COMMIT_FILE: &str = "committed-offsets";
/// The file the next version is written to before it replaces [`COMMIT_FILE`].
pub const COMMIT_TEMP_FILE: &str = "committed-offsets.tmp";

// ANCHOR: commit_store
/// The committed offset of each partition, kept in one small file that every
/// commit replaces.
///
/// The file is text, one `partition offset` line per partition and a last
/// line with the CRC-32C of the lines above, so that `cat` shows it and a
/// damaged one is recognised:
///
/// ```text
/// 0 42
/// 1 7
/// crc32c 5a1b2c3d
/// ```
#[derive(Debug)]
pub struct CommitStore<D: Disk> {
    disk: D,
    /// The directory holding [`COMMIT_FILE`].
    dir: PathBuf,
    /// What the file holds: every commit that `store` finished.
    offsets: BTreeMap<Partition, Offset>,
}

/// Why the committed offsets could not be read or stored.
#[derive(Debug, thiserror::Error)]
pub enum CommitStoreError {
    /// The disk failed. After a failed `store` the previous offsets are still
    /// the committed ones.
    #[error("{action} {}: the disk failed; the previous committed offsets still hold", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file is not one that `store` wrote whole.
    #[error(
        "{} is damaged ({reason}): it was not written by a complete store; restore it from a backup, or remove it to handle every partition again from offset 0",
        path.display()
    )]
    Corrupt { path: PathBuf, reason: &'static str },
    /// The offset is below the one already committed.
    #[error(
        "cannot commit offset {offset} for partition {partition}: offset {committed} is already committed, and a committed offset never goes back"
    )]
    Backwards {
        partition: Partition,
        offset: Offset,
        committed: Offset,
    },
}
// ANCHOR_END: commit_store

impl<D: Disk> CommitStore<D> {
    /// Opens the store in `dir`, reading the offsets committed before; none
    /// if the file does not exist yet.
    pub fn open(
        disk: D,
        dir: &Path,
    ) -> Result<CommitStore<D>, CommitStoreError> {
        disk.create_dir_all(dir)
            .map_err(io_error("creating the directory", dir))?;
        let path = dir.join(COMMIT_FILE);
        let offsets = match disk.read(&path) {
            Ok(bytes) => decode_commits(&bytes).map_err(|reason| {
                CommitStoreError::Corrupt {
                    path: path.clone(),
                    reason,
                }
            })?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                BTreeMap::new()
            }
            Err(source) => return Err(io_error("reading", &path)(source)),
        };
        Ok(CommitStore {
            disk,
            dir: dir.to_path_buf(),
            offsets,
        })
    }

    /// The committed offsets as step 09 keeps them, for its pipeline.
    pub fn load(&self) -> CommittedOffsets {
        let mut committed = CommittedOffsets::new();
        for (&partition, &offset) in &self.offsets {
            // The store has no log end to check against; offered as its own
            // log end, an offset is always accepted by step 09's rules.
            let _accepted = committed.commit(partition, offset, offset);
        }
        committed
    }

    /// The committed offset of `partition`, or `None` if it was never
    /// committed.
    pub fn committed(&self, partition: Partition) -> Option<Offset> {
        self.offsets.get(&partition).copied()
    }

    // ANCHOR: store
    /// Commits `next` (the next offset to read) for `partition`, durably:
    /// when this returns `Ok`, a crash cannot take the commit back. When it
    /// fails, or the machine stops in the middle, the previous offsets hold.
    pub fn store(
        &mut self,
        partition: Partition,
        next: Offset,
    ) -> Result<(), CommitStoreError> {
        if let Some(committed) = self.committed(partition)
            && next < committed
        {
            return Err(CommitStoreError::Backwards {
                partition,
                offset: next,
                committed,
            });
        }
        let mut offsets = self.offsets.clone();
        offsets.insert(partition, next);
        let bytes = encode_commits(&offsets);
        self.replace_file(&bytes)?;
        // Only now: the memory says what the disk says.
        self.offsets = offsets;
        Ok(())
    }
    // ANCHOR_END: store

    // ANCHOR: replace_file
    /// Replaces [`COMMIT_FILE`] with `bytes` atomically: a crash at any moment
    /// leaves the old file or the new one, whole; once this returns `Ok`, the
    /// new one.
    fn replace_file(&self, bytes: &[u8]) -> Result<(), CommitStoreError> {
        // exercise: solution
        let temp = self.dir.join(COMMIT_TEMP_FILE);
        let path = self.dir.join(COMMIT_FILE);
        // 1. The new version goes to a file nobody reads: a crash while
        //    writing it leaves the committed file as it was.
        let mut file = self
            .disk
            .create(&temp)
            .map_err(io_error("creating", &temp))?;
        file.write_all(bytes).map_err(io_error("writing", &temp))?;
        // 2. Its bytes reach the disk before its new name does; otherwise a
        //    crash can leave the name pointing at a torn or empty file.
        file.sync().map_err(io_error("syncing", &temp))?;
        // 3. The rename swaps old for new in one step.
        self.disk
            .rename(&temp, &path)
            .map_err(io_error("renaming to", &path))?;
        // 4. The rename is a change to the directory: until the directory is
        //    fsynced, a crash can undo it and bring the old offsets back.
        self.disk
            .sync_dir(&self.dir)
            .map_err(io_error("syncing the directory", &self.dir))?;
        Ok(())
        // exercise: stub
        // todo!(
        //     "write a temp file, fsync it, rename it, fsync the dir (chapter 10)"
        // )
        // exercise: end
    }
    // ANCHOR_END: replace_file
}

/// Turns an `io::Error` into a [`CommitStoreError::Io`] about `path`.
fn io_error(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(io::Error) -> CommitStoreError {
    let path = path.to_path_buf();
    move |source| CommitStoreError::Io {
        action,
        path,
        source,
    }
}

/// The bytes of the commit file for `offsets`.
pub fn encode_commits(offsets: &BTreeMap<Partition, Offset>) -> Vec<u8> {
    let mut text = String::new();
    for (partition, offset) in offsets {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{partition} {offset}");
    }
    let checksum = crc32c::crc32c(text.as_bytes());
    let _ = writeln!(text, "crc32c {checksum:08x}");
    text.into_bytes()
}

/// The offsets in a commit file, or why it is not one `encode_commits` wrote.
pub fn decode_commits(
    bytes: &[u8],
) -> Result<BTreeMap<Partition, Offset>, &'static str> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8 text")?;
    let body_end = text
        .trim_end_matches('\n')
        .rfind('\n')
        .map_or(0, |newline| newline + 1);
    let (body, last) = text.split_at(body_end);
    let stored = last
        .strip_prefix("crc32c ")
        .and_then(|hex| hex.strip_suffix('\n'))
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or("its last line is not a whole checksum line")?;
    if crc32c::crc32c(body.as_bytes()) != stored {
        return Err("its checksum does not match its lines");
    }
    let mut offsets = BTreeMap::new();
    for line in body.lines() {
        let (partition, offset) = line
            .split_once(' ')
            .and_then(|(p, o)| Some((p.parse().ok()?, o.parse().ok()?)))
            .ok_or("a line is not `partition offset`")?;
        offsets.insert(Partition(partition), Offset(offset));
    }
    Ok(offsets)
}
