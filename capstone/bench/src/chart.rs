//! A small SVG writer for horizontal bar charts: what the book's benchmark
//! figures need, and nothing more (no dependency to build for it).
//!
//! Each group is one line of a benchmark's table (a label on the left), with
//! one bar per series in it (throughput alone, or p50 beside p99). A log
//! scale shows figures that differ by orders of magnitude, as fsync policies
//! do; a dashed reference line marks a baseline or a goal.

use std::fmt::Write as _;

/// A set of bars drawn in one colour, named in the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    /// Any SVG colour.
    pub color: String,
}

/// One bar: its value, where it is drawn, and the text written after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Index into [`BarChart::series`].
    pub series: usize,
    pub value: f64,
    pub text: String,
}

/// A labelled group of bars: one line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub label: String,
    pub bars: Vec<Bar>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// From 0: lengths compare as the values do.
    Linear,
    /// Powers of ten: for values orders of magnitude apart. The bars start at
    /// the power of ten at or below the smallest value.
    Log,
}

/// A dashed vertical line across the plot, labelled above it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    pub value: f64,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BarChart {
    pub title: String,
    /// A second line under the title: the command that produced the figures.
    pub subtitle: String,
    /// The axis title, with its unit.
    pub axis: String,
    pub scale: Scale,
    pub series: Vec<Series>,
    pub groups: Vec<Group>,
    pub reference: Option<Reference>,
}

const WIDTH: f64 = 760.0;
const LABEL_RIGHT: f64 = 250.0;
const PLOT_LEFT: f64 = 262.0;
/// Room on the right for the text after the longest bar.
const PLOT_RIGHT: f64 = WIDTH - 150.0;
const BAR_HEIGHT: f64 = 16.0;
const BAR_GAP: f64 = 3.0;
const GROUP_GAP: f64 = 14.0;
const FONT: &str = "font-family=\"DejaVu Sans, Verdana, sans-serif\"";

impl BarChart {
    /// The chart as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let axis = Axis::new(self.scale, self.values());
        let legend = self.series.len() > 1;
        // Title and command, then the legend, then the reference's label,
        // each on a line of its own.
        let mut plot_top = if legend { 78.0 } else { 62.0 };
        if self.reference.is_some() {
            plot_top += 16.0;
        }
        let plot_height: f64 = self
            .groups
            .iter()
            .map(|group| group.bars.len() as f64 * (BAR_HEIGHT + BAR_GAP) - BAR_GAP + GROUP_GAP)
            .sum::<f64>()
            + GROUP_GAP;
        let plot_bottom = plot_top + plot_height;
        let height = plot_bottom + 48.0;

        let mut svg = String::new();
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" \
             height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" {FONT} \
             font-size=\"12\">"
        );
        let _ = writeln!(
            svg,
            "<rect width=\"{WIDTH}\" height=\"{height}\" fill=\"white\"/>"
        );
        let _ = writeln!(
            svg,
            "<text x=\"12\" y=\"24\" font-size=\"16\" font-weight=\"bold\" \
             fill=\"#222\">{}</text>",
            escape(&self.title)
        );
        let _ = writeln!(
            svg,
            "<text x=\"12\" y=\"44\" fill=\"#555\" \
             font-family=\"DejaVu Sans Mono, monospace\">{}</text>",
            escape(&self.subtitle)
        );
        if legend {
            let mut x = PLOT_LEFT;
            for series in &self.series {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x}\" y=\"55\" width=\"12\" height=\"12\" \
                     fill=\"{}\"/><text x=\"{}\" y=\"65\" fill=\"#222\">{}</text>",
                    escape(&series.color),
                    x + 17.0,
                    escape(&series.name)
                );
                x += 17.0 + 7.5 * series.name.len() as f64 + 24.0;
            }
        }

        // Grid lines and tick labels.
        for (value, label) in axis.ticks() {
            let x = axis.x(value);
            let _ = writeln!(
                svg,
                "<line x1=\"{x:.1}\" y1=\"{plot_top}\" x2=\"{x:.1}\" \
                 y2=\"{plot_bottom}\" stroke=\"#ddd\"/>"
            );
            let _ = writeln!(
                svg,
                "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" \
                 fill=\"#555\">{}</text>",
                plot_bottom + 16.0,
                escape(&label)
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" \
             fill=\"#222\">{}</text>",
            (PLOT_LEFT + PLOT_RIGHT) / 2.0,
            plot_bottom + 36.0,
            escape(&self.axis)
        );

        // Under the bars and their text, which a halo keeps readable.
        if let Some(reference) = &self.reference {
            let x = axis.x(reference.value);
            let _ = writeln!(
                svg,
                "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" \
                 y2=\"{plot_bottom}\" stroke=\"#c0392b\" stroke-width=\"1.5\" \
                 stroke-dasharray=\"5,4\"/>",
                plot_top - 4.0
            );
            let _ = writeln!(
                svg,
                "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" \
                 fill=\"#c0392b\">{}</text>",
                plot_top - 8.0,
                escape(&reference.label)
            );
        }
        // The groups: label on the left, bars from the axis's start.
        let mut y = plot_top + GROUP_GAP;
        for group in &self.groups {
            let group_height = group.bars.len() as f64 * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
            let _ = writeln!(
                svg,
                "<text x=\"{LABEL_RIGHT}\" y=\"{:.1}\" text-anchor=\"end\" \
                 fill=\"#222\">{}</text>",
                y + group_height / 2.0 + 4.0,
                escape(&group.label)
            );
            for bar in &group.bars {
                let color = self
                    .series
                    .get(bar.series)
                    .map_or("#888", |series| series.color.as_str());
                let end = axis.x(bar.value);
                let _ = writeln!(
                    svg,
                    "<rect x=\"{PLOT_LEFT}\" y=\"{y:.1}\" width=\"{:.1}\" \
                     height=\"{BAR_HEIGHT}\" fill=\"{}\"/>",
                    (end - PLOT_LEFT).max(1.0),
                    escape(color)
                );
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#222\" \
                     stroke=\"white\" stroke-width=\"3\" \
                     paint-order=\"stroke\">{}</text>",
                    end.max(PLOT_LEFT) + 5.0,
                    y + BAR_HEIGHT - 4.0,
                    escape(&bar.text)
                );
                y += BAR_HEIGHT + BAR_GAP;
            }
            y += GROUP_GAP - BAR_GAP;
        }
        let _ = writeln!(
            svg,
            "<line x1=\"{PLOT_LEFT}\" y1=\"{plot_top}\" x2=\"{PLOT_LEFT}\" \
             y2=\"{plot_bottom}\" stroke=\"#444\"/>"
        );

        svg.push_str("</svg>\n");
        svg
    }

    fn values(&self) -> Vec<f64> {
        let bars = self
            .groups
            .iter()
            .flat_map(|group| group.bars.iter().map(|bar| bar.value));
        bars.chain(self.reference.as_ref().map(|r| r.value))
            .filter(|value| value.is_finite() && *value > 0.0)
            .collect()
    }
}

/// Where values go on the plot.
struct Axis {
    scale: Scale,
    /// The values at the plot's left and right edges (for a log scale, their
    /// powers of ten).
    low: f64,
    high: f64,
    /// The distance between linear ticks.
    step: f64,
}

impl Axis {
    fn new(scale: Scale, values: Vec<f64>) -> Axis {
        let max = values.iter().copied().fold(f64::MIN, f64::max).max(1e-9);
        let min = values.iter().copied().fold(f64::MAX, f64::min).min(max);
        match scale {
            Scale::Log => {
                let low = min.log10().floor();
                let high = max.log10().ceil().max(low + 1.0);
                Axis {
                    scale,
                    low,
                    high,
                    step: 1.0,
                }
            }
            Scale::Linear => {
                let raw = max / 5.0;
                let magnitude = 10f64.powf(raw.log10().floor());
                let step = [1.0, 2.0, 5.0, 10.0]
                    .into_iter()
                    .map(|m| m * magnitude)
                    .find(|step| *step >= raw)
                    .unwrap_or(10.0 * magnitude);
                // A step of room past the longest bar, for its text.
                let mut high = (max / step).ceil() * step;
                if max > 0.8 * high {
                    high += step;
                }
                Axis {
                    scale,
                    low: 0.0,
                    high,
                    step,
                }
            }
        }
    }

    fn x(&self, value: f64) -> f64 {
        let position = match self.scale {
            Scale::Log => value.max(1e-12).log10(),
            Scale::Linear => value,
        };
        let fraction = (position - self.low) / (self.high - self.low);
        PLOT_LEFT + fraction.clamp(0.0, 1.0) * (PLOT_RIGHT - PLOT_LEFT)
    }

    /// Each tick's value and label.
    fn ticks(&self) -> Vec<(f64, String)> {
        let count = ((self.high - self.low) / self.step).round() as i32;
        (0..=count)
            .map(|i| {
                let at = self.low + f64::from(i) * self.step;
                let value = match self.scale {
                    Scale::Log => 10f64.powf(at),
                    Scale::Linear => at,
                };
                (value, short_number(value))
            })
            .collect()
    }
}

/// `1500` as "1.5k", `2000000` as "2M", `0.01` as "0.01": tick labels.
pub fn short_number(value: f64) -> String {
    let (scaled, suffix) = if value >= 1e6 {
        (value / 1e6, "M")
    } else if value >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = format!("{scaled:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{suffix}")
}

/// `text` with the characters XML gives a meaning escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
