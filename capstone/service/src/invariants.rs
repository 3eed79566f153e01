//! The invariants the dashboard shows, checked on their own: from the two
//! SQLite databases opened read-only and from the status file, without a line
//! of the service's code.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use solution14_capstone::{CONSUMER_DB, SERVICE_DB};

use crate::status::Status;

/// How long a paid booking may be missing from the consumer's database while
/// the service says it has nothing left to do, before that counts as lost.
const GRACE: Duration = Duration::from_secs(10);

/// The verdict on one invariant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    /// Cannot be judged yet (work in flight, a database not there yet).
    Pending,
    Broken,
}

/// One line of the invariants panel.
#[derive(Clone, Debug)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

/// What the checker remembers between two looks.
#[derive(Debug, Default)]
pub struct Checker {
    /// The highest committed offset seen per partition, over restarts.
    highest_committed: Vec<u64>,
    /// Paid bookings not in the consumer's database yet, since when.
    missing_since: HashMap<String, Instant>,
    /// Every check that was ever broken, by name.
    pub ever_broken: HashSet<&'static str>,
    /// Seats sold, as the consumer's database says.
    pub seats_sold: u64,
}

impl Checker {
    /// Looks at the databases in `dir` and at `status` (read just before).
    pub fn check(&mut self, dir: &Path, status: Option<&Status>) -> Vec<Check> {
        let mut checks = Vec::new();
        // The consumer first, then the service: a booking the consumer
        // confirmed was confirmed by the service earlier, so the second read
        // finds it.
        let consumer = confirmed_and_doubles(&dir.join(CONSUMER_DB));
        let service = confirmed_and_doubles(&dir.join(SERVICE_DB));
        match &consumer {
            Ok((_, doubles)) => checks.push(Check {
                name: "no seat sold twice",
                verdict: if *doubles == 0 {
                    Verdict::Holds
                } else {
                    Verdict::Broken
                },
                detail: format!("({doubles} seats)"),
            }),
            Err(error) => checks.push(pending("no seat sold twice", error)),
        }
        match (&consumer, &service) {
            (Ok((consumed, _)), Ok((paid, _))) => {
                self.seats_sold = consumed.len() as u64;
                let invented = consumed.difference(paid).count();
                checks.push(Check {
                    name: "nothing sold unpaid",
                    verdict: if invented == 0 {
                        Verdict::Holds
                    } else {
                        Verdict::Broken
                    },
                    detail: format!("({invented} unpaid)"),
                });
                checks.push(self.paid_reach_consumer(paid, consumed, status));
            }
            (Err(error), _) | (_, Err(error)) => {
                checks.push(pending("nothing sold unpaid", error));
                checks.push(pending("every payment arrives", error));
            }
        }
        if let Some(status) = status {
            checks.push(self.offsets(status));
        } else {
            checks.push(pending("commits never go back", "no status yet"));
        }
        for check in &checks {
            if check.verdict == Verdict::Broken {
                self.ever_broken.insert(check.name);
            }
        }
        checks
    }

    fn paid_reach_consumer(
        &mut self,
        paid: &HashSet<String>,
        consumed: &HashSet<String>,
        status: Option<&Status>,
    ) -> Check {
        let now = Instant::now();
        let missing: Vec<&String> = paid.difference(consumed).collect();
        self.missing_since
            .retain(|booking, _| missing.contains(&booking));
        for booking in &missing {
            self.missing_since.entry((*booking).clone()).or_insert(now);
        }
        let name = "every payment arrives";
        let quiet = status.is_some_and(|status| {
            status.partitions.iter().all(|p| p.committed == p.end)
                && status.counter("outbox_backlog") == 0
        });
        let closed = status.is_some_and(|status| status.state == "closed");
        let overdue = self
            .missing_since
            .values()
            .filter(|since| now.duration_since(**since) > GRACE)
            .count();
        // A payment takes a moment to go through the pipeline: missing for
        // less than the grace period is normal. Missing longer is a backlog
        // while work remains, and a loss once none does.
        let verdict = if closed && !missing.is_empty() {
            Verdict::Broken
        } else if overdue == 0 {
            Verdict::Holds
        } else if quiet {
            Verdict::Broken
        } else {
            Verdict::Pending
        };
        Check {
            name,
            verdict,
            detail: format!("({} on the way)", missing.len()),
        }
    }

    fn offsets(&mut self, status: &Status) -> Check {
        let name = "commits never go back";
        self.highest_committed.resize(status.partitions.len(), 0);
        let mut broken = Vec::new();
        for (n, partition) in status.partitions.iter().enumerate() {
            if partition.committed > partition.end {
                broken.push(format!("p{n} committed past its end"));
            }
            if partition.committed < self.highest_committed[n] {
                broken.push(format!(
                    "p{n} back from {} to {}",
                    self.highest_committed[n], partition.committed
                ));
            }
            self.highest_committed[n] = self.highest_committed[n].max(partition.committed);
        }
        Check {
            name,
            verdict: if broken.is_empty() {
                Verdict::Holds
            } else {
                Verdict::Broken
            },
            detail: if broken.is_empty() {
                "(<= log end)".to_owned()
            } else {
                broken.join(", ")
            },
        }
    }
}

fn pending(name: &'static str, why: impl std::fmt::Display) -> Check {
    Check {
        name,
        verdict: Verdict::Pending,
        detail: why.to_string(),
    }
}

/// The confirmed bookings of a database, and how many seats have two live
/// bookings.
fn confirmed_and_doubles(path: &Path) -> Result<(HashSet<String>, u64), String> {
    if !path.exists() {
        return Err(format!("{} not there yet", path.display()));
    }
    let read = || -> rusqlite::Result<(HashSet<String>, u64)> {
        let db = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db.busy_timeout(Duration::from_millis(500))?;
        let mut statement =
            db.prepare("SELECT booking_id FROM bookings WHERE state = 'confirmed'")?;
        let confirmed = statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<HashSet<String>>>()?;
        let doubles: i64 = db.query_row(
            "SELECT COUNT(*) FROM (SELECT seat_id FROM bookings \
             WHERE state IN ('held', 'confirmed') \
             GROUP BY seat_id HAVING COUNT(*) > 1)",
            [],
            |row| row.get(0),
        )?;
        Ok((confirmed, u64::try_from(doubles).unwrap_or(0)))
    };
    read().map_err(|error| error.to_string())
}
