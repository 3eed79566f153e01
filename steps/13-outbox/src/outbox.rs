//! The booking database with its outbox: a booking's new state and the event
//! that announces it are written in one transaction.

use std::fmt;
use std::path::Path;

use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction,
    TransactionBehavior, params,
};
use solution01_events::{
    BookingEvent, BookingId, BookingState, Rejected, SeatId, UserId, apply,
};
use solution11_idempotency::{
    DbConfig, Durability, EventIdError, IdentifiedEvent, encode_identified,
};
use uuid::Uuid;

// ANCHOR: schema
/// The tables, created when the database is opened.
///
/// `outbox` holds every event the service decided to publish, in the order it
/// decided them (`position`), with the bytes that go on the wire. `sent_at`
/// stays NULL until the relay has published the row.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bookings (
    booking_id TEXT PRIMARY KEY,
    seat_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('held', 'confirmed', 'expired'))
);
CREATE UNIQUE INDEX IF NOT EXISTS one_live_booking_per_seat
    ON bookings (seat_id) WHERE state IN ('held', 'confirmed');
CREATE TABLE IF NOT EXISTS outbox (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL,
    sent_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_unsent
    ON outbox (position) WHERE sent_at IS NULL;
";
// ANCHOR_END: schema

/// The place of a row in the outbox: rows are published in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position(pub i64);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// ANCHOR: outbox_row
/// One row of the outbox: an event, with the id it was given when the state
/// change was committed, and its place in line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    pub position: Position,
    pub event: IdentifiedEvent,
}
// ANCHOR_END: outbox_row

// ANCHOR: outbox_error
/// Why the outbox database did not do what was asked. After every one of
/// these the transaction rolled back: neither the booking nor the outbox
/// changed.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(
        "the booking state machine refused the event, and nothing was written"
    )]
    Rejected(#[from] Rejected),
    #[error(
        "seat {seat_id} is held or sold by another booking, and nothing was \
         written: offer the customer another seat"
    )]
    SeatTaken { seat_id: SeatId },
    #[error(
        "the database stayed locked by another connection for the whole busy \
         timeout, and nothing was written: try again later"
    )]
    Locked {
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "outbox row {position} holds bytes that are not an identified booking \
         event, so no row was handed out and nothing was published: something \
         other than OutboxDb::record wrote it; fix or remove the row by hand"
    )]
    BadRow {
        position: Position,
        #[source]
        source: EventIdError,
    },
    #[error(
        "the database holds {what}, which this service never writes: something \
         else changed the tables"
    )]
    Corrupt { what: String },
    #[error(
        "the database refused the change and the transaction rolled back: \
         nothing was written"
    )]
    Database {
        #[source]
        source: rusqlite::Error,
    },
}
// ANCHOR_END: outbox_error

impl From<rusqlite::Error> for OutboxError {
    fn from(source: rusqlite::Error) -> OutboxError {
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                OutboxError::Locked { source }
            }
            _ => OutboxError::Database { source },
        }
    }
}

// ANCHOR: outbox_db
/// The booking service's database: its bookings and its outbox, one SQLite
/// file.
pub struct OutboxDb {
    pub(crate) connection: Connection,
}
// ANCHOR_END: outbox_db

impl OutboxDb {
    /// Opens (and, unless read-only, creates) the database at `path`.
    pub fn open(
        path: &Path,
        config: DbConfig,
    ) -> Result<OutboxDb, OutboxError> {
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
        Ok(OutboxDb { connection })
    }

    // ANCHOR: record
    /// Applies `event` to its booking and queues it for publishing, in one
    /// transaction: the booking's new state and the outbox row are both
    /// committed, or neither is.
    ///
    /// Gives the event its id here, where it is created: the relay publishes
    /// it with this id however many times it has to try.
    pub fn record(
        &mut self,
        event: &BookingEvent,
    ) -> Result<OutboxRow, OutboxError> {
        todo!("load, apply, store and enqueue in one transaction (chapter 13)")
    }
    // ANCHOR_END: record

    /// Where a booking stands: `Empty` if it was never requested.
    pub fn state(
        &self,
        booking_id: BookingId,
    ) -> Result<BookingState, OutboxError> {
        load(&self.connection, booking_id)
    }

    /// Every row of the outbox in order, sent or not, with whether it is
    /// sent. A row that does not decode is [`OutboxError::BadRow`], as in
    /// [`OutboxDb::unsent`].
    pub fn rows(&self) -> Result<Vec<(OutboxRow, bool)>, OutboxError> {
        let mut statement = self.connection.prepare(
            "SELECT position, payload, sent_at IS NOT NULL FROM outbox
             ORDER BY position",
        )?;
        let mut rows = statement.query([])?;
        let mut all = Vec::new();
        while let Some(row) = rows.next()? {
            let position = Position(row.get(0)?);
            let payload: Vec<u8> = row.get(1)?;
            let event = decode_row(position, &payload)?;
            all.push((OutboxRow { position, event }, row.get(2)?));
        }
        Ok(all)
    }
}

/// Reads the event of the row at `position` from its payload.
pub(crate) fn decode_row(
    position: Position,
    payload: &[u8],
) -> Result<IdentifiedEvent, OutboxError> {
    solution11_idempotency::decode_identified(payload)
        .map_err(|source| OutboxError::BadRow { position, source })
}

// ANCHOR: enqueue
/// Adds `event` at the end of the outbox, unsent, and returns its position.
/// Call it inside the transaction that makes the change the event announces.
pub(crate) fn enqueue(
    transaction: &Transaction<'_>,
    event: &IdentifiedEvent,
) -> Result<Position, OutboxError> {
    transaction.execute(
        "INSERT INTO outbox (event_id, payload) VALUES (?1, ?2)",
        params![event.id.to_string(), encode_identified(event).as_ref()],
    )?;
    Ok(Position(transaction.last_insert_rowid()))
}
// ANCHOR_END: enqueue

/// Writes a booking's new state. A hold on a seat that another booking holds
/// or bought breaks `one_live_booking_per_seat` and is refused.
pub(crate) fn store(
    transaction: &Transaction<'_>,
    state: &BookingState,
) -> Result<(), OutboxError> {
    let (booking_id, seat_id, user_id, name) = match state {
        BookingState::Empty => {
            return Err(OutboxError::Corrupt {
                what: "a transition to Empty".to_owned(),
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
    let written = transaction.execute(
        "INSERT INTO bookings (booking_id, seat_id, user_id, state)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (booking_id) DO UPDATE SET state = excluded.state",
        params![
            booking_id.as_uuid().to_string(),
            seat_id.as_str(),
            user_id.as_uuid().to_string(),
            name
        ],
    );
    match written {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(failure, _))
            if failure.extended_code
                == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            Err(OutboxError::SeatTaken {
                seat_id: seat_id.clone(),
            })
        }
        Err(error) => Err(error.into()),
    }
}

/// A booking's state as the database has it.
pub(crate) fn load(
    connection: &Connection,
    booking_id: BookingId,
) -> Result<BookingState, OutboxError> {
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
        return Ok(BookingState::Empty);
    };
    let seat_id = SeatId::parse(&seat).map_err(|_| OutboxError::Corrupt {
        what: format!("the seat {seat:?}"),
    })?;
    let user_id =
        Uuid::parse_str(&user).map(UserId::from_uuid).map_err(|_| {
            OutboxError::Corrupt {
                what: format!("the user id {user:?}"),
            }
        })?;
    Ok(match state.as_str() {
        "held" => BookingState::Held {
            booking_id,
            seat_id,
            user_id,
        },
        "confirmed" => BookingState::Confirmed {
            booking_id,
            seat_id,
            user_id,
        },
        "expired" => BookingState::Expired {
            booking_id,
            seat_id,
            user_id,
        },
        other => {
            return Err(OutboxError::Corrupt {
                what: format!("the booking state {other:?}"),
            });
        }
    })
}
