//! Turning bursts into tables, target checks and a chart.

use std::fmt::Write as _;

use crate::contenders::Kind;
use crate::rotation::{Sample, Summary};
use crate::workload::Workload;

/// Every burst of one workload: `samples[i][r]` is cache `kinds[i]` in round `r`.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The workload.
    pub workload: Workload,
    /// The caches, in table order.
    pub kinds: Vec<Kind>,
    /// Bursts per cache per round.
    pub samples: Vec<Vec<Sample>>,
}

/// What a cache's ns/op is divided by, round by round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// One cache's ns/op in the same round.
    Cache(Kind),
    /// The faster of quick_cache and `Mutex<lru>` in the same round: the peers
    /// issue 9's speed targets are set against.
    FastestPeer,
}

impl Reference {
    /// The caches [`Reference::FastestPeer`] picks from.
    pub const PEERS: [Kind; 2] = [Kind::QuickCache, Kind::MutexLru];

    /// The per-round ratio columns of every workload table, in order.
    pub const COLUMNS: [Reference; 4] = [
        Reference::Cache(Kind::FloorFoldHash),
        Reference::Cache(Kind::QuickCache),
        Reference::Cache(Kind::MutexLru),
        Reference::FastestPeer,
    ];

    /// The name in a ratio column's heading.
    pub fn column_name(self) -> &'static str {
        match self {
            Reference::Cache(Kind::FloorFoldHash) => "floor",
            Reference::Cache(kind) => kind.name(),
            Reference::FastestPeer => "fastest peer",
        }
    }

    /// The name in a target's text.
    pub fn short_name(self) -> &'static str {
        match self {
            Reference::Cache(kind) => kind.short_name(),
            Reference::FastestPeer => "the faster of quick_cache and Mutex<lru>",
        }
    }
}

impl From<Kind> for Reference {
    fn from(kind: Kind) -> Reference {
        Reference::Cache(kind)
    }
}

impl Measured {
    fn rounds(&self, kind: Kind) -> Option<&[Sample]> {
        let i = self.kinds.iter().position(|&k| k == kind)?;
        Some(&self.samples[i])
    }

    /// ns/op of `reference` in each round; `None` if a cache it needs was not measured.
    fn round_ns(&self, reference: Reference) -> Option<Vec<f64>> {
        let ns = |kind| -> Option<Vec<f64>> {
            Some(self.rounds(kind)?.iter().map(Sample::ns_per_op).collect())
        };
        match reference {
            Reference::Cache(kind) => ns(kind),
            Reference::FastestPeer => {
                let [a, b] = Reference::PEERS.map(ns);
                Some(a?.iter().zip(b?).map(|(a, b)| a.min(b)).collect())
            }
        }
    }

    /// ns/op of `kind` over the rounds.
    pub fn ns(&self, kind: Kind) -> Option<Summary> {
        Summary::of(&self.round_ns(kind.into())?)
    }

    /// Per-round paired ratio `ns(a) / ns(b)`, summarised over the rounds.
    pub fn ratio(&self, a: impl Into<Reference>, b: impl Into<Reference>) -> Option<Summary> {
        let (a, b) = (self.round_ns(a.into())?, self.round_ns(b.into())?);
        let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
        Summary::of(&ratios)
    }

    /// Hits over all measured operations of `kind`.
    pub fn hit_ratio(&self, kind: Kind) -> Option<f64> {
        let rounds = self.rounds(kind)?;
        let (hits, ops) = rounds
            .iter()
            .fold((0u64, 0u64), |(h, o), s| (h + s.hits, o + s.ops));
        Some(hits as f64 / ops.max(1) as f64)
    }

    /// The markdown table of this workload.
    pub fn table(&self) -> String {
        let show_hits = matches!(self.workload, Workload::W2a | Workload::W2b);
        let mut out = format!("#### {}\n\n", self.workload.title());
        out.push_str("| cache | ns/op median | ns/op IQR |");
        for reference in Reference::COLUMNS {
            let name = reference.column_name();
            let _ = write!(out, " × {name} median | × {name} IQR |");
        }
        out.push_str(if show_hits { " hit ratio |\n" } else { "\n" });
        out.push_str("|---|---:|---:|");
        out.push_str(&"---:|---:|".repeat(Reference::COLUMNS.len()));
        out.push_str(if show_hits { "---:|\n" } else { "\n" });
        for &kind in &self.kinds {
            let Some(ns) = self.ns(kind) else { continue };
            let _ = write!(
                out,
                "| {} | {:.1} | {:.1}–{:.1} |",
                kind.name(),
                ns.median,
                ns.q1,
                ns.q3,
            );
            for reference in Reference::COLUMNS {
                let _ = match self.ratio(kind, reference) {
                    Some(r) => write!(out, " {:.2} | {:.2}–{:.2} |", r.median, r.q1, r.q3),
                    None => write!(out, " – | – |"),
                };
            }
            if show_hits {
                let _ = write!(out, " {:.3} |", self.hit_ratio(kind).unwrap_or(0.0));
            }
            out.push('\n');
        }
        out
    }
}

/// One of issue 9's speed targets: `ns(subject) / ns(reference)` per round,
/// its median compared to `bound`.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Which workload.
    pub workload: Workload,
    /// The cache being judged.
    pub subject: Kind,
    /// What it is compared with.
    pub reference: Reference,
    /// The bound on the ratio.
    pub bound: Bound,
}

/// How a ratio must relate to its bound.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// `ns(subject) / ns(reference) <= x`.
    AtMost(f64),
    /// `ns(reference) / ns(subject) >= x` (subject at least `x` times faster).
    FasterBy(f64),
}

/// Issue 9's speed targets, all of which `compare` checks.
pub fn targets() -> Vec<Target> {
    use Kind::*;
    const POLICIES: [Kind; 3] = [TenureLruBound, TenureSlidingTtl, TenureHybrid];
    let w1 = Workload::W1 { threads: 1 };
    let mut out = Vec::new();
    for workload in [w1, Workload::W1 { threads: 2 }, Workload::W2a, Workload::W3] {
        for subject in POLICIES {
            // The time-keeping policies get more room: they keep deadlines too.
            let x = if subject == TenureLruBound { 1.1 } else { 1.3 };
            out.push(Target {
                workload,
                subject,
                reference: Reference::FastestPeer,
                bound: Bound::AtMost(x),
            });
        }
    }
    for workload in [w1, Workload::W2a, Workload::W3] {
        for subject in POLICIES {
            out.push(Target {
                workload,
                subject,
                reference: Moka.into(),
                bound: Bound::FasterBy(8.0),
            });
        }
    }
    out
}

/// The markdown table of every target whose workload was measured.
pub fn targets_table(measured: &[Measured]) -> String {
    let mut out = String::from(
        "| workload | target | measured: median (IQR) of per-round paired ratios | met |\n|---|---|---|---|\n",
    );
    for t in targets() {
        let Some(m) = measured.iter().find(|m| m.workload == t.workload) else {
            continue;
        };
        let (text, ratio, met) = match t.bound {
            Bound::AtMost(x) => {
                let Some(r) = m.ratio(t.subject, t.reference) else {
                    continue;
                };
                (
                    format!(
                        "{} ≤ {x}× {}",
                        t.subject.short_name(),
                        t.reference.short_name()
                    ),
                    r,
                    r.median <= x,
                )
            }
            Bound::FasterBy(x) => {
                let Some(r) = m.ratio(t.reference, t.subject) else {
                    continue;
                };
                (
                    format!(
                        "{} ≥ {x}× faster than {}",
                        t.subject.short_name(),
                        t.reference.short_name()
                    ),
                    r,
                    r.median >= x,
                )
            }
        };
        let _ = writeln!(
            out,
            "| {} | {text} | {:.2}× ({:.2}–{:.2}) | {} |",
            t.workload.label(),
            ratio.median,
            ratio.q1,
            ratio.q3,
            met_cell(met)
        );
    }
    out
}

/// Issue 9's memory target, checked by `memory`: at W4, `subject` holds at most
/// `max_bytes` of heap per entry.
#[derive(Debug, Clone, Copy)]
pub struct MemoryTarget {
    /// The cache being judged.
    pub subject: Kind,
    /// The most heap bytes per entry allowed.
    pub max_bytes: f64,
}

/// Every memory target.
pub const MEMORY_TARGETS: [MemoryTarget; 1] = [MemoryTarget {
    subject: Kind::TenureHybrid,
    max_bytes: 56.0,
}];

/// The markdown table of every memory target whose cache was measured;
/// `bytes_per_entry` gives a cache's measured heap bytes per entry.
pub fn memory_targets_table(bytes_per_entry: impl Fn(Kind) -> Option<f64>) -> String {
    let mut out = String::from("| workload | target | measured | met |\n|---|---|---|---|\n");
    for t in MEMORY_TARGETS {
        let Some(bytes) = bytes_per_entry(t.subject) else {
            continue;
        };
        let _ = writeln!(
            out,
            "| w4 | {} ≤ {} heap bytes/entry | {bytes:.1} B | {} |",
            t.subject.short_name(),
            t.max_bytes,
            met_cell(bytes <= t.max_bytes)
        );
    }
    out
}

fn met_cell(met: bool) -> &'static str {
    if met { "yes" } else { "**no**" }
}

/// A horizontal bar chart (log scale) of median ns/op per cache, one panel per
/// workload, as a standalone SVG document.
pub fn svg_chart(measured: &[Measured]) -> String {
    const LEFT: f64 = 170.0;
    const WIDTH: f64 = 520.0;
    const BAR: f64 = 14.0;
    const GAP: f64 = 4.0;
    // The axis spans 10 ns (10^1) to 10,000 ns (10^4).
    const LO: f64 = 1.0;
    const HI: f64 = 4.0;
    let x_of = |ns: f64| LEFT + WIDTH * ((ns.max(10.0).log10() - LO) / (HI - LO)).min(1.0);
    let mut body = String::new();
    let mut y = 30.0;
    for m in measured {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{:.0}" font-weight="bold">{}</text>"#,
            y + 12.0,
            xml_escape(&m.workload.title())
        );
        y += 22.0;
        let top = y;
        for &kind in &m.kinds {
            let Some(ns) = m.ns(kind) else { continue };
            let colour = if kind.is_tenure() {
                "#2a7ab9"
            } else {
                "#9a9a9a"
            };
            let _ = writeln!(
                body,
                r#"<text x="{:.0}" y="{:.0}" text-anchor="end">{}</text><rect x="{LEFT}" y="{y:.0}" width="{:.1}" height="{BAR}" fill="{colour}"/><text x="{:.1}" y="{:.0}">{:.0}</text>"#,
                LEFT - 6.0,
                y + BAR - 3.0,
                xml_escape(kind.short_name()),
                x_of(ns.median) - LEFT,
                x_of(ns.median) + 4.0,
                y + BAR - 3.0,
                ns.median
            );
            y += BAR + GAP;
        }
        for decade in [10.0f64, 100.0, 1_000.0, 10_000.0] {
            let x = x_of(decade);
            let _ = writeln!(
                body,
                r##"<line x1="{x:.1}" y1="{top:.0}" x2="{x:.1}" y2="{y:.0}" stroke="#ccc" stroke-dasharray="3,3"/><text x="{x:.1}" y="{:.0}" text-anchor="middle" fill="#666">{decade} ns</text>"##,
                y + 12.0
            );
        }
        y += 30.0;
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{y:.0}" font-family="sans-serif" font-size="12">
<text x="10" y="16" font-size="14">Per-thread CPU ns/op, median of interleaved rounds (log scale; tenure in blue)</text>
{body}</svg>
"#,
        LEFT + WIDTH + 60.0
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn sample(ns: u64) -> Sample {
        Sample {
            ops: 1_000,
            cpu: Duration::from_nanos(ns * 1_000),
            hits: 500,
        }
    }

    fn measured() -> Measured {
        Measured {
            workload: Workload::W1 { threads: 1 },
            kinds: vec![Kind::FloorFoldHash, Kind::TenureLruBound, Kind::Moka],
            samples: vec![
                vec![sample(20), sample(40)],
                vec![sample(30), sample(40)],
                vec![sample(300), sample(400)],
            ],
        }
    }

    #[test]
    fn ratios_are_paired_per_round() {
        let m = measured();
        let r = m.ratio(Kind::TenureLruBound, Kind::FloorFoldHash).unwrap();
        // Rounds give 1.5 and 1.0; unpaired medians would give 35/30.
        assert_eq!(r.median, 1.25);
        assert_eq!(m.hit_ratio(Kind::Moka), Some(0.5));
    }

    /// Both peers, each the faster in one round, and two policies at fixed
    /// multiples of the faster peer in every round.
    fn with_peers() -> Measured {
        Measured {
            workload: Workload::W1 { threads: 1 },
            kinds: vec![
                Kind::QuickCache,
                Kind::MutexLru,
                Kind::Moka,
                Kind::TenureLruBound,
                Kind::TenureHybrid,
            ],
            samples: vec![
                vec![sample(20), sample(50)],
                vec![sample(30), sample(40)],
                vec![sample(200), sample(400)],
                // 1.05× the faster peer, and 9.52× faster than moka, in each round.
                vec![sample(21), sample(42)],
                // 1.4× the faster peer, and 7.14× faster than moka, in each round.
                vec![sample(28), sample(56)],
            ],
        }
    }

    #[test]
    fn the_fastest_peer_is_the_faster_of_the_two_in_each_round() {
        let m = with_peers();
        let r = m
            .ratio(Kind::TenureLruBound, Reference::FastestPeer)
            .unwrap();
        assert_eq!((r.q1, r.median, r.q3), (1.05, 1.05, 1.05));
        // Against either peer alone, one round flatters LruBound.
        for peer in Reference::PEERS {
            assert!(m.ratio(Kind::TenureLruBound, peer).unwrap().median < 1.05);
        }
        let mut one_peer = with_peers();
        one_peer.kinds.remove(1);
        one_peer.samples.remove(1);
        assert!(
            one_peer
                .ratio(Kind::TenureLruBound, Reference::FastestPeer)
                .is_none()
        );
    }

    #[test]
    fn tables_have_a_ratio_column_pair_per_reference() {
        let table = with_peers().table();
        let mut lines = table.lines().skip(2);
        let header = lines.next().unwrap();
        for name in ["floor", "quick_cache", "`Mutex<lru>`", "fastest peer"] {
            assert!(
                header.contains(&format!("| × {name} median | × {name} IQR |")),
                "{table}"
            );
        }
        let columns = header.matches('|').count();
        for row in lines.skip(1) {
            assert_eq!(row.matches('|').count(), columns, "{row}");
        }
        let lru_bound = table
            .lines()
            .find(|l| l.starts_with("| tenure LruBound |"))
            .unwrap();
        // No floor measured: its columns are empty; the fastest peer's come last.
        assert!(
            lru_bound.starts_with("| tenure LruBound | 31.5 | 26.2–36.8 | – | – |"),
            "{lru_bound}"
        );
        assert!(lru_bound.ends_with("| 1.05 | 1.05–1.05 |"), "{lru_bound}");
    }

    #[test]
    fn targets_are_judged() {
        let table = targets_table(&[with_peers()]);
        let peer = "the faster of quick_cache and Mutex<lru>";
        for row in [
            format!("| w1 | tenure LruBound ≤ 1.1× {peer} | 1.05× (1.05–1.05) | yes |"),
            format!("| w1 | tenure Hybrid ≤ 1.3× {peer} | 1.40× (1.40–1.40) | **no** |"),
            "| w1 | tenure LruBound ≥ 8× faster than moka | 9.52× (9.52–9.52) | yes |".to_string(),
            "| w1 | tenure Hybrid ≥ 8× faster than moka | 7.14× (7.14–7.14) | **no** |".to_string(),
        ] {
            assert!(table.contains(&row), "{row}\nnot in\n{table}");
        }
        // Rows only for what was measured: two policies on one workload.
        assert_eq!(table.lines().count(), 2 + 4, "{table}");
    }

    #[test]
    fn memory_targets_are_judged() {
        let row =
            |bytes: f64| memory_targets_table(|kind| (kind == Kind::TenureHybrid).then_some(bytes));
        assert!(row(55.2).contains("| w4 | tenure Hybrid ≤ 56 heap bytes/entry | 55.2 B | yes |"));
        assert!(row(56.1).contains("| 56.1 B | **no** |"));
        assert_eq!(memory_targets_table(|_| None).lines().count(), 2);
    }

    #[test]
    fn chart_has_a_bar_per_cache_and_escapes_names() {
        let mut m = measured();
        m.kinds.push(Kind::MutexLru);
        m.samples.push(vec![sample(25), sample(25)]);
        let svg = svg_chart(&[m]);
        assert_eq!(svg.matches("<rect").count(), 4);
        assert!(svg.contains("Mutex&lt;lru&gt;"), "{svg}");
        assert!(!svg.contains("<lru>"));
        assert!(svg.starts_with("<svg"));
    }
}
