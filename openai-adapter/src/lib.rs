//! tenure-openai (work in progress).
#![forbid(unsafe_code)]
