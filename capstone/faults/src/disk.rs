//! Step 10's simulated disk behind a wrapper that can forget to fsync: two
//! of the known bugs are a disk that lies, not a change to the log's code.

use std::io;
use std::path::Path;

use solution10_recovery::{Disk, DiskFile, SimDisk, SimFileHandle};

/// [`SimDisk`], with file syncs and directory syncs each either done or
/// skipped (while still answering `Ok`, as a misconfigured disk or a missing
/// call would).
#[derive(Clone, Debug)]
pub struct FaultDisk {
    pub sim: SimDisk,
    pub file_sync: bool,
    pub dir_sync: bool,
}

impl FaultDisk {
    pub fn new(seed: u64, file_sync: bool, dir_sync: bool) -> FaultDisk {
        FaultDisk {
            sim: SimDisk::new(seed),
            file_sync,
            dir_sync,
        }
    }
}

/// A file of a [`FaultDisk`].
#[derive(Debug)]
pub struct FaultFile {
    file: SimFileHandle,
    sync: bool,
}

impl DiskFile for FaultFile {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.sync { self.file.sync() } else { Ok(()) }
    }
}

impl Disk for FaultDisk {
    type File = FaultFile;

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.sim.create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.sim.list(dir)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.sim.read(path)
    }

    fn open_append(&self, path: &Path) -> io::Result<FaultFile> {
        Ok(FaultFile {
            file: self.sim.open_append(path)?,
            sync: self.file_sync,
        })
    }

    fn create(&self, path: &Path) -> io::Result<FaultFile> {
        Ok(FaultFile {
            file: self.sim.create(path)?,
            sync: self.file_sync,
        })
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        self.sim.truncate(path, len)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.sim.rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.sim.remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        if self.dir_sync {
            self.sim.sync_dir(dir)
        } else {
            Ok(())
        }
    }
}
