//! Real `nats-server` processes for the tests, the demo and the benchmark:
//! one server, or a cluster of three on loopback (given code).
//!
//! Each server gets a free loopback port and a fresh store folder, and is
//! stopped by its own process id when its handle is dropped, a panicking test
//! included. Nothing here looks for other servers or stops them.

use std::collections::BTreeSet;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a started server may take to accept connections.
const READY_WITHIN: Duration = Duration::from_secs(10);

// ANCHOR: server_error
/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The one line a learner without the server sees.
    #[error(
        "nats-server is not installed (step 15 runs a real NATS server): \
         Debian/Ubuntu `sudo apt-get install nats-server`, macOS `brew install \
         nats-server`, Windows `scoop install nats-server`, or put the release \
         binary from https://github.com/nats-io/nats-server/releases on your \
         PATH or name it in the NATS_SERVER environment variable"
    )]
    NotInstalled,
    #[error("nats-server at {program} could not be started")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("a folder for the server's store or log could not be made")]
    Store {
        #[source]
        source: io::Error,
    },
    #[error("no free loopback port could be found")]
    Port {
        #[source]
        source: io::Error,
    },
    #[error(
        "nats-server {name} did not accept connections on port {port} within \
         {READY_WITHIN:?}; its log is {log}"
    )]
    NotReady {
        name: String,
        port: u16,
        log: String,
    },
}
// ANCHOR_END: server_error

/// The `nats-server` program: `NATS_SERVER` if set, else the first one on the
/// `PATH`, else Debian's place for it (`/usr/sbin` is not on every user's
/// `PATH`).
pub fn program() -> Result<PathBuf, ServerError> {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let name = if cfg!(windows) {
        "nats-server.exe"
    } else {
        "nats-server"
    };
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or(ServerError::NotInstalled)
}

/// A loopback port nothing listens on right now, and that this process has
/// not handed out before (tests start servers in parallel threads).
pub fn free_port() -> Result<u16, ServerError> {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed_out =
        HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
    // Held until a new port is found, so the system cannot offer the same
    // one twice in a row.
    let mut held = Vec::new();
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|source| ServerError::Port { source })?;
        let port = listener
            .local_addr()
            .map_err(|source| ServerError::Port { source })?
            .port();
        if handed_out.insert(port) {
            return Ok(port);
        }
        held.push(listener);
    }
}

// ANCHOR: node
/// One `nats-server` process with JetStream, its port and its store. Dropping
/// it kills the process.
pub struct NatsServer {
    name: String,
    port: u16,
    store: PathBuf,
    /// The program to run: `None` looks for it (see [`program`]).
    program: Option<PathBuf>,
    /// The command line after the program, to start it again the same way.
    args: Vec<String>,
    child: Option<Child>,
    /// Owns the store when the server made its own; `None` in a cluster,
    /// whose folder outlives each node.
    _own_dir: Option<tempfile::TempDir>,
}
// ANCHOR_END: node

impl NatsServer {
    /// Starts a single server with JetStream on a free loopback port, with a
    /// fresh store that is deleted when the handle is dropped.
    pub fn start() -> Result<NatsServer, ServerError> {
        NatsServer::start_program(None)
    }

    /// Like [`NatsServer::start`], with `program` as the server: how a test
    /// checks what a learner without it sees.
    pub fn start_with(program: &Path) -> Result<NatsServer, ServerError> {
        NatsServer::start_program(Some(program.to_owned()))
    }

    fn start_program(
        program: Option<PathBuf>,
    ) -> Result<NatsServer, ServerError> {
        let dir = tempfile::tempdir()
            .map_err(|source| ServerError::Store { source })?;
        // A port found free may be taken by someone else before the server
        // binds it; then the server exits, and another port is tried.
        let mut attempts = 0;
        loop {
            let port = free_port()?;
            let mut server =
                NatsServer::configure("single", port, dir.path(), Vec::new());
            server.program.clone_from(&program);
            match server.spawn() {
                Ok(()) => {
                    server._own_dir = Some(dir);
                    return Ok(server);
                }
                Err(ServerError::NotReady { .. }) if attempts < 3 => {
                    attempts += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// A server named `name` on `port` with its store in `dir`, not started;
    /// `extra` are more arguments (a cluster's).
    fn configure(
        name: &str,
        port: u16,
        dir: &Path,
        extra: Vec<String>,
    ) -> NatsServer {
        let store = dir.join(name);
        let mut args = vec![
            "-js".to_owned(),
            "-a".to_owned(),
            "127.0.0.1".to_owned(),
            "-p".to_owned(),
            port.to_string(),
            "-sd".to_owned(),
            store.display().to_string(),
            "--server_name".to_owned(),
            name.to_owned(),
        ];
        args.extend(extra);
        NatsServer {
            name: name.to_owned(),
            port,
            store,
            program: None,
            args,
            child: None,
            _own_dir: None,
        }
    }

    /// Starts the process and waits until it says it is ready.
    fn spawn(&mut self) -> Result<(), ServerError> {
        let program = match &self.program {
            Some(program) => program.clone(),
            None => program()?,
        };
        std::fs::create_dir_all(&self.store)
            .map_err(|source| ServerError::Store { source })?;
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|source| ServerError::Store { source })?;
        // Only what this start writes counts: a restart appends to the log.
        let log_start = log
            .metadata()
            .map_err(|source| ServerError::Store { source })?
            .len();
        let log_err = log
            .try_clone()
            .map_err(|source| ServerError::Store { source })?;
        let child = Command::new(&program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|source| match source.kind() {
                io::ErrorKind::NotFound => ServerError::NotInstalled,
                _ => ServerError::Spawn {
                    program: program.display().to_string(),
                    source,
                },
            })?;
        self.child = Some(child);
        self.wait_ready(log_start)
    }

    /// Waits for this process's "Server is ready" line. A port that only
    /// accepts connections is not enough: it may be another server's, and
    /// ours may have exited because the port was taken.
    fn wait_ready(&mut self, log_start: u64) -> Result<(), ServerError> {
        let not_ready = |server: &NatsServer| ServerError::NotReady {
            name: server.name.clone(),
            port: server.port,
            log: server.log_path().display().to_string(),
        };
        let started = Instant::now();
        while started.elapsed() < READY_WITHIN {
            let exited = match self.child.as_mut() {
                Some(child) => !matches!(child.try_wait(), Ok(None)),
                None => true,
            };
            if exited {
                self.child = None;
                return Err(not_ready(self));
            }
            let log = std::fs::read(self.log_path()).unwrap_or_default();
            let start = usize::try_from(log_start).unwrap_or(usize::MAX);
            let this_start = log.get(start..).unwrap_or_default();
            if String::from_utf8_lossy(this_start).contains("Server is ready") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
        Err(not_ready(self))
    }

    /// The server's own output, kept next to its store.
    pub fn log_path(&self) -> PathBuf {
        self.store.with_extension("log")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address a client connects to.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    // ANCHOR: kill
    /// Kills the process with SIGKILL (on Unix; `TerminateProcess` on
    /// Windows), as a power cut or the kernel's OOM killer would: no
    /// shutdown, no flush. Only this process: it is found by its own id.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // An error means it already exited; either way it is gone once
            // `wait` returns.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    // ANCHOR_END: kill

    /// Starts the killed server again, on the same port and the same store.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.kill();
        self.spawn()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

// ANCHOR: cluster
/// Three JetStream servers on loopback, each with its own client port,
/// cluster port and store, with routes to one another: a cluster that can
/// lose one node and keep a quorum of two.
pub struct NatsCluster {
    nodes: Vec<NatsServer>,
    _dir: tempfile::TempDir,
}
// ANCHOR_END: cluster

impl NatsCluster {
    /// Starts the three nodes `n1`, `n2` and `n3` of cluster `C1`.
    pub fn start() -> Result<NatsCluster, ServerError> {
        let dir = tempfile::tempdir()
            .map_err(|source| ServerError::Store { source })?;
        let client_ports = [free_port()?, free_port()?, free_port()?];
        let route_ports = [free_port()?, free_port()?, free_port()?];
        let routes = route_ports
            .iter()
            .map(|port| format!("nats://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut nodes = Vec::new();
        for (index, (client, route)) in
            client_ports.iter().zip(route_ports).enumerate()
        {
            let extra = vec![
                "--cluster_name".to_owned(),
                "C1".to_owned(),
                "--cluster".to_owned(),
                format!("nats://127.0.0.1:{route}"),
                "--routes".to_owned(),
                routes.clone(),
            ];
            let name = format!("n{}", index + 1);
            nodes.push(NatsServer::configure(
                &name,
                *client,
                dir.path(),
                extra,
            ));
        }
        // Started one after another; each waits only for its own port, the
        // cluster forms in the background (well under a second on loopback).
        for node in &mut nodes {
            node.spawn()?;
        }
        Ok(NatsCluster { nodes, _dir: dir })
    }

    /// Every node's address, for a client that may connect to any of them
    /// and move to another when one dies.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn nodes(&self) -> &[NatsServer] {
        &self.nodes
    }

    /// The node called `name` (`n1`, `n2`, `n3`), to kill or restart.
    pub fn node_mut(&mut self, name: &str) -> Option<&mut NatsServer> {
        self.nodes.iter_mut().find(|node| node.name == name)
    }
}
