//! The CI budget: the unbroken pipeline keeps every invariant in every one
//! of these schedules. (Set FAULTS_CI_SEEDS to run more or fewer.)

use capstone_faults::run_parallel;

#[test]
fn every_schedule_of_the_ci_budget_keeps_every_invariant() {
    let seeds: u64 = std::env::var("FAULTS_CI_SEEDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(2_000);
    let mut failing = Vec::new();
    let mut run = 0;
    run_parallel(1..1 + seeds, None, 2, false, |outcome| {
        run += 1;
        if let Some(violation) = outcome.violations.first() {
            failing.push(format!(
                "seed {}: {violation} (replay: cargo workshop faults --seed {})",
                outcome.seed, outcome.seed
            ));
        }
    });
    assert_eq!(run, seeds, "every schedule of the budget must run");
    assert!(
        failing.is_empty(),
        "{} of {seeds} schedules broke an invariant:\n{}",
        failing.len(),
        failing.join("\n")
    );
}
