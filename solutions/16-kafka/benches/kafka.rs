//! Step 15's benchmark with the Kafka-protocol broker beside it, in one run:
//! the same workload (step 15's `benches/workload/mod.rs`, included below)
//! through step 10's durable log, JetStream (one server, and three nodes
//! with three replicas) and a tansu broker through rdkafka.
//!
//! ```sh
//! cargo bench -p solution16-kafka --bench kafka
//! ```
//!
//! On Kafka, the bus publishes as the other buses do: one event, then the
//! wait for the broker's acknowledgement (the delivery report), then the
//! next. So the producer's `linger.ms` is paid on every event; the two
//! Kafka rows show what that costs (step 04's trade-off).

use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use solution16_kafka::{KafkaBus, KafkaConfig, TansuBroker};

#[path = "../../15-bridge/benches/workload/mod.rs"]
mod workload;

/// One tansu broker in a fresh folder, the bus on one partition (as the
/// other buses here), and the workload through it.
async fn tansu_row(name: &str, linger: Duration, dir: &Path) {
    let broker = TansuBroker::start().unwrap_or_else(|e| panic!("{e}"));
    let config = KafkaConfig {
        partitions: NonZeroU32::MIN,
        linger,
        ..KafkaConfig::new(broker.address())
    };
    let mut bus = KafkaBus::connect_assigned(config, 1)
        .await
        .unwrap_or_else(|e| panic!("connecting to tansu: {e} ({e:?})"));
    let figures = workload::run(&mut bus, dir).await;
    workload::print(name, &figures);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    workload::print_header();
    let dir = tempfile::tempdir().expect("a temporary folder");
    workload::step15_rows(dir.path()).await;
    tansu_row(
        "tansu (Kafka), linger.ms=5",
        Duration::from_millis(5),
        &dir.path().join("tansu-linger-5"),
    )
    .await;
    tansu_row(
        "tansu (Kafka), linger.ms=0",
        Duration::ZERO,
        &dir.path().join("tansu-linger-0"),
    )
    .await;
}
