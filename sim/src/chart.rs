//! A line chart of live entries over time, as a self-contained SVG.

use std::fmt::Write as _;

use tenure::policy::Timestamp;

use crate::run::Sample;
use crate::units::group_digits;

/// One line on the chart.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// The legend text.
    pub label: &'a str,
    /// The points, in time order.
    pub samples: &'a [Sample],
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 540.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 250.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
/// Red for the leak, then colours that stay distinct for colour-blind readers.
const COLOURS: [&str; 6] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// The smallest of 1, 2 or 5 × 10^k that is at least `rough`.
fn nice_step(rough: f64) -> f64 {
    let magnitude = 10f64.powf(rough.max(1.0).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= rough)
        .unwrap_or(10.0 * magnitude)
}

/// The smallest step in hours that reads well on a clock (1, 2, 3, 6, 12, 24,
/// 48, ...) and is at least `rough`; below an hour, a round number of minutes.
fn hour_step(rough: f64) -> f64 {
    if rough < 1.0 {
        return nice_step(rough * 60.0) / 60.0;
    }
    [1.0, 2.0, 3.0, 6.0, 12.0]
        .into_iter()
        .find(|&step| step >= rough)
        .unwrap_or_else(|| 24.0 * (rough / 24.0).ceil())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG chart of entries held over time, one line per series, x axis in hours
/// from 0 to `end`.
///
/// ```
/// use tenure::policy::Timestamp;
/// use tenure_sim::{Sample, Series, live_entries_svg};
///
/// let hour = |h: u64| Timestamp::from_nanos(h * 3_600_000_000_000);
/// let samples = [Sample { time: hour(0), len: 0 }, Sample { time: hour(2), len: 1500 }];
/// let svg = live_entries_svg(&[Series { label: "map", samples: &samples }], hour(2));
/// assert!(svg.starts_with("<svg"));
/// assert!(svg.contains("<polyline"));
/// assert!(svg.contains(">map</text>"));
/// ```
pub fn live_entries_svg(series: &[Series<'_>], end: Timestamp) -> String {
    let hours = (end.as_nanos() as f64 / 3.6e12).max(1e-9);
    let peak = series
        .iter()
        .flat_map(|s| s.samples.iter().map(|p| p.len))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let y_step = nice_step(peak / 6.0);
    let y_max = (peak / y_step).ceil() * y_step;
    let x_step = hour_step(hours / 8.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |t: Timestamp| LEFT + plot_w * (t.as_nanos() as f64 / 3.6e12) / hours;
    let y = |len: f64| TOP + plot_h * (1.0 - len / y_max);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="30" font-size="16" font-weight="bold">Live entries over time</text>"#
    );
    // Grid lines and y labels.
    let mut tick = 0.0;
    while tick <= y_max + y_step / 2.0 {
        let ty = y(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 8.0,
            ty + 4.0,
            group_digits(tick as u64)
        );
        tick += y_step;
    }
    let mut hour = 0.0;
    while hour <= hours + 1e-9 {
        let tx = LEFT + plot_w * hour / hours;
        let _ = writeln!(
            svg,
            r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#333"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 5.0,
            TOP + plot_h + 20.0,
            (hour * 100.0).round() / 100.0
        );
        hour += x_step;
    }
    let _ = writeln!(
        svg,
        r##"<path d="M{LEFT} {TOP} V{:.1} H{:.1}" fill="none" stroke="#333"/>"##,
        TOP + plot_h,
        LEFT + plot_w
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">simulated time (hours)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 15.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle">entries held</text>"#,
        TOP + plot_h / 2.0
    );
    for (i, line) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        // Later lines are dashed, so a line drawn over another stays visible.
        let dash = if i >= 3 {
            r#" stroke-dasharray="8 5""#
        } else {
            ""
        };
        let mut points = String::new();
        for sample in line.samples {
            let _ = write!(points, "{:.1},{:.1} ", x(sample.time), y(sample.len as f64));
        }
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{}"/>"#,
            points.trim_end()
        );
        let ly = TOP + 20.0 + 24.0 * i as f64;
        let lx = WIDTH - RIGHT + 20.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="{colour}" stroke-width="3"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 24.0,
            lx + 32.0,
            ly + 4.0,
            escape(line.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_steps_follow_the_clock() {
        assert_eq!(hour_step(6.0), 6.0);
        assert_eq!(hour_step(4.0), 6.0);
        assert_eq!(hour_step(13.0), 24.0);
        assert_eq!(hour_step(30.0), 48.0);
        assert_eq!(hour_step(0.3), 20.0 / 60.0);
    }

    #[test]
    fn steps_are_round_numbers() {
        assert_eq!(nice_step(0.3), 1.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(12_000.0), 20_000.0);
        assert_eq!(nice_step(50.0), 50.0);
    }

    #[test]
    fn points_stay_inside_the_plot() {
        let samples: Vec<Sample> = (0..=48)
            .map(|h| Sample {
                time: Timestamp::from_nanos(h * 3_600_000_000_000),
                len: (h * 1000) as usize,
            })
            .collect();
        let svg = live_entries_svg(
            &[Series {
                label: "a <b>",
                samples: &samples,
            }],
            Timestamp::from_nanos(48 * 3_600_000_000_000),
        );
        assert!(svg.contains("a &lt;b&gt;"));
        let points = svg.split("points=\"").nth(1).unwrap();
        let points = &points[..points.find('"').unwrap()];
        for point in points.split(' ') {
            let (px, py) = point.split_once(',').unwrap();
            let (px, py): (f64, f64) = (px.parse().unwrap(), py.parse().unwrap());
            assert!((LEFT..=WIDTH - RIGHT).contains(&px), "{px}");
            assert!((TOP..=HEIGHT - BOTTOM).contains(&py), "{py}");
        }
    }
}
