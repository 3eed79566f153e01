//! Fixtures shared by the test files of step 02.
//!
//! The ids are chosen to be easy to spot in hex: every character of
//! `11111111-2222-...` is one byte, `'1'` is `0x31`, `'-'` is `0x2d`.

// Each test file uses only some of these.
#![allow(dead_code)]

use solution02_protobuf::{BookingEvent, BookingId, SeatId, UserId};
use uuid::Uuid;

pub const BOOKING: &str = "11111111-2222-3333-4444-555555555555";
pub const USER: &str = "66666666-7777-8888-9999-aaaaaaaaaaaa";
pub const SEAT: &str = "A12";

pub fn booking_id() -> BookingId {
    BookingId::from_uuid(Uuid::parse_str(BOOKING).expect("BOOKING is a UUID"))
}

pub fn user_id() -> UserId {
    UserId::from_uuid(Uuid::parse_str(USER).expect("USER is a UUID"))
}

pub fn seat_id() -> SeatId {
    SeatId::parse(SEAT).expect("SEAT is a seat")
}

pub fn requested() -> BookingEvent {
    BookingEvent::ReservationRequested {
        booking_id: booking_id(),
        seat_id: seat_id(),
        user_id: user_id(),
    }
}

pub fn paid() -> BookingEvent {
    BookingEvent::PaymentReceived {
        booking_id: booking_id(),
    }
}

pub fn expired() -> BookingEvent {
    BookingEvent::ReservationExpired {
        booking_id: booking_id(),
    }
}

/// Bytes as lowercase hex, two digits a byte: `[0x12, 0x0a]` is `"120a"`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The bytes that `to_hex` would print as `hex`.
pub fn from_hex(hex: &str) -> Vec<u8> {
    assert!(
        hex.len().is_multiple_of(2),
        "hex needs two digits a byte: {hex}"
    );
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&hex[i..i + 2], 16).expect("test hex is valid")
        })
        .collect()
}
