//! The consumer's handler: step 11's SQLite handler as step 12's worker calls
//! it, with a span per record and the faults a demo injects (given code).

use std::sync::Arc;
use std::time::Duration;

use solution03_partitioning::{partition_for, partition_key};
use solution06_log::{Offset, Partition};
use solution11_idempotency::{BookingDb, Handled, IdentifiedEvent};
use solution12_retries::{Handler, HandlerError, classify};

use crate::metrics::Metrics;

/// Faults to inject into the consumer and the router, for a demo or a test.
/// Each count is used up as the faults happen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// How long the handler sleeps before each event: a slow database. The
    /// sleep blocks the thread, as a slow synchronous call does.
    pub slow: Duration,
    /// This many handler calls fail with a transient error, as a dropped
    /// database connection would: every other call from now on, so that
    /// each failed event succeeds on a retry instead of exhausting its
    /// retries.
    pub transient: u32,
    /// The next this-many events the router moves are appended twice: a
    /// redelivery the handler must absorb.
    pub duplicates: u32,
    /// The next this-many events the router moves get a record that is not
    /// an event right before them: a poison pill for the dead-letter topic.
    pub poison_pills: u32,
}

// ANCHOR: booking_handler
/// Step 11's [`BookingDb`], called by step 12's worker.
pub struct BookingHandler {
    db: BookingDb,
    partitions: u32,
    faults: Faults,
    /// Whether the last call failed on purpose: the next one goes through.
    failed_last: bool,
    metrics: Arc<Metrics>,
}
// ANCHOR_END: booking_handler

impl BookingHandler {
    pub(crate) fn new(
        db: BookingDb,
        partitions: u32,
        metrics: Arc<Metrics>,
    ) -> BookingHandler {
        BookingHandler {
            db,
            partitions,
            faults: Faults::default(),
            failed_last: false,
            metrics,
        }
    }

    /// The consumer's database.
    pub fn db(&self) -> &BookingDb {
        &self.db
    }

    pub(crate) fn faults_mut(&mut self) -> &mut Faults {
        &mut self.faults
    }
}

impl Handler for BookingHandler {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        // The worker hands over an event without its partition; the key says
        // which one it came from, as it said where the router put it.
        let partition =
            partition_for(&partition_key(&event.event), self.partitions)
                .unwrap_or(Partition(0));
        let span = tracing::info_span!(
            "record",
            topic = crate::pipeline::TOPIC,
            partition = partition.0,
            offset = offset.0,
            booking_id = %event.event.booking_id().as_uuid(),
            stage = "handle",
        );
        let _entered = span.enter();
        self.metrics.set_taken(partition, offset);
        if !self.faults.slow.is_zero() {
            std::thread::sleep(self.faults.slow);
        }
        let fail = self.faults.transient > 0 && !self.failed_last;
        self.failed_last = fail;
        if fail {
            self.faults.transient -= 1;
            Metrics::add(&self.metrics.failures, 1);
            tracing::warn!("injected: the database connection dropped");
            return Err(HandlerError::Transient {
                reason: "injected: the database connection dropped".to_owned(),
            });
        }
        match self.db.handle(offset, event) {
            Ok(Handled::First(outcome)) => {
                Metrics::add(&self.metrics.handled, 1);
                tracing::debug!(?outcome, "handled");
                Ok(())
            }
            Ok(Handled::Duplicate(_)) => {
                Metrics::add(&self.metrics.duplicates, 1);
                tracing::info!("duplicate delivery absorbed");
                Ok(())
            }
            Err(error) => {
                Metrics::add(&self.metrics.failures, 1);
                tracing::warn!(%error, "handler failed");
                Err(classify(&error))
            }
        }
    }
}
