//! Appending to one partition: segment files named by their first offset,
//! rolled at a size, fsynced as the policy says.

use std::path::PathBuf;
use std::time::Instant;

use solution06_log::{Offset, Record};

use crate::config::{FsyncPolicy, LogConfig};
use crate::disk::{Disk, DiskFile};
use crate::error::{AppendError, RecoveryError};
use crate::frame::encode_frame;

// ANCHOR: segment_file_name
/// The file name of the segment whose first record has offset `base`: the
/// offset in 20 digits, zero-padded, then `.log`, as Kafka names them.
///
/// Twenty digits hold any `u64`, and zero-padding makes the names sort in
/// offset order as plain text: `ls` lists the segments in order.
pub fn segment_file_name(base: Offset) -> String {
    // exercise: solution
    format!("{:020}.log", base.0)
    // exercise: stub
    // todo!("the base offset in 20 digits, zero-padded, then .log (chapter 10)")
    // exercise: end
}
// ANCHOR_END: segment_file_name

/// The base offset in a segment file name, or `None` if `name` is not one.
pub fn parse_segment_file_name(name: &str) -> Option<Offset> {
    let digits = name.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Offset)
}

// ANCHOR: partition_writer
/// The writing end of one partition.
#[derive(Debug)]
pub(crate) struct PartitionWriter<D: Disk> {
    /// The partition's directory, holding its segment files.
    pub(crate) dir: PathBuf,
    /// The active segment: the last one, the only one written to.
    pub(crate) path: PathBuf,
    pub(crate) file: D::File,
    /// How many bytes the active segment holds.
    pub(crate) segment_len: u64,
    /// The offset the next record gets.
    pub(crate) next_offset: Offset,
    /// How many records were written since the last fsync: the records a
    /// power cut can still take.
    pub(crate) unsynced: u64,
    /// When the last fsync finished (or the log was opened).
    pub(crate) last_sync: Instant,
    /// Set after a failed write or fsync: the partition takes no more appends.
    pub(crate) stopped: bool,
    /// The frame being written, kept to reuse its allocation.
    pub(crate) frame: Vec<u8>,
}

/// What [`PartitionWriter::append`] did with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) offset: Offset,
    /// Whether the record is fsynced.
    pub(crate) durable: bool,
}
// ANCHOR_END: partition_writer

impl<D: Disk> PartitionWriter<D> {
    // ANCHOR: append
    /// Writes `record` at the end of the partition: in a new segment first if
    /// it would take the active one past `config.segment_bytes` (unless that
    /// one is empty), then fsynced if `config.fsync` says it is time.
    pub(crate) fn append(
        &mut self,
        disk: &D,
        record: &Record,
        config: &LogConfig,
    ) -> Result<Written, AppendError> {
        // exercise: solution
        let offset = self.next_offset;
        self.frame.clear();
        encode_frame(offset, record, &mut self.frame)?;
        let frame_len = self.frame.len() as u64;
        // An empty segment takes any record, however large: otherwise a
        // record bigger than a segment would roll forever.
        if self.segment_len > 0
            && self.segment_len + frame_len > config.segment_bytes
        {
            self.roll(disk)?;
        }
        self.write_frame()?;
        let sync_now = match config.fsync {
            FsyncPolicy::EveryRecord => true,
            FsyncPolicy::EveryRecords(n) => self.unsynced >= u64::from(n),
            FsyncPolicy::Interval(interval) => {
                self.last_sync.elapsed() >= interval
            }
            FsyncPolicy::Never => false,
        };
        if sync_now {
            self.sync()?;
        }
        // Durable only if the fsync really happened: not because the policy
        // meant to sync, but because nothing written is left unsynced.
        Ok(Written {
            offset,
            durable: self.unsynced == 0,
        })
        // exercise: stub
        // todo!(
        //     "roll if the frame does not fit, write it, fsync per policy (chapter 10)"
        // )
        // exercise: end
    }
    // ANCHOR_END: append

    // ANCHOR: helpers
    /// Writes the frame in `self.frame` at the end of the active segment, as
    /// the record at `self.next_offset`.
    pub(crate) fn write_frame(&mut self) -> Result<(), AppendError> {
        let result = self.file.write_all(&self.frame);
        self.io(result)?;
        self.segment_len += self.frame.len() as u64;
        self.next_offset = self.next_offset.next();
        self.unsynced += 1;
        Ok(())
    }

    /// Fsyncs the active segment, if anything was written since the last
    /// fsync.
    pub(crate) fn sync(&mut self) -> Result<(), AppendError> {
        if self.unsynced > 0 {
            let result = self.file.sync();
            self.io(result)?;
            self.unsynced = 0;
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Closes the active segment and starts a new one, named by the offset of
    /// the record about to be written.
    pub(crate) fn roll(&mut self, disk: &D) -> Result<(), AppendError> {
        // The old segment is fsynced before the new one exists, so that after
        // a crash only the last segment can have a torn tail: recovery treats
        // a torn end anywhere else as damage.
        self.sync()?;
        let path = self.dir.join(segment_file_name(self.next_offset));
        let file = disk.open_append(&path);
        self.file = self.io(file)?;
        self.path = path;
        self.segment_len = 0;
        // The new file's name is an entry in the directory: without this
        // fsync a power cut can take the file, fsynced records and all.
        let synced = disk.sync_dir(&self.dir);
        self.io(synced)
    }
    // ANCHOR_END: helpers

    /// An I/O result as an [`AppendError`] naming the active segment.
    fn io<T>(&self, result: std::io::Result<T>) -> Result<T, AppendError> {
        result.map_err(|source| AppendError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// The writer of a partition just recovered: it appends to the segment
    /// `active` (its base offset and length), or to a new first segment if
    /// the partition has none. `end` is the offset the next record gets.
    pub(crate) fn open(
        disk: &D,
        dir: PathBuf,
        active: Option<(Offset, u64)>,
        end: Offset,
    ) -> Result<PartitionWriter<D>, RecoveryError> {
        let (base, segment_len) = active.unwrap_or((Offset(0), 0));
        let path = dir.join(segment_file_name(base));
        let io = |action, result: std::io::Result<()>| {
            result.map_err(|source| RecoveryError::Io {
                action,
                path: path.clone(),
                source,
            })
        };
        let mut file =
            disk.open_append(&path)
                .map_err(|source| RecoveryError::Io {
                    action: "opening the segment",
                    path: path.clone(),
                    source,
                })?;
        // What recovery read may be in the page cache only (the process
        // crashed, the machine did not): fsync it before any new record is
        // acknowledged as durable behind it.
        io("syncing the segment", file.sync())?;
        if active.is_none() {
            io("syncing the directory", disk.sync_dir(&dir))?;
        }
        Ok(PartitionWriter {
            dir,
            path,
            file,
            segment_len,
            next_offset: end,
            unsynced: 0,
            last_sync: Instant::now(),
            stopped: false,
            frame: Vec::new(),
        })
    }
}
