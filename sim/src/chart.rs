//! Line charts as self-contained SVG, drawn with `plotters`: live entries over
//! time (the scenario) and hit ratio against capacity (a sweep).

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use tenure::policy::Timestamp;

use crate::run::Sample;
use crate::units::group_digits;

/// One line of a [`live_entries_svg`] chart.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// The legend text.
    pub label: &'a str,
    /// The points, in time order.
    pub samples: &'a [Sample],
}

/// One line of a [`hit_ratio_svg`] chart.
#[derive(Debug, Clone, Copy)]
pub struct RatioLine<'a> {
    /// The legend text.
    pub label: &'a str,
    /// `(capacity, hit ratio in percent)`, in capacity order.
    pub points: &'a [(usize, f64)],
}

const SIZE: (u32, u32) = (960, 540);
/// Width of the legend column, right of the plot.
const LEGEND_WIDTH: u32 = 230;
/// Red for the first line (the leak, in the scenario), then the rest of the
/// usual ten-colour palette, so up to ten lines never share a colour.
const COLOURS: [RGBColor; 10] = [
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];
const HOUR_NANOS: f64 = 3.6e12;

/// The colour and width of line `index` of `count`: each line is drawn a
/// pixel thinner than the one before, on top of it, so a line that lies on
/// another (hybrid on lru, when nothing expires) leaves the other's edges
/// showing. The last line is 2 px wide, the first at most 7.
fn line_style(index: usize, count: usize) -> ShapeStyle {
    let width = (2 + count.saturating_sub(index + 1)).min(7) as u32;
    COLOURS[index % COLOURS.len()].stroke_width(width)
}

/// One line as drawn: legend text, style, and points in chart coordinates.
struct Line {
    label: String,
    style: ShapeStyle,
    points: Vec<(f64, f64)>,
}

/// What a chart shows: title, axes (but the x range), and the lines with
/// their styles.
struct Plot<'a> {
    title: &'a str,
    x_desc: &'a str,
    x_label: &'a dyn Fn(&f64) -> String,
    y_max: f64,
    y_desc: &'a str,
    y_label: &'a dyn Fn(&f64) -> String,
    lines: Vec<Line>,
    markers: bool,
}

/// Draws `plot` into an SVG string; a drawing error (none is expected when
/// drawing into memory) becomes a chart that says so.
fn render<X>(plot: Plot<'_>, x: X) -> String
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let mut svg = String::new();
    if let Err(e) = draw(&mut svg, plot, x) {
        svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}"><text x="20" y="40">chart could not be drawn: {}</text></svg>"#,
            SIZE.0,
            SIZE.1,
            escape(&e.to_string())
        );
    }
    svg
}

fn draw<X>(
    svg: &mut String,
    plot: Plot<'_>,
    x: X,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let below_title = root.titled(plot.title, ("sans-serif", 24))?;
    // The legend has a column of its own, so it never hides a line.
    let (left, legend) = below_title.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let mut chart = ChartBuilder::on(&left)
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x, 0.0..plot.y_max)?;
    chart
        .configure_mesh()
        .x_desc(plot.x_desc)
        .y_desc(plot.y_desc)
        .x_label_formatter(plot.x_label)
        .y_label_formatter(plot.y_label)
        .label_style(("sans-serif", 17))
        .axis_desc_style(("sans-serif", 18))
        .max_light_lines(0)
        .y_labels(8)
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .draw()?;
    for (i, line) in plot.lines.iter().enumerate() {
        let style = line.style;
        chart.draw_series(LineSeries::new(line.points.iter().copied(), style))?;
        if plot.markers {
            let size = style.stroke_width + 2;
            let dot = |&p| Circle::new(p, size, style.color.filled());
            chart.draw_series(line.points.iter().map(dot))?;
        }
        // A swatch rather than a line: plotters draws axes and ticks as
        // 1 px polylines, so the data lines are the only wider ones.
        let y = 30 + 28 * i as i32;
        legend.draw(&Rectangle::new(
            [(5, y - 3), (35, y + 3)],
            style.color.filled(),
        ))?;
        legend.draw(&Text::new(
            line.label.as_str(),
            (45, y - 9),
            ("sans-serif", 17),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// The smallest of 1, 2 or 5 × 10^k that is at least `rough`.
fn nice_step(rough: f64) -> f64 {
    let magnitude = 10f64.powf(rough.max(1.0).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= rough)
        .unwrap_or(10.0 * magnitude)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG chart of entries held over time titled `title`, one line per
/// series, x axis in hours from 0 to `end`.
///
/// ```
/// use tenure::policy::Timestamp;
/// use tenure_sim::{Sample, Series, live_entries_svg};
///
/// let hour = |h: u64| Timestamp::from_nanos(h * 3_600_000_000_000);
/// let samples = [Sample { time: hour(0), len: 0 }, Sample { time: hour(2), len: 1500 }];
/// let svg = live_entries_svg("Live entries", &[Series { label: "map", samples: &samples }], hour(2));
/// assert!(svg.starts_with("<svg"));
/// assert!(svg.contains("<polyline"));
/// assert!(svg.contains(">\nmap\n</text>"));
/// ```
pub fn live_entries_svg(title: &str, series: &[Series<'_>], end: Timestamp) -> String {
    let hours = (end.as_nanos() as f64 / HOUR_NANOS).max(1e-9);
    let peak = series
        .iter()
        .flat_map(|s| s.samples.iter().map(|p| p.len))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let y_step = nice_step(peak / 6.0);
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let points = s.samples.iter();
            let points = points.map(|p| (p.time.as_nanos() as f64 / HOUR_NANOS, p.len as f64));
            Line {
                label: s.label.to_owned(),
                style: line_style(i, series.len()),
                points: points.collect(),
            }
        })
        .collect();
    let plot = Plot {
        title,
        x_desc: "simulated time (hours)",
        x_label: &|h| format!("{}", (h * 100.0).round() / 100.0),
        y_max: (peak / y_step).ceil() * y_step,
        y_desc: "entries held",
        y_label: &|n| group_digits(n.round() as u64),
        lines,
        markers: false,
    };
    render(plot, 0.0..hours)
}

/// An SVG chart of hit ratio (percent) against capacity, one line per policy,
/// a marker at each capacity measured. The capacity axis is logarithmic when
/// the capacities span more than a factor of 10.
///
/// ```
/// use tenure_sim::{RatioLine, hit_ratio_svg};
///
/// let lru = [(100, 20.0), (10_000, 60.0)];
/// let svg = hit_ratio_svg("demo", &[RatioLine { label: "lru", points: &lru }]);
/// assert!(svg.starts_with("<svg"));
/// assert!(svg.contains(r##"<polyline fill="none" opacity="1" stroke="#D62728""##));
/// assert!(svg.contains(">\nlru\n</text>"));
/// ```
pub fn hit_ratio_svg(title: &str, lines: &[RatioLine<'_>]) -> String {
    let capacities = || {
        lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.0 as f64))
    };
    let low = capacities().fold(f64::INFINITY, f64::min).max(1.0);
    let high = capacities().fold(0.0, f64::max).max(low + 1.0);
    let best = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let mut ticks: Vec<f64> = capacities().collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    let styled = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let points = l.points.iter().map(|&(c, r)| (c as f64, r)).collect();
            Line {
                label: l.label.to_owned(),
                style: line_style(i, lines.len()),
                points,
            }
        })
        .collect();
    let x_label = |c: &f64| group_digits(c.round() as u64);
    let y_label = |r: &f64| format!("{r}");
    let plot = Plot {
        title,
        x_desc: "capacity (entries)",
        x_label: &x_label,
        y_max: (10.0 * (best / 10.0 + 0.5).ceil()).min(100.0),
        y_desc: "hit ratio (%)",
        y_label: &y_label,
        lines: styled,
        markers: true,
    };
    // A margin around the outermost capacities keeps their markers whole. On
    // a log axis, plotters' own ticks are powers of ten only, so the ticks
    // are the capacities measured; on a linear one its round numbers read well.
    if high / low > 10.0 {
        render(
            plot,
            (low / 1.2..high * 1.2).log_scale().with_key_points(ticks),
        )
    } else {
        let pad = (high - low) / 20.0;
        render(plot, low - pad..high + pad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_numbers() {
        assert_eq!(nice_step(0.3), 1.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(12_000.0), 20_000.0);
        assert_eq!(nice_step(50.0), 50.0);
    }

    /// Polylines wider than plotters' 1 px axes and ticks.
    fn data_lines(svg: &str) -> usize {
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && !l.contains(r#"stroke-width="1""#))
            .count()
    }

    #[test]
    fn sweep_charts_draw_a_line_and_a_marker_per_point() {
        let a = [(100, 10.0), (1_000, 30.0), (10_000, 50.0)];
        let b = [(100, 20.0), (1_000, 40.0), (10_000, 60.0)];
        let svg = hit_ratio_svg(
            "t",
            &[
                RatioLine {
                    label: "a",
                    points: &a,
                },
                RatioLine {
                    label: "opt",
                    points: &b,
                },
            ],
        );
        assert_eq!(data_lines(&svg), 2);
        assert_eq!(svg.matches("<circle").count(), 6);
        // A log axis: 1,000 sits halfway between 100 and 10,000.
        let x_of = |label: &str| -> f64 {
            let at = svg.find(&format!(">\n{label}\n</text>")).unwrap();
            let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
            let x = &tag[tag.find("x=\"").unwrap() + 3..];
            x[..x.find('"').unwrap()].parse().unwrap()
        };
        let (low, mid, high) = (x_of("100"), x_of("1,000"), x_of("10,000"));
        assert!(
            ((mid - low) - (high - mid)).abs() <= 1.0,
            "{low} {mid} {high}"
        );
    }

    #[test]
    fn labels_are_escaped_and_every_line_is_drawn() {
        let samples: Vec<Sample> = (0..=48)
            .map(|h| Sample {
                time: Timestamp::from_nanos(h * 3_600_000_000_000),
                len: (h * 1000) as usize,
            })
            .collect();
        let series = [
            Series {
                label: "a <b>",
                samples: &samples,
            },
            Series {
                label: "c",
                samples: &samples[..10],
            },
        ];
        let svg = live_entries_svg("t", &series, Timestamp::from_nanos(48 * 3_600_000_000_000));
        assert!(svg.contains("a &lt;b&gt;"), "{svg}");
        assert_eq!(data_lines(&svg), 2);
        assert!(svg.contains(">\nc\n</text>"), "{svg}");
    }
}
