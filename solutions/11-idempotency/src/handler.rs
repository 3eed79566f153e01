//! The booking handler on SQLite: the effect of an event and the record that
//! the event was handled are written in one transaction.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::trace::{TraceEvent, TraceEventCodes};
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction,
    TransactionBehavior, ffi, params,
};
use solution01_events::{
    BookingId, BookingState, Rejected, SeatId, UserId, apply,
};
use solution06_log::Offset;
use uuid::Uuid;

use crate::event_id::{EventId, IdentifiedEvent};

// ANCHOR: schema
/// The tables, created when the database is opened.
///
/// `one_live_booking_per_seat` is the rule "a seat is never sold twice" as a
/// fact of the database: whatever the code above it does, SQLite refuses a
/// second held or confirmed booking for a seat. `processed_events` is the
/// dedupe key: one row per event ever handled, with what came of it.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bookings (
    booking_id TEXT PRIMARY KEY,
    seat_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('held', 'confirmed', 'expired', 'refused'))
);
CREATE UNIQUE INDEX IF NOT EXISTS one_live_booking_per_seat
    ON bookings (seat_id) WHERE state IN ('held', 'confirmed');
CREATE TABLE IF NOT EXISTS processed_events (
    event_id TEXT PRIMARY KEY,
    booking_id TEXT NOT NULL,
    first_offset INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
";
// ANCHOR_END: schema

// ANCHOR: outcome
/// What handling an event did, as stored with its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The booking moved to its next state.
    Applied,
    /// The state machine of step 01 refused the event, for `reason`: a payment
    /// after the hold expired, a second request for the booking under a new
    /// event id. A business answer, stored like any other.
    Refused { reason: String },
    /// Another booking holds or bought the seat: the database's unique index
    /// refused the hold, and the booking is refused.
    SeatTaken { seat_id: SeatId },
}

/// The answer to one delivery of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
    /// The first delivery: the effect happened now.
    First(Outcome),
    /// The event was handled before; nothing happened now. The outcome is the
    /// one stored the first time, as a retried batch gets its original offset.
    Duplicate(Outcome),
}
// ANCHOR_END: outcome

// ANCHOR: handle_error
/// Why an event was not handled. After each of these nothing of the event is
/// in the database: the transaction rolled back, and the event is not marked
/// as processed, so its offset must not be committed.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error(
        "the booking database stayed locked by another connection for the whole \
         busy timeout, and nothing was written: retry the event later (this is \
         transient), and look for a long transaction in another process"
    )]
    Locked {
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the booking database is read-only (opened read-only, or its file or \
         folder is not writable), and nothing was written: open it read-write; \
         until someone does, every retry fails the same way"
    )]
    ReadOnly {
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "{event} {event_id} is for booking {booking_id}, which was never \
         requested; nothing was written and the event is not marked processed: \
         it may have overtaken its ReservationRequested (step 12 parks such \
         events), so do not commit its offset"
    )]
    UnknownBooking {
        event: &'static str,
        event_id: EventId,
        booking_id: BookingId,
    },
    #[error(
        "the booking database holds {what}, which this handler never writes: \
         something else changed the tables; nothing was written"
    )]
    Corrupt { what: String },
    #[error(
        "the booking database refused the event, and the transaction rolled \
         back: nothing was written and the event is not marked processed, so \
         it is handled again when it is delivered again"
    )]
    Database {
        #[source]
        source: rusqlite::Error,
    },
}
// ANCHOR_END: handle_error

impl From<rusqlite::Error> for HandleError {
    /// Sorts SQLite's errors by what the caller should do about them.
    fn from(source: rusqlite::Error) -> HandleError {
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                HandleError::Locked { source }
            }
            Some(ErrorCode::ReadOnly) => HandleError::ReadOnly { source },
            _ => HandleError::Database { source },
        }
    }
}

/// How much of a commit must survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// SQLite fsyncs on every commit (`synchronous = FULL`): a committed event
    /// survives a power cut. What a real service wants.
    SurvivesPowerLoss,
    /// No fsync (`synchronous = OFF`): a commit survives a crash of this
    /// process, because the operating system still has the written pages, but
    /// not of the machine. The tests crash only the process, and fsyncs would
    /// make them slow.
    SurvivesProcessCrash,
}

/// How the handler opens its database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DbConfig {
    /// How long a write waits for another connection's lock before it gives up
    /// with [`HandleError::Locked`].
    pub busy_timeout: Duration,
    pub durability: Durability,
    /// Open without write access, as a reporting tool would.
    pub read_only: bool,
}

impl Default for DbConfig {
    fn default() -> DbConfig {
        DbConfig {
            busy_timeout: Duration::from_secs(5),
            durability: Durability::SurvivesPowerLoss,
            read_only: false,
        }
    }
}

// ANCHOR: event_handler
/// Something that handles booking events one delivery at a time: the SQLite
/// handler of this step, or a test's stand-in.
pub trait EventHandler {
    /// Handles one delivery of `event`, read from the record at `offset`.
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<Handled, HandleError>;
}
// ANCHOR_END: event_handler

// ANCHOR: booking_db
/// The booking service's database: one SQLite file.
pub struct BookingDb {
    connection: Connection,
    path: PathBuf,
}
// ANCHOR_END: booking_db

impl BookingDb {
    /// Opens (and, unless read-only, creates) the database at `path`.
    pub fn open(
        path: &Path,
        config: DbConfig,
    ) -> Result<BookingDb, HandleError> {
        let flags = if config.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        let connection = Connection::open_with_flags(path, flags)?;
        connection.busy_timeout(config.busy_timeout)?;
        let synchronous = match config.durability {
            Durability::SurvivesPowerLoss => "FULL",
            Durability::SurvivesProcessCrash => "OFF",
        };
        connection.pragma_update(None, "synchronous", synchronous)?;
        if !config.read_only {
            connection.execute_batch(SCHEMA)?;
        }
        Ok(BookingDb {
            connection,
            path: path.to_owned(),
        })
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    // ANCHOR: handle
    /// Handles one delivery of `event`, read at `offset`: exactly once per
    /// event id, however often it is delivered.
    ///
    /// In one transaction: if the event id is in `processed_events`, answer
    /// [`Handled::Duplicate`] with the stored outcome and write nothing.
    /// Otherwise [`decide`] the outcome (which writes the booking), add the
    /// event id with its outcome to `processed_events`, and commit. Either both
    /// writes are in the database or neither is.
    pub fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<Handled, HandleError> {
        // exercise: solution
        // ANCHOR: handle_body
        // IMMEDIATE takes the write lock now rather than at the first write, so
        // a locked database is found before anything is read.
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(first) = processed(&transaction, event.id)? {
            // Dropping the transaction rolls it back: nothing was written.
            return Ok(Handled::Duplicate(first));
        }
        let outcome = decide(&transaction, event)?;
        mark_processed(&transaction, offset, event, &outcome)?;
        transaction.commit()?;
        Ok(Handled::First(outcome))
        // ANCHOR_END: handle_body
        // exercise: stub
        // todo!(
        //     "one transaction: dedupe, decide, mark processed, commit (chapter 11)"
        // )
        // exercise: end
    }
    // ANCHOR_END: handle

    /// Where a booking stands. A booking refused for a taken seat, or never
    /// requested, is `Empty`.
    pub fn state(
        &self,
        booking_id: BookingId,
    ) -> Result<BookingState, HandleError> {
        Ok(match load(&self.connection, booking_id)? {
            Stored::Live(state) => state,
            Stored::Refused | Stored::Unknown => BookingState::Empty,
        })
    }

    /// The stored outcome of an event, or `None` if it was never handled.
    pub fn outcome(
        &self,
        event_id: EventId,
    ) -> Result<Option<Outcome>, HandleError> {
        stored_outcome(&self.connection, event_id)
    }

    /// Calls `on_statement` with each SQL statement this database runs, as it
    /// starts (`None` stops it). A debugging aid, and how the tests step in
    /// between two statements of [`BookingDb::handle`], as a second consumer
    /// could. A plain `fn`: rusqlite's trace hook takes no closure.
    pub fn trace_statements(&self, on_statement: Option<fn(TraceEvent<'_>)>) {
        self.connection
            .trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, on_statement);
    }

    /// Everything in the database, in a form tests can compare.
    pub fn snapshot(&self) -> Result<Snapshot, HandleError> {
        let mut bookings = BTreeMap::new();
        let mut statement = self.connection.prepare(
            "SELECT booking_id, seat_id, user_id, state FROM bookings",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            bookings.insert(
                row.get::<_, String>(0)?,
                format!(
                    "{} seat {} user {}",
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?
                ),
            );
        }
        let mut processed = BTreeMap::new();
        let mut statement = self.connection.prepare(
            "SELECT event_id, outcome, detail FROM processed_events",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            processed.insert(
                row.get::<_, String>(0)?,
                format!(
                    "{} {}",
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?
                ),
            );
        }
        Ok(Snapshot {
            bookings,
            processed,
        })
    }
}

impl EventHandler for BookingDb {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<Handled, HandleError> {
        BookingDb::handle(self, offset, event)
    }
}

/// The whole content of a [`BookingDb`], one line per row: two databases with
/// equal snapshots hold the same bookings and the same processed events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Booking id to its state, seat and user.
    pub bookings: BTreeMap<String, String>,
    /// Event id to its stored outcome.
    pub processed: BTreeMap<String, String>,
}

// ANCHOR: processed
/// The stored outcome of `event_id`, if it was handled before. It takes the
/// transaction, as the writes do: an answer read outside it can be stale by
/// the time the writes run.
fn processed(
    transaction: &Transaction<'_>,
    event_id: EventId,
) -> Result<Option<Outcome>, HandleError> {
    stored_outcome(transaction, event_id)
}

/// Adds `event` to `processed_events` with its outcome. A second row for the
/// same event id is refused by the primary key.
fn mark_processed(
    transaction: &Transaction<'_>,
    offset: Offset,
    event: &IdentifiedEvent,
    outcome: &Outcome,
) -> Result<(), HandleError> {
    let (name, detail) = outcome_to_row(outcome);
    // SQLite's integers are i64. The offset only says where the event was
    // first seen, and no partition reaches 2^63 records: saturate rather than
    // fail an event over it.
    let first_offset = i64::try_from(offset.0).unwrap_or(i64::MAX);
    transaction.execute(
        "INSERT INTO processed_events
             (event_id, booking_id, first_offset, outcome, detail)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            event.id.to_string(),
            event.event.booking_id().as_uuid().to_string(),
            first_offset,
            name,
            detail
        ],
    )?;
    Ok(())
}
// ANCHOR_END: processed

/// The lookup behind [`processed`] and [`BookingDb::outcome`].
fn stored_outcome(
    connection: &Connection,
    event_id: EventId,
) -> Result<Option<Outcome>, HandleError> {
    let row = connection
        .query_row(
            "SELECT outcome, detail FROM processed_events WHERE event_id = ?1",
            params![event_id.to_string()],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?;
    row.map(|(outcome, detail)| outcome_from_row(&outcome, detail))
        .transpose()
}

// ANCHOR: decide
/// Applies `event` to its booking with step 01's state machine and writes the
/// booking's new state: the effect. Returns what came of it; an event for a
/// booking that was never requested is an error, not an outcome, so that it
/// is not marked processed and can be handled once its request has arrived.
fn decide(
    transaction: &Transaction<'_>,
    identified: &IdentifiedEvent,
) -> Result<Outcome, HandleError> {
    let event = &identified.event;
    let booking_id = event.booking_id();
    let state = match load(transaction, booking_id)? {
        Stored::Live(state) => state,
        Stored::Unknown => BookingState::Empty,
        Stored::Refused => {
            return Ok(Outcome::Refused {
                reason: format!(
                    "booking {} was refused: its seat was taken",
                    booking_id.as_uuid()
                ),
            });
        }
    };
    match apply(&state, event) {
        Ok(next) => store(transaction, &next),
        Err(Rejected::NotRequested { booking_id }) => {
            Err(HandleError::UnknownBooking {
                event: event.name(),
                event_id: identified.id,
                booking_id,
            })
        }
        Err(rejected) => Ok(Outcome::Refused {
            reason: rejected.to_string(),
        }),
    }
}
// ANCHOR_END: decide

/// Writes a booking's new state. A hold on a seat that another booking holds
/// or bought breaks `one_live_booking_per_seat`: the booking is then stored as
/// refused, and the outcome says why.
fn store(
    transaction: &Transaction<'_>,
    state: &BookingState,
) -> Result<Outcome, HandleError> {
    let (booking_id, seat_id, user_id, name) = match state {
        BookingState::Empty => {
            return Err(HandleError::Corrupt {
                what:
                    "a transition to Empty, which the state machine never makes"
                        .to_owned(),
            });
        }
        BookingState::Held {
            booking_id,
            seat_id,
            user_id,
        } => (booking_id, seat_id, user_id, "held"),
        BookingState::Confirmed {
            booking_id,
            seat_id,
            user_id,
        } => (booking_id, seat_id, user_id, "confirmed"),
        BookingState::Expired {
            booking_id,
            seat_id,
            user_id,
        } => (booking_id, seat_id, user_id, "expired"),
    };
    let write = |state: &str| {
        transaction.execute(
            "INSERT INTO bookings (booking_id, seat_id, user_id, state)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (booking_id) DO UPDATE SET state = excluded.state",
            params![
                booking_id.as_uuid().to_string(),
                seat_id.as_str(),
                user_id.as_uuid().to_string(),
                state
            ],
        )
    };
    match write(name) {
        Ok(_) => Ok(Outcome::Applied),
        // The constraint error ends this statement only; the transaction goes
        // on and stores the booking as refused instead.
        Err(error) if is_unique_violation(&error) => {
            write("refused")?;
            Ok(Outcome::SeatTaken {
                seat_id: seat_id.clone(),
            })
        }
        Err(error) => Err(error.into()),
    }
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

/// A booking as the database has it.
enum Stored {
    Live(BookingState),
    Refused,
    Unknown,
}

fn load(
    connection: &Connection,
    booking_id: BookingId,
) -> Result<Stored, HandleError> {
    let row = connection
        .query_row(
            "SELECT seat_id, user_id, state FROM bookings WHERE booking_id = ?1",
            params![booking_id.as_uuid().to_string()],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((seat, user, state)) = row else {
        return Ok(Stored::Unknown);
    };
    let seat_id = SeatId::parse(&seat).map_err(|_| HandleError::Corrupt {
        what: format!("the seat {seat:?}"),
    })?;
    let user_id =
        Uuid::parse_str(&user).map(UserId::from_uuid).map_err(|_| {
            HandleError::Corrupt {
                what: format!("the user id {user:?}"),
            }
        })?;
    Ok(match state.as_str() {
        "held" => Stored::Live(BookingState::Held {
            booking_id,
            seat_id,
            user_id,
        }),
        "confirmed" => Stored::Live(BookingState::Confirmed {
            booking_id,
            seat_id,
            user_id,
        }),
        "expired" => Stored::Live(BookingState::Expired {
            booking_id,
            seat_id,
            user_id,
        }),
        "refused" => Stored::Refused,
        other => {
            return Err(HandleError::Corrupt {
                what: format!("the booking state {other:?}"),
            });
        }
    })
}

fn outcome_to_row(outcome: &Outcome) -> (&'static str, String) {
    match outcome {
        Outcome::Applied => ("applied", String::new()),
        Outcome::Refused { reason } => ("refused", reason.clone()),
        Outcome::SeatTaken { seat_id } => {
            ("seat_taken", seat_id.as_str().to_owned())
        }
    }
}

fn outcome_from_row(
    outcome: &str,
    detail: String,
) -> Result<Outcome, HandleError> {
    match outcome {
        "applied" => Ok(Outcome::Applied),
        "refused" => Ok(Outcome::Refused { reason: detail }),
        "seat_taken" => SeatId::parse(&detail)
            .map(|seat_id| Outcome::SeatTaken { seat_id })
            .map_err(|_| HandleError::Corrupt {
                what: format!("the taken seat {detail:?}"),
            }),
        other => Err(HandleError::Corrupt {
            what: format!("the outcome {other:?}"),
        }),
    }
}
