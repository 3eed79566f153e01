//! How fast records come out of the consumer's stream, beside plain loops over
//! `Log::read` as the baseline.
//!
//! Run from the repository root (about a minute on 2 cores, after the build):
//!
//! ```sh
//! cargo bench -p solution08-stream --bench throughput
//! ```
//!
//! Every benchmark reads the same log of one million encoded booking events in
//! four partitions, built once (about two seconds). Each one reports records per
//! second:
//!
//! - `read`: `Log::read` in batches, partition by partition; no decoding. The
//!   ceiling: what the log itself costs.
//! - `read+decode`: the same loop, decoding every record. The fair baseline for
//!   the consumer, which decodes too.
//! - `stream`: the consumer's stream drained with `while let Some(item) =
//!   consumer.next().await`, with its default batch size.
//! - `stream batch=1`: the same with one record per read of the log, to show
//!   what fetching in batches saves.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{
    Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use futures::StreamExt;
use solution02_protobuf::decode;
use solution08_stream::{
    BookingEvent, BookingId, Consumer, Log, Offset, Partition, Record, SeatId,
    UserId, encode,
};

const RECORDS: usize = 1_000_000;
const PARTITIONS: u32 = 4;

/// A log of `RECORDS` events, `RECORDS / PARTITIONS` in each partition: the
/// three kinds of booking event in turn, each booking keyed by its id.
///
/// The log is filled one partition after the other, so that each partition's
/// records lie together in memory, as each partition's segment files do on a
/// real broker. Filled round-robin instead, neighbouring offsets of a partition
/// sit four records apart, and the order of reading alone changes the results
/// by a quarter (see the chapter): more than the consumer's own overhead.
fn filled_log() -> Arc<Log> {
    let log = Log::new(PARTITIONS).expect("PARTITIONS is not 0");
    let seat = SeatId::parse("A12").expect("A12 is a seat");
    for i in 0..RECORDS {
        let booking_id = BookingId::new();
        let event = match i % 3 {
            0 => BookingEvent::ReservationRequested {
                booking_id,
                seat_id: seat.clone(),
                user_id: UserId::new(),
            },
            1 => BookingEvent::PaymentReceived { booking_id },
            _ => BookingEvent::ReservationExpired { booking_id },
        };
        let key = booking_id.as_uuid().as_bytes().to_vec();
        let partition = Partition((i * PARTITIONS as usize / RECORDS) as u32);
        log.append(partition, Record::new(key, encode(&event)))
            .expect("the partition exists");
    }
    Arc::new(log)
}

/// Reads every record of `log` with `Log::read`, `batch` at a time, partition
/// after partition, and passes each to `each`. Returns how many there were.
fn read_all(log: &Log, batch: usize, mut each: impl FnMut(&Record)) -> usize {
    let mut count = 0;
    for partition in (0..PARTITIONS).map(Partition) {
        let mut position = Offset(0);
        loop {
            let records = log
                .read(partition, position, batch)
                .expect("the partition exists");
            let Some(last) = records.last() else { break };
            position = last.offset.next();
            count += records.len();
            for stored in &records {
                each(&stored.record);
            }
        }
    }
    count
}

/// Drains a consumer of every partition of `log` through its `Stream`, and
/// returns how many events decoded.
fn drain_stream(
    runtime: &tokio::runtime::Runtime,
    log: &Arc<Log>,
    batch: usize,
) -> usize {
    let assignments =
        (0..PARTITIONS).map(|p| (Partition(p), Offset(0))).collect();
    let mut consumer =
        Consumer::with_batch_size(Arc::clone(log), assignments, batch)
            .expect("a valid assignment");
    runtime.block_on(async {
        let mut decoded = 0;
        let mut seen = 0;
        // The log holds exactly RECORDS records: stop after the last one, since
        // the stream itself would wait for more.
        while seen < RECORDS {
            match consumer.next().await {
                Some(Ok(record)) => {
                    black_box(&record);
                    decoded += 1;
                }
                Some(Err(error)) => {
                    black_box(&error);
                }
                None => break,
            }
            seen += 1;
        }
        decoded
    })
}

fn throughput(c: &mut Criterion) {
    let log = filled_log();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime starts");
    let batch = Consumer::DEFAULT_BATCH_SIZE;

    let mut group = c.benchmark_group("consume 1M records");
    group
        .throughput(Throughput::Elements(RECORDS as u64))
        // One iteration takes a good fraction of a second: flat sampling runs
        // ten of them, instead of criterion's default ramp of 55.
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    group.bench_function("read", |b| {
        b.iter(|| {
            let count = read_all(&log, batch, |record| {
                black_box(record);
            });
            assert_eq!(count, RECORDS);
        })
    });
    group.bench_function("read+decode", |b| {
        b.iter(|| {
            let mut decoded = 0;
            read_all(&log, batch, |record| {
                if let Ok(event) = decode(&record.value) {
                    black_box(event);
                    decoded += 1;
                }
            });
            assert_eq!(decoded, RECORDS);
        })
    });
    group.bench_function("stream", |b| {
        b.iter(|| assert_eq!(drain_stream(&runtime, &log, batch), RECORDS))
    });
    group.bench_function("stream batch=1", |b| {
        b.iter(|| assert_eq!(drain_stream(&runtime, &log, 1), RECORDS))
    });
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
