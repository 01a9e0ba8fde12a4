//! Trace files on disk: plain and Zstandard-compressed, good and bad lines.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tenure::policy::Timestamp;
use tenure_sim::{Access, TraceError, TraceFormat, TraceOptions, open_trace};

/// A fresh file under cargo's per-target temp dir.
fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("trace_files");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn zst(text: &str) -> Vec<u8> {
    zstd::encode_all(text.as_bytes(), 3).unwrap()
}

fn read(path: &Path) -> Result<Vec<Access>, TraceError> {
    open_trace(path, TraceOptions::default())?.reader.collect()
}

fn keys(accesses: &[Access]) -> Vec<u64> {
    accesses.iter().map(|a| a.key).collect()
}

#[test]
fn lis_plain_and_compressed_read_the_same() {
    let text = "100 3 0 0\n7 1 0 1\r\n\n100 1 0 2";
    let plain = read(&write("same.lis", text.as_bytes())).unwrap();
    let packed = read(&write("same.lis.zst", &zst(text))).unwrap();
    assert_eq!(plain, packed);
    assert_eq!(keys(&plain), [100, 101, 102, 7, 100]);
    // 1 ms per lookup, counted across lines.
    assert_eq!(plain[4].time, Timestamp::from_nanos(4_000_000));
}

#[test]
fn compression_is_recognised_by_content_not_name() {
    let path = write("packed-but-named.lis", &zst("5 2 0 0\n"));
    assert_eq!(keys(&read(&path).unwrap()), [5, 6]);
}

#[test]
fn lis_step_sets_the_clock() {
    let path = write("step.lis", b"1 3 0 0\n");
    let options = TraceOptions {
        lis_step: Duration::from_secs(2),
        ..TraceOptions::default()
    };
    let got: Vec<Access> = open_trace(&path, options)
        .unwrap()
        .reader
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got[2].time, Timestamp::from_nanos(4_000_000_000));
}

#[test]
fn csv_plain_and_compressed_with_header() {
    let text = "timestamp_ms,key\n10,sk-a\n20,sk-b\n30,sk-a\n";
    for path in [
        write("keys.csv", text.as_bytes()),
        write("keys.csv.zst", &zst(text)),
    ] {
        let got = read(&path).unwrap();
        assert_eq!(keys(&got), [0, 1, 0]);
        assert_eq!(got[2].time, Timestamp::from_nanos(30_000_000));
    }
}

#[test]
fn long_traces_cross_buffer_boundaries() {
    // Far more than one read buffer, with lines of varying length.
    let mut text = String::new();
    let mut expected = Vec::new();
    for i in 0..200_000u64 {
        let block = i * 7919 % 1_000_003;
        text.push_str(&format!("{block} 1 0 {i}\n"));
        expected.push(block);
    }
    let got = read(&write("many-lines.lis.zst", &zst(&text))).unwrap();
    assert_eq!(keys(&got), expected);
}

/// `(file name, content, line of the error, words the message must contain)`.
const BAD: &[(&str, &str, u64, &str)] = &[
    ("letters.lis", "1 1 0 0\n2 x 0 0\n", 2, "field 2 (`count`)"),
    ("zero.lis", "1 1 0 0\n\n3 0 0 0\n", 3, "must be at least 1"),
    ("short.lis", "1\n", 1, "at least 2 fields"),
    ("long.lis", "1 1 0 0\n1 1 0 0 9\n", 2, "more than 4 fields"),
    ("negative.lis", "-1 1 0 0\n", 1, "field 1 (`start`)"),
    (
        "overflow.lis",
        "18446744073709551615 2 0 0\n",
        1,
        "overflow",
    ),
    ("huge.lis", "1 99999999999999999999 0 0\n", 1, "field 2"),
    (
        "digits.lis",
        "1 1 0 0\n2 1 0 999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999\n",
        2,
        "field 4",
    ),
    ("nocomma.csv", "10,a\n20\n", 2, "no comma"),
    ("stamp.csv", "10,a\nsoon,b\n", 2, "`timestamp_ms`"),
    ("fields.csv", "10,a,b\n", 1, "more than 2 fields"),
    ("empty.csv", "10,a\n11, \n", 2, "`key`) is empty"),
    (
        "late-header.csv",
        "10,a\ntimestamp_ms,key\n",
        2,
        "`timestamp_ms`",
    ),
];

#[test]
fn malformed_lines_name_file_and_line() {
    for &(name, text, line, words) in BAD {
        for (file, bytes) in [
            (name.to_string(), text.as_bytes().to_vec()),
            (format!("{name}.zst"), zst(text)),
        ] {
            let path = write(&file, &bytes);
            let err = read(&path).unwrap_err();
            assert_eq!(err.line(), Some(line), "{file}: {err}");
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("{}:{line}: ", path.display())),
                "{message}"
            );
            assert!(message.contains(words), "{file}: {message}");
        }
    }
}

#[test]
fn csv_errors_do_not_echo_the_line() {
    let path = write("leak-check.csv", b"10,sk-live-1\nnot-a-time,sk-live-2\n");
    let message = read(&path).unwrap_err().to_string();
    assert!(message.contains(":2: "), "{message}");
    assert!(!message.contains("sk-live"), "{message}");
}

#[test]
fn accesses_before_a_bad_line_are_delivered() {
    let path = write("partial.lis", b"1 2 0 0\n3 1 0 0\nbad\n");
    let results: Vec<_> = open_trace(&path, TraceOptions::default())
        .unwrap()
        .reader
        .collect();
    assert_eq!(results.len(), 4);
    assert!(results[..3].iter().all(Result::is_ok));
    assert_eq!(results[3].as_ref().unwrap_err().line(), Some(3));
}

#[test]
fn missing_unknown_and_corrupt_files() {
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-trace.lis");
    let err = read(&missing).unwrap_err();
    assert!(matches!(err, TraceError::Open { .. }), "{err}");
    assert!(err.to_string().contains("no-such-trace.lis"));

    let unknown = write("trace.txt", b"1 1 0 0\n");
    assert!(matches!(
        read(&unknown).unwrap_err(),
        TraceError::UnknownFormat { .. }
    ));
    let forced = TraceOptions {
        format: Some(TraceFormat::Lis),
        ..TraceOptions::default()
    };
    assert_eq!(open_trace(&unknown, forced).unwrap().reader.count(), 1);

    let mut corrupt = zst("1 1 0 0\n2 1 0 0\n");
    corrupt.truncate(corrupt.len() - 2);
    let err = read(&write("corrupt.lis.zst", &corrupt)).unwrap_err();
    assert!(
        matches!(err, TraceError::Read { .. } | TraceError::Malformed { .. }),
        "{err}"
    );
}

#[test]
fn a_line_of_more_blocks_than_a_batch() {
    let text = "1 1 0 0\n5 10000 0 1\n7 1 0 2\n";
    let got = read(&write("wide.lis.zst", &zst(text))).unwrap();
    let expected: Vec<u64> = [1].into_iter().chain(5..10_005).chain([7]).collect();
    assert_eq!(keys(&got), expected);
    let times_step_by_one_ms = got
        .iter()
        .enumerate()
        .all(|(i, a)| a.time == Timestamp::from_nanos(i as u64 * 1_000_000));
    assert!(times_step_by_one_ms);
}
