//! The learner's keys while `watch` waits: `h` for a hint, `q` to quit, Enter to
//! check again, each acting at once, without Enter after it.
//!
//! A key acts at once only in raw mode, where the terminal hands over each key
//! as it is typed. Raw mode also stops turning `\n` into a new line at the left
//! margin, so it is on only while watch waits, never while a check prints; a
//! guard turns it off again, on every way out, a panic included. Without a
//! terminal (stdin from a pipe, an editor's task runner) there are no single
//! keys: lines are read instead, and `h`, `q` or an empty line then need Enter.

use std::io::{BufRead, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use anyhow::{Context, Result};
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Recheck,
    Hint,
    Quit,
}

/// Where keys come from.
pub enum Keys {
    /// A terminal: single keys, read in raw mode.
    Terminal,
    /// Anything else: one line at a time, read on a thread.
    Lines(mpsc::Receiver<Key>),
}

impl Keys {
    /// Single keys when stdin is a terminal that accepts raw mode, lines
    /// otherwise.
    pub fn new() -> Self {
        if std::io::stdin().is_terminal() && RawMode::on().is_ok() {
            return Keys::Terminal;
        }
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let key = match line.trim() {
                    "q" | "quit" | "exit" => Key::Quit,
                    "h" | "hint" => Key::Hint,
                    _ => Key::Recheck,
                };
                if send.send(key).is_err() || key == Key::Quit {
                    break;
                }
            }
        });
        Keys::Lines(receive)
    }

    /// Whether keys act without Enter.
    pub fn single(&self) -> bool {
        matches!(self, Keys::Terminal)
    }

    /// Puts the terminal in raw mode until the guard is dropped (nothing happens
    /// without a terminal).
    pub fn raw_mode(&self) -> Result<Option<RawMode>> {
        match self {
            Keys::Terminal => RawMode::on().map(Some),
            Keys::Lines(_) => Ok(None),
        }
    }

    /// The next key, if one comes within `timeout`. Call it inside
    /// [`Keys::raw_mode`] for single keys.
    pub fn next(&self, timeout: Duration) -> Result<Option<Key>> {
        match self {
            Keys::Terminal => {
                if !event::poll(timeout).context("cannot read the keyboard")? {
                    return Ok(None);
                }
                let Event::Key(key) = event::read().context("cannot read the keyboard")? else {
                    return Ok(None);
                };
                // Windows reports releases too; a key acts once, when pressed.
                if key.kind != KeyEventKind::Press {
                    return Ok(None);
                }
                // Raw mode turns Ctrl-C into a key instead of a signal, so it
                // must still quit.
                let control = key.modifiers.contains(KeyModifiers::CONTROL);
                Ok(match key.code {
                    KeyCode::Char('c' | 'd') if control => Some(Key::Quit),
                    KeyCode::Char('q' | 'Q') | KeyCode::Esc => Some(Key::Quit),
                    KeyCode::Char('h' | 'H') => Some(Key::Hint),
                    KeyCode::Enter | KeyCode::Char(' ') => Some(Key::Recheck),
                    _ => None,
                })
            }
            Keys::Lines(lines) => match lines.recv_timeout(timeout) {
                Ok(key) => Ok(Some(key)),
                Err(RecvTimeoutError::Timeout) => Ok(None),
                // At the end of stdin there are no more keys, but saves still
                // count: wait as if nobody typed.
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(timeout);
                    Ok(None)
                }
            },
        }
    }
}

/// Whether a [`RawMode`] guard is alive, for [`restore_terminal`].
static RAW: AtomicBool = AtomicBool::new(false);

/// Raw mode, on for as long as this lives.
pub struct RawMode(());

impl RawMode {
    fn on() -> Result<Self> {
        terminal::enable_raw_mode().context("cannot put the terminal in raw mode")?;
        RAW.store(true, Ordering::SeqCst);
        Ok(RawMode(()))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Leaves raw mode if watch is in it. The guard does this on every normal way
/// out and on a panic; the runner's signal handler (SIGTERM, a closed terminal)
/// exits without unwinding, so it calls this itself.
pub fn restore_terminal() {
    if RAW.swap(false, Ordering::SeqCst) {
        // Nothing better to do if this fails; the shell usually repairs it.
        let _ = terminal::disable_raw_mode();
    }
}
