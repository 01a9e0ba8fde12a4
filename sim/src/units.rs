//! Numbers for people: grouped digits, byte sizes, durations, tables and
//! wrapped text.

use std::fmt::Write as _;
use std::time::Duration;

/// Bytes in decimal units, three significant digits: `"7.62 GB"`, `"170 KB"`.
///
/// ```
/// assert_eq!(tenure_sim::format_bytes(7_620_000_000), "7.62 GB");
/// assert_eq!(tenure_sim::format_bytes(170_000), "170 KB");
/// assert_eq!(tenure_sim::format_bytes(512), "512 B");
/// ```
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 999.5 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = match value {
        _ if unit == 0 => 0,
        v if v < 9.995 => 2,
        v if v < 99.95 => 1,
        _ => 0,
    };
    format!("{value:.decimals$} {}", UNITS[unit])
}

/// An integer with thousands separators: `"1,234,567"`.
///
/// ```
/// assert_eq!(tenure_sim::group_digits(1_234_567), "1,234,567");
/// assert_eq!(tenure_sim::group_digits(999), "999");
/// ```
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Rows of cells as a text table: the first column left-aligned, the others
/// right-aligned, two spaces apart, one line per row.
pub(crate) fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            let cells = rows.iter().filter_map(|row| row.get(c));
            cells.map(|cell| cell.chars().count()).max().unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, (cell, &width)) in row.iter().zip(&widths).enumerate() {
            if c == 0 {
                line.push_str(&format!("{cell:<width$}"));
            } else {
                line.push_str(&format!("  {cell:>width$}"));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `text` broken at spaces into lines of at most `width` characters, the
/// first line starting with `indent`, the others with `hang`.
///
pub(crate) fn wrap(text: &str, width: usize, indent: &str, hang: &str) -> String {
    let mut out = String::from(indent);
    let mut line = indent.chars().count();
    let mut first = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if !first && line + 1 + len > width {
            out.push('\n');
            out.push_str(hang);
            line = hang.chars().count();
        } else if !first {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
        first = false;
    }
    out
}

/// A duration as a clock reads it: `48h`, `24h30m`, `90s`; fractions of a
/// second as humantime writes them.
///
pub(crate) fn clock(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 || secs == 0 {
        return humantime::format_duration(d).to_string();
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut text = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            let _ = write!(text, "{n}{unit}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_at_spaces_within_the_width() {
        let text = "aaa bbb ccc dddd e";
        assert_eq!(wrap(text, 7, "", ""), "aaa bbb\nccc\ndddd e");
        assert_eq!(wrap(text, 100, "", ""), text);
        assert_eq!(wrap("aaa bbb ccc", 9, "  ", "    "), "  aaa bbb\n    ccc");
    }

    #[test]
    fn tables_align_the_first_column_left_and_the_rest_right() {
        let rows = [
            vec!["name".to_string(), "n".into()],
            vec!["a".into(), "1,000".into()],
        ];
        assert_eq!(aligned(&rows), "name      n\na     1,000\n");
    }

    #[test]
    fn clocks_read_in_hours_minutes_and_seconds() {
        let secs = Duration::from_secs;
        assert_eq!(clock(secs(48 * 3600)), "48h");
        assert_eq!(clock(secs(24 * 3600 + 30 * 60)), "24h30m");
        assert_eq!(clock(secs(90)), "1m30s");
        assert_eq!(clock(Duration::from_millis(1500)), "1s 500ms");
        assert_eq!(clock(Duration::ZERO), "0s");
    }
}
