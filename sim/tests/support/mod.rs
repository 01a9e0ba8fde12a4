//! What the integration tests share: running the binary and reading what it
//! printed, and writing input files. Each test binary uses a subset.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `tenure-sim ARGS...` and waits for it.
pub(crate) fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenure-sim"))
        .args(args)
        .output()
        .expect("run tenure-sim")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one JSON object a successful run printed.
pub(crate) fn json(output: &Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_str(stdout(output).trim()).expect("one JSON object")
}

/// Writes `text` to `name` in a directory of this test binary's own; returns
/// the path.
pub(crate) fn write(name: &str, text: &str) -> String {
    let binary = module_path!().split("::").next().unwrap_or("tests");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(binary);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}
