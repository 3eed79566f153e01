// `pay` takes the held booking by value: once it is paid, it is gone, so it cannot
// be paid a second time.

use step01_events::typestate::{Booking, Held};

fn pay_twice(held: Booking<Held>) {
    held.pay();
    held.pay();
}

fn main() {}
