//! Everything that can stop a simulation, with the exit code it maps to.

use std::io;
use std::path::PathBuf;

use tenure::ConfigError;

use crate::trace::TraceError;

/// Why `tenure-sim` could not do what it was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The trace could not be read.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The config file could not be read or parsed.
    #[error("config file {}: {message}", path.display())]
    ConfigFile {
        /// The config file.
        path: PathBuf,
        /// What went wrong (the parser's message names the line and field).
        message: String,
    },
    /// The configuration cannot make a cache.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Output {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl SimError {
    /// The process exit code: 2 for bad input (flags, config, trace), 1 when
    /// output could not be written.
    pub fn exit_code(&self) -> u8 {
        match self {
            SimError::Output { .. } => 1,
            _ => 2,
        }
    }
}
