//! `cargo workshop faults`: the seeded fault-injection run of step 14.
//!
//! The simulation and its checker live in `capstone/faults` (package
//! `capstone-faults`), with the SQLite, the log and the rest of the pipeline
//! they need. The runner does not depend on it, so that it stays quick to
//! build: it asks cargo to build and run that package's `faults` binary in
//! release mode (the run is about ten times faster than in debug) and passes
//! the options through.

use std::process::Command;

use anyhow::{Context, Result};

use crate::manifest::Workshop;
use crate::testrun::cargo;

/// The package and binary that run the schedules.
pub const PACKAGE: &str = "capstone-faults";
pub const BINARY: &str = "faults";

/// The options of `cargo workshop faults`, as the `faults` binary takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultsOptions {
    pub seeds: Option<u64>,
    pub from: Option<u64>,
    pub seed: Option<u64>,
    pub threads: Option<u64>,
    pub bug: Option<String>,
    pub keep_going: bool,
}

impl FaultsOptions {
    /// The arguments for the `faults` binary: only the options given, so that
    /// its defaults stay in one place.
    pub fn binary_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let numbers = [
            ("--seeds", self.seeds),
            ("--from", self.from),
            ("--seed", self.seed),
            ("--threads", self.threads),
        ];
        for (flag, value) in numbers {
            if let Some(value) = value {
                args.push(flag.to_owned());
                args.push(value.to_string());
            }
        }
        if let Some(bug) = &self.bug {
            args.push("--bug".to_owned());
            args.push(bug.clone());
        }
        if self.keep_going {
            args.push("--keep-going".to_owned());
        }
        args
    }
}

/// The cargo command that builds and runs the schedules.
pub fn command(workshop: &Workshop, options: &FaultsOptions) -> Command {
    let mut command = Command::new(cargo());
    command
        .current_dir(&workshop.root)
        .args(["run", "--release", "--quiet", "--package", PACKAGE])
        .args(["--bin", BINARY, "--"])
        .args(options.binary_args());
    command
}

/// Runs the schedules; `true` if every schedule kept every invariant.
pub fn faults(workshop: &Workshop, options: &FaultsOptions) -> Result<bool> {
    let status = command(workshop, options)
        .status()
        .context("cannot start cargo to build and run the fault-injection run")?;
    Ok(status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_options_given_are_passed_to_the_binary() {
        let options = FaultsOptions {
            seeds: Some(500),
            bug: Some("no-fsync".to_owned()),
            ..FaultsOptions::default()
        };
        assert_eq!(
            options.binary_args(),
            ["--seeds", "500", "--bug", "no-fsync"],
            "the runner must pass --seeds and --bug through and leave the rest to the binary's defaults"
        );
        assert!(
            FaultsOptions::default().binary_args().is_empty(),
            "without options the binary's own defaults apply"
        );
    }

    #[test]
    fn a_replay_passes_its_seed_and_bug() {
        let options = FaultsOptions {
            seed: Some(42),
            bug: Some("mark-before-publish".to_owned()),
            keep_going: true,
            ..FaultsOptions::default()
        };
        assert_eq!(
            options.binary_args(),
            [
                "--seed",
                "42",
                "--bug",
                "mark-before-publish",
                "--keep-going"
            ],
            "the replay command a failing run prints must reach the binary unchanged"
        );
    }

    #[test]
    fn the_command_runs_the_faults_binary_in_release_mode() {
        let workshop_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the runner lives in the workspace");
        let workshop = Workshop::discover(workshop_root).expect("the workshop's manifest loads");
        let command = command(
            &workshop,
            &FaultsOptions {
                seeds: Some(10),
                ..FaultsOptions::default()
            },
        );
        let args: Vec<String> = command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "run",
                "--release",
                "--quiet",
                "--package",
                PACKAGE,
                "--bin",
                BINARY,
                "--",
                "--seeds",
                "10"
            ],
            "the runner delegates to `cargo run --release -p capstone-faults --bin faults -- ...`"
        );
    }
}
