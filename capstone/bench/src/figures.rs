//! The figures the benchmarks write for the book, and the charts made from
//! them.
//!
//! Each benchmark writes, in `book/src/generated/`:
//!
//! - `bench-14-<name>.txt`: what it printed, under the command that printed
//!   it, for the book to show as it is;
//! - `bench-14-<name>.csv`: the same figures, one line per row of the table;
//! - `bench-14-<name>*.svg`: the charts, drawn from the CSV file just written
//!   (and redrawn from it alone by `cargo run -p capstone-bench --bin charts`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::chart::{Bar, BarChart, Group, Reference, Scale, Series};

/// The command that runs the end-to-end benchmark.
pub const END_TO_END_COMMAND: &str = "cargo bench -p capstone-bench --bench end_to_end";
/// The command that runs the in-memory benchmark.
pub const IN_MEMORY_COMMAND: &str = "cargo bench -p capstone-bench --bench in_memory";
/// The command that redraws every chart from the CSV files.
pub const CHARTS_COMMAND: &str = "cargo run -p capstone-bench --bin charts";

pub const END_TO_END: &str = "bench-14-end-to-end";
pub const IN_MEMORY: &str = "bench-14-in-memory";

/// Why the figures could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    #[error("could not {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} is not a table this crate wrote ({reason}): run the benchmark \
         again to write it afresh",
        path.display()
    )]
    NotOurs { path: PathBuf, reason: String },
}

/// `book/src/generated/`, where the book includes the figures from.
pub fn generated_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src/generated")
}

/// A table of figures, as written to and read from a CSV file. No field
/// holds a comma, a quote or a line break, so the CSV needs no quoting.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn to_csv(&self) -> String {
        let mut csv = self.columns.join(",");
        csv.push('\n');
        for row in &self.rows {
            csv.push_str(&row.join(","));
            csv.push('\n');
        }
        csv
    }

    /// Reads a table written by [`Table::to_csv`], checking that it has
    /// `columns`.
    pub fn parse(csv: &str, columns: &[&str]) -> Result<Table, String> {
        let mut lines = csv.lines();
        let header: Vec<String> = lines
            .next()
            .ok_or("it is empty")?
            .split(',')
            .map(str::to_owned)
            .collect();
        if header != columns {
            return Err(format!("its columns are {header:?}, not {columns:?}"));
        }
        let rows: Vec<Vec<String>> = lines
            .filter(|line| !line.is_empty())
            .map(|line| line.split(',').map(str::to_owned).collect())
            .collect();
        if let Some(row) = rows.iter().find(|row| row.len() != header.len()) {
            return Err(format!("the row {row:?} has the wrong length"));
        }
        Ok(Table {
            columns: header,
            rows,
        })
    }

    /// The number in `column` of `row`.
    pub fn number(&self, row: usize, column: &str) -> Result<f64, String> {
        let index = self
            .columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| format!("it has no column {column}"))?;
        let text = self
            .rows
            .get(row)
            .and_then(|r| r.get(index))
            .ok_or_else(|| format!("it has no row {row}"))?;
        text.parse()
            .map_err(|_| format!("{text:?} in column {column} is not a number"))
    }

    /// The text in `column` of `row`.
    pub fn text(&self, row: usize, column: &str) -> Result<&str, String> {
        let index = self
            .columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| format!("it has no column {column}"))?;
        self.rows
            .get(row)
            .and_then(|r| r.get(index))
            .map(String::as_str)
            .ok_or_else(|| format!("it has no row {row}"))
    }
}

/// The columns of the end-to-end table. The first row is the disk alone:
/// `per_second` is its fsyncs per second and the latencies are one write and
/// fsync; every other row is a configuration of the service, with events per
/// second, each event's latency from booking to commit, and the events per
/// relay batch (outbox log record) in its throughput runs (empty for the disk).
pub const END_TO_END_COLUMNS: [&str; 7] = [
    "line",
    "per_second",
    "unit",
    "p50_ms",
    "p99_ms",
    "ratio_to_disk",
    "events_per_batch",
];

/// The columns of the in-memory table: the channel first, then the pipeline.
pub const IN_MEMORY_COLUMNS: [&str; 3] = ["line", "events_per_second", "ratio_to_channel"];

/// `12345.6` as "12,346".
pub fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A duration in milliseconds with three significant figures or more.
pub fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0} ms")
    } else if value >= 10.0 {
        format!("{value:.1} ms")
    } else {
        format!("{value:.2} ms")
    }
}

/// What a machine was doing while a benchmark ran: cores, and the load
/// average (from `/proc/loadavg`, where there is one).
pub fn machine_note() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split(' ').next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{cores} cores, load average {load} (1 min) at the end of the run")
}

/// Writes `text` to `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) -> Result<(), FigureError> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|source| FigureError::Io {
        action: "write",
        path,
        source,
    })
}

fn read_table(dir: &Path, name: &str, columns: &[&str]) -> Result<Table, FigureError> {
    let path = dir.join(format!("{name}.csv"));
    let csv = std::fs::read_to_string(&path).map_err(|source| FigureError::Io {
        action: "read",
        path: path.clone(),
        source,
    })?;
    Table::parse(&csv, columns).map_err(|reason| FigureError::NotOurs { path, reason })
}

const BLUE: &str = "#2e6da4";
const ORANGE: &str = "#e08a1e";
const GREY: &str = "#8c8c8c";

/// The two end-to-end charts, throughput and latency, from its table.
pub fn end_to_end_charts(table: &Table) -> Result<(BarChart, BarChart), String> {
    let disk = table.number(0, "per_second")?;
    let mut throughput = Vec::new();
    let mut latency = Vec::new();
    for row in 0..table.rows.len() {
        let label = table.text(row, "line")?.to_owned();
        let per_second = table.number(row, "per_second")?;
        let is_disk = table.text(row, "unit")? != "events";
        let text = if is_disk {
            format!("{} fsyncs/s", grouped(per_second))
        } else {
            format!(
                "{}/s ({:.1}x disk)",
                grouped(per_second),
                table.number(row, "ratio_to_disk")?
            )
        };
        throughput.push(Group {
            label: label.clone(),
            bars: vec![Bar {
                series: usize::from(!is_disk),
                value: per_second,
                text,
            }],
        });
        let p50 = table.number(row, "p50_ms")?;
        let p99 = table.number(row, "p99_ms")?;
        latency.push(Group {
            label,
            bars: vec![
                Bar {
                    series: 0,
                    value: p50,
                    text: format!("p50 {}", ms(p50)),
                },
                Bar {
                    series: 1,
                    value: p99,
                    text: format!("p99 {}", ms(p99)),
                },
            ],
        });
    }
    let subtitle = format!("$ {END_TO_END_COMMAND}");
    let throughput = BarChart {
        title: "Bookings end to end: events per second (log scale)".to_owned(),
        subtitle: subtitle.clone(),
        axis: "events per second (the disk alone: fsyncs per second)".to_owned(),
        scale: Scale::Log,
        series: vec![
            Series {
                name: "the disk alone".to_owned(),
                color: GREY.to_owned(),
            },
            Series {
                name: "the service".to_owned(),
                color: BLUE.to_owned(),
            },
        ],
        groups: throughput,
        reference: Some(Reference {
            value: disk,
            label: "1 event per fsync".to_owned(),
        }),
    };
    let latency = BarChart {
        title: "Booking recorded to effect committed: latency (log scale)".to_owned(),
        subtitle,
        axis: "milliseconds, one booking at a time (the disk alone: one \
               write + fsync)"
            .to_owned(),
        scale: Scale::Log,
        series: vec![
            Series {
                name: "p50".to_owned(),
                color: BLUE.to_owned(),
            },
            Series {
                name: "p99".to_owned(),
                color: ORANGE.to_owned(),
            },
        ],
        groups: latency,
        reference: None,
    };
    Ok((throughput, latency))
}

/// The in-memory chart from its table.
pub fn in_memory_chart(table: &Table) -> Result<BarChart, String> {
    let channel = table.number(0, "events_per_second")?;
    let mut groups = Vec::new();
    for row in 0..table.rows.len() {
        let per_second = table.number(row, "events_per_second")?;
        let ratio = table.number(row, "ratio_to_channel")?;
        groups.push(Group {
            label: table.text(row, "line")?.to_owned(),
            bars: vec![Bar {
                series: usize::from(row > 0),
                value: per_second,
                text: format!("{}/s ({ratio:.2}x)", grouped(per_second)),
            }],
        });
    }
    Ok(BarChart {
        title: "In memory: the pipeline beside a tokio channel".to_owned(),
        subtitle: format!("$ {IN_MEMORY_COMMAND}"),
        axis: "events per second, one thread".to_owned(),
        scale: Scale::Linear,
        series: vec![
            Series {
                name: "tokio mpsc channel".to_owned(),
                color: GREY.to_owned(),
            },
            Series {
                name: "the pipeline".to_owned(),
                color: BLUE.to_owned(),
            },
        ],
        groups,
        reference: Some(Reference {
            value: channel / 2.0,
            label: "goal: 0.5x channel".to_owned(),
        }),
    })
}

/// Draws the end-to-end charts from `dir/bench-14-end-to-end.csv`.
pub fn write_end_to_end_charts(dir: &Path) -> Result<(), FigureError> {
    let columns = END_TO_END_COLUMNS;
    let table = read_table(dir, END_TO_END, &columns)?;
    let (throughput, latency) =
        end_to_end_charts(&table).map_err(|reason| FigureError::NotOurs {
            path: dir.join(format!("{END_TO_END}.csv")),
            reason,
        })?;
    write(
        dir,
        &format!("{END_TO_END}-throughput.svg"),
        &throughput.to_svg(),
    )?;
    write(dir, &format!("{END_TO_END}-latency.svg"), &latency.to_svg())
}

/// Draws the in-memory chart from `dir/bench-14-in-memory.csv`.
pub fn write_in_memory_chart(dir: &Path) -> Result<(), FigureError> {
    let columns = IN_MEMORY_COLUMNS;
    let table = read_table(dir, IN_MEMORY, &columns)?;
    let chart = in_memory_chart(&table).map_err(|reason| FigureError::NotOurs {
        path: dir.join(format!("{IN_MEMORY}.csv")),
        reason,
    })?;
    write(dir, &format!("{IN_MEMORY}.svg"), &chart.to_svg())
}

/// The text file of a benchmark: the command, what it printed, and the
/// machine it ran on.
pub fn transcript(command: &str, printed: &str) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "$ {command}");
    text.push_str(printed);
    let _ = writeln!(text, "({})", machine_note());
    text
}
