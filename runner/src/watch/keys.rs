//! The learner's keys while `watch` waits: `h` for a hint, `q` to quit, Enter to
//! check again, each acting at once, without Enter after it.
//!
//! A key acts at once only in raw mode, where the terminal hands over each key
//! as it is typed. Raw mode also stops turning `\n` into a new line at the left
//! margin, so it is on only while watch waits, never while a check prints; a
//! guard turns it off again, on every way out, a panic included. Without a
//! terminal (stdin from a pipe, an editor's task runner) there are no single
//! keys: lines are read instead, and `h`, `q` or an empty line then need Enter.
//!
//! While a check runs, `q` stops it and ends watch at once: a test in an endless
//! loop would otherwise keep watch deaf until the time limit. In a terminal the
//! key is read without Enter there too, with the terminal's input made
//! unbuffered (on Unix) but its output left as it is, for the check's report.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;
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
                if key == Key::Quit && CHECKING.load(Ordering::SeqCst) {
                    stop_check_and_quit();
                }
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

    /// Lets `q` stop the check that runs while the guard lives, and end watch.
    pub fn during_check(&self) -> CheckKeys {
        CHECKING.store(true, Ordering::SeqCst);
        let listener = match self {
            // The thread that reads lines sees CHECKING itself.
            Keys::Lines(_) => None,
            Keys::Terminal => {
                let stop = Arc::new(AtomicBool::new(false));
                let stopped = Arc::clone(&stop);
                let thread = std::thread::spawn(move || {
                    let _unbuffered = Unbuffered::on();
                    while !stopped.load(Ordering::SeqCst) {
                        if Self::Terminal
                            .next(Duration::from_millis(100))
                            .ok()
                            .flatten()
                            == Some(Key::Quit)
                        {
                            stop_check_and_quit();
                        }
                    }
                });
                Some((stop, thread))
            }
        };
        CheckKeys { listener }
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

/// Whether a check runs now, for the thread that reads lines.
static CHECKING: AtomicBool = AtomicBool::new(false);

/// Keys read while a check runs; dropping it stops reading them.
pub struct CheckKeys {
    listener: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Drop for CheckKeys {
    fn drop(&mut self) {
        CHECKING.store(false, Ordering::SeqCst);
        if let Some((stop, thread)) = self.listener.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
    }
}

/// `q` during a check: stops cargo and its test binaries, says so, and ends the
/// runner. It holds stdout to the end, so the report of the stopped run, which
/// would only say that the tests were killed, never prints.
fn stop_check_and_quit() -> ! {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    crate::testrun::stop_all();
    restore_terminal();
    let _ = writeln!(out, "\nStopped the check; watch ends.");
    let _ = out.flush();
    std::process::exit(0);
}

/// The terminal's input unbuffered and not echoed (each key arrives as typed),
/// its output untouched, and Ctrl-C still a signal: what a check needs to hear
/// `q` while it prints. Only on Unix; elsewhere keys are read as they come.
struct Unbuffered(());

#[cfg(unix)]
static SAVED_TERMINAL: std::sync::Mutex<Option<libc::termios>> = std::sync::Mutex::new(None);

impl Unbuffered {
    fn on() -> Self {
        #[cfg(unix)]
        {
            // SAFETY: tcgetattr and tcsetattr only read and write the termios
            // given, for stdin, which is a terminal here.
            unsafe {
                let mut settings: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(libc::STDIN_FILENO, &mut settings) == 0 {
                    let saved = settings;
                    settings.c_lflag &= !(libc::ICANON | libc::ECHO);
                    settings.c_cc[libc::VMIN] = 1;
                    settings.c_cc[libc::VTIME] = 0;
                    if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &settings) == 0
                        && let Ok(mut slot) = SAVED_TERMINAL.lock()
                    {
                        *slot = Some(saved);
                    }
                }
            }
        }
        Unbuffered(())
    }
}

impl Drop for Unbuffered {
    fn drop(&mut self) {
        restore_input();
    }
}

/// Puts back the terminal's input as [`Unbuffered`] found it.
fn restore_input() {
    #[cfg(unix)]
    if let Ok(mut slot) = SAVED_TERMINAL.lock()
        && let Some(saved) = slot.take()
    {
        // SAFETY: writes back settings tcgetattr returned for the same fd.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved);
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
    restore_input();
    if RAW.swap(false, Ordering::SeqCst) {
        // Nothing better to do if this fails; the shell usually repairs it.
        let _ = terminal::disable_raw_mode();
    }
}
