//! Exercise "pending": `OutboxDb::unsent` and `OutboxDb::mark_sent` in
//! src/pending.rs, the relay's reads and writes of the outbox.

mod common;

use common::{TestDb, record_requests, rows, sent_count};
use solution13_outbox::{MarkMode, OutboxError, Position};
use workshop_testkit::errors::assert_cause_not_repeated;

fn positions(rows: &[solution13_outbox::OutboxRow]) -> Vec<Position> {
    rows.iter().map(|row| row.position).collect()
}

#[test]
fn unsent_gives_the_oldest_rows_first_and_no_more_than_asked() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 5);
    let unsent = db.unsent(3).expect("the outbox is readable");
    assert_eq!(
        unsent,
        recorded[..3].to_vec(),
        "unsent(3) must give the three oldest rows, in the order they were \
         recorded, with their events and ids"
    );
    assert_eq!(
        db.unsent(10).expect("readable").len(),
        5,
        "unsent(10) with 5 unsent rows must return all 5: the limit is an \
         upper bound"
    );
    assert!(
        db.unsent(0).expect("readable").is_empty(),
        "unsent(0) must return no row (LIMIT 0), not all rows"
    );
}

#[test]
fn marked_rows_are_no_longer_unsent_in_both_modes() {
    for mode in [MarkMode::Batched, MarkMode::PerRow] {
        let test = TestDb::new();
        let mut db = test.open();
        let recorded = record_requests(&mut db, 4);
        db.mark_sent(&positions(&recorded[..2]), mode)
            .expect("marking works");
        let sent: Vec<bool> = rows(&db).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            sent,
            vec![true, true, false, false],
            "with {mode:?}, mark_sent of the first two rows must mark those \
             two and no other (the flags are each row's sent_at IS NOT NULL)"
        );
        assert_eq!(
            db.unsent(10).expect("readable"),
            recorded[2..].to_vec(),
            "the first two rows are marked sent, so unsent must give only the \
             last two: unsent must skip the rows marked sent \
             (WHERE sent_at IS NULL)"
        );
        db.mark_sent(&positions(&recorded[..1]), mode)
            .expect("marking a sent row again is not an error");
    }
}

#[test]
fn a_mark_touches_only_the_rows_given() {
    for mode in [MarkMode::Batched, MarkMode::PerRow] {
        let test = TestDb::new();
        let mut db = test.open();
        let recorded = record_requests(&mut db, 4);
        db.mark_sent(&positions(&recorded[2..3]), mode)
            .expect("marking works");
        let sent: Vec<bool> = rows(&db).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            sent,
            vec![false, false, true, false],
            "with {mode:?}, marking row 3 alone must leave rows 1, 2 and 4 \
             unsent: match one position (WHERE position = ?), not a range \
             such as position <= ?, which marks rows never published"
        );
    }
}

#[test]
fn a_row_marked_already_keeps_its_first_sent_at() {
    for mode in [MarkMode::Batched, MarkMode::PerRow] {
        let test = TestDb::new();
        let mut db = test.open();
        let recorded = record_requests(&mut db, 2);
        test.other_connection()
            .execute("UPDATE outbox SET sent_at = 1 WHERE position = 1", [])
            .expect("row 1 is marked sent by hand");
        db.mark_sent(&positions(&recorded), mode)
            .expect("marking a sent row again is not an error");
        let first: i64 = test
            .other_connection()
            .query_row(
                "SELECT sent_at FROM outbox WHERE position = 1",
                [],
                |row| row.get(0),
            )
            .expect("row 1 is there");
        assert_eq!(
            first, 1,
            "with {mode:?}, row 1 was sent at 1 and marked again: its sent_at \
             must stay 1, as the doc says. Add AND sent_at IS NULL to the \
             UPDATE"
        );
    }
}

#[test]
fn a_row_that_does_not_decode_is_a_typed_error_and_nothing_is_handed_out() {
    let test = TestDb::new();
    let mut db = test.open();
    record_requests(&mut db, 1);
    test.other_connection()
        .execute(
            "INSERT INTO outbox (event_id, payload) VALUES ('x', x'ff00ff')",
            [],
        )
        .expect("a bad row is inserted by hand");
    record_requests(&mut db, 1);
    let result = db.unsent(10);
    let Err(error) = result else {
        panic!(
            "a row whose payload is not an event must be an error, not \
             skipped: got {result:?}"
        );
    };
    match &error {
        OutboxError::BadRow { position, .. } => assert_eq!(
            *position,
            Position(2),
            "the error must name the bad row's position"
        ),
        other => panic!(
            "expected OutboxError::BadRow, got {other:?}: decode each payload \
             with decode_row, which returns BadRow with the position"
        ),
    }
    assert_cause_not_repeated(&error, 2);
    assert_eq!(
        db.unsent(1).map(|rows| rows.len()).ok(),
        Some(1),
        "the good row before it can still be read on its own"
    );
}

#[test]
fn a_locked_database_fails_the_mark_and_leaves_the_rows_unsent() {
    for mode in [MarkMode::Batched, MarkMode::PerRow] {
        let test = TestDb::new();
        let mut db = test.open();
        let recorded = record_requests(&mut db, 2);
        let other = test.other_connection();
        other
            .execute_batch("BEGIN IMMEDIATE")
            .expect("the other connection takes the write lock");
        let result = db.mark_sent(&positions(&recorded), mode);
        assert!(
            matches!(result, Err(OutboxError::Locked { .. })),
            "with {mode:?}, a mark that could not be written must return \
             OutboxError::Locked, not Ok: a relay told Ok forgets rows it \
             may not have marked. Got {result:?}"
        );
        other
            .execute_batch("ROLLBACK")
            .expect("the lock is released");
        assert_eq!(
            db.unsent(10).expect("readable").len(),
            2,
            "the rows stay unsent"
        );
    }
}

#[test]
fn a_batched_mark_is_all_or_nothing() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 3);
    test.other_connection()
        .execute_batch(
            "CREATE TRIGGER refuse_third BEFORE UPDATE ON outbox
             WHEN old.position = 3
             BEGIN SELECT RAISE(ABORT, 'not this one'); END;",
        )
        .expect("the trigger is created");
    let result = db.mark_sent(&positions(&recorded), MarkMode::Batched);
    assert!(
        matches!(result, Err(OutboxError::Database { .. })),
        "the refused mark must come back as an error, got {result:?}"
    );
    let sent = sent_count(&test);
    assert_eq!(
        sent, 0,
        "rows marked sent after a batched mark whose third row failed: {sent} \
         of 3. MarkMode::Batched marks the rows in one transaction: when one \
         mark fails, none of them is marked"
    );
}

#[test]
fn a_per_row_mark_keeps_the_rows_marked_before_a_failure() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 4);
    test.other_connection()
        .execute_batch(
            "CREATE TRIGGER refuse_third BEFORE UPDATE ON outbox
             WHEN old.position = 3
             BEGIN SELECT RAISE(ABORT, 'not this one'); END;",
        )
        .expect("the trigger is created");
    let result = db.mark_sent(&positions(&recorded), MarkMode::PerRow);
    assert!(
        matches!(result, Err(OutboxError::Database { .. })),
        "the refused mark must come back as an error, got {result:?}"
    );
    let sent: Vec<bool> = rows(&db).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        sent,
        vec![true, true, false, false],
        "MarkMode::PerRow commits each row on its own: rows 1 and 2, marked \
         before row 3 failed, must stay marked, and row 4 is never reached. \
         Is PerRow one transaction, like Batched?"
    );
}
