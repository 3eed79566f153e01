//! A simulated disk that loses what a real one may lose in a power cut (given
//! code, used by the tests of this step and of steps 11 and 14).
//!
//! It keeps two things apart, as a real file system does:
//!
//! - a file's bytes, written to the page cache by `write_all` and made durable
//!   by the file's `sync`;
//! - the names in a directory, changed by creating, renaming and removing
//!   files, and made durable by `sync_dir` on the directory.
//!
//! [`SimDisk::crash`] is the power cut. Every file keeps what was synced plus a
//! prefix, chosen by the seed, of what was written after (a torn write); every
//! name goes back to what the last `sync_dir` of its directory saw. The same
//! seed and the same operations give the same result, so a failing test can be
//! run again.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::disk::{Disk, DiskFile};

// ANCHOR: sim_disk
/// An in-memory disk that can crash. Clones share one disk.
#[derive(Clone, Debug)]
pub struct SimDisk {
    state: Arc<Mutex<SimState>>,
}

#[derive(Debug)]
struct SimState {
    /// The files' contents, by file number. A file's number stays the same
    /// when it is renamed; a file nobody names any more is never read again.
    files: Vec<SimFile>,
    /// Every name as it is now: what `list`, `read` and `open_append` see.
    names: BTreeMap<PathBuf, usize>,
    /// The names as the last `sync_dir` of each directory left them: what a
    /// crash goes back to.
    durable_names: BTreeMap<PathBuf, usize>,
    /// Bumped by every crash: a handle opened before it refuses to work.
    generation: u64,
    /// How many writes, syncs and changes of names have been made.
    operations: u64,
    /// When set, every operation from this count on fails, as if the
    /// machine had stopped there.
    stop_at: Option<u64>,
    /// The state of the generator that decides what a crash keeps.
    random: u64,
}

#[derive(Debug, Default)]
struct SimFile {
    /// What the file holds now, in the page cache.
    data: Vec<u8>,
    /// What it held at its last fsync: what a crash surely keeps.
    synced: Vec<u8>,
}
// ANCHOR_END: sim_disk

impl SimDisk {
    /// An empty disk whose crashes are decided by `seed`.
    pub fn new(seed: u64) -> SimDisk {
        SimDisk {
            state: Arc::new(Mutex::new(SimState {
                files: Vec::new(),
                names: BTreeMap::new(),
                durable_names: BTreeMap::new(),
                generation: 0,
                operations: 0,
                stop_at: None,
                random: seed,
            })),
        }
    }

    // ANCHOR: crash
    /// Simulates a power cut. Each file keeps its synced bytes and a seeded
    /// prefix of the bytes written after them; a file rewritten or cut since
    /// its last fsync keeps either its old synced bytes or a prefix of the new
    /// ones. Each name goes back to the last `sync_dir` of its directory, so a
    /// rename or a new file that was not made durable is undone.
    ///
    /// Handles opened before the crash fail from now on: the process that
    /// held them is gone. A stop set by [`SimDisk::fail_after`] is lifted.
    pub fn crash(&self) {
        let mut state = self.lock();
        let mut random = state.random;
        for file in &mut state.files {
            let kept = if file.data.starts_with(&file.synced) {
                // Only appended to since the last fsync: the appended bytes
                // reach the disk in order, and the power cut stops them
                // anywhere, even inside a record.
                let unsynced = file.data.len() - file.synced.len();
                file.synced.len() + below(&mut random, unsynced + 1)
            } else if below(&mut random, 2) == 0 {
                // Rewritten or cut since the last fsync: nothing of it made
                // it, and the old content is still there...
                file.data = file.synced.clone();
                file.data.len()
            } else {
                // ...or the cut made it, and part of what came after.
                below(&mut random, file.data.len() + 1)
            };
            file.data.truncate(kept);
            file.synced = file.data.clone();
        }
        state.random = random;
        state.names = state.durable_names.clone();
        state.generation += 1;
        state.stop_at = None;
    }
    // ANCHOR_END: crash

    /// Lets `operations` more writes, syncs and changes of names succeed, and
    /// fails every one after them until the next [`SimDisk::crash`]: the
    /// machine stops at that point. Looping over `operations` from 0 to the
    /// count of a workload crashes it at every point.
    pub fn fail_after(&self, operations: u64) {
        let mut state = self.lock();
        state.stop_at = Some(state.operations + operations);
    }

    /// How many writes, syncs and changes of names were made so far.
    pub fn operations(&self) -> u64 {
        self.lock().operations
    }

    /// The bytes of `path` as they are now, synced or not (for tests).
    pub fn contents(&self, path: &Path) -> Option<Vec<u8>> {
        let state = self.lock();
        state
            .names
            .get(path)
            .map(|&file| state.files[file].data.clone())
    }

    /// How many bytes of `path` a crash now could take: those written since
    /// its last fsync (all of them if it was rewritten or cut since). `None`
    /// if there is no such file.
    pub fn unsynced_bytes(&self, path: &Path) -> Option<usize> {
        let state = self.lock();
        let file = &state.files[*state.names.get(path)?];
        Some(if file.data.starts_with(&file.synced) {
            file.data.len() - file.synced.len()
        } else {
            file.data.len()
        })
    }

    /// Whether the name `path` survives a crash now: its directory was
    /// fsynced since the file got this name.
    pub fn name_is_durable(&self, path: &Path) -> bool {
        let state = self.lock();
        state.names.contains_key(path)
            && state.names.get(path) == state.durable_names.get(path)
    }

    /// Replaces the bytes of `path` and syncs them, as if a stray process or
    /// a bad sector had changed the file (for tests). Returns `false` if there
    /// is no such file.
    pub fn overwrite(&self, path: &Path, bytes: &[u8]) -> bool {
        let mut state = self.lock();
        let Some(&file) = state.names.get(path) else {
            return false;
        };
        state.files[file].data = bytes.to_vec();
        state.files[file].synced = bytes.to_vec();
        true
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic in a test thread must not hide the disk from the others:
        // every change below is made in one step, so the state stays whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SimState {
    /// Counts one operation, or fails it if the machine has stopped.
    fn operation(&mut self) -> io::Result<()> {
        if self.stop_at.is_some_and(|stop| self.operations >= stop) {
            return Err(io::Error::other(
                "the simulated disk stopped here (fail_after): crash it and reopen",
            ));
        }
        self.operations += 1;
        Ok(())
    }

    fn file_named(&self, path: &Path) -> io::Result<usize> {
        self.names.get(path).copied().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no file {}", path.display()),
            )
        })
    }

    /// The file named `path`, or a new empty one under that name.
    fn open_or_create(&mut self, path: &Path) -> io::Result<usize> {
        if let Some(&file) = self.names.get(path) {
            return Ok(file);
        }
        self.operation()?;
        self.files.push(SimFile::default());
        let file = self.files.len() - 1;
        self.names.insert(path.to_path_buf(), file);
        Ok(file)
    }
}

/// A number in `0..bound` from a splitmix64 generator: small, seeded, and
/// good enough to choose where a crash tears a file.
fn below(state: &mut u64, bound: usize) -> usize {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % bound as u64) as usize
}

/// An open file of a [`SimDisk`].
#[derive(Debug)]
pub struct SimFileHandle {
    disk: SimDisk,
    file: usize,
    generation: u64,
}

impl SimFileHandle {
    fn state(&self) -> io::Result<MutexGuard<'_, SimState>> {
        let state = self.disk.lock();
        if state.generation != self.generation {
            return Err(io::Error::other(
                "this file was opened before a crash: open it again",
            ));
        }
        Ok(state)
    }
}

impl DiskFile for SimFileHandle {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.state()?;
        state.operation()?;
        state.files[self.file].data.extend_from_slice(bytes);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let mut state = self.state()?;
        state.operation()?;
        let file = &mut state.files[self.file];
        file.synced = file.data.clone();
        Ok(())
    }
}

impl Disk for SimDisk {
    type File = SimFileHandle;

    fn create_dir_all(&self, _dir: &Path) -> io::Result<()> {
        // Directories are implied by the names in them: nothing to create.
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let state = self.lock();
        Ok(state
            .names
            .keys()
            .filter(|path| path.parent() == Some(dir))
            .filter_map(|path| path.file_name()?.to_str().map(String::from))
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let state = self.lock();
        let file = state.file_named(path)?;
        Ok(state.files[file].data.clone())
    }

    fn open_append(&self, path: &Path) -> io::Result<SimFileHandle> {
        let mut state = self.lock();
        let file = state.open_or_create(path)?;
        Ok(SimFileHandle {
            disk: self.clone(),
            file,
            generation: state.generation,
        })
    }

    fn create(&self, path: &Path) -> io::Result<SimFileHandle> {
        let mut state = self.lock();
        let file = state.open_or_create(path)?;
        if !state.files[file].data.is_empty() {
            state.operation()?;
            state.files[file].data.clear();
        }
        Ok(SimFileHandle {
            disk: self.clone(),
            file,
            generation: state.generation,
        })
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut state = self.lock();
        let file = state.file_named(path)?;
        state.operation()?;
        let file = &mut state.files[file];
        file.data
            .truncate(usize::try_from(len).unwrap_or(usize::MAX));
        file.synced = file.data.clone();
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.lock();
        let file = state.file_named(from)?;
        state.operation()?;
        state.names.remove(from);
        state.names.insert(to.to_path_buf(), file);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut state = self.lock();
        state.file_named(path)?;
        state.operation()?;
        state.names.remove(path);
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.lock();
        state.operation()?;
        let in_dir = |path: &PathBuf| path.parent() == Some(dir);
        state.durable_names.retain(|path, _| !in_dir(path));
        let now: Vec<_> = state
            .names
            .iter()
            .filter(|(path, _)| in_dir(path))
            .map(|(path, &file)| (path.clone(), file))
            .collect();
        state.durable_names.extend(now);
        Ok(())
    }
}
