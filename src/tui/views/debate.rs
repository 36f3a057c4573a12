//! The Debate / judge screen: the question (and the passage when the judge may see it)
//! on top, the two explanations side by side streaming in, and the judge bar.

use std::time::Instant;

use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Wrap};
use ratatui::Frame;

use crate::session::{JudgeSetting, Protocol};
use crate::tui::action::{confidence_right_pct, Action};
use crate::tui::message::{DebateCommand, DebateConfig, DebateEvent, Effect, ItemView, ModelVerdict, Pane, Reveal};
use crate::tui::theme::Theme;
use crate::tui::widgets::judge_bar::{key_at, JudgeBar};
use crate::tui::widgets::pane::{copy_warning, para, turn_para, wrap, Para, Scroll, TextPane};
use crate::tui::widgets::short_models;

/// What the session is, for the header.
#[derive(Debug, Clone, PartialEq)]
pub struct DebateSummary {
    pub task: String,
    /// Who judges (the session's setting) and, for a person, their name.
    pub judge: JudgeSetting,
    pub judge_name: String,
    pub protocol: Protocol,
    pub blind: bool,
    /// Whether ground truth and D are shown after a verdict.
    pub reveal: bool,
    pub out: String,
}

impl DebateSummary {
    /// The header of a session run from `cfg`.
    pub fn of(cfg: &DebateConfig) -> DebateSummary {
        DebateSummary {
            task: cfg.settings.task.clone(),
            judge: cfg.settings.judge.clone(),
            judge_name: cfg.judge_name.clone(),
            protocol: cfg.settings.protocol,
            blind: cfg.blind,
            reveal: cfg.reveal,
            out: cfg.out.display().to_string(),
        }
    }
}

/// Where the current item stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Phase {
    /// No debate session is running.
    #[default]
    Idle,
    /// Pulling or loading models before the first item.
    Preparing {
        what: String,
        done: u64,
        total: Option<u64>,
    },
    /// Turns are streaming in.
    Arguing,
    /// Every turn is in: waiting for the verdict.
    Deciding,
    /// The verdict was sent; waiting for it to be on disk.
    Saving,
    /// The verdict is saved and the settings allow showing the truth.
    Revealed(Reveal),
    /// Waiting for the next item.
    Waiting,
    Finished {
        path: String,
        judged: usize,
        skipped: usize,
    },
    Failed(String),
}

/// One turn in a pane.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PaneTurn {
    pub round: usize,
    /// What streamed, then the recorded text once done.
    pub text: String,
    /// The stop reason, once done.
    pub stop: Option<String>,
    /// The copy overlap with the opponent when the turn was flagged as copied (still above the
    /// threshold after the regenerations).
    pub copied: Option<f64>,
}

/// One side's transcript: its turns, in rounds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PaneText {
    pub turns: Vec<PaneTurn>,
    pub streaming: bool,
    pub scroll: Scroll,
}

impl PaneText {
    pub fn fresh() -> Self {
        PaneText { turns: vec![], streaming: false, scroll: Scroll::following() }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DebateState {
    pub summary: Option<DebateSummary>,
    pub phase: Phase,
    pub item: Option<ItemView>,
    pub panes: [PaneText; 2],
    /// 0 = left, 1 = right, 2 = question/passage.
    pub focus: usize,
    pub question_scroll: Scroll,
    /// The probability (percent) that the right side is correct, once chosen.
    pub p_right: Option<u8>,
    pub rationale: String,
    /// The rationale being edited (text input mode).
    pub editing: Option<String>,
    /// Seconds on the current item, updated by ticks.
    pub elapsed_s: u64,
    pub started: Option<Instant>,
    pub judged: usize,
    pub skipped: usize,
    pub model_verdict: Option<ModelVerdict>,
    pub last_reveal: Option<Reveal>,
    /// A one-line message for the judge (refusals, hints).
    pub notice: Option<String>,
    /// Keep `notice` when the next item appears (after an undo).
    pub keep_notice: bool,
}

impl Default for DebateState {
    fn default() -> Self {
        DebateState {
            summary: None,
            phase: Phase::Idle,
            item: None,
            panes: [PaneText::fresh(), PaneText::fresh()],
            focus: 0,
            question_scroll: Scroll::default(),
            p_right: None,
            rationale: String::new(),
            editing: None,
            elapsed_s: 0,
            started: None,
            judged: 0,
            skipped: 0,
            model_verdict: None,
            last_reveal: None,
            notice: None,
            keep_notice: false,
        }
    }
}

/// The areas of the debate screen, shared by drawing and mouse hit-testing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DebateLayout {
    pub question: Rect,
    pub left: Rect,
    pub right: Rect,
    pub judge: Rect,
    pub stacked: bool,
}

/// Narrower than this, the two panes stack vertically.
pub const STACK_BELOW: u16 = 80;

pub fn layout(area: Rect, s: &DebateState) -> DebateLayout {
    let inner_w = area.width.saturating_sub(2) as usize;
    let q_lines = s
        .item
        .as_ref()
        .map(|i| wrap(&i.question, inner_w).len() + i.passage.as_ref().map(|p| wrap(p, inner_w).len() + 1).unwrap_or(0))
        .unwrap_or(1);
    let max_q = (area.height / 4).max(3) as usize;
    let q_h = (q_lines.min(max_q) + 2) as u16;
    let judge_h = 6u16;
    let [question, panes, judge] =
        Layout::vertical([Constraint::Length(q_h), Constraint::Min(4), Constraint::Length(judge_h)]).areas(area);
    let stacked = area.width < STACK_BELOW;
    let [left, right] = if stacked {
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(panes)
    } else {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(panes)
    };
    DebateLayout { question, left, right, judge, stacked }
}

fn fmt_clock(s: u64) -> String {
    format!("{:02}:{:02}", s / 60, s % 60)
}

impl DebateState {
    pub fn busy(&self) -> bool {
        matches!(self.phase, Phase::Arguing | Phase::Preparing { .. }) || self.panes.iter().any(|p| p.streaming)
    }

    fn human(&self) -> bool {
        !matches!(self.summary.as_ref().map(|s| &s.judge), Some(JudgeSetting::Model { .. }))
    }

    /// The paragraphs of a pane (the answer it defends, then its turns).
    ///
    /// A finished turn shows its recorded text, with its quotes marked as found in the passage
    /// or not and its cut mark ([`turn_para`]); a turn being written shows what has streamed.
    pub fn pane_paragraphs(&self, pane: usize, t: &Theme) -> Vec<Para> {
        let mut v = Vec::new();
        let source = self.item.as_ref().and_then(|i| i.source_passage.as_deref());
        if let Some(item) = &self.item {
            let side = if pane == 0 { &item.left } else { &item.right };
            v.push(para(
                format!("Defends: {}", side.answer),
                Style::default().fg(t.title).add_modifier(Modifier::BOLD),
            ));
        }
        let multi = self.panes[pane].turns.iter().map(|x| x.round).max().unwrap_or(1) > 1;
        for turn in &self.panes[pane].turns {
            if multi {
                v.push(para(format!("── round {} ──", turn.round), t.dimmed()));
            }
            match turn.stop.as_deref() {
                None => v.push(para(turn.text.trim_start(), Style::default().fg(t.fg))),
                Some(_) => v.push(turn_para(&turn.text, source, t)),
            }
            if turn.stop.as_deref() == Some("cancelled") {
                v.push(para("[cancelled]", Style::default().fg(t.warn)));
            }
            if let Some(o) = turn.copied {
                v.push(copy_warning(o, t));
            }
        }
        v
    }

    fn scroll_focused(&mut self, delta: isize, area: Rect, t: &Theme) {
        let lay = layout(area, self);
        if self.focus == 2 {
            let w = lay.question.width.saturating_sub(2) as usize;
            let total = self.question_lines(w).len();
            self.question_scroll.by(delta, total, lay.question.height.saturating_sub(2) as usize);
            return;
        }
        let rect = if self.focus == 0 { lay.left } else { lay.right };
        let w = rect.width.saturating_sub(3) as usize;
        let total = TextPane::lines(&self.pane_paragraphs(self.focus, t), w.max(1)).len();
        let h = rect.height.saturating_sub(2) as usize;
        let page = h.max(2) as isize - 1;
        let d = match delta {
            isize::MIN => -page,
            isize::MAX => page,
            d => d,
        };
        self.panes[self.focus].scroll.by(d, total, h);
    }

    fn question_lines(&self, w: usize) -> Vec<String> {
        let Some(item) = &self.item else { return vec![] };
        let mut v = wrap(&item.question, w);
        if let Some(p) = &item.passage {
            v.push(String::new());
            v.extend(wrap(p, w));
        }
        v
    }

    /// Whether the screen shows an item (its question, panes and judge bar in [`layout`]); else
    /// it shows that no debate runs, or the models being readied.
    pub fn shows_item(&self) -> bool {
        !matches!((&self.phase, &self.item), (Phase::Idle, None) | (Phase::Preparing { .. }, _))
    }

    /// A left click at (`col`, `row`): on a number of the judge bar's 1–9 scale it sets that
    /// confidence, as the number's key does; on a pane it focuses the pane. While a rationale is
    /// typed it does nothing (the keys are text then).
    pub fn click(&mut self, col: u16, row: u16, area: Rect, t: &Theme) -> Vec<Effect> {
        if !self.shows_item() || self.editing.is_some() {
            return vec![];
        }
        let lay = layout(area, self);
        if let Some(n) = key_at(lay.judge, col, row) {
            return self.handle(Action::Confidence(n), area, t);
        }
        let at = Position { x: col, y: row };
        let passage = self.item.as_ref().is_some_and(|i| i.passage.is_some());
        if lay.left.contains(at) {
            self.focus = 0;
        } else if lay.right.contains(at) {
            self.focus = 1;
        } else if passage && lay.question.contains(at) {
            self.focus = 2;
        }
        vec![]
    }

    /// Scrolls the pane under the mouse.
    pub fn scroll_at(&mut self, col: u16, row: u16, delta: isize, area: Rect, t: &Theme) {
        let lay = layout(area, self);
        let hit = |r: Rect| col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height;
        let target = if hit(lay.left) {
            0
        } else if hit(lay.right) {
            1
        } else if hit(lay.question) {
            2
        } else {
            return;
        };
        let keep = self.focus;
        self.focus = target;
        self.scroll_focused(delta, area, t);
        self.focus = keep;
    }

    pub fn handle(&mut self, action: Action, area: Rect, t: &Theme) -> Vec<Effect> {
        self.notice = None;
        match action {
            Action::Up => self.scroll_focused(-1, area, t),
            Action::Down => self.scroll_focused(1, area, t),
            Action::PageUp => self.scroll_focused(isize::MIN, area, t),
            Action::PageDown => self.scroll_focused(isize::MAX, area, t),
            Action::Top => {
                if self.focus == 2 {
                    self.question_scroll.top()
                } else {
                    self.panes[self.focus].scroll.top()
                }
            }
            Action::Bottom if self.focus < 2 => self.panes[self.focus].scroll.bottom(),
            Action::Bottom => {}
            Action::FocusNext => {
                let n = if self.item.as_ref().is_some_and(|i| i.passage.is_some()) { 3 } else { 2 };
                self.focus = (self.focus + 1) % n;
            }
            Action::Confidence(n) if self.human() && self.can_decide() => {
                let p = confidence_right_pct(n);
                self.p_right = Some(p);
                if p == 50 {
                    self.notice = Some("50% is not a verdict: lean left (1–4) or right (6–9)".into());
                }
            }
            Action::NudgeLeft | Action::NudgeRight if self.human() && self.can_decide() => {
                let step: i16 = if action == Action::NudgeRight { 5 } else { -5 };
                let p = self.p_right.map(|p| p as i16).unwrap_or(50) + step;
                self.p_right = Some(p.clamp(5, 95) as u8);
            }
            Action::Submit => return self.submit(),
            Action::Skip if matches!(self.phase, Phase::Arguing | Phase::Deciding) => {
                self.phase = Phase::Waiting;
                return vec![Effect::CancelGeneration, Effect::Debate(DebateCommand::Skip)];
            }
            Action::Undo => {
                if self.judged == 0 {
                    self.notice = Some("no verdict to undo".into());
                } else if !matches!(self.phase, Phase::Saving | Phase::Idle | Phase::Preparing { .. }) {
                    self.phase = Phase::Waiting;
                    return vec![Effect::CancelGeneration, Effect::Debate(DebateCommand::Undo)];
                }
            }
            Action::Rationale if self.human() && self.item.is_some() && self.can_decide() => {
                self.editing = Some(self.rationale.clone());
            }
            Action::Cancel if self.busy() => {
                self.notice = Some("generation cancelled".into());
                return vec![Effect::CancelGeneration];
            }
            _ => {}
        }
        vec![]
    }

    fn can_decide(&self) -> bool {
        matches!(self.phase, Phase::Arguing | Phase::Deciding)
    }

    fn submit(&mut self) -> Vec<Effect> {
        match &self.phase {
            Phase::Revealed(_) => {
                self.phase = Phase::Waiting;
                vec![Effect::Debate(DebateCommand::Next)]
            }
            Phase::Deciding if self.human() => match self.p_right {
                None => {
                    self.notice = Some("choose a confidence with 1–9 first".into());
                    vec![]
                }
                Some(50) => {
                    self.notice = Some("50% is not a verdict: lean left (1–4) or right (6–9)".into());
                    vec![]
                }
                Some(p) => {
                    self.phase = Phase::Saving;
                    let seconds = self.started.map(|s| s.elapsed().as_secs_f64()).unwrap_or(self.elapsed_s as f64);
                    let rationale = (!self.rationale.trim().is_empty()).then(|| self.rationale.trim().to_string());
                    vec![Effect::Debate(DebateCommand::Verdict { p_right: p as f64 / 100.0, rationale, seconds })]
                }
            },
            Phase::Arguing if self.human() => {
                self.notice = Some("wait for both sides to finish (Esc stops them)".into());
                vec![]
            }
            _ => vec![],
        }
    }

    /// Text-input keys while the rationale is being edited. Returns true when consumed.
    pub fn edit_rationale(&mut self, key: crossterm::event::KeyCode) -> bool {
        use crossterm::event::KeyCode;
        let Some(buf) = self.editing.as_mut() else { return false };
        match key {
            KeyCode::Char(c) => buf.push(c),
            KeyCode::Backspace => {
                buf.pop();
            }
            KeyCode::Enter => {
                self.rationale = self.editing.take().unwrap_or_default();
            }
            KeyCode::Esc => {
                self.editing = None;
            }
            _ => {}
        }
        true
    }

    pub fn on_tick(&mut self) {
        if let (Some(s), true) = (self.started, matches!(self.phase, Phase::Arguing | Phase::Deciding)) {
            self.elapsed_s = s.elapsed().as_secs();
        }
    }

    pub fn on_event(&mut self, e: DebateEvent) -> Vec<Effect> {
        match e {
            DebateEvent::Preparing { what, done, total } => self.phase = Phase::Preparing { what, done, total },
            DebateEvent::ItemStarted(item) => {
                self.item = Some(*item);
                self.panes = [PaneText::fresh(), PaneText::fresh()];
                self.question_scroll = Scroll::default();
                self.p_right = None;
                self.rationale.clear();
                self.editing = None;
                self.model_verdict = None;
                if !std::mem::take(&mut self.keep_notice) {
                    self.notice = None;
                }
                self.phase = Phase::Arguing;
                self.started = Some(Instant::now());
                self.elapsed_s = 0;
                if self.focus == 2 {
                    self.focus = 0;
                }
            }
            DebateEvent::TurnStarted { pane, round } => {
                let p = &mut self.panes[pane.index()];
                p.turns.push(PaneTurn { round, ..PaneTurn::default() });
                p.streaming = true;
            }
            DebateEvent::Token { pane, piece } => {
                let p = &mut self.panes[pane.index()];
                if p.turns.is_empty() {
                    p.turns.push(PaneTurn { round: 1, ..PaneTurn::default() });
                }
                if let Some(last) = p.turns.last_mut() {
                    last.text.push_str(&piece);
                }
            }
            DebateEvent::TurnDone { pane, stop_reason, text, copied } => {
                let p = &mut self.panes[pane.index()];
                p.streaming = false;
                if let Some(last) = p.turns.last_mut() {
                    last.stop = Some(stop_reason);
                    // The recorded turn replaces what streamed (a regenerated turn's earlier
                    // attempt, an untrimmed end).
                    if let Some(t) = text {
                        last.text = t;
                    }
                    last.copied = copied;
                }
            }
            DebateEvent::Argued => {
                for p in &mut self.panes {
                    p.streaming = false;
                }
                if matches!(self.phase, Phase::Arguing) {
                    self.phase = Phase::Deciding;
                }
            }
            DebateEvent::ModelJudged(v) => {
                self.p_right = Some((v.p_right * 100.0).round().clamp(0.0, 100.0) as u8);
                self.model_verdict = Some(v);
                self.phase = Phase::Saving;
            }
            DebateEvent::VerdictSaved { reveal, judged, .. } => {
                self.judged = judged;
                self.last_reveal = reveal.clone();
                match reveal {
                    Some(r) if self.human() => self.phase = Phase::Revealed(r),
                    _ => {
                        self.phase = Phase::Waiting;
                        return vec![Effect::Debate(DebateCommand::Next)];
                    }
                }
            }
            DebateEvent::Skipped { .. } => {
                self.skipped += 1;
                self.phase = Phase::Waiting;
            }
            DebateEvent::Undone { index } => {
                self.judged = self.judged.saturating_sub(1);
                self.notice = Some(format!("verdict on item {} undone: judge it again", index + 1));
                self.keep_notice = true;
            }
            DebateEvent::Refused(why) => {
                self.phase = Phase::Deciding;
                self.notice = Some(why);
            }
            DebateEvent::NothingToUndo => {
                self.notice = Some("no verdict to undo".into());
            }
            DebateEvent::Finished { path, judged, skipped } => {
                self.phase = Phase::Finished { path: path.display().to_string(), judged, skipped };
                self.judged = judged;
                self.skipped = skipped;
                for p in &mut self.panes {
                    p.streaming = false;
                }
            }
            DebateEvent::Error(e) => {
                self.phase = Phase::Failed(e);
                for p in &mut self.panes {
                    p.streaming = false;
                }
            }
        }
        vec![]
    }
}

/// `new_key`: the key that opens the setup form (named on the idle screen).
pub fn draw(f: &mut Frame, area: Rect, s: &DebateState, t: &Theme, hint: Line<'static>, new_key: Option<String>) {
    if !s.shows_item() {
        return match &s.phase {
            Phase::Preparing { what, done, total } => draw_preparing(f, area, t, what, *done, *total),
            _ => draw_idle(f, area, t, new_key),
        };
    }
    let lay = layout(area, s);
    let item = s.item.clone().unwrap_or_default();

    // Question (and passage).
    let progress = if item.total > 0 { format!(" {}/{} ", item.index + 1, item.total) } else { String::new() };
    // The protocol is named when it is not a plain debate.
    let proto = |p: Protocol| if p == Protocol::Debate { String::new() } else { format!("{p} · ") };
    let mode = match s.summary.as_ref().map(|x| (&x.judge, &x.judge_name, x.protocol)) {
        Some((JudgeSetting::Model { spec }, _, p)) => format!("{}model judge {}", proto(p), short_models(spec)),
        Some((_, name, p)) => format!("{}judge {name}", proto(p)),
        None => String::new(),
    };
    let blind = if item.blind { " · blind" } else { "" };
    let title = Line::from(vec![
        Span::styled(" Question", t.title_style()),
        Span::styled(progress, Style::default().fg(t.accent).add_modifier(Modifier::BOLD)),
        Span::styled(format!("⏱ {} ", fmt_clock(s.elapsed_s)), Style::default().fg(t.warn)),
    ]);
    let right_title =
        Line::styled(format!(" {mode}{blind} · judged {} · skipped {} ", s.judged, s.skipped), t.dimmed())
            .right_aligned();
    let w = lay.question.width.saturating_sub(2) as usize;
    let mut q: Vec<Line> = wrap(&item.question, w)
        .into_iter()
        .map(|l| Line::styled(l, Style::default().fg(t.title).add_modifier(Modifier::BOLD)))
        .collect();
    if let Some(p) = &item.passage {
        q.push(Line::raw(""));
        q.extend(wrap(p, w).into_iter().map(|l| Line::styled(l, t.dimmed())));
    }
    let qh = lay.question.height.saturating_sub(2) as usize;
    let first = s.question_scroll.first_line(q.len(), qh);
    let q: Vec<Line> = q.into_iter().skip(first).collect();
    f.render_widget(
        Paragraph::new(q).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_style(s.focus == 2))
                .title(title)
                .title(right_title),
        ),
        lay.question,
    );

    // The two sides.
    for (i, rect) in [(0usize, lay.left), (1usize, lay.right)] {
        let side = if i == 0 { &item.left } else { &item.right };
        let color = match side.role.as_deref() {
            Some("strong") => t.strong,
            Some("weak") => t.weak,
            _ => {
                if i == 0 {
                    t.left
                } else {
                    t.right
                }
            }
        };
        let arrow = if i == 0 { "◀" } else { "▶" };
        let mut title = vec![Span::styled(
            format!(" {arrow} {} ", side.label),
            Style::default().fg(color).add_modifier(Modifier::BOLD),
        )];
        if let Phase::Revealed(r) = &s.phase {
            let right_side = (i == 1) == r.right_correct;
            title.push(if right_side {
                Span::styled("✓ correct ", Style::default().fg(t.good).add_modifier(Modifier::BOLD))
            } else {
                Span::styled("✗ wrong ", Style::default().fg(t.bad))
            });
            if item.blind {
                let strong_here = (i == 0) == (r.strong_pane == Pane::Left);
                title.push(Span::styled(if strong_here { "(strong) " } else { "(weak) " }, t.dimmed()));
            }
        }
        let pane = &s.panes[i];
        let footer = if pane.streaming {
            Some(Line::styled(" streaming… ", Style::default().fg(t.accent)))
        } else {
            pane.turns.last().and_then(|x| x.stop.clone()).map(|r| Line::styled(format!(" {r} "), t.dimmed()))
        };
        f.render_widget(
            TextPane {
                title: Line::from(title),
                paragraphs: s.pane_paragraphs(i, t),
                scroll: pane.scroll,
                focused: s.focus == i,
                theme: t,
                footer,
                border_color: Some(color),
            },
            rect,
        );
    }

    // The judge bar.
    let status_line = judge_status(s, t, hint);
    let orders: Vec<u8> = s
        .model_verdict
        .as_ref()
        .map(|v| v.orders.iter().map(|(_, p)| (p * 100.0).round() as u8).collect())
        .unwrap_or_default();
    let (ll, rl) = if lay.judge.width >= 60 {
        (short(&item.left.label), short(&item.right.label))
    } else {
        ("left".into(), "right".into())
    };
    f.render_widget(
        JudgeBar {
            p_right: s.p_right,
            order_marks: orders,
            left_label: ll,
            right_label: rl,
            title: Line::styled(if s.human() { " Verdict " } else { " Model judge " }, t.title_style()),
            hint: status_line,
            theme: t,
            focused: matches!(s.phase, Phase::Deciding),
        },
        lay.judge,
    );
}

fn short(label: &str) -> String {
    label.split(" · ").next().unwrap_or(label).to_string()
}

/// The bottom line of the judge bar: what to do now, or what happened.
fn judge_status(s: &DebateState, t: &Theme, hint: Line<'static>) -> Line<'static> {
    if let Some(buf) = &s.editing {
        return Line::from(vec![
            Span::styled("rationale: ", t.key_style()),
            Span::raw(buf.clone()),
            Span::styled("▏", Style::default().fg(t.accent)),
            Span::styled("  (enter keeps, esc drops)", t.dimmed()),
        ]);
    }
    if let Some(n) = &s.notice {
        return Line::styled(n.clone(), Style::default().fg(t.warn));
    }
    match &s.phase {
        Phase::Revealed(r) => {
            let verdict = if r.correct {
                Span::styled(
                    "✓ your verdict favoured the correct answer",
                    Style::default().fg(t.good).add_modifier(Modifier::BOLD),
                )
            } else {
                Span::styled(
                    "✗ your verdict favoured the wrong answer",
                    Style::default().fg(t.bad).add_modifier(Modifier::BOLD),
                )
            };
            Line::from(vec![
                verdict,
                Span::raw(format!(" · D = {:+.3} · saved · ", r.d)),
                Span::styled("enter", t.key_style()),
                Span::raw(" next  "),
                Span::styled("u", t.key_style()),
                Span::raw(" undo"),
            ])
        }
        Phase::Saving if s.model_verdict.is_none() => {
            Line::styled("saving the verdict…", Style::default().fg(t.accent))
        }
        Phase::Waiting => Line::styled("saved · next item coming…", t.dimmed()),
        Phase::Finished { path, judged, skipped } => Line::from(vec![
            Span::styled("session done ", Style::default().fg(t.good).add_modifier(Modifier::BOLD)),
            Span::raw(format!("({judged} judged, {skipped} skipped) → {path}  ")),
            Span::styled("F2", t.key_style()),
            Span::raw(" review  "),
            Span::styled("q", t.key_style()),
            Span::raw(" quit"),
        ]),
        Phase::Failed(e) => Line::styled(format!("error: {e}"), Style::default().fg(t.bad)),
        _ => match (&s.model_verdict, s.human()) {
            (Some(v), _) => {
                let orders: Vec<String> = v
                    .orders
                    .iter()
                    .map(|(rf, p)| format!("{} first {:.2}", if *rf { "right" } else { "left" }, p))
                    .collect();
                Line::styled(
                    format!("{}: p(right) = {:.2} · {}", v.judge, v.p_right, orders.join(" · ")),
                    Style::default().fg(t.accent),
                )
            }
            (None, false) => Line::styled(
                if matches!(s.phase, Phase::Deciding) {
                    "the model judge is deciding…"
                } else {
                    "waiting for both sides…"
                },
                t.dimmed(),
            ),
            (None, true) => {
                if !s.rationale.is_empty() {
                    Line::from(vec![Span::styled("rationale: ", t.dimmed()), Span::raw(s.rationale.clone())])
                } else {
                    hint
                }
            }
        },
    }
}

fn draw_idle(f: &mut Frame, area: Rect, t: &Theme, new_key: Option<String>) {
    let mut lines = vec![Line::styled("No debate is running.", t.title_style()), Line::raw("")];
    if let Some(k) = new_key {
        lines.extend([
            Line::from(vec![
                Span::raw("Set one up here: "),
                Span::styled(k, t.key_style()),
                Span::raw(" opens the setup form (task, debaters, judge, protocol, …)."),
            ]),
            Line::raw(""),
        ]);
    }
    lines.extend([
        Line::raw("Or start one from the shell:"),
        Line::styled(
            "  w2sd                                    live debate on the offline default",
            Style::default().fg(t.accent),
        ),
        Line::styled(
            "  w2sd judge --task SPEC [--blind]        judge a session yourself",
            Style::default().fg(t.accent),
        ),
        Line::styled("  w2sd judge --task SPEC --model-judge M  watch a model judge", Style::default().fg(t.accent)),
        Line::raw(""),
        Line::styled("Saved sessions are on the Review screen (F2).", t.dimmed()),
    ]);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_style(false))
                .title(Span::styled(" Debate ", t.title_style())),
        ),
        area,
    );
}

fn draw_preparing(f: &mut Frame, area: Rect, t: &Theme, what: &str, done: u64, total: Option<u64>) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_style(true))
        .title(Span::styled(" Getting ready ", t.title_style()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [_, msg, bar, note, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Fill(1),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(Line::styled(what.to_string(), Style::default().fg(t.accent))).centered(), msg);
    let (ratio, label) = match total {
        Some(tot) if tot > 0 => ((done as f64 / tot as f64).clamp(0.0, 1.0), format!("{done}/{tot}")),
        _ => (0.0, if done > 0 { format!("{done}") } else { String::new() }),
    };
    let [_, b, _] =
        Layout::horizontal([Constraint::Percentage(10), Constraint::Percentage(80), Constraint::Percentage(10)])
            .areas(bar);
    f.render_widget(
        Gauge::default().ratio(ratio).label(label).gauge_style(Style::default().fg(t.chart_1).bg(t.status_bg)),
        b,
    );
    f.render_widget(
        Paragraph::new(Line::styled("models are pulled once into the cache; later starts skip this", t.dimmed()))
            .centered(),
        note,
    );
}
