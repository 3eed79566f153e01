//! Readers that wait: a consumer that has read everything leaves a [`Waker`]
//! with the partition, and the next append wakes it (in `Log::append`).
//!
//! This is the plumbing under step 07's future "ready when the partition
//! reaches an offset". A future cannot block a thread while it waits; it
//! registers its waker and returns `Poll::Pending`, and whoever makes progress
//! possible (here: the appender) calls `wake` so that the executor polls it
//! again.

use std::collections::hash_map::Entry;
use std::sync::atomic::Ordering;
use std::task::Waker;

use solution03_partitioning::Partition;

use crate::log::Log;
use crate::offset::LogError;

// ANCHOR: waiter_id
/// Names one waiting reader, so that it can replace its waker when it is polled
/// again and remove it when it is dropped.
///
/// The field is private: ids come only from [`Log::new_waiter_id`], which never
/// hands out the same one twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WaiterId(u64);
// ANCHOR_END: waiter_id

impl Log {
    // ANCHOR: new_waiter_id
    /// A waiter id that no other caller of this log has been given, even when
    /// many threads ask at the same moment.
    pub fn new_waiter_id(&self) -> WaiterId {
        // exercise: solution
        // One atomic read-modify-write: two threads can never get the same
        // value. A `load` followed by a `store` could. `Relaxed` is enough,
        // because the id orders nothing else; it only has to be unique.
        WaiterId(self.next_waiter_id.fetch_add(1, Ordering::Relaxed))
        // exercise: stub
        // todo!("hand out an id never given before (chapter 06)")
        // exercise: end
    }
    // ANCHOR_END: new_waiter_id

    // ANCHOR: register_waker
    /// Leaves `waker` with `partition`: the next append to that partition wakes
    /// it, once, and forgets it.
    ///
    /// Registering again with the same `waiter` replaces the waker it left
    /// before, because a future may be polled with a different waker each time
    /// (it moved to another task) and only the latest one is sure to reach it.
    /// When [`Waker::will_wake`] says the stored waker wakes the same task, it
    /// is kept, and nothing is cloned.
    ///
    /// To wait without missing an append, register first and check the high
    /// watermark after: an append that comes between the two is then either
    /// seen by the check or wakes this waker (step 07).
    pub fn register_waker(
        &self,
        partition: Partition,
        waiter: WaiterId,
        waker: &Waker,
    ) -> Result<(), LogError> {
        // exercise: solution
        let mut state = self.lock(partition)?;
        match state.waiters.entry(waiter) {
            Entry::Occupied(mut registered) => {
                // A future is usually polled again by the same task: then the
                // stored waker already wakes the right task, and cloning the
                // new one (an atomic increment, sometimes more) would be
                // wasted.
                if !registered.get().will_wake(waker) {
                    registered.insert(waker.clone());
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(waker.clone());
            }
        }
        Ok(())
        // exercise: stub
        // todo!("leave `waker` with the partition (chapter 06)")
        // exercise: end
    }
    // ANCHOR_END: register_waker

    // ANCHOR: deregister
    /// Forgets the waker `waiter` left with `partition`, if any: a future that
    /// is dropped before it was woken calls this, so that the log does not keep
    /// its waker, and the task behind it, alive.
    ///
    /// An unknown partition or waiter is not an error: nothing is registered
    /// there, so nothing is left to remove. (This is called from `Drop`, where
    /// there would be nobody to return an error to.)
    pub fn deregister(&self, partition: Partition, waiter: WaiterId) {
        // exercise: solution
        if let Ok(mut state) = self.lock(partition) {
            state.waiters.remove(&waiter);
        }
        // exercise: stub
        // todo!("forget the waker `waiter` left (chapter 06)")
        // exercise: end
    }
    // ANCHOR_END: deregister

    /// How many wakers are registered on `partition` (0 for a partition that
    /// does not exist). For tests: a number that only grows is a leak.
    pub fn waiting(&self, partition: Partition) -> usize {
        self.lock(partition).map_or(0, |state| state.waiters.len())
    }
}
