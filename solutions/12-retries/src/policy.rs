//! What to do when a handler fails: retry (when, and how often), park, or
//! give up and dead-letter.

use std::time::Duration;

use rand::{Rng, RngExt};
use solution01_events::BookingId;
use solution11_idempotency::HandleError;

// ANCHOR: handler_error
/// Why a handler could not handle an event, sorted by what to do about it.
///
/// The question that sorts a failure is: *could the same event succeed later,
/// unchanged?* A busy database, a timeout, a disk that is full: yes, the world
/// around the event is at fault, so wait and try again. Bytes that are not an
/// event: never, however long we wait, so retrying only delays everything
/// behind it.
///
/// A refusal by the state machine (a second payment, a payment after expiry)
/// is none of these: it is an answer, stored by step 11's handler as the
/// event's outcome. The event was handled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Worth trying again later: nothing is wrong with the event itself.
    #[error(
        "the handler failed for a reason outside the event, which may pass: \
         {reason}"
    )]
    Transient { reason: String },
    /// Retrying cannot help: the event can never be handled as it is.
    #[error("the handler can never handle this event: {reason}")]
    Permanent { reason: String },
    /// The event's booking was never requested, as far as the handler knows:
    /// its `ReservationRequested` may still be on its way (it came from another
    /// producer, through another path). Park the event, do not retry it blind.
    #[error(
        "booking {booking_id} is not known yet: its ReservationRequested may \
         still be on its way"
    )]
    NotRequestedYet { booking_id: BookingId },
}
// ANCHOR_END: handler_error

// ANCHOR: classify
/// Sorts an error of step 11's SQLite handler.
///
/// Only an unknown booking says something about the event; every other error
/// is about the database (locked, read-only, damaged, refusing a write), and
/// the same event may succeed once it is fixed. Those are transient: retried a
/// bounded number of times, then dead-lettered, and replayed after the fix.
pub fn classify(error: &HandleError) -> HandlerError {
    // exercise: solution
    match error {
        HandleError::UnknownBooking { booking_id, .. } => {
            HandlerError::NotRequestedYet {
                booking_id: *booking_id,
            }
        }
        HandleError::Locked { .. }
        | HandleError::ReadOnly { .. }
        | HandleError::Corrupt { .. }
        | HandleError::Database { .. } => HandlerError::Transient {
            reason: error.to_string(),
        },
    }
    // exercise: stub
    // todo!("sort the error by what to do about it (chapter 12)")
    // exercise: end
}
// ANCHOR_END: classify

// ANCHOR: retry_policy
/// How often and how patiently a failed event is tried again.
///
/// The delay before retry `n` (1 for the first retry) is drawn uniformly from
/// zero to `base * 2^(n-1)`, never more than `cap`: exponential backoff with
/// full jitter. The exponent gives a struggling database room to recover; the
/// jitter spreads the retries of many consumers that failed at the same moment,
/// so they do not all come back at the same moment too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many times an event is tried in all, the first attempt included
    /// (JetStream's MaxDeliver). After that many failures it is dead-lettered.
    pub max_attempts: u32,
    /// The longest delay before the first retry.
    pub base: Duration,
    /// No delay is ever longer than this, however many retries came before.
    pub cap: Duration,
}

/// What to do with an event after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Try it again once this much time has passed.
    RetryAfter(Duration),
    /// Set it aside until its booking's request arrives (see `park.rs`).
    Park,
    /// Give up: send it to the dead-letter topic with the reason.
    DeadLetter,
}
// ANCHOR_END: retry_policy

impl RetryPolicy {
    // ANCHOR: ceiling
    /// The longest delay before retry number `retry` (1 for the first retry):
    /// `base` doubled `retry - 1` times, at most `cap`. Never overflows: a
    /// doubling that would is the cap.
    pub fn ceiling(&self, retry: u32) -> Duration {
        // exercise: solution
        let doublings = retry.saturating_sub(1);
        2u32.checked_pow(doublings)
            .and_then(|factor| self.base.checked_mul(factor))
            .map_or(self.cap, |delay| delay.min(self.cap))
        // exercise: stub
        // todo!("base doubled retry - 1 times, at most cap (chapter 12)")
        // exercise: end
    }
    // ANCHOR_END: ceiling

    // ANCHOR: delay
    /// The delay before retry number `retry`, drawn from `rng`: uniform over
    /// zero to [`RetryPolicy::ceiling`], both included (full jitter).
    ///
    /// The random source is a parameter so that tests seed it: the same seed
    /// gives the same delays, and a failure can be run again.
    pub fn delay<R: Rng + ?Sized>(&self, retry: u32, rng: &mut R) -> Duration {
        // exercise: solution
        let ceiling = self.ceiling(retry);
        // Nanoseconds in a u64 reach 584 years; a longer cap is cut there.
        let ceiling = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=ceiling))
        // exercise: stub
        // todo!("a uniform draw from zero to the ceiling (chapter 12)")
        // exercise: end
    }
    // ANCHOR_END: delay

    // ANCHOR: after_failure
    /// What to do after the event failed with `error` on attempt number
    /// `attempts` (1 after the first attempt failed).
    ///
    /// A permanent failure is dead-lettered at once; an unknown booking is
    /// parked; a transient failure is retried after [`RetryPolicy::delay`]
    /// until `max_attempts` attempts have failed.
    pub fn after_failure<R: Rng + ?Sized>(
        &self,
        error: &HandlerError,
        attempts: u32,
        rng: &mut R,
    ) -> Next {
        // exercise: solution
        match error {
            HandlerError::Permanent { .. } => Next::DeadLetter,
            HandlerError::NotRequestedYet { .. } => Next::Park,
            HandlerError::Transient { .. } if attempts >= self.max_attempts => {
                Next::DeadLetter
            }
            // The attempt that failed was retry number `attempts - 1`; the
            // next one is retry number `attempts`.
            HandlerError::Transient { .. } => {
                Next::RetryAfter(self.delay(attempts, rng))
            }
        }
        // exercise: stub
        // todo!("dead-letter, park, or retry after a delay (chapter 12)")
        // exercise: end
    }
    // ANCHOR_END: after_failure
}
