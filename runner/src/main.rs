use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use workshop::faults::FaultsOptions;
use workshop::learner::{self, CheckOptions};
use workshop::manifest::Workshop;
use workshop::ui::{FAIL, PASS, WARN, paint};
use workshop::{backup, doctor, maintain, watch};

/// Unstoppable Events: a hands-on workshop on reliable event-driven systems.
///
/// Without a command, shows your progress and where to go next.
#[derive(Parser)]
#[command(name = "cargo workshop", bin_name = "cargo workshop", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Show every step with its state, and what to do next (the default).
    Progress,
    /// Run a step's tests and show what fails (default: the current step).
    Check {
        /// A step number or name: `1`, `01`, `events`, `01-events`. Inside a
        /// step's directory, that step.
        step: Option<String>,
        /// Check every step you have started and say which pass (exit status 0
        /// only if all do).
        #[arg(long, conflicts_with = "step")]
        all: bool,
        /// Show every failing test and every compiler error, not just the first.
        #[arg(long, short)]
        verbose: bool,
        /// Also print cargo's whole output.
        #[arg(long)]
        raw: bool,
        /// Stop a test binary that runs longer than this many seconds.
        #[arg(long, default_value_t = workshop::testrun::DEFAULT_TEST_LIMIT.as_secs())]
        timeout: u64,
    },
    /// Check again every time you save a file under steps/.
    Watch {
        /// Stay on this step instead of following your progress.
        step: Option<String>,
        /// Poll for changes every second, for file systems without change events.
        #[arg(long)]
        poll: bool,
    },
    /// Show the next hint for the exercise you are on.
    Hint {
        step: Option<String>,
        /// Show every hint of every exercise of the step at once.
        #[arg(long)]
        all: bool,
    },
    /// Put a step back as the workshop made it (your version is backed up first).
    Reset {
        step: String,
        /// Only restore the test files.
        #[arg(long)]
        tests: bool,
        /// Do not ask before replacing files.
        #[arg(long, short)]
        yes: bool,
    },
    /// List the backups of your files, or put one back (the newest by default).
    Restore {
        /// A backup's name, as `--list` shows it.
        backup: Option<String>,
        /// Only list the backups.
        #[arg(long)]
        list: bool,
        /// Do not ask before replacing files.
        #[arg(long, short)]
        yes: bool,
    },
    /// Compare your code with the reference solution.
    Diff { step: String },
    /// Print the reference solution.
    Solution { step: String },
    /// Check that this machine is ready for the workshop.
    Doctor,
    /// Step 14: run seeded schedules of the whole pipeline with crashes, torn
    /// writes, duplicates and handler errors, and check each one's history
    /// against the invariants (builds and runs the `capstone-faults` package).
    Faults {
        /// How many schedules to run (default 2000).
        #[arg(long)]
        seeds: Option<u64>,
        /// The first seed (default 1).
        #[arg(long)]
        from: Option<u64>,
        /// Run only this schedule and print its trace (to replay a failure).
        #[arg(long, conflicts_with_all = ["seeds", "from"])]
        seed: Option<u64>,
        /// How many schedules run at once (default: the number of cores).
        #[arg(long)]
        threads: Option<u64>,
        /// Swap in a known bug and see the run find it: commit-before-effect,
        /// in-memory-dedupe, no-fsync, no-dir-fsync, mark-before-publish.
        #[arg(long)]
        bug: Option<String>,
        /// With --bug: run every seed instead of stopping at the first failure.
        #[arg(long)]
        keep_going: bool,
    },
    /// Maintainers: rewrite steps/ and generated book pages from solutions/.
    Generate {
        /// Only this step (default: all).
        step: Option<String>,
        /// Replace a step's files even when they hold someone's work (backed up first).
        #[arg(long)]
        force: bool,
    },
    /// Maintainers: time `check STEP` after a save (median of several runs).
    MeasureCheck {
        step: String,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Maintainers and CI: every check of the steps (see CONTRIBUTING.md).
    Verify {
        /// Only the fast checks: structure and generated files.
        #[arg(long)]
        no_tests: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Ctrl-C, SIGTERM and a closed terminal stop the runner; they must stop the
    // tests it started too. The usual exit status for a stop is 130.
    let stopping = ctrlc::set_handler(|| {
        workshop::testrun::stop_all();
        workshop::watch::restore_terminal();
        std::process::exit(130);
    });
    if let Err(e) = stopping {
        anstream::eprintln!(
            "{} cannot catch Ctrl-C ({e}); if you stop the runner, stop its `cargo test` too",
            paint(WARN, "warning:")
        );
    }
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            // One line: what went wrong and, in the message, what to do.
            anstream::eprintln!("{} {e:#}", paint(FAIL, "error:"));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<bool> {
    let cwd = std::env::current_dir()
        .context("cannot tell the current directory; `cd` into the workshop and try again")?;
    // Walking up from here finds the workshop from any subdirectory.
    let workshop = Workshop::discover(&cwd)?;
    match cli.command.unwrap_or(Cmd::Progress) {
        Cmd::Progress => learner::show_progress(&workshop).map(|()| true),
        Cmd::Check {
            step,
            all,
            verbose,
            raw,
            timeout,
        } => {
            let limit = std::time::Duration::from_secs(timeout.max(1));
            let options = CheckOptions {
                verbose,
                raw,
                limit,
            };
            if all {
                return learner::check_all(&workshop, options);
            }
            match learner::step_for_command(&workshop, step.as_deref(), &cwd)? {
                Some(step) => learner::check(&workshop, step, options),
                None => {
                    anstream::println!("{}", paint(PASS, learner::all_done_message(&workshop)));
                    Ok(true)
                }
            }
        }
        Cmd::Watch { step, poll } => watch::watch(&workshop, step.as_deref(), poll).map(|()| true),
        Cmd::Hint { step, all } => {
            match learner::step_for_command(&workshop, step.as_deref(), &cwd)? {
                Some(step) => learner::hint(&workshop, step, all).map(|()| true),
                None => {
                    anstream::println!("{}", paint(PASS, learner::all_done_message(&workshop)));
                    Ok(true)
                }
            }
        }
        Cmd::Reset { step, tests, yes } => {
            learner::reset(&workshop, workshop.step(&step)?, tests, yes).map(|()| true)
        }
        Cmd::Restore { backup, list, yes } => {
            backup::restore(&workshop, backup.as_deref(), list, yes).map(|()| true)
        }
        Cmd::Diff { step } => learner::diff(&workshop, workshop.step(&step)?).map(|()| true),
        Cmd::Solution { step } => {
            learner::solution(&workshop, workshop.step(&step)?).map(|()| true)
        }
        Cmd::Doctor => Ok(doctor::doctor(&workshop)),
        Cmd::Faults {
            seeds,
            from,
            seed,
            threads,
            bug,
            keep_going,
        } => {
            let options = FaultsOptions {
                seeds,
                from,
                seed,
                threads,
                bug,
                keep_going,
            };
            workshop::faults::faults(&workshop, &options)
        }
        Cmd::Generate { step, force } => {
            let only = step.map(|s| workshop.step(&s)).transpose()?;
            maintain::generate_steps(&workshop, only, force).map(|()| true)
        }
        Cmd::MeasureCheck { step, runs } => {
            maintain::measure_check(&workshop, workshop.step(&step)?, runs.max(1)).map(|()| true)
        }
        Cmd::Verify { no_tests } => maintain::verify(&workshop, !no_tests),
    }
}
