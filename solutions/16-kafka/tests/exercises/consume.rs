//! Exercise "consume": `consumer_config`, `commit_after` and
//! `partition_progress` in src/consume.rs, against a real broker.

use std::time::Duration;

use rdkafka::Timestamp;
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::OwnedMessage;
use solution16_kafka::rdkafka;
use solution16_kafka::{
    KafkaBusError, KafkaConfig, Offset, Partition, PartitionProgress,
    assign_partitions, commit_after, consumer_config, partition_progress,
    progress,
};

use crate::common::{
    TestClient, broker, committed, committed_by, next_record, offset_of,
    on_loopback, publish_event, record_within, requested, test_producer,
    topics,
};

/// What `consumer_config` set `name` to.
fn setting(config: &KafkaConfig, name: &str) -> Option<String> {
    consumer_config(config).get(name).map(str::to_owned)
}

/// A consumer made by `consumer_config`, reading every partition.
fn consumer(config: &KafkaConfig) -> TestClient<StreamConsumer> {
    let consumer: StreamConsumer = on_loopback(consumer_config(config))
        .create()
        .unwrap_or_else(|e| {
            panic!("the client refused consumer_config's settings: {e}")
        });
    assign_partitions(&consumer, config)
        .unwrap_or_else(|e| panic!("assigning the partitions: {e}"));
    TestClient::new(consumer)
}

#[test]
fn the_consumer_joins_the_group_and_commits_only_by_hand() {
    let mut config = KafkaConfig::new("127.0.0.1:9092");
    config.group = "the-test-group".to_owned();
    config.fetch_wait = Duration::from_millis(1_250);
    assert_eq!(
        setting(&config, "bootstrap.servers").as_deref(),
        Some("127.0.0.1:9092"),
        "bootstrap.servers must be config.bootstrap"
    );
    assert_eq!(
        setting(&config, "group.id").as_deref(),
        Some("the-test-group"),
        "group.id must be config.group: the group owns the committed offsets"
    );
    assert_eq!(
        setting(&config, "enable.auto.commit").as_deref(),
        Some("false"),
        "set enable.auto.commit to \"false\": the client would commit every \
         5 s whatever it handed out, handled or not, and a crash would lose \
         those records"
    );
    assert_eq!(
        setting(&config, "enable.auto.offset.store").as_deref(),
        Some("false"),
        "set enable.auto.offset.store to \"false\": otherwise the client \
         notes every record it hands out for the next commit"
    );
    assert_eq!(
        setting(&config, "fetch.wait.max.ms").as_deref(),
        Some("1250"),
        "fetch.wait.max.ms must be config.fetch_wait in whole milliseconds \
         (as_millis)"
    );
}

#[tokio::test]
async fn a_new_group_starts_at_the_earliest_record() {
    let broker = broker();
    let config = topics(&broker, 1);
    let (_, event) = requested();
    publish_event(&test_producer(&config), &config, &event).await;
    let consumer = consumer(&config);
    let first = record_within(&consumer, Duration::from_secs(3)).await;
    assert!(
        first.is_some(),
        "a group that never committed must read the records published \
         before it started: set auto.offset.reset to \"earliest\" (the \
         default, latest, starts at the end and skips them)"
    );
}

#[tokio::test]
async fn commit_after_commits_the_next_offset_to_read() {
    let broker = broker();
    let config = topics(&broker, 1);
    let producer = test_producer(&config);
    for _ in 0..3 {
        publish_event(&producer, &config, &requested().1).await;
    }
    let consumer = consumer(&config);
    let _first = next_record(&consumer).await;
    let second = next_record(&consumer).await;
    assert_eq!(offset_of(&second), 1, "the second record is at offset 1");
    assert_eq!(
        committed_by(&consumer, &config),
        vec![None],
        "nothing is committed before commit_after: only your commit may \
         commit (enable.auto.commit and enable.auto.offset.store off)"
    );
    commit_after(&consumer, &second)
        .unwrap_or_else(|e| panic!("committing: {e} ({e:?})"));
    assert_eq!(
        committed_by(&consumer, &config),
        vec![Some(2)],
        "after handling offset 1, the group's committed offset must be 2: \
         the NEXT offset to read (message.offset() + 1), as in step 09. \
         Committing 1 makes a restarted consumer handle offset 1 again"
    );
}

#[tokio::test]
async fn a_consumer_restarted_in_the_group_resumes_after_the_last_commit() {
    let broker = broker();
    let config = topics(&broker, 1);
    let producer = test_producer(&config);
    for _ in 0..3 {
        publish_event(&producer, &config, &requested().1).await;
    }
    {
        let consumer = consumer(&config);
        let first = next_record(&consumer).await;
        commit_after(&consumer, &first).expect("committing offset 0");
        // Read, not handled, not committed: the consumer stops here.
        let _second = next_record(&consumer).await;
    }
    let restarted = consumer(&config);
    let resumed = next_record(&restarted).await;
    assert_eq!(
        offset_of(&resumed),
        1,
        "a consumer restarted in the same group must resume at the record \
         after the last commit (offset 1): the record it read but never \
         committed comes back, the committed one does not"
    );
}

#[tokio::test]
async fn a_record_read_and_not_committed_is_not_committed_on_close() {
    let broker = broker();
    let config = topics(&broker, 1);
    publish_event(&test_producer(&config), &config, &requested().1).await;
    {
        let consumer = consumer(&config);
        let _read = next_record(&consumer).await;
        // Dropped without commit_after: as if the handler crashed.
    }
    assert_eq!(
        committed(&config),
        vec![None],
        "a record the handler never finished must not be committed, not \
         even when the consumer closes: enable.auto.commit and \
         enable.auto.offset.store must be \"false\""
    );
}

#[test]
fn a_partition_that_was_never_committed_lags_by_all_of_its_records() {
    let got = partition_progress(2, rdkafka::Offset::Invalid, 5);
    assert_eq!(
        got,
        PartitionProgress {
            partition: Partition(2),
            committed: Offset(0),
            end: Offset(5),
            lag: 5,
        },
        "no commit yet (Offset::Invalid) means offset 0: all 5 records of \
         the partition are still to handle"
    );
}

#[test]
fn the_lag_is_the_high_watermark_minus_the_committed_offset() {
    let got = partition_progress(0, rdkafka::Offset::Offset(3), 5);
    assert_eq!(
        got,
        PartitionProgress {
            partition: Partition(0),
            committed: Offset(3),
            end: Offset(5),
            lag: 2,
        },
        "committed 3 (the next to read) and high watermark 5 (the next \
         offset to be written): offsets 3 and 4 are left, a lag of 2, not 1"
    );
    let caught_up = partition_progress(1, rdkafka::Offset::Offset(5), 5);
    assert_eq!(
        caught_up.lag, 0,
        "committed 5 with high watermark 5: nothing left, a lag of 0"
    );
    let past_the_end = partition_progress(0, rdkafka::Offset::Offset(7), 5);
    assert_eq!(
        past_the_end.lag, 0,
        "a commit past the high watermark (a topic recreated or cut short) \
         is no lag, not an overflow: end.saturating_sub(committed)"
    );
}

#[tokio::test]
async fn progress_reports_each_partition_from_the_broker() {
    let broker = broker();
    let config = topics(&broker, 2);
    let producer = test_producer(&config);
    for _ in 0..3 {
        publish_event(&producer, &config, &requested().1).await;
    }
    let consumer = consumer(&config);
    let first = next_record(&consumer).await;
    commit_after(&consumer, &first).expect("committing offset 0");
    let got = progress(&consumer, &config).expect("the group's progress");
    let each = got
        .partitions
        .iter()
        .map(|p| (p.committed.0, p.end.0, p.lag));
    assert_eq!(
        each.collect::<Vec<_>>(),
        vec![(1, 3, 2), (0, 0, 0)],
        "partition 0: committed 1 of 3 records, lag 2; partition 1: empty"
    );
    assert_eq!(got.lag(), 2, "two records are left in all");
}

#[tokio::test]
async fn a_commit_the_broker_refuses_is_an_error() {
    let broker = broker();
    let config = topics(&broker, 1);
    let consumer = consumer(&config);
    // A record of a partition the topic does not have: the broker refuses
    // its commit.
    let elsewhere = OwnedMessage::new(
        None,
        None,
        config.topic.clone(),
        Timestamp::NotAvailable,
        7,
        0,
        None,
    );
    let commit = commit_after(&consumer, &elsewhere);
    assert!(
        matches!(commit, Err(KafkaBusError::Commit { .. })),
        "a commit the broker refused must come back as \
         KafkaBusError::Commit: commit synchronously (CommitMode::Sync, which \
         waits for the broker's answer) and return its error, got {commit:?}"
    );
    assert!(
        matches!(
            commit,
            Err(KafkaBusError::Commit {
                partition: 7,
                offset: 1,
                ..
            })
        ),
        "the error names the partition (7) and the offset it tried to \
         commit: the next one to read, 1 for the record at 0, got {commit:?}"
    );
}
