//! The tables round-trip through CSV, and the charts drawn from them show
//! what the book says they show.

use std::time::Duration;

use capstone_bench::chart::short_number;
use capstone_bench::figures::{
    END_TO_END_COLUMNS, IN_MEMORY_COLUMNS, Table, end_to_end_charts, grouped, in_memory_chart,
};
use capstone_bench::stats::{median, percentile};

fn in_memory_table() -> Table {
    let mut table = Table::new(&IN_MEMORY_COLUMNS);
    table.push(vec![
        "tokio mpsc channel".into(),
        "1000000".into(),
        "1.00".into(),
    ]);
    table.push(vec!["pipeline".into(), "600000".into(), "0.60".into()]);
    table
}

#[test]
fn a_table_reads_back_as_it_was_written() {
    let table = in_memory_table();
    let read = Table::parse(&table.to_csv(), &IN_MEMORY_COLUMNS).expect("a table this crate wrote");
    assert_eq!(read, table);
    assert_eq!(read.number(1, "events_per_second"), Ok(600_000.0));
}

#[test]
fn a_table_with_other_columns_is_refused() {
    let csv = in_memory_table().to_csv();
    assert!(
        Table::parse(&csv, &END_TO_END_COLUMNS).is_err(),
        "the end-to-end chart must not be drawn from the in-memory figures"
    );
}

#[test]
fn the_in_memory_chart_marks_the_goal_at_half_the_channel() {
    let svg = in_memory_chart(&in_memory_table())
        .expect("a chart")
        .to_svg();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("goal: 0.5x channel"), "{svg}");
    assert!(svg.contains("600,000/s (0.60x)"), "{svg}");
    assert!(
        svg.contains("$ cargo bench -p capstone-bench --bench in_memory"),
        "every chart names the command that made its figures"
    );
}

#[test]
fn the_end_to_end_charts_show_every_line_with_its_ratio_to_the_disk() {
    let mut table = Table::new(&END_TO_END_COLUMNS);
    for row in [
        ["disk alone", "500", "fsyncs", "1.5", "9", "1.00", ""],
        [
            "log fsync never -> fast",
            "2500",
            "events",
            "2",
            "20",
            "5.00",
            "40.0",
        ],
    ] {
        table.push(row.iter().map(|field| (*field).to_owned()).collect());
    }
    let (throughput, latency) = end_to_end_charts(&table).expect("charts");
    let (throughput, latency) = (throughput.to_svg(), latency.to_svg());
    assert!(throughput.contains("2,500/s (5.0x disk)"), "{throughput}");
    assert!(throughput.contains("500 fsyncs/s"), "{throughput}");
    assert!(
        throughput.contains("never -&gt; fast"),
        "text is escaped for XML: {throughput}"
    );
    assert!(latency.contains("p99 20.0 ms"), "{latency}");
}

#[test]
fn numbers_are_written_for_readers() {
    assert_eq!(grouped(1_234_567.4), "1,234,567");
    assert_eq!(grouped(999.0), "999");
    assert_eq!(short_number(1_000.0), "1k");
    assert_eq!(short_number(2_500_000.0), "2.5M");
    assert_eq!(short_number(0.01), "0.01");
}

#[test]
fn percentiles_use_the_nearest_rank() {
    let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
    assert_eq!(percentile(&values, 50.0), Some(Duration::from_millis(50)));
    assert_eq!(percentile(&values, 99.0), Some(Duration::from_millis(99)));
    assert_eq!(percentile(&[], 50.0), None);
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
}
