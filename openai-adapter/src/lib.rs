#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clients;
mod config;
mod error;
mod global;
mod http;
mod identity;
mod redact;

pub use clients::{ClientRemoval, OpenAiClient, OpenAiClients, OpenAiClientsBuilder};
pub use config::OpenAiConfig;
pub use error::Error;
pub use global::{
    configure, get_or_create_openai_client, process_clients, try_get_or_create_openai_client,
};
pub use identity::{ClientIdentity, KeyFingerprint, OPENAI_BASE_URL};

// The types a caller of this crate names, so one dependency suffices.
pub use async_openai;
pub use tenure;
