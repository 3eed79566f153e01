//! One delivery from JetStream: hand it to the handler, then answer the
//! server: ACK after the transaction committed, NAK with step 12's backoff
//! for a transient failure, TERM after storing a dead letter when retrying
//! cannot help or the attempts are spent.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use rand::Rng;
use solution06_log::Offset;
use solution11_idempotency::decode_identified;
use solution12_retries::{Handler, HandlerError, Next, RetryPolicy};

use crate::error::BusError;

// ANCHOR: reply
/// The answer to one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+ACK`: handled, never deliver it again.
    Ack,
    /// `-NAK` with a delay: deliver it again once `delay` has passed.
    Nak { delay: Duration },
    /// Stored as a dead letter with `reason`, then `+TERM`: never deliver it
    /// again.
    Term { reason: String },
}
// ANCHOR_END: reply

// ANCHOR: reply_for
/// The answer to a delivery that was attempt number `delivered` (1 for the
/// first) and came back from the handler with `result`, as step 12's policy
/// decides it: `Ok` is an ACK, an error goes to
/// [`RetryPolicy::after_failure`] with `delivered` as the attempts.
///
/// - `Next::RetryAfter(delay)` (a transient failure, attempts left): a NAK
///   with that delay.
/// - `Next::DeadLetter` (a permanent failure, or the attempts spent): a
///   TERM whose reason is the error's text (its `Display`).
/// - `Next::Park` (`NotRequestedYet`: the booking is not known yet) has no
///   counterpart on the server, so it waits like a retry: a NAK with
///   `policy.delay(delivered, rng)` while `delivered < max_attempts`, a
///   TERM after.
pub fn reply_for<R: Rng + ?Sized>(
    result: Result<(), HandlerError>,
    delivered: u32,
    policy: &RetryPolicy,
    rng: &mut R,
) -> Reply {
    todo!("ack, NAK with the policy's delay, or terminate (chapter 15)")
}
// ANCHOR_END: reply_for

// ANCHOR: deliver
/// Handles one delivery of `message` and answers the server.
///
/// The handler gets the message's stream sequence as its offset (the same
/// on every delivery; step 11 stores it). The answer goes out only after
/// the handler returned: an ACK says the event's transaction committed, so
/// it waits for the server's confirmation (`double_ack`). Bytes that are
/// not an event are terminated at once. A `Term` is stored in the
/// dead-letter stream first, with `delivered` as its attempts; if that
/// fails, nothing is answered and the message comes back. An answer that
/// does not reach the server is `BusError::Reply`.
pub async fn deliver<H: Handler + ?Sized, R: Rng + ?Sized>(
    jetstream: &jetstream::Context,
    message: &jetstream::Message,
    handler: &mut H,
    policy: &RetryPolicy,
    rng: &mut R,
) -> Result<Reply, BusError> {
    let info = message
        .info()
        .map_err(|source| BusError::NotJetStream { source })?;
    let sequence = info.stream_sequence;
    let delivered = u32::try_from(info.delivered).unwrap_or(u32::MAX);
    todo!("handle, then ACK, NAK with a delay, or dead-letter (chapter 15)")
}
// ANCHOR_END: deliver

// ANCHOR: store_dead_letter
/// Copies `message` into the dead-letter stream, on `dead.<its subject>`,
/// with why and after how many attempts, and waits until it is stored. Its
/// message id is the source's sequence, so a second copy (after a crash
/// between this and the TERM) is dropped.
pub async fn store_dead_letter(
    jetstream: &jetstream::Context,
    message: &jetstream::Message,
    sequence: u64,
    attempts: u32,
    reason: &str,
) -> Result<(), BusError> {
    let dead = jetstream::message::PublishMessage::build()
        .payload(message.payload.clone())
        .message_id(format!("dead-{sequence}"))
        .header("Dead-Reason", reason)
        .header("Dead-Source-Sequence", sequence.to_string().as_str())
        .header("Dead-Attempts", attempts.to_string().as_str());
    let to_error =
        |source: async_nats::Error| BusError::DeadLetter { sequence, source };
    let ack = jetstream
        .send_publish(format!("dead.{}", message.subject), dead)
        .await
        .map_err(|error| to_error(error.into()))?;
    ack.await.map_err(|error| to_error(error.into()))?;
    Ok(())
}
// ANCHOR_END: store_dead_letter
