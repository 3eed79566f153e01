//! A future that waits until a partition holds the record at an offset: what a
//! consumer that has read everything does while it waits for the next record.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use solution06_log::{Log, LogError, Offset, Partition, Record, WaiterId};

// ANCHOR: wait_for_offset
/// Ready once `partition` of `log` holds the record at `offset`, that is, once
/// the partition's high watermark is above `offset`. It does not read the
/// record; it says that reading it will find it.
///
/// A consumer that has read everything below the high watermark waits for the
/// high watermark itself: with three records (offsets 0, 1 and 2) it waits for
/// offset 3, and the future is ready when the fourth record is appended.
/// Offsets are positions, so "the record at 3 exists" means "high watermark >
/// 3", not ">= 3".
///
/// The output is `Err` only when the partition does not exist.
///
/// Created with [`WaitForOffset::new`]; nothing happens until it is polled.
#[derive(Debug)]
pub struct WaitForOffset {
    /// The log to watch, shared with the appenders.
    log: Arc<Log>,
    /// The partition whose high watermark is watched.
    partition: Partition,
    /// The offset whose record must exist.
    offset: Offset,
    /// This future's name in the log's table of waiters. One id for the whole
    /// life of the future, so that registering again replaces the waker it left
    /// before instead of adding another one.
    waiter: WaiterId,
    /// For tests only: a record to append right after the next look at the high
    /// watermark, to stage the race of the lost wake-up (see
    /// [`WaitForOffset::append_right_after_next_check`]). `None` in real use.
    staged_append: Option<Record>,
}
// ANCHOR_END: wait_for_offset

impl WaitForOffset {
    /// A future that is ready once `partition` of `log` holds the record at
    /// `offset`.
    pub fn new(
        log: Arc<Log>,
        partition: Partition,
        offset: Offset,
    ) -> WaitForOffset {
        // The id is taken here, once. Taking a new one in every `poll` would
        // leave one waker per poll in the log, each keeping an old task alive.
        let waiter = log.new_waiter_id();
        WaitForOffset {
            log,
            partition,
            offset,
            waiter,
            staged_append: None,
        }
    }

    // ANCHOR: record_exists
    /// Whether the record at `self.offset` exists yet: one look at the high
    /// watermark. Use this in `poll` for every check: the race test stages its
    /// append here.
    fn record_exists(&mut self) -> Result<bool, LogError> {
        let high_watermark = self.log.high_watermark(self.partition)?;
        if let Some(record) = self.staged_append.take() {
            // The test hook: another producer's append lands right after this
            // look, so the answer below is already out of date when `poll` gets
            // it. That is the unlucky timing of the lost wake-up, made certain.
            self.log.append(self.partition, record)?;
        }
        Ok(high_watermark > self.offset)
    }
    // ANCHOR_END: record_exists

    /// For tests: appends `record` to the partition right after the next check
    /// of the high watermark, as if another producer's append landed just then.
    ///
    /// A lost wake-up needs an append to land in a gap of well under a
    /// microsecond between two lines of `poll`; real threads hit it only now
    /// and then. This hook hits it every time, the way a fail point does in a
    /// database's test suite (TiKV's `fail-rs`, FoundationDB's `BUGGIFY`).
    #[doc(hidden)]
    pub fn append_right_after_next_check(
        mut self,
        record: Record,
    ) -> WaitForOffset {
        self.staged_append = Some(record);
        self
    }
}

// ANCHOR: poll
impl Future for WaitForOffset {
    type Output = Result<(), LogError>;

    /// `Ready(Ok(()))` once `record_exists()` says the record is there (use it
    /// for every look at the high watermark). Otherwise `Pending`, and the next
    /// append to the partition, whenever it lands, must wake `cx`'s waker.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // exercise: solution
        // ANCHOR: poll_core
        // `WaitForOffset` is `Unpin` (none of its fields points into the future
        // itself), so the pin can simply be taken off.
        let this = self.get_mut();

        // The fast path: the record is already there, no need to register.
        if this.record_exists()? {
            return Poll::Ready(Ok(()));
        }

        // Leave this poll's waker with the partition. Every poll does this
        // again, even when it did so before: the append that woke the last
        // waker also removed it, and the task may have moved, so only this
        // waker is sure to reach the task that polls now. The same `waiter` id
        // replaces the old waker instead of adding another.
        this.log
            .register_waker(this.partition, this.waiter, cx.waker())?;

        // Check again, now that the waker is registered. An append that came
        // after the first check but before the registration took no waker with
        // it: without this second look, the future would return `Pending` with
        // nobody left to wake it. That is the lost wake-up. From here on an
        // append either happened before this check (and the check sees it) or
        // after the registration (and it wakes the waker): there is no gap
        // left.
        if this.record_exists()? {
            // The waker stays registered until the next append or until `drop`:
            // a wake-up for a finished future is harmless, and `drop` removes
            // it.
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
        // ANCHOR_END: poll_core
        // exercise: stub
        // todo!("wait for the record, losing no wake-up (chapter 07)")
        // exercise: end
    }
}
// ANCHOR_END: poll

// ANCHOR: drop
impl Drop for WaitForOffset {
    /// A future that is dropped before it is ready (a timeout fired, the task
    /// was cancelled) takes its waker out of the log. Otherwise the log would
    /// keep it, and with it the task it belongs to, until the next append,
    /// which on a quiet partition may never come.
    fn drop(&mut self) {
        // exercise: solution
        self.log.deregister(self.partition, self.waiter);
        // exercise: stub
        // // TODO (chapter 07): remove this future's waker from the partition's waiters.
        // // (No `todo!()` here: a panic in `drop` while a test is already failing
        // // would abort the whole test run.)
        // exercise: end
    }
}
// ANCHOR_END: drop
