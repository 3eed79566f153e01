//! Turns the producer batch schema in `proto/` into Rust types, with protox and
//! prost-build as in step 02 (no `protoc` needed).

use std::error::Error;

const PROTO_ROOT: &str = "../../proto";
const SCHEMA: &str = "../../proto/producer/v1/batch.proto";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={SCHEMA}");
    let descriptors = protox::compile([SCHEMA], [PROTO_ROOT])?;
    prost_build::Config::new()
        .bytes(["."])
        .compile_fds(descriptors)?;
    Ok(())
}
