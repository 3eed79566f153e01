//! `watch`: check the current step again whenever a file under `steps/` is saved.
//!
//! File events do not arrive everywhere: some network drives, containers and
//! editors that write through a temporary file miss them. So the terminal is a
//! second source of events (Enter checks again), and `--poll` swaps the operating
//! system's notifications for a watcher that compares file times every second.

use std::io::BufRead;
use std::sync::mpsc;
use std::time::Duration;

use anstream::println;
use anyhow::{Context, Result};
use notify_debouncer_mini::notify::{self, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer_opt};

use crate::learner::{self, CheckOptions};
use crate::manifest::Workshop;
use crate::progress::{self, Progress};
use crate::ui::{DIM, PASS, TITLE, WARN, paint};

/// What wakes the watch loop.
enum Wake {
    Saved,
    Enter,
    Hint,
    Quit,
}

/// A watcher of either kind, kept alive for as long as the loop runs.
enum AnyWatcher {
    Native(Debouncer<notify::RecommendedWatcher>),
    Poll(Debouncer<notify::PollWatcher>),
}

impl AnyWatcher {
    fn watch(&mut self, path: &std::path::Path) -> notify::Result<()> {
        match self {
            AnyWatcher::Native(d) => d.watcher().watch(path, RecursiveMode::Recursive),
            AnyWatcher::Poll(d) => d.watcher().watch(path, RecursiveMode::Recursive),
        }
    }
}

pub fn watch(workshop: &Workshop, fixed_step: Option<&str>, poll: bool) -> Result<()> {
    // Resolve a named step once, up front, so a typo fails before the loop.
    if let Some(query) = fixed_step {
        workshop.step(query)?;
    }
    let (wake, woken) = mpsc::channel();

    let saved = wake.clone();
    let handler = move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        // Only sources count: cargo writes into target/ while checking, and that
        // must not trigger another check.
        let relevant = events.iter().any(|e| {
            let is_source = matches!(
                e.path.extension().and_then(|x| x.to_str()),
                Some("rs" | "toml" | "proto")
            );
            is_source && !e.path.components().any(|c| c.as_os_str() == "target")
        });
        if relevant {
            let _ = saved.send(Wake::Saved);
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
    let watching = watcher.watch(&steps_dir);
    if let Err(e) = &watching {
        println!(
            "{} cannot watch {} ({e}); press Enter to check after you save, or try --poll.",
            paint(WARN, "Note:"),
            steps_dir.display()
        );
    }

    // The terminal: Enter checks again, `h` shows a hint, `q` quits.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let event = match line.trim() {
                "q" | "quit" | "exit" => Wake::Quit,
                "h" | "hint" => Wake::Hint,
                _ => Wake::Enter,
            };
            let quit = matches!(event, Wake::Quit);
            if wake.send(event).is_err() || quit {
                break;
            }
        }
    });

    loop {
        let step = learner::chosen_step(workshop, fixed_step)?;
        println!("\n{}", paint(TITLE, format!("── step {} ──", step.id())));
        // What the check saw: one save often arrives as several file events, some
        // during the check, and they must not start a second identical check.
        let checked = progress::fingerprint(workshop, step)?;
        let done = learner::check(workshop, step, CheckOptions::default())?;
        if done && fixed_step.is_none() {
            let progress = Progress::load(workshop);
            if learner::current_step(workshop, &progress)?.is_none() {
                println!(
                    "{}",
                    paint(PASS, "Every step passes. Nothing left to watch.")
                );
                return Ok(());
            }
        }
        println!(
            "\n{}",
            paint(
                DIM,
                "Watching for saves. Enter: check again · h: hint · q: quit"
            )
        );
        // Wait for a reason to check again; a burst of saves is one check.
        loop {
            match woken.recv() {
                Ok(Wake::Saved) => {
                    if progress::fingerprint(workshop, step)? != checked {
                        break;
                    }
                }
                Ok(Wake::Enter) => break,
                Ok(Wake::Hint) => {
                    let step = learner::chosen_step(workshop, fixed_step)?;
                    learner::hint(workshop, step, false)?;
                }
                Ok(Wake::Quit) | Err(_) => return Ok(()),
            }
        }
        while woken.try_recv().is_ok() {}
    }
}
