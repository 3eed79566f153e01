//! A real Kafka-protocol broker for the tests, the benchmark and the demos:
//! `tansu`, with its log in SQLite, one process per test (given code).
//!
//! Each broker gets a free loopback port and a fresh folder for its store,
//! and is stopped by its own process id when its handle is dropped, a
//! panicking test included. Nothing here looks for other brokers or stops
//! them.

use std::io;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use solution15_bridge::server::free_port;

/// How long a started broker may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// How long a killed broker's port may take to be free again.
const PORT_FREE_WITHIN: Duration = Duration::from_secs(5);
/// The broker's store, in its working directory.
const STORE: &str = "tansu.db";
/// The line tansu prints once it serves (after "listening on", which a
/// broker that lost the race for its port prints too, before it dies).
const READY_LINE: &str = "ready in";

// ANCHOR: broker_error
/// Why a broker could not be started, or a topic not created.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The one line a learner without the broker sees.
    #[error(
        "tansu is not installed (step 16 runs a real Kafka-protocol broker): \
         `cargo install tansu --version 0.6.0 --locked --features libsql` \
         (about 10 minutes on 2 cores), or name the program in the TANSU \
         environment variable"
    )]
    NotInstalled,
    #[error("tansu at {program} could not be started")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("a folder for the broker's store or log could not be made")]
    Store {
        #[source]
        source: io::Error,
    },
    #[error("no free loopback port could be found")]
    Port {
        #[source]
        source: solution15_bridge::ServerError,
    },
    #[error(
        "tansu did not get ready on port {port} within {READY_WITHIN:?}; its \
         log is {log}"
    )]
    NotReady { port: u16, log: String },
    #[error(
        "the port {port} of the killed broker was still taken after \
         {PORT_FREE_WITHIN:?}"
    )]
    PortBusy { port: u16 },
    #[error("tansu could not create the topic {topic}: {output}")]
    Topic { topic: String, output: String },
}
// ANCHOR_END: broker_error

/// The `tansu` program: `TANSU` if set, else the first one on the `PATH`,
/// else where `cargo install` puts it (`~/.cargo/bin` is not on every
/// user's `PATH`).
pub fn program() -> Result<PathBuf, BrokerError> {
    if let Some(path) = std::env::var_os("TANSU") {
        return Ok(PathBuf::from(path));
    }
    let name = if cfg!(windows) { "tansu.exe" } else { "tansu" };
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_home =
        std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .map(|home| Path::new(&home).join(".cargo"))
            });
    on_path
        .into_iter()
        .chain(cargo_home.map(|home| home.join("bin")))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or(BrokerError::NotInstalled)
}

// ANCHOR: tansu_broker
/// One `tansu broker` process on loopback with its SQLite store in a
/// folder of its own. Dropping it kills the process and deletes the store.
pub struct TansuBroker {
    port: u16,
    /// The program to run: `None` looks for it (see [`program`]).
    program: Option<PathBuf>,
    /// The broker's own process, not a wrapper's: its id is what `kill`
    /// kills.
    child: Option<Child>,
    /// Holds the store (`tansu.db`, relative to the working directory) and
    /// the broker's output (`tansu.log`).
    dir: tempfile::TempDir,
}
// ANCHOR_END: tansu_broker

impl TansuBroker {
    /// Starts a broker on a free loopback port with a fresh store.
    pub fn start() -> Result<TansuBroker, BrokerError> {
        TansuBroker::start_program(None)
    }

    /// Like [`TansuBroker::start`], with `program` as the broker: how a test
    /// checks what a learner without it sees.
    pub fn start_with(program: &Path) -> Result<TansuBroker, BrokerError> {
        TansuBroker::start_program(Some(program.to_owned()))
    }

    fn start_program(
        program: Option<PathBuf>,
    ) -> Result<TansuBroker, BrokerError> {
        let dir = tempfile::tempdir()
            .map_err(|source| BrokerError::Store { source })?;
        let mut broker = TansuBroker {
            port: 0,
            program,
            child: None,
            dir,
        };
        // A port found free may be taken by someone else before the broker
        // binds it; then the broker dies, and another port is tried.
        let mut attempts = 0;
        loop {
            broker.port =
                free_port().map_err(|source| BrokerError::Port { source })?;
            match broker.spawn() {
                Ok(()) => return Ok(broker),
                Err(BrokerError::NotReady { .. }) if attempts < 3 => {
                    attempts += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Starts the process and waits until it serves.
    fn spawn(&mut self) -> Result<(), BrokerError> {
        let program = match &self.program {
            Some(program) => program.clone(),
            None => program()?,
        };
        if !self.dir.path().join(STORE).exists() {
            seed_store(&program, self.dir.path())?;
        }
        self.spawn_process(&program)
    }

    /// Starts `program` on the store as it is, and waits until it serves.
    fn spawn_process(&mut self, program: &Path) -> Result<(), BrokerError> {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|source| BrokerError::Store { source })?;
        // Only what this start writes counts: a restart appends to the log.
        let log_start = log
            .metadata()
            .map_err(|source| BrokerError::Store { source })?
            .len();
        let log_err = log
            .try_clone()
            .map_err(|source| BrokerError::Store { source })?;
        let listener = format!("tcp://127.0.0.1:{}", self.port);
        let child = Command::new(program)
            .args(["broker", "--listener-url", &listener])
            .args(["--advertised-listener-url", &listener])
            .arg("--storage-engine")
            .arg(format!("sqlite://{STORE}"))
            // The store's path is relative to the working directory.
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|source| match source.kind() {
                io::ErrorKind::NotFound => BrokerError::NotInstalled,
                _ => BrokerError::Spawn {
                    program: program.display().to_string(),
                    source,
                },
            })?;
        self.child = Some(child);
        self.wait_ready(log_start)
    }

    /// Waits until this process says it is ready, still runs, and accepts a
    /// connection. A port that only accepts connections is not enough: it
    /// may be another broker's, and ours may be dying because the port was
    /// taken (it prints "listening on" before it finds out).
    fn wait_ready(&mut self, log_start: u64) -> Result<(), BrokerError> {
        let started = Instant::now();
        while started.elapsed() < READY_WITHIN {
            if !self.is_running() {
                self.child = None;
                return Err(self.not_ready());
            }
            let log = std::fs::read(self.log_path()).unwrap_or_default();
            let start = usize::try_from(log_start).unwrap_or(usize::MAX);
            let this_start = log.get(start..).unwrap_or_default();
            let said_ready =
                String::from_utf8_lossy(this_start).contains(READY_LINE);
            if said_ready
                && TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok()
                && self.is_running()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.stop();
        Err(self.not_ready())
    }

    fn not_ready(&self) -> BrokerError {
        BrokerError::NotReady {
            port: self.port,
            log: self.log_path().display().to_string(),
        }
    }

    /// The broker's own output, next to its store.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("tansu.log")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address a client bootstraps from: `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Whether the broker's process is alive.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    // ANCHOR: kill
    /// Kills the broker with SIGKILL (on Unix; `TerminateProcess` on
    /// Windows), as a power cut or the kernel's OOM killer would: no
    /// shutdown, no flush. Returns once the process is reaped and its port
    /// is free, so that a restart can bind it.
    pub fn kill(&mut self) -> Result<(), BrokerError> {
        self.stop();
        let started = Instant::now();
        while TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            if started.elapsed() > PORT_FREE_WITHIN {
                return Err(BrokerError::PortBusy { port: self.port });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }
    // ANCHOR_END: kill

    /// Kills and reaps the process, if it runs.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // An error means it already exited; either way it is gone once
            // `wait` returns.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same port and the same store.
    pub fn restart(&mut self) -> Result<(), BrokerError> {
        self.kill()?;
        self.spawn()
    }

    /// Creates `topic` with `partitions` partitions, with tansu's own
    /// command line (the tests create theirs through the client's admin API,
    /// see `harness`).
    pub fn create_topic(
        &self,
        topic: &str,
        partitions: u32,
    ) -> Result<(), BrokerError> {
        let program = match &self.program {
            Some(program) => program.clone(),
            None => program()?,
        };
        let output = Command::new(&program)
            .args(["topic", "create", "--broker"])
            .arg(format!("tcp://{}", self.address()))
            .args(["--partitions", &partitions.to_string(), topic])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| BrokerError::Spawn {
                program: program.display().to_string(),
                source,
            })?;
        if output.status.success() {
            return Ok(());
        }
        let mut said = String::from_utf8_lossy(&output.stdout).into_owned();
        said.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(BrokerError::Topic {
            topic: topic.to_owned(),
            output: said.trim().to_owned(),
        })
    }
}

impl Drop for TansuBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Copies an empty store, made once per version of tansu and kept in the
/// system's temporary folder, into `dir`: a broker on a fresh SQLite file
/// spends about 0.3 s creating its tables on a busy laptop, and 0.03 s when
/// they are there. The first broker makes the copy (it starts one broker
/// in a folder of its own and kills it once ready); a concurrent first
/// broker that loses the race uses the other's.
fn seed_store(program: &Path, dir: &Path) -> Result<(), BrokerError> {
    let store_error = |source| BrokerError::Store { source };
    let template = template_dir(program);
    if !template.join(STORE).exists() {
        let building = tempfile::Builder::new()
            .prefix("workshop-tansu-building")
            .tempdir()
            .map_err(store_error)?;
        let mut builder = TansuBroker {
            port: free_port().map_err(|source| BrokerError::Port { source })?,
            program: Some(program.to_owned()),
            child: None,
            dir: building,
        };
        builder.spawn_process(program)?;
        builder.stop();
        let built = builder.dir.path().to_owned();
        // Whoever renames first wins; the loser's folder is deleted.
        let _ = std::fs::rename(&built, &template);
    }
    for name in [STORE.to_owned(), format!("{STORE}-wal")] {
        let from = template.join(&name);
        if from.exists() {
            std::fs::copy(&from, dir.join(&name)).map_err(store_error)?;
        }
    }
    Ok(())
}

/// Where the empty store of this `tansu` program is kept: named by the
/// program's size and modification time, so that another version makes its
/// own.
fn template_dir(program: &Path) -> PathBuf {
    let stamp = std::fs::metadata(program)
        .map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |since| since.as_secs());
            format!("{}-{modified}", meta.len())
        })
        .unwrap_or_else(|_| "unknown".to_owned());
    std::env::temp_dir().join(format!("workshop-tansu-store-{stamp}"))
}
