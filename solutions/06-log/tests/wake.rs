//! Exercise "wake": `new_waiter_id`, `register_waker` and `deregister` in
//! src/wake.rs, and the wake-up at the end of `append` in src/log.rs.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{RawWaker, RawWakerVTable, Wake, Waker};
use std::thread;
use std::time::Duration;

use solution06_log::{Log, LogError, Offset, Partition, Record};

fn record() -> Record {
    Record::new("seat-A12", "ReservationRequested")
}

// ANCHOR: counting_waker
/// A waker that counts how often it is woken, so a test can see who was woken
/// by what. `std::task::Wake` turns an `Arc` of any such struct into a `Waker`.
#[derive(Default)]
struct WakeCounter {
    wakes: AtomicUsize,
}

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

/// A fresh counter and a `Waker` that counts into it.
fn counting_waker() -> (Arc<WakeCounter>, Waker) {
    let counter = Arc::new(WakeCounter::default());
    let waker = Waker::from(Arc::clone(&counter));
    (counter, waker)
}

impl WakeCounter {
    fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }
}
// ANCHOR_END: counting_waker

#[test]
fn waiter_ids_are_unique_even_across_threads() {
    const THREADS: usize = 4;
    let log = Arc::new(Log::new(1).unwrap());
    // The barrier lets every thread start at the same moment, so that their
    // calls really overlap instead of running one thread after another.
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let log = Arc::clone(&log);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                (0..100_000)
                    .map(|_| log.new_waiter_id())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let ids: Vec<_> = handles
        .into_iter()
        .flat_map(|h| match h.join() {
            Ok(ids) => ids,
            Err(panic) => panic!(
                "a thread asking for ids panicked: {}",
                panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "see its message above".to_owned())
            ),
        })
        .collect();
    let distinct: BTreeSet<_> = ids.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "new_waiter_id handed out {} ids, but only {} different ones: two waiters with one id would remove each other's wakers; use one atomic fetch_add",
        ids.len(),
        distinct.len()
    );
}

#[test]
fn registering_does_not_wake() {
    let log = Log::new(1).unwrap();
    let (counter, waker) = counting_waker();
    log.register_waker(Partition(0), log.new_waiter_id(), &waker)
        .unwrap();
    assert_eq!(
        log.waiting(Partition(0)),
        1,
        "after register_waker, partition 0 must hold one waker"
    );
    assert_eq!(
        counter.wakes(),
        0,
        "registering a waker must not wake it: nothing was appended yet"
    );
}

#[test]
fn an_append_wakes_the_waker_registered_on_its_partition() {
    let log = Log::new(1).unwrap();
    let (counter, waker) = counting_waker();
    log.register_waker(Partition(0), log.new_waiter_id(), &waker)
        .unwrap();
    log.append(Partition(0), record()).unwrap();
    assert_eq!(
        counter.wakes(),
        1,
        "an append to partition 0 must wake the reader waiting on partition 0, once: append takes the partition's wakers and wakes them (src/log.rs)"
    );
}

#[test]
fn an_append_to_another_partition_wakes_nobody_here() {
    let log = Log::new(2).unwrap();
    let (counter, waker) = counting_waker();
    log.register_waker(Partition(0), log.new_waiter_id(), &waker)
        .unwrap();
    log.append(Partition(1), record()).unwrap();
    assert_eq!(
        counter.wakes(),
        0,
        "an append to partition 1 must not wake a reader waiting on partition 0: it has nothing new to read"
    );
    assert_eq!(
        log.waiting(Partition(0)),
        1,
        "the reader on partition 0 must still be waiting after an append to partition 1"
    );
}

#[test]
fn an_append_wakes_every_waiter_of_the_partition() {
    let log = Log::new(1).unwrap();
    let counters: Vec<Arc<WakeCounter>> = (0..3)
        .map(|_| {
            let (counter, waker) = counting_waker();
            log.register_waker(Partition(0), log.new_waiter_id(), &waker)
                .unwrap();
            counter
        })
        .collect();
    log.append(Partition(0), record()).unwrap();
    let wakes: Vec<usize> = counters.iter().map(|c| c.wakes()).collect();
    assert_eq!(
        wakes,
        vec![1, 1, 1],
        "three readers wait on partition 0: one append must wake each of them once"
    );
}

#[test]
fn a_woken_waker_is_removed() {
    let log = Log::new(1).unwrap();
    let (counter, waker) = counting_waker();
    log.register_waker(Partition(0), log.new_waiter_id(), &waker)
        .unwrap();
    log.append(Partition(0), record()).unwrap();
    assert_eq!(
        log.waiting(Partition(0)),
        0,
        "a woken waker must be removed: the woken reader registers again if it still has to wait"
    );
    log.append(Partition(0), record()).unwrap();
    assert_eq!(
        counter.wakes(),
        1,
        "a waker is woken once: the second append must not wake it again, it was not registered again"
    );
}

#[test]
fn registering_again_with_the_same_id_replaces_the_waker() {
    let log = Log::new(1).unwrap();
    let waiter = log.new_waiter_id();
    let (old, old_waker) = counting_waker();
    let (new, new_waker) = counting_waker();
    log.register_waker(Partition(0), waiter, &old_waker)
        .unwrap();
    log.register_waker(Partition(0), waiter, &new_waker)
        .unwrap();
    assert_eq!(
        log.waiting(Partition(0)),
        1,
        "one waiter registered twice is still one waiter: the second waker replaces the first"
    );
    log.append(Partition(0), record()).unwrap();
    assert_eq!(
        (old.wakes(), new.wakes()),
        (0, 1),
        "(old waker's wakes, new waker's wakes): only the latest waker a waiter registered is sure to reach its task, so the append must wake that one"
    );
}

#[test]
fn different_waiters_with_the_same_waker_are_two_waiters() {
    let log = Log::new(1).unwrap();
    let (counter, waker) = counting_waker();
    log.register_waker(Partition(0), log.new_waiter_id(), &waker)
        .unwrap();
    log.register_waker(Partition(0), log.new_waiter_id(), &waker)
        .unwrap();
    assert_eq!(
        log.waiting(Partition(0)),
        2,
        "two waiter ids are two waiters, even with the same waker: key the wakers by WaiterId"
    );
    log.append(Partition(0), record()).unwrap();
    assert_eq!(counter.wakes(), 2, "both waiters must be woken");
}

// ANCHOR: clone_counting_waker
/// A hand-made waker that counts how often it is cloned. Its data pointer is a
/// counter that lives for the whole test run, so it needs no reference
/// counting: cloning returns the same pointer, and waking and dropping do
/// nothing.
static CLONE_COUNTING: RawWakerVTable =
    RawWakerVTable::new(count_clone, ignore, ignore, ignore);

unsafe fn count_clone(data: *const ()) -> RawWaker {
    // SAFETY: every RawWaker with this vtable points at a leaked `AtomicUsize`.
    let clones = unsafe { &*data.cast::<AtomicUsize>() };
    clones.fetch_add(1, SeqCst);
    RawWaker::new(data, &CLONE_COUNTING)
}

unsafe fn ignore(_data: *const ()) {}

fn clone_counting_waker() -> (&'static AtomicUsize, Waker) {
    let clones: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    let raw = RawWaker::new(std::ptr::from_ref(clones).cast(), &CLONE_COUNTING);
    // SAFETY: the vtable's functions only touch an atomic that is never freed,
    // so they are safe to call from any thread, any number of times.
    (clones, unsafe { Waker::from_raw(raw) })
}
// ANCHOR_END: clone_counting_waker

#[test]
fn registering_the_same_waker_again_does_not_clone_it() {
    let log = Log::new(1).unwrap();
    let waiter = log.new_waiter_id();
    let (clones, waker) = clone_counting_waker();
    log.register_waker(Partition(0), waiter, &waker).unwrap();
    assert_eq!(
        clones.load(SeqCst),
        1,
        "the first registration must store a clone of the waker: register_waker only borrows it"
    );
    log.register_waker(Partition(0), waiter, &waker).unwrap();
    log.register_waker(Partition(0), waiter, &waker).unwrap();
    let cloned = clones.load(SeqCst);
    assert_eq!(
        cloned, 1,
        "the waker was cloned {cloned} times over 3 registrations, expected 1: registering the same waker for the same waiter again must not clone it again; a future is polled many times by the same task, so check `stored.will_wake(waker)` first"
    );
}

#[test]
fn deregister_removes_the_waker() {
    let log = Log::new(1).unwrap();
    let waiter = log.new_waiter_id();
    let (counter, waker) = counting_waker();
    log.register_waker(Partition(0), waiter, &waker).unwrap();
    log.deregister(Partition(0), waiter);
    assert_eq!(
        log.waiting(Partition(0)),
        0,
        "after deregister, the partition must hold no waker for that waiter: a dropped future must not leave its waker behind"
    );
    log.append(Partition(0), record()).unwrap();
    assert_eq!(
        counter.wakes(),
        0,
        "a deregistered waiter must not be woken"
    );
    assert_eq!(
        Arc::strong_count(&counter),
        2,
        "the log must not keep a clone of a deregistered waker (the test holds the other two references)"
    );
}

#[test]
fn deregister_removes_only_that_waiter() {
    let log = Log::new(1).unwrap();
    let leaving = log.new_waiter_id();
    let staying = log.new_waiter_id();
    let (leaving_counter, leaving_waker) = counting_waker();
    let (staying_counter, staying_waker) = counting_waker();
    log.register_waker(Partition(0), leaving, &leaving_waker)
        .unwrap();
    log.register_waker(Partition(0), staying, &staying_waker)
        .unwrap();
    log.deregister(Partition(0), leaving);
    log.append(Partition(0), record()).unwrap();
    assert_eq!(
        (leaving_counter.wakes(), staying_counter.wakes()),
        (0, 1),
        "(deregistered waiter's wakes, other waiter's wakes): deregister removes one waiter, not every waiter of the partition"
    );
}

#[test]
fn deregistering_what_is_not_registered_is_harmless() {
    let log = Log::new(1).unwrap();
    let (counter, waker) = counting_waker();
    let waiter = log.new_waiter_id();
    log.register_waker(Partition(0), waiter, &waker).unwrap();
    // A future that was already woken, or never registered, is dropped: its
    // `Drop` calls deregister anyway. None of this may panic or touch the
    // others.
    log.deregister(Partition(0), log.new_waiter_id());
    log.deregister(Partition(5), waiter);
    assert_eq!(
        log.waiting(Partition(0)),
        1,
        "deregistering an unknown waiter, or on another partition, must leave the registered waiter alone"
    );
    log.append(Partition(0), record()).unwrap();
    assert_eq!(
        counter.wakes(),
        1,
        "the registered waiter must still be woken"
    );
}

#[test]
fn registering_on_an_unknown_partition_is_an_error() {
    let log = Log::new(2).unwrap();
    let (_counter, waker) = counting_waker();
    assert_eq!(
        log.register_waker(Partition(2), log.new_waiter_id(), &waker),
        Err(LogError::UnknownPartition {
            partition: Partition(2),
            partition_count: 2,
        }),
        "a reader cannot wait on partition 2 of a 2-partition log: it would wait forever"
    );
}

// ANCHOR: reentrant_waker
/// A waker that does what a woken task does: it reads the log at once, from
/// inside `wake`, and remembers the high watermark it saw.
struct ReadsOnWake {
    log: Arc<Log>,
    seen: Mutex<Option<Offset>>,
}

impl Wake for ReadsOnWake {
    fn wake(self: Arc<Self>) {
        let high_watermark = self.log.high_watermark(Partition(0)).ok();
        if let Ok(mut seen) = self.seen.lock() {
            *seen = high_watermark;
        }
    }
}

#[test]
fn append_wakes_after_releasing_the_lock_and_after_storing_the_record() {
    let log = Arc::new(Log::new(1).unwrap());
    let reader = Arc::new(ReadsOnWake {
        log: Arc::clone(&log),
        seen: Mutex::new(None),
    });
    log.register_waker(
        Partition(0),
        log.new_waiter_id(),
        &Waker::from(Arc::clone(&reader)),
    )
    .unwrap();

    // Append on another thread, so that this one can report a deadlock instead
    // of hanging with it. A correct append returns in microseconds; the time
    // limit only decides how long to wait for one that never returns.
    let (done, finished) = mpsc::channel();
    let appender = Arc::clone(&log);
    let appending = thread::spawn(move || {
        let _ = done.send(appender.append(Partition(0), record()));
    });
    match finished.recv_timeout(Duration::from_secs(10)) {
        Ok(result) => {
            assert_eq!(result, Ok(Offset(0)), "the append itself must succeed")
        }
        Err(RecvTimeoutError::Timeout) => panic!(
            "append did not return within 10 seconds: it woke a reader while still holding the partition's lock, and the reader, which calls back into the log as a woken task does, waits for that lock forever. Take the wakers out under the lock, release it, then wake them (in `Log::append`, src/log.rs)"
        ),
        Err(RecvTimeoutError::Disconnected) => {
            // The appending thread ended without an answer: `append` panicked.
            // Show its message here, where the test fails.
            let payload = appending
                .join()
                .expect_err("a thread that did not send must have panicked");
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| {
                    payload.downcast_ref::<&str>().map(|s| s.to_string())
                })
                .unwrap_or_default();
            panic!("append panicked: {message}");
        }
    }
    let seen = *reader.seen.lock().unwrap();
    assert_eq!(
        seen,
        Some(Offset(1)),
        "a woken reader must find the new record: wake only after the record is stored, or it sees the old high watermark, goes back to sleep, and misses the append"
    );
}
// ANCHOR_END: reentrant_waker
