//! The stages a record goes through in a handler, and the one rule that
//! connects them: forward, one stage at a time.

use std::fmt;

// ANCHOR: stage
/// How far the handling of one record has got. Each stage is a fact about the
/// record, true from the moment it is reached:
///
/// - `Received`: the consumer handed the record to the handler.
/// - `Decoded`: its bytes are a
///   [`BookingEvent`](solution02_protobuf::BookingEvent).
/// - `Persisted`: the handler wrote the outcome to the service's store: the
///   booking's new state, or why the event was refused. This is the effect, the
///   thing a crash must not lose.
/// - `Applied`: everything that follows from the effect is done (in a real
///   service: a cache updated, a ticket sent). The handler has nothing left to
///   do.
/// - `Acked`: the handler told the commit tracker that the record is finished,
///   so its offset may be committed (JetStream's `+ACK`).
///
/// The order of the variants is the order of the pipeline, so `<` means
/// "earlier".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Received,
    Decoded,
    Persisted,
    Applied,
    Acked,
}
// ANCHOR_END: stage

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 5] = [
        Stage::Received,
        Stage::Decoded,
        Stage::Persisted,
        Stage::Applied,
        Stage::Acked,
    ];

    /// The stage that comes right after this one, or `None` after `Acked`,
    /// where the pipeline ends.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Received => Some(Stage::Decoded),
            Stage::Decoded => Some(Stage::Persisted),
            Stage::Persisted => Some(Stage::Applied),
            Stage::Applied => Some(Stage::Acked),
            Stage::Acked => None,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Stage::Received => "Received",
            Stage::Decoded => "Decoded",
            Stage::Persisted => "Persisted",
            Stage::Applied => "Applied",
            Stage::Acked => "Acked",
        };
        f.write_str(name)
    }
}

// ANCHOR: stage_error
/// Why a record cannot move from one stage to another.
///
/// Each of these is a bug in the handler, and each one can cost a booking: a
/// record acked without being persisted is committed and then lost after a
/// crash, and a record that goes back to `Decoded` is about to be persisted
/// twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// The record was asked to move to the stage it is already in.
    #[error(
        "the record is already {stage}: each stage is reached once; doing its work again would repeat it"
    )]
    Repeated { stage: Stage },
    /// The record was asked to move to an earlier stage.
    #[error(
        "the record is {from} and cannot go back to {to}: a stage that is reached stays reached"
    )]
    Backwards { from: Stage, to: Stage },
    /// The record was asked to jump over a stage, `missing` being the first one
    /// it would skip.
    #[error(
        "the record is {from} and cannot jump to {to}: it must be {missing} first, one stage at a time"
    )]
    Skipped {
        from: Stage,
        to: Stage,
        missing: Stage,
    },
}
// ANCHOR_END: stage_error

// ANCHOR: advance
impl Stage {
    /// Moves a record from stage `self` to stage `to`: allowed only when `to`
    /// is the very next stage. Returns `to`, or why the move is wrong.
    ///
    /// Refusing a skipped stage is the point. The tempting shortcut in a
    /// handler is to ack (and so commit) early and do the work afterwards; here
    /// that is a [`StageError::Skipped`], not a quiet loss after the next
    /// crash.
    pub fn advance(self, to: Stage) -> Result<Stage, StageError> {
        todo!("allow only the very next stage (chapter 09)")
    }
}
// ANCHOR_END: advance
