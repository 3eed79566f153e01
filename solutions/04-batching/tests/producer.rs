//! Exercise "producer": `Producer::send`, `flush_due`, `flush_all` and
//! `send_unsent` in src/producer.rs.
//!
//! The tests run on a paused tokio clock (`start_paused = true`): time stands
//! still until a test moves it with `tokio::time::advance`, so "4 ms later" is
//! exact and the tests take no real time.

mod common;

use common::{LINGER, config, keyed, ms, names, one_key_per_partition, topic};
use proptest::prelude::*;
use solution04_batching::{
    FlushError, InMemoryBroker, Partition, Producer, Record, SendError,
};
use tokio::time::{Instant, advance};

const P0: Partition = Partition(0);

/// A one-partition topic whose batches hold exactly three 10-byte records.
fn three_record_producer() -> (Producer<InMemoryBroker>, InMemoryBroker) {
    let broker = InMemoryBroker::new();
    let producer =
        Producer::new(topic("bookings", 1), config(30, LINGER), broker.clone());
    (producer, broker)
}

fn rec(name: &str) -> Record {
    keyed("seat-1", name, 10)
}

async fn send_all(producer: &mut Producer<InMemoryBroker>, records: &[&str]) {
    for name in records {
        producer
            .send(rec(name))
            .await
            .unwrap_or_else(|error| panic!("sending {name} failed: {error}"));
    }
}

/// What the broker received, one entry per batch.
fn received(broker: &InMemoryBroker) -> Vec<Vec<String>> {
    broker
        .received()
        .iter()
        .map(|batch| names(&batch.records))
        .collect()
}

fn batches(list: &[&[&str]]) -> Vec<Vec<String>> {
    list.iter()
        .map(|batch| batch.iter().map(|r| r.to_string()).collect())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn records_wait_until_their_batch_is_full_or_has_lingered() {
    let (mut producer, broker) = three_record_producer();
    send_all(&mut producer, &["a1", "a2"]).await;
    assert_eq!(
        broker.attempts(),
        0,
        "two records fill 20 of 30 bytes and no time has passed: send must buffer them, not call the broker"
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_batch_is_sent_at_once() {
    let t0 = Instant::now();
    let (mut producer, broker) = three_record_producer();
    send_all(&mut producer, &["a1", "a2", "a3"]).await;
    assert_eq!(
        received(&broker),
        batches(&[&["a1", "a2", "a3"]]),
        "the third record fills the batch: send must pass it to the broker before returning"
    );
    let batch = &broker.received()[0];
    assert_eq!(
        batch.received_at, t0,
        "a full batch must not wait for the linger"
    );
    assert_eq!(
        batch.topic, "bookings",
        "the batch must be sent to the producer's topic"
    );
    assert_eq!(batch.partition, P0, "the topic has only partition 0");
}

#[tokio::test(start_paused = true)]
async fn flush_due_sends_a_batch_only_once_its_linger_has_passed() {
    let t0 = Instant::now();
    let (mut producer, broker) = three_record_producer();
    send_all(&mut producer, &["a1"]).await;

    advance(ms(4)).await;
    producer
        .flush_due()
        .await
        .expect("the broker does not fail here");
    assert_eq!(
        broker.attempts(),
        0,
        "4 ms after a1, its batch has lingered only 4 of 5 ms: flush_due must not send it yet"
    );

    advance(ms(1)).await;
    producer
        .flush_due()
        .await
        .expect("the broker does not fail here");
    assert_eq!(
        received(&broker),
        batches(&[&["a1"]]),
        "5 ms after a1, its batch has lingered long enough: flush_due must send it, even though it is not full"
    );
    assert_eq!(broker.received()[0].received_at, t0 + ms(5));
    assert_eq!(
        producer.next_deadline(),
        None,
        "after the flush no batch is open, so nothing is due"
    );
}

#[tokio::test(start_paused = true)]
async fn flush_all_sends_every_batch_whatever_its_age() {
    let broker = InMemoryBroker::new();
    let topic = topic("bookings", 4);
    let keys = one_key_per_partition(&topic);
    let mut producer =
        Producer::new(topic, config(1000, LINGER), broker.clone());
    producer
        .send(keyed(&keys[2], "c1", 10))
        .await
        .expect("buffered");
    producer
        .send(keyed(&keys[0], "a1", 10))
        .await
        .expect("buffered");
    producer
        .flush_all()
        .await
        .expect("the broker does not fail here");
    assert_eq!(
        received(&broker),
        batches(&[&["a1"], &["c1"]]),
        "flush_all must send the open batch of every partition at once (in partition order), \
         without waiting for the linger"
    );
}

#[tokio::test(start_paused = true)]
async fn each_record_goes_to_the_partition_its_key_maps_to() {
    let broker = InMemoryBroker::new();
    let topic = topic("bookings", 4);
    let keys = one_key_per_partition(&topic);
    let mut producer =
        Producer::new(topic.clone(), config(1000, LINGER), broker.clone());
    for (i, key) in keys.iter().enumerate() {
        producer
            .send(keyed(key, &format!("r{i}"), 20))
            .await
            .expect("buffered");
    }
    producer
        .flush_all()
        .await
        .expect("the broker does not fail here");
    let received = broker.received();
    assert_eq!(
        received.len(),
        4,
        "four records with keys of four different partitions make four batches, one per partition"
    );
    for batch in received {
        for record in &batch.records {
            assert_eq!(
                batch.partition,
                topic.partition_for(&record.key),
                "record {} was sent in a batch for partition {}, but its key belongs to partition {}: \
                 use topic.partition_for(&record.key)",
                common::name_of(record),
                batch.partition,
                topic.partition_for(&record.key)
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_batch_the_broker_refused_is_kept_and_sent_by_the_next_flush() {
    let (mut producer, broker) = three_record_producer();
    broker.fail_next(1);
    send_all(&mut producer, &["a1", "a2"]).await;
    let error = producer
        .send(rec("a3"))
        .await
        .expect_err("the broker refused the full batch: send must return the error, not hide it");
    assert_eq!(
        error.partition, P0,
        "the error must name the partition of the batch"
    );
    assert_eq!(
        error.records, 3,
        "the error must say how many records the batch held"
    );
    assert_eq!(
        producer.unsent_batches(),
        1,
        "the refused batch must stay in the producer: it is the only copy of a1, a2 and a3"
    );

    producer.flush_due().await.expect("the broker works again");
    assert_eq!(
        received(&broker),
        batches(&[&["a1", "a2", "a3"]]),
        "the next flush must send the batch that failed; a batch is removed only after the broker took it"
    );
    assert_eq!(producer.unsent_batches(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_refused_batch_goes_out_before_the_batches_that_follow_it() {
    let (mut producer, broker) = three_record_producer();
    broker.fail_next(1);
    send_all(&mut producer, &["a1", "a2"]).await;
    assert!(
        producer.send(rec("a3")).await.is_err(),
        "the injected failure must be reported"
    );
    // The broker works again. b3 fills the next batch: the producer now has two
    // ready batches, and the older one must go first.
    send_all(&mut producer, &["b1", "b2", "b3"]).await;
    assert_eq!(
        received(&broker),
        batches(&[&["a1", "a2", "a3"], &["b1", "b2", "b3"]]),
        "the batch that failed holds older records: it must be sent before the newer batch, \
         or consumers read b1..b3 before a1..a3"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_stops_the_flush_so_later_batches_do_not_overtake() {
    let (mut producer, broker) = three_record_producer();
    send_all(&mut producer, &["a1"]).await;
    broker.fail_next(1);
    // BIG is bigger than a batch: it makes two ready batches at once, [a1] then
    // [BIG]. The first send fails.
    let error = producer.send(keyed("seat-1", "BIG", 40)).await;
    assert!(error.is_err(), "the refused batch [a1] must be reported");
    assert_eq!(
        received(&broker),
        Vec::<Vec<String>>::new(),
        "after [a1] failed, [BIG] must not be sent in the same flush: it would reach the partition before a1"
    );
    assert_eq!(
        producer.unsent_batches(),
        2,
        "both batches must wait in the producer"
    );

    producer.flush_all().await.expect("the broker works again");
    assert_eq!(
        names(&broker.records_in(P0)),
        ["a1", "BIG"],
        "partition 0 must hold a1 then BIG, in the order they were sent"
    );
}

#[tokio::test(start_paused = true)]
async fn flush_all_sends_refused_batches_before_open_ones() {
    let (mut producer, broker) = three_record_producer();
    broker.fail_next(1);
    send_all(&mut producer, &["a1", "a2"]).await;
    assert!(
        producer.send(rec("a3")).await.is_err(),
        "the injected failure must be reported"
    );
    send_all(&mut producer, &["b1"]).await;
    producer.flush_all().await.expect("the broker works again");
    assert_eq!(
        received(&broker),
        batches(&[&["a1", "a2", "a3"], &["b1"]]),
        "flush_all must send the batch that failed first, then the open batch"
    );
}

#[tokio::test(start_paused = true)]
async fn the_error_says_what_failed_and_that_nothing_is_lost() {
    let (mut producer, broker) = three_record_producer();
    broker.fail_next(1);
    send_all(&mut producer, &["a1", "a2"]).await;
    let error = producer
        .send(rec("a3"))
        .await
        .expect_err("the broker refused the batch");
    let message = error.to_string();
    assert!(
        message.contains("partition 0") && message.contains("bookings"),
        "the message must name the topic and the partition, got: {message}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_error_names_the_partition_and_the_size_of_the_refused_batch() {
    let broker = InMemoryBroker::new();
    let topic = topic("bookings", 2);
    let keys = one_key_per_partition(&topic);
    let mut producer = Producer::new(topic, config(30, LINGER), broker.clone());
    for name in ["b1", "b2"] {
        producer
            .send(keyed(&keys[1], name, 10))
            .await
            .unwrap_or_else(|error| panic!("sending {name} failed: {error}"));
    }
    // The next three sends fail.
    broker.fail_next(3);
    let error = producer
        .send(keyed(&keys[1], "b3", 10))
        .await
        .expect_err("the broker refused the full batch of partition 1");
    assert_eq!(
        error.partition,
        Partition(1),
        "the batch [b1, b2, b3] belongs to partition 1: the error must name \
         the partition of the refused batch"
    );

    // b4 opens a batch; the retry of [b1, b2, b3] that send makes fails again.
    producer
        .send(keyed(&keys[1], "b4", 10))
        .await
        .expect_err("the broker refused [b1, b2, b3] a second time");
    // Two batches wait now, the refused [b1, b2, b3] and the open [b4], and
    // flush_all sends them in that order: the first fails a third time.
    let error = producer
        .flush_all()
        .await
        .expect_err("the broker refused the oldest batch again");
    assert_eq!(
        error.records, 3,
        "the refused batch is [b1, b2, b3]: the error counts its records, \
         not those of every batch waiting behind it"
    );
}

#[tokio::test(start_paused = true)]
async fn flush_due_sends_refused_batches_before_expired_ones() {
    let (mut producer, broker) = three_record_producer();
    send_all(&mut producer, &["a1", "a2"]).await;
    // The send of the full [a1, a2, a3] fails, and so does its retry by b1's
    // send.
    broker.fail_next(2);
    assert!(
        producer.send(rec("a3")).await.is_err(),
        "the injected failure must be reported"
    );
    assert!(
        producer.send(rec("b1")).await.is_err(),
        "the second injected failure must be reported"
    );
    advance(LINGER).await;
    producer.flush_due().await.expect("the broker works again");
    assert_eq!(
        received(&broker),
        batches(&[&["a1", "a2", "a3"], &["b1"]]),
        "flush_due must send the refused batch [a1, a2, a3] before the expired \
         batch [b1]: b1 was sent after them, and consumers must read it after"
    );
}

#[test]
fn a_flush_error_does_not_repeat_its_cause() {
    let error = FlushError {
        topic: "bookings".to_owned(),
        partition: Partition(2),
        records: 3,
        source: SendError::new("connection reset"),
    };
    workshop_testkit::errors::assert_cause_not_repeated(&error, 2);
}

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(64))]

    /// Whatever the sizes, timings and failures, each partition ends up with
    /// exactly the records sent to it, in order: none lost, none doubled.
    #[test]
    fn no_record_is_lost_doubled_or_reordered(
        steps in proptest::collection::vec((0usize..3, 10usize..50, 0u64..4, any::<bool>()), 1..40),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a tokio runtime for the test");
        runtime.block_on(async {
            let broker = InMemoryBroker::new();
            let topic = topic("bookings", 3);
            let keys = one_key_per_partition(&topic);
            let mut producer = Producer::new(topic, config(60, LINGER), broker.clone());
            let mut sent: Vec<Vec<String>> = vec![Vec::new(); 3];
            for (i, (partition, size, wait_ms, fail)) in steps.iter().enumerate() {
                if *fail {
                    broker.fail_next(1);
                }
                let name = format!("r{i}");
                // An Err is fine: the record is buffered and the batch kept.
                let _ = producer.send(keyed(&keys[*partition], &name, *size)).await;
                sent[*partition].push(name);
                advance(ms(*wait_ms)).await;
                let _ = producer.flush_due().await;
            }
            broker.fail_next(0);
            producer.flush_all().await.expect("the broker no longer fails");
            for (partition, want) in sent.iter().enumerate() {
                let got = names(&broker.records_in(Partition(partition as u32)));
                prop_assert_eq!(
                    &got, want,
                    "partition {} must hold every record sent to it exactly once, in the order sent",
                    partition
                );
            }
            Ok(())
        })?;
    }
}
