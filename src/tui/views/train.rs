//! The Train screen: one row per stage of the weak-to-strong pipeline (data, features
//! of each model, weak supervisor, weak labels, strong ceilings, weak-to-strong students,
//! each bootstrapping step, results), with live loss and accuracy curves, the PGR of each
//! student and the selected stage's results.
//!
//! The screen only draws [`TrainEvent`]s the pipeline worker (`tui::trainer`) sends; keys
//! become [`TrainCommand`]s for it.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Cell, Chart, Dataset, GraphType, List, ListItem, ListState, Paragraph, Row, Table, Wrap,
};
use ratatui::Frame;

use crate::tui::action::Action;
use crate::tui::message::{Effect, ExperimentEntry, RunEntry, StageKind, StagePlan, TrainCommand, TrainEvent};
use crate::tui::theme::Theme;
use crate::tui::views::experiment_form::ExperimentForm;
use crate::tui::views::review_run;
use crate::tui::widgets::rows::{inside, Rows};
pub use crate::tui::widgets::short_models;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum StageStatus {
    #[default]
    Pending,
    Running,
    Done,
}

/// One head's training curve: (epoch, loss, validation accuracy).
pub type Curve = Vec<(usize, f64, f64)>;

#[derive(Debug, Clone, PartialEq)]
pub struct StageState {
    pub plan: StagePlan,
    pub status: StageStatus,
    /// Curves of the heads this stage trained, in order, by head name.
    pub curves: Vec<(String, Curve)>,
    /// Feature extraction progress (done, total).
    pub progress: Option<(usize, usize)>,
    pub summary: String,
    pub metrics: Vec<(String, f64)>,
    pub pgr: Option<f64>,
    pub resumed: bool,
    /// The latest example debated (its id and arguments), while a debate stage runs.
    pub argument: Option<(String, String)>,
}

impl StageState {
    fn new(plan: StagePlan) -> StageState {
        StageState {
            plan,
            status: StageStatus::Pending,
            curves: vec![],
            progress: None,
            summary: String::new(),
            metrics: vec![],
            pgr: None,
            resumed: false,
            argument: None,
        }
    }
}

/// The experiment picker: configs and past runs (`e` opens it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Picker {
    /// The list is being read.
    pub loading: bool,
    pub entries: Vec<ExperimentEntry>,
    /// Where the list was read from (shown under it).
    pub places: Vec<std::path::PathBuf>,
    pub selected: usize,
    /// The first row shown, where it was last drawn (`App` keeps it after every event).
    pub first: usize,
    /// The picked experiment is being checked.
    pub opening: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainState {
    /// The experiment's name.
    pub config: String,
    /// Task, ladder, losses, n, output folder.
    pub settings: Vec<(String, String)>,
    pub stages: Vec<StageState>,
    pub selected: usize,
    /// The first stage the list shows, where it was last drawn (`App` keeps it after every event).
    pub list_first: usize,
    /// The worker was asked to open the experiment.
    pub opened_experiment: bool,
    /// Stages are running (continuously, or one after `n`).
    pub running: bool,
    /// A pause was asked for; the running stage finishes first.
    pub pausing: bool,
    /// Every stage is done.
    pub finished: bool,
    /// The selected stage's results are opened.
    pub opened: bool,
    /// One message: an error, or what a key did.
    pub notice: Option<String>,
    pub error: bool,
    /// The experiment picker, while open.
    pub picker: Option<Picker>,
    /// The new-experiment form, while open.
    pub form: Option<ExperimentForm>,
    /// The finished run as Review reads it: its PGR is drawn at the results row.
    pub run: Option<RunEntry>,
}

impl TrainState {
    /// The screen of an experiment not opened yet: its name and settings.
    pub fn configured(config: &str, settings: Vec<(String, String)>) -> TrainState {
        TrainState { config: config.into(), settings, ..Default::default() }
    }

    /// The row of the experiment's results: its results stage, or for several seeds the
    /// stage that combines them (the last of either).
    pub fn results_row(&self) -> Option<usize> {
        self.stages.iter().rposition(|s| matches!(s.plan.kind, StageKind::Results | StageKind::Combined))
    }

    /// The stage running now.
    pub fn running_stage(&self) -> Option<usize> {
        self.stages.iter().position(|s| s.status == StageStatus::Running)
    }

    pub fn handle(&mut self, action: Action) -> Vec<Effect> {
        self.notice = None;
        self.error = false;
        if let Some(form) = self.form.as_mut() {
            if action == Action::Cancel && !form.saving {
                self.form = None;
                return vec![];
            }
            return form.handle(action);
        }
        if self.picker.is_some() {
            return self.handle_picker(action);
        }
        match action {
            Action::Experiments | Action::NewExperiment if self.running => {
                self.notice = Some("stages are running; p pauses them before another experiment opens".into());
            }
            Action::NewExperiment => {
                self.form = Some(ExperimentForm::new(crate::paths::config_dir().join("experiments")));
            }
            Action::Experiments => {
                self.picker = Some(Picker { loading: true, ..Default::default() });
                return vec![Effect::ListExperiments];
            }
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(self.stages.len().saturating_sub(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = self.stages.len().saturating_sub(1),
            Action::Open => self.opened = !self.opened,
            Action::Cancel if self.opened => self.opened = false,
            Action::Run | Action::StepStage if self.finished => {
                self.notice = Some("every stage is done; enter opens a stage's results".into());
            }
            Action::Run => {
                self.running = true;
                self.pausing = false;
                return vec![Effect::Train(TrainCommand::Run)];
            }
            Action::StepStage if self.running => {
                self.notice = Some("stages are running; p pauses after the current one".into());
            }
            Action::StepStage => {
                self.running = true;
                return vec![Effect::Train(TrainCommand::StepStage)];
            }
            Action::Pause if !self.running => {
                self.notice = Some("nothing is running; r runs, n runs the next stage".into())
            }
            Action::Pause if self.pausing => {
                self.notice = Some("stopping the running stage…".into());
                return vec![Effect::Train(TrainCommand::Cancel)];
            }
            Action::Pause => {
                self.pausing = true;
                self.notice = Some("pausing after the running stage; p again stops it now".into());
                return vec![Effect::Train(TrainCommand::Pause)];
            }
            _ => {}
        }
        vec![]
    }

    /// Keys while the experiment picker is open: move, open the selected one, close.
    fn handle_picker(&mut self, action: Action) -> Vec<Effect> {
        let Some(p) = self.picker.as_mut() else { return vec![] };
        let last = p.entries.len().saturating_sub(1);
        match action {
            Action::Up => p.selected = p.selected.saturating_sub(1),
            Action::Down => p.selected = (p.selected + 1).min(last),
            Action::PageUp => p.selected = p.selected.saturating_sub(10),
            Action::PageDown => p.selected = (p.selected + 10).min(last),
            Action::Top => p.selected = 0,
            Action::Bottom => p.selected = last,
            Action::Cancel | Action::Experiments => self.picker = None,
            Action::Open if p.opening.is_some() => {
                self.notice = Some("checking the experiment…".into());
            }
            Action::Open => match p.entries.get(p.selected) {
                Some(e) => {
                    p.opening = Some(e.name.clone());
                    return vec![Effect::LoadExperiment(e.clone())];
                }
                None => self.notice = Some("nothing to open".into()),
            },
            _ => self.notice = Some("enter opens the selected experiment, esc closes the list".into()),
        }
        vec![]
    }

    /// A left click at (`col`, `row`) on the screen drawn in `area`: on a row of the stage list
    /// or of the experiment picker it selects that row; on the selected row it opens it, as the
    /// open key does (the stage's results, the experiment). A click selecting a row leaves the
    /// notice, so nothing moves under the pointer.
    pub fn click(&mut self, col: u16, row: u16, area: Rect) -> Vec<Effect> {
        if self.form.is_some() {
            return vec![];
        }
        let lay = layout(area, self);
        if let Some(p) = self.picker.as_mut() {
            let Some(rows) = picker_rows(lay.body, p) else { return vec![] };
            return match rows.at(col, row, p.entries.len()) {
                Some(i) if i == p.selected => self.handle(Action::Open),
                Some(i) => {
                    p.selected = i;
                    p.first = rows.first;
                    vec![]
                }
                None => vec![],
            };
        }
        match lay.stages.at(col, row, self.stages.len()) {
            Some(i) if i == self.selected => self.handle(Action::Open),
            Some(i) => {
                self.selected = i;
                self.list_first = lay.stages.first;
                vec![]
            }
            None => vec![],
        }
    }

    /// The list of experiments came.
    pub fn on_experiments(&mut self, entries: Vec<ExperimentEntry>, places: Vec<std::path::PathBuf>) {
        if let Some(p) = self.picker.as_mut() {
            p.selected = p.selected.min(entries.len().saturating_sub(1));
            p.entries = entries;
            p.places = places;
            p.loading = false;
        }
    }

    /// The form's experiment was written (`Ok`: the notice says where) or refused (the form
    /// stays, with the reason).
    pub fn on_saved(&mut self, r: Result<String, String>) {
        match r {
            Ok(msg) => {
                self.form = None;
                self.notice = Some(msg);
            }
            Err(why) => match self.form.as_mut() {
                Some(f) => f.refused(why),
                None => {
                    self.error = true;
                    self.notice = Some(why);
                }
            },
        }
    }

    /// A picked experiment could not be opened: the picker stays, with the reason.
    pub fn on_open_failed(&mut self, why: String) {
        if let Some(p) = self.picker.as_mut() {
            p.opening = None;
        }
        self.error = true;
        self.notice = Some(format!("cannot open the experiment: {why}"));
    }

    /// Entering the screen: opens the experiment the first time.
    pub fn on_enter(&mut self) -> Vec<Effect> {
        if self.opened_experiment {
            return vec![];
        }
        self.opened_experiment = true;
        vec![Effect::Train(TrainCommand::Open)]
    }

    pub fn on_event(&mut self, e: TrainEvent) {
        match e {
            TrainEvent::Planned { config, settings, stages } => {
                self.config = config;
                self.settings = settings;
                self.stages = stages.into_iter().map(StageState::new).collect();
                self.selected = self.selected.min(self.stages.len().saturating_sub(1));
                self.finished = false;
                self.run = None;
            }
            TrainEvent::StageStarted { stage } => {
                if let Some(s) = self.stages.get_mut(stage) {
                    *s = StageState { status: StageStatus::Running, ..StageState::new(s.plan.clone()) };
                }
                self.selected = stage;
                self.running = true;
            }
            TrainEvent::Progress { stage, done, total } => {
                if let Some(s) = self.stages.get_mut(stage) {
                    s.progress = Some((done, total));
                }
            }
            TrainEvent::Argument { stage, id, text } => {
                if let Some(s) = self.stages.get_mut(stage) {
                    s.argument = Some((id, text));
                }
            }
            TrainEvent::Epoch { stage, head, epoch, loss, val_acc } => {
                if let Some(s) = self.stages.get_mut(stage) {
                    match s.curves.last_mut() {
                        Some((h, c)) if *h == head => c.push((epoch, loss, val_acc)),
                        _ => s.curves.push((head, vec![(epoch, loss, val_acc)])),
                    }
                }
            }
            TrainEvent::StageDone { stage, summary, metrics, pgr, resumed } => {
                if let Some(s) = self.stages.get_mut(stage) {
                    s.status = StageStatus::Done;
                    s.summary = summary;
                    s.metrics = metrics;
                    s.pgr = pgr;
                    s.resumed = resumed;
                    s.progress = None;
                }
            }
            TrainEvent::Cancelled { stage } => {
                if let Some(s) = self.stages.get_mut(stage) {
                    *s = StageState::new(s.plan.clone());
                }
                self.running = false;
                self.pausing = false;
                self.notice = Some(format!(
                    "stopped {}; r or n runs it again",
                    self.stages.get(stage).map(|s| s.plan.name.as_str()).unwrap_or("the stage")
                ));
            }
            TrainEvent::Paused => {
                self.running = false;
                self.pausing = false;
            }
            TrainEvent::Finished { results } => {
                self.running = false;
                self.pausing = false;
                self.finished = true;
                // The results stage (every run's accuracies and PGR) is what a finished run shows.
                if let Some(i) = self.results_row() {
                    self.selected = i;
                }
                self.notice = Some(format!("every stage is done; results: {results}"));
            }
            TrainEvent::Results(run) => self.run = Some(*run),
            TrainEvent::Error(e) => {
                self.running = false;
                self.pausing = false;
                if let Some(i) = self.running_stage() {
                    self.stages[i] = StageState::new(self.stages[i].plan.clone());
                }
                self.error = true;
                self.notice = Some(format!("error: {e}"));
            }
        }
    }
}

/// The areas of the Train screen, shared by drawing and clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainLayout {
    /// The experiment's settings (empty before they are known).
    pub header: Rect,
    /// The notice (empty without one).
    pub banner: Rect,
    /// Under both: the stage list and the selected stage's detail, or the picker.
    pub body: Rect,
    /// The stage list's panel, with its border.
    pub list: Rect,
    /// The stage list's rows.
    pub stages: Rows,
    pub detail: Rect,
}

pub fn layout(area: Rect, s: &TrainState) -> TrainLayout {
    let header_h = if s.settings.is_empty() { 0 } else { 4 };
    let notice_h = if s.notice.is_some() { 3 } else { 0 };
    let [header, banner, body] =
        Layout::vertical([Constraint::Length(header_h), Constraint::Length(notice_h), Constraint::Min(4)]).areas(area);
    let narrow = body.width < 80;
    let [list, detail] = if narrow {
        Layout::vertical([Constraint::Length((s.stages.len() as u16 + 2).min(body.height / 2)), Constraint::Min(4)])
            .areas(body)
    } else {
        Layout::horizontal([Constraint::Length(42), Constraint::Min(30)]).areas(body)
    };
    let stages = Rows::new(inside(list, true, 0), s.list_first, s.selected);
    TrainLayout { header, banner, body, list, stages, detail }
}

pub fn draw(f: &mut Frame, area: Rect, s: &TrainState, t: &Theme) {
    let TrainLayout { header, banner, body, list: list_area, stages: shown, detail } = layout(area, s);
    if header.height > 0 {
        let mut spans: Vec<Span> = Vec::new();
        let mut lines: Vec<Line> = Vec::new();
        for (k, v) in &s.settings {
            // The ladder and the output folder get lines of their own; the rest share one.
            if k == "ladder" || k == "out" {
                lines.push(Line::from(vec![Span::styled(format!("{k} "), t.dimmed()), Span::raw(v.clone())]));
            } else {
                if !spans.is_empty() {
                    spans.push(Span::styled(" · ", t.dimmed()));
                }
                spans.push(Span::styled(format!("{k} "), t.dimmed()));
                spans.push(Span::raw(v.clone()));
            }
        }
        lines.insert(0, Line::from(spans));
        let state = if s.running {
            if s.pausing {
                " · pausing"
            } else {
                " · running"
            }
        } else if s.finished {
            " · done"
        } else {
            ""
        };
        f.render_widget(
            Paragraph::new(lines).block(
                Block::default()
                    .borders(Borders::TOP)
                    .border_style(t.border_style(false))
                    .title(Span::styled(format!(" Experiment · {}{state} ", s.config), t.title_style())),
            ),
            header,
        );
    }
    if let Some(n) = &s.notice {
        let style =
            if s.error { Style::default().fg(t.bad).add_modifier(Modifier::BOLD) } else { Style::default().fg(t.warn) };
        f.render_widget(
            Paragraph::new(n.clone())
                .style(style)
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).border_style(style)),
            banner,
        );
    }
    if let Some(p) = &s.picker {
        draw_picker(f, body, p, t);
        return;
    }
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
            let mut l = vec![Span::styled(format!("{mark} {:>2} {}", i + 1, short_models(&st.plan.title)), style)];
            if let Some(p) = st.pgr {
                l.push(Span::styled(
                    format!(" PGR {p:.2}"),
                    Style::default().fg(t.chart_3).add_modifier(Modifier::BOLD),
                ));
            } else if let Some((d, n)) = st.progress {
                l.push(Span::styled(format!(" {d}/{n}"), Style::default().fg(t.accent)));
            } else if let Some((_, c)) = st.curves.last().filter(|_| st.status == StageStatus::Running) {
                if let Some((e, _, _)) = c.last() {
                    l.push(Span::styled(format!(" epoch {e}"), Style::default().fg(t.accent)));
                }
            }
            ListItem::new(Line::from(l))
        })
        .collect();
    let done = s.stages.iter().filter(|x| x.status == StageStatus::Done).count();
    let mut ls =
        ListState::default().with_offset(shown.first).with_selected((!s.stages.is_empty()).then_some(s.selected));
    let title = if s.stages.is_empty() {
        " Stages · opening… ".to_string()
    } else {
        format!(" Stages · {done}/{} done ", s.stages.len())
    };
    f.render_stateful_widget(
        List::new(items).highlight_style(t.selected()).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_style(true))
                .title(Span::styled(title, t.title_style())),
        ),
        list_area,
        &mut ls,
    );

    let Some(st) = s.stages.get(s.selected) else { return };
    // The finished run's results row: PGR against strong model and each run's interval (the
    // Review screen's drawing of the same run folder).
    if let (Some(run), true) = (&s.run, Some(s.selected) == s.results_row() && st.status == StageStatus::Done) {
        let rows = review_run::pgr_rows(run);
        let [plot, intervals] =
            Layout::vertical([Constraint::Min(6), Constraint::Length((rows.len() as u16 + 2).min(detail.height / 2))])
                .areas(detail);
        review_run::draw_pgr_plot(f, plot, run, &rows, t);
        review_run::draw_pgr_intervals(f, intervals, run, &rows, t);
        return;
    }
    let [chart_area, metrics_area] = Layout::vertical([
        Constraint::Min(5),
        Constraint::Length(if s.opened { (st.metrics.len() as u16 + 5).max(8) } else { 5 }),
    ])
    .areas(detail);
    let (head, curve): (&str, &[(usize, f64, f64)]) =
        st.curves.last().map(|(h, c)| (h.as_str(), c.as_slice())).unwrap_or(("", &[]));
    // Cross-fitting folds train extra heads: name the one drawn.
    let title = match head.split_once('/') {
        Some((_, fold)) => format!(" {} · {fold} · loss, val acc ", st.plan.title),
        None => format!(" {} · loss, val acc ", st.plan.title),
    };
    let title = Span::styled(title, t.title_style());
    if curve.is_empty() {
        let msg = match (&st.status, st.progress) {
            (StageStatus::Running, Some((d, n))) if st.plan.kind == StageKind::Debate => match &st.argument {
                Some((id, text)) => format!("debated {d}/{n} examples; the latest, {id}:\n{text}"),
                None => format!("debating: {d}/{n} examples"),
            },
            (StageStatus::Running, Some((d, n))) => format!("extracting features: {d}/{n}"),
            (StageStatus::Running, None) => "running…".to_string(),
            (StageStatus::Done, _) if st.resumed => {
                "done in an earlier run (curves are drawn while a stage runs)".to_string()
            }
            (StageStatus::Done, _)
                if matches!(
                    st.plan.kind,
                    StageKind::Data
                        | StageKind::Features
                        | StageKind::WeakLabels
                        | StageKind::Debate
                        | StageKind::Results
                        | StageKind::Combined
                ) =>
            {
                "this stage trains no head".to_string()
            }
            (StageStatus::Done, _) => "no curve in this session".to_string(),
            (StageStatus::Pending, _) => "not run yet — r runs the pipeline, n runs the next stage".to_string(),
        };
        f.render_widget(
            Paragraph::new(msg.lines().map(|l| Line::styled(l.to_string(), t.dimmed())).collect::<Vec<_>>())
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).border_style(t.border_style(false)).title(title)),
            chart_area,
        );
    } else {
        let loss: Vec<(f64, f64)> = curve.iter().map(|(e, l, _)| (*e as f64, *l)).collect();
        let acc: Vec<(f64, f64)> = curve.iter().map(|(e, _, a)| (*e as f64, *a)).collect();
        let max_x = curve.last().map(|c| c.0 as f64).unwrap_or(1.0).max(1.0);
        let max_y = curve.iter().map(|c| c.1.max(c.2)).fold(1.0, f64::max);
        let datasets = vec![
            Dataset::default()
                .name("loss")
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(t.chart_2))
                .data(&loss),
            Dataset::default()
                .name("val acc")
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(t.chart_1))
                .data(&acc),
        ];
        f.render_widget(
            Chart::new(datasets)
                .block(Block::default().borders(Borders::ALL).border_style(t.border_style(false)).title(title))
                .x_axis(
                    Axis::default()
                        .title(Span::styled("epoch", t.dimmed()))
                        .bounds([1.0, max_x])
                        .labels(vec![Span::raw("1"), Span::raw(format!("{max_x:.0}"))]),
                )
                .y_axis(
                    Axis::default().bounds([0.0, max_y]).labels(vec![Span::raw("0"), Span::raw(format!("{max_y:.1}"))]),
                ),
            chart_area,
        );
    }
    let mut lines: Vec<Line> = vec![Line::styled(st.plan.detail.clone(), t.dimmed())];
    if let Some(p) = st.pgr {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<14}", "PGR"), t.dimmed()),
            Span::styled(format!("{p:.3}"), Style::default().fg(t.chart_3).add_modifier(Modifier::BOLD)),
        ]));
    }
    if s.opened {
        lines.extend(st.metrics.iter().map(|(k, v)| {
            Line::from(vec![Span::styled(format!("{k:<14}"), t.dimmed()), Span::raw(format!("{v:.4}"))])
        }));
    }
    if !st.summary.is_empty() {
        lines.push(Line::raw(st.summary.clone()));
    } else if st.status != StageStatus::Done {
        lines.push(Line::styled("no results yet", t.dimmed()));
    }
    let title = if s.opened { " Results · enter closes ".to_string() } else { " Results · enter opens ".to_string() };
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_style(s.opened))
                .title(Span::styled(title, t.title_style())),
        ),
        metrics_area,
    );
}

/// The picker's table and, under it, the selected entry's details, inside its border in `area`.
fn picker_areas(area: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(inside(area, true, 0))
}

/// The picker's rows (under the table's header) in `area`, while it lists experiments.
pub fn picker_rows(area: Rect, p: &Picker) -> Option<Rows> {
    let [table, _] = picker_areas(area);
    (!p.loading && !p.entries.is_empty()).then(|| Rows::new(inside(table, false, 1), p.first, p.selected))
}

/// The experiment picker: one row per config or run (kind, name, task, ladder, how far it got,
/// when), the selected one's path and full status under the table.
fn draw_picker(f: &mut Frame, area: Rect, p: &Picker, t: &Theme) {
    let title = match &p.opening {
        Some(name) => format!(" Experiments · opening {name}… "),
        None => format!(" Experiments · {} · enter opens · esc closes ", p.entries.len()),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_style(true))
        .title(Span::styled(title, t.title_style()));
    f.render_widget(block, area);
    let [table_area, about] = picker_areas(area);
    if p.loading {
        f.render_widget(Paragraph::new(Line::styled("reading experiments…", t.dimmed())), table_area);
        return;
    }
    if p.entries.is_empty() {
        let mut lines = vec![Line::raw("No experiments found. Put experiment TOML files in:")];
        lines.extend(p.places.iter().take(2).map(|d| Line::styled(format!("  {}", d.display()), t.dimmed())));
        lines.push(Line::raw("(runs of w2sd train are listed from the data dir's runs/ folder)"));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), table_area);
        return;
    }
    let task = |e: &ExperimentEntry| e.task.trim_start_matches("builtin:").to_string();
    let fit = |cell: &dyn Fn(&ExperimentEntry) -> String, head: &str, cap: usize| -> u16 {
        let w = p.entries.iter().map(|e| cell(e).chars().count()).max().unwrap_or(0);
        w.max(head.len()).min(cap) as u16
    };
    let wide = table_area.width >= 110;
    let mut widths = vec![
        Constraint::Length(6),
        Constraint::Length(fit(&|e| e.name.clone(), "name", 30)),
        Constraint::Length(fit(&task, "task", 20)),
        Constraint::Fill(1),
        Constraint::Length(fit(&|e| e.status.clone(), "status", 22)),
    ];
    let mut header = vec!["kind", "name", "task", "ladder", "status"];
    if wide {
        widths.push(Constraint::Length(16));
        header.push("modified");
    }
    let offset = picker_rows(area, p).map(|r| r.first).unwrap_or(0);
    let rows: Vec<Row> = p
        .entries
        .iter()
        .enumerate()
        .skip(offset)
        .map(|(i, e)| {
            let status_style = if e.status.starts_with("invalid") || e.status.starts_with("no ") {
                Style::default().fg(t.bad)
            } else if e.status.contains("results") {
                Style::default().fg(t.good)
            } else {
                Style::default()
            };
            let mut cells = vec![
                Cell::from(Span::styled(e.source.label(), t.dimmed())),
                Cell::from(e.name.clone()),
                Cell::from(task(e)),
                Cell::from(short_models(&e.ladder.join(" → "))),
                Cell::from(Span::styled(e.status.clone(), status_style)),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(e.modified.clone(), t.dimmed())));
            }
            let row = Row::new(cells);
            if i == p.selected {
                row.style(t.selected())
            } else {
                row
            }
        })
        .collect();
    f.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(t.dimmed().add_modifier(Modifier::BOLD))),
        table_area,
    );
    if let Some(e) = p.entries.get(p.selected) {
        let lines = vec![
            Line::from(vec![Span::styled("path   ", t.dimmed()), Span::raw(e.path.display().to_string())]),
            Line::from(vec![Span::styled("ladder ", t.dimmed()), Span::raw(e.ladder.join(" → "))]),
            Line::from(vec![Span::styled("status ", t.dimmed()), Span::raw(e.status.clone())]),
        ];
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::TOP).border_style(t.border_style(false))),
            about,
        );
    }
}
