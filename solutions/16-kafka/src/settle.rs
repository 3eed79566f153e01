//! One record from the booking topic, settled: handled and committed,
//! retried in place with step 12's backoff, or published to the dead-letter
//! topic and then committed. Kafka has no NAK and no dead-letter topic of
//! its own: this is step 12's design over a second topic.

use std::time::Duration;

use rand::Rng;
use rdkafka::Message;
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use solution12_retries::{Handler, HandlerError, Next, RetryPolicy};
use solution15_bridge::{Offset, decode_identified};

use crate::config::KafkaConfig;
use crate::consume::commit_after;
use crate::error::KafkaBusError;

/// The headers of a dead letter: why it was given up on, where it came
/// from, and after how many attempts of the handler.
pub const DEAD_REASON: &str = "dead-reason";
pub const DEAD_PARTITION: &str = "dead-partition";
pub const DEAD_OFFSET: &str = "dead-offset";
pub const DEAD_ATTEMPTS: &str = "dead-attempts";

// ANCHOR: reply
/// What to do with a record after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Handled: commit it (its offset + 1).
    Commit,
    /// Try the handler again once `delay` has passed, before any later
    /// record of the partition: the partition stays in order.
    RetryAfter(Duration),
    /// Give up: publish it to the dead-letter topic with `reason`, then
    /// commit it.
    DeadLetter { reason: String },
}

/// How a record was settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    /// The last reply: `Commit` or `DeadLetter`.
    pub reply: Reply,
    /// How many times the handler ran (0 for bytes that are not an event).
    pub attempts: u32,
}
// ANCHOR_END: reply

// ANCHOR: reply_for
/// The reply to attempt number `attempt` (1 for the first) that came back
/// from the handler with `result`, as step 12's policy decides it: `Ok` is
/// a commit, an error goes to [`RetryPolicy::after_failure`] with `attempt`
/// as the attempts.
///
/// - `Next::RetryAfter(delay)` (a transient failure, attempts left): retry
///   after that delay.
/// - `Next::DeadLetter` (a permanent failure, or the attempts spent): a dead
///   letter whose reason is the error's text (its `Display`).
/// - `Next::Park` (`NotRequestedYet`: the booking is not known yet): a
///   consumer that keeps its partition in order cannot set one record
///   aside, so it waits like a retry, `policy.delay(attempt, rng)`, while
///   `attempt < policy.max_attempts`, and is a dead letter after.
pub fn reply_for<R: Rng + ?Sized>(
    result: Result<(), HandlerError>,
    attempt: u32,
    policy: &RetryPolicy,
    rng: &mut R,
) -> Reply {
    // exercise: solution
    let error = match result {
        Ok(()) => return Reply::Commit,
        Err(error) => error,
    };
    match policy.after_failure(&error, attempt, rng) {
        Next::RetryAfter(delay) => Reply::RetryAfter(delay),
        Next::Park if attempt < policy.max_attempts => {
            Reply::RetryAfter(policy.delay(attempt, rng))
        }
        Next::Park | Next::DeadLetter => Reply::DeadLetter {
            reason: error.to_string(),
        },
    }
    // exercise: stub
    // todo!("commit, retry after the policy's delay, or give up (chapter 16)")
    // exercise: end
}
// ANCHOR_END: reply_for

// ANCHOR: deliver
/// Settles one record: decodes it, runs `handler` on it until [`reply_for`]
/// says commit or give up, sleeping the delay in between (in place: no later
/// record of the partition overtakes it), and only then commits it with
/// [`commit_after`].
///
/// The handler gets the record's offset. A dead letter is published with
/// [`publish_dead_letter`] (the attempts are how many times the handler
/// ran) and the commit comes only after the broker confirmed it: if the
/// dead letter fails, its error is returned and nothing is committed, so the
/// record comes back. Bytes that do not decode never reach the handler:
/// they are a dead letter at once ("not a booking event: ..."), after 0
/// attempts.
pub async fn deliver<H, R>(
    consumer: &StreamConsumer,
    producer: &FutureProducer,
    config: &KafkaConfig,
    message: &impl Message,
    handler: &mut H,
    rng: &mut R,
) -> Result<Settled, KafkaBusError>
where
    H: Handler + ?Sized,
    R: Rng + ?Sized,
{
    let offset = Offset(u64::try_from(message.offset()).unwrap_or(0));
    // exercise: solution
    let mut attempts = 0;
    let reply = match decode_identified(message.payload().unwrap_or_default()) {
        Err(error) => Reply::DeadLetter {
            reason: format!("not a booking event: {error}"),
        },
        Ok(event) => loop {
            attempts += 1;
            let result = handler.handle(offset, &event);
            match reply_for(result, attempts, &config.retry, rng) {
                Reply::RetryAfter(delay) => tokio::time::sleep(delay).await,
                settled => break settled,
            }
        },
    };
    if let Reply::DeadLetter { reason } = &reply {
        publish_dead_letter(producer, config, message, reason, attempts)
            .await?;
    }
    commit_after(consumer, message)?;
    Ok(Settled { reply, attempts })
    // exercise: stub
    // todo!("handle, retry, dead-letter; commit after (chapter 16)")
    // exercise: end
}
// ANCHOR_END: deliver

// ANCHOR: publish_dead_letter
/// Publishes a copy of `message` (its key, its payload byte for byte, its
/// headers) to the dead-letter topic, with four headers more: the
/// [`DEAD_REASON`], where it came from ([`DEAD_PARTITION`],
/// [`DEAD_OFFSET`]) and the [`DEAD_ATTEMPTS`]. Returns once the broker
/// stored it.
pub async fn publish_dead_letter(
    producer: &FutureProducer,
    config: &KafkaConfig,
    message: &impl Message,
    reason: &str,
    attempts: u32,
) -> Result<(), KafkaBusError> {
    let dead_error = |source| KafkaBusError::DeadLetter {
        topic: config.dead_letter_topic.clone(),
        partition: u32::try_from(message.partition()).unwrap_or(0),
        offset: u64::try_from(message.offset()).unwrap_or(0),
        source,
    };
    let mut headers = OwnedHeaders::new();
    if let Some(original) = message.headers() {
        for header in original.iter() {
            headers = headers.insert(header);
        }
    }
    let partition = message.partition().to_string();
    let offset = message.offset().to_string();
    let attempts = attempts.to_string();
    for (key, value) in [
        (DEAD_REASON, reason),
        (DEAD_PARTITION, partition.as_str()),
        (DEAD_OFFSET, offset.as_str()),
        (DEAD_ATTEMPTS, attempts.as_str()),
    ] {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    let mut record: FutureRecord<'_, [u8], [u8]> =
        FutureRecord::to(&config.dead_letter_topic).headers(headers);
    if let Some(key) = message.key() {
        record = record.key(key);
    }
    if let Some(payload) = message.payload() {
        record = record.payload(payload);
    }
    let delivery = producer
        .send_result(record)
        .map_err(|(error, _)| dead_error(error))?;
    delivery
        .await
        .map_err(|_dropped| dead_error(rdkafka::error::KafkaError::Canceled))?
        .map_err(|(error, _)| dead_error(error))?;
    Ok(())
}
// ANCHOR_END: publish_dead_letter
