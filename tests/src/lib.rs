//! Tests that the reference solutions of different steps fit together; see tests/.

pub mod bookings;
