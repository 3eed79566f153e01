//! Turns the protobuf schemas in `proto/` into Rust types before the crate compiles.
//!
//! Google's `protoc` is not needed: protox is a protobuf compiler written in Rust. It
//! parses the `.proto` files into descriptors (the same `FileDescriptorSet` that
//! `protoc --descriptor_set_out` writes), and prost-build generates Rust code from
//! them into `OUT_DIR`, where `src/lib.rs` includes it.

use std::error::Error;

// The paths are relative to this crate. `solutions/02-protobuf` and the exercise
// `steps/02-protobuf` sit at the same depth, so both find the one shared `proto/`.
// ANCHOR: compile
/// Where imports are resolved from: `booking/v1/events.proto` is found here.
const PROTO_ROOT: &str = "../../proto";

/// The schema of this step, and a later version of it for the evolution tests.
const SCHEMAS: [&str; 2] = [
    "../../proto/booking/v1/events.proto",
    "../../proto/evolution/booking_next.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    // Without this, Cargo would rerun the script only when a file of the crate
    // changes, and an edited schema would silently keep its old Rust types.
    for schema in SCHEMAS {
        println!("cargo:rerun-if-changed={schema}");
    }
    let descriptors = protox::compile(SCHEMAS, [PROTO_ROOT])?;
    // One Rust file per protobuf package: booking.v1.rs and booking.next.rs.
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
// ANCHOR_END: compile
