//! What a schedule did, as an observer outside the pipeline saw it: every
//! event created, every send and ack, every read of the log, every delivery
//! to the handler, every effect, commit, dead letter and crash, in order.
//!
//! The checker reads only this. Events, bookings and producers carry small
//! numbers (`e7`, `b3`, `p2`) given in order of appearance, so that a trace
//! reads the same on every replay, although steps 11 and 13 give events and
//! producers random ids.

use std::fmt;

/// A booking event as the checker needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventInfo {
    pub event: u32,
    pub booking: u32,
    pub kind: Kind,
}

/// What an event asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Request { seat: String },
    Payment,
    Expiry,
}

/// A batch as a read of the log found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSeen {
    pub offset: u64,
    pub producer: u32,
    pub first_sequence: u64,
    pub events: Vec<u32>,
}

/// What the handler answered to one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Handled: the first time (an effect) or a duplicate (none).
    Handled,
    Transient,
    Permanent,
    NotRequestedYet,
}

/// The answer the handler's transaction stored with an effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Applied,
    Refused,
    SeatTaken,
}

/// Every kind of fault a schedule injects, for the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    ProducerCrash,
    ProducerAckLost,
    ProducerBufferFull,
    LogCrashBeforeFsync,
    LogCrashAfterFsync,
    LogPowerCut,
    ConsumerCrashBeforeEffect,
    ConsumerCrashAfterEffect,
    ConsumerCrashBeforeCommit,
    ConsumerCrashAfterCommit,
    ConsumerPowerCut,
    RelayCrashBeforePublish,
    RelayCrashAfterPublish,
    RelayCrashAfterMark,
    DuplicateDelivery,
    TransientError,
    PermanentError,
    SlowConsumer,
}

impl Fault {
    pub const ALL: [Fault; 18] = [
        Fault::ProducerCrash,
        Fault::ProducerAckLost,
        Fault::ProducerBufferFull,
        Fault::LogCrashBeforeFsync,
        Fault::LogCrashAfterFsync,
        Fault::LogPowerCut,
        Fault::ConsumerCrashBeforeEffect,
        Fault::ConsumerCrashAfterEffect,
        Fault::ConsumerCrashBeforeCommit,
        Fault::ConsumerCrashAfterCommit,
        Fault::ConsumerPowerCut,
        Fault::RelayCrashBeforePublish,
        Fault::RelayCrashAfterPublish,
        Fault::RelayCrashAfterMark,
        Fault::DuplicateDelivery,
        Fault::TransientError,
        Fault::PermanentError,
        Fault::SlowConsumer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::ProducerCrash => "producer crash",
            Fault::ProducerAckLost => "producer ack lost",
            Fault::ProducerBufferFull => "producer buffer full",
            Fault::LogCrashBeforeFsync => "log crash before fsync (torn)",
            Fault::LogCrashAfterFsync => "log crash after fsync",
            Fault::LogPowerCut => "log power cut",
            Fault::ConsumerCrashBeforeEffect => "consumer crash before effect",
            Fault::ConsumerCrashAfterEffect => "consumer crash after effect",
            Fault::ConsumerCrashBeforeCommit => "consumer crash before commit",
            Fault::ConsumerCrashAfterCommit => "consumer crash after commit",
            Fault::ConsumerPowerCut => "consumer power cut",
            Fault::RelayCrashBeforePublish => "relay crash before publish",
            Fault::RelayCrashAfterPublish => "relay crash after publish",
            Fault::RelayCrashAfterMark => "relay crash after mark",
            Fault::DuplicateDelivery => "duplicate delivery",
            Fault::TransientError => "transient handler error",
            Fault::PermanentError => "permanent handler error",
            Fault::SlowConsumer => "slow consumer",
        }
    }
}

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// An event came into being (the service recorded it, or the payment
    /// gateway received it).
    Event(EventInfo),
    /// The booking service committed an outbox row for `event` in the
    /// transaction of its state change; it is published to `partition`.
    RowCommitted { partition: u32, event: u32 },
    /// The relay marked the row of `event` sent: its acknowledgement.
    RowMarked { partition: u32, event: u32 },
    /// The payment gateway must deliver `event` to `partition`.
    GatewayAccepted { partition: u32, event: u32 },
    /// The gateway's buffer after a send: refused or taken.
    Buffer {
        before: usize,
        after: usize,
        capacity: usize,
        refused: bool,
    },
    /// A producer sent a batch (the first time or again).
    Send {
        producer: u32,
        partition: u32,
        first_sequence: u64,
        events: Vec<u32>,
    },
    /// The log acknowledged a batch.
    Ack {
        producer: u32,
        partition: u32,
        first_sequence: u64,
        offset: u64,
        durable: bool,
    },
    /// A read of a whole partition of the log (what a consumer fetched).
    LogRead {
        partition: u32,
        batches: Vec<BatchSeen>,
    },
    /// The log could not be opened after a crash.
    LogUnrecoverable { reason: String },
    /// A consumer session starts reading `partition` at `offset` (the
    /// offsets here count events, as a Kafka consumer's do).
    Resume {
        partition: u32,
        session: u32,
        offset: u64,
    },
    /// The handler got the event at `offset`.
    Deliver {
        partition: u32,
        session: u32,
        offset: u64,
        event: u32,
        result: Delivery,
    },
    /// The handler's transaction committed an effect for `event`.
    Applied { event: u32, effect: Effect },
    /// The worker dead-lettered the record at `offset`.
    DeadLettered {
        partition: u32,
        session: u32,
        offset: u64,
    },
    /// The commit store took `offset` as the committed offset.
    Commit {
        partition: u32,
        session: u32,
        offset: u64,
    },
    /// A fault was injected.
    Fault(Fault),
    /// The pipeline failed where it should not (an error of the code under
    /// test, not an injected fault).
    Failed { what: String },
    /// From here on no fault is injected.
    FaultsStop,
    /// What the dead-letter topic holds at the end: (partition, offset).
    DeadLetterTopic { entries: Vec<(u32, u64)> },
    /// The schedule is over: the last reads were taken.
    End,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Event(info) => {
                let what = match &info.kind {
                    Kind::Request { seat } => format!("request seat {seat}"),
                    Kind::Payment => "payment".to_owned(),
                    Kind::Expiry => "expiry".to_owned(),
                };
                write!(f, "event   e{} = {what} of b{}", info.event, info.booking)
            }
            Op::RowCommitted { partition, event } => {
                write!(
                    f,
                    "outbox  row e{event} committed (for partition {partition})"
                )
            }
            Op::RowMarked { partition, event } => {
                write!(
                    f,
                    "relay   row e{event} marked sent (partition {partition})"
                )
            }
            Op::GatewayAccepted { partition, event } => {
                write!(f, "gateway must deliver e{event} to partition {partition}")
            }
            Op::Buffer {
                before,
                after,
                capacity,
                refused,
            } => write!(
                f,
                "buffer  {before} -> {after} of {capacity} bytes{}",
                if *refused { " (full: handed back)" } else { "" }
            ),
            Op::Send {
                producer,
                partition,
                first_sequence,
                events,
            } => write!(
                f,
                "send    p{producer} seq {first_sequence} to partition {partition}: {}",
                names(events)
            ),
            Op::Ack {
                producer,
                partition,
                first_sequence,
                offset,
                durable,
            } => write!(
                f,
                "ack     p{producer} seq {first_sequence} at {partition}/{offset}{}",
                if *durable { " durable" } else { " not durable" }
            ),
            Op::LogRead { partition, batches } => {
                write!(f, "read    partition {partition}:")?;
                for batch in batches {
                    write!(
                        f,
                        " [{}: p{} seq {} {}]",
                        batch.offset,
                        batch.producer,
                        batch.first_sequence,
                        names(&batch.events)
                    )?;
                }
                Ok(())
            }
            Op::LogUnrecoverable { reason } => write!(f, "log     did not open: {reason}"),
            Op::Resume {
                partition,
                session,
                offset,
            } => write!(
                f,
                "consume s{session} resumes partition {partition} at {offset}"
            ),
            Op::Deliver {
                partition,
                session,
                offset,
                event,
                result,
            } => write!(
                f,
                "deliver s{session} {partition}/{offset} e{event}: {result:?}"
            ),
            Op::Applied { event, effect } => write!(f, "effect  e{event}: {effect:?}"),
            Op::DeadLettered {
                partition,
                session,
                offset,
            } => write!(f, "dead    s{session} {partition}/{offset} dead-lettered"),
            Op::Commit {
                partition,
                session,
                offset,
            } => write!(f, "commit  s{session} partition {partition} at {offset}"),
            Op::Fault(fault) => write!(f, "FAULT   {}", fault.name()),
            Op::Failed { what } => write!(f, "FAILED  {what}"),
            Op::FaultsStop => write!(f, "------- faults stop here; the pipeline must catch up"),
            Op::DeadLetterTopic { entries } => {
                write!(f, "dlq     holds")?;
                for (partition, offset) in entries {
                    write!(f, " {partition}/{offset}")?;
                }
                Ok(())
            }
            Op::End => write!(f, "------- end"),
        }
    }
}

fn names(events: &[u32]) -> String {
    let names: Vec<String> = events.iter().map(|event| format!("e{event}")).collect();
    names.join(",")
}

/// The recorded history of one schedule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub ops: Vec<Op>,
}

impl History {
    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }
}
