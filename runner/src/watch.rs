//! `watch`: check again whenever a file under `steps/` is saved, and follow the
//! learner through the steps.
//!
//! It follows the learner in two ways. When the step it watches passes, it moves
//! on to the next step by itself and says so. And a save in any step's files
//! checks that step, so going back to an earlier step needs no restart. With a
//! step named (`watch 03`) it stays on that step and ignores the others.
//!
//! File events do not arrive everywhere: some network drives, containers and
//! editors that write through a temporary file miss them. So the keyboard is a
//! second source of events (Enter checks again), and `--poll` swaps the operating
//! system's notifications for a watcher that compares file times every second.

mod keys;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, TryRecvError};
use std::time::Duration;

use anstream::println;
use anyhow::{Context, Result};
use notify_debouncer_mini::notify::{self, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer_opt};

use crate::learner::{self, CheckOptions};
use crate::manifest::{Step, Workshop};
use crate::progress::{self, Progress};
use crate::ui::{DIM, FAIL, PASS, PATH, TITLE, WARN, paint};
pub use keys::restore_terminal;
use keys::{Key, Keys};

/// A watcher of either kind, kept alive for as long as the loop runs.
enum AnyWatcher {
    Native(Debouncer<notify::RecommendedWatcher>),
    Poll(Debouncer<notify::PollWatcher>),
}

impl AnyWatcher {
    fn watch(&mut self, path: &Path) -> notify::Result<()> {
        match self {
            AnyWatcher::Native(d) => d.watcher().watch(path, RecursiveMode::Recursive),
            AnyWatcher::Poll(d) => d.watcher().watch(path, RecursiveMode::Recursive),
        }
    }
}

/// Why a check runs, said in the line that opens it.
enum Reason {
    Started,
    Saved(PathBuf),
    Asked,
    /// The step before passed, and watch moved on to this one.
    MovedOn {
        from: u8,
    },
}

/// What ended a wait.
enum Wake {
    Saved(Vec<PathBuf>),
    Key(Key),
}

pub fn watch(workshop: &Workshop, fixed_step: Option<&str>, poll: bool) -> Result<()> {
    // Resolve a named step once, up front, so a typo fails before the loop.
    let fixed = fixed_step.map(|query| workshop.step(query)).transpose()?;
    // Without a step named, start where the learner is: the step whose
    // directory they are in, else the first that is not done.
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let Some(first) = learner::step_for_command(workshop, fixed_step, &cwd)? else {
        println!("{}", paint(PASS, learner::all_done_message(workshop)));
        return Ok(());
    };

    let (saved, saves) = mpsc::channel();
    let handler = move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        // Only sources count: cargo writes into target/ while checking, and that
        // must not trigger another check.
        let paths: Vec<PathBuf> = events
            .into_iter()
            .map(|e| e.path)
            .filter(|path| {
                let is_source = matches!(
                    path.extension().and_then(|x| x.to_str()),
                    Some("rs" | "toml" | "proto")
                );
                is_source && !path.components().any(|c| c.as_os_str() == "target")
            })
            .collect();
        if !paths.is_empty() {
            let _ = saved.send(paths);
        }
    };
    let config = notify_debouncer_mini::Config::default()
        .with_timeout(Duration::from_millis(250))
        .with_notify_config(notify::Config::default().with_poll_interval(Duration::from_secs(1)));
    let mut watcher = if poll {
        AnyWatcher::Poll(
            new_debouncer_opt(config, handler).context("cannot start the polling file watcher")?,
        )
    } else {
        AnyWatcher::Native(
            new_debouncer_opt(config, handler)
                .context("cannot start the file watcher; try `cargo workshop watch --poll`")?,
        )
    };
    let steps_dir = workshop.path("steps");
    if let Err(e) = watcher.watch(&steps_dir) {
        println!(
            "{} cannot watch {} ({e}); press Enter to check after you save, or try --poll.",
            paint(WARN, "Note:"),
            steps_dir.display()
        );
    }

    let keys = Keys::new();
    let clear = std::io::stdout().is_terminal();
    // What each step looked like when it was last checked, or when watch
    // started: one save often arrives as several file events, some during the
    // check, and they must not start a second identical check. And on some
    // systems reading a file is an event too (cargo reads every step's
    // Cargo.toml), which must not check a step nobody changed.
    let mut checked: HashMap<u8, Option<String>> = HashMap::new();
    for step in workshop.steps() {
        checked.insert(step.number, fingerprint(workshop, step));
    }
    let mut focus = first;
    let mut next = Some((first, Reason::Started));
    let mut runs = 0;
    loop {
        if let Some((step, reason)) = next.take() {
            runs += 1;
            open_run(runs, step, &reason, clear);
            checked.insert(step.number, fingerprint(workshop, step));
            let done = match learner::check(workshop, step, CheckOptions::default()) {
                Ok(done) => done,
                Err(e) => {
                    // A missing file or an unreadable manifest is something to
                    // fix and save again, not a reason to stop watching.
                    println!("{} {e:#}", paint(FAIL, "error:"));
                    false
                }
            };
            focus = step;
            if done && fixed.is_none() {
                match step_after(workshop, step) {
                    Ok(Some(after)) => {
                        next = Some((after, Reason::MovedOn { from: step.number }));
                        continue;
                    }
                    Ok(None) => {
                        println!("\n{}", paint(PASS, learner::all_done_message(workshop)));
                        return Ok(());
                    }
                    Err(e) => println!("{} {e:#}", paint(FAIL, "error:")),
                }
            }
            let how = if keys.single() {
                "Enter: check again · h: hint · q: quit"
            } else {
                "Enter: check again · h then Enter: hint · q then Enter: quit"
            };
            println!(
                "\n{}",
                paint(
                    DIM,
                    format!(
                        "Watching step {:02} (a save in any step checks that step). {how}",
                        focus.number
                    )
                )
            );
        }
        match wait(&keys, &saves)? {
            Wake::Key(Key::Quit) => return Ok(()),
            Wake::Key(Key::Recheck) => next = Some((focus, Reason::Asked)),
            Wake::Key(Key::Hint) => {
                println!();
                if let Err(e) = learner::hint(workshop, focus, false) {
                    println!("{} {e:#}", paint(FAIL, "error:"));
                }
                let again = if keys.single() { "h" } else { "h then Enter" };
                println!(
                    "{}",
                    paint(
                        DIM,
                        format!(
                            "Still watching step {:02}. {again}: the next hint",
                            focus.number
                        )
                    )
                );
            }
            Wake::Saved(mut paths) => {
                // Reading a file is an event too on some systems (the check
                // itself reads them all), so name the file written last.
                paths.sort_by_key(|path| {
                    std::cmp::Reverse(std::fs::metadata(path).and_then(|m| m.modified()).ok())
                });
                for path in paths {
                    let Some(step) = step_of(workshop, &path) else {
                        continue;
                    };
                    if fixed.is_some_and(|f| f.number != step.number) {
                        continue;
                    }
                    // A fingerprint that cannot be taken (a file gone between
                    // listing and reading, as editors' temporary files are)
                    // counts as a change: the check then says what is wrong.
                    let now = fingerprint(workshop, step);
                    if now.is_none() || checked.get(&step.number) != Some(&now) {
                        let shown = path
                            .strip_prefix(&workshop.root)
                            .unwrap_or(&path)
                            .to_path_buf();
                        next = Some((step, Reason::Saved(shown)));
                        break;
                    }
                }
            }
        }
    }
}

/// The step's fingerprint, or `None` when a file cannot be read right now.
fn fingerprint(workshop: &Workshop, step: &Step) -> Option<String> {
    progress::fingerprint(workshop, step).ok()
}

/// Waits for a save or a key, with the terminal in raw mode only for the wait.
fn wait(keys: &Keys, saves: &mpsc::Receiver<Vec<PathBuf>>) -> Result<Wake> {
    let _raw = keys.raw_mode()?;
    loop {
        if let Some(key) = keys.next(Duration::from_millis(100))? {
            return Ok(Wake::Key(key));
        }
        match saves.try_recv() {
            Ok(paths) => return Ok(Wake::Saved(paths)),
            Err(TryRecvError::Empty) => {}
            // The watcher is gone; only keys are left, and they still work.
            Err(TryRecvError::Disconnected) => {}
        }
    }
}

/// The step a changed file belongs to: `.../steps/03-partitioning/src/x.rs` is
/// step 03.
fn step_of<'a>(workshop: &'a Workshop, path: &Path) -> Option<&'a Step> {
    let names: Vec<&std::ffi::OsStr> = path.components().map(|c| c.as_os_str()).collect();
    names.windows(2).rev().find_map(|pair| {
        (pair[0] == "steps")
            .then(|| workshop.steps().iter().find(|s| pair[1] == s.id().as_str()))
            .flatten()
    })
}

/// Where to go after `passed`: the first later step that is not done, else the
/// first earlier one; `None` when every step is done.
fn step_after<'a>(workshop: &'a Workshop, passed: &Step) -> Result<Option<&'a Step>> {
    let progress = Progress::load(workshop);
    let (later, earlier): (Vec<&Step>, Vec<&Step>) = workshop
        .steps()
        .iter()
        .filter(|s| s.number != passed.number)
        .partition(|s| s.number > passed.number);
    for step in later.into_iter().chain(earlier) {
        if !progress::state(workshop, &progress, step)?.is_done() {
            return Ok(Some(step));
        }
    }
    Ok(None)
}

/// Opens a run so that it cannot be mistaken for the one before: a clear screen
/// in a terminal (except after a step passed), and always a rule with the run's
/// number, the time and why it runs.
fn open_run(run: usize, step: &Step, reason: &Reason, clear: bool) {
    // Moving on follows a passing check whose words (compare with the reference,
    // tidy up the stub's `allow`) are still worth reading: keep them on screen.
    let moved_on = matches!(reason, Reason::MovedOn { .. });
    if clear && !moved_on {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = crossterm::execute!(
            out,
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All),
            crossterm::cursor::MoveTo(0, 0)
        );
        let _ = out.flush();
    } else if run > 1 {
        println!();
    }
    println!(
        "{}",
        paint(
            TITLE,
            format!(
                "━━ check {run} · {} · step {:02}: {} ━━",
                clock(),
                step.number,
                step.title
            )
        )
    );
    match reason {
        Reason::Started => {}
        Reason::Asked => println!("{}", paint(DIM, "You asked for a check.")),
        Reason::Saved(path) => println!("{}", paint(DIM, format!("You saved {}.", path.display()))),
        Reason::MovedOn { from } => {
            println!(
                "{} Step {from:02} passes, so watch moves on to step {:02}.",
                paint(PASS, "✓"),
                step.number
            );
            let exercise = &step.exercises[0];
            println!(
                "  read {}, then edit {}",
                paint(PATH, step.chapter().display()),
                paint(PATH, step.exercise_dir().join(&exercise.file).display())
            );
        }
    }
}

/// The time of day, UTC (std has no time zones; a clock that moves is what
/// shows that this run is new).
fn clock() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}
