//! Reading the ARC paper's block traces (`.lis` or `.lis.zst`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The trace file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// No file for a named trace in any folder searched.
    #[error(
        "trace {name}: no file at {}; pass the folder that holds {name}.lis.zst with --traces-dir DIR",
        list(.searched)
    )]
    NotFound {
        /// The trace asked for (`OLTP`, `P3`, …).
        name: String,
        /// Every path tried, in order.
        searched: Vec<PathBuf>,
    },
    /// A line is not `start count ignored reqno`.
    #[error("{path}:{line}: expected `start count ignored reqno`, got {text:?}")]
    BadLine {
        /// The trace file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line (truncated to 80 characters).
        text: String,
    },
}

fn list(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(" or ")
}

/// The folders searched for a trace when none is given: the project's vendored
/// traces (only those its tests need), then the full set kept beside the project.
pub fn default_dirs() -> [PathBuf; 2] {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new(".."));
    [root.join("testdata/traces"), root.join("../shared/traces")]
}

/// The file of trace `name` (`OLTP` → `OLTP.lis.zst`): in `dir` if one is
/// given, else in the first of [`default_dirs`] that has it.
///
/// # Errors
/// [`TraceError::NotFound`] listing every path tried.
pub fn find(name: &str, dir: Option<&Path>) -> Result<PathBuf, TraceError> {
    let file = format!("{name}.lis.zst");
    let searched: Vec<PathBuf> = match dir {
        Some(dir) => vec![dir.join(&file)],
        None => default_dirs().iter().map(|d| d.join(&file)).collect(),
    };
    match searched.iter().find(|p| p.is_file()) {
        Some(path) => Ok(path.clone()),
        None => Err(TraceError::NotFound {
            name: name.to_string(),
            searched,
        }),
    }
}

/// Every block access of a trace, in order: a line `start count _ _` stands for
/// `count` accesses, to blocks `start .. start + count`. Files ending in `.zst`
/// are decompressed on the fly.
///
/// # Errors
/// [`TraceError`] naming the file (and line, for a malformed one).
pub fn load(path: &Path) -> Result<Vec<u64>, TraceError> {
    let io = |source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "zst") {
        Box::new(zstd::Decoder::new(file).map_err(io)?)
    } else {
        Box::new(file)
    };
    parse(BufReader::new(reader), path)
}

/// [`load`] on an already opened reader; `path` only names it in errors.
///
/// # Errors
/// [`TraceError`] for a read failure or a malformed line.
pub fn parse(reader: impl BufRead, path: &Path) -> Result<Vec<u64>, TraceError> {
    let mut accesses = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| TraceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split_ascii_whitespace().map(str::parse::<u64>);
        let (Some(Ok(start)), Some(Ok(count))) = (fields.next(), fields.next()) else {
            return Err(TraceError::BadLine {
                path: path.to_path_buf(),
                line: i + 1,
                text: line.chars().take(80).collect(),
            });
        };
        accesses.extend((0..count).map(|b| start.wrapping_add(b)));
    }
    Ok(accesses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_runs_of_blocks() {
        let text = "10 3 0 0\n\n7 1 0 1\n";
        let got = parse(text.as_bytes(), Path::new("t.lis")).unwrap();
        assert_eq!(got, [10, 11, 12, 7]);
    }

    #[test]
    fn names_the_bad_line() {
        let err = parse("1 1 0 0\nx y\n".as_bytes(), Path::new("t.lis")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.lis:2: expected `start count ignored reqno`, got \"x y\""
        );
    }

    #[test]
    fn finds_the_vendored_trace_and_names_every_path_tried_for_a_missing_one() {
        let oltp = find("OLTP", None).unwrap();
        assert!(oltp.starts_with(&default_dirs()[0]), "{}", oltp.display());
        let dir = Path::new("/nonexistent");
        let err = find("OLTP", Some(dir)).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/OLTP.lis.zst;"), "{err}");
        let err = find("no-such-trace", None).unwrap_err().to_string();
        for dir in default_dirs() {
            let path = dir.join("no-such-trace.lis.zst");
            assert!(err.contains(&path.display().to_string()), "{err}");
        }
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = load(Path::new("/nonexistent/x.lis.zst")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/x.lis.zst:"));
    }
}
