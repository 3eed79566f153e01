//! The handler a worker calls: step 11's SQLite booking handler, or a test's
//! stand-in (given code).

use solution06_log::Offset;
use solution11_idempotency::{BookingDb, IdentifiedEvent};

use crate::policy::{HandlerError, classify};

// ANCHOR: handler
/// Handles one delivery of an event, and says, when it fails, what kind of
/// failure it was.
///
/// `Ok` means the event is handled: its effect is stored, or the state machine
/// refused it and that answer is stored (a refusal is an outcome, not a
/// failure), or it was handled before (a duplicate).
pub trait Handler {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError>;
}
// ANCHOR_END: handler

/// Step 11's handler, with its errors sorted by [`classify`].
impl Handler for BookingDb {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        BookingDb::handle(self, offset, event)
            .map(|_first_or_duplicate| ())
            .map_err(|error| classify(&error))
    }
}
