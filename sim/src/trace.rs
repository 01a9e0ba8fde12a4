//! Reading access traces: the ARC `.lis` format and CSV `timestamp_ms,key`,
//! either one optionally Zstandard-compressed.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use tenure::policy::Timestamp;

/// The first four bytes of every Zstandard frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// One cache lookup: which key, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The simulated time of the lookup.
    pub time: Timestamp,
    /// The key looked up. CSV keys are numbered in order of first appearance.
    pub key: u64,
}

/// A trace file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// The ARC paper's block traces: each line is `start count [ignored [request]]`
    /// and stands for `count` lookups of blocks `start..start + count`. There are
    /// no timestamps: lookup number `i` (from 0) happens at `i × step`
    /// ([`TraceOptions::lis_step`], 1 ms by default).
    Lis,
    /// `timestamp_ms,key` per line; an optional first line `timestamp_ms,key`
    /// (or `timestamp,key`) is a header. The key is any text without a comma.
    Csv,
}

impl TraceFormat {
    /// The format a file name implies: `.lis` or `.csv`, optionally followed by `.zst`.
    ///
    /// ```
    /// use std::path::Path;
    /// use tenure_sim::TraceFormat;
    ///
    /// assert_eq!(TraceFormat::from_path(Path::new("OLTP.lis.zst")), Some(TraceFormat::Lis));
    /// assert_eq!(TraceFormat::from_path(Path::new("keys.csv")), Some(TraceFormat::Csv));
    /// assert_eq!(TraceFormat::from_path(Path::new("trace.txt")), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<TraceFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".zst").unwrap_or(&name);
        if name.ends_with(".lis") {
            Some(TraceFormat::Lis)
        } else if name.ends_with(".csv") {
            Some(TraceFormat::Csv)
        } else {
            None
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TraceFormat::Lis => "lis",
            TraceFormat::Csv => "csv",
        })
    }
}

impl FromStr for TraceFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "lis" => Ok(TraceFormat::Lis),
            "csv" => Ok(TraceFormat::Csv),
            other => Err(format!(
                "unknown trace format {other:?} (expected lis or csv)"
            )),
        }
    }
}

/// How to read a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceOptions {
    /// The format; `None` means "from the file name" ([`TraceFormat::from_path`]).
    pub format: Option<TraceFormat>,
    /// Simulated time between two lookups of a `.lis` trace, which has no timestamps.
    pub lis_step: Duration,
}

impl Default for TraceOptions {
    /// Format from the file name; 1 ms between `.lis` lookups.
    fn default() -> Self {
        TraceOptions {
            format: None,
            lis_step: Duration::from_millis(1),
        }
    }
}

/// Why a trace could not be read. Messages name the file and, for bad content,
/// the line, but never echo the line: a CSV key may be a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The file could not be opened.
    #[error("cannot open trace {}: {source}", path.display())]
    Open {
        /// The trace file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Reading (or decompressing) failed.
    #[error("{}: cannot read line {line}: {source}", path.display())]
    Read {
        /// The trace file.
        path: PathBuf,
        /// The line being read (1-based).
        line: u64,
        /// Why.
        source: io::Error,
    },
    /// A line does not follow the format.
    #[error("{}:{line}: {reason}", path.display())]
    Malformed {
        /// The trace file.
        path: PathBuf,
        /// The offending line (1-based).
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// No `--format` was given and the file name does not tell.
    #[error(
        "cannot tell the format of {}: name it .lis or .csv (optionally + .zst), or pass --format lis|csv",
        path.display()
    )]
    UnknownFormat {
        /// The trace file.
        path: PathBuf,
    },
}

impl TraceError {
    /// The 1-based line the error is about, if any.
    pub fn line(&self) -> Option<u64> {
        match self {
            TraceError::Read { line, .. } | TraceError::Malformed { line, .. } => Some(*line),
            TraceError::Open { .. } | TraceError::UnknownFormat { .. } => None,
        }
    }
}

/// Counts the bytes a reader has delivered, for a progress bar that works the
/// same on compressed and plain files.
#[derive(Debug, Clone, Default)]
pub struct BytesRead(Arc<AtomicU64>);

impl BytesRead {
    /// Bytes read so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct CountingReader<R> {
    inner: R,
    count: BytesRead,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Decompresses on its own thread, a chunk ahead of the reader: decoding
/// costs about as much as parsing, and a replay has two cores to use.
struct DecodeAhead {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    /// Spent chunks go back to the decoder, so no chunk is allocated twice.
    spent: mpsc::SyncSender<Vec<u8>>,
    current: Vec<u8>,
    taken: usize,
}

impl DecodeAhead {
    fn spawn(mut source: impl Read + Send + 'static) -> Self {
        const AHEAD: usize = 4;
        let (send, chunks) = mpsc::sync_channel(AHEAD);
        let (spent, recycled) = mpsc::sync_channel::<Vec<u8>>(AHEAD + 2);
        // Ends when the source does, or when the reader is dropped (send fails).
        std::thread::spawn(move || {
            loop {
                let mut chunk = recycled.try_recv().unwrap_or_default();
                chunk.resize(CHUNK, 0);
                let result = read_full(&mut source, &mut chunk).map(|n| {
                    chunk.truncate(n);
                    chunk
                });
                let last = !matches!(&result, Ok(chunk) if !chunk.is_empty());
                if send.send(result).is_err() || last {
                    break;
                }
            }
        });
        DecodeAhead {
            chunks,
            spent,
            current: Vec::new(),
            taken: 0,
        }
    }
}

/// Reads until `buf` is full or the source ends; the number of bytes read.
fn read_full(source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Read for DecodeAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.taken == self.current.len() {
            match self.chunks.recv() {
                Ok(chunk) => {
                    let spent = std::mem::replace(&mut self.current, chunk?);
                    // A full return channel only means the decoder has enough.
                    let _ = self.spent.try_send(spent);
                }
                // The decoder thread has finished: end of data.
                Err(mpsc::RecvError) => return Ok(0),
            }
            self.taken = 0;
        }
        let n = buf.len().min(self.current.len() - self.taken);
        buf[..n].copy_from_slice(&self.current[self.taken..self.taken + n]);
        self.taken += n;
        Ok(n)
    }
}

/// A trace file opened for reading.
pub struct OpenTrace {
    /// The lookups, in order.
    pub reader: TraceReader<Box<dyn Read + Send>>,
    /// The file's size on disk (compressed size for `.zst`).
    pub file_size: u64,
    /// How many bytes of the file have been read so far.
    pub bytes_read: BytesRead,
}

impl fmt::Debug for OpenTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenTrace")
            .field("path", &self.reader.path)
            .field("format", &self.reader.format)
            .field("file_size", &self.file_size)
            .finish_non_exhaustive()
    }
}

/// Opens a trace file. Zstandard compression is recognised by its magic bytes,
/// whatever the file is called.
///
/// # Errors
/// [`TraceError::Open`] if the file cannot be opened or read,
/// [`TraceError::UnknownFormat`] if no format was given and the name does not tell.
pub fn open_trace(path: &Path, options: TraceOptions) -> Result<OpenTrace, TraceError> {
    let open_error = |source| TraceError::Open {
        path: path.to_path_buf(),
        source,
    };
    let format = options
        .format
        .or_else(|| TraceFormat::from_path(path))
        .ok_or_else(|| TraceError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
    let file = File::open(path).map_err(open_error)?;
    let file_size = file.metadata().map_err(open_error)?.len();
    let bytes_read = BytesRead::default();
    let mut counted = BufReader::with_capacity(
        CHUNK,
        CountingReader {
            inner: file,
            count: bytes_read.clone(),
        },
    );
    let compressed = counted
        .fill_buf()
        .map_err(open_error)?
        .starts_with(&ZSTD_MAGIC);
    let source: Box<dyn Read + Send> = if compressed {
        let decoder = zstd::Decoder::with_buffer(counted).map_err(open_error)?;
        Box::new(DecodeAhead::spawn(decoder))
    } else {
        Box::new(counted)
    };
    Ok(OpenTrace {
        reader: TraceReader::new(source, path, format, options.lis_step),
        file_size,
        bytes_read,
    })
}

/// Bytes read from the source at a time.
const CHUNK: usize = 1 << 18;
/// Longer lines are rejected rather than buffered without bound.
const MAX_LINE: usize = 1 << 20;
/// Accesses parsed ahead into the reader's batch.
const BATCH: usize = 4096;

/// Reads [`Access`]es from a trace, so a trace of any length replays in
/// constant memory (CSV aside: each distinct key is kept once). Lines are
/// parsed a batch at a time; after the first error the iterator ends.
///
/// ```
/// use std::time::Duration;
/// use tenure::policy::Timestamp;
/// use tenure_sim::{Access, TraceFormat, TraceReader};
///
/// let lis = "10 2 0 0\n7 1 0 1\n";
/// let reader = TraceReader::new(lis.as_bytes(), "mem.lis", TraceFormat::Lis, Duration::from_millis(1));
/// let accesses: Vec<Access> = reader.collect::<Result<_, _>>()?;
/// let keys: Vec<u64> = accesses.iter().map(|a| a.key).collect();
/// assert_eq!(keys, [10, 11, 7]);
/// assert_eq!(accesses[2].time, Timestamp::from_nanos(2_000_000));
/// # Ok::<(), tenure_sim::TraceError>(())
/// ```
pub struct TraceReader<R> {
    source: R,
    path: PathBuf,
    format: TraceFormat,
    lis_step_nanos: u64,
    /// Raw bytes; `chunk[start..end]` is not yet parsed.
    chunk: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// The number of the last line taken from `chunk` (1-based).
    line: u64,
    /// Blocks of the current `.lis` line not yet handed out.
    pending: Range<u64>,
    accesses: u64,
    csv_keys: HashMap<Box<str>, u64>,
    /// The clock never goes back: an out-of-order CSV timestamp counts as this.
    latest_nanos: u64,
    batch: Vec<Access>,
    taken: usize,
    /// An error met while filling the batch, reported after the batch.
    error: Option<TraceError>,
    done: bool,
}

impl<R> fmt::Debug for TraceReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceReader")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl<R: Read> TraceReader<R> {
    /// Reads `source` as `format`; `path` names it in errors.
    pub fn new(
        source: R,
        path: impl Into<PathBuf>,
        format: TraceFormat,
        lis_step: Duration,
    ) -> Self {
        TraceReader {
            source,
            path: path.into(),
            format,
            lis_step_nanos: u64::try_from(lis_step.as_nanos()).unwrap_or(u64::MAX),
            chunk: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            line: 0,
            pending: 0..0,
            accesses: 0,
            csv_keys: HashMap::new(),
            latest_nanos: 0,
            batch: Vec::with_capacity(BATCH),
            taken: 0,
            error: None,
            done: false,
        }
    }

    /// The format being read.
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// Distinct keys seen so far (CSV only; 0 for `.lis`).
    pub fn distinct_csv_keys(&self) -> usize {
        self.csv_keys.len()
    }

    fn malformed(&self, reason: impl Into<String>) -> TraceError {
        TraceError::Malformed {
            path: self.path.clone(),
            line: self.line,
            reason: reason.into(),
        }
    }

    /// The next line as a range of `chunk`, without its line ending; `None` at the end.
    fn next_line(&mut self) -> Result<Option<Range<usize>>, TraceError> {
        let mut searched = self.start;
        loop {
            if let Some(at) = self.chunk[searched..self.end]
                .iter()
                .position(|&b| b == b'\n')
            {
                let line = self.start..searched + at;
                self.start = searched + at + 1;
                self.line += 1;
                return Ok(Some(line));
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let line = self.start..self.end;
                self.start = self.end;
                self.line += 1;
                return Ok(Some(line));
            }
            // Keep the partial line, then read more after it.
            self.chunk.copy_within(self.start..self.end, 0);
            searched = self.end - self.start;
            self.end = searched;
            self.start = 0;
            if self.end == self.chunk.len() {
                if self.chunk.len() >= MAX_LINE {
                    self.line += 1;
                    return Err(self.malformed("line is longer than 1 MiB"));
                }
                self.chunk.resize(self.chunk.len() * 2, 0);
            }
            let n = loop {
                match self.source.read(&mut self.chunk[self.end..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(source) => {
                        return Err(TraceError::Read {
                            path: self.path.clone(),
                            line: self.line + 1,
                            source,
                        });
                    }
                }
            };
            self.eof = n == 0;
            self.end += n;
        }
    }

    /// The hot loop of a `.lis` replay: takes whole ordinary lines straight
    /// from the buffer, with the state in locals, until the batch is full or a
    /// line needs the careful path (end of buffer, odd spacing, an error).
    fn fill_lis_in_place(&mut self) {
        let bytes = &self.chunk[self.start..self.end];
        let step = self.lis_step_nanos;
        let mut accesses = self.accesses;
        let mut taken = 0;
        let mut lines = 0;
        while let Some((consumed, blocks)) = lis_line_in_place(&bytes[taken..]) {
            let room = (BATCH - self.batch.len()) as u64;
            if blocks.end - blocks.start > room {
                // Too many blocks for this batch: the careful path hands
                // them out a batch at a time.
                self.pending = blocks;
                taken += consumed;
                lines += 1;
                break;
            }
            for key in blocks {
                self.batch.push(Access {
                    time: Timestamp::from_nanos(accesses.saturating_mul(step)),
                    key,
                });
                accesses += 1;
            }
            taken += consumed;
            lines += 1;
            if self.batch.len() == BATCH {
                break;
            }
        }
        self.start += taken;
        self.line += lines;
        self.accesses = accesses;
    }

    /// Refills the batch; leaves it empty at the end of the trace.
    fn fill_batch(&mut self) -> Result<(), TraceError> {
        self.batch.clear();
        self.taken = 0;
        while self.batch.len() < BATCH {
            if self.format == TraceFormat::Lis && self.pending.is_empty() {
                self.fill_lis_in_place();
                if self.batch.len() == BATCH {
                    break;
                }
            }
            if let Some(key) = self.pending.next() {
                let time = self.accesses.saturating_mul(self.lis_step_nanos);
                self.accesses += 1;
                self.batch.push(Access {
                    time: Timestamp::from_nanos(time),
                    key,
                });
                continue;
            }
            let Some(range) = self.next_line()? else {
                return Ok(());
            };
            let line = self.chunk[range].trim_ascii();
            if line.is_empty() {
                continue;
            }
            match self.format {
                TraceFormat::Lis => match parse_lis_line(line) {
                    Ok(blocks) => self.pending = blocks,
                    Err(reason) => return Err(self.malformed(reason)),
                },
                TraceFormat::Csv => match parse_csv_line(line, self.line) {
                    Ok(None) => {}
                    Ok(Some((millis, key))) => {
                        let Some(nanos) = millis.checked_mul(1_000_000) else {
                            return Err(self.malformed("csv field 1 (`timestamp_ms`) is too large"));
                        };
                        let next_id = self.csv_keys.len() as u64;
                        let id = match self.csv_keys.get(key) {
                            Some(&id) => id,
                            None => {
                                self.csv_keys.insert(key.into(), next_id);
                                next_id
                            }
                        };
                        self.latest_nanos = self.latest_nanos.max(nanos);
                        self.accesses += 1;
                        self.batch.push(Access {
                            time: Timestamp::from_nanos(self.latest_nanos),
                            key: id,
                        });
                    }
                    Err(reason) => return Err(self.malformed(reason)),
                },
            }
        }
        Ok(())
    }
}

/// The first line of `bytes` if it is an ordinary `.lis` line (up to four
/// fields of at most 19 digits, single spaces or more between them) ending in
/// `\n`: the bytes it takes up and its blocks. `None` for anything else, which
/// [`parse_lis_line`] then reads or explains.
#[inline]
fn lis_line_in_place(bytes: &[u8]) -> Option<(usize, Range<u64>)> {
    let mut numbers = [0u64; 4];
    let mut digits = [0u8; 4];
    let mut fields = 0;
    let mut in_field = false;
    for (i, &b) in bytes.iter().enumerate() {
        let digit = b.wrapping_sub(b'0');
        if digit <= 9 {
            if !in_field {
                if fields == 4 {
                    return None;
                }
                in_field = true;
                fields += 1;
            }
            // Up to 19 digits cannot overflow; longer numbers take the careful path.
            numbers[fields - 1] = numbers[fields - 1].wrapping_mul(10) + u64::from(digit);
            digits[fields - 1] = digits[fields - 1].saturating_add(1);
        } else if b == b' ' {
            in_field = false;
        } else if b == b'\n' {
            let [start, count, ..] = numbers;
            if fields < 2 || count == 0 || digits.iter().any(|&d| d > 19) {
                return None;
            }
            return Some((i + 1, start..start.checked_add(count)?));
        } else {
            return None;
        }
    }
    None
}

/// One `.lis` line as the blocks it reads, or what is wrong with it.
fn parse_lis_line(line: &[u8]) -> Result<Range<u64>, String> {
    const NAMES: [&str; 4] = ["start", "count", "ignored", "request"];
    const USAGE: &str = "(expected `start count [ignored [request]]`)";
    let mut numbers = [0u64; 4];
    let mut fields = 0;
    let mut rest = line;
    // One pass over the bytes: this is the hot loop of a replay.
    while let Some(first) = rest.iter().position(|b| !b.is_ascii_whitespace()) {
        rest = &rest[first..];
        let len = rest
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        if fields == 4 {
            return Err(format!("lis line has more than 4 fields {USAGE}"));
        }
        numbers[fields] = parse_u64(&rest[..len]).ok_or_else(|| {
            format!(
                "lis field {} (`{}`) is not an unsigned integer",
                fields + 1,
                NAMES[fields]
            )
        })?;
        fields += 1;
        rest = &rest[len..];
    }
    if fields < 2 {
        return Err(format!("lis line needs at least 2 fields {USAGE}"));
    }
    let [start, count, ..] = numbers;
    if count == 0 {
        return Err("lis field 2 (`count`) must be at least 1".into());
    }
    let end = start
        .checked_add(count)
        .ok_or("lis blocks `start + count` overflow 64 bits")?;
    Ok(start..end)
}

/// One CSV line as `(timestamp_ms, key)`; `None` for a header on line 1.
fn parse_csv_line(line: &[u8], number: u64) -> Result<Option<(u64, &str)>, String> {
    let Some(comma) = line.iter().position(|&b| b == b',') else {
        return Err("csv line has no comma (expected `timestamp_ms,key`)".into());
    };
    let (stamp, key) = (line[..comma].trim_ascii(), line[comma + 1..].trim_ascii());
    if number == 1 && matches!(stamp, b"timestamp_ms" | b"timestamp") && key == b"key" {
        return Ok(None);
    }
    if key.contains(&b',') {
        return Err(
            "csv line has more than 2 fields (expected `timestamp_ms,key`; keys cannot contain commas)"
                .into(),
        );
    }
    let millis =
        parse_u64(stamp).ok_or("csv field 1 (`timestamp_ms`) is not an unsigned integer")?;
    let key = std::str::from_utf8(key).map_err(|_| "csv field 2 (`key`) is not valid UTF-8")?;
    if key.is_empty() {
        return Err("csv field 2 (`key`) is empty".into());
    }
    Ok(Some((millis, key)))
}

/// Parses ASCII decimal digits, rejecting signs, blanks and overflow.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

impl<R: Read> Iterator for TraceReader<R> {
    type Item = Result<Access, TraceError>;

    /// The next access; after an error, `None`.
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(&access) = self.batch.get(self.taken) {
            self.taken += 1;
            return Some(Ok(access));
        }
        self.next_batch()
    }
}

impl<R: Read> TraceReader<R> {
    /// The accesses not yet handed out, a batch at a time (a few thousand),
    /// for a consumer on another thread, in `spare` (a spent batch handed back,
    /// or `Vec::new()`); `None` at the end. After an error, `None`.
    pub fn next_batch_vec(
        &mut self,
        spare: Vec<Access>,
    ) -> Option<Result<Vec<Access>, TraceError>> {
        if self.taken >= self.batch.len() {
            match self.next_batch()? {
                Ok(_) => self.taken = 0,
                Err(error) => return Some(Err(error)),
            }
        }
        let mut rest = spare;
        rest.clear();
        if self.taken == 0 {
            // The usual case: hand over the whole batch and keep the spare.
            std::mem::swap(&mut rest, &mut self.batch);
        } else {
            rest.extend_from_slice(&self.batch[self.taken..]);
            self.batch.clear();
        }
        self.taken = 0;
        Some(Ok(rest))
    }

    /// The slow half of [`Iterator::next`]: refill the batch, or report the end
    /// or a pending error.
    #[cold]
    fn next_batch(&mut self) -> Option<Result<Access, TraceError>> {
        if let Some(error) = self.error.take() {
            self.done = true;
            return Some(Err(error));
        }
        if self.done {
            return None;
        }
        if let Err(error) = self.fill_batch() {
            self.error = Some(error);
        }
        match self.batch.first() {
            Some(&access) => {
                self.taken = 1;
                Some(Ok(access))
            }
            None => {
                self.done = self.error.is_none();
                self.error.take().map(|error| {
                    self.done = true;
                    Err(error)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(format: TraceFormat, text: &str) -> Result<Vec<Access>, TraceError> {
        TraceReader::new(text.as_bytes(), "t", format, Duration::from_millis(1)).collect()
    }

    fn ms(n: u64) -> Timestamp {
        Timestamp::from_nanos(n * 1_000_000)
    }

    #[test]
    fn parses_decimal_digits_only() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"18446744073709551616",
            b"-1",
            b"+1",
            b"1a",
            b" 1",
        ] {
            assert_eq!(parse_u64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lis_expands_counts_and_steps_the_clock() {
        let got = read(TraceFormat::Lis, "5 3 0 0\n\n  9 1\r\n").unwrap();
        let keys: Vec<u64> = got.iter().map(|a| a.key).collect();
        assert_eq!(keys, [5, 6, 7, 9]);
        let times: Vec<Timestamp> = got.iter().map(|a| a.time).collect();
        assert_eq!(times, [ms(0), ms(1), ms(2), ms(3)]);
    }

    #[test]
    fn csv_numbers_keys_and_keeps_time_monotonic() {
        let got = read(
            TraceFormat::Csv,
            "timestamp_ms,key\n1000,alice\n1500, bob \n1200,alice\n",
        )
        .unwrap();
        assert_eq!(
            got,
            [
                Access {
                    time: ms(1000),
                    key: 0
                },
                Access {
                    time: ms(1500),
                    key: 1
                },
                Access {
                    time: ms(1500),
                    key: 0
                },
            ]
        );
    }

    #[test]
    fn stops_after_the_first_error() {
        let mut reader = TraceReader::new(
            "1 1 0 0\nx\n2 1 0 0\n".as_bytes(),
            "t",
            TraceFormat::Lis,
            Duration::from_millis(1),
        );
        assert!(reader.next().unwrap().is_ok());
        assert_eq!(reader.next().unwrap().unwrap_err().line(), Some(2));
        assert!(reader.next().is_none());
    }
}
