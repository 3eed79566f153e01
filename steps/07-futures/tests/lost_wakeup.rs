//! Exercise "lost_wakeup": the same `poll` of `WaitForOffset` in src/wait.rs,
//! this time with an append that lands while it runs.
//!
//! The tests of "wait_for_offset" append either before or after a poll, never
//! during one. A `poll` that checks the high watermark and only then registers
//! its waker leaves a gap between the two: an append that lands in it wakes
//! nobody, and the future waits forever for a record that is already there.
//!
//! Two tests aim at that gap. The first stages the append right after the
//! check, through a test hook in `record_exists`, so it catches the gap every
//! time. The second races a real appender thread against the poll two thousand
//! times, the way it happens in production: it often catches the gap too, but
//! only when both threads really run at the same time, which a busy machine
//! rarely allows.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use solution06_log::{Log, Offset, Partition, Record};
use step07_futures::WaitForOffset;

/// How many times the waiter races the appender. A round takes a few
/// microseconds; the whole test, well under a second.
const ROUNDS: u64 = 2_000;

/// Only a safety net: the test notices a lost wake-up without waiting (see
/// `Event::Appended`), so this fires only if the appender thread died.
const HANG_GUARD: Duration = Duration::from_secs(10);

/// Random extra delay, in spin-loop turns, for each side in each round: spreads
/// the moment of the append around the moment of the poll.
const JITTER: u64 = 50;

/// How far, in spin-loop turns, the appender's delay moves after each round.
const STEP: u64 = 10;

const PARTITION: Partition = Partition(0);

/// What the waiting side hears about, in order, on one channel.
#[derive(Debug, PartialEq)]
enum Event {
    /// The future's waker was woken.
    Woken,
    /// The appender's `append` has returned. `append` wakes the wakers it took
    /// before it returns, on the appender's thread, so a `Woken` it caused is
    /// always ahead of this `Appended` in the channel.
    Appended,
}

/// A waker that reports its wake-ups on a channel, so the test can wait for
/// them.
struct ChannelWaker(Sender<Event>);

impl Wake for ChannelWaker {
    fn wake(self: Arc<Self>) {
        // The receiver is gone once its round is over; a late wake-up for a
        // finished round is harmless.
        let _ = self.0.send(Event::Woken);
    }
}

/// A small xorshift generator: the delays vary from round to round, and the
/// same sequence is used on every run.
struct Jitter(u64);

impl Jitter {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % JITTER
    }
}

fn spin(turns: u64) {
    for _ in 0..turns {
        std::hint::spin_loop();
    }
}

/// Spins until `flag` reaches `round`, letting other threads run now and then
/// in case the other side is not on a CPU right now.
fn spin_until(flag: &AtomicU64, round: u64) {
    let mut turns = 0u32;
    while flag.load(Ordering::Acquire) < round {
        std::hint::spin_loop();
        turns = turns.wrapping_add(1);
        if turns.is_multiple_of(1024) {
            thread::yield_now();
        }
    }
}

// ANCHOR: staged
#[test]
fn an_append_right_after_the_check_still_wakes_the_future() {
    let log = Arc::new(Log::new(1).expect("a log with 1 partition is valid"));
    let future = WaitForOffset::new(Arc::clone(&log), PARTITION, Offset(0))
        .append_right_after_next_check(Record::new("seat-A12", "paid"));
    let mut waiting = tokio_test::task::spawn(future);

    let first_poll = waiting.poll();

    assert_eq!(
        log.high_watermark(PARTITION),
        Ok(Offset(1)),
        "the test could not stage its append: check the high watermark only through \
         `record_exists()`, which is where the test slips the append in"
    );
    match first_poll {
        // The second look, after registering, saw the record.
        Poll::Ready(outcome) => {
            assert_eq!(outcome, Ok(()), "partition 0 exists")
        }
        // Fine too, if the waker was registered before the append: then the
        // append woke it, and the next poll finds the record.
        Poll::Pending => {
            assert!(
                waiting.is_woken(),
                "lost wake-up: the record at offset 0 was appended right after your check of the \
                 high watermark, before your `register_waker`, so the append woke nobody, and \
                 the future returned Pending. Nothing will ever poll it again. Check again after \
                 registering, before returning Pending (chapter 07, \"The lost wake-up\")"
            );
            assert_eq!(
                waiting.poll(),
                Poll::Ready(Ok(())),
                "after the wake-up, the record at offset 0 exists: the next poll must be ready"
            );
        }
    }
}
// ANCHOR_END: staged

// ANCHOR: race
#[test]
fn an_append_racing_the_poll_always_wakes_the_waiting_future() {
    let log = Arc::new(Log::new(1).expect("a log with 1 partition is valid"));
    // `opened`: the round the waiter has set up. `running`: the round the
    // appender has picked up. Once the waiter sees `running`, both threads are
    // on a CPU at the same moment, and only the delays below decide who is
    // first.
    let opened = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicU64::new(0));
    let (jobs, appender_jobs) = mpsc::channel::<(Sender<Event>, u64)>();

    let appender = {
        let (log, opened, running) =
            (Arc::clone(&log), Arc::clone(&opened), Arc::clone(&running));
        thread::spawn(move || {
            for round in 1..=ROUNDS {
                spin_until(&opened, round);
                running.store(round, Ordering::Release);
                let Ok((events, delay)) = appender_jobs.recv() else {
                    return;
                };
                spin(delay);
                log.append(PARTITION, Record::new("seat-A12", "paid"))
                    .expect("partition 0 exists");
                let _ = events.send(Event::Appended);
            }
        })
    };

    let mut jitter = Jitter(0x2545_f491_4f6c_dd1d);
    // The appender's delay beyond the jitter. When the first poll finds the
    // record already there, the append came too early to race it: wait longer
    // next round. When the poll finds nothing, the append came during or after
    // it: wait less. So the append keeps landing around the poll.
    let mut lead: u64 = 0;
    for round in 1..=ROUNDS {
        // In round n the log holds n - 1 records, and the appender writes the
        // record at offset n - 1, which is the one the future waits for.
        let offset = Offset(round - 1);
        let (events_tx, events) = mpsc::channel();
        let waker = Waker::from(Arc::new(ChannelWaker(events_tx.clone())));
        let mut cx = Context::from_waker(&waker);
        let mut waiting =
            WaitForOffset::new(Arc::clone(&log), PARTITION, offset);

        jobs.send((events_tx, lead + jitter.next()))
            .expect("the appender thread is running");
        opened.store(round, Ordering::Release);
        spin_until(&running, round);
        spin(jitter.next());

        let mut first_poll = true;
        loop {
            let poll = Pin::new(&mut waiting).poll(&mut cx);
            if first_poll {
                lead = match poll {
                    Poll::Ready(_) => lead + STEP,
                    Poll::Pending => lead.saturating_sub(STEP),
                };
                first_poll = false;
            }
            if let Poll::Ready(outcome) = poll {
                outcome.expect("partition 0 exists");
                break;
            }
            match events.recv_timeout(HANG_GUARD) {
                // Woken: poll again, as an executor would.
                Ok(Event::Woken) => continue,
                Ok(Event::Appended) => panic!(
                    "lost wake-up in round {round} of {ROUNDS}: the future returned Pending, then the \
                     append of offset {offset} finished without waking it. Nothing will ever poll it \
                     again, although its record is there. The append came between your check of the \
                     high watermark and your `register_waker`: check the high watermark again after \
                     registering, before returning Pending (chapter 07, \"The lost wake-up\")"
                ),
                Err(
                    RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected,
                ) => panic!(
                    "round {round}: no wake-up and no append for {HANG_GUARD:?}; \
                     did the appender thread panic? (look for its message above)"
                ),
            }
        }
    }

    drop(jobs);
    appender.join().expect("the appender thread must not panic");
}
// ANCHOR_END: race
