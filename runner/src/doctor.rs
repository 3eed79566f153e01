//! `doctor`: is this machine ready for the workshop, and if not, what to do.

use std::path::Path;
use std::process::Command;

use anstream::println;

use crate::manifest::Workshop;
use crate::testrun::cargo;
use crate::ui::{FAIL, PASS, TITLE, WARN, paint};

/// One line of the report.
enum Finding {
    Ok(String),
    /// Something optional is missing: only some steps or the book need it.
    Optional(String),
    /// The workshop will not work until this is fixed.
    Problem(String),
}

/// Prints the report; returns false when something must be fixed.
pub fn doctor(workshop: &Workshop) -> bool {
    let findings = vec![
        toolchain(workshop),
        workspace(workshop),
        offline_ready(workshop),
        disk(workshop),
        optional_tool(
            "mdbook",
            &["--version"],
            "to read the book locally: `cargo install mdbook --locked --version 0.5.4`, then `mdbook serve book`",
        ),
        nats_server(),
        tansu(),
        make(),
    ];
    println!("{}\n", paint(TITLE, "Workshop doctor"));
    let mut healthy = true;
    for finding in findings {
        match finding {
            Finding::Ok(text) => println!(" {} {text}", paint(PASS, "✓")),
            Finding::Optional(text) => println!(" {} {text}", paint(WARN, "-")),
            Finding::Problem(text) => {
                healthy = false;
                println!(" {} {text}", paint(FAIL, "✗"));
            }
        }
    }
    println!();
    if healthy {
        println!("Ready. Start with `cargo workshop`.");
    } else {
        println!("Fix the lines marked ✗, then run `cargo workshop doctor` again.");
    }
    healthy
}

/// The minimum Rust version comes from the workspace's `rust-version`.
fn toolchain(workshop: &Workshop) -> Finding {
    let wanted = std::fs::read_to_string(workshop.path("Cargo.toml"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix("rust-version").map(str::to_owned))
        })
        .map(|v| {
            v.trim_matches(|c: char| c == '=' || c == '"' || c.is_whitespace())
                .to_owned()
        })
        .unwrap_or_else(|| "1.88".to_owned());
    let Some(output) = run("rustc", &["--version"]) else {
        return Finding::Problem(
            "rustc is not on your PATH: install Rust with rustup (https://rustup.rs)".to_owned(),
        );
    };
    let found = output.split_whitespace().nth(1).unwrap_or("").to_owned();
    if version_at_least(&found, &wanted) {
        Finding::Ok(format!(
            "{} (the workshop needs {wanted} or newer)",
            output.trim()
        ))
    } else {
        Finding::Problem(format!(
            "{} is older than {wanted}: run `rustup update stable`",
            output.trim()
        ))
    }
}

/// `1.95.0` >= `1.88`, comparing the numbers in order.
pub fn version_at_least(found: &str, wanted: &str) -> bool {
    let numbers = |v: &str| -> Vec<u64> {
        v.split(['.', '-'])
            .map_while(|part| part.parse().ok())
            .collect()
    };
    let (found, wanted) = (numbers(found), numbers(wanted));
    if found.is_empty() {
        return false;
    }
    for i in 0..wanted.len().max(found.len()) {
        let (f, w) = (
            found.get(i).copied().unwrap_or(0),
            wanted.get(i).copied().unwrap_or(0),
        );
        if f != w {
            return f > w;
        }
    }
    true
}

fn workspace(workshop: &Workshop) -> Finding {
    let mut missing = Vec::new();
    for step in workshop.steps() {
        for dir in [step.exercise_dir(), step.solution_dir()] {
            if !workshop.path(&dir).join("Cargo.toml").is_file() {
                missing.push(dir.display().to_string());
            }
        }
    }
    if !workshop.path("Cargo.lock").is_file() {
        missing.push("Cargo.lock".to_owned());
    }
    if missing.is_empty() {
        Finding::Ok(format!(
            "workspace at {} with {} steps",
            workshop.root.display(),
            workshop.steps().len()
        ))
    } else {
        Finding::Problem(format!(
            "missing from the workspace: {} (restore with `git checkout -- <path>` or reclone)",
            missing.join(", ")
        ))
    }
}

/// Meetup Wi-Fi is bad: everything must be downloaded before the talk. Only
/// this machine's platform counts: plain `cargo fetch --offline` also asks for
/// crates that only Windows (or only macOS) builds use, and a ready Linux laptop
/// does not have them.
fn offline_ready(workshop: &Workshop) -> Finding {
    let ok = Command::new(cargo())
        .current_dir(&workshop.root)
        .args(fetch_args(host_target().as_deref()))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Finding::Ok("all dependencies are downloaded: the workshop works offline".to_owned())
    } else {
        Finding::Problem(
            "some dependencies are not downloaded yet: run `cargo fetch` while you are online"
                .to_owned(),
        )
    }
}

/// `cargo fetch` offline, for the host's target when it is known.
fn fetch_args(host: Option<&str>) -> Vec<&str> {
    let mut args = vec!["fetch", "--offline", "--locked", "--quiet"];
    if let Some(host) = host {
        args.extend(["--target", host]);
    }
    args
}

/// This machine's target triple, from `rustc -vV`.
fn host_target() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    host_from_version(&run(rustc, &["-vV"])?)
}

/// The `host: x86_64-unknown-linux-gnu` line of `rustc -vV`.
fn host_from_version(verbose_version: &str) -> Option<String> {
    verbose_version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(|host| host.trim().to_owned())
}

/// A cold build of every step needs a few GiB in `target/`.
fn disk(workshop: &Workshop) -> Finding {
    const NEEDED: u64 = 3 << 30;
    match fs4::available_space(&workshop.root) {
        Ok(free) if free >= NEEDED => Finding::Ok(format!("{:.1} GiB free on disk", gib(free))),
        Ok(free) => Finding::Problem(format!(
            "only {:.1} GiB free on disk; the builds need about {:.0} GiB: free some space (`cargo clean` in old projects helps)",
            gib(free),
            gib(NEEDED)
        )),
        Err(e) => Finding::Optional(format!("cannot tell the free disk space ({e})")),
    }
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1u32 << 30)
}

fn optional_tool(name: &str, args: &[&str], how: &str) -> Finding {
    match run(name, args) {
        Some(version) => Finding::Ok(version.lines().next().unwrap_or(name).trim().to_owned()),
        None => Finding::Optional(format!("{name} not found: {how}")),
    }
}

/// Step 15 starts real `nats-server` processes. It is looked for where the
/// step's tests look: `NATS_SERVER`, the `PATH`, then Debian's `/usr/sbin`
/// (which is not on every user's `PATH`).
fn nats_server() -> Finding {
    let how = "only for step 15 (NATS JetStream), whose tests start it: \
               Debian/Ubuntu `sudo apt-get install nats-server`, macOS `brew install nats-server`, \
               Windows `scoop install nats-server`, or any system: the release binary from \
               https://github.com/nats-io/nats-server/releases on your PATH \
               (or named in NATS_SERVER)";
    let candidates = std::env::var_os("NATS_SERVER")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain([
            std::path::PathBuf::from("nats-server"),
            std::path::PathBuf::from("/usr/sbin/nats-server"),
        ]);
    for candidate in candidates {
        if let Some(version) = run(&candidate, &["--version"]) {
            let version = version.lines().next().unwrap_or("nats-server").trim();
            return Finding::Ok(version.to_owned());
        }
    }
    Finding::Optional(format!("nats-server not found: {how}"))
}

/// The tansu version step 16's tests are written against.
const TANSU_VERSION: &str = "0.6.0";

/// How to get tansu: a release build from crates.io with SQLite storage (its
/// default features only have an engine that keeps nothing).
const TANSU_INSTALL: &str = "cargo install tansu --version 0.6.0 --locked --features libsql";

/// Step 16 starts real `tansu` brokers. It is looked for where the step's
/// tests look: `TANSU`, the `PATH`, then `~/.cargo/bin` (where `cargo install`
/// puts it, which is not on every user's `PATH`).
fn tansu() -> Finding {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::home_dir().map(|home| home.join(".cargo")))
        .map(|cargo_home| cargo_home.join("bin").join("tansu"));
    let candidates = std::env::var_os("TANSU")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain([std::path::PathBuf::from("tansu")])
        .chain(cargo_bin);
    let version = candidates
        .into_iter()
        .find_map(|candidate| run(&candidate, &["--version"]));
    tansu_finding(version.as_deref())
}

/// What `tansu --version` printed (`None`: no tansu found) says to do.
fn tansu_finding(version: Option<&str>) -> Finding {
    let Some(version) = version else {
        return Finding::Optional(format!(
            "tansu not found: only for step 16 (a Kafka-protocol broker), whose tests start it: \
             `{TANSU_INSTALL}` (about 10 minutes on 2 cores; do it before the meetup), \
             or name the program in TANSU"
        ));
    };
    let version = version.lines().next().unwrap_or("tansu").trim();
    if version.split_whitespace().nth(1) == Some(TANSU_VERSION) {
        Finding::Ok(format!("{version} (for step 16)"))
    } else {
        Finding::Optional(format!(
            "{version} found, but step 16 is tested with tansu {TANSU_VERSION}: \
             `{TANSU_INSTALL}` (about 10 minutes on 2 cores)"
        ))
    }
}

/// Step 16's Kafka client builds the librdkafka it bundles (C) with its own
/// `./configure` and `make`; a C compiler is there already, since Rust links
/// with it, but `make` may not be.
fn make() -> Finding {
    let version = run("make", &["--version"]).or_else(|| run("gmake", &["--version"]));
    make_finding(version.as_deref())
}

/// What `make --version` printed (`None`: no make found) says to do.
fn make_finding(version: Option<&str>) -> Finding {
    match version {
        Some(version) => Finding::Ok(format!(
            "{} (step 16 builds librdkafka with it)",
            version.lines().next().unwrap_or("make").trim()
        )),
        None => Finding::Optional(
            "make not found: only for step 16, whose Kafka client builds the C library it \
             bundles with `make`: Debian/Ubuntu `sudo apt-get install make`, macOS \
             `xcode-select --install`"
                .to_owned(),
        ),
    }
}

fn run(program: impl AsRef<Path>, args: &[&str]) -> Option<String> {
    let output = Command::new(program.as_ref()).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::{
        Finding, fetch_args, host_from_version, make_finding, tansu_finding, version_at_least,
    };

    #[test]
    fn a_missing_make_says_it_is_for_step_16_and_how_to_get_it() {
        let Finding::Optional(text) = make_finding(None) else {
            panic!("a missing make only matters for step 16: optional, not a problem");
        };
        assert!(
            text.contains("step 16") && text.contains("apt-get install make"),
            "{text}"
        );
        assert!(matches!(
            make_finding(Some("GNU Make 4.4.1\nBuilt for x86_64")),
            Finding::Ok(text) if text.starts_with("GNU Make 4.4.1 ")
        ));
    }

    #[test]
    fn a_missing_tansu_says_how_to_install_it_with_sqlite_storage() {
        let Finding::Optional(text) = tansu_finding(None) else {
            panic!("a missing tansu only matters for step 16: optional, not a problem");
        };
        assert!(
            text.contains("cargo install tansu --version 0.6.0 --locked --features libsql"),
            "the line names the install command with the SQLite feature: {text}"
        );
        assert!(text.contains("10 minutes"), "and how long it takes: {text}");
    }

    #[test]
    fn tansu_is_ready_only_in_the_version_step_16_is_tested_with() {
        assert!(matches!(
            tansu_finding(Some("tansu 0.6.0\n")),
            Finding::Ok(text) if text.starts_with("tansu 0.6.0")
        ));
        let Finding::Optional(text) = tansu_finding(Some("tansu 0.5.1\n")) else {
            panic!("another version is not ready for step 16");
        };
        assert!(
            text.contains("tansu 0.5.1") && text.contains("--version 0.6.0"),
            "the line names the version found and the one to install: {text}"
        );
    }

    #[test]
    fn the_offline_check_fetches_for_this_machine_only() {
        let version = "rustc 1.95.0 (abc 2026-01-01)\nbinary: rustc\nhost: aarch64-apple-darwin\nrelease: 1.95.0\n";
        let host = host_from_version(version);
        assert_eq!(host.as_deref(), Some("aarch64-apple-darwin"));
        let args = fetch_args(host.as_deref());
        assert!(
            args.windows(2)
                .any(|w| w == ["--target", "aarch64-apple-darwin"]),
            "{args:?}"
        );
    }

    #[test]
    fn versions_compare_by_number_not_by_text() {
        assert!(version_at_least("1.95.0", "1.88"));
        assert!(version_at_least("1.88.0", "1.88"));
        assert!(version_at_least("1.100.0", "1.88"));
        assert!(!version_at_least("1.87.1", "1.88"));
        assert!(!version_at_least("", "1.88"));
    }
}
