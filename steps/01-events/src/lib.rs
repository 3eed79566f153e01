//! Step 01: events as Rust enums, and the booking state machine.
//!
//! - `event.rs`: the events, facts named in the past tense ([`BookingEvent`]).
//! - `state.rs`: the state machine checked at run time ([`apply`] and
//!   [`Rejected`]).
//! - `typestate.rs`: the same machine checked at compile time
//!   ([`typestate::Booking`]).
//!
//! The chapter is `book/src/01-events.md`.

// The stubs below do not use their arguments yet. Delete this line when you are done.
#![allow(unused_variables)]

mod event;
mod state;
pub mod typestate;

pub use event::{BookingEvent, BookingId, InvalidSeatId, SeatId, UserId};
pub use state::{BookingState, Rejected, apply};
