#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod contenders;
pub mod report;
pub mod rotation;
pub mod trace;
pub mod workload;
/// `docs/migration-from-moka.md`: its moka program and its tenure twin,
/// compiled and run as doctests here, where both caches are dependencies.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migration-from-moka.md")]
pub struct MigrationFromMoka;
