//! Figures in the style of the weak-to-strong paper, from `results.json`:
//! left, PGR against the strong model (one line per loss, and per loss `+ debate` for
//! students of a debate-assisted supervisor; the bootstrap chain dashed,
//! 95% bootstrap CIs as bars); right, test accuracy per stage (weak supervisor,
//! ceilings, students, bootstrap steps). SVG or PNG by the file extension.
//!
//! A several-seed results file is drawn from its `aggregate[]`: the mean over seeds with
//! the across-seed interval as bars, and every seed's own PGR as a small hollow circle,
//! so the spread over seeds shows.
//!
//! Text is drawn with a system sans-serif font (plotters' `ttf` feature). Without one
//! (minimal containers), install a font package such as `fonts-dejavu-core`.

use anyhow::{anyhow, bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

use super::metrics::{RunCis, RunMetrics};
use super::results::{BootstrapStep, Results, RunInfo, RunKind, RunResult};

/// One seed's PGR of a direct run: `(series, strong model, pgr)` ([`RunInfo::series`]).
type SeedPoint = (String, String, f64);

/// The means over seeds as a one-seed results view, and every seed's PGR points.
fn seed_view(r: &Results) -> (Results, Vec<SeedPoint>) {
    let nan = f64::NAN;
    let runs: Vec<RunResult> = r
        .aggregate
        .iter()
        .map(|a| RunResult {
            info: RunInfo {
                id: a.id.clone(),
                kind: a.kind,
                weak: r.ladder[0].clone(),
                strong: a.strong.clone(),
                supervisor: String::new(),
                loss: a.loss.clone(),
                step: a.step,
                seed: None,
                debate: a.debate.clone(),
            },
            metrics: RunMetrics {
                n: 0,
                groups: 0,
                acc_weak: a.acc_weak.mean.unwrap_or(nan),
                acc_ceiling: a.acc_ceiling.mean.unwrap_or(nan),
                acc_w2s: a.acc_w2s.mean.unwrap_or(nan),
                pgr: a.pgr.mean,
                pgr_raw: a.pgr_raw.mean,
                auroc_weak: None,
                auroc_ceiling: None,
                auroc_w2s: None,
                pgr_auroc: a.pgr_auroc.mean,
                pgr_auroc_raw: None,
                ece_weak: nan,
                ece_ceiling: nan,
                ece_w2s: nan,
                agreement: nan,
                acc_supervisor: a.acc_supervisor.mean.unwrap_or(nan),
                ci: RunCis {
                    acc_weak: a.acc_weak.ci,
                    acc_ceiling: a.acc_ceiling.ci,
                    acc_w2s: a.acc_w2s.ci,
                    auroc_w2s: None,
                    pgr: a.pgr.ci,
                    pgr_auroc: a.pgr_auroc.ci,
                    gap: None,
                    gap_auroc: None,
                    acc_supervisor: a.acc_supervisor.ci,
                    supervisor_gain: None,
                },
            },
        })
        .collect();
    let bootstrap: Vec<BootstrapStep> = r
        .bootstrap
        .iter()
        .filter(|b| b.run.starts_with(&super::results::seed_prefix(r.seed)))
        .filter_map(|b| {
            let a = r.aggregate.iter().find(|a| a.id == super::results::base_id(&b.run))?;
            Some(BootstrapStep {
                run: a.id.clone(),
                acc: a.acc_w2s.mean.unwrap_or(nan),
                acc_ceiling: a.acc_ceiling.mean.unwrap_or(nan),
                pgr: a.pgr.mean,
                ..b.clone()
            })
        })
        .collect();
    let points = r
        .runs
        .iter()
        .filter(|x| x.info.kind == RunKind::Direct)
        .filter_map(|x| Some((x.info.series(), x.info.strong.clone(), x.metrics.pgr?)))
        .collect();
    let view = Results { runs, bootstrap, aggregate: Vec::new(), paired: Vec::new(), ..r.clone() };
    (view, points)
}

/// Draws `results` to `out` (`.svg` or `.png`).
pub fn plot(results: &Results, out: &Path) -> Result<()> {
    let (view, points) = if results.aggregate.is_empty() { (results.clone(), Vec::new()) } else { seed_view(results) };
    let results = &view;
    let points = &points;
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
    let size = (1400, 560);
    match ext.as_str() {
        "svg" => {
            let root = SVGBackend::new(out, size).into_drawing_area();
            draw(&root, results, points)?;
            root.present().map_err(|e| anyhow!("cannot write {}: {e}", out.display()))?;
        }
        "png" => {
            let root = BitMapBackend::new(out, size).into_drawing_area();
            draw(&root, results, points)?;
            root.present().map_err(|e| anyhow!("cannot write {}: {e}", out.display()))?;
        }
        _ => bail!("plot output must end in .svg or .png, got {}", out.display()),
    }
    Ok(())
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    let s = e.to_string();
    if s.to_lowercase().contains("font") {
        anyhow!("cannot draw text: {s}. Install a sans-serif font (e.g. the fonts-dejavu-core package)")
    } else {
        anyhow!("cannot draw the plot: {s}")
    }
}

fn short(name: &str) -> String {
    let base = Path::new(name).file_name().and_then(|s| s.to_str()).unwrap_or(name);
    base.chars().take(24).collect()
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, seed_points: &[SeedPoint]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let strong: Vec<String> = r.ladder[1..].to_vec();
    if strong.is_empty() {
        bail!("the results have no strong models");
    }
    let xs = |model: &str| strong.iter().position(|m| m == model).map(|i| i as f64);
    let k = strong.len() as f64;
    let (left, right) = root.split_horizontally(700);
    let label_fmt = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < strong.len() {
            short(&strong[i as usize])
        } else {
            String::new()
        }
    };
    let mut losses: Vec<String> =
        r.runs.iter().filter(|x| x.info.kind == RunKind::Direct).map(|x| x.info.series()).collect();
    losses.dedup();
    {
        let mut seen = std::collections::HashSet::new();
        losses.retain(|l| seen.insert(l.clone()));
    }

    // Left: PGR against the strong model.
    let mut pgr_vals: Vec<f64> = r.runs.iter().filter_map(|x| x.metrics.pgr).collect();
    pgr_vals.extend(r.runs.iter().filter_map(|x| x.metrics.ci.pgr).flatten());
    pgr_vals.extend(seed_points.iter().map(|p| p.2));
    let lo = pgr_vals.iter().cloned().fold(0.0f64, f64::min).max(-3.0) - 0.1;
    let hi = pgr_vals.iter().cloned().fold(1.0f64, f64::max).min(4.0) + 0.1;
    let mut chart = ChartBuilder::on(&left)
        .caption(
            match r.seeds.len() {
                0 => format!("PGR vs strong model (weak: {})", short(&r.ladder[0])),
                k => format!("PGR vs strong model (weak: {}; mean of {k} seeds, o = one seed)", short(&r.ladder[0])),
            },
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(-0.5f64..(k - 0.5), lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(strong.len() * 2 + 1)
        .x_label_formatter(&label_fmt)
        .y_desc("performance gap recovered")
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    chart.draw_series(LineSeries::new(vec![(-0.5, 0.0), (k - 0.5, 0.0)], BLACK.mix(0.4))).map_err(err)?;
    chart.draw_series(LineSeries::new(vec![(-0.5, 1.0), (k - 0.5, 1.0)], BLACK.mix(0.4))).map_err(err)?;
    let n_series = losses.len() + 1;
    let offset = |i: usize| (i as f64 - (n_series as f64 - 1.0) / 2.0) * 0.06;
    for (i, loss) in losses.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let pts: Vec<(f64, f64, Option<[f64; 2]>)> = r
            .runs
            .iter()
            .filter(|x| x.info.kind == RunKind::Direct && &x.info.series() == loss)
            .filter_map(|x| Some((xs(&x.info.strong)? + offset(i), x.metrics.pgr?, x.metrics.ci.pgr)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), color.stroke_width(2)))
            .map_err(err)?
            .label(format!("{loss} (direct)"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 4, color.filled()))).map_err(err)?;
        // every seed's own PGR (several-seed files): small hollow circles beside the mean
        chart
            .draw_series(seed_points.iter().filter(|p| &p.0 == loss).filter_map(|p| {
                Some(Circle::new((xs(&p.1)? + offset(i) + 0.025, p.2.clamp(lo, hi)), 3, color.stroke_width(1)))
            }))
            .map_err(err)?;
        // 95% CI bars: a vertical segment with short caps.
        chart
            .draw_series(pts.iter().filter_map(|p| {
                let [a, b] = p.2?;
                let (a, b) = (a.max(lo), b.min(hi));
                Some(PathElement::new(
                    vec![(p.0 - 0.02, a), (p.0 + 0.02, a), (p.0, a), (p.0, b), (p.0 - 0.02, b), (p.0 + 0.02, b)],
                    color.stroke_width(1),
                ))
            }))
            .map_err(err)?;
    }
    if !r.bootstrap.is_empty() {
        let color = RGBColor(40, 40, 40);
        let pts: Vec<(f64, f64)> =
            r.bootstrap.iter().filter_map(|s| Some((xs(&s.model)? + offset(n_series - 1), s.pgr?))).collect();
        chart
            .draw_series(DashedLineSeries::new(pts.clone(), 6, 4, color.stroke_width(2)))
            .map_err(err)?
            .label(format!("bootstrap ({})", r.bootstrap[0].loss))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(pts.iter().map(|p| TriangleMarker::new(*p, 6, color.filled()))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(err)?;

    // Right: test accuracy per stage.
    let acc_weak = r.runs.first().map(|x| x.metrics.acc_weak).unwrap_or(f64::NAN);
    let mut accs: Vec<f64> = vec![acc_weak];
    accs.extend(r.runs.iter().flat_map(|x| [x.metrics.acc_ceiling, x.metrics.acc_w2s]));
    let alo = (accs.iter().cloned().filter(|v| v.is_finite()).fold(1.0f64, f64::min) - 0.05).max(0.0);
    let ahi = (accs.iter().cloned().filter(|v| v.is_finite()).fold(0.0f64, f64::max) + 0.05).min(1.0);
    let mut chart = ChartBuilder::on(&right)
        .caption(format!("Test accuracy per stage — {}", short(&r.task)), ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(-0.5f64..(k - 0.5), alo..ahi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(strong.len() * 2 + 1)
        .x_label_formatter(&label_fmt)
        .y_desc("accuracy")
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    let gray = RGBColor(120, 120, 120);
    chart
        .draw_series(DashedLineSeries::new(vec![(-0.5, acc_weak), (k - 0.5, acc_weak)], 8, 5, gray.stroke_width(2)))
        .map_err(err)?
        .label(format!("weak supervisor {} ({acc_weak:.3})", short(&r.ladder[0])))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], gray.stroke_width(2)));
    let mut ceil: Vec<(f64, f64)> = Vec::new();
    for m in &strong {
        if let Some(x) = r.runs.iter().find(|x| &x.info.strong == m) {
            ceil.push((xs(m).unwrap(), x.metrics.acc_ceiling));
        }
    }
    chart
        .draw_series(LineSeries::new(ceil.clone(), BLACK.stroke_width(2)))
        .map_err(err)?
        .label("ceiling (ground truth)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    chart
        .draw_series(
            ceil.iter().map(|p| Rectangle::new([(p.0 - 0.03, p.1 - 0.004), (p.0 + 0.03, p.1 + 0.004)], BLACK.filled())),
        )
        .map_err(err)?;
    for (i, loss) in losses.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let pts: Vec<(f64, f64)> = r
            .runs
            .iter()
            .filter(|x| x.info.kind == RunKind::Direct && &x.info.series() == loss)
            .filter_map(|x| Some((xs(&x.info.strong)? + offset(i), x.metrics.acc_w2s)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(format!("student, {loss}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 4, color.filled()))).map_err(err)?;
    }
    if !r.bootstrap.is_empty() {
        let color = RGBColor(40, 40, 40);
        let pts: Vec<(f64, f64)> =
            r.bootstrap.iter().filter_map(|s| Some((xs(&s.model)? + offset(n_series - 1), s.acc))).collect();
        chart
            .draw_series(DashedLineSeries::new(pts.clone(), 6, 4, color.stroke_width(2)))
            .map_err(err)?
            .label("bootstrap chain")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(pts.iter().map(|p| TriangleMarker::new(*p, 6, color.filled()))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    Ok(())
}
