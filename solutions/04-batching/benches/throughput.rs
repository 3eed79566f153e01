//! Throughput of the reference producer at several batch sizes and lingers.
//!
//! Run with `cargo bench -p solution04-batching`; the chapter shows a table of
//! results and the machine they came from.
//!
//! The broker here is a model, not the in-memory broker of the tests: it stores
//! nothing (so memory stays flat over millions of records) and it spends a fixed
//! amount of CPU time on every request, whatever the request holds. That fixed cost
//! stands for what a real request costs regardless of its size: a system call, a
//! request header to write and parse, a broker thread to wake, an acknowledgment to
//! send back. Without it, "sending" a batch costs a function call, and batching
//! could only save that function call: the benchmark would hide the very thing
//! batching is for. The figure is a chosen one (see `PER_REQUEST`), not measured
//! from Kafka: what matters is the shape of the curve, not the exact numbers.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{
    Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use solution04_batching::{
    Batch, BatchConfig, BrokerClient, Partition, Producer, Record, SendError,
    Topic,
};

/// Records sent per measured iteration: enough that even the largest batches are
/// sent (and not just flushed at the end) more than once.
const RECORDS: usize = 8192;
/// An 8-byte key and a 100-byte value: every record is 108 bytes.
const RECORD_BYTES: usize = 108;
/// The CPU time the model broker spends per request. A request on a real network
/// also waits for a round trip, typically longer; Kafka hides most of that wait by
/// keeping up to 5 requests in flight per connection, so the model leaves it out.
const PER_REQUEST: Duration = Duration::from_micros(20);

/// A broker that accepts everything, counts records, and burns `per_request` of
/// CPU on each request.
struct ModelBroker {
    per_request: Duration,
    records: AtomicU64,
}

impl ModelBroker {
    fn new(per_request: Duration) -> Self {
        Self {
            per_request,
            records: AtomicU64::new(0),
        }
    }
}

impl BrokerClient for ModelBroker {
    async fn send(
        &self,
        _topic: &str,
        _partition: Partition,
        batch: &Batch,
    ) -> Result<(), SendError> {
        // A busy wait, not `tokio::time::sleep`: the cost is CPU work, and timers
        // have a resolution of a millisecond, far coarser than one request.
        let start = std::time::Instant::now();
        while start.elapsed() < self.per_request {
            std::hint::spin_loop();
        }
        self.records
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

fn records() -> Vec<Record> {
    (0..RECORDS)
        .map(|i| {
            let key = format!("seat-{:03}", i % 1000);
            Record::new(key.into_bytes(), vec![b'x'; 100])
        })
        .inspect(|record| assert_eq!(record.size(), RECORD_BYTES))
        .collect()
}

/// How the application drives the producer in one iteration.
#[derive(Clone, Copy)]
enum Driver {
    /// `send` every record, then `flush_all`: batches leave only when full (the
    /// linger never runs out in the short time an iteration takes).
    SendOnly,
    /// `flush_due` after every `send`, as a sender thread that is never busy would:
    /// a batch leaves as soon as its linger has run out.
    FlushDueAfterEachSend,
}

/// One iteration: a fresh producer sends every record, then flushes.
fn produce(
    runtime: &tokio::runtime::Runtime,
    topic: &Topic,
    config: BatchConfig,
    per_request: Duration,
    records: &[Record],
    driver: Driver,
) {
    runtime.block_on(async {
        let broker = ModelBroker::new(per_request);
        let mut producer = Producer::new(topic.clone(), config, broker);
        for record in records {
            producer
                .send(record.clone())
                .await
                .expect("the model broker never fails");
            if let Driver::FlushDueAfterEachSend = driver {
                producer
                    .flush_due()
                    .await
                    .expect("the model broker never fails");
            }
        }
        producer
            .flush_all()
            .await
            .expect("the model broker never fails");
        // Every record must have reached the broker, or the figures are wrong.
        assert_eq!(
            producer.broker().records.load(Ordering::Relaxed),
            records.len() as u64
        );
    });
}

fn throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime for the benchmark");
    // One partition, so that every batch fills to exactly the size configured.
    let topic = Topic::new("bookings", 1).expect("a valid topic");
    let records = records();

    for (group_name, per_request) in [
        ("free_requests", Duration::ZERO),
        ("20us_per_request", PER_REQUEST),
    ] {
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Elements(RECORDS as u64));
        group.sampling_mode(SamplingMode::Flat);
        for records_per_batch in [1usize, 16, 256, 4096] {
            let config = BatchConfig {
                max_batch_bytes: records_per_batch * RECORD_BYTES,
                linger: Duration::from_millis(5),
            };
            group.bench_function(
                format!("{records_per_batch}_records_per_batch"),
                |b| {
                    b.iter(|| {
                        produce(
                            &runtime,
                            &topic,
                            config,
                            per_request,
                            black_box(&records),
                            Driver::SendOnly,
                        )
                    });
                },
            );
        }
        group.finish();
    }

    // The linger matters when the producer would otherwise send right away: with
    // linger 0 and a sender that is never busy, every batch leaves with one record,
    // whatever batch.size says.
    let mut group = c.benchmark_group("linger_20us_per_request");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sampling_mode(SamplingMode::Flat);
    for linger_ms in [0u64, 5] {
        let config = BatchConfig {
            max_batch_bytes: 256 * RECORD_BYTES,
            linger: Duration::from_millis(linger_ms),
        };
        group.bench_function(
            format!("linger_{linger_ms}ms_256_records_per_batch"),
            |b| {
                b.iter(|| {
                    produce(
                        &runtime,
                        &topic,
                        config,
                        PER_REQUEST,
                        black_box(&records),
                        Driver::FlushDueAfterEachSend,
                    )
                });
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Short runs: the whole benchmark takes well under a minute on 2 cores, which
    // is plenty to see differences of 10x and more.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = throughput
}
criterion_main!(benches);
