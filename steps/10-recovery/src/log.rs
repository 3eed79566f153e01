//! The durable log: segment files on a [`Disk`] in front of step 06's
//! in-memory [`Log`] (given code, apart from what `append.rs` and `recover.rs`
//! leave to the exercises).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use solution06_log::{Log, LogError, Offset, Partition, Record, StoredRecord};

use crate::append::PartitionWriter;
use crate::config::{FsyncPolicy, LogConfig};
use crate::disk::Disk;
use crate::error::{AppendError, RecoveryError};
use crate::recover::{RecoveryReport, recover_partition};

// ANCHOR: durable_log
/// A partitioned log whose records survive a crash.
///
/// Every append goes to the partition's active segment file first and then
/// into step 06's in-memory [`Log`], which readers use: step 08's consumer and
/// step 09's commit tracker run on [`DurableLog::memory`] without a line of
/// their code changed. Opening the log recovers the segment files and replays
/// their records into a fresh in-memory log.
///
/// Share it as an `Arc<DurableLog<D>>`: every method takes `&self`, and each
/// partition's writer sits behind its own lock, as each in-memory partition
/// does.
#[derive(Debug)]
pub struct DurableLog<D: Disk> {
    /// Where the segment files are written.
    disk: D,
    /// The log's directory: one `partition-N` directory per partition in it.
    dir: PathBuf,
    config: LogConfig,
    /// The records, in memory, for readers. It holds the same records as the
    /// files, at the same offsets, because it is only appended to under the
    /// partition's writer lock, after the file.
    memory: Arc<Log>,
    /// One writer per partition: its active segment and fsync bookkeeping.
    writers: Vec<Mutex<PartitionWriter<D>>>,
}

/// An acknowledged append: where the record went, and whether it is on disk
/// yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    pub partition: Partition,
    pub offset: Offset,
    /// `true` once the record (and every record before it in its partition)
    /// was fsynced: a power cut can no longer lose it. `false` under a policy
    /// that has not synced yet: a later ack, or [`DurableLog::sync`], says
    /// when.
    pub durable: bool,
}
// ANCHOR_END: durable_log

impl<D: Disk> DurableLog<D> {
    // ANCHOR: open
    /// Opens the log in `dir` on `disk`, creating it if it is empty, and
    /// recovers every partition: a torn tail left by a crash is cut off; damage
    /// with whole records after it is refused with an error that names the
    /// file and the byte.
    ///
    /// Opening twice in a row gives the same records: the first opening leaves
    /// nothing for the second to repair.
    pub fn open(
        disk: D,
        dir: &Path,
        config: LogConfig,
    ) -> Result<(DurableLog<D>, RecoveryReport), RecoveryError> {
        validate(&config)?;
        let memory = Log::new(config.partition_count).map_err(|_| {
            RecoveryError::InvalidConfig {
                reason: "a log needs at least one partition",
            }
        })?;
        create_dir(&disk, dir)?;
        let mut writers = Vec::new();
        let mut report = RecoveryReport::default();
        for partition in (0..config.partition_count).map(Partition) {
            let partition_dir = dir.join(format!("partition-{partition}"));
            create_dir(&disk, &partition_dir)?;
            let recovered =
                recover_partition(&disk, &partition_dir, &memory, partition)?;
            let writer = PartitionWriter::open(
                &disk,
                partition_dir,
                recovered.active,
                recovered.end,
            )?;
            writers.push(Mutex::new(writer));
            report.partitions.push(recovered.report);
        }
        // The partition directories are names in `dir`: make them durable
        // too, or a power cut can take a new partition's files with them.
        disk.sync_dir(dir).map_err(|source| RecoveryError::Io {
            action: "syncing the directory",
            path: dir.to_path_buf(),
            source,
        })?;
        let log = DurableLog {
            disk,
            dir: dir.to_path_buf(),
            config,
            memory: Arc::new(memory),
            writers,
        };
        Ok((log, report))
    }
    // ANCHOR_END: open

    // ANCHOR: durable_append
    /// Appends `record` to `partition`: to its segment file, fsynced as the
    /// policy says, and then to the in-memory log that readers see.
    ///
    /// After a disk failure the partition is stopped: what reached the file is
    /// unknown, so every later append fails until the log is opened again.
    pub fn append(
        &self,
        partition: Partition,
        record: Record,
    ) -> Result<Ack, AppendError> {
        let mut writer = self.writer(partition)?;
        let written = match writer.append(&self.disk, &record, &self.config) {
            Ok(written) => written,
            Err(error) => {
                if matches!(error, AppendError::Io { .. }) {
                    writer.stopped = true;
                }
                return Err(error);
            }
        };
        // Still under the writer's lock: the next record cannot reach the
        // memory log before this one, so both number it the same.
        let offset = self.memory.append(partition, record)?;
        debug_assert_eq!(
            offset, written.offset,
            "only the durable log appends to its memory log"
        );
        Ok(Ack {
            partition,
            offset,
            durable: written.durable,
        })
    }
    // ANCHOR_END: durable_append

    /// Fsyncs every partition that has records not on disk yet: after it
    /// returns `Ok`, every record appended so far survives a power cut.
    pub fn sync(&self) -> Result<(), AppendError> {
        for partition in (0..self.config.partition_count).map(Partition) {
            let mut writer = self.writer(partition)?;
            if let Err(error) = writer.sync() {
                writer.stopped = true;
                return Err(error);
            }
        }
        Ok(())
    }

    /// The in-memory log the records are read from: hand it to step 08's
    /// `Consumer` or step 09's pipeline. Read it only: an append made to it
    /// directly would be in no file.
    pub fn memory(&self) -> Arc<Log> {
        Arc::clone(&self.memory)
    }

    /// Up to `max` records of `partition` from offset `from` on, as
    /// [`Log::read`] gives them.
    pub fn read(
        &self,
        partition: Partition,
        from: Offset,
        max: usize,
    ) -> Result<Vec<StoredRecord>, LogError> {
        self.memory.read(partition, from, max)
    }

    /// The offset the next append to `partition` gets.
    pub fn end(&self, partition: Partition) -> Result<Offset, LogError> {
        self.memory.high_watermark(partition)
    }

    /// The offset below which every record of `partition` is fsynced: the
    /// records a power cut now cannot take.
    pub fn durable_end(
        &self,
        partition: Partition,
    ) -> Result<Offset, LogError> {
        let writer = self.lock(partition)?;
        Ok(Offset(writer.next_offset.0 - writer.unsynced))
    }

    /// The directory the log lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration the log was opened with.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// The directory holding `partition`'s segment files.
    pub fn partition_dir(&self, partition: Partition) -> PathBuf {
        self.dir.join(format!("partition-{partition}"))
    }

    fn lock(
        &self,
        partition: Partition,
    ) -> Result<MutexGuard<'_, PartitionWriter<D>>, LogError> {
        let Some(writer) = self.writers.get(partition.index()) else {
            return Err(LogError::UnknownPartition {
                partition,
                partition_count: self.config.partition_count,
            });
        };
        // A panic while appending leaves the writer at a record boundary or
        // marked stopped; take the lock over rather than fail forever.
        Ok(writer.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The writer of `partition`, locked, unless it stopped after a failure.
    fn writer(
        &self,
        partition: Partition,
    ) -> Result<MutexGuard<'_, PartitionWriter<D>>, AppendError> {
        let writer = self.lock(partition)?;
        if writer.stopped {
            return Err(AppendError::Stopped { partition });
        }
        Ok(writer)
    }
}

fn validate(config: &LogConfig) -> Result<(), RecoveryError> {
    let reason = if config.partition_count == 0 {
        "a log needs at least one partition"
    } else if config.segment_bytes == 0 {
        "segment_bytes must be at least 1"
    } else if config.fsync == FsyncPolicy::EveryRecords(0) {
        "FsyncPolicy::EveryRecords(n) needs n of at least 1"
    } else {
        return Ok(());
    };
    Err(RecoveryError::InvalidConfig { reason })
}

fn create_dir<D: Disk>(disk: &D, dir: &Path) -> Result<(), RecoveryError> {
    disk.create_dir_all(dir)
        .map_err(|source| RecoveryError::Io {
            action: "creating the directory",
            path: dir.to_path_buf(),
            source,
        })
}
