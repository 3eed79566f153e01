//! Exercise "record": `OutboxDb::record` in src/outbox.rs, the booking's new
//! state and its outbox row in one transaction.

mod common;

use common::{TestDb, paid, record_requests, requested, rows};
use solution13_outbox::encode_identified;
use solution13_outbox::{BookingState, OutboxError, Rejected};
use workshop_testkit::errors::assert_cause_not_repeated;

#[test]
fn a_request_commits_the_hold_and_its_event_together() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, event) = requested("A1");
    let row = db.record(&event).expect("a first request is recorded");
    assert_eq!(
        row.event.event, event,
        "the row must hold the event recorded"
    );
    assert!(
        matches!(db.state(booking_id), Ok(BookingState::Held { .. })),
        "after record, the booking must be held: the state change is \
         committed; got {:?}",
        db.state(booking_id)
    );
    let all = rows(&db);
    assert_eq!(
        all,
        vec![(row, false)],
        "after record, the outbox must hold exactly the event, unsent"
    );
}

#[test]
fn a_payment_confirms_the_booking_and_queues_its_event_after_the_request() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, request) = requested("A1");
    let first = db.record(&request).expect("the request is recorded");
    let second = db
        .record(&paid(booking_id))
        .expect("the payment is recorded");
    assert!(
        matches!(db.state(booking_id), Ok(BookingState::Confirmed { .. })),
        "after the payment the booking must be confirmed"
    );
    assert!(
        first.position < second.position,
        "the payment's row must come after the request's: the relay publishes \
         in this order"
    );
    assert_ne!(
        first.event.id, second.event.id,
        "every event gets its own id when it is recorded"
    );
}

#[test]
fn each_row_holds_the_wire_bytes_of_its_event_with_its_id() {
    let test = TestDb::new();
    let mut db = test.open();
    let row = record_requests(&mut db, 1).remove(0);
    let payload: Vec<u8> = test
        .other_connection()
        .query_row("SELECT payload FROM outbox", [], |r| r.get(0))
        .expect("the outbox has one row");
    assert_eq!(
        payload,
        encode_identified(&row.event).to_vec(),
        "the payload must be encode_identified of the event with the id \
         record returns: the relay publishes these bytes"
    );
    let event_id: String = test
        .other_connection()
        .query_row("SELECT event_id FROM outbox", [], |r| r.get(0))
        .expect("the outbox has one row");
    assert_eq!(
        event_id,
        row.event.id.to_string(),
        "the outbox.event_id column must be the event id as UUID text \
         (event.id.to_string()), the same id as in the payload"
    );
}

#[test]
fn an_event_the_state_machine_refuses_writes_nothing() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, _) = requested("A1");
    let refused = db.record(&paid(booking_id));
    assert!(
        matches!(
            refused,
            Err(OutboxError::Rejected(Rejected::NotRequested { .. }))
        ),
        "a payment for a booking never requested must be refused by step \
         01's state machine, got {refused:?}"
    );
    assert!(
        rows(&db).is_empty(),
        "a refused event must not reach the outbox: nothing happened, so \
         nothing is announced"
    );
}

#[test]
fn a_hold_on_a_taken_seat_writes_neither_booking_nor_row() {
    let test = TestDb::new();
    let mut db = test.open();
    db.record(&requested("A1").1)
        .expect("the first hold is recorded");
    let (late, second) = requested("A1");
    let refused = db.record(&second);
    match &refused {
        Err(OutboxError::SeatTaken { seat_id }) => {
            assert_eq!(
                seat_id.as_str(),
                "A1",
                "SeatTaken must name the seat that was taken"
            );
        }
        other => panic!(
            "a second hold on seat A1 must be OutboxError::SeatTaken, got \
             {other:?}"
        ),
    }
    assert_eq!(
        db.state(late).ok(),
        Some(BookingState::Empty),
        "the refused hold's booking must not be stored: the SeatTaken error \
         must roll back the whole transaction"
    );
    assert_eq!(
        rows(&db).len(),
        1,
        "the refused hold must not leave an outbox row: no event without its \
         state change"
    );
}

#[test]
fn when_the_outbox_insert_fails_the_booking_does_not_change() {
    let test = TestDb::new();
    let mut db = test.open();
    test.other_connection()
        .execute_batch(
            "CREATE TRIGGER refuse_rows BEFORE INSERT ON outbox
             BEGIN SELECT RAISE(ABORT, 'the outbox is full'); END;",
        )
        .expect("the trigger is created");
    let (booking_id, event) = requested("A1");
    let result = db.record(&event);
    let Err(error) = result else {
        panic!(
            "record must return the error of the outbox insert, not swallow \
             it: got {result:?}"
        );
    };
    assert!(
        matches!(error, OutboxError::Database { .. }),
        "a refused insert is OutboxError::Database, got {error:?}"
    );
    assert_cause_not_repeated(&error, 2);
    assert_eq!(
        db.state(booking_id).ok(),
        Some(BookingState::Empty),
        "the hold must roll back with the failed outbox row: a state change \
         without its event is the lost event of the dual write (is the \
         booking written in its own transaction, before the row?)"
    );
}

#[test]
fn when_the_booking_write_fails_no_row_is_queued() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, request) = requested("A1");
    db.record(&request).expect("the request is recorded");
    test.other_connection()
        .execute_batch(
            "CREATE TRIGGER refuse_updates BEFORE UPDATE ON bookings
             BEGIN SELECT RAISE(ABORT, 'no updates today'); END;",
        )
        .expect("the trigger is created");
    let result = db.record(&paid(booking_id));
    assert!(
        matches!(result, Err(OutboxError::Database { .. })),
        "record must return the error of the booking write, got {result:?}"
    );
    assert_eq!(
        rows(&db).len(),
        1,
        "only the request's row may be there: an event for a change that was \
         not committed is an invented event"
    );
}
