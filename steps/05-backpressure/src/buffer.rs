//! The bounded producer buffer: producers put records in, the sender takes them
//! out, and a byte budget decides what happens in between.
//!
//! A Kafka producer works the same way. `send()` does not talk to the network:
//! it appends the record to an in-memory buffer (the record accumulator) and
//! returns. A background "sender" thread drains that buffer into batches for
//! the brokers. When the brokers or the network are slower than the
//! application, the buffer fills up, and `send()` has to do something else:
//! that something is the [`BackpressureMode`].

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use solution03_partitioning::Record;
use tokio::sync::{Semaphore, TryAcquireError};

use crate::{BackpressureMode, BufferError};

// ANCHOR: buffer
/// A producer's buffer with a fixed budget in bytes (Kafka's `buffer.memory`,
/// 32 MiB by default). Shared by reference (or in an `Arc`) between the tasks
/// that produce and the task that sends.
///
/// The budget is a [`Semaphore`] with one permit per byte. A send takes
/// `record.size()` permits before its record goes in, and taking a record out
/// gives them back. Tokio's semaphore is fair: a task that has to wait joins
/// the back of a queue, and permits that come back go to the front of that
/// queue first, so blocked senders finish in the order they started waiting,
/// and nobody can wait forever while later senders keep getting through.
#[derive(Debug)]
pub struct ProducerBuffer {
    /// Free space, one permit per byte. Permits a send takes are `forget`-ed,
    /// not dropped: dropping them would give the bytes back while the record is
    /// still in the buffer. `take` and `drain` give them back with
    /// `add_permits`.
    space: Semaphore,
    /// The records waiting for the sender, oldest first, and their total size.
    /// A `std` mutex, not a Tokio one: no `.await` happens while it is held.
    queue: Mutex<Queue>,
    /// The budget in bytes, as configured; a record larger than this never
    /// fits.
    capacity: usize,
}
// ANCHOR_END: buffer

/// The records in the buffer and their total size, kept together so that they
/// cannot disagree.
#[derive(Debug, Default)]
struct Queue {
    records: VecDeque<Record>,
    bytes: usize,
}

impl Queue {
    /// Appends a record whose bytes have already been reserved.
    fn push(&mut self, record: Record) {
        self.bytes += record.size();
        self.records.push_back(record);
    }

    /// Removes the oldest record. Its bytes are still reserved: the caller
    /// gives them back to the semaphore.
    fn pop(&mut self) -> Option<Record> {
        let record = self.records.pop_front()?;
        self.bytes -= record.size();
        Some(record)
    }

    /// The size of the oldest record, without removing it.
    fn front_size(&self) -> Option<usize> {
        self.records.front().map(Record::size)
    }
}

impl ProducerBuffer {
    /// A buffer that holds at most `capacity_bytes` bytes of records.
    ///
    /// The budget is a `u32` because a semaphore hands out at most `u32::MAX`
    /// permits in one call; 4 GiB is a hundred times Kafka's default.
    ///
    /// # Panics
    ///
    /// On targets whose `usize` is 32 bits, if `capacity_bytes` is more than
    /// [`Semaphore::MAX_PERMITS`] (half a gigabyte there).
    pub fn new(capacity_bytes: u32) -> Self {
        let capacity = capacity_bytes as usize;
        Self {
            space: Semaphore::new(capacity),
            queue: Mutex::new(Queue::default()),
            capacity,
        }
    }

    /// The budget in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The bytes of the records in the buffer now. Never more than
    /// [`capacity`](Self::capacity).
    pub fn buffered_bytes(&self) -> usize {
        self.queue().bytes
    }

    /// How many records are in the buffer now: the records the sender has not
    /// taken yet.
    pub fn buffered_records(&self) -> usize {
        self.queue().records.len()
    }

    /// Refuses every send from now on, and wakes every blocked send with
    /// [`BufferError::Closed`] and its record. Records already in the buffer
    /// stay there for the sender to take: closing is how a producer shuts down
    /// without leaving callers waiting forever (Kafka's producer does the same
    /// on `close()`).
    pub fn close(&self) {
        self.space.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.space.is_closed()
    }

    /// The permits `record` needs, or `None` when it is larger than the whole
    /// buffer. Such a record must be refused at once in every mode: waiting for
    /// it would never end, and since waiters are served in order, everyone
    /// queued behind it would wait forever too.
    fn permits_for(&self, record: &Record) -> Option<u32> {
        let size = record.size();
        if size > self.capacity {
            return None;
        }
        // Cannot fail: `size <= capacity`, and the capacity came from a `u32`.
        u32::try_from(size).ok()
    }

    /// The queue, even if a thread panicked while holding the lock: `Queue`'s
    /// methods cannot leave it half-changed, so the data is still consistent.
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: try_send
    /// Puts `record` in the buffer if there is room now, without waiting.
    ///
    /// Errors, each with the record: [`BufferError::TooLarge`] if it can never
    /// fit, [`BufferError::Full`] if there is no room now (including room that
    /// is promised to senders already waiting: a newcomer does not jump the
    /// queue), [`BufferError::Closed`] after [`close`](Self::close).
    pub fn try_send(&self, record: Record) -> Result<(), BufferError> {
        todo!("buffer the record if it fits now, or hand it back (chapter 05)")
    }
    // ANCHOR_END: try_send

    // ANCHOR: take
    /// The sender's side: removes the oldest record and gives its bytes back,
    /// which wakes the senders waiting for them, first come first served.
    pub fn take(&self) -> Option<Record> {
        todo!("take the oldest record and free its bytes (chapter 05)")
    }
    // ANCHOR_END: take

    // ANCHOR: send
    /// Puts `record` in the buffer, waiting for room as `mode` allows.
    ///
    /// Returns `Ok(())` once the record is in the buffer. Otherwise the error
    /// holds the record: [`BufferError::TooLarge`] at once in every mode,
    /// [`BufferError::Full`] at once in [`BackpressureMode::FailImmediately`],
    /// [`BufferError::TimedOut`] after exactly the timeout in
    /// [`BackpressureMode::BlockWithTimeout`] (its `waited` is that timeout),
    /// [`BufferError::Closed`] if the buffer is closed before or while waiting.
    ///
    /// A waiting send is woken only when its turn has come and its bytes are
    /// free, in the order the sends started waiting. Dropping the future gives
    /// up its place in the line, and the record with it: that is the caller's
    /// choice.
    pub async fn send(
        &self,
        record: Record,
        mode: BackpressureMode,
    ) -> Result<(), BufferError> {
        todo!("buffer the record, waiting as `mode` allows (chapter 05)")
    }
    // ANCHOR_END: send

    // ANCHOR: drain
    /// The sender's side, a batch at a time: removes the oldest records, in
    /// order, as long as their total stays within `max_bytes` (think Kafka's
    /// `batch.size`), and gives their bytes back.
    ///
    /// Stops at the first record that does not fit, rather than skipping it:
    /// the buffer keeps its order. But a non-empty buffer always gives at least
    /// one record, even one larger than `max_bytes`, which goes out alone
    /// (Kafka sends an oversized record as a batch of its own). Otherwise that
    /// record would block the buffer, and every sender waiting on it, forever.
    pub fn drain(&self, max_bytes: usize) -> Vec<Record> {
        todo!("take the oldest records, up to `max_bytes` (chapter 05)")
    }
    // ANCHOR_END: drain
}
