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
    fn missing_file_names_the_path() {
        let err = load(Path::new("/nonexistent/x.lis.zst")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/x.lis.zst:"));
    }
}
