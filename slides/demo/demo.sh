# 1. offsets are watermarks: four handlers finish in the order 2, 0, 3, 1
cargo run -q -p solution09-offsets --example watermark
# 2. crash after every stage, restart from the committed offset
cargo test -q -p solution09-offsets --test crash -- --format pretty
# 3. a bad deploy: retries, dead letters; the fix; replay it twice
cargo run -q -p solution12-retries --example replay
