//! `check [STEP]`: runs a step's tests, remembers the result, and works out what
//! to tell the learner. [`CheckReport`] is that answer as data; [`crate::report`]
//! prints it.

use std::path::PathBuf;
use std::time::Duration;

use anstream::{eprintln, println};
use anyhow::{Result, bail};

use crate::manifest::{Step, Workshop};
use crate::progress::{self, Progress, StepState};
use crate::report;
use crate::testrun::{self, Problem, Status, TestOutcome, TestRun};
use crate::ui::{DIM, FAIL, PASS, WARN, paint};

/// How to run a check and how much of its result to print.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Every failing test and compiler error, not just the first ones.
    pub verbose: bool,
    /// Cargo's whole output as well.
    pub raw: bool,
    /// How long one test binary may run before it is stopped.
    pub limit: Duration,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            verbose: false,
            raw: false,
            limit: testrun::DEFAULT_TEST_LIMIT,
        }
    }
}

/// What a check found, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Test files that differ from the workshop's (relative to the root).
    pub changed_tests: Vec<PathBuf>,
    /// Whether the crate and its tests compiled.
    pub compiled: bool,
    /// The compiler errors to show (all, or the first).
    pub errors: Vec<String>,
    /// Errors not shown, when only the first is.
    pub hidden_errors: usize,
    /// Cargo's own output, shown when it failed without a compiler error.
    pub cargo_output: Option<String>,
    /// One line per exercise, in the manifest's order.
    pub exercises: Vec<ExerciseLine>,
    /// The failures to show, grouped by identical message, in teaching order.
    pub groups: Vec<FailureGroup>,
    /// Failing tests of later exercises that are not shown.
    pub hidden_failures: usize,
    pub passed: usize,
    pub total: usize,
    /// Compiler warnings about the learner's own files.
    pub warnings: Vec<String>,
    /// Every test ran and passed, and the tests are the workshop's.
    pub done: bool,
    /// The step is done and so is every other: time to congratulate.
    pub all_steps_done: bool,
    /// The first step not done yet, after this check (what "Next:" names).
    pub next_step: Option<u8>,
    /// The step is done but its `lib.rs` still has the line that kept the
    /// unfinished stubs quiet.
    pub allow_line_left: bool,
}

/// The result of one exercise's tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExerciseLine {
    pub name: String,
    /// The file the learner edits, relative to the root.
    pub file: PathBuf,
    pub passed: usize,
    pub total: usize,
    /// Why its tests cannot all count: a crash, the time limit, no test binary.
    pub problem: Option<Problem>,
    /// With a problem: the tests of its file that never reported a result (the
    /// one that hung or crashed is among them).
    pub silent: Vec<String>,
}

impl ExerciseLine {
    pub fn passes(&self) -> bool {
        self.problem.is_none() && self.total > 0 && self.passed == self.total
    }
}

/// Failing tests that print the same message: one message to read, not five
/// copies of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureGroup {
    pub message: Option<String>,
    /// `(test name, test target)` in the order the tests are written.
    pub tests: Vec<(String, String)>,
}

/// Runs the step's tests, records the result in the progress cache and prints
/// what fails. Returns whether the step is done.
pub fn check(workshop: &Workshop, step: &Step, options: CheckOptions) -> Result<bool> {
    let mut report = run_check(workshop, step, options)?;
    if report.done {
        let progress = Progress::load(workshop);
        let next = crate::learner::current_step(workshop, &progress)?;
        report.all_steps_done = next.is_none();
        report.next_step = next.map(|s| s.number);
        let lib = workshop.path(step.exercise_dir().join("src/lib.rs"));
        report.allow_line_left =
            std::fs::read_to_string(lib).is_ok_and(|text| report::stub_allow_left(&text));
    }
    report::print(workshop, step, &report, options);
    Ok(report.done)
}

/// `check --all`: every step the learner has started, one line each; steps
/// still as the workshop made them are not run (a fresh exercise fails by
/// design). Returns whether every step passes.
pub fn check_all(workshop: &Workshop, options: CheckOptions) -> Result<bool> {
    let mut passing = 0;
    let mut first_failing = None;
    let mut first_failing_started = None;
    for step in workshop.steps() {
        let started = !progress::is_pristine(workshop, step)?;
        let (passes, line) = if !started {
            let state = paint(DIM, "not started");
            (
                false,
                format!("   {:02} {:<48} {state}", step.number, step.title),
            )
        } else {
            let report = run_check(workshop, step, options)?;
            let mark = if report.done {
                paint(PASS, "✓")
            } else {
                paint(FAIL, "✗")
            };
            let state = report::one_line(&report);
            (
                report.done,
                format!(" {mark} {:02} {:<48} {state}", step.number, step.title),
            )
        };
        if passes {
            passing += 1;
        } else {
            if first_failing.is_none() {
                first_failing = Some(step);
            }
            if started && first_failing_started.is_none() {
                first_failing_started = Some(step);
            }
        }
        println!("{line}");
    }
    let total = workshop.steps().len();
    println!("\n{passing} of {total} steps pass.");
    match first_failing {
        None => println!(
            "{}",
            paint(PASS, crate::learner::all_done_message(workshop))
        ),
        Some(step) => println!(
            "`cargo workshop check {:02}` shows what is left in step {:02}.",
            step.number, step.number
        ),
    }
    // Steps not started are not failures of the learner's work: `check --all`
    // succeeds when some step is started and every started step passes.
    Ok(passing > 0 && first_failing_started.is_none())
}

/// Runs the step's tests, records the result in the progress cache, and works
/// out the report.
fn run_check(workshop: &Workshop, step: &Step, options: CheckOptions) -> Result<CheckReport> {
    let dir = workshop.path(step.exercise_dir());
    if !dir.join("Cargo.toml").is_file() {
        bail!(
            "{} is missing: restore it with `cargo workshop reset {:02}`",
            step.exercise_dir().join("Cargo.toml").display(),
            step.number
        );
    }
    let changed_tests = progress::changed_tests(workshop, step)?;
    let fingerprint = progress::fingerprint(workshop, step)?;
    println!(
        "{}",
        paint(
            DIM,
            format!("Checking step {} ({})...", step.id(), step.exercise_crate())
        )
    );
    let run = testrun::run_cargo_test(
        &workshop.root,
        &step.exercise_crate(),
        options.limit,
        step.test_threads,
    )?;
    if options.raw {
        println!("{}", run.output);
    }
    let record = progress::record(step, &run, fingerprint, !changed_tests.is_empty());
    let done = StepState::Checked(record.clone()).is_done();
    let mut progress = Progress::load(workshop);
    progress.steps.insert(step.id(), record);
    // A progress file that cannot be written costs the learner nothing but the
    // progress view, so say so and go on.
    if let Err(e) = progress.save(workshop) {
        eprintln!("{} {e:#}", paint(WARN, "warning:"));
    }
    let crate_dir = workshop.path(step.exercise_dir());
    let source = |target: &str| {
        let exercise = step.exercises.iter().find(|e| e.test == target)?;
        std::fs::read_to_string(crate_dir.join(step.test_file(exercise))).ok()
    };
    Ok(build_report(
        step,
        &run,
        changed_tests,
        done,
        options.verbose,
        source,
    ))
}

/// Works out what to show from a test run. `test_source` gives the text of a
/// test target's file (`apply` for `tests/apply.rs`), if there is one: failures
/// come in the order the file teaches them, and a test that never reported is
/// named.
pub fn build_report(
    step: &Step,
    run: &TestRun,
    changed_tests: Vec<PathBuf>,
    done: bool,
    all: bool,
    test_source: impl Fn(&str) -> Option<String>,
) -> CheckReport {
    let mut sources = std::collections::HashMap::new();
    let mut source_of = |target: &str| -> String {
        sources
            .entry(target.to_owned())
            .or_insert_with(|| test_source(target).unwrap_or_default())
            .clone()
    };
    let mut declared = std::collections::HashMap::new();
    for outcome in &run.outcomes {
        let position = declared_in(&source_of(&outcome.target), &outcome.name);
        declared.insert((outcome.target.clone(), outcome.name.clone()), position);
    }
    let declared_at = |o: &TestOutcome| {
        declared
            .get(&(o.target.clone(), o.name.clone()))
            .copied()
            .unwrap_or(usize::MAX)
    };
    let mut report = CheckReport {
        changed_tests,
        compiled: run.compiled,
        errors: Vec::new(),
        hidden_errors: 0,
        cargo_output: None,
        exercises: Vec::new(),
        groups: Vec::new(),
        hidden_failures: 0,
        passed: run.passed(),
        total: run.passed()
            + run.failed()
            + run
                .targets
                .iter()
                .map(|t| run.unreported(&t.name))
                .sum::<usize>(),
        warnings: own_warnings(step, run),
        done,
        all_steps_done: false,
        next_step: None,
        allow_line_left: false,
    };
    if !run.compiled {
        if run.errors.is_empty() {
            report.cargo_output = Some(run.output.trim_end().to_owned());
        } else {
            let shown = if all { run.errors.len() } else { 1 };
            report.errors = run.errors.iter().take(shown).cloned().collect();
            report.hidden_errors = run.errors.len() - report.errors.len();
        }
        return report;
    }
    for exercise in &step.exercises {
        let outcomes: Vec<_> = run
            .of_target(&exercise.test)
            .filter(|o| o.status != Status::Ignored)
            .collect();
        report.exercises.push(ExerciseLine {
            name: exercise.name.clone(),
            file: step.exercise_dir().join(&exercise.file),
            passed: outcomes
                .iter()
                .filter(|o| o.status == Status::Passed)
                .count(),
            total: outcomes.len() + run.unreported(&exercise.test),
            problem: run.problem(&exercise.test),
            silent: Vec::new(),
        });
        let line = report.exercises.last_mut().expect("just pushed");
        if line.problem.is_some() {
            let reported: Vec<&str> = run
                .of_target(&exercise.test)
                .map(|o| o.name.as_str())
                .collect();
            line.silent = test_names(&source_of(&exercise.test))
                .into_iter()
                .filter(|name| !reported.contains(&name.as_str()))
                .collect();
        }
    }
    let (groups, hidden) = failure_groups(step, run, all, declared_at);
    report.groups = groups;
    report.hidden_failures = hidden;
    report
}

/// The failures to show, grouped, and how many are left out. One thing at a
/// time: only the first failing exercise's failures (all of them with `all`), in
/// the order its tests are written, which is the order they teach in. Tests with
/// the same message form one group, placed where its first test is.
pub fn failure_groups(
    step: &Step,
    run: &TestRun,
    all: bool,
    declared_at: impl Fn(&TestOutcome) -> usize,
) -> (Vec<FailureGroup>, usize) {
    let mut failed: Vec<&TestOutcome> = run
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Failed)
        .collect();
    failed.sort_by_key(|o| {
        let exercise = step.exercises.iter().position(|e| e.test == o.target);
        (exercise.unwrap_or(usize::MAX), declared_at(o))
    });
    let Some(first) = failed.first() else {
        return (Vec::new(), 0);
    };
    let first_target = first.target.clone();
    let shown: Vec<&TestOutcome> = failed
        .iter()
        .copied()
        .filter(|o| all || o.target == first_target)
        .collect();
    let hidden = failed.len() - shown.len();
    let mut groups: Vec<FailureGroup> = Vec::new();
    for outcome in shown {
        let test = (outcome.name.clone(), outcome.target.clone());
        // Tests without a message (their binary crashed before printing it) do
        // not fail "the same way": nothing says so.
        let same = groups
            .iter_mut()
            .find(|g| g.message.is_some() && g.message == outcome.message);
        match same {
            Some(group) => group.tests.push(test),
            None => groups.push(FailureGroup {
                message: outcome.message.clone(),
                tests: vec![test],
            }),
        }
    }
    (groups, hidden)
}

/// Compiler warnings that point into the step's own files.
fn own_warnings(step: &Step, run: &TestRun) -> Vec<String> {
    let dir = step.exercise_dir().to_string_lossy().replace('\\', "/");
    run.warnings
        .iter()
        .filter(|w| w.replace('\\', "/").contains(&format!("--> {dir}/")))
        .cloned()
        .collect()
}

/// Where a test is declared in its file's text (a byte position), so failures
/// can be shown in the order the file teaches; tests not found come last.
fn declared_in(source: &str, test: &str) -> usize {
    let name = test.rsplit("::").next().unwrap_or(test);
    source.find(&format!("fn {name}(")).unwrap_or(usize::MAX)
}

/// The names of the functions a test file marks as tests (`#[test]`,
/// `#[tokio::test]`...), in the order they are written. Tests made by macros
/// (proptest's) are not found; this names tests, it does not count them.
pub fn test_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut marked = false;
    for line in source.lines() {
        let line = line.trim_start();
        if line.starts_with("#[") {
            let attribute = line.split(']').next().unwrap_or(line);
            if attribute == "#[test"
                || attribute.ends_with("::test")
                || attribute.contains("::test(")
            {
                marked = true;
            }
            continue;
        }
        if let Some(at) = line.find("fn ") {
            if marked {
                let name: String = line[at + 3..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
            marked = false;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Exercise;
    use crate::testrun::TargetRun;

    fn step() -> Step {
        let exercise = |name: &str| Exercise {
            name: name.into(),
            file: format!("src/{name}.rs"),
            test: name.into(),
            hints: vec!["h".into()],
        };
        Step {
            number: 1,
            slug: "events".into(),
            title: "Events".into(),
            exercises: vec![exercise("accessors"), exercise("apply")],
            one_test_binary: false,
            test_threads: None,
        }
    }

    fn outcome(target: &str, name: &str, status: Status, message: Option<&str>) -> TestOutcome {
        TestOutcome {
            target: target.into(),
            name: name.into(),
            status,
            message: message.map(str::to_owned),
        }
    }

    /// A run in which every test binary ran to its end.
    fn run(outcomes: Vec<TestOutcome>) -> TestRun {
        let mut targets: Vec<TargetRun> = Vec::new();
        for o in &outcomes {
            match targets.iter_mut().find(|t| t.name == o.target) {
                Some(t) => t.reported += 1,
                None => targets.push(TargetRun {
                    name: o.target.clone(),
                    reported: 1,
                    finished: true,
                    ..TargetRun::default()
                }),
            }
        }
        for t in &mut targets {
            t.announced = Some(t.reported);
        }
        TestRun {
            compiled: true,
            outcomes,
            targets,
            ..TestRun::default()
        }
    }

    /// Tests are "declared" in the order of their name's last letter, so the
    /// order in which cargo printed them does not decide.
    fn by_last_letter(o: &TestOutcome) -> usize {
        o.name.bytes().last().map_or(usize::MAX, usize::from)
    }

    #[test]
    fn failures_of_the_first_failing_exercise_come_first_in_file_order() {
        let run = run(vec![
            outcome("apply", "apply_a", Status::Failed, Some("x")),
            outcome("accessors", "get_c", Status::Failed, Some("c")),
            outcome("accessors", "get_a", Status::Failed, Some("a")),
            outcome("accessors", "get_b", Status::Passed, None),
        ]);
        let (groups, hidden) = failure_groups(&step(), &run, false, by_last_letter);
        let names: Vec<&str> = groups
            .iter()
            .flat_map(|g| g.tests.iter().map(|(n, _)| n.as_str()))
            .collect();
        assert_eq!(
            names,
            ["get_a", "get_c"],
            "only the first exercise's failures, in the order they are written"
        );
        assert_eq!(
            hidden, 1,
            "the later exercise's failure is counted, not shown"
        );
    }

    #[test]
    fn with_all_every_failure_is_shown_exercise_by_exercise() {
        let run = run(vec![
            outcome("apply", "apply_a", Status::Failed, Some("x")),
            outcome("accessors", "get_a", Status::Failed, Some("a")),
        ]);
        let (groups, hidden) = failure_groups(&step(), &run, true, by_last_letter);
        assert_eq!(hidden, 0);
        assert_eq!(groups[0].tests[0].0, "get_a", "manifest order comes first");
        assert_eq!(groups[1].tests[0].0, "apply_a");
    }

    #[test]
    fn tests_with_the_same_message_form_one_group_where_the_first_one_is() {
        let todo = Some("not yet implemented");
        let run = run(vec![
            outcome("accessors", "get_a", Status::Failed, todo),
            outcome("accessors", "get_b", Status::Failed, Some("other")),
            outcome("accessors", "get_c", Status::Failed, todo),
        ]);
        let (groups, _) = failure_groups(&step(), &run, false, by_last_letter);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0].message.as_deref(), todo);
        assert_eq!(
            groups[0].tests,
            [
                ("get_a".to_owned(), "accessors".to_owned()),
                ("get_c".to_owned(), "accessors".to_owned())
            ]
        );
        assert_eq!(groups[1].tests[0].0, "get_b");
    }

    #[test]
    fn the_tests_that_never_reported_are_named_from_their_file() {
        let file = "#[test]\nfn get_a() {}\n\n#[tokio::test(flavor = \"current_thread\")]\nasync fn get_b() {}\n\nfn helper() {}\n";
        assert_eq!(test_names(file), ["get_a", "get_b"]);
        let mut hung = run(vec![outcome("accessors", "get_a", Status::Passed, None)]);
        hung.timed_out = Some("accessors".into());
        let source = |target: &str| (target == "accessors").then(|| file.to_owned());
        let report = build_report(&step(), &hung, Vec::new(), false, false, source);
        assert_eq!(report.exercises[0].problem, Some(Problem::TimedOut));
        assert_eq!(report.exercises[0].silent, ["get_b"]);
    }

    #[test]
    fn failures_come_in_the_order_their_file_declares_them() {
        let run = run(vec![
            outcome("accessors", "second", Status::Failed, Some("b")),
            outcome("accessors", "first", Status::Failed, Some("a")),
        ]);
        let file = "#[test]\nfn first() {}\n#[test]\nfn second() {}\n";
        let report = build_report(&step(), &run, Vec::new(), false, false, |_| {
            Some(file.to_owned())
        });
        assert_eq!(report.groups[0].tests[0].0, "first");
    }

    #[test]
    fn tests_without_a_message_are_never_said_to_fail_the_same_way() {
        let run = run(vec![
            outcome("accessors", "get_a", Status::Failed, None),
            outcome("accessors", "get_b", Status::Failed, None),
        ]);
        let (groups, _) = failure_groups(&step(), &run, false, by_last_letter);
        assert_eq!(groups.len(), 2, "{groups:?}");
    }

    #[test]
    fn a_compile_failure_shows_the_first_error_and_counts_the_rest() {
        let run = TestRun {
            compiled: false,
            errors: vec!["error[E1]".into(), "error[E2]".into()],
            ..TestRun::default()
        };
        let report = build_report(&step(), &run, Vec::new(), false, false, |_| None);
        assert_eq!(report.errors, ["error[E1]"]);
        assert_eq!(report.hidden_errors, 1);
        assert!(report.exercises.is_empty());
    }

    #[test]
    fn each_exercise_counts_its_own_tests_and_ignored_ones_do_not_count() {
        let run = run(vec![
            outcome("accessors", "get_a", Status::Passed, None),
            outcome("accessors", "slow", Status::Ignored, None),
            outcome("apply", "apply_a", Status::Failed, Some("x")),
        ]);
        let report = build_report(&step(), &run, Vec::new(), false, false, |_| None);
        assert_eq!(
            (report.exercises[0].passed, report.exercises[0].total),
            (1, 1)
        );
        assert!(report.exercises[0].passes());
        assert!(!report.exercises[1].passes());
        assert_eq!((report.passed, report.total), (1, 2));
    }

    #[test]
    fn an_exercise_whose_tests_did_not_all_run_does_not_pass() {
        let mut crashed = run(vec![outcome("accessors", "get_a", Status::Passed, None)]);
        crashed.targets[0].announced = Some(3);
        crashed.targets[0].finished = false;
        let report = build_report(&step(), &crashed, Vec::new(), false, false, |_| None);
        assert_eq!(
            (report.exercises[0].passed, report.exercises[0].total),
            (1, 3)
        );
        assert!(!report.exercises[0].passes(), "1 of 3 tests reported");
        assert_eq!(
            report.exercises[1].problem,
            Some(Problem::Missing),
            "no test binary of `apply` ran: 0/0 is not a pass"
        );
        assert!(!report.exercises[1].passes());
    }
}
