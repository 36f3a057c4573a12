//! The Train screen: one panel per stage of the weak-to-strong pipeline (weak
//! supervisor, weak labels, strong ceiling, weak-to-strong student, each bootstrapping
//! step), with live loss and accuracy curves and the PGR of each stage.
//!
//! The screen only draws [`TrainEvent`]s a pipeline worker sends; when no pipeline is
//! available it shows the configured stages and says so, rather than faking progress.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, List, ListItem, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::action::Action;
use crate::tui::app::Effect;
use crate::tui::theme::Theme;

/// What kind of stage.
#[derive(Debug, Clone, PartialEq)]
pub enum StageKind {
    WeakSupervisor,
    WeakLabels,
    StrongCeiling,
    WeakToStrong,
    /// One bootstrapping step, from one rung of the model ladder to the next.
    Bootstrap { step: usize },
}

/// One stage of the pipeline as planned by a config.
#[derive(Debug, Clone, PartialEq)]
pub struct StagePlan {
    pub kind: StageKind,
    pub title: String,
    /// Models involved, e.g. `gemma-3-270m → qwen2.5-coder-0.5b-instruct`.
    pub detail: String,
}

/// Events a pipeline worker reports.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    /// The plan of a config (stages in order).
    Planned { config: String, stages: Vec<StagePlan> },
    StageStarted { stage: usize },
    Epoch { stage: usize, epoch: usize, loss: f64, val_acc: f64 },
    StageDone { stage: usize, metrics: Vec<(String, f64)>, pgr: Option<f64> },
    Paused,
    Error(String),
}

/// Commands to a pipeline worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainCommand {
    Run,
    Pause,
    StepStage,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum StageStatus {
    #[default]
    Pending,
    Running,
    Done,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageState {
    pub plan: StagePlan,
    pub status: StageStatus,
    /// (epoch, loss, val_acc)
    pub curve: Vec<(usize, f64, f64)>,
    pub metrics: Vec<(String, f64)>,
    pub pgr: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainState {
    pub config: String,
    pub stages: Vec<StageState>,
    pub selected: usize,
    /// Whether a pipeline can run in this build; when not, the reason.
    pub unavailable: Option<String>,
    pub running: bool,
    /// The stage whose results are opened.
    pub opened: bool,
    pub notice: Option<String>,
}

/// The stages of a pipeline over a model ladder (weakest first): the three baselines,
/// the weak-to-strong student, then one bootstrapping step per rung.
pub fn plan_for_ladder(ladder: &[&str]) -> Vec<StagePlan> {
    let weak = ladder.first().copied().unwrap_or("?");
    let strong = ladder.last().copied().unwrap_or("?");
    let mut v = vec![
        StagePlan { kind: StageKind::WeakSupervisor, title: "weak supervisor".into(), detail: format!("{weak} trained on ground truth") },
        StagePlan { kind: StageKind::WeakLabels, title: "weak labels".into(), detail: format!("{weak} labels the held-out half") },
        StagePlan { kind: StageKind::StrongCeiling, title: "strong ceiling".into(), detail: format!("{strong} trained on ground truth") },
        StagePlan { kind: StageKind::WeakToStrong, title: "weak-to-strong student".into(), detail: format!("{strong} trained on {weak}'s labels") },
    ];
    for (i, w) in ladder.windows(2).enumerate() {
        v.push(StagePlan { kind: StageKind::Bootstrap { step: i + 1 }, title: format!("bootstrap step {}", i + 1), detail: format!("{} → {}", w[0], w[1]) });
    }
    v
}

impl TrainState {
    /// A screen showing `stages` of `config`, with no pipeline behind it.
    pub fn unavailable(config: &str, stages: Vec<StagePlan>, reason: &str) -> TrainState {
        TrainState {
            config: config.into(),
            stages: stages.into_iter().map(|plan| StageState { plan, status: StageStatus::Pending, curve: vec![], metrics: vec![], pgr: None }).collect(),
            unavailable: Some(reason.into()),
            ..Default::default()
        }
    }

    pub fn handle(&mut self, action: Action) -> Vec<Effect> {
        self.notice = None;
        let cmd = match action {
            Action::Up => {
                self.selected = self.selected.saturating_sub(1);
                None
            }
            Action::Down => {
                self.selected = (self.selected + 1).min(self.stages.len().saturating_sub(1));
                None
            }
            Action::Top => {
                self.selected = 0;
                None
            }
            Action::Bottom => {
                self.selected = self.stages.len().saturating_sub(1);
                None
            }
            Action::Open => {
                self.opened = !self.opened;
                None
            }
            Action::Cancel if self.opened => {
                self.opened = false;
                None
            }
            Action::Run => Some(TrainCommand::Run),
            Action::Pause => Some(TrainCommand::Pause),
            Action::StepStage => Some(TrainCommand::StepStage),
            _ => None,
        };
        match (cmd, &self.unavailable) {
            (Some(_), Some(reason)) => {
                self.notice = Some(format!("cannot run: {reason}"));
                vec![]
            }
            (Some(c), None) => {
                if c == TrainCommand::Run {
                    self.running = true;
                }
                if c == TrainCommand::Pause {
                    self.running = false;
                }
                vec![Effect::Train(c)]
            }
            (None, _) => vec![],
        }
    }

    pub fn on_event(&mut self, e: TrainEvent) {
        match e {
            TrainEvent::Planned { config, stages } => {
                *self = TrainState { unavailable: None, ..TrainState::unavailable(&config, stages, "") };
            }
            TrainEvent::StageStarted { stage } => {
                if let Some(s) = self.stages.get_mut(stage) {
                    s.status = StageStatus::Running;
                    s.curve.clear();
                }
                self.selected = stage;
                self.running = true;
            }
            TrainEvent::Epoch { stage, epoch, loss, val_acc } => {
                if let Some(s) = self.stages.get_mut(stage) {
                    s.curve.push((epoch, loss, val_acc));
                }
            }
            TrainEvent::StageDone { stage, metrics, pgr } => {
                if let Some(s) = self.stages.get_mut(stage) {
                    s.status = StageStatus::Done;
                    s.metrics = metrics;
                    s.pgr = pgr;
                }
            }
            TrainEvent::Paused => self.running = false,
            TrainEvent::Error(e) => {
                self.running = false;
                self.notice = Some(format!("error: {e}"));
            }
        }
    }
}

/// `qwen2.5-coder-1.5b-instruct` → `qwen-1.5b` for narrow panels.
pub fn short_models(s: &str) -> String {
    s.replace("qwen2.5-coder-", "qwen-").replace("-instruct", "").replace("gemma-3-", "gemma-")
}

pub fn draw(f: &mut Frame, area: Rect, s: &TrainState, t: &Theme) {
    let [banner, body] = Layout::vertical([Constraint::Length(if s.unavailable.is_some() { 4 } else if s.notice.is_some() { 3 } else { 0 }), Constraint::Min(4)]).areas(area);
    if let Some(reason) = &s.unavailable {
        f.render_widget(
            Paragraph::new(vec![Line::from(vec![
                Span::styled("The weak-to-strong pipeline is not available: ", Style::default().fg(t.warn).add_modifier(Modifier::BOLD)),
                Span::raw(reason.clone()),
            ])])
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).border_style(Style::default().fg(t.warn))),
            banner,
        );
    } else if let Some(n) = &s.notice {
        f.render_widget(Paragraph::new(n.clone()).style(Style::default().fg(t.warn)).block(Block::default().borders(Borders::ALL)), banner);
    }
    let narrow = body.width < 80;
    let [list_area, detail] = if narrow {
        Layout::vertical([Constraint::Length((s.stages.len() as u16 * 2 + 2).min(body.height / 2)), Constraint::Min(4)]).areas(body)
    } else {
        Layout::horizontal([Constraint::Length(42), Constraint::Min(30)]).areas(body)
    };
    let items: Vec<ListItem> = s
        .stages
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let (mark, style) = match st.status {
                StageStatus::Pending => ("○", t.dimmed()),
                StageStatus::Running => ("◐", Style::default().fg(t.accent)),
                StageStatus::Done => ("●", Style::default().fg(t.good)),
            };
            let pgr = st.pgr.map(|p| format!(" PGR {p:.2}")).unwrap_or_default();
            let mut l1 = vec![Span::styled(format!("{mark} {}. {}", i + 1, st.plan.title), style.add_modifier(Modifier::BOLD))];
            l1.push(Span::styled(pgr, Style::default().fg(t.chart_3)));
            let detail = if narrow || list_area.width < 60 { short_models(&st.plan.detail) } else { st.plan.detail.clone() };
            let item = ListItem::new(vec![Line::from(l1), Line::styled(format!("    {detail}"), t.dimmed())]);
            if i == s.selected {
                item.style(t.selected())
            } else {
                item
            }
        })
        .collect();
    let run = if s.running { " · running" } else { "" };
    f.render_widget(
        List::new(items).block(
            Block::default().borders(Borders::ALL).border_style(t.border_style(true)).title(Span::styled(format!(" Stages · {}{run} ", s.config), t.title_style())),
        ),
        list_area,
    );

    let Some(st) = s.stages.get(s.selected) else { return };
    let [chart_area, metrics_area] = Layout::vertical([Constraint::Min(5), Constraint::Length(if s.opened { 8 } else { 4 })]).areas(detail);
    let loss: Vec<(f64, f64)> = st.curve.iter().map(|(e, l, _)| (*e as f64, *l)).collect();
    let acc: Vec<(f64, f64)> = st.curve.iter().map(|(e, _, a)| (*e as f64, *a)).collect();
    let title = Span::styled(format!(" {} · loss and validation accuracy ", st.plan.title), t.title_style());
    if st.curve.is_empty() {
        let msg = if s.unavailable.is_some() { "no curves: the pipeline cannot run in this build" } else { "no epochs yet — r runs the pipeline" };
        f.render_widget(
            Paragraph::new(Line::styled(msg, t.dimmed())).block(Block::default().borders(Borders::ALL).border_style(t.border_style(false)).title(title)),
            chart_area,
        );
    } else {
        let max_x = st.curve.last().map(|c| c.0 as f64).unwrap_or(1.0).max(1.0);
        let max_y = st.curve.iter().map(|c| c.1.max(c.2)).fold(1.0, f64::max);
        let datasets = vec![
            Dataset::default().name("loss").marker(Marker::Braille).graph_type(GraphType::Line).style(Style::default().fg(t.chart_2)).data(&loss),
            Dataset::default().name("val acc").marker(Marker::Braille).graph_type(GraphType::Line).style(Style::default().fg(t.chart_1)).data(&acc),
        ];
        f.render_widget(
            Chart::new(datasets)
                .block(Block::default().borders(Borders::ALL).border_style(t.border_style(false)).title(title))
                .x_axis(Axis::default().title(Span::styled("epoch", t.dimmed())).bounds([0.0, max_x]).labels(vec![Span::raw("0"), Span::raw(format!("{max_x:.0}"))]))
                .y_axis(Axis::default().bounds([0.0, max_y]).labels(vec![Span::raw("0"), Span::raw(format!("{max_y:.1}"))])),
            chart_area,
        );
    }
    let mut lines: Vec<Line> = st.metrics.iter().map(|(k, v)| Line::from(vec![Span::styled(format!("{k:<18}"), t.dimmed()), Span::raw(format!("{v:.4}"))])).collect();
    if let Some(p) = st.pgr {
        lines.insert(0, Line::from(vec![Span::styled(format!("{:<18}", "PGR"), t.dimmed()), Span::styled(format!("{p:.3}"), Style::default().fg(t.chart_3).add_modifier(Modifier::BOLD))]));
    }
    if lines.is_empty() {
        lines.push(Line::styled("no results yet", t.dimmed()));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).border_style(t.border_style(s.opened)).title(Span::styled(" Results ", t.title_style()))),
        metrics_area,
    );
}
