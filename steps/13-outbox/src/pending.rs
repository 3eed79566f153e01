//! The relay's two questions to the outbox: which rows are not sent yet, and
//! "these are sent now".

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::params;

use crate::outbox::{OutboxDb, OutboxError, OutboxRow, Position, decode_row};

// ANCHOR: mark_mode
/// How the relay marks the rows of a published batch as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkMode {
    /// All rows of the batch in one transaction: one commit, one fsync.
    Batched,
    /// One transaction per row: a commit, and an fsync, for every row. What a
    /// relay does when it marks each row as soon as it is published.
    PerRow,
}
// ANCHOR_END: mark_mode

impl OutboxDb {
    // ANCHOR: unsent
    /// The first `limit` rows that are not sent yet, oldest first. Every row's
    /// payload is decoded before any row is returned: a row that does not
    /// decode is [`OutboxError::BadRow`], and no row is handed out.
    pub fn unsent(&self, limit: usize) -> Result<Vec<OutboxRow>, OutboxError> {
        todo!("the oldest unsent rows, decoded, at most limit (chapter 13)")
    }
    // ANCHOR_END: unsent

    // ANCHOR: mark_sent
    /// Marks the rows at `positions` as sent, in one transaction for them all
    /// ([`MarkMode::Batched`]) or one per row ([`MarkMode::PerRow`]). A row
    /// that is sent already stays as it is.
    pub fn mark_sent(
        &mut self,
        positions: &[Position],
        mode: MarkMode,
    ) -> Result<(), OutboxError> {
        todo!("set sent_at on these rows, batched or per row (chapter 13)")
    }
    // ANCHOR_END: mark_sent
}
