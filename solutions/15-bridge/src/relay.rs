//! Step 13's outbox, relayed to JetStream: each unsent row is published with
//! its event id as message id, then marked sent (given code).

use std::num::NonZeroU32;

use async_nats::jetstream;
use solution13_outbox::{OutboxDb, OutboxError};

use crate::error::BusError;
use crate::publish::publish;

/// Why a pass of the relay stopped. Rows published but not marked are
/// published again by the next pass, and the server drops the repeats.
#[derive(Debug, thiserror::Error)]
pub enum JetStreamRelayError {
    #[error("the outbox could not be read or marked; run the relay again")]
    Outbox(#[from] OutboxError),
    #[error("a row was not confirmed by the server; run the relay again")]
    Publish(#[from] BusError),
}

// ANCHOR: relay_pass
/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayPass {
    /// Rows the server stored now.
    pub published: usize,
    /// Rows the server had already (published before a crash, not marked).
    pub duplicates: usize,
}

/// Publishes up to `limit` unsent rows of the outbox, in order, each with its
/// event id as `Nats-Msg-Id`, and marks them sent once the server confirmed
/// every one. `mark` false stops after publishing, as a crash before the
/// marks would.
pub async fn relay_once(
    db: &mut OutboxDb,
    jetstream: &jetstream::Context,
    partitions: NonZeroU32,
    limit: usize,
    mark: bool,
) -> Result<RelayPass, JetStreamRelayError> {
    let rows = db.unsent(limit)?;
    let mut pass = RelayPass::default();
    for row in &rows {
        let published = publish(jetstream, &row.event, partitions).await?;
        if published.duplicate {
            pass.duplicates += 1;
        } else {
            pass.published += 1;
        }
    }
    if mark {
        let positions: Vec<_> = rows.iter().map(|row| row.position).collect();
        db.mark_sent(&positions, solution13_outbox::MarkMode::Batched)?;
    }
    Ok(pass)
}
// ANCHOR_END: relay_pass
