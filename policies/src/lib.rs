#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod any_policy;
mod error;
mod expiry;
mod frequency_sketch;
mod hybrid;
mod lru_bound;
mod policy;
mod s3fifo;
mod sieve;
mod sliding_ttl;
mod slot_list;
mod time;
mod timed;
mod timer_wheel;
mod tinylfu;
mod weights;
mod window_tuner;

pub use any_policy::AnyPolicy;
pub use error::PolicyError;
pub use expiry::Expiry;
pub use hybrid::Hybrid;
pub use lru_bound::LruBound;
pub use policy::{NewEntry, Policy, Reads, RemovalCause};
pub use s3fifo::S3Fifo;
pub use sieve::Sieve;
pub use sliding_ttl::SlidingTtl;
pub use slot_list::{Slot, SlotList, ensure_slot};
pub use time::Timestamp;
pub use timed::Timed;
pub use timer_wheel::TimerWheel;
pub use tinylfu::TinyLfu;
pub use weights::Weights;
