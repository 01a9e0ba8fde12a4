//! Only `src/sync.rs` may name lock, atomic, condvar, thread or wake-up types:
//! everything else must get them from the shim, which swaps in loom's under
//! `--cfg tenure_loom`. (Clippy's `disallowed-types` cannot express this: it
//! sees through the shim's re-exports, and tests may use std's types freely.)

use std::path::Path;

const FORBIDDEN: [&str; 6] = [
    "std::sync",
    "core::sync",
    "parking_lot",
    "loom::",
    "tokio::sync",
    "std::thread",
];

#[test]
fn only_sync_rs_names_concurrency_primitives() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offences = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&src).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.file_name().is_some_and(|n| n == "sync.rs")
            || path.extension().is_none_or(|e| e != "rs")
        {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(&path).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for name in FORBIDDEN.iter().filter(|name| code.contains(*name)) {
                offences.push(format!("{}:{}: names `{name}`", path.display(), n + 1));
            }
        }
    }
    assert!(
        checked >= 5,
        "expected to check the crate's modules, checked {checked}"
    );
    assert!(
        offences.is_empty(),
        "use crate::sync instead:\n{}",
        offences.join("\n")
    );
}
