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
        // exercise: solution
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut statement = self.connection.prepare_cached(
            "SELECT position, payload FROM outbox WHERE sent_at IS NULL
             ORDER BY position LIMIT ?1",
        )?;
        let mut rows = statement.query(params![limit])?;
        let mut unsent = Vec::new();
        while let Some(row) = rows.next()? {
            let position = Position(row.get(0)?);
            let payload: Vec<u8> = row.get(1)?;
            let event = decode_row(position, &payload)?;
            unsent.push(OutboxRow { position, event });
        }
        Ok(unsent)
        // exercise: stub
        // todo!("the oldest unsent rows, decoded, at most limit (chapter 13)")
        // exercise: end
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
        // exercise: solution
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let sql = "UPDATE outbox SET sent_at = ?1
                   WHERE position = ?2 AND sent_at IS NULL";
        match mode {
            MarkMode::Batched => {
                let transaction = self.connection.transaction()?;
                {
                    let mut statement = transaction.prepare_cached(sql)?;
                    for position in positions {
                        statement.execute(params![now, position.0])?;
                    }
                }
                transaction.commit()?;
            }
            MarkMode::PerRow => {
                let mut statement = self.connection.prepare_cached(sql)?;
                for position in positions {
                    statement.execute(params![now, position.0])?;
                }
            }
        }
        Ok(())
        // exercise: stub
        // todo!("set sent_at on these rows, batched or per row (chapter 13)")
        // exercise: end
    }
    // ANCHOR_END: mark_sent
}
