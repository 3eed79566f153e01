//! Everything that can be wrong with bytes that claim to be a booking event.

use solution01_events::InvalidSeatId;

// ANCHOR: wire_error
/// Why bytes, or a protobuf message, could not become a domain event.
///
/// Every case is permanent: reading the same bytes again gives the same error.
/// A consumer should not retry such a message, and must not drop it silently
/// either: it sets it aside with the reason (a dead-letter topic, step 12) and
/// carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes are not a protobuf message of this shape: cut short,
    /// corrupted, or of an unrelated type. The decoder's own words are its
    /// `source()`.
    #[error(
        "the bytes are not a booking.v1.BookingEvent: they were cut short, corrupted, \
         or written with an unrelated schema; compare what the producer sends with \
         proto/booking/v1/events.proto"
    )]
    Decode(#[from] prost::DecodeError),

    /// No case of the `event` oneof is set, and the bytes held nothing this
    /// reader does not know either.
    ///
    /// A protobuf message with no fields set encodes to zero bytes, so this is
    /// also what an empty payload decodes to.
    #[error(
        "the message holds no event: no case of the `event` oneof is set; the producer \
         must set exactly one case before sending"
    )]
    MissingEvent,

    /// No case this reader knows is set, and the bytes held fields this reader
    /// does not know: they were written with a newer schema that added a case
    /// to the oneof.
    ///
    /// Only [`crate::decode`] can tell this from [`WireError::MissingEvent`]:
    /// it sees the bytes, while the decoded message has already lost the
    /// unknown case.
    #[error(
        "the message holds an event this reader does not know: it was written with a newer \
         schema that added a case to the `event` oneof; upgrade this consumer to the \
         producer's schema, and keep the message until then"
    )]
    UnknownEvent,

    /// An id field does not hold UUID text.
    #[error(
        "field `{field}` holds {value:?}, which is not a UUID; ids are sent as UUID text \
         such as \"6f1c2a3e-0b5d-4c8e-9f10-2a3b4c5d6e7f\" (an empty value means the \
         producer never set the field)"
    )]
    InvalidUuid {
        /// The field's name in the schema, such as `"user_id"`.
        field: &'static str,
        /// The text that was sent, kept so the error can show it.
        value: String,
    },

    /// The `seat_id` field does not hold a seat as step 01 defines it. What was
    /// sent and what a seat looks like are in its `source()`.
    #[error("field `seat_id` does not hold a seat")]
    InvalidSeat(#[from] InvalidSeatId),
}
// ANCHOR_END: wire_error
