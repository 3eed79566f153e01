//! The in-memory pipeline (step 05's buffer and step 04's producer, step
//! 06's log, step 08's consumer stream, a handler without SQLite) beside a
//! tokio `mpsc` channel that moves the same encoded events to the same
//! handler, in one run. The goal: at least half the channel's events per
//! second.
//!
//! Run from the repository root (a few seconds after the build):
//!
//! ```sh
//! cargo bench -p capstone-bench --bench in_memory
//! ```
//!
//! Both sides move 300,000 encoded booking events (150,000 bookings, a
//! request and a payment each) from a producer task to a consumer task on
//! one current-thread runtime; the consumer decodes each with step 02's codec
//! and applies it with step 01's state machine. The two take turns, five
//! rounds each, and each reports its median. See
//! `capstone_bench::in_memory` for what each side is made of.
//!
//! Figures go to `book/src/generated/bench-14-in-memory.{txt,csv}` and the
//! chart to `bench-14-in-memory.svg`.

use std::sync::Arc;

use capstone_bench::figures::{
    self, IN_MEMORY, IN_MEMORY_COLUMNS, IN_MEMORY_COMMAND, Table, grouped,
};
use capstone_bench::in_memory::{self, Moved, encoded_events, through_channel, through_pipeline};
use capstone_bench::stats::median;

const ROUNDS: usize = 5;
const BOOKINGS: usize = 150_000;

fn main() {
    // `cargo test --benches` runs this with `--bench` missing: keep it quick.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let events = Arc::new(encoded_events(BOOKINGS));
    let runtime = in_memory::runtime().expect("a current-thread runtime");
    let check = |side: &str, moved: Moved| {
        assert_eq!(
            moved.confirmed, BOOKINGS,
            "{side}: every booking's payment must follow its request"
        );
        moved.events_per_second()
    };
    let (mut pipeline, mut channel) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut run_pipeline = || {
            let moved = through_pipeline(&runtime, Arc::clone(&events))
                .unwrap_or_else(|error| panic!("{error} ({error:?})"));
            pipeline.push(check("pipeline", moved));
        };
        let mut run_channel = || {
            let moved = through_channel(&runtime, Arc::clone(&events))
                .unwrap_or_else(|error| panic!("{error} ({error:?})"));
            channel.push(check("channel", moved));
        };
        // Who goes first changes every round.
        if round % 2 == 0 {
            run_channel();
            run_pipeline();
        } else {
            run_pipeline();
            run_channel();
        }
    }
    let channel = median(&channel).expect("rounds ran");
    let pipeline = median(&pipeline).expect("rounds ran");

    let mut table = Table::new(&IN_MEMORY_COLUMNS);
    for (label, rate) in [
        ("tokio mpsc channel", channel),
        ("pipeline: steps 04-05 -> 06 -> 08", pipeline),
    ] {
        table.push(vec![
            label.to_owned(),
            format!("{rate:.0}"),
            format!("{:.2}", rate / channel),
        ]);
    }
    let mut printed = String::new();
    for row in 0..table.rows.len() {
        let number = |column| table.number(row, column).expect("a number");
        printed.push_str(&format!(
            "{:<36} {:>11} events/s   {:.2}x channel\n",
            table.text(row, "line").expect("a field"),
            grouped(number("events_per_second")),
            number("ratio_to_channel"),
        ));
    }
    printed.push_str(&format!(
        "{} events ({BOOKINGS} bookings), {ROUNDS} rounds in turns, medians; \
         goal: pipeline at least 0.50x channel\n",
        events.len()
    ));
    print!("{printed}");

    let dir = figures::generated_dir();
    let write = |name: String, text: &str| {
        figures::write(&dir, &name, text).unwrap_or_else(|error| panic!("{error} ({error:?})"))
    };
    write(
        format!("{IN_MEMORY}.txt"),
        &figures::transcript(IN_MEMORY_COMMAND, &printed),
    );
    write(format!("{IN_MEMORY}.csv"), &table.to_csv());
    figures::write_in_memory_chart(&dir).unwrap_or_else(|error| panic!("{error} ({error:?})"));
    println!("figures and chart written to {}", dir.display());
}
