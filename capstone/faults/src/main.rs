//! `faults`: runs seeded schedules of the whole pipeline with faults and
//! checks each (what `cargo workshop faults` runs).
//!
//! ```text
//! faults [--seeds N] [--from S] [--threads T] [--bug NAME] [--keep-going]
//! faults --seed S [--bug NAME]      one schedule, with its trace
//! ```

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use capstone_faults::checker::Rule;
use capstone_faults::history::Fault;
use capstone_faults::schedule::{self, Outcome};
use capstone_faults::{Bug, DEFAULT_SEEDS, run_parallel};
use clap::Parser;

/// Runs seeded schedules of the whole pipeline (booking service, outbox
/// relay, log, consumer) with crashes, torn writes, duplicates and handler
/// errors, and checks each schedule's history against the workshop's
/// invariants.
#[derive(Parser)]
#[command(name = "faults", bin_name = "cargo workshop faults")]
struct Args {
    /// How many schedules to run: seeds FROM..FROM+SEEDS-1.
    #[arg(long, default_value_t = DEFAULT_SEEDS)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// Run only this schedule and print its trace (to replay a failure).
    #[arg(long, conflicts_with_all = ["seeds", "from"])]
    seed: Option<u64>,
    /// How many schedules run at once (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Swap in a known bug: commit-before-effect, in-memory-dedupe, no-fsync,
    /// no-dir-fsync, mark-before-publish. The run stops at the first failing
    /// seed unless --keep-going.
    #[arg(long)]
    bug: Option<Bug>,
    /// With --bug: run every seed instead of stopping at the first failure.
    #[arg(long)]
    keep_going: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.seed {
        Some(seed) => replay(seed, args.bug),
        None => run_many(&args),
    }
}

fn replay_command(seed: u64, bug: Option<Bug>) -> String {
    match bug {
        Some(bug) => format!("cargo workshop faults --seed {seed} --bug {bug}"),
        None => format!("cargo workshop faults --seed {seed}"),
    }
}

/// One schedule, its trace, and the checker's verdict.
fn replay(seed: u64, bug: Option<Bug>) -> ExitCode {
    let started = Instant::now();
    let outcome = schedule::run(seed, bug);
    println!(
        "schedule {seed}{}: {} recorded operations, in order",
        bug.map(|bug| format!(" with bug {bug}"))
            .unwrap_or_default(),
        outcome.history.ops.len()
    );
    for (at, op) in outcome.history.ops.iter().enumerate() {
        println!("{at:5}  {op}");
    }
    println!();
    print_faults(&outcome.faults);
    if outcome.violations.is_empty() {
        println!(
            "\nschedule {seed}: every invariant held ({:.0?})",
            started.elapsed()
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "\nschedule {seed}: {} violation(s):",
            outcome.violations.len()
        );
        for violation in &outcome.violations {
            println!("  {violation}");
        }
        ExitCode::FAILURE
    }
}

#[derive(Default)]
struct Tally {
    run: u64,
    failing: Vec<u64>,
    faults: BTreeMap<Fault, usize>,
    rules: BTreeMap<Rule, usize>,
    examples: BTreeMap<u64, String>,
    first_failure_after: Option<Duration>,
}

impl Tally {
    fn add(&mut self, outcome: Outcome, started: Instant) {
        self.run += 1;
        for (fault, count) in outcome.faults {
            *self.faults.entry(fault).or_default() += count;
        }
        if !outcome.violations.is_empty() {
            if self.failing.is_empty() {
                self.first_failure_after = Some(started.elapsed());
            }
            self.failing.push(outcome.seed);
            for violation in &outcome.violations {
                *self.rules.entry(violation.rule).or_default() += 1;
            }
            self.examples
                .insert(outcome.seed, outcome.violations[0].to_string());
        }
    }
}

fn run_many(args: &Args) -> ExitCode {
    let started = Instant::now();
    let last = args.from.saturating_add(args.seeds);
    let stop_at_first = args.bug.is_some() && !args.keep_going;
    let mut tally = Tally::default();
    let terminal = std::io::stderr().is_terminal();
    println!(
        "{} schedules (seeds {}..{}) on {} threads{}",
        args.seeds,
        args.from,
        last.saturating_sub(1),
        threads(args),
        args.bug
            .map(|bug| format!(", with bug {bug}"))
            .unwrap_or_default()
    );
    let mut last_drawn = Instant::now();
    run_parallel(
        args.from..last,
        args.bug,
        threads(args),
        stop_at_first,
        |outcome| {
            tally.add(outcome, started);
            if last_drawn.elapsed() > Duration::from_millis(200) || tally.run == args.seeds {
                last_drawn = Instant::now();
                progress(&tally, args.seeds, started, terminal);
            }
        },
    );
    if terminal {
        eprintln!();
    }
    summary(&tally, args, started.elapsed())
}

fn threads(args: &Args) -> usize {
    args.threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1)
}

fn progress(tally: &Tally, total: u64, started: Instant, terminal: bool) {
    let width = 30;
    let done = (tally.run * width / total.max(1)) as usize;
    let rate = tally.run as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let line = format!(
        "[{}{}] {}/{} schedules, {:.0}/s, {} failing",
        "#".repeat(done),
        ".".repeat(width as usize - done.min(width as usize)),
        tally.run,
        total,
        rate,
        tally.failing.len()
    );
    let mut stderr = std::io::stderr();
    if terminal {
        let _ = write!(stderr, "\r{line}");
    } else if tally.run == total || tally.run % 1000 < 10 {
        let _ = writeln!(stderr, "{line}");
    }
    let _ = stderr.flush();
}

fn print_faults(faults: &BTreeMap<Fault, usize>) {
    println!("{:<34} {:>9}", "fault injected", "count");
    for fault in Fault::ALL {
        println!(
            "{:<34} {:>9}",
            fault.name(),
            faults.get(&fault).copied().unwrap_or(0)
        );
    }
}

fn summary(tally: &Tally, args: &Args, elapsed: Duration) -> ExitCode {
    let rate = tally.run as f64 / elapsed.as_secs_f64().max(1e-9);
    println!();
    println!("{:<34} {:>9}", "schedules", "count");
    println!("{:<34} {:>9}", "run", tally.run);
    println!(
        "{:<34} {:>9}",
        "passed",
        tally.run - tally.failing.len() as u64
    );
    println!("{:<34} {:>9}", "failed", tally.failing.len());
    println!(
        "{:<34} {:>9}",
        "time",
        format!("{:.1} s", elapsed.as_secs_f64())
    );
    println!("{:<34} {:>9}", "schedules per second", format!("{rate:.0}"));
    println!();
    print_faults(&tally.faults);
    println!();
    println!("{:<34} {:>9}", "violations (invariant)", "count");
    if tally.rules.is_empty() {
        println!("{:<34} {:>9}", "none", 0);
    }
    for (rule, count) in &tally.rules {
        println!("{:<34} {:>9}", rule.name(), count);
    }
    let mut failing = tally.failing.clone();
    failing.sort_unstable();
    if let Some(&first) = failing.first() {
        println!();
        if let Some(after) = tally.first_failure_after {
            println!(
                "first failure found after {:.2} s; lowest failing seed {first}",
                after.as_secs_f64()
            );
        }
        for seed in failing.iter().take(5) {
            println!("  seed {seed}: {}", tally.examples[seed]);
            println!("    replay: {}", replay_command(*seed, args.bug));
        }
        ExitCode::FAILURE
    } else {
        println!("\nevery schedule kept every invariant");
        ExitCode::SUCCESS
    }
}
