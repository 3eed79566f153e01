//! The benchmarks of step 14: the booking service end to end on real files,
//! per fsync policy, and the in-memory pipeline beside a tokio channel.
//!
//! - `service.rs`: the service's own pipeline (`solution14_capstone`) on
//!   real files, from a booking request to its committed effect
//!   ([`service::run`]).
//! - `in_memory.rs`: the in-memory pipeline of steps 04 to 08 and the channel
//!   it is measured against ([`in_memory::through_pipeline`],
//!   [`in_memory::through_channel`]).
//! - `figures.rs`: the figures each benchmark writes to
//!   `book/src/generated/`, as text and CSV, and the charts made from the CSV.
//! - `chart.rs`: a small SVG bar chart writer.
//! - `stats.rs`: medians and percentiles.
//!
//! The benchmarks are `benches/end_to_end.rs` and `benches/in_memory.rs`; the
//! book's section is `book/src/fragments/14-benchmarks.md`.

pub mod chart;
pub mod figures;
pub mod in_memory;
pub mod service;
pub mod stats;
