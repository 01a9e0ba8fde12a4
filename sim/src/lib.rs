//! tenure-sim (work in progress).
#![forbid(unsafe_code)]
