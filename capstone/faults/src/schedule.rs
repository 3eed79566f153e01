//! One schedule: a seed's rounds of traffic and faults, then a quiet phase in
//! which the pipeline must catch up, then the final reads; and the checker's
//! verdict on what was recorded.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};

use solution06_log::Partition;

use crate::Bug;
use crate::checker::{self, Violation};
use crate::history::{Fault, History, Op};
use crate::wiring::{PARTITIONS, Pipeline, Stop};

/// Rounds with traffic and faults.
pub const ROUNDS: usize = 6;
/// Rounds the pipeline gets, once faults stop, to catch up.
pub const QUIET_ROUNDS: usize = 30;

/// What one schedule did and what the checker found.
#[derive(Debug)]
pub struct Outcome {
    pub seed: u64,
    pub history: History,
    pub faults: BTreeMap<Fault, usize>,
    pub violations: Vec<Violation>,
}

/// Runs schedule `seed`, with `bug` swapped in if there is one, and checks it.
pub fn run(seed: u64, bug: Option<Bug>) -> Outcome {
    let history = match panic::catch_unwind(AssertUnwindSafe(|| simulate(seed, bug))) {
        Ok(history) => history,
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            History {
                ops: vec![Op::Failed {
                    what: format!("the simulation panicked: {what}"),
                }],
            }
        }
    };
    let mut faults = BTreeMap::new();
    for op in &history.ops {
        if let Op::Fault(fault) = op {
            *faults.entry(*fault).or_default() += 1;
        }
    }
    let violations = checker::check(&history);
    Outcome {
        seed,
        history,
        faults,
        violations,
    }
}

/// Runs the pipeline through the schedule and hands back its history.
pub fn simulate(seed: u64, bug: Option<Bug>) -> History {
    let mut pipeline = match Pipeline::new(seed, bug) {
        Ok(pipeline) => pipeline,
        Err(what) => {
            return History {
                ops: vec![Op::Failed { what }],
            };
        }
    };
    // A `Stop` is in the history already; the checker reports it.
    let _stopped: Result<(), Stop> = rounds(&mut pipeline);
    pipeline.history
}

fn rounds(pipeline: &mut Pipeline) -> Result<(), Stop> {
    for _ in 0..ROUNDS {
        pipeline.service_round()?;
        pipeline.relay_round()?;
        if pipeline.rng.one_in(5) {
            pipeline.history.push(Op::Fault(Fault::LogPowerCut));
            pipeline.broker_crash()?;
        }
        pipeline.gateway_round()?;
        for partition in (0..PARTITIONS).map(Partition) {
            pipeline.consume(partition)?;
        }
        if pipeline.rng.one_in(8) {
            pipeline.consumer_power_cut();
        }
    }
    pipeline.faults = false;
    pipeline.history.push(Op::FaultsStop);
    for _ in 0..QUIET_ROUNDS {
        pipeline.relay_round()?;
        pipeline.gateway_round()?;
        let mut caught_up = true;
        for partition in (0..PARTITIONS).map(Partition) {
            caught_up &= pipeline.consume(partition)?;
        }
        if caught_up && pipeline.gateway_idle() && pipeline.relays_idle()? {
            break;
        }
    }
    // Recovering twice must give the same log (invariant 3).
    pipeline.broker_crash()?;
    pipeline.log_reads()?;
    pipeline.broker_crash()?;
    pipeline.log_reads()?;
    pipeline.read_dead_letters()?;
    pipeline.history.push(Op::End);
    Ok(())
}
