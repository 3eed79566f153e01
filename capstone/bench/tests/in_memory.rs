//! Both sides of the in-memory comparison deliver every event, in each
//! booking's order, to the handler. Nothing is timed.

use std::sync::Arc;

use capstone_bench::in_memory::{encoded_events, runtime, through_channel, through_pipeline};

#[test]
fn the_pipeline_hands_every_event_to_the_handler_in_each_bookings_order() {
    let events = Arc::new(encoded_events(2_000));
    let runtime = runtime().expect("a current-thread runtime");
    let moved =
        through_pipeline(&runtime, events).unwrap_or_else(|error| panic!("{error} ({error:?})"));
    assert_eq!(
        (moved.handled, moved.confirmed),
        (4_000, 2_000),
        "every event must come out of the log once, and each booking's \
         payment after its request (same key, same partition)"
    );
}

#[test]
fn the_channel_hands_every_event_to_the_same_handler() {
    let events = Arc::new(encoded_events(2_000));
    let runtime = runtime().expect("a current-thread runtime");
    let moved =
        through_channel(&runtime, events).unwrap_or_else(|error| panic!("{error} ({error:?})"));
    assert_eq!((moved.handled, moved.confirmed), (4_000, 2_000));
}
