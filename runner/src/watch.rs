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
mod snapshot;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, TryRecvError};
use std::time::Duration;

use anstream::println;
use anyhow::{Context, Result};
use notify::{EventKind, RecursiveMode, Watcher};

use crate::learner::{self, CheckOptions};
use crate::manifest::{Step, Workshop};
use crate::progress::{self, Progress};
use crate::ui::{DIM, FAIL, PASS, PATH, TITLE, WARN, paint};
pub use keys::restore_terminal;
use keys::{Key, Keys};
use snapshot::Snapshot;

/// A watcher of either kind, kept alive for as long as the loop runs.
enum AnyWatcher {
    Native(notify::RecommendedWatcher),
    Poll(notify::PollWatcher),
}

impl AnyWatcher {
    fn watch(&mut self, path: &Path) -> notify::Result<()> {
        match self {
            AnyWatcher::Native(w) => w.watch(path, RecursiveMode::Recursive),
            AnyWatcher::Poll(w) => w.watch(path, RecursiveMode::Recursive),
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
    let handler = move |result: notify::Result<notify::Event>| {
        let Ok(event) = result else { return };
        let paths = saved_paths(&event);
        if !paths.is_empty() {
            let _ = saved.send(paths);
        }
    };
    let mut watcher = if poll {
        let config = notify::Config::default().with_poll_interval(Duration::from_secs(1));
        AnyWatcher::Poll(
            notify::PollWatcher::new(handler, config)
                .context("cannot start the polling file watcher")?,
        )
    } else {
        AnyWatcher::Native(
            notify::RecommendedWatcher::new(handler, notify::Config::default())
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
    // check, and they must not start a second identical check; nor must a file
    // written again unchanged.
    let mut checked: HashMap<u8, Snapshot> = HashMap::new();
    for step in workshop.steps() {
        let now = Snapshot::take(&workshop.path(step.exercise_dir()), &Snapshot::default());
        checked.insert(step.number, now.unwrap_or_default());
    }
    let mut focus = first;
    let mut next = Some((first, Reason::Started));
    let mut runs = 0;
    loop {
        if let Some((step, reason)) = next.take() {
            runs += 1;
            open_run(runs, step, &reason, clear);
            let dir = workshop.path(step.exercise_dir());
            let before = checked.remove(&step.number).unwrap_or_default();
            checked.insert(
                step.number,
                Snapshot::take(&dir, &before).unwrap_or_default(),
            );
            let during = keys.during_check();
            let checked_now = learner::check(workshop, step, CheckOptions::default());
            drop(during);
            let done = match checked_now {
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
            Wake::Saved(paths) => {
                let mut looked = Vec::new();
                for path in paths {
                    let Some(step) = step_of(workshop, &path) else {
                        continue;
                    };
                    if fixed.is_some_and(|f| f.number != step.number)
                        || looked.contains(&step.number)
                    {
                        continue;
                    }
                    looked.push(step.number);
                    let dir = workshop.path(step.exercise_dir());
                    let before = checked.remove(&step.number).unwrap_or_default();
                    match Snapshot::take(&dir, &before) {
                        Ok(now) => {
                            let saved = now.saved(&before);
                            checked.insert(step.number, now);
                            if let Some(file) = saved {
                                let shown = step.exercise_dir().join(file);
                                next = Some((step, Reason::Saved(shown)));
                                break;
                            }
                        }
                        // A file that cannot be read right now (one gone between
                        // listing and reading, as editors' temporary files are)
                        // counts as a change: the check then says what is wrong.
                        Err(_) => {
                            checked.insert(step.number, before);
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
}

/// The source files an event says were written, created or removed; nothing
/// for an event that only reads. On Linux opening and reading a file are events
/// too, and watch itself, cargo and editors read the steps' files all the time:
/// counting those made an idle watch look at every file again and again.
fn saved_paths(event: &notify::Event) -> Vec<PathBuf> {
    if !matches!(
        event.kind,
        EventKind::Modify(_) | EventKind::Create(_) | EventKind::Remove(_)
    ) {
        return Vec::new();
    }
    // Only sources count: cargo writes into target/ while checking, and that
    // must not trigger another check.
    event
        .paths
        .iter()
        .filter(|path| {
            let is_source = matches!(
                path.extension().and_then(|x| x.to_str()),
                Some("rs" | "toml" | "proto")
            );
            is_source && !path.components().any(|c| c.as_os_str() == "target")
        })
        .cloned()
        .collect()
}

/// Waits for a save or a key, with the terminal in raw mode only for the wait.
fn wait(keys: &Keys, saves: &mpsc::Receiver<Vec<PathBuf>>) -> Result<Wake> {
    let _raw = keys.raw_mode()?;
    loop {
        if let Some(key) = keys.next(Duration::from_millis(100))? {
            return Ok(Wake::Key(key));
        }
        match saves.try_recv() {
            Ok(paths) => return Ok(Wake::Saved(settle(paths, saves))),
            Err(TryRecvError::Empty) => {}
            // The watcher is gone; only keys are left, and they still work.
            Err(TryRecvError::Disconnected) => {}
        }
    }
}

/// One save is often several events (an editor writes a temporary file, then
/// renames it): gathers those that follow `first` until a quarter of a second
/// passes without one, or two seconds in all.
fn settle(first: Vec<PathBuf>, saves: &mpsc::Receiver<Vec<PathBuf>>) -> Vec<PathBuf> {
    let mut paths = first;
    let until = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < until {
        match saves.recv_timeout(Duration::from_millis(250)) {
            Ok(more) => paths.extend(more),
            Err(_) => break,
        }
    }
    paths
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

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, ModifyKind};

    fn event(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn reading_a_file_is_not_a_save() {
        let lib = "/w/steps/00-welcome/src/lib.rs";
        for kind in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
        ] {
            assert_eq!(
                saved_paths(&event(kind, lib)),
                Vec::<PathBuf>::new(),
                "{kind:?} only reads the file: an idle watch that counted it would \
                 read every file again and again, which is another read event"
            );
        }
    }

    #[test]
    fn writing_creating_or_removing_a_source_file_is_a_save() {
        let lib = "/w/steps/00-welcome/src/lib.rs";
        for kind in [
            EventKind::Modify(ModifyKind::Data(DataChange::Content)),
            EventKind::Create(CreateKind::File),
            EventKind::Remove(notify::event::RemoveKind::File),
        ] {
            assert_eq!(
                saved_paths(&event(kind, lib)),
                vec![PathBuf::from(lib)],
                "{kind:?} changes the file, so watch must look at it"
            );
        }
    }

    #[test]
    fn build_output_and_other_files_are_not_saves() {
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        for path in [
            "/w/target/debug/deps/step00.rs",
            "/w/steps/00-welcome/target/x.rs",
            "/w/steps/00-welcome/src/.lib.rs.swp",
            "/w/steps/00-welcome/notes.txt",
        ] {
            assert_eq!(
                saved_paths(&event(write, path)),
                Vec::<PathBuf>::new(),
                "{path} is not a source of the step"
            );
        }
    }
}
