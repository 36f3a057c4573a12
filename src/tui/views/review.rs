//! The Review screen: saved sessions (from the data dir, the repo's `sessions/`, or a
//! file/dir given on the command line), sortable and filterable by task, model, judge
//! and date, with search inside transcripts; a session opens to step through its
//! debates; a stats panel draws judge accuracy, mean D with its CI, a calibration plot
//! and win rates; two sessions (or two training runs) can be compared side by side.
//!
//! Training runs (`<data>/runs/*`, or run folders among the given places) are listed beside
//! the sessions, their kind column saying `train`; one opens on its stages' accuracies, the
//! PGR of each run with its interval and PGR against strong model (`review_run`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossterm::event::KeyCode;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::session::{DebateRecord, Side};
use crate::tui::action::Action;
use crate::tui::message::{Effect, RunEntry, Scan, SessionEntry};
use crate::tui::theme::Theme;
use crate::tui::widgets::charts::{interval_line, proportion_line, CalPoint, CalibrationPlot};
use crate::tui::widgets::pane::{copy_warning, para, turn_para, wrap, Para, Scroll, TextPane};
use crate::tui::widgets::rows::{inside, Rows};
use crate::tui::workers::experiments::{is_run_dir, load_run};

/// Reads every session file in `roots` (files, or directories scanned one level deep), and
/// every training run folder among them (a root or a folder in it with `results.json` or
/// `stages/`; its JSON files are not sessions).
pub fn scan(roots: &[PathBuf]) -> Scan {
    let mut out = Scan::default();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut runs: Vec<PathBuf> = Vec::new();
    for r in roots {
        if r.is_file() {
            files.push(r.clone());
        } else if is_run_dir(r) {
            runs.push(r.clone());
        } else if r.is_dir() {
            let mut push_dir = |d: &Path| match crate::session::store::list(d) {
                Ok(v) => files.extend(v),
                Err(e) => out.errors.push(e.to_string()),
            };
            push_dir(r);
            if let Ok(rd) = std::fs::read_dir(r) {
                let mut subs: Vec<PathBuf> =
                    rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
                subs.sort();
                for s in subs {
                    if is_run_dir(&s) {
                        runs.push(s);
                    } else {
                        push_dir(&s);
                    }
                }
            }
        }
    }
    runs.sort();
    runs.dedup();
    for r in runs {
        match load_run(&r) {
            Ok(run) => out.runs.push(run),
            Err(e) => out.errors.push(e),
        }
    }
    files.sort();
    files.dedup();
    for f in files {
        match crate::session::load(&f) {
            Ok(s) => out.entries.push(SessionEntry { path: f, session: Arc::new(s) }),
            Err(e) => out.errors.push(e.to_string()),
        }
    }
    out
}

/// The default places sessions are looked for: the data dir's `sessions/` and the
/// current repo's `sessions/`; and training runs: the data dir's `runs/`.
pub fn default_roots() -> Vec<PathBuf> {
    let mut v = vec![crate::paths::sessions_dir(), crate::paths::runs_dir()];
    let repo = PathBuf::from("sessions");
    if repo.is_dir() {
        v.push(repo);
    }
    v
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Date,
    Task,
    Model,
    Judge,
}

impl SortKey {
    fn next(self) -> SortKey {
        match self {
            SortKey::Date => SortKey::Task,
            SortKey::Task => SortKey::Model,
            SortKey::Model => SortKey::Judge,
            SortKey::Judge => SortKey::Date,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Date => "date",
            SortKey::Task => "task",
            SortKey::Model => "model",
            SortKey::Judge => "judge",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Filter,
    Search,
}

/// One row of the list: a debate session or a training run (indices into `entries`, `runs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    Session(usize),
    Run(usize),
}

/// An open session: which debate is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    pub entry: usize,
    pub debate: usize,
    pub scroll: [Scroll; 2],
    pub focus: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewState {
    pub roots: Vec<PathBuf>,
    pub scanned: bool,
    pub scanning: bool,
    pub entries: Vec<SessionEntry>,
    /// Training runs, listed beside the sessions.
    pub runs: Vec<RunEntry>,
    /// The training run opened (an index into `runs`).
    pub open_run: Option<usize>,
    /// Two training runs compared side by side (indices into `runs`).
    pub compare_runs: Option<(usize, usize)>,
    pub errors: Vec<String>,
    pub sort: SortKey,
    pub reverse: bool,
    pub filter: String,
    pub search: String,
    /// A text input in progress.
    pub input: Option<(InputKind, String)>,
    /// Selection in the visible (filtered, sorted) list.
    pub selected: usize,
    /// The first row of the list shown, where it was last drawn (`App` keeps it after every
    /// event, so the list scrolls only as far as the selection needs).
    pub list_first: usize,
    pub open: Option<Opened>,
    pub stats: bool,
    /// A session marked for comparison.
    pub mark: Option<PathBuf>,
    /// Two sessions compared side by side (entry indices).
    pub compare: Option<(usize, usize)>,
    /// Search hits: (entry, debate).
    pub hits: Vec<(usize, usize)>,
    pub hit: usize,
    pub notice: Option<String>,
}

impl Default for ReviewState {
    fn default() -> Self {
        ReviewState {
            roots: default_roots(),
            scanned: false,
            scanning: false,
            entries: vec![],
            runs: vec![],
            open_run: None,
            compare_runs: None,
            errors: vec![],
            sort: SortKey::Date,
            reverse: true,
            filter: String::new(),
            search: String::new(),
            input: None,
            selected: 0,
            list_first: 0,
            open: None,
            stats: true,
            mark: None,
            compare: None,
            hits: vec![],
            hit: 0,
            notice: None,
        }
    }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

/// Whether a session matches a filter: `task:X model:Y judge:Z date:P` terms and bare
/// words (any field), all of which must match.
pub fn matches_filter(e: &SessionEntry, filter: &str) -> bool {
    filter.split_whitespace().all(|term| match term.split_once(':') {
        Some(("task", v)) => contains_ci(e.task(), v),
        Some(("model", v)) => contains_ci(e.strong(), v) || contains_ci(e.weak(), v),
        Some(("judge", v)) => contains_ci(&e.judges(), v),
        Some(("date", v)) => e.session.created.starts_with(v) || contains_ci(&e.date(), v),
        _ => {
            [e.task(), e.strong(), e.weak(), &e.judges(), &e.date(), &e.session.id].iter().any(|f| contains_ci(f, term))
        }
    })
}

/// Whether a training run matches a filter (as [`matches_filter`]; `judge:` matches no run).
pub fn run_matches_filter(r: &RunEntry, filter: &str) -> bool {
    let ladder = r.ladder().join(" ");
    filter.split_whitespace().all(|term| match term.split_once(':') {
        Some(("task", v)) => contains_ci(r.task(), v),
        Some(("model", v)) => contains_ci(&ladder, v),
        Some(("judge", _)) => false,
        Some(("date", v)) => contains_ci(&r.date, v),
        _ => [r.task(), &ladder, &r.date, &r.name, "train"].iter().any(|f| contains_ci(f, term)),
    })
}

/// Whether a debate's question, answers or turns contain `needle` (case-insensitive).
pub fn debate_contains(d: &DebateRecord, needle: &str) -> bool {
    contains_ci(&d.item.question, needle)
        || d.item.choices.iter().any(|c| contains_ci(c, needle))
        || d.turns.iter().any(|t| contains_ci(&t.text, needle))
}

impl ReviewState {
    /// Review of specific files or directories.
    pub fn with_roots(roots: Vec<PathBuf>) -> ReviewState {
        ReviewState { roots, ..Default::default() }
    }

    /// Indices of `entries` shown, filtered and sorted.
    pub fn visible(&self) -> Vec<usize> {
        let mut v: Vec<usize> =
            (0..self.entries.len()).filter(|&i| matches_filter(&self.entries[i], &self.filter)).collect();
        let key = |i: &usize| -> String {
            let e = &self.entries[*i];
            match self.sort {
                SortKey::Date => e.session.created.clone(),
                SortKey::Task => e.task().to_string(),
                SortKey::Model => format!("{} {}", e.strong(), e.weak()),
                SortKey::Judge => e.judges(),
            }
        };
        v.sort_by(|a, b| key(a).cmp(&key(b)).then(self.entries[*a].path.cmp(&self.entries[*b].path)));
        if self.reverse {
            v.reverse();
        }
        v
    }

    /// The rows of the list: the visible sessions and the training runs that match the
    /// filter, in one order (date: sessions' creation, runs' results; task; model: strong
    /// then weak; judge: runs have none).
    pub fn listed(&self) -> Vec<Listed> {
        let key = |l: &Listed| -> String {
            match *l {
                Listed::Session(i) => {
                    let e = &self.entries[i];
                    match self.sort {
                        SortKey::Date => e.session.created.replacen('T', " ", 1),
                        SortKey::Task => e.task().to_string(),
                        SortKey::Model => format!("{} {}", e.strong(), e.weak()),
                        SortKey::Judge => e.judges(),
                    }
                }
                Listed::Run(i) => {
                    let r = &self.runs[i];
                    match self.sort {
                        SortKey::Date => r.date.clone(),
                        SortKey::Task => r.task().to_string(),
                        SortKey::Model => format!("{} {}", r.strong(), r.weak()),
                        SortKey::Judge => String::new(),
                    }
                }
            }
        };
        let mut v: Vec<Listed> = self.visible().into_iter().map(Listed::Session).collect();
        let runs = (0..self.runs.len()).filter(|&i| run_matches_filter(&self.runs[i], &self.filter)).map(Listed::Run);
        v.extend(runs);
        // (stable: sessions keep their own order among equal keys)
        let mut keyed: Vec<(String, Listed)> = v.into_iter().map(|l| (key(&l), l)).collect();
        if self.reverse {
            keyed.sort_by(|a, b| b.0.cmp(&a.0));
        } else {
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
        }
        keyed.into_iter().map(|(_, l)| l).collect()
    }

    pub fn selected_entry(&self) -> Option<usize> {
        match self.listed().get(self.selected) {
            Some(Listed::Session(i)) => Some(*i),
            _ => None,
        }
    }

    /// The training run selected in the list.
    pub fn selected_run(&self) -> Option<usize> {
        match self.listed().get(self.selected) {
            Some(Listed::Run(i)) => Some(*i),
            _ => None,
        }
    }

    fn listed_path(&self, l: Listed) -> &Path {
        match l {
            Listed::Session(i) => &self.entries[i].path,
            Listed::Run(i) => &self.runs[i].path,
        }
    }

    pub fn on_scan(&mut self, scan: Scan) {
        let keep = self.listed().get(self.selected).map(|&l| self.listed_path(l).to_path_buf());
        self.scanned = true;
        self.scanning = false;
        self.entries = scan.entries;
        self.runs = scan.runs;
        self.errors = scan.errors;
        self.open = None;
        self.open_run = None;
        self.compare_runs = None;
        self.compare = None;
        self.hits.clear();
        self.selected = keep.and_then(|p| self.listed().iter().position(|&l| self.listed_path(l) == p)).unwrap_or(0);
    }

    fn debates_of(&self, entry: usize) -> usize {
        self.entries.get(entry).map(|e| e.session.debates.len()).unwrap_or(0)
    }

    fn open_at(&mut self, entry: usize, debate: usize) {
        self.open = Some(Opened { entry, debate, scroll: [Scroll::default(); 2], focus: 0 });
        self.compare = None;
    }

    fn run_search(&mut self) {
        self.hits.clear();
        self.hit = 0;
        if self.search.is_empty() {
            return;
        }
        let scope: Vec<usize> = match &self.open {
            Some(o) => vec![o.entry],
            None => self.visible(),
        };
        for e in scope {
            for (k, d) in self.entries[e].session.debates.iter().enumerate() {
                if debate_contains(d, &self.search) {
                    self.hits.push((e, k));
                }
            }
        }
        if let Some(&(e, d)) = self.hits.first() {
            self.open_at(e, d);
            self.notice = Some(format!("{} debates match {:?} · n/p step through them", self.hits.len(), self.search));
        } else {
            self.notice = Some(format!("no transcript contains {:?}", self.search));
        }
    }

    /// Keys while a filter or search is typed.
    pub fn edit_input(&mut self, key: KeyCode) -> Vec<Effect> {
        let Some((kind, buf)) = self.input.as_mut() else { return vec![] };
        match key {
            KeyCode::Char(c) => buf.push(c),
            KeyCode::Backspace => {
                buf.pop();
            }
            KeyCode::Esc => {
                self.input = None;
                return vec![];
            }
            KeyCode::Enter => {
                let (kind, text) = self.input.take().unwrap();
                match kind {
                    InputKind::Filter => {
                        self.filter = text;
                        self.selected = 0;
                    }
                    InputKind::Search => {
                        self.search = text;
                        self.run_search();
                    }
                }
                return vec![];
            }
            _ => {}
        }
        if *kind == InputKind::Filter {
            // Live filtering as the user types.
            self.filter = buf.clone();
            self.selected = 0;
        }
        vec![]
    }

    fn step_open(&mut self, delta: isize) {
        if !self.hits.is_empty() {
            let n = self.hits.len() as isize;
            self.hit = ((self.hit as isize + delta).rem_euclid(n)) as usize;
            let (e, d) = self.hits[self.hit];
            self.open_at(e, d);
            return;
        }
        if let Some(o) = self.open.as_mut() {
            let n = self.entries[o.entry].session.debates.len();
            if n == 0 {
                return;
            }
            o.debate = ((o.debate as isize + delta).clamp(0, n as isize - 1)) as usize;
            o.scroll = [Scroll::default(); 2];
        }
    }

    pub fn handle(&mut self, action: Action, area: Rect, t: &Theme) -> Vec<Effect> {
        self.notice = None;
        let n_visible = self.listed().len();
        if self.open_run.is_some() || self.compare_runs.is_some() {
            match action {
                Action::Cancel | Action::Open => {
                    self.open_run = None;
                    self.compare_runs = None;
                }
                Action::Refresh => {
                    self.scanning = true;
                    return vec![Effect::ScanSessions];
                }
                _ => self.notice = Some("esc goes back to the list".into()),
            }
            return vec![];
        }
        match action {
            Action::Refresh => {
                self.scanning = true;
                return vec![Effect::ScanSessions];
            }
            Action::Open | Action::Export | Action::Compare | Action::Search | Action::TrainFromSession
                if self.open.is_none() && self.compare.is_none() && self.selected_run().is_some() =>
            {
                let r = self.selected_run().unwrap_or(0);
                match action {
                    Action::Open => self.open_run = Some(r),
                    // A run marked, then a second one: the two side by side.
                    Action::Compare => {
                        let path = self.runs[r].path.clone();
                        match self.mark.take() {
                            Some(m) if m != path => match self.runs.iter().position(|x| x.path == m) {
                                Some(a) => self.compare_runs = Some((a, r)),
                                None => {
                                    self.mark = Some(m);
                                    self.notice =
                                        Some("the marked one is a session: compare two sessions or two runs".into());
                                }
                            },
                            Some(_) => {}
                            None => {
                                self.mark = Some(path);
                                self.notice = Some("marked: select another run and press the compare key again".into());
                            }
                        }
                    }
                    _ => {
                        self.notice = Some(format!(
                            "{} works on debate sessions; this training run's results are in {}",
                            action.label(),
                            self.runs[r].path.join("results.json").display()
                        ))
                    }
                }
            }
            Action::TrainFromSession => {
                let entry = self.open.as_ref().map(|o| o.entry).or_else(|| self.selected_entry());
                match entry.and_then(|i| self.entries.get(i)) {
                    Some(e) => {
                        self.notice = Some(format!("opening a training run on {} …", e.path.display()));
                        return vec![Effect::TrainFromSession(e.path.clone())];
                    }
                    None => self.notice = Some("select a judged debate session to train on its verdicts".into()),
                }
            }
            Action::Export => {
                let entry = self.open.as_ref().map(|o| o.entry).or_else(|| self.selected_entry());
                match entry.and_then(|i| self.entries.get(i)) {
                    Some(e) => {
                        self.notice = Some(format!("exporting {} …", e.path.display()));
                        return vec![Effect::ExportSession(e.path.clone())];
                    }
                    None => self.notice = Some("no session selected to export".into()),
                }
            }
            Action::Filter => self.input = Some((InputKind::Filter, self.filter.clone())),
            Action::Search => self.input = Some((InputKind::Search, String::new())),
            Action::Stats => self.stats = !self.stats,
            Action::Cancel => {
                if self.compare.is_some() {
                    self.compare = None;
                } else if self.open.is_some() {
                    self.open = None;
                    self.hits.clear();
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                } else if self.mark.is_some() {
                    self.mark = None;
                }
            }
            Action::Sort if self.open.is_none() => self.sort = self.sort.next(),
            Action::ReverseSort if self.open.is_none() => self.reverse = !self.reverse,
            Action::Compare if self.open.is_none() => {
                let Some(sel) = self.selected_entry() else { return vec![] };
                let path = self.entries[sel].path.clone();
                match self.mark.take() {
                    Some(m) if m != path => match self.entries.iter().position(|e| e.path == m) {
                        Some(a) => self.compare = Some((a, sel)),
                        None => {
                            self.mark = Some(m);
                            self.notice =
                                Some("the marked one is a training run: compare two sessions or two runs".into());
                        }
                    },
                    Some(_) => {}
                    None => {
                        self.mark = Some(path);
                        self.notice = Some("marked: select another session and press the compare key again".into());
                    }
                }
            }
            Action::Open if self.open.is_none() => {
                if let Some(e) = self.selected_entry() {
                    if self.debates_of(e) == 0 {
                        self.notice = Some("this session has no debates".into());
                    } else {
                        self.hits.clear();
                        self.open_at(e, 0);
                    }
                }
            }
            Action::NextItem => self.step_open(1),
            Action::PrevItem => self.step_open(-1),
            Action::FocusNext => {
                if let Some(o) = self.open.as_mut() {
                    o.focus = (o.focus + 1) % 2;
                }
            }
            Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
                if self.open.is_some() {
                    let d = match action {
                        Action::Up => -1,
                        Action::Down => 1,
                        Action::PageUp => -10,
                        Action::PageDown => 10,
                        Action::Top => -100_000,
                        _ => 100_000,
                    };
                    let focus = self.open.as_ref().map(|o| o.focus).unwrap_or(0);
                    self.scroll_pane(focus, d, area, t);
                } else {
                    let max = n_visible.saturating_sub(1);
                    self.selected = match action {
                        Action::Up => self.selected.saturating_sub(1),
                        Action::Down => (self.selected + 1).min(max),
                        Action::PageUp => self.selected.saturating_sub(10),
                        Action::PageDown => (self.selected + 10).min(max),
                        Action::Top => 0,
                        _ => max,
                    };
                }
            }
            _ => {}
        }
        vec![]
    }

    fn scroll_pane(&mut self, pane: usize, delta: isize, area: Rect, t: &Theme) {
        let Some(o) = &self.open else { return };
        let Some(d) = self.entries.get(o.entry).and_then(|e| e.session.debates.get(o.debate)) else { return };
        let lay = open_layout(area, d);
        let rect = if pane == 0 { lay.1 } else { lay.2 };
        let paras = side_paragraphs(d, if pane == 0 { Side::Strong } else { Side::Weak }, t);
        let total = TextPane::lines(&paras, rect.width.saturating_sub(3).max(1) as usize).len();
        let h = rect.height.saturating_sub(2) as usize;
        if let Some(o) = self.open.as_mut() {
            o.scroll[pane].by(delta, total, h);
        }
    }

    /// A left click at (`col`, `row`): on a row of the list it selects that row, on the selected
    /// row it opens it (as the open key does). Elsewhere, or while a filter or search is typed,
    /// it does nothing.
    pub fn click(&mut self, col: u16, row: u16, area: Rect, t: &Theme) -> Vec<Effect> {
        if self.input.is_some() {
            return vec![];
        }
        let Some(lay) = list_layout(area, self) else { return vec![] };
        match lay.rows.at(col, row, self.listed().len()) {
            Some(i) if i == self.selected => self.handle(Action::Open, area, t),
            Some(i) => {
                self.notice = None;
                self.selected = i;
                self.list_first = lay.rows.first;
                vec![]
            }
            None => vec![],
        }
    }

    /// Mouse wheel over a transcript pane (or the list).
    pub fn scroll_at(&mut self, col: u16, row: u16, delta: isize, area: Rect, t: &Theme) {
        let Some(o) = &self.open else {
            let a = if delta < 0 { Action::Up } else { Action::Down };
            for _ in 0..delta.unsigned_abs() {
                self.handle(a, area, t);
            }
            return;
        };
        let Some(d) = self.entries.get(o.entry).and_then(|e| e.session.debates.get(o.debate)) else { return };
        let lay = open_layout(area, d);
        let hit = |r: Rect| col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height;
        if hit(lay.1) {
            self.scroll_pane(0, delta, area, t);
        } else if hit(lay.2) {
            self.scroll_pane(1, delta, area, t);
        }
    }
}

/// Layout of an open debate: question, strong pane, weak pane, verdicts.
fn open_layout(area: Rect, d: &DebateRecord) -> (Rect, Rect, Rect, Rect) {
    let w = area.width.saturating_sub(2) as usize;
    let q_lines = wrap(&d.item.question, w).len() + 1;
    let q_h = (q_lines.min((area.height / 4).max(2) as usize) + 2) as u16;
    let v_h = (d.judgements.len().max(1) as u16 + 2).min(area.height / 4 + 1);
    let [q, panes, v] =
        Layout::vertical([Constraint::Length(q_h), Constraint::Min(4), Constraint::Length(v_h)]).areas(area);
    let [l, r] = if area.width < 80 {
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(panes)
    } else {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(panes)
    };
    (q, l, r, v)
}

/// One side's pane: the answer it defends, then its turns with quotes marked as found in the
/// passage or not and the cut mark ([`turn_para`]).
fn side_paragraphs(d: &DebateRecord, side: Side, t: &Theme) -> Vec<Para> {
    let ans = if side == Side::Strong { d.strong_answer } else { d.weak_answer };
    let letter = (b'A' + ans as u8) as char;
    let choice = d.item.choices.get(ans).cloned().unwrap_or_default();
    let mut v =
        vec![para(format!("Defends: {letter}) {choice}"), Style::default().fg(t.title).add_modifier(Modifier::BOLD))];
    let turns: Vec<_> = d.turns.iter().filter(|x| x.side == side).collect();
    if turns.is_empty() {
        v.push(para("(no turns)", t.dimmed()));
    }
    let multi = turns.len() > 1;
    for turn in turns {
        if multi {
            v.push(para(format!("── round {} ──", turn.round), t.dimmed()));
        }
        v.push(turn_para(&turn.text, d.item.passage.as_deref(), t));
        if let Some(o) = turn.flags.copy_overlap.filter(|_| turn.flags.copied) {
            v.push(copy_warning(o, t));
        }
    }
    v
}

/// The screen's main area and the line under it (a filter or search being typed, or a notice).
fn main_areas(area: Rect, s: &ReviewState) -> [Rect; 2] {
    Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(if s.input.is_some() || s.notice.is_some() { 1 } else { 0 }),
    ])
    .areas(area)
}

/// Where the list is, while it shows (nothing opened or compared): shared by drawing and clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLayout {
    /// The list's panel, with its border.
    pub list: Rect,
    /// Its rows, under the header row.
    pub rows: Rows,
    /// The stats panel, when shown.
    pub stats: Option<Rect>,
}

/// The list's layout in the screen's `area`, or `None` while a session or run is open or two
/// are compared.
pub fn list_layout(area: Rect, s: &ReviewState) -> Option<ListLayout> {
    let open_run = s.open_run.is_some_and(|r| r < s.runs.len());
    if s.compare.is_some() || s.compare_runs.is_some() || open_run || s.open.is_some() {
        return None;
    }
    let [main, _] = main_areas(area, s);
    let wide = main.width >= 120;
    let (list, stats) = if !s.stats {
        (main, None)
    } else if wide {
        let [l, r] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(main);
        (l, Some(r))
    } else {
        let [l, r] = Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(main);
        (l, Some(r))
    };
    let rows = Rows::new(inside(list, true, 1), s.list_first, s.selected);
    Some(ListLayout { list, rows, stats })
}

pub fn draw(f: &mut Frame, area: Rect, s: &ReviewState, t: &Theme) {
    let [main, input] = main_areas(area, s);
    if let Some((kind, buf)) = &s.input {
        let label = match kind {
            InputKind::Filter => "filter (task: model: judge: date:) ",
            InputKind::Search => "search transcripts ",
        };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(label, t.key_style()),
                Span::raw(buf.clone()),
                Span::styled("▏", Style::default().fg(t.accent)),
            ])),
            input,
        );
    } else if let Some(n) = &s.notice {
        f.render_widget(Paragraph::new(Line::styled(n.clone(), Style::default().fg(t.warn))), input);
    }
    if let Some((a, b)) = s.compare {
        let [l, r] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main);
        draw_stats(f, l, &s.entries[a], t, true);
        draw_stats(f, r, &s.entries[b], t, true);
        return;
    }
    if let Some((a, b)) = s.compare_runs {
        let [l, r] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main);
        super::review_run::draw_run(f, l, &s.runs[a], t);
        super::review_run::draw_run(f, r, &s.runs[b], t);
        return;
    }
    if let Some(r) = s.open_run.and_then(|r| s.runs.get(r)) {
        return super::review_run::draw_run(f, main, r, t);
    }
    if let Some(o) = &s.open {
        return draw_open(f, main, s, o, t);
    }
    let Some(lay) = list_layout(area, s) else { return };
    draw_list(f, lay.list, lay.rows, s, t);
    if let Some(r) = lay.stats {
        match (s.selected_entry(), s.selected_run()) {
            (Some(e), _) => draw_stats(f, r, &s.entries[e], t, false),
            (None, Some(run)) => super::review_run::draw_run_summary(f, r, &s.runs[run], t),
            (None, None) => f.render_widget(
                Block::default().borders(Borders::ALL).border_style(t.border_style(false)).title(" Stats "),
                r,
            ),
        }
    }
}

/// The list in `area`, showing `shown`'s rows (from [`list_layout`]).
fn draw_list(f: &mut Frame, area: Rect, shown: Rows, s: &ReviewState, t: &Theme) {
    let listed = s.listed();
    let n_sessions = listed.iter().filter(|l| matches!(l, Listed::Session(_))).count();
    let narrow = area.width < 100;
    let arrow = if s.reverse { "↓" } else { "↑" };
    let mut title = vec![Span::styled(format!(" Sessions {}/{} ", n_sessions, s.entries.len()), t.title_style())];
    if !s.runs.is_empty() {
        title.push(Span::styled(format!("· runs {}/{} ", listed.len() - n_sessions, s.runs.len()), t.title_style()));
    }
    title.push(Span::styled(format!("sort {} {arrow} ", s.sort.name()), t.dimmed()));
    if !s.filter.is_empty() {
        title.push(Span::styled(format!("filter {:?} ", s.filter), Style::default().fg(t.accent)));
    }
    if s.scanning {
        title.push(Span::styled("scanning… ", Style::default().fg(t.accent)));
    }
    let block = Block::default().borders(Borders::ALL).border_style(t.border_style(true)).title(Line::from(title));
    if listed.is_empty() {
        let nothing = s.entries.is_empty() && s.runs.is_empty();
        let mut lines = vec![Line::styled(
            if nothing {
                if s.scanned {
                    "No sessions or training runs found."
                } else {
                    "Looking for sessions…"
                }
            } else {
                "Nothing matches the filter."
            },
            t.dimmed(),
        )];
        if nothing && s.scanned {
            for r in &s.roots {
                lines.push(Line::styled(format!("  looked in {}", r.display()), t.dimmed()));
            }
            lines.push(Line::styled("  run `w2sd judge --task builtin:capitals` to make one", t.dimmed()));
        }
        for e in s.errors.iter().take(3) {
            lines.push(Line::styled(e.clone(), Style::default().fg(t.bad)));
        }
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
        return;
    }
    let short =
        |m: &str| if narrow { m.replace("qwen2.5-coder-", "qwen-").replace("-instruct", "") } else { m.to_string() };
    // Narrow lists keep room for the models: the date without its year, a short kind.
    let date = |d: &str| if narrow { d.get(5..).unwrap_or(d).to_string() } else { d.to_string() };
    let kind = |k: &'static str| if narrow { &k[..3] } else { k };
    let rows: Vec<Row> = listed
        .iter()
        .enumerate()
        .map(|(k, &l)| {
            let cells = match l {
                Listed::Session(i) => {
                    let e = &s.entries[i];
                    let sc = e.session.scores.as_ref();
                    let acc = sc
                        .filter(|x| x.judged > 0)
                        .map(|x| format!("{:.2}", x.judge_accuracy))
                        .unwrap_or_else(|| "–".into());
                    let mark = if s.mark.as_ref() == Some(&e.path) { "◆" } else { " " };
                    let mut cells = vec![
                        Cell::from(format!("{mark}{}", date(&e.date()))),
                        Cell::from(Span::styled(kind("debate"), t.dimmed())),
                        Cell::from(e.task().trim_start_matches("builtin:").to_string()),
                        Cell::from(short(e.strong())),
                        Cell::from(short(e.weak())),
                        Cell::from(short(&e.judges())),
                        Cell::from(format!("{}/{}", e.judged(), e.session.debates.len())),
                        Cell::from(acc),
                    ];
                    if !narrow {
                        cells.push(Cell::from(
                            sc.filter(|x| x.judged > 0)
                                .map(|x| format!("{:+.2}", x.mean_d))
                                .unwrap_or_else(|| "–".into()),
                        ));
                    }
                    cells
                }
                Listed::Run(i) => {
                    let r = &s.runs[i];
                    // The done column counts stages; acc is the best student's test accuracy.
                    let best = r.results.as_ref().and_then(|x| {
                        x.runs
                            .iter()
                            .map(|y| y.metrics.acc_w2s)
                            .fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.max(a))))
                    });
                    let mut cells = vec![
                        Cell::from(format!(
                            "{}{}",
                            if s.mark.as_ref() == Some(&r.path) { "◆" } else { " " },
                            date(&r.date)
                        )),
                        Cell::from(Span::styled(kind("train"), Style::default().fg(t.accent))),
                        Cell::from(r.task().trim_start_matches("builtin:").to_string()),
                        Cell::from(short(r.strong())),
                        Cell::from(short(r.weak())),
                        Cell::from("–"),
                        Cell::from(if r.results.is_some() {
                            "done".to_string()
                        } else {
                            format!("{} st", r.stages.len())
                        }),
                        Cell::from(best.map(|a| format!("{a:.2}")).unwrap_or_else(|| "–".into())),
                    ];
                    if !narrow {
                        cells.push(Cell::from("–"));
                    }
                    cells
                }
            };
            let row = Row::new(cells);
            if k == s.selected {
                row.style(t.selected())
            } else {
                row
            }
        })
        .collect();
    // Task and judge columns as wide as their widest cell (capped); the models share the rest.
    let fit = |cell: &dyn Fn(Listed) -> String, head: &str, cap: usize| -> u16 {
        let w = listed.iter().map(|&l| cell(l).chars().count()).max().unwrap_or(0);
        w.max(head.len()).min(cap) as u16
    };
    let task_w = fit(
        &|l| match l {
            Listed::Session(i) => s.entries[i].task().trim_start_matches("builtin:").to_string(),
            Listed::Run(i) => s.runs[i].task().trim_start_matches("builtin:").to_string(),
        },
        "task",
        16,
    );
    let judge_w = fit(
        &|l| match l {
            Listed::Session(i) => short(&s.entries[i].judges()),
            Listed::Run(_) => String::new(),
        },
        "judge",
        14,
    );
    let mut widths = vec![
        Constraint::Length(if narrow { 12 } else { 17 }),
        Constraint::Length(if narrow { 4 } else { 6 }),
        Constraint::Length(task_w),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(judge_w),
        Constraint::Length(6),
        Constraint::Length(5),
    ];
    let mut header = vec![" date", "kind", "task", "strong", "weak", "judge", "done", "acc"];
    if !narrow {
        widths.push(Constraint::Length(6));
        header.push("D");
    }
    let rows: Vec<Row> = rows.into_iter().skip(shown.first).collect();
    f.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(t.dimmed().add_modifier(Modifier::BOLD))).block(block),
        area,
    );
}

fn draw_stats(f: &mut Frame, area: Rect, e: &SessionEntry, t: &Theme, titled: bool) {
    let name = e.path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let title = if titled { format!(" {name} ") } else { " Stats ".to_string() };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_style(false))
        .title(Span::styled(title, t.title_style()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(sc) = e.session.scores.as_ref().filter(|s| s.judged > 0) else {
        f.render_widget(Paragraph::new(Line::styled("no judged debates yet", t.dimmed())), inner);
        return;
    };
    let side_by_side = inner.width >= 70;
    let [bars, plot] = if side_by_side {
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(inner)
    } else {
        Layout::vertical([Constraint::Length(8), Constraint::Min(0)]).areas(inner)
    };
    let w = bars.width as usize;
    let lw = 14;
    // The selected session's models in full (the table may have to cut them): on one line when
    // they fit, else one line each.
    let (strong, weak) = (e.strong().to_string(), e.weak().to_string());
    let mut lines = if strong.chars().count() + weak.chars().count() + 4 <= w {
        vec![Line::from(vec![
            Span::styled(strong, Style::default().fg(t.strong)),
            Span::styled(" vs ", t.dimmed()),
            Span::styled(weak, Style::default().fg(t.weak)),
        ])]
    } else {
        vec![
            Line::from(vec![Span::styled("strong ", t.dimmed()), Span::styled(strong, Style::default().fg(t.strong))]),
            Line::from(vec![Span::styled("weak   ", t.dimmed()), Span::styled(weak, Style::default().fg(t.weak))]),
        ]
    };
    lines.extend(vec![
        Line::from(vec![
            Span::styled(format!("{} judged", sc.judged), Style::default().fg(t.title).add_modifier(Modifier::BOLD)),
            Span::styled(format!(" · ECE {:.2} · Brier {:.2}", sc.ece, sc.brier), t.dimmed()),
        ]),
        proportion_line("judge acc", lw, sc.judge_accuracy, w, t.chart_3, t),
        interval_line("mean D", lw, sc.mean_d, sc.mean_d_ci, w, t),
        proportion_line("strong wins", lw, sc.win_rates.strong, w, t.strong, t),
        proportion_line("weak wins", lw, sc.win_rates.weak, w, t.weak, t),
        proportion_line("correct wins", lw, sc.win_rates.correct_side, w, t.chart_1, t),
    ]);
    if !side_by_side && bars.height as usize > lines.len() {
        lines.push(proportion_line("strong|right", lw, sc.win_rates.strong_when_correct, w, t.strong, t));
    }
    f.render_widget(Paragraph::new(lines), bars);
    if plot.height >= 6 {
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        for d in &e.session.debates {
            if let Some(j) = d.judgements.first() {
                probs.push(j.p_strong);
                labels.push(d.strong_correct);
            }
        }
        let points: Vec<CalPoint> = crate::stats::calibration_bins(&probs, &labels, 5)
            .into_iter()
            .map(|b| CalPoint { predicted: b.mean_prob, observed: b.frac_pos, count: b.count })
            .collect();
        f.render_widget(CalibrationPlot { points: &points, title: " calibration ".into(), theme: t }, plot);
    }
}

fn draw_open(f: &mut Frame, area: Rect, s: &ReviewState, o: &Opened, t: &Theme) {
    let e = &s.entries[o.entry];
    let Some(d) = e.session.debates.get(o.debate) else { return };
    let (q, l, r, v) = open_layout(area, d);
    let w = q.width.saturating_sub(2) as usize;
    let truth = d.item.choices.get(d.item.answer).cloned().unwrap_or_default();
    let mut lines: Vec<Line> = wrap(&d.item.question, w)
        .into_iter()
        .map(|x| Line::styled(x, Style::default().fg(t.title).add_modifier(Modifier::BOLD)))
        .collect();
    lines.push(Line::from(vec![
        Span::styled("truth ", t.dimmed()),
        Span::styled(format!("{}) {truth}", (b'A' + d.item.answer as u8) as char), Style::default().fg(t.good)),
        Span::styled(format!(" · {:?}", d.status).to_lowercase(), t.dimmed()),
    ]));
    let name = e.path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let hits = if s.hits.is_empty() { String::new() } else { format!(" · hit {}/{} ", s.hit + 1, s.hits.len()) };
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_style(false))
                .title(Line::from(vec![
                    Span::styled(format!(" Debate {}/{} ", o.debate + 1, e.session.debates.len()), t.title_style()),
                    Span::styled(format!("{}{hits} ", d.item.id), t.dimmed()),
                ]))
                .title(Line::styled(format!(" {name} "), t.dimmed()).right_aligned()),
        ),
        q,
    );
    for (i, (side, rect)) in [(Side::Strong, l), (Side::Weak, r)].into_iter().enumerate() {
        let (label, model, color) = match side {
            Side::Strong => ("Strong", e.strong(), t.strong),
            Side::Weak => ("Weak", e.weak(), t.weak),
        };
        let correct = (side == Side::Strong) == d.strong_correct;
        let mark = if correct {
            Span::styled("✓ ", Style::default().fg(t.good))
        } else {
            Span::styled("✗ ", Style::default().fg(t.bad))
        };
        let mut paras = side_paragraphs(d, side, t);
        if !s.search.is_empty() && !s.hits.is_empty() {
            paras = paras
                .into_iter()
                .map(|p| {
                    let whole: String = p.iter().map(|(x, _)| x.as_str()).collect();
                    if contains_ci(&whole, &s.search) {
                        p.into_iter().map(|(x, st)| (x, st.add_modifier(Modifier::UNDERLINED))).collect()
                    } else {
                        p
                    }
                })
                .collect();
        }
        f.render_widget(
            TextPane {
                title: Line::from(vec![
                    Span::styled(
                        format!(" {label} · {model} "),
                        Style::default().fg(color).add_modifier(Modifier::BOLD),
                    ),
                    mark,
                ]),
                paragraphs: paras,
                scroll: o.scroll[i],
                focused: o.focus == i,
                theme: t,
                footer: None,
                border_color: Some(color),
            },
            rect,
        );
    }
    let mut vl: Vec<Line> = d
        .judgements
        .iter()
        .map(|j| {
            let ok = if j.correct {
                Span::styled("✓", Style::default().fg(t.good))
            } else {
                Span::styled("✗", Style::default().fg(t.bad))
            };
            let mut spans = vec![
                ok,
                Span::raw(format!(" {} ({:?})", j.name, j.kind).to_lowercase()),
                Span::styled(format!(" p(strong) {:.2} · D {:+.3} · {:.0}s", j.p_strong, j.d, j.seconds), t.dimmed()),
            ];
            if j.blind {
                spans.push(Span::styled(" · blind", t.dimmed()));
            }
            if !j.orders.is_empty() {
                let o: Vec<String> = j
                    .orders
                    .iter()
                    .map(|x| format!("{} first {:.2}", if x.strong_first { "strong" } else { "weak" }, x.p_strong))
                    .collect();
                spans.push(Span::styled(format!(" · {}", o.join(", ")), t.dimmed()));
            }
            if let Some(r) = &j.rationale {
                spans.push(Span::raw(format!(" · “{r}”")));
            }
            Line::from(spans)
        })
        .collect();
    if vl.is_empty() {
        vl.push(Line::styled("no verdict", t.dimmed()));
    }
    f.render_widget(
        Paragraph::new(vl).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_style(false))
                .title(Span::styled(" Verdicts ", t.title_style())),
        ),
        v,
    );
}
