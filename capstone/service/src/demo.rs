//! `capstone demo`: a live dashboard over `capstone serve`, which it runs as
//! a child process, with keys (or a script) that inject faults.
//!
//! The dashboard knows the service only from the outside: the status file it
//! writes, the control file it reads, the two SQLite databases (opened
//! read-only), the segment files of the topic, and the process itself, which
//! a crash kills for real (SIGKILL) before it is started again from disk.

use std::fs::OpenOptions;
use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEventKind};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};
use ratatui::{DefaultTerminal, Frame};
use solution14_capstone::TOPIC_DIR;

use crate::invariants::{Check, Checker, Verdict};
use crate::serve::CONTROL_FILE;
use crate::status::Status;

/// What `capstone demo` was asked to do.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub data: PathBuf,
    /// Play the fixed scenario instead of waiting for keys.
    pub script: bool,
    /// Multiplies the scenario's times (0.5: twice as fast).
    pub pace: f64,
    /// Print lines instead of drawing the dashboard.
    pub plain: bool,
    /// Arguments passed on to `capstone serve`.
    pub serve_args: Vec<String>,
}

/// A fault, from a key or from the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Crash,
    TornWrite,
    SlowToggle,
    Duplicates,
    Transient,
    Poison,
    Quit,
}

impl Action {
    fn from_key(key: char) -> Option<Action> {
        Some(match key {
            'c' => Action::Crash,
            'w' => Action::TornWrite,
            's' => Action::SlowToggle,
            'd' => Action::Duplicates,
            't' => Action::Transient,
            'p' => Action::Poison,
            'q' => Action::Quit,
            _ => return None,
        })
    }
}

/// The scenario of `--script`: seconds from the start, and what happens.
const SCRIPT: &[(f64, Action)] = &[
    (4.0, Action::Duplicates),
    (7.0, Action::Transient),
    (10.0, Action::Poison),
    (13.0, Action::Crash),
    (18.0, Action::TornWrite),
    (23.0, Action::SlowToggle),
    (30.0, Action::SlowToggle),
    (35.0, Action::Quit),
];

/// How the demo ended.
pub struct Outcome {
    /// Every invariant held at every look, and the service closed cleanly.
    pub all_green: bool,
}

struct Demo {
    options: DemoOptions,
    exe: PathBuf,
    child: Option<Child>,
    started: Instant,
    checker: Checker,
    checks: Vec<Check>,
    status: Option<Status>,
    /// Records taken by each partition's handler at the last look, for
    /// records/s.
    last_committed: Vec<(Instant, u64)>,
    rates: Vec<f64>,
    /// Requests the load generator got into its buffer at the last look,
    /// for requests/s.
    last_sent: (Instant, u64),
    sent_rate: f64,
    events: Vec<String>,
    slow: bool,
    crashes: u32,
    quitting: bool,
    exit_code: Option<i32>,
}

/// Runs the demo until `q`, the end of the script, or the service's exit.
pub fn run(options: DemoOptions) -> io::Result<Outcome> {
    std::fs::create_dir_all(&options.data)?;
    let plain = options.plain || !io::stdout().is_terminal();
    let mut demo = Demo {
        exe: std::env::current_exe()?,
        options,
        child: None,
        started: Instant::now(),
        checker: Checker::default(),
        checks: Vec::new(),
        status: None,
        last_committed: Vec::new(),
        rates: Vec::new(),
        last_sent: (Instant::now(), 0),
        sent_rate: 0.0,
        events: Vec::new(),
        slow: false,
        crashes: 0,
        quitting: false,
        exit_code: None,
    };
    demo.start_service()?;
    let result = if plain {
        demo.run_plain()
    } else {
        let mut terminal = ratatui::init();
        let result = demo.run_terminal(&mut terminal);
        ratatui::restore();
        result
    };
    // Whatever happened above, the child does not outlive the dashboard.
    if let Some(mut child) = demo.child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
    result?;
    let closed = demo.status.as_ref().is_some_and(|s| s.state == "closed");
    let all_green = demo.checker.ever_broken.is_empty()
        && closed
        && demo.exit_code == Some(0)
        && demo.checks.iter().all(|c| c.verdict == Verdict::Holds);
    let summary = format!(
        "demo over: service {} (exit code {}), invariants {}",
        if closed {
            "closed cleanly"
        } else {
            "did not close"
        },
        demo.exit_code.map_or("none".to_owned(), |c| c.to_string()),
        if all_green {
            "all held".to_owned()
        } else {
            format!("BROKEN: {:?}", demo.checker.ever_broken)
        }
    );
    println!("{summary}");
    Ok(Outcome { all_green })
}

impl Demo {
    fn log(&mut self, text: impl Into<String>) {
        let elapsed = self.started.elapsed().as_secs();
        let line = format!("{:02}:{:02} {}", elapsed / 60, elapsed % 60, text.into());
        if self.options.plain || !io::stdout().is_terminal() {
            println!("{line}");
        }
        self.events.push(line);
    }

    fn start_service(&mut self) -> io::Result<()> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.options.data.join("service.log"))?;
        let child = Command::new(&self.exe)
            .arg("serve")
            .arg("--data")
            .arg(&self.options.data)
            .args(&self.options.serve_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.log(format!("service started (pid {})", child.id()));
        self.child = Some(child);
        // Commands written before this start are not replayed by it.
        self.slow = false;
        Ok(())
    }

    /// SIGKILL: the process stops between two instructions, no shutdown.
    fn kill_service(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            let pid = child.id();
            child.kill()?;
            child.wait()?;
            self.log(format!("kill -9 {pid}: the service died mid-work"));
        }
        Ok(())
    }

    fn control(&mut self, command: &str) -> io::Result<()> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.options.data.join(CONTROL_FILE))?;
        writeln!(file, "{command}")
    }

    fn act(&mut self, action: Action) -> io::Result<()> {
        if self.quitting {
            return Ok(());
        }
        if self.act_on_jetstream(action)? {
            return Ok(());
        }
        match action {
            Action::Crash => {
                self.crashes += 1;
                self.kill_service()?;
                self.start_service()?;
                self.log("restarted from disk: resumes at the committed offsets");
            }
            Action::TornWrite => {
                self.kill_service()?;
                match tear_tail(&self.options.data) {
                    Ok(file) => {
                        let file = file
                            .strip_prefix(&self.options.data)
                            .unwrap_or(&file)
                            .display()
                            .to_string();
                        self.log(format!("torn write: half a record at the end of {file}"));
                    }
                    Err(error) => self.log(format!("torn write failed: {error}")),
                }
                self.start_service()?;
                self.log("restarted: recovery cuts the torn tail off");
            }
            Action::SlowToggle => {
                self.slow = !self.slow;
                let ms = if self.slow { 50 } else { 0 };
                self.control(&format!("slow {ms}"))?;
                self.log(if self.slow {
                    "handler slowed to 50 ms per event: watch the lag, then the buffer"
                } else {
                    "handler at full speed again: the lag drains"
                });
            }
            Action::Duplicates => {
                self.control("duplicates 20")?;
                self.log("20 duplicate deliveries: the dedupe absorbs them");
            }
            Action::Transient => {
                self.control("transient 10")?;
                self.log("10 transient database errors: retried with backoff");
            }
            Action::Poison => {
                self.control("poison 1")?;
                self.log("a poison pill: never retried, dead-lettered");
            }
            Action::Quit => {
                self.quitting = true;
                if let Some(child) = &self.child {
                    let pid = child.id();
                    // SIGTERM: the graceful shutdown. The pid is our own
                    // child's, still unreaped, so it is no other process.
                    let pid = libc::pid_t::try_from(pid).unwrap_or(0);
                    if pid > 0 {
                        // SAFETY: kill(2) with a valid signal number has no
                        // memory effects in this process.
                        unsafe {
                            libc::kill(pid, libc::SIGTERM);
                        }
                    }
                }
                self.log("SIGTERM: stop intake, drain, commit, flush, close");
            }
        }
        Ok(())
    }

    // --bus jetstream (bus14) ------------------------------------------
    /// The keys whose meaning differs on JetStream; `true` if `action` was
    /// one of them.
    fn act_on_jetstream(&mut self, action: Action) -> io::Result<bool> {
        if !self.options.serve_args.iter().any(|arg| arg == "jetstream") {
            return Ok(false);
        }
        match action {
            Action::Crash => {
                self.crashes += 1;
                self.kill_service()?;
                self.start_service()?;
                self.log("restarted: the server redelivers what was not acked, after 5 s");
            }
            Action::TornWrite => {
                self.log("torn write: not on JetStream (the server owns its files); nothing done");
            }
            Action::Duplicates => {
                self.control("duplicates 20")?;
                self.log("20 events published twice: the server drops the repeats by Nats-Msg-Id");
            }
            Action::Poison => {
                self.control("poison 1")?;
                self.log("a poison pill: terminated at once, kept in the dead-letter stream");
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
    // --bus jetstream end ---------------------------------------------------

    /// One look at the service: status, invariants, rates; and whether the
    /// child exited.
    fn refresh(&mut self) -> io::Result<bool> {
        if let Some(child) = &mut self.child
            && let Some(exit) = child.try_wait()?
        {
            self.exit_code = exit.code();
            self.child = None;
            self.log(format!("service exited ({exit})"));
        }
        self.status = Status::read(&self.options.data);
        self.checks = self.checker.check(&self.options.data, self.status.as_ref());
        let now = Instant::now();
        if let Some(status) = &self.status {
            let (then, before) = self.last_sent;
            let seconds = now.duration_since(then).as_secs_f64();
            if seconds >= 1.0 {
                let sent = status.counter("sent");
                // A restarted service counts from zero again.
                self.sent_rate = sent.saturating_sub(before) as f64 / seconds;
                self.last_sent = (now, sent);
            }
            self.rates.resize(status.partitions.len(), 0.0);
            self.last_committed
                .resize(status.partitions.len(), (now, 0));
            for (n, partition) in status.partitions.iter().enumerate() {
                let (then, before) = self.last_committed[n];
                let seconds = now.duration_since(then).as_secs_f64();
                if seconds >= 1.0 {
                    // Records handed to the handler, committed or not yet:
                    // a slow round shows its pace before it commits.
                    let taken = partition.committed + partition.in_flight;
                    let moved = taken.saturating_sub(before);
                    self.rates[n] = moved as f64 / seconds;
                    self.last_committed[n] = (now, taken);
                }
            }
        }
        Ok(self.child.is_none() && (self.quitting || self.exit_code.is_some()))
    }

    fn script_due(&self, next: usize) -> Option<Action> {
        let (at, action) = SCRIPT.get(next)?;
        let due = Duration::from_secs_f64(at * self.options.pace);
        (self.started.elapsed() >= due).then_some(*action)
    }

    fn run_plain(&mut self) -> io::Result<()> {
        let mut next = 0;
        let mut last_line = Instant::now();
        loop {
            if self.options.script
                && let Some(action) = self.script_due(next)
            {
                next += 1;
                self.act(action)?;
            }
            if self.refresh()? {
                return Ok(());
            }
            if last_line.elapsed() >= Duration::from_secs(1) {
                last_line = Instant::now();
                println!("{}", self.plain_line());
            }
            if !self.options.script && self.quitting && self.child.is_none() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn run_terminal(&mut self, terminal: &mut DefaultTerminal) -> io::Result<()> {
        let mut next = 0;
        loop {
            if self.options.script
                && let Some(action) = self.script_due(next)
            {
                next += 1;
                self.act(action)?;
            }
            let done = self.refresh()?;
            terminal.draw(|frame| self.draw(frame))?;
            if done {
                // Leave the last screen up a moment so it can be read.
                std::thread::sleep(Duration::from_secs(2));
                return Ok(());
            }
            if event::poll(Duration::from_millis(250))?
                && let Event::Key(key) = event::read()?
                && key.kind == KeyEventKind::Press
                && let KeyCode::Char(c) = key.code
                && let Some(action) = Action::from_key(c)
            {
                self.act(action)?;
            }
        }
    }

    fn plain_line(&self) -> String {
        let elapsed = self.started.elapsed().as_secs();
        let Some(status) = &self.status else {
            return format!("{elapsed:>3}s waiting for the service's status");
        };
        let partitions: Vec<String> = status
            .partitions
            .iter()
            .enumerate()
            .map(|(n, p)| {
                format!(
                    "p{n} end={} com={} lag={}",
                    p.end,
                    p.committed,
                    p.end - p.committed.min(p.end)
                )
            })
            .collect();
        let verdicts: Vec<&str> = self
            .checks
            .iter()
            .map(|check| match check.verdict {
                Verdict::Holds => "ok",
                Verdict::Pending => "..",
                Verdict::Broken => "BROKEN",
            })
            .collect();
        format!(
            "{elapsed:>3}s {} | {} | {} req/s={:.0} waiting={} waits={} \
             handed_back={} | sold={} retries={} dead={} dups={} backlog={} \
             | invariants {}",
            status.state,
            partitions.join(" "),
            status.backpressure,
            self.sent_rate,
            status.counter("waiting"),
            status.counter("buffer_waits"),
            status.counter("handed_back"),
            self.checker.seats_sold,
            status.counter("failures"),
            status.counter("dead_lettered"),
            status.counter("duplicates"),
            status.counter("outbox_backlog"),
            verdicts.join(" "),
        )
    }

    fn draw(&self, frame: &mut Frame) {
        let partitions = self.status.as_ref().map_or(0, |s| s.partitions.len());
        let [top, middle, events, keys] = Layout::vertical([
            Constraint::Length(partitions as u16 + 3),
            Constraint::Length(9),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(frame.area());
        let title_style = Style::new().fg(Color::Cyan).bold();

        let state = match &self.status {
            Some(status) => format!("{} · pid {}", status.state, status.pid),
            None => "starting".to_owned(),
        };
        let elapsed = self.started.elapsed().as_secs();
        let title = format!(
            " Unstoppable Events · {state} · {:02}:{:02} ",
            elapsed / 60,
            elapsed % 60
        );
        let header = Row::new(["part", "log end", "committed", "lag", "in flight", "rec/s"])
            .style(Style::new().bold());
        let rows: Vec<Row> = self
            .status
            .iter()
            .flat_map(|status| status.partitions.iter().enumerate())
            .map(|(n, p)| {
                let lag = p.end.saturating_sub(p.committed);
                let lag_style = if lag > 100 {
                    Style::new().fg(Color::Yellow).bold()
                } else {
                    Style::new()
                };
                Row::new(vec![
                    Span::raw(format!("p{n}")),
                    Span::raw(p.end.to_string()),
                    Span::raw(p.committed.to_string()),
                    Span::styled(lag.to_string(), lag_style),
                    Span::raw(p.in_flight.to_string()),
                    Span::raw(format!("{:.0}", self.rates.get(n).copied().unwrap_or(0.0))),
                ])
            })
            .collect();
        let widths = [
            Constraint::Length(5),
            Constraint::Length(9),
            Constraint::Length(10),
            Constraint::Length(7),
            Constraint::Length(10),
            Constraint::Length(7),
        ];
        frame.render_widget(
            Table::new(rows, widths)
                .header(header)
                .block(Block::bordered().title(Span::styled(title, title_style))),
            top,
        );

        let [service, checks] =
            Layout::horizontal([Constraint::Length(30), Constraint::Min(20)]).areas(middle);
        let counter = |name: &str| {
            self.status
                .as_ref()
                .map_or(0, |status| status.counter(name))
        };
        let slow = if counter("slow_ms") > 0 {
            Span::styled(
                format!("{} ms", counter("slow_ms")),
                Style::new().fg(Color::Yellow).bold(),
            )
        } else {
            Span::raw("off")
        };
        let lines = vec![
            Line::from(format!(
                "seats sold {:>6}  crashes {}",
                self.checker.seats_sold, self.crashes
            )),
            Line::from(format!(
                "sent {:>7}  {:>4.0} req/s",
                counter("sent"),
                self.sent_rate
            )),
            Line::from(format!(
                "retries {:>4}  dead letters {}",
                counter("failures"),
                counter("dead_lettered")
            )),
            Line::from(format!(
                "duplicates {:>4}  torn cut {}",
                counter("duplicates"),
                counter("torn_bytes")
            )),
            Line::from(vec![
                Span::raw(format!("backlog {}  slow ", counter("outbox_backlog"))),
                slow,
            ]),
            Line::from(vec![
                Span::styled(
                    format!(
                        "{:<8}",
                        self.status.as_ref().map_or("", |s| s.backpressure.as_str())
                    ),
                    Style::new().fg(Color::Cyan).bold(),
                ),
                if counter("waiting") > 0 {
                    Span::styled("waiting", Style::new().fg(Color::Yellow).bold())
                } else {
                    Span::raw("not waiting")
                },
            ]),
            Line::from(vec![
                Span::raw(format!("waits {}  handed back ", counter("buffer_waits"))),
                if counter("handed_back") > 0 {
                    Span::styled(
                        counter("handed_back").to_string(),
                        Style::new().fg(Color::Yellow).bold(),
                    )
                } else {
                    Span::raw("0")
                },
            ]),
        ];
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(Span::styled(" service ", title_style))),
            service,
        );
        let check_lines: Vec<Line> = self
            .checks
            .iter()
            .map(|check| {
                let (mark, style) = match check.verdict {
                    Verdict::Holds => ("[ok] ", Style::new().fg(Color::Green).bold()),
                    Verdict::Pending => ("[..] ", Style::new().fg(Color::Yellow).bold()),
                    Verdict::Broken => ("[!!] ", Style::new().fg(Color::Red).bold()),
                };
                Line::from(vec![
                    Span::styled(mark, style),
                    Span::styled(check.name, style),
                    Span::raw(format!(" {}", check.detail)),
                ])
            })
            .collect();
        frame.render_widget(
            Paragraph::new(check_lines)
                .block(Block::bordered().title(Span::styled(" invariants ", title_style))),
            checks,
        );

        let room = usize::from(events.height.saturating_sub(2));
        let recent: Vec<Line> = self
            .events
            .iter()
            .skip(self.events.len().saturating_sub(room))
            .map(|event| Line::from(event.as_str()))
            .collect();
        frame.render_widget(
            Paragraph::new(recent)
                .block(Block::bordered().title(Span::styled(" what happened ", title_style))),
            events,
        );
        let help = if self.options.script {
            " script playing · q quit"
        } else {
            " c crash  w torn write  s slow  d dups  t db errors  p poison  q quit"
        };
        frame.render_widget(Paragraph::new(help).style(Style::new().bold()), keys);
    }
}

/// Appends half a record to the newest segment of the partition with the
/// most records: what a power cut in the middle of a write leaves.
fn tear_tail(data: &Path) -> io::Result<PathBuf> {
    let topic = data.join(TOPIC_DIR);
    let mut newest: Option<(u64, PathBuf)> = None;
    for partition in std::fs::read_dir(&topic)? {
        let partition = partition?.path();
        if !partition.is_dir() {
            continue;
        }
        let mut segments: Vec<PathBuf> = std::fs::read_dir(&partition)?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.is_file())
            .collect();
        segments.sort();
        if let Some(last) = segments.pop() {
            let size = std::fs::metadata(&last)?.len();
            if newest.as_ref().is_none_or(|(biggest, _)| size > *biggest) {
                newest = Some((size, last));
            }
        }
    }
    let Some((_, file)) = newest else {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "the topic has no segment file yet",
        ));
    };
    let mut segment = OpenOptions::new().append(true).open(&file)?;
    // A frame header that promises 200 bytes, and 6 of them: a torn tail.
    segment.write_all(&[0, 0, 0, 200, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6])?;
    segment.sync_all()?;
    Ok(file)
}
