//! Step 16 (work in progress).
