//! The same workload through the three buses, in one run: step 10's durable
//! log (fsync every record, and never), one JetStream server, and a
//! three-node cluster with a stream of three replicas.
//!
//! ```sh
//! cargo bench -p solution15-bridge --bench buses
//! ```
//!
//! The workload and its measurement are in `workload/mod.rs`, which step
//! 16's benchmark shares.

mod workload;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    workload::print_header();
    let dir = tempfile::tempdir().expect("a temporary folder");
    workload::step15_rows(dir.path()).await;
}
