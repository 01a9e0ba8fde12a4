#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod contenders;
pub mod report;
pub mod rotation;
pub mod trace;
pub mod workload;
