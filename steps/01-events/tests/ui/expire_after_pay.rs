// A paid booking is never lost: `Booking<Confirmed>` has no `expire` method.

use step01_events::typestate::{Booking, Held};

fn pay_then_expire(held: Booking<Held>) {
    let confirmed = held.pay();
    confirmed.expire();
}

fn main() {}
