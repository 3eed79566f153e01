//! Running a crate's tests and reading what happened.
//!
//! The runner calls `cargo test` and reads its human-readable output rather than
//! libtest's JSON, which needs a nightly flag. Cargo's status lines (`Running
//! tests/apply.rs`) go to stderr and the tests' own lines to stdout; both are sent
//! into one pipe so they arrive in the order they were written, which is how each
//! test is matched to the test file, and so to the exercise, it belongs to.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    Ignored,
}

/// One test and, when it failed, what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The test target: `apply` for `tests/apply.rs`, `unittests` or `doctests`.
    pub target: String,
    pub name: String,
    pub status: Status,
    /// The panic message and location of a failed test, without cargo's noise.
    pub message: Option<String>,
}

/// Everything a check needs to know about one `cargo test` run.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    /// False when the crate or its tests did not compile: no test ran.
    pub compiled: bool,
    /// Compiler errors, each as rustc rendered it.
    pub errors: Vec<String>,
    /// Compiler warnings, each as rustc rendered it (cargo replays them on a
    /// fresh build too, so they do not vanish after the first check).
    pub warnings: Vec<String>,
    pub outcomes: Vec<TestOutcome>,
    /// The whole output, for `--raw` and for anything the parser missed.
    pub output: String,
    /// The test target that was stopped for running too long, if one was.
    pub timed_out: Option<String>,
    /// Every test binary cargo started, in order, with how it ended.
    pub targets: Vec<TargetRun>,
    /// trybuild's compile-fail cases, which it reports itself, outside libtest.
    pub compile_fail_cases: Vec<CompileFailCase>,
}

/// One test binary: how many tests it announced, how many reported, how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetRun {
    /// `apply` for `tests/apply.rs`, as in [`TestOutcome::target`].
    pub name: String,
    /// libtest's `running N tests`.
    pub announced: Option<usize>,
    /// Result lines seen (passed, failed and ignored).
    pub reported: usize,
    /// libtest printed its `test result:` summary: the binary ran to its end.
    pub finished: bool,
    /// How the binary died, when it did.
    pub crash: Option<Crash>,
    /// Set for a module of the [`COMBINED_TARGET`]: the part of that one
    /// binary's tests that belongs to one exercise.
    pub in_combined: bool,
}

/// The test target that holds all of a step's tests in one binary
/// (`tests/exercises/main.rs`), a module per exercise (`mod publish;` for
/// `tests/exercises/publish.rs`). A step whose test binaries each link a heavy
/// client library (NATS, Kafka) relinks one binary per save instead of one per
/// exercise. Its test `publish::stores_once` counts as the test `stores_once`
/// of the target `publish`, so the rest of the runner sees one target per
/// exercise either way.
pub const COMBINED_TARGET: &str = "exercises";

/// How a test binary died before it could report every test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Crash {
    /// A thread ran out of stack; the test it ran, when Rust said.
    StackOverflow { test: Option<String> },
    /// Killed by a signal, as cargo words it: `SIGSEGV: invalid memory reference`.
    Signal(String),
    /// Exited on its own before the end: `exit status: 3`, `exit code: 0xc0000005`.
    Exit(String),
}

/// Why an exercise's tests cannot all count, even if every result seen passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No test binary of that name ran.
    Missing,
    /// The binary crashed.
    Crashed(Crash),
    /// Stopped by the time limit.
    TimedOut,
    /// Fewer results than announced, for a reason the output does not say.
    Incomplete { reported: usize, announced: usize },
}

/// One case of a trybuild compile-fail test (`tests/ui/pay_twice.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileFailCase {
    /// The test target whose test ran it.
    pub target: String,
    /// `tests/ui/pay_twice.rs`.
    pub path: String,
    /// trybuild's verdict: `ok`, `mismatch`, `error`...
    pub verdict: String,
    /// What trybuild printed about it (the expected and actual compiler output).
    pub details: String,
}

impl CompileFailCase {
    pub fn failed(&self) -> bool {
        self.verdict != "ok"
    }
}

impl TestRun {
    pub fn passed(&self) -> usize {
        self.count(Status::Passed)
    }

    pub fn failed(&self) -> usize {
        self.count(Status::Failed)
    }

    fn count(&self, status: Status) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }

    /// What keeps the tests of `target` from all counting, if anything: each
    /// test binary must run to its end and report every test it announced.
    pub fn problem(&self, target: &str) -> Option<Problem> {
        if self.timed_out.as_deref() == Some(target) {
            return Some(Problem::TimedOut);
        }
        let Some(ran) = self.targets.iter().find(|t| t.name == target) else {
            // A module of the combined binary that reported nothing: if the
            // binary died or stopped early, that is why.
            return match self.targets.iter().any(|t| t.name == COMBINED_TARGET) {
                true if target != COMBINED_TARGET => {
                    self.problem(COMBINED_TARGET).or(Some(Problem::Missing))
                }
                _ => Some(Problem::Missing),
            };
        };
        if ran.in_combined && self.timed_out.as_deref() == Some(COMBINED_TARGET) {
            return Some(Problem::TimedOut);
        }
        if let Some(crash) = &ran.crash {
            return Some(Problem::Crashed(crash.clone()));
        }
        let mut announced = ran.announced.unwrap_or(0);
        if ran.in_combined {
            // The binary's unreported tests may be this module's.
            announced += self.unreported(COMBINED_TARGET);
        }
        if !ran.finished || ran.reported < announced {
            return Some(Problem::Incomplete {
                reported: ran.reported,
                announced,
            });
        }
        None
    }

    /// Tests of `target` announced but never reported (they crashed, hung, or
    /// never started): they count as not passing.
    pub fn unreported(&self, target: &str) -> usize {
        self.targets
            .iter()
            .find(|t| t.name == target)
            .map_or(0, |t| t.announced.unwrap_or(0).saturating_sub(t.reported))
    }

    /// The outcomes of one test target.
    pub fn of_target<'a>(&'a self, target: &'a str) -> impl Iterator<Item = &'a TestOutcome> + 'a {
        self.outcomes.iter().filter(move |o| o.target == target)
    }
}

/// How long one test binary may run before the check stops it. Counted per test
/// binary and only once cargo starts running it, so a slow first build is never
/// cut short. Generous: trybuild's tests compile programs while they run.
pub const DEFAULT_TEST_LIMIT: Duration = Duration::from_secs(120);

/// How long a test binary runs before the check says it is still running: most
/// finish in a second, and two minutes of silence before the limit looked like a
/// frozen runner.
pub const STILL_RUNNING_NOTICE: Duration = Duration::from_secs(10);

/// The notice's delay: [`STILL_RUNNING_NOTICE`], or, for the runner's own tests,
/// the milliseconds in `WORKSHOP_STILL_RUNNING_NOTICE_MS`.
fn still_running_notice() -> Duration {
    std::env::var("WORKSHOP_STILL_RUNNING_NOTICE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(STILL_RUNNING_NOTICE, Duration::from_millis)
}

/// Runs `cargo test -p <package>` in `root` and reads the result. A test binary
/// that runs longer than `limit` (an endless loop, a future nobody wakes) is
/// stopped, and the run says which one. `threads` is libtest's number of test
/// threads when the step sets one (see [`crate::manifest::Step::test_threads`]).
pub fn run_cargo_test(
    root: &Path,
    package: &str,
    limit: Duration,
    threads: Option<u16>,
) -> Result<TestRun> {
    let (reader, writer) = std::io::pipe().context("cannot create a pipe for cargo's output")?;
    let writer_err = writer
        .try_clone()
        .context("cannot share cargo's output pipe")?;
    let mut command = Command::new(cargo());
    command
        .current_dir(root)
        .args([
            "test",
            "--package",
            package,
            // Only the test targets: `cargo test` alone also builds every
            // example, which checks nothing a learner wrote and cost step 12
            // about 0.15 s per save (its `replay` example links SQLite).
            "--tests",
            "--no-fail-fast",
            "--color",
            "never",
        ])
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_TERM_PROGRESS_WHEN", "never")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer_err);
    // A learner reads a short panic message, even with RUST_BACKTRACE set in the
    // shell; `cargo test -p <crate>` is there for the full story.
    command.env("RUST_BACKTRACE", "0");
    if let Some(threads) = threads {
        command.env("RUST_TEST_THREADS", threads.to_string());
    }
    // Cargo and everything it starts (test binaries, and the compilers trybuild
    // starts) form one process group, so they can be stopped together.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().context(
        "cannot start `cargo test`: is cargo on your PATH? (`cargo workshop doctor` checks)",
    )?;
    let _running = Running::register(child.id());
    // The Command still holds the write ends; drop it so the reader sees the end
    // of the output when cargo and the test binaries are done.
    drop(command);

    // Lines arrive on a thread, so that this one can watch the clock.
    let (lines, arriving) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).split(b'\n') {
            let Ok(line) = line else { break };
            if lines
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    let mut output = String::new();
    let mut notice = crate::ui::BuildNotice::new(package);
    let mut running: Option<(String, Instant)> = None;
    let notice_after = still_running_notice();
    // Whether the binary running now has had its "still running" line.
    let mut said_still_running = false;
    let mut timed_out = None;
    loop {
        match arriving.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                notice.saw(&line);
                let trimmed = line.trim_start();
                if let Some(rest) = trimmed.strip_prefix("Running ") {
                    running = Some((target_name(rest), Instant::now()));
                    said_still_running = false;
                } else if trimmed.starts_with("Doc-tests ") {
                    running = Some(("doctests".to_owned(), Instant::now()));
                    said_still_running = false;
                }
                output.push_str(&line);
                output.push('\n');
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Some((target, since)) = &running
            && !said_still_running
            && notice_after < limit
            && since.elapsed() >= notice_after
        {
            notice.finish();
            crate::ui::still_running(target, notice_after, limit);
            said_still_running = true;
        }
        if let Some((target, since)) = &running
            && since.elapsed() > limit
        {
            timed_out = Some(target.clone());
            stop_tree(&mut child);
            break;
        }
    }
    let status = child.wait().context("cannot wait for cargo")?;
    let mut run = parse(&output);
    run.timed_out = timed_out;
    // Cargo exits non-zero both for failing tests and for a failed build; only the
    // second leaves compiler errors or starts no test binary at all.
    if !status.success() && (!run.errors.is_empty() || run.targets.is_empty()) {
        run.compiled = false;
    }
    Ok(run)
}

/// Stops cargo and the test binary it is running. Killing cargo alone would leave
/// the test binary (its child) running.
fn stop_tree(child: &mut std::process::Child) {
    kill_tree(child.id());
    let _ = child.kill();
}

/// Kills the process `pid` and everything it started: on Unix its process group
/// (made for it at spawn), on Windows its process tree.
fn kill_tree(pid: u32) {
    #[cfg(unix)]
    if let Ok(group) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) only sends a signal; a negative pid names the group.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    #[cfg(windows)]
    let _ = Command::new("taskkill")
        .args(["/PID", &pid.to_string(), "/T", "/F"])
        .status();
}

/// The `cargo test` processes running now, so that a runner told to stop
/// (Ctrl-C, SIGTERM, a closed terminal) stops them too.
static RUNNING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Keeps a process in [`RUNNING`] for as long as it lives.
struct Running(u32);

impl Running {
    fn register(pid: u32) -> Self {
        if let Ok(mut running) = RUNNING.lock() {
            running.push(pid);
        }
        Running(pid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut running) = RUNNING.lock() {
            running.retain(|&p| p != self.0);
        }
    }
}

/// Stops every `cargo test` this runner started, with its test binaries. Called
/// when the runner itself is told to stop: otherwise a test stuck in a loop would
/// go on using a core after the learner thinks it is gone.
pub fn stop_all() {
    let pids: Vec<u32> = match RUNNING.lock() {
        Ok(running) => running.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for pid in pids {
        kill_tree(pid);
    }
}

/// The cargo that started us (cargo sets `CARGO` for `cargo run`), so the same
/// toolchain builds the exercises; plain `cargo` otherwise.
pub fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Reads cargo's and libtest's combined output.
pub fn parse(output: &str) -> TestRun {
    // trybuild colours its report even into a pipe.
    let output = strip_ansi(output);
    let mut run = TestRun {
        compiled: true,
        output: output.clone(),
        ..TestRun::default()
    };
    let lines: Vec<&str> = output.lines().collect();
    let mut target = String::from("unknown");
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            target = target_name(rest);
            run.targets.push(TargetRun {
                name: target.clone(),
                ..TargetRun::default()
            });
        } else if let Some(rest) = trimmed.strip_prefix("Doc-tests ") {
            target = format!("doctests {}", rest.trim());
            run.targets.push(TargetRun {
                name: target.clone(),
                ..TargetRun::default()
            });
        } else if let Some(count) = announced(line) {
            if let Some(current) = run.targets.last_mut() {
                current.announced = Some(count);
            }
        } else if line.starts_with("test result: ") {
            if let Some(current) = run.targets.last_mut() {
                current.finished = true;
            }
        } else if let Some((path, verdict)) = compile_fail_line(line) {
            let (details, next) = compile_fail_details(&lines, i + 1);
            run.compile_fail_cases.push(CompileFailCase {
                target: target.clone(),
                path: path.to_owned(),
                verdict: verdict.to_owned(),
                details,
            });
            i = next;
            continue;
        } else if let Some((name, status)) = test_line(line) {
            run.outcomes.push(TestOutcome {
                target: target.clone(),
                name: name.to_owned(),
                status,
                message: None,
            });
            if let Some(current) = run.targets.last_mut() {
                current.reported += 1;
            }
        } else if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            let (message, next) = failure_message(&lines, i + 1);
            // The failure section lists tests by name within the current target.
            if let Some(outcome) = run
                .outcomes
                .iter_mut()
                .rev()
                .find(|o| o.target == target && o.name == name)
            {
                outcome.message = Some(message);
            }
            i = next;
            continue;
        } else if let Some(crash) = crash_line(line) {
            if let Some(current) = run.targets.last_mut() {
                current.crash = merge_crash(current.crash.take(), crash, current.finished);
            }
        } else if line.starts_with("error") && is_compiler_error(line) {
            let start = i;
            while i < lines.len() && !lines[i].trim().is_empty() {
                i += 1;
            }
            run.errors.push(lines[start..i].join("\n"));
            continue;
        } else if line.starts_with("warning") && !line.contains(" generated ") {
            let start = i;
            while i < lines.len() && !lines[i].trim().is_empty() {
                i += 1;
            }
            run.warnings.push(lines[start..i].join("\n"));
            continue;
        }
        i += 1;
    }
    if !run.errors.is_empty() {
        run.compiled = false;
    }
    attach_compile_fail_cases(&mut run);
    split_combined(&mut run);
    run
}

/// Turns the modules of the [`COMBINED_TARGET`] into targets of their own.
/// Each module's target shares the binary's fate (its crash, an early end);
/// the tests the binary announced but never reported stay with a target of
/// the combined name, since nothing says which module they were in.
fn split_combined(run: &mut TestRun) {
    let Some(index) = run.targets.iter().position(|t| t.name == COMBINED_TARGET) else {
        return;
    };
    let whole = run.targets.remove(index);
    let complete = whole.finished && whole.reported >= whole.announced.unwrap_or(0);
    let mut parts: Vec<TargetRun> = Vec::new();
    for outcome in run
        .outcomes
        .iter_mut()
        .filter(|o| o.target == COMBINED_TARGET)
    {
        let Some((module, name)) = outcome.name.split_once("::") else {
            continue;
        };
        let (module, name) = (module.to_owned(), name.to_owned());
        match parts.iter_mut().find(|p| p.name == module) {
            Some(part) => part.reported += 1,
            None => parts.push(TargetRun {
                name: module.clone(),
                reported: 1,
                finished: complete,
                crash: whole.crash.clone(),
                in_combined: true,
                ..TargetRun::default()
            }),
        }
        outcome.target = module;
        outcome.name = name;
    }
    for part in &mut parts {
        part.announced = Some(part.reported);
    }
    let left_over = run
        .outcomes
        .iter()
        .filter(|o| o.target == COMBINED_TARGET)
        .count();
    let announced_rest = whole
        .announced
        .unwrap_or(0)
        .saturating_sub(parts.iter().map(|p| p.reported).sum());
    let rest = (left_over > 0 || announced_rest > 0 || parts.is_empty()).then(|| TargetRun {
        announced: whole.announced.map(|_| announced_rest),
        reported: left_over,
        ..whole
    });
    let tail = run.targets.split_off(index);
    run.targets.extend(parts);
    run.targets.extend(rest);
    run.targets.extend(tail);
}

/// libtest's `running 3 tests` (or `running 1 test`).
fn announced(line: &str) -> Option<usize> {
    let rest = line.strip_prefix("running ")?;
    let (count, word) = rest.split_once(' ')?;
    matches!(word.trim(), "test" | "tests")
        .then(|| count.parse().ok())
        .flatten()
}

/// A line that says a test binary died: Rust's own stack-overflow report, or
/// cargo's `process didn't exit successfully: ... (signal: 11, SIGSEGV: ...)`.
fn crash_line(line: &str) -> Option<Crash> {
    // The test's own output shares the pipe and can land in the middle of this
    // line, so the words are looked for anywhere, and the test is named only
    // when the line is whole.
    if line.contains("has overflowed its stack")
        || line.contains("fatal runtime error: stack overflow")
    {
        let test = line
            .strip_prefix("thread '")
            .and_then(|rest| rest.split_once("' ("))
            .map(|(name, _)| name)
            .filter(|name| *name != "main" && *name != "<unnamed>" && !name.contains(" ... "))
            .map(str::to_owned);
        return Some(Crash::StackOverflow { test });
    }
    let rest = line
        .trim_start()
        .strip_prefix("process didn't exit successfully:")?;
    let inside = rest.rsplit_once('(')?.1.trim_end().strip_suffix(')')?;
    if let Some(signal) = inside.strip_prefix("signal: ") {
        // `6, SIGABRT: process abort signal`
        let words = signal.split_once(", ").map_or(signal, |(_, w)| w);
        return Some(Crash::Signal(words.to_owned()));
    }
    if inside.contains("STATUS_STACK_OVERFLOW") {
        return Some(Crash::StackOverflow { test: None });
    }
    Some(Crash::Exit(inside.to_owned()))
}

/// Combines what is known about one binary's death. cargo's line comes after
/// libtest's summary when tests merely failed (exit status 101): that is no
/// crash. A stack overflow, once seen, is the best explanation of the signal.
fn merge_crash(known: Option<Crash>, new: Crash, finished: bool) -> Option<Crash> {
    match (known, new) {
        (Some(overflow @ Crash::StackOverflow { .. }), _) => Some(overflow),
        (known, Crash::Exit(_)) if finished => known,
        (_, new) => Some(new),
    }
}

/// trybuild's `test tests/ui/pay_twice.rs [should fail to compile] ... mismatch`.
fn compile_fail_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("test ")?;
    let (name, verdict) = rest.rsplit_once(" ... ")?;
    let path = name.split(" [").next()?.trim();
    path.ends_with(".rs").then_some((path, verdict.trim()))
}

/// What trybuild printed under a case, up to the next `test ` line. Its advice to
/// bless the actual output is left out: a learner must not rewrite the tests.
fn compile_fail_details(lines: &[&str], start: usize) -> (String, usize) {
    let mut end = start;
    while end < lines.len() && !lines[end].starts_with("test ") {
        end += 1;
    }
    let kept: Vec<&str> = lines[start..end]
        .iter()
        .copied()
        .filter(|l| {
            !(l.starts_with("note: If the actual output")
                || l.trim_start()
                    .starts_with("your test with the environment variable TRYBUILD"))
        })
        .collect();
    (kept.join("\n").trim().to_owned(), end)
}

/// A failing trybuild test says only "1 of 2 tests failed", at a line inside
/// trybuild. Its message becomes the failing cases and what differs.
fn attach_compile_fail_cases(run: &mut TestRun) {
    for outcome in &mut run.outcomes {
        if outcome.status != Status::Failed {
            continue;
        }
        let from_trybuild = outcome.message.as_deref().is_some_and(|m| {
            m.contains("trybuild") || m.contains(" tests failed") || m.contains(" test failed")
        });
        let failing: Vec<&CompileFailCase> = run
            .compile_fail_cases
            .iter()
            .filter(|c| c.target == outcome.target && c.failed())
            .collect();
        if !from_trybuild || failing.is_empty() {
            continue;
        }
        let described: Vec<String> = failing.iter().map(|c| describe_case(c)).collect();
        outcome.message = Some(described.join("\n\n"));
    }
}

/// One failing compile-fail case in words, with the lines that differ between
/// the compiler output the test expects and the one it got.
pub fn describe_case(case: &CompileFailCase) -> String {
    let (expected, actual) = expected_and_actual(&case.details);
    let mut text = match case.verdict.as_str() {
        "mismatch" => format!(
            "{} does not fail to compile the way the test expects: the compiler's message differs.",
            case.path
        ),
        _ if case
            .details
            .contains("Expected test case to fail to compile, but it succeeded") =>
        {
            format!(
                "{} is a program that must not compile, but with your code it compiles. \
                 Read it: what it does is what your types must make impossible.",
                case.path
            )
        }
        _ => format!(
            "{}: {}",
            case.path,
            case.details.lines().next().unwrap_or(&case.verdict)
        ),
    };
    if let (Some(expected), Some(actual)) = (expected, actual) {
        text.push_str("\n(- expected, + what the compiler said)");
        let diff = similar::TextDiff::from_lines(&expected, &actual);
        let mut shown = 0;
        for change in diff.iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => "-",
                similar::ChangeTag::Insert => "+",
                similar::ChangeTag::Equal => continue,
            };
            shown += 1;
            if shown > 20 {
                text.push_str("\n...");
                break;
            }
            text.push_str(&format!("\n{sign} {}", change.value().trim_end()));
        }
    } else if case.verdict != "mismatch" && !text.contains("must not compile") {
        for line in case.details.lines().skip(1).take(20) {
            text.push_str(&format!("\n{line}"));
        }
    }
    text
}

/// The EXPECTED: and ACTUAL OUTPUT: blocks of trybuild's report, each between
/// two rules of `┈`.
fn expected_and_actual(details: &str) -> (Option<String>, Option<String>) {
    let block = |title: &str| -> Option<String> {
        let after = details.split_once(title)?.1;
        // The rest of the title's line, then the rule that opens the block.
        let mut lines = after.split('\n').skip(1).skip_while(|l| l.starts_with('┈'));
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with('┈')).collect();
        Some(body.join("\n") + "\n")
    };
    (block("EXPECTED:"), block("ACTUAL OUTPUT:"))
}

/// Removes terminal colour codes (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `tests/apply.rs (target/debug/deps/apply-123)` gives `apply`,
/// `tests/exercises/main.rs (...)` gives `exercises`;
/// `unittests src/lib.rs (...)` gives `unittests`.
fn target_name(rest: &str) -> String {
    let path = rest.split(" (").next().unwrap_or(rest).trim();
    if path.starts_with("unittests") {
        return "unittests".to_owned();
    }
    let path = Path::new(path);
    // `tests/exercises/main.rs` is the target `exercises`.
    let path = match path.parent() {
        Some(dir) if path.file_name().is_some_and(|f| f == "main.rs") => dir,
        _ => path,
    };
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// `test name ... ok` and its siblings. Benchmarks and the summary line are not
/// tests.
fn test_line(line: &str) -> Option<(&str, Status)> {
    let rest = line.strip_prefix("test ")?;
    let (name, result) = rest.rsplit_once(" ... ")?;
    let status = match result.trim() {
        "ok" => Status::Passed,
        "FAILED" => Status::Failed,
        r if r.starts_with("ignored") => Status::Ignored,
        _ => return None,
    };
    Some((name.trim(), status))
}

/// The text of one failure section, from the line after its header to the next
/// header, keeping what a learner needs: the panic location and message.
fn failure_message(lines: &[&str], start: usize) -> (String, usize) {
    let mut end = start;
    while end < lines.len() {
        let line = lines[end];
        if (line.starts_with("---- ") && line.ends_with(" ----")) || line == "failures:" {
            break;
        }
        end += 1;
    }
    let kept: Vec<&str> = lines[start..end]
        .iter()
        .copied()
        .filter(|l| !l.starts_with("note: run with `RUST_BACKTRACE=1`"))
        // proptest's counters say how many cases ran, not what went wrong.
        .filter(|l| {
            let t = l.trim();
            !(t.starts_with("successes:")
                || t.starts_with("local rejects:")
                || t.starts_with("global rejects:"))
        })
        .collect();
    let text = kept.join("\n").trim().to_owned();
    (tidy_panic(&text), end)
}

/// `thread 'x' (123) panicked at tests/a.rs:4:5:` becomes `at tests/a.rs:4:5`,
/// which is what a learner acts on.
fn tidy_panic(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("thread '")
            && let Some(at) = line.split(" panicked at ").nth(1)
        {
            out.push(format!("at {}", at.trim_end_matches(':')));
            continue;
        }
        out.push(line.to_owned());
    }
    out.join("\n")
}

/// rustc's `error[E0308]: ...` or `error: ...`, but not cargo's closing summaries,
/// which say nothing the errors above them did not.
fn is_compiler_error(line: &str) -> bool {
    !(line.starts_with("error: could not compile")
        || line.starts_with("error: test failed")
        || line.starts_with("error: 1 target failed")
        || line.contains("targets failed:")
        || line.starts_with("error: aborting due to"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILING: &str = "\
   Compiling step00-welcome v0.1.0 (/w/steps/00-welcome)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.50s
     Running tests/seats_left.rs (target/debug/deps/seats_left-0c1d)

running 2 tests
test free_seats_are_capacity_minus_sold ... FAILED
test a_sold_out_show_has_no_seats_left ... ok

failures:

---- free_seats_are_capacity_minus_sold stdout ----

thread 'free_seats_are_capacity_minus_sold' (4242) panicked at src/lib.rs:20:5:
not yet implemented: return how many seats are free
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    free_seats_are_capacity_minus_sold

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass `--test seats_left`
     Running tests/other.rs (target/debug/deps/other-99)

running 1 test
test free_seats_are_capacity_minus_sold ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: 1 target failed:
    `--test seats_left`
";

    #[test]
    fn outcomes_are_read_per_target_with_their_messages() {
        let run = parse(FAILING);
        assert!(run.compiled);
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        assert_eq!(run.outcomes.len(), 3);
        let failed = &run.outcomes[0];
        assert_eq!(failed.target, "seats_left");
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(
            failed.message.as_deref(),
            Some("at src/lib.rs:20:5\nnot yet implemented: return how many seats are free")
        );
        assert_eq!(run.outcomes[1].status, Status::Passed);
        assert_eq!(run.outcomes[2].target, "other");
        assert_eq!(
            run.outcomes[2].message, None,
            "a test of the same name in another target keeps no message"
        );
        assert_eq!((run.passed(), run.failed()), (2, 1));
    }

    #[test]
    fn a_compile_error_is_kept_whole_and_marks_the_run_as_not_compiled() {
        let output = "\
   Compiling step01-events v0.1.0
error[E0308]: mismatched types
  --> src/state.rs:3:5
   |
 3 |     1
   |     ^ expected `BookingState`, found integer

error: could not compile `step01-events` (lib) due to 1 previous error
";
        let run = parse(output);
        assert!(!run.compiled);
        assert_eq!(run.errors.len(), 1);
        assert!(run.errors[0].starts_with("error[E0308]: mismatched types"));
        assert!(run.errors[0].ends_with("expected `BookingState`, found integer"));
    }

    #[test]
    fn warnings_are_kept_but_cargo_summaries_are_not() {
        let output = "\
warning: unused import: `uuid::Uuid`
 --> steps/02-protobuf/src/to_wire.rs:5:5
  |
5 | use uuid::Uuid;
  |     ^^^^^^^^^^

warning: `step02-protobuf` (lib) generated 1 warning
";
        let run = parse(output);
        assert!(run.compiled);
        assert_eq!(run.warnings.len(), 1);
        assert!(run.warnings[0].contains("to_wire.rs:5:5"));
    }

    #[test]
    fn proptest_counters_are_left_out_of_a_failure_message() {
        let output = "\
---- every_read_is_replayable stdout ----
thread 'every_read_is_replayable' panicked at tests/read.rs:218:1:
Test failed: offsets must be dense at tests/read.rs:240.
minimal failing input: steps = []
\tsuccesses: 0
\tlocal rejects: 0
\tglobal rejects: 0

failures:
";
        let (message, _) = failure_message(&output.lines().collect::<Vec<_>>(), 1);
        assert!(!message.contains("rejects"), "{message}");
        assert!(
            message.contains("minimal failing input: steps = []"),
            "{message}"
        );
    }

    #[test]
    fn ignored_tests_and_summary_lines_are_not_confused() {
        let run = parse("test slow ... ignored, needs a server\ntest result: ok. 0 passed\n");
        assert_eq!(run.outcomes.len(), 1);
        assert_eq!(run.outcomes[0].status, Status::Ignored);
    }

    const CRASHED: &str = "\
     Running tests/abort.rs (target/debug/deps/abort-59f6)

running 1 test
error: test failed, to rerun pass `--test abort`

Caused by:
  process didn't exit successfully: `/t/abort-59f6` (signal: 6, SIGABRT: process abort signal)
     Running tests/fail.rs (target/debug/deps/fail-456d)

running 1 test
test fails ... FAILED

failures:

---- fails stdout ----

thread 'fails' (28040) panicked at tests/fail.rs:2:14:
boom


failures:
    fails

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.15s

error: test failed, to rerun pass `--test fail`
     Running tests/over.rs (target/debug/deps/over-2b19)

running 3 tests

thread 'test fine ... ok
deep' (28047) has overflowed its stack
fatal runtime error: stack overflow, aborting
error: test failed, to rerun pass `--test over`

Caused by:
  process didn't exit successfully: `/t/over-2b19` (signal: 6, SIGABRT: process abort signal)
error: 3 targets failed:
    `--test abort`
    `--test fail`
    `--test over`
";

    #[test]
    fn a_crashed_test_binary_is_a_problem_named_in_words_and_failing_tests_are_not() {
        let run = parse(CRASHED);
        assert!(run.compiled, "a crash happens after the build succeeded");
        assert_eq!(
            run.problem("over"),
            Some(Problem::Crashed(Crash::StackOverflow { test: None })),
            "the stack overflow explains the SIGABRT that follows it"
        );
        assert_eq!(
            run.unreported("over"),
            3,
            "a result line broken by the crash report is not a result"
        );
        let whole =
            parse("     Running tests/o.rs (x)\nthread 'deep' (1) has overflowed its stack\n");
        assert_eq!(
            whole.problem("o"),
            Some(Problem::Crashed(Crash::StackOverflow {
                test: Some("deep".into())
            }))
        );
        assert_eq!(
            run.problem("abort"),
            Some(Problem::Crashed(Crash::Signal(
                "SIGABRT: process abort signal".into()
            )))
        );
        assert_eq!(
            run.problem("fail"),
            None,
            "a test that fails is a failure, not a crash"
        );
        assert_eq!(
            run.problem("apply"),
            Some(Problem::Missing),
            "a test target that never ran"
        );
    }

    #[test]
    fn a_binary_that_reports_fewer_tests_than_it_announced_is_incomplete() {
        let run = parse(
            "     Running tests/a.rs (x)\n\nrunning 2 tests\ntest one ... ok\n\ntest result: ok. 1 passed\n",
        );
        assert_eq!(
            run.problem("a"),
            Some(Problem::Incomplete {
                reported: 1,
                announced: 2
            })
        );
    }

    const COMBINED: &str = "\
     Running tests/exercises/main.rs (target/debug/deps/exercises-1f2e)

running 3 tests
test publish::stores_once ... ok
test settle::acks_after_the_effect ... FAILED
test publish::keeps_the_id ... ok

failures:

---- settle::acks_after_the_effect stdout ----

thread 'settle::acks_after_the_effect' (9) panicked at tests/exercises/settle.rs:12:5:
ack after the transaction, not before

failures:
    settle::acks_after_the_effect

test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.31s
";

    #[test]
    fn the_combined_binary_counts_each_module_as_its_exercise() {
        let run = parse(COMBINED);
        let publish: Vec<_> = run.of_target("publish").map(|o| o.name.as_str()).collect();
        assert_eq!(publish, ["stores_once", "keeps_the_id"]);
        let settle: Vec<_> = run.of_target("settle").collect();
        assert_eq!(settle.len(), 1);
        assert_eq!(settle[0].name, "acks_after_the_effect");
        assert_eq!(settle[0].status, Status::Failed);
        assert_eq!(
            settle[0].message.as_deref(),
            Some("at tests/exercises/settle.rs:12:5\nack after the transaction, not before"),
            "the failure message stays with its test"
        );
        assert_eq!(run.problem("publish"), None);
        assert_eq!(run.problem("settle"), None);
        assert_eq!(
            run.targets
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            ["publish", "settle"],
            "no target is left for the binary itself when every test named its module"
        );
    }

    #[test]
    fn a_combined_binary_that_crashes_or_hangs_fails_every_exercise_in_it() {
        let crashed = COMBINED.replace("test settle::acks_after_the_effect ... FAILED\n", "");
        let crashed = crashed
            .split("\nfailures:")
            .next()
            .unwrap_or_default()
            .to_owned()
            + "\nerror: test failed, to rerun pass `--test exercises`\n\nCaused by:\n  \
               process didn't exit successfully: `/w/target/debug/deps/exercises-1f2e` \
               (signal: 11, SIGSEGV: invalid memory reference)\n";
        let run = parse(&crashed);
        assert!(
            matches!(
                run.problem("publish"),
                Some(Problem::Crashed(Crash::Signal(_)))
            ),
            "a crash of the binary is a problem of every module that ran: {:?}",
            run.problem("publish")
        );
        assert!(
            matches!(
                run.problem("settle"),
                Some(Problem::Crashed(Crash::Signal(_)))
            ),
            "a module with no result in a crashed binary is not a missing file: {:?}",
            run.problem("settle")
        );
        let unreported: usize = run.targets.iter().map(|t| run.unreported(&t.name)).sum();
        assert_eq!(
            unreported, 1,
            "the test that never reported is counted once"
        );

        let mut hung = parse(&crashed);
        hung.timed_out = Some(COMBINED_TARGET.to_owned());
        assert_eq!(hung.problem("publish"), Some(Problem::TimedOut));
    }

    const TRYBUILD: &str = "\
     Running tests/typestate.rs (target/debug/deps/typestate-52ae)

running 2 tests
test pay_keeps_ids ... ok
    Finished `dev` profile [unoptimized + debuginfo] target(s) in 0.24s


test \u{1b}[0m\u{1b}[1mtests/ui/expire_after_pay.rs\u{1b}[0m ... \u{1b}[0m\u{1b}[32mok
\u{1b}[0mtest \u{1b}[0m\u{1b}[1mtests/ui/use_after_pay.rs\u{1b}[0m ... \u{1b}[0m\u{1b}[1m\u{1b}[31mmismatch
\u{1b}[0m
\u{1b}[0m\u{1b}[1m\u{1b}[34mEXPECTED:
\u{1b}[0m\u{1b}[34m┈┈┈┈┈┈┈┈
\u{1b}[0m\u{1b}[34merror[E0382]: use of moved value: `held`
\u{1b}[0m\u{1b}[34m --> tests/ui/use_after_pay.rs:8:5
\u{1b}[0m\u{1b}[34m┈┈┈┈┈┈┈┈
\u{1b}[0m
\u{1b}[0m\u{1b}[1m\u{1b}[31mACTUAL OUTPUT:
\u{1b}[0m\u{1b}[31m┈┈┈┈┈┈┈┈
\u{1b}[0m\u{1b}[31merror[E0382]: borrow of moved value: `held`
\u{1b}[0m\u{1b}[31m --> tests/ui/use_after_pay.rs:8:5
\u{1b}[0m\u{1b}[31m┈┈┈┈┈┈┈┈
\u{1b}[0mnote: If the \u{1b}[0m\u{1b}[31mactual output\u{1b}[0m is the correct output you can bless it by rerunning
      your test with the environment variable TRYBUILD=overwrite



test illegal_transitions_do_not_compile ... FAILED

failures:

---- illegal_transitions_do_not_compile stdout ----

thread 'illegal_transitions_do_not_compile' (7) panicked at /home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/trybuild-1.0.122/src/run.rs:101:13:
1 of 2 tests failed


failures:
    illegal_transitions_do_not_compile

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.84s
";

    #[test]
    fn a_failing_compile_fail_case_is_named_with_what_the_compiler_said_differently() {
        let run = parse(TRYBUILD);
        assert_eq!(
            run.outcomes.len(),
            2,
            "trybuild's cases are not libtest tests"
        );
        assert_eq!(run.problem("typestate"), None);
        let failed = &run.outcomes[1];
        assert_eq!(failed.status, Status::Failed);
        let message = failed.message.as_deref().unwrap_or_default();
        assert!(
            message.starts_with("tests/ui/use_after_pay.rs does not fail to compile the way"),
            "{message}"
        );
        assert!(
            message.contains("- error[E0382]: use of moved value: `held`")
                && message.contains("+ error[E0382]: borrow of moved value: `held`"),
            "{message}"
        );
        assert!(!message.contains("trybuild-1.0"), "{message}");
        assert!(!message.contains("TRYBUILD=overwrite"), "{message}");
        assert!(
            !message.contains("--> tests/ui"),
            "equal lines are left out: {message}"
        );
    }

    #[test]
    fn a_compile_fail_case_that_compiles_is_explained() {
        let case = CompileFailCase {
            target: "typestate".into(),
            path: "tests/ui/expire_after_pay.rs".into(),
            verdict: "error".into(),
            details: "Expected test case to fail to compile, but it succeeded.".into(),
        };
        let text = describe_case(&case);
        assert!(
            text.starts_with("tests/ui/expire_after_pay.rs is a program that must not compile"),
            "{text}"
        );
    }
}
