//! Stats charts: proportion bars, a mean with its confidence interval, a calibration
//! (reliability) plot, and PGR against strong model.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph, Widget};

use crate::tui::theme::Theme;

/// `label ███████░░░░ 0.72` for a value in `[0, 1]` (NaN shows `n/a`).
pub fn proportion_line<'a>(
    label: &str,
    label_w: usize,
    value: f64,
    width: usize,
    color: Color,
    theme: &Theme,
) -> Line<'a> {
    let bar_w = width.saturating_sub(label_w + 7).max(4);
    let mut spans = vec![Span::styled(format!("{label:<label_w$}"), theme.dimmed())];
    if value.is_finite() {
        let filled = ((value.clamp(0.0, 1.0)) * bar_w as f64).round() as usize;
        spans.push(Span::styled("█".repeat(filled), Style::default().fg(color)));
        spans.push(Span::styled("░".repeat(bar_w - filled), Style::default().fg(theme.border)));
        spans.push(Span::raw(format!(" {value:>5.2}")));
    } else {
        spans.push(Span::styled(format!("{:<bar_w$} {:>5}", "", "n/a"), theme.dimmed()));
    }
    Line::from(spans)
}

/// A number line with `lo ├──●──┤ hi` for a mean and its confidence interval.
pub fn interval_line<'a>(
    label: &str,
    label_w: usize,
    mean: f64,
    ci: [f64; 2],
    width: usize,
    theme: &Theme,
) -> Line<'a> {
    let bar_w = width.saturating_sub(label_w + 24).max(8);
    let mut spans = vec![Span::styled(format!("{label:<label_w$}"), theme.dimmed())];
    if !mean.is_finite() {
        spans.push(Span::styled("n/a", theme.dimmed()));
        return Line::from(spans);
    }
    let (lo, hi) = (ci[0].min(mean), ci[1].max(mean));
    let span = (hi.abs().max(lo.abs()).max(1e-9)) * 1.1;
    let x = |v: f64| (((v + span) / (2.0 * span)) * (bar_w - 1) as f64).round().clamp(0.0, (bar_w - 1) as f64) as usize;
    let (xl, xm, xh, x0) = (x(lo), x(mean), x(hi), x(0.0));
    let mut s = String::new();
    for i in 0..bar_w {
        s.push(if i == xm {
            '●'
        } else if i == xl {
            '├'
        } else if i == xh {
            '┤'
        } else if i > xl && i < xh {
            '─'
        } else if i == x0 {
            '┊'
        } else {
            ' '
        });
    }
    spans.push(Span::styled(s, Style::default().fg(theme.accent)));
    spans.push(Span::raw(format!(" {mean:+.3} [{:+.2},{:+.2}]", ci[0], ci[1])));
    Line::from(spans)
}

/// One point of a calibration plot: mean predicted probability, observed frequency, count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalPoint {
    pub predicted: f64,
    pub observed: f64,
    pub count: usize,
}

/// A reliability diagram: the diagonal (perfect calibration) and the judge's bins.
pub struct CalibrationPlot<'a> {
    pub points: &'a [CalPoint],
    pub title: String,
    pub theme: &'a Theme,
}

impl Widget for CalibrationPlot<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let diag: Vec<(f64, f64)> = (0..=20).map(|i| (i as f64 / 20.0, i as f64 / 20.0)).collect();
        let pts: Vec<(f64, f64)> =
            self.points.iter().filter(|p| p.count > 0).map(|p| (p.predicted, p.observed)).collect();
        let block = Block::default().borders(Borders::ALL).border_style(t.border_style(false)).title(self.title);
        if area.height < 6 || area.width < 20 {
            Paragraph::new("(too small for the calibration plot)").style(t.dimmed()).block(block).render(area, buf);
            return;
        }
        let datasets = vec![
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(t.dim))
                .data(&diag),
            Dataset::default()
                .name("judge")
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(t.chart_2))
                .data(&pts),
        ];
        let axis = |title: &'static str| {
            Axis::default()
                .title(Span::styled(title, t.dimmed()))
                .bounds([0.0, 1.0])
                .labels(vec![Span::raw("0"), Span::raw(".5"), Span::raw("1")])
                .style(Style::default().fg(t.border))
        };
        Chart::new(datasets).block(block).x_axis(axis("predicted")).y_axis(axis("observed")).render(area, buf);
    }
}

/// One line of a [`PgrPlot`]: a loss (or the bootstrap chain) and its PGR at each strong model,
/// `x` being the model's place in the ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct PgrSeries {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// The spread at some points: `(x, low, high)`, drawn as a vertical bar (a mean over
    /// seeds and the interval across them).
    pub spread: Vec<(f64, f64, f64)>,
}

/// PGR against strong model, as in the paper's figure: one line per loss over the ladder's
/// rungs (x: 1 = the first model above the weak supervisor), the 0 and 1 levels dotted.
pub struct PgrPlot<'a> {
    pub series: &'a [PgrSeries],
    /// Labels of the x positions 1, 2, … (short model names).
    pub models: &'a [String],
    pub title: String,
    pub theme: &'a Theme,
}

impl Widget for PgrPlot<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let block = Block::default().borders(Borders::ALL).border_style(t.border_style(false)).title(self.title);
        let defined = self.series.iter().any(|s| !s.points.is_empty());
        if area.height < 6 || area.width < 24 || !defined {
            let why = if defined { "(too small for the PGR plot)" } else { "no PGR is defined (see the runs below)" };
            Paragraph::new(why).style(t.dimmed()).block(block).render(area, buf);
            return;
        }
        let n = self.models.len().max(1) as f64;
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1).chain(s.spread.iter().flat_map(|b| [b.1, b.2])));
        let (lo, hi) = ys.fold((0.0f64, 1.0f64), |(a, b), y| (a.min(y), b.max(y)));
        let (lo, hi) = (lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo));
        let (x0, x1) = if n > 1.0 { (1.0, n) } else { (0.5, 1.5) };
        // Spread bars at the first and last rung would sit on the axes: a margin keeps them clear.
        let pad = if self.series.iter().any(|s| !s.spread.is_empty()) && n > 1.0 { 0.04 * (n - 1.0) } else { 0.0 };
        let (x0, x1) = (x0 - pad, x1 + pad);
        let level = |y: f64| -> Vec<(f64, f64)> { (0..=40).map(|i| (x0 + (x1 - x0) * i as f64 / 40.0, y)).collect() };
        let (zero, one) = (level(0.0), level(1.0));
        let colors = [t.chart_1, t.chart_2, t.chart_3, t.accent, t.strong, t.weak];
        let mut datasets = vec![
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(t.dim))
                .data(&zero),
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(t.dim))
                .data(&one),
        ];
        let bars: Vec<Vec<(f64, f64)>> = self
            .series
            .iter()
            .flat_map(|s| {
                s.spread.iter().map(|&(x, lo, hi)| (0..=8).map(|k| (x, lo + (hi - lo) * k as f64 / 8.0)).collect())
            })
            .collect();
        let bar_colors = self.series.iter().enumerate().flat_map(|(i, s)| s.spread.iter().map(move |_| i));
        for (bar, i) in bars.iter().zip(bar_colors) {
            datasets.push(
                Dataset::default()
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(Style::default().fg(colors[i % colors.len()]))
                    .data(bar),
            );
        }
        for (i, s) in self.series.iter().enumerate() {
            datasets.push(
                Dataset::default()
                    .name(s.name.clone())
                    .marker(Marker::Dot)
                    .graph_type(if s.points.len() > 1 { GraphType::Line } else { GraphType::Scatter })
                    .style(Style::default().fg(colors[i % colors.len()]))
                    .data(&s.points),
            );
        }
        // (labels are spread evenly over the axis: first and last rung, or the one rung centred)
        let x_labels: Vec<Span> = match self.models {
            [] => vec![],
            [one] => vec![Span::raw(""), Span::raw(one.clone()), Span::raw("")],
            [first, .., last] => vec![Span::raw(first.clone()), Span::raw(last.clone())],
        };
        Chart::new(datasets)
            .block(block)
            .hidden_legend_constraints((Constraint::Ratio(2, 3), Constraint::Ratio(2, 3)))
            .x_axis(
                Axis::default()
                    .title(Span::styled("strong model", t.dimmed()))
                    .bounds([x0, x1])
                    .labels(x_labels)
                    .style(Style::default().fg(t.border)),
            )
            .y_axis(
                Axis::default()
                    .title(Span::styled("PGR", t.dimmed()))
                    .bounds([lo, hi])
                    .labels(vec![
                        Span::raw(format!("{lo:.1}")),
                        Span::raw(format!("{:.1}", (lo + hi) / 2.0)),
                        Span::raw(format!("{hi:.1}")),
                    ])
                    .style(Style::default().fg(t.border)),
            )
            .render(area, buf);
    }
}
