//! What the service's tests share: waiting for a condition or for the
//! service to exit, and sending it a signal.

#![allow(dead_code)] // each test file uses only some of these

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

pub fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    // SAFETY: kill(2) on our own unreaped child has no memory effects here.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(sent, 0, "the signal could not be sent to the service");
}

pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "gave up after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn wait_exit(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the service did not exit within {limit:?} {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
