//! Numbers for people: grouped digits and byte sizes.

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
