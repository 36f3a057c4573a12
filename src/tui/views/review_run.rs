//! A training run on the Review screen: its settings, the test accuracy of every stage that
//! trained a head, each run's PGR with its interval, and PGR against strong model (the chart of
//! the paper's figure), from the run folder's `stages/` and `results.json`. A run of several
//! seeds shows the mean over seeds and its interval across seeds.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::message::RunEntry;
use crate::tui::theme::Theme;
use crate::tui::widgets::charts::{interval_line, proportion_line, PgrPlot, PgrSeries};
use crate::tui::widgets::short_models;
use crate::w2s::metrics::Ci;

/// One run's PGR: a label (`strong loss`, `bootstrap K → model`), where its strong model sits
/// in the ladder (1 = the first rung above the weak supervisor), which series it belongs to, and
/// its PGR with the interval (across seeds for a several-seed run).
#[derive(Debug, Clone, PartialEq)]
pub struct PgrRow {
    pub label: String,
    pub rung: usize,
    pub series: String,
    pub pgr: Option<f64>,
    pub ci: Ci,
    /// Weak, ceiling and student test accuracy.
    pub acc: [f64; 3],
    /// The PGR is a mean over seeds and `ci` their spread.
    pub across_seeds: bool,
}

/// The PGR rows of a run's results: direct runs per strong model and loss, then the bootstrap
/// chain; means over seeds when there are several.
pub fn pgr_rows(run: &RunEntry) -> Vec<PgrRow> {
    let Some(r) = &run.results else { return vec![] };
    let rung = |m: &str| r.ladder.iter().position(|x| x == m).unwrap_or(0);
    let series = |kind: crate::w2s::results::RunKind, loss: &str| match kind {
        crate::w2s::results::RunKind::Direct => loss.to_string(),
        crate::w2s::results::RunKind::Bootstrap => format!("bootstrap ({loss})"),
    };
    let label = |strong: &str, loss: &str, step: Option<usize>| match step {
        Some(k) => format!("boot {k} {}", short_models(strong)),
        None => format!("{} {loss}", short_models(strong)),
    };
    if !r.aggregate.is_empty() {
        return r
            .aggregate
            .iter()
            .map(|a| PgrRow {
                label: label(&a.strong, &a.loss, a.step),
                rung: rung(&a.strong),
                series: series(a.kind, &a.loss),
                pgr: a.pgr.mean,
                ci: a.pgr.ci,
                acc: [a.acc_weak.mean, a.acc_ceiling.mean, a.acc_w2s.mean].map(|x| x.unwrap_or(f64::NAN)),
                across_seeds: true,
            })
            .collect();
    }
    let row = |x: &crate::w2s::results::RunResult, step: Option<usize>, kind| PgrRow {
        label: label(&x.info.strong, &x.info.loss, step),
        rung: rung(&x.info.strong),
        series: series(kind, &x.info.loss),
        pgr: x.metrics.pgr,
        ci: x.metrics.ci.pgr,
        acc: [x.metrics.acc_weak, x.metrics.acc_ceiling, x.metrics.acc_w2s],
        across_seeds: false,
    };
    use crate::w2s::results::RunKind;
    let mut v: Vec<PgrRow> =
        r.runs.iter().filter(|x| x.info.kind == RunKind::Direct).map(|x| row(x, None, RunKind::Direct)).collect();
    // The bootstrap chain step by step (step 1 is a direct run, so the chain's line starts there).
    for b in &r.bootstrap {
        if let Some(x) = r.runs.iter().find(|x| x.info.id == b.run) {
            v.push(row(x, Some(b.step), RunKind::Bootstrap));
        }
    }
    v
}

/// Test accuracy of each stage that trained a head, in the order they finished (a several-seed
/// run keeps its stages per seed: the means of its results stand in for them).
pub fn stage_accuracies(run: &RunEntry) -> Vec<(String, f64)> {
    let from_stages: Vec<(String, f64)> = run
        .stages
        .iter()
        .filter_map(|(name, s)| {
            let acc = s.test.as_ref()?.acc;
            // `student:MODEL:LOSS` (a model may have a `:`, as `bow:4096`), `ceiling:MODEL`,
            // `bootstrap:K`, `weak`.
            let label = match name.split_once(':') {
                Some(("student", rest)) => match rest.rsplit_once(':') {
                    Some((model, loss)) => format!("w2s {model} {loss}"),
                    None => format!("w2s {rest}"),
                },
                Some(("bootstrap", k)) => match k.parse::<usize>().ok().and_then(|k| run.ladder().get(k)) {
                    Some(model) => format!("bootstrap {k} {model}"),
                    None => format!("bootstrap {k}"),
                },
                Some((kind, rest)) => format!("{kind} {rest}"),
                None if name == "weak" => format!("weak {}", run.weak()),
                None => name.clone(),
            };
            Some((short_models(&label), acc))
        })
        .collect();
    if !from_stages.is_empty() {
        return from_stages;
    }
    let rows = pgr_rows(run);
    let mut v: Vec<(String, f64)> = Vec::new();
    if let Some(first) = rows.first() {
        v.push((format!("weak {}", short_models(run.weak())), first.acc[0]));
    }
    for row in &rows {
        let ceiling = format!("ceiling {}", row.label.split(' ').next().unwrap_or(""));
        if row.series.starts_with("bootstrap") {
            continue;
        }
        if !v.iter().any(|(l, _)| *l == ceiling) {
            v.push((ceiling, row.acc[1]));
        }
    }
    v.extend(rows.iter().map(|row| (format!("w2s {}", row.label), row.acc[2])));
    v
}

/// The lines of PGR with intervals, one per run (`n/a` where the weak-to-ceiling gap is not
/// clearly above 0, so no PGR is defined).
fn pgr_lines<'a>(rows: &[PgrRow], width: usize, t: &Theme) -> Vec<Line<'a>> {
    let lw = rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(8).clamp(8, 28) + 1;
    rows.iter()
        .map(|r| match (r.pgr, r.ci) {
            (Some(p), Some(ci)) => interval_line(&r.label, lw, p, ci, width, t),
            (Some(p), None) => interval_line(&r.label, lw, p, [p, p], width, t),
            (None, _) => Line::from(vec![
                Span::styled(format!("{:<lw$}", r.label), t.dimmed()),
                Span::styled("n/a (the weak-to-ceiling gap is not clearly above 0)", t.dimmed()),
            ]),
        })
        .collect()
}

fn header_lines<'a>(run: &RunEntry, t: &Theme) -> Vec<Line<'a>> {
    let mut first = vec![Span::styled("task ", t.dimmed()), Span::raw(run.task().to_string())];
    if let Some(c) = &run.config {
        let losses: Vec<String> = c.losses.iter().map(|l| l.to_string()).collect();
        let seeds = match &c.seeds {
            Some(s) => format!("seeds {s:?}"),
            None => format!("seed {}", c.seed),
        };
        first.push(Span::styled(
            format!(
                " · n {} · losses {} · {seeds}",
                c.task.n.map(|n| n.to_string()).unwrap_or_else(|| "all".into()),
                losses.join(", ")
            ),
            t.dimmed(),
        ));
    }
    let state = match &run.results {
        Some(_) => Span::styled(" · done", Style::default().fg(t.good)),
        None => {
            Span::styled(format!(" · {} stages done, no results yet", run.stages.len()), Style::default().fg(t.warn))
        }
    };
    first.push(state);
    vec![Line::from(first), Line::from(vec![Span::styled("ladder ", t.dimmed()), Span::raw(run.ladder().join(" → "))])]
}

/// The PGR-against-strong-model series of a run: one per loss (and the bootstrap chain), each
/// point a defined PGR at its strong model's rung; for means over seeds, the interval across
/// seeds at each point (the spread the plot draws).
pub fn pgr_series(rows: &[PgrRow]) -> Vec<PgrSeries> {
    let mut out: Vec<PgrSeries> = Vec::new();
    for r in rows {
        let i = match out.iter().position(|s| s.name == r.series) {
            Some(i) => i,
            None => {
                out.push(PgrSeries { name: r.series.clone(), points: vec![], spread: vec![] });
                out.len() - 1
            }
        };
        if let Some(p) = r.pgr.filter(|p| p.is_finite()) {
            out[i].points.push((r.rung as f64, p));
            if let (true, Some([lo, hi])) = (r.across_seeds, r.ci) {
                if lo.is_finite() && hi.is_finite() {
                    out[i].spread.push((r.rung as f64, lo, hi));
                }
            }
        }
    }
    out
}

/// PGR against strong model (the chart of the paper's figure) of `run`'s rows.
pub fn draw_pgr_plot(f: &mut Frame, area: Rect, run: &RunEntry, rows: &[PgrRow], t: &Theme) {
    let models: Vec<String> = run.ladder().iter().skip(1).map(|m| short_models(m)).collect();
    let series = pgr_series(rows);
    let title = if rows.iter().any(|r| r.across_seeds) {
        " PGR against strong model · mean, spread over seeds ".to_string()
    } else {
        " PGR against strong model ".to_string()
    };
    f.render_widget(PgrPlot { series: &series, models: &models, title, theme: t }, area);
}

/// Each of `run`'s rows with its PGR and interval, in a block that says which interval.
pub fn draw_pgr_intervals(f: &mut Frame, area: Rect, run: &RunEntry, rows: &[PgrRow], t: &Theme) {
    let level = run.config.as_ref().map(|c| c.metrics.level).unwrap_or(0.95);
    let what = if run.results.as_ref().is_some_and(|r| !r.aggregate.is_empty()) {
        format!(" PGR · mean over seeds, {:.0}% interval across seeds ", level * 100.0)
    } else {
        format!(" PGR · {:.0}% bootstrap interval ", level * 100.0)
    };
    let pgr_block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_style(false))
        .title(Span::styled(what, t.title_style()));
    let pgr_inner = pgr_block.inner(area);
    f.render_widget(pgr_block, area);
    let mut lines = pgr_lines(rows, pgr_inner.width as usize, t);
    if lines.is_empty() {
        lines.push(Line::styled(
            "no results.json yet: open the run on the Train screen (F3, e) to finish it",
            t.dimmed(),
        ));
    }
    f.render_widget(Paragraph::new(lines), pgr_inner);
}

/// The whole Review pane of an opened training run.
pub fn draw_run(f: &mut Frame, area: Rect, run: &RunEntry, t: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_style(true))
        .title(Span::styled(format!(" Training run · {} · esc back ", run.name), t.title_style()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let rows = pgr_rows(run);
    let accs = stage_accuracies(run);
    let pgr_h = (rows.len() as u16 + 2).min(inner.height / 3 + 1).max(3);
    let [head, mid, bottom] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(6), Constraint::Length(pgr_h)]).areas(inner);
    let mut lines = header_lines(run, t);
    lines.push(Line::from(vec![
        Span::styled("folder ", t.dimmed()),
        Span::styled(run.path.display().to_string(), t.dimmed()),
    ]));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), head);
    let [left, right] = if mid.width >= 90 {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(mid)
    } else {
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(mid)
    };
    let acc_block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_style(false))
        .title(Span::styled(" Test accuracy per stage ", t.title_style()));
    let acc_inner = acc_block.inner(left);
    f.render_widget(acc_block, left);
    let lw = accs.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(8).clamp(8, 26) + 1;
    let mut lines: Vec<Line> =
        accs.iter().map(|(l, a)| proportion_line(l, lw, *a, acc_inner.width as usize, t.chart_1, t)).collect();
    if lines.is_empty() {
        lines.push(Line::styled("no stage has trained a head yet", t.dimmed()));
    }
    f.render_widget(Paragraph::new(lines), acc_inner);
    draw_pgr_plot(f, right, run, &rows, t);
    draw_pgr_intervals(f, bottom, run, &rows, t);
}

/// The stats panel of a training run selected in the list: its models, its students' PGR with
/// intervals and test accuracies.
pub fn draw_run_summary(f: &mut Frame, area: Rect, run: &RunEntry, t: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_style(false))
        .title(Span::styled(format!(" {} ", run.name), t.title_style()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let mut lines = header_lines(run, t);
    let rows = pgr_rows(run);
    if !rows.is_empty() {
        lines.push(Line::styled("PGR", Style::default().fg(t.title).add_modifier(Modifier::BOLD)));
        lines.extend(pgr_lines(&rows, w, t));
        lines.push(Line::styled("student test accuracy", Style::default().fg(t.title).add_modifier(Modifier::BOLD)));
        let lw = rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(8).clamp(8, 28) + 1;
        lines.extend(rows.iter().map(|r| proportion_line(&r.label, lw, r.acc[2], w, t.chart_1, t)));
    }
    lines.push(Line::styled("enter opens the run", t.dimmed()));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}
