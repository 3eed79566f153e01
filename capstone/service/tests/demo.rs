//! `capstone demo --script` without a terminal: the whole scenario (kill -9,
//! torn write, slow handler, duplicates, database errors, poison pill, a
//! graceful stop) in plain text, with every invariant holding.

use std::process::Command;

#[test]
fn the_scripted_demo_keeps_every_invariant() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let output = Command::new(env!("CARGO_BIN_EXE_capstone"))
        .arg("demo")
        .arg("--data")
        .arg(dir.path().join("demo"))
        .args(["--script", "--pace", "0.4"])
        .output()
        .expect("capstone demo runs");
    let text = String::from_utf8_lossy(&output.stdout);
    for step in [
        "kill -9",
        "torn write",
        "handler slowed",
        "duplicate deliveries",
        "transient database errors",
        "poison pill",
        "SIGTERM",
        "invariants all held",
    ] {
        assert!(
            text.contains(step),
            "the scripted demo's output shows {step:?}:\n{text}"
        );
    }
    assert!(
        output.status.success(),
        "the scripted demo ends with every invariant held and the service \
         closed cleanly:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let log =
        std::fs::read_to_string(dir.path().join("demo/service.log")).expect("the service's log");
    assert!(
        log.contains("recovery cut a torn tail off the topic"),
        "after the torn write, the restart's recovery cuts the tail off"
    );
}
