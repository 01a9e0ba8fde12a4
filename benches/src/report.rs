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

impl Measured {
    fn rounds(&self, kind: Kind) -> Option<&[Sample]> {
        let i = self.kinds.iter().position(|&k| k == kind)?;
        Some(&self.samples[i])
    }

    /// ns/op of `kind` over the rounds.
    pub fn ns(&self, kind: Kind) -> Option<Summary> {
        let ns: Vec<f64> = self.rounds(kind)?.iter().map(Sample::ns_per_op).collect();
        Summary::of(&ns)
    }

    /// Per-round paired ratio `ns(a) / ns(b)`, summarised over the rounds.
    pub fn ratio(&self, a: Kind, b: Kind) -> Option<Summary> {
        let (a, b) = (self.rounds(a)?, self.rounds(b)?);
        let ratios: Vec<f64> = a
            .iter()
            .zip(b)
            .map(|(a, b)| a.ns_per_op() / b.ns_per_op())
            .collect();
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
        out.push_str("| cache | ns/op median | ns/op IQR | × floor median | × floor IQR |");
        out.push_str(if show_hits { " hit ratio |\n" } else { "\n" });
        out.push_str("|---|---:|---:|---:|---:|");
        out.push_str(if show_hits { "---:|\n" } else { "\n" });
        for &kind in &self.kinds {
            let Some(ns) = self.ns(kind) else { continue };
            let vs_floor = match self.ratio(kind, Kind::FloorFoldHash) {
                Some(r) => format!("{:.2} | {:.2}–{:.2}", r.median, r.q1, r.q3),
                None => "– | –".to_string(),
            };
            let _ = write!(
                out,
                "| {} | {:.1} | {:.1}–{:.1} | {vs_floor} |",
                kind.name(),
                ns.median,
                ns.q1,
                ns.q3,
            );
            if show_hits {
                let _ = write!(out, " {:.3} |", self.hit_ratio(kind).unwrap_or(0.0));
            }
            out.push('\n');
        }
        out
    }
}

/// One of the issue's targets: `ns(subject) / ns(reference)` compared to `bound`.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Which workload.
    pub workload: Workload,
    /// The cache being judged.
    pub subject: Kind,
    /// What it is compared with.
    pub reference: Kind,
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

/// The issue's targets that `compare` can check.
pub fn targets() -> Vec<Target> {
    use Kind::*;
    let w1 = Workload::W1 { threads: 1 };
    let mut out = vec![Target {
        workload: w1,
        subject: TenureLruBound,
        reference: FloorFoldHash,
        bound: Bound::AtMost(1.3),
    }];
    for subject in [TenureSlidingTtl, TenureHybrid] {
        out.push(Target {
            workload: w1,
            subject,
            reference: FloorFoldHash,
            bound: Bound::AtMost(2.0),
        });
        out.push(Target {
            workload: w1,
            subject,
            reference: QuickCache,
            bound: Bound::AtMost(1.5),
        });
    }
    for workload in [w1, Workload::W2a, Workload::W3] {
        for subject in [TenureSlidingTtl, TenureLruBound, TenureHybrid] {
            out.push(Target {
                workload,
                subject,
                reference: Moka,
                bound: Bound::FasterBy(5.0),
            });
        }
    }
    for subject in [TenureSlidingTtl, TenureLruBound, TenureHybrid] {
        out.push(Target {
            workload: Workload::W2a,
            subject,
            reference: QuickCache,
            bound: Bound::AtMost(1.0),
        });
    }
    for subject in [TenureSlidingTtl, TenureLruBound, TenureHybrid] {
        out.push(Target {
            workload: Workload::W3,
            subject,
            reference: FloorFoldHash,
            bound: Bound::AtMost(1.5),
        });
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
            if met { "yes" } else { "**no**" }
        );
    }
    out
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

    #[test]
    fn targets_are_judged() {
        let table = targets_table(&[measured()]);
        // LruBound: 1.25 ≤ 1.3 → met; moka/LruBound = (10 + 10) / 2 ≥ 5 → met.
        assert!(
            table.contains("| w1 | tenure LruBound ≤ 1.3× floor foldhash | 1.25×"),
            "{table}"
        );
        assert!(
            table.contains("tenure LruBound ≥ 5× faster than moka | 10.00×"),
            "{table}"
        );
        assert!(!table.contains("**no**"), "{table}");
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
