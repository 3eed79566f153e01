//! The file operations the durable log needs, and the real file system behind
//! them (given code).
//!
//! The log talks to a [`Disk`], not to `std::fs` directly, so that the same
//! code runs on real files and on the simulated disk of `sim.rs`, which the
//! tests crash at every write and every fsync.

use std::fmt::Debug;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

// ANCHOR: disk
/// The file system as the log sees it: a handful of operations, each with the
/// durability a real kernel gives it, no more.
///
/// - A write lands in the kernel's page cache. It survives a crash of the
///   process, but not a power loss, until the file is fsynced
///   ([`DiskFile::sync`]).
/// - A new name (a created file, a rename) is an entry in its directory. It
///   survives a power loss only once the directory itself is fsynced
///   ([`Disk::sync_dir`]). Fsyncing the file is not enough.
///
/// A `Disk` is a cheap handle: clones share one file system.
pub trait Disk: Clone + Debug + Send + Sync + 'static {
    /// An open file, written at its end.
    type File: DiskFile;

    /// Creates `dir` and its parents, if they do not exist.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// The names of the files in `dir`, in no particular order.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Everything `path` holds.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Opens `path` for appending, creating it empty if it does not exist.
    fn open_append(&self, path: &Path) -> io::Result<Self::File>;
    /// Opens `path` empty for writing: created if missing, emptied if not.
    fn create(&self, path: &Path) -> io::Result<Self::File>;
    /// Cuts `path` to its first `len` bytes and fsyncs it.
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;
    /// Renames `from` to `to`, replacing `to` if it exists, in one step: a
    /// reader sees the old `to` or the new one, never a mix.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes the file `path`.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Makes the names in `dir` durable: files created, renamed or removed in
    /// it since its last fsync.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// An open file of a [`Disk`].
pub trait DiskFile: Debug + Send + 'static {
    /// Appends `bytes` to the file. They are in the page cache, not on disk.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Waits until everything written to this file is on disk: fsync.
    fn sync(&mut self) -> io::Result<()>;
}
// ANCHOR_END: disk

/// The real file system, through `std::fs`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealDisk;

impl Disk for RealDisk {
    type File = File;

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            // A name that is not UTF-8 was not written by this log: skip it,
            // as the log skips every file whose name it does not recognise.
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn open_append(&self, path: &Path) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).open(path)
    }

    fn create(&self, path: &Path) -> io::Result<File> {
        File::create(path)
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(len)?;
        file.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        // On Unix this is rename(2), which replaces `to` in one step within
        // one file system.
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    // ANCHOR: sync_dir
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        // On Unix a directory is opened like a file, and fsync on it writes
        // its entries to disk: the names created or renamed in it.
        #[cfg(unix)]
        {
            File::open(dir)?.sync_all()
        }
        // Windows does not support fsync on a directory: `File::open` cannot
        // open one. Skipped there, so a rename's durability is left to the
        // file system.
        #[cfg(not(unix))]
        {
            let _ = dir;
            Ok(())
        }
    }
    // ANCHOR_END: sync_dir
}

impl DiskFile for File {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(self, bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        // fdatasync where there is one: the data and the file size, without
        // metadata such as the modification time, which nobody reads back.
        self.sync_data()
    }
}
