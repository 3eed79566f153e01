//! The booking state machine once more, checked by the compiler instead of at
//! run time: the "typestate" pattern.
//!
//! [`crate::apply`] accepts any event in any state and answers with `Ok` or
//! `Err(Rejected)` while the program runs. That is what a consumer needs,
//! because it cannot choose which events arrive. Code that *drives* a booking
//! itself (a checkout flow, a test, a demo) can do better: here the state is
//! part of the type, `Booking<Held>` or `Booking<Confirmed>`, and `pay` and
//! `expire` exist only on `Booking<Held>`. Expiring a paid booking is then not
//! an error to handle but a program that does not compile.

use std::marker::PhantomData;

use crate::event::{BookingId, SeatId, UserId};

// ANCHOR: markers
/// Marker: the seat is held, waiting for a payment or for the hold to run out.
#[derive(Debug)]
pub struct Held;

/// Marker: the booking is paid, the seat is sold.
#[derive(Debug)]
pub struct Confirmed;

/// Marker: the hold ran out before a payment, the seat is free again.
#[derive(Debug)]
pub struct Expired;
// ANCHOR_END: markers

// ANCHOR: booking
/// A booking whose state `S` ([`Held`], [`Confirmed`] or [`Expired`]) is known
/// when the program is compiled.
///
/// The markers are empty structs, so `Booking<Held>` and `Booking<Confirmed>`
/// have exactly the same size and layout: the state costs nothing at run time.
/// The fields are private, so the only way to get a `Booking<Confirmed>` is to
/// pay a `Booking<Held>`.
///
/// `Booking` is deliberately neither `Clone` nor `Copy`: a transition consumes
/// the booking it starts from, so no copy of the old state can be used
/// afterwards.
#[derive(Debug)]
pub struct Booking<S> {
    booking_id: BookingId,
    seat_id: SeatId,
    user_id: UserId,
    /// Holds the state in the type without storing a value. `PhantomData` tells
    /// the compiler that `S` is used on purpose although no field has type `S`.
    state: PhantomData<S>,
}
// ANCHOR_END: booking

/// Read access in every state: the ids never change, whatever happens.
impl<S> Booking<S> {
    /// The booking's id.
    pub fn booking_id(&self) -> BookingId {
        self.booking_id
    }

    /// The seat this booking holds, sold or released.
    pub fn seat_id(&self) -> &SeatId {
        &self.seat_id
    }

    /// The user who asked for the seat.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }
}

// ANCHOR: transitions
/// The transitions. They live in `impl Booking<Held>`, so they exist only on a
/// held booking: `Booking<Confirmed>` has no `expire` method at all.
impl Booking<Held> {
    /// A new booking, its seat held for the user: what `ReservationRequested`
    /// starts.
    pub fn request(
        booking_id: BookingId,
        seat_id: SeatId,
        user_id: UserId,
    ) -> Self {
        Booking {
            booking_id,
            seat_id,
            user_id,
            state: PhantomData,
        }
    }

    /// The user paid: the held booking becomes a confirmed one.
    ///
    /// The booking id, seat and user move over unchanged; only the state type
    /// changes. Takes `self` by value, so the held booking is moved in and gone
    /// afterwards: nobody can pay it twice or expire it after paying.
    pub fn pay(self) -> Booking<Confirmed> {
        todo!("move the ids into a Booking<Confirmed> (chapter 01)")
    }

    /// The hold ran out: the held booking becomes an expired one, and its seat
    /// is free. The booking id, seat and user move over unchanged, as in `pay`.
    pub fn expire(self) -> Booking<Expired> {
        todo!("move the ids into a Booking<Expired> (chapter 01)")
    }
}
// ANCHOR_END: transitions
