//! The dead-letter topic: a durable log of the events that were given up on,
//! each with where it came from and why, and the replay that tries them again
//! after a fix.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use prost::Message;
use solution06_log::{LogError, Offset, Partition, Record};
use solution10_recovery::{
    AppendError, Disk, DurableLog, LogConfig, RecoveryError,
};
use solution11_idempotency::decode_identified;

use crate::handler::Handler;
use crate::policy::HandlerError;

// ANCHOR: dead_letter
/// An event that was given up on, with everything an operator needs to decide
/// what to do with it, and everything a replay needs to try it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Where the event was read: together, its identity in the source topic.
    pub partition: Partition,
    pub offset: Offset,
    /// The original record, key and value, byte for byte: a dead letter whose
    /// bytes cannot be decoded is still kept whole.
    pub record: Record,
    /// Why it was given up on: the last error, in words.
    pub reason: String,
    /// How many times the handler tried it.
    pub attempts: u32,
    /// When it was given up on (wall-clock time, to the millisecond).
    pub at: SystemTime,
}
// ANCHOR_END: dead_letter

/// The dead letter as it is stored in the topic's records: a protobuf
/// message, so that a tool in another language can read the topic.
#[derive(Clone, PartialEq, prost::Message)]
struct Envelope {
    #[prost(uint32, tag = "1")]
    partition: u32,
    #[prost(uint64, tag = "2")]
    offset: u64,
    #[prost(bytes = "bytes", tag = "3")]
    key: Bytes,
    #[prost(bytes = "bytes", tag = "4")]
    value: Bytes,
    #[prost(string, tag = "5")]
    reason: String,
    #[prost(uint32, tag = "6")]
    attempts: u32,
    /// Milliseconds since the Unix epoch.
    #[prost(uint64, tag = "7")]
    at_unix_ms: u64,
}

impl DeadLetter {
    /// The record that carries this dead letter in the topic. Its key is the
    /// original key, so a dead-letter topic with several partitions would keep
    /// a booking's dead letters in order too.
    pub fn to_record(&self) -> Record {
        let at_unix_ms =
            self.at.duration_since(UNIX_EPOCH).map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        let envelope = Envelope {
            partition: self.partition.0,
            offset: self.offset.0,
            key: self.record.key.clone(),
            value: self.record.value.clone(),
            reason: self.reason.clone(),
            attempts: self.attempts,
            at_unix_ms,
        };
        Record::new(self.record.key.clone(), envelope.encode_to_vec())
    }

    /// Reads a dead letter back from a record of the topic.
    pub fn from_record(record: &Record) -> Result<DeadLetter, DecodeError> {
        let envelope = Envelope::decode(record.value.clone())?;
        Ok(DeadLetter {
            partition: Partition(envelope.partition),
            offset: Offset(envelope.offset),
            record: Record::new(envelope.key, envelope.value),
            reason: envelope.reason,
            attempts: envelope.attempts,
            at: UNIX_EPOCH + Duration::from_millis(envelope.at_unix_ms),
        })
    }
}

/// A record of the dead-letter topic that is not a dead letter.
#[derive(Debug, thiserror::Error)]
#[error(
    "a record of the dead-letter topic is not a dead letter: only \
     DeadLetterTopic::send should write to the topic"
)]
pub struct DecodeError(#[from] prost::DecodeError);

// ANCHOR: dead_letter_error
/// Why the dead-letter topic refused a read or a write.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// The topic could not take the dead letter, or could not make it
    /// durable. The event is neither handled nor dead-lettered: its offset
    /// must not be committed.
    #[error(
        "the dead letter of partition {partition} offset {offset} could not be \
         stored durably: do not commit that offset; fix the disk and restart \
         the consumer, which will try the event again"
    )]
    Append {
        partition: Partition,
        offset: Offset,
        #[source]
        source: AppendError,
    },
    #[error("the dead-letter topic refused a read")]
    Read(#[from] LogError),
    #[error(
        "could not read the dead letter at offset {offset} of the dead-letter \
         topic"
    )]
    Decode {
        offset: Offset,
        #[source]
        source: DecodeError,
    },
}
// ANCHOR_END: dead_letter_error

// ANCHOR: topic
/// The dead-letter topic: step 10's durable log with one partition, so its
/// dead letters keep the order in which they were given up on.
///
/// Writing to it is at-least-once, like every write followed by a commit: a
/// consumer that crashes after a dead letter and before its commit gives up
/// on the same record again after the restart. The topic therefore remembers
/// which source records it holds, and a second dead letter for one of them
/// is answered with the first, as step 11's log answers a retried batch.
#[derive(Debug)]
pub struct DeadLetterTopic<D: Disk> {
    log: DurableLog<D>,
    /// The source record (partition, offset) of every dead letter in the
    /// topic, with the dead letter's offset in the topic. Rebuilt from the
    /// log when the topic is opened.
    stored: Mutex<HashMap<(Partition, Offset), Offset>>,
}
// ANCHOR_END: topic

impl<D: Disk> DeadLetterTopic<D> {
    /// The only partition of the topic.
    pub const PARTITION: Partition = Partition(0);

    /// Opens (or creates) the topic in `dir`, recovering it after a crash as
    /// step 10 recovers any log. The partition count of `config` is ignored:
    /// the topic has one partition.
    pub fn open(
        disk: D,
        dir: &Path,
        config: LogConfig,
    ) -> Result<DeadLetterTopic<D>, RecoveryError> {
        let config = LogConfig {
            partition_count: 1,
            ..config
        };
        let (log, _report) = DurableLog::open(disk, dir, config)?;
        let mut stored = HashMap::new();
        // The memory log holds every recovered record; a record that does not
        // decode cannot be matched with a source record, and `read` reports
        // it to whoever reads the topic.
        let end = log.end(Self::PARTITION).unwrap_or_default();
        let records = log
            .read(
                Self::PARTITION,
                Offset(0),
                usize::try_from(end.0).unwrap_or(usize::MAX),
            )
            .unwrap_or_default();
        for record in records {
            if let Ok(dead_letter) = DeadLetter::from_record(&record.record) {
                stored
                    .entry((dead_letter.partition, dead_letter.offset))
                    .or_insert(record.offset);
            }
        }
        Ok(DeadLetterTopic {
            log,
            stored: Mutex::new(stored),
        })
    }

    // ANCHOR: send
    /// Stores `dead_letter` in the topic, and returns its offset in the topic
    /// only once it is on disk: the caller commits the event's offset next,
    /// and an event whose offset is committed must be either handled or in
    /// this topic, even after a power cut (invariant 8).
    ///
    /// A dead letter for a source record (partition and offset) that the
    /// topic holds already is not stored again: the answer is the offset of
    /// the one stored first. A record counts as held only once it is durable:
    /// after a failed append or sync, the next send of it tries again.
    pub fn send(
        &self,
        dead_letter: &DeadLetter,
    ) -> Result<Offset, DeadLetterError> {
        // exercise: solution
        let source_record = (dead_letter.partition, dead_letter.offset);
        // Held until the dead letter is stored, so that two sends of the same
        // record cannot both miss it.
        let mut stored =
            self.stored.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&at) = stored.get(&source_record) {
            return Ok(at);
        }
        let failed = |source| DeadLetterError::Append {
            partition: dead_letter.partition,
            offset: dead_letter.offset,
            source,
        };
        let ack = self
            .log
            .append(Self::PARTITION, dead_letter.to_record())
            .map_err(failed)?;
        // Under an fsync policy other than EveryRecord the record may still be
        // only in the operating system's cache.
        if !ack.durable {
            self.log.sync().map_err(failed)?;
        }
        stored.insert(source_record, ack.offset);
        Ok(ack.offset)
        // exercise: stub
        // todo!("unless stored already: append, sync, remember (chapter 12)")
        // exercise: end
    }
    // ANCHOR_END: send

    /// Up to `max` dead letters from offset `from` on, with their offsets in
    /// the topic.
    pub fn read(
        &self,
        from: Offset,
        max: usize,
    ) -> Result<Vec<(Offset, DeadLetter)>, DeadLetterError> {
        self.log
            .read(Self::PARTITION, from, max)?
            .into_iter()
            .map(|stored| {
                DeadLetter::from_record(&stored.record)
                    .map(|dead_letter| (stored.offset, dead_letter))
                    .map_err(|source| DeadLetterError::Decode {
                        offset: stored.offset,
                        source,
                    })
            })
            .collect()
    }

    /// The offset the next dead letter will get: how many there are.
    pub fn end(&self) -> Result<Offset, DeadLetterError> {
        Ok(self.log.end(Self::PARTITION)?)
    }
}

// ANCHOR: replayed
/// What a replay of the dead-letter topic did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Dead letters (by their offset in the topic) whose event the handler
    /// took this time, or had taken before (a duplicate).
    pub handled: Vec<Offset>,
    /// Dead letters whose event failed again, with the new error. They stay in
    /// the topic; a later replay may try them again.
    pub failed: Vec<(Offset, HandlerError)>,
    /// Where the next replay starts: one past the last dead letter read. Store
    /// it as the replay's committed offset.
    pub next: Offset,
}
// ANCHOR_END: replayed

/// How many dead letters one read of the topic asks for.
const REPLAY_BATCH: usize = 64;

// ANCHOR: replay
/// Hands every dead letter from `from` on back to `handler`, once each, in the
/// order they were given up on: what an operator runs after fixing the cause.
/// The handler gets each event with its offset in its source partition
/// (`dead_letter.offset`), as the worker gave it the first time; `Replayed`
/// names the dead letters by their offset in the topic.
///
/// A replay does not need to know which dead letters were handled already.
/// The handler of step 11 stores each event id with its effect, so an event
/// replayed twice (a replay interrupted and run again, or an event that was
/// handled after all) takes effect once.
pub fn replay<D: Disk, H: Handler>(
    topic: &DeadLetterTopic<D>,
    from: Offset,
    handler: &mut H,
) -> Result<Replayed, DeadLetterError> {
    // exercise: solution
    let mut replayed = Replayed {
        next: from,
        ..Replayed::default()
    };
    loop {
        let batch = topic.read(replayed.next, REPLAY_BATCH)?;
        if batch.is_empty() {
            return Ok(replayed);
        }
        for (at, dead_letter) in batch {
            replayed.next = at.next();
            let outcome = match decode_identified(&dead_letter.record.value) {
                Ok(event) => handler.handle(dead_letter.offset, &event),
                Err(error) => Err(HandlerError::Permanent {
                    reason: error.to_string(),
                }),
            };
            match outcome {
                Ok(()) => replayed.handled.push(at),
                Err(error) => replayed.failed.push((at, error)),
            }
        }
    }
    // exercise: stub
    // todo!("hand every dead letter from `from` to the handler (chapter 12)")
    // exercise: end
}
// ANCHOR_END: replay
