//! Handlers that finish out of order, the committed offset that follows them,
//! and the consumer lag, one line per event. Run it and read along:
//!
//! ```sh
//! cargo run -q -p solution09-offsets --example watermark
//! ```
//!
//! The records come from the consumer of step 08. The handlers are not real
//! tasks: they finish in a fixed order, as if the one handling record 1 were
//! slow, so that the output is the same on every run.

use std::error::Error;
use std::sync::Arc;

use solution08_stream::Consumer;
use solution09_offsets::{
    BookingEvent, BookingId, CommitTracker, CommittedOffsets, Log, Offset,
    Partition, Record, encode,
};

const P: Partition = Partition(0);

/// At most this many records are handled at once: JetStream's MaxAckPending.
const MAX_IN_FLIGHT: usize = 4;

fn append_payments(log: &Log, count: usize) -> Result<(), Box<dyn Error>> {
    for _ in 0..count {
        let event = BookingEvent::PaymentReceived {
            booking_id: BookingId::new(),
        };
        log.append(P, Record::new("booking", encode(&event)))?;
    }
    Ok(())
}

fn offsets(offsets: &[Offset]) -> String {
    let list: Vec<String> = offsets.iter().map(Offset::to_string).collect();
    format!("[{}]", list.join(", "))
}

// ANCHOR: demo
fn main() -> Result<(), Box<dyn Error>> {
    let log = Arc::new(Log::new(1)?);
    append_payments(&log, 6)?;

    let mut committed = CommittedOffsets::new();
    let start = committed.resume_at(P);
    let mut consumer = Consumer::new(Arc::clone(&log), vec![(P, start)])?;
    let mut tracker = CommitTracker::new(start);

    let show = |what: &str,
                tracker: &CommitTracker|
     -> Result<(), Box<dyn Error>> {
        let log_end = log.high_watermark(P)?;
        println!(
            "{what:<22} in flight {:<14} committed {:<3} log end {:<3} lag {}",
            offsets(&tracker.in_flight()),
            tracker.committed().0,
            log_end.0,
            tracker.lag(log_end),
        );
        Ok(())
    };
    show("start", &tracker)?;

    // Take up to MAX_IN_FLIGHT records from the consumer and start their handlers.
    let mut received = Vec::new();
    while received.len() < MAX_IN_FLIGHT {
        let Some(item) = consumer.next_ready() else {
            break;
        };
        let record = item?;
        tracker.received(record.offset)?;
        received.push(record.offset);
    }
    show(&format!("received {}", offsets(&received)), &tracker)?;

    // The handlers finish out of order: the one of record 1 is the slowest.
    for offset in [2, 0, 3, 1] {
        if let Some(watermark) = tracker.finished(Offset(offset))? {
            committed.commit(P, watermark, log.high_watermark(P)?)?;
        }
        show(&format!("finished {offset}"), &tracker)?;
    }

    append_payments(&log, 3)?;
    show("3 more appended", &tracker)?;

    println!(
        "a restart now resumes at offset {}, the first record not handled",
        committed.resume_at(P)
    );
    Ok(())
}
// ANCHOR_END: demo
