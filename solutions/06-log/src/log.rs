//! The log itself: one append-only list of records per partition.
//!
//! This file holds the log's state, how it is created and how records get in.
//! How they come out is in `read.rs`; readers that wait for the next record are
//! in `wake.rs`.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use solution03_partitioning::{Partition, Record};

use crate::offset::{LogError, Offset};
use crate::wake::WaiterId;

// ANCHOR: log
/// A partitioned, append-only log of records: the heart of a broker.
///
/// Producers append; consumers read from any offset, as often as they like.
/// Share one log between tasks and threads as an `Arc<Log>`: every method takes
/// `&self`, and the state that changes sits behind a lock per partition.
#[derive(Debug)]
pub struct Log {
    /// One lock per partition, so that appends to different partitions never
    /// wait for each other: each partition is a log of its own, as in Kafka.
    ///
    /// A std `Mutex`, not tokio's, because no `.await` happens while it is
    /// held: each critical section is a push or a copy of a few handles, over
    /// in microseconds. A std lock is cheaper, and it lets `append` and `read`
    /// be plain functions that a future's `poll` (step 07) can call.
    pub(crate) partitions: Vec<Mutex<PartitionLog>>,
    /// Where [`Log::new_waiter_id`] hands out ids from. An atomic counter, not
    /// a lock: an id only has to be unique, and `fetch_add` is enough for that.
    /// `Ordering::Relaxed` suffices: nothing else is published through the id,
    /// so no other memory has to be made visible with it.
    pub(crate) next_waiter_id: AtomicU64,
}

/// What one partition holds.
#[derive(Debug, Default)]
pub(crate) struct PartitionLog {
    /// The records in append order. The record at index `i` is the record at
    /// offset `i`: the offset is the position, so it is never stored.
    pub(crate) records: Vec<Record>,
    /// The readers waiting for this partition's next record, each under its own
    /// id so that it can replace or remove its waker (see `wake.rs`).
    pub(crate) waiters: HashMap<WaiterId, Waker>,
}
// ANCHOR_END: log

impl Log {
    // ANCHOR: new
    /// A log with `partition_count` empty partitions, numbered from 0.
    ///
    /// Refuses 0 with [`LogError::NoPartitions`]: such a log could store
    /// nothing, and the mistake is easier to find here than at the first
    /// append.
    pub fn new(partition_count: u32) -> Result<Log, LogError> {
        // exercise: solution
        // A topic without partitions would accept no record at all: refuse it
        // here, where the mistake is made, not on the first append.
        if partition_count == 0 {
            return Err(LogError::NoPartitions);
        }
        let partitions = (0..partition_count)
            .map(|_| Mutex::new(PartitionLog::default()))
            .collect();
        Ok(Log {
            partitions,
            next_waiter_id: AtomicU64::new(0),
        })
        // exercise: stub
        // todo!("build the log, refusing 0 partitions (chapter 06)")
        // exercise: end
    }
    // ANCHOR_END: new

    /// How many partitions this log has. They are numbered
    /// `0..partition_count`.
    pub fn partition_count(&self) -> u32 {
        // `new` built one entry per partition from a `u32`, so the length fits.
        self.partitions.len() as u32
    }

    // ANCHOR: lock
    /// Locks one partition's state, or says that the partition does not exist.
    ///
    /// A poisoned lock (a thread panicked while holding it) is taken over
    /// rather than turned into an error: every critical section in this crate
    /// changes the state in one step (one push, one insert, one removal), so a
    /// panic cannot leave a partition half-changed.
    pub(crate) fn lock(
        &self,
        partition: Partition,
    ) -> Result<MutexGuard<'_, PartitionLog>, LogError> {
        let Some(state) = self.partitions.get(partition.index()) else {
            return Err(LogError::UnknownPartition {
                partition,
                partition_count: self.partition_count(),
            });
        };
        Ok(state.lock().unwrap_or_else(PoisonError::into_inner))
    }
    // ANCHOR_END: lock

    // ANCHOR: append
    /// Appends `record` to the end of `partition` and returns its offset. Every
    /// reader waiting on that partition is woken.
    ///
    /// Offsets are dense and strictly increasing per partition: the first
    /// record gets 0, the next 1, and no two appends get the same offset,
    /// however many threads append at once.
    ///
    /// The waiting readers' wakers are taken out while the partition is locked
    /// and woken after the lock is released (the chapter says why).
    pub fn append(
        &self,
        partition: Partition,
        record: Record,
    ) -> Result<Offset, LogError> {
        // exercise: solution
        let (offset, waiting) = {
            let mut state = self.lock(partition)?;
            // Choosing the offset and pushing happen under the same lock: two
            // appenders cannot both see the same length and claim the same
            // offset.
            let offset = Offset(state.records.len() as u64);
            state.records.push(record);
            // Take the wakers out now, while the lock is held, so that a reader
            // registering from here on waits for the *next* append.
            (offset, std::mem::take(&mut state.waiters))
        };
        // The lock is released: only now wake the readers. A woken task may run
        // at once, on another thread or (with some executors) right here inside
        // `wake`, and the first thing it does is call back into the log to
        // read. Waking with the lock held would make it wait for us, or
        // deadlock when it runs on this thread.
        for waker in waiting.into_values() {
            waker.wake();
        }
        Ok(offset)
        // exercise: stub
        // todo!("store the record, then wake the readers (chapter 06)")
        // exercise: end
    }
    // ANCHOR_END: append

    // ANCHOR: high_watermark
    /// The high watermark (here the same as what Kafka calls the log end
    /// offset): the offset the next append will get, which is also how many
    /// records the partition holds. A reader that has read everything below it
    /// is caught up.
    pub fn high_watermark(
        &self,
        partition: Partition,
    ) -> Result<Offset, LogError> {
        // exercise: solution
        let state = self.lock(partition)?;
        // Not `len - 1`: that is the last record's offset, and it does not
        // exist for an empty partition.
        Ok(Offset(state.records.len() as u64))
        // exercise: stub
        // todo!("return the offset the next append gets (chapter 06)")
        // exercise: end
    }
    // ANCHOR_END: high_watermark
}
