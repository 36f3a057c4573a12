//! The app state and its update function.
//!
//! [`App`] holds everything the screens draw; input and worker messages change it only
//! through [`App::update`], [`App::on_key`], [`App::on_mouse`] and [`App::on_worker`],
//! which return [`Effect`]s for the runtime loop to carry out (send to a worker, cancel,
//! quit). Drawing (`views::draw`) reads an immutable `&App`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::action::Action;
use super::keymap::{Key, Keymap, Scope};
use super::message::{Effect, WorkerEvent};
use super::theme::{Theme, ThemeSet};
use super::views::debate::{DebateState, DebateSummary, Phase};
use super::views::debate_form::DebateForm;
use super::views::models::ModelsState;
use super::views::review::ReviewState;
use super::views::train::TrainState;

/// The screens, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Debate,
    Review,
    Train,
    Models,
}

impl Screen {
    pub const ALL: [Screen; 4] = [Screen::Debate, Screen::Review, Screen::Train, Screen::Models];

    pub fn title(&self) -> &'static str {
        match self {
            Screen::Debate => "Debate",
            Screen::Review => "Review",
            Screen::Train => "Train",
            Screen::Models => "Models",
        }
    }

    pub fn scope(&self) -> Scope {
        match self {
            Screen::Debate => Scope::Debate,
            Screen::Review => Scope::Review,
            Screen::Train => Scope::Train,
            Screen::Models => Scope::Models,
        }
    }

    pub fn action(&self) -> Action {
        match self {
            Screen::Debate => Action::ScreenDebate,
            Screen::Review => Action::ScreenReview,
            Screen::Train => Action::ScreenTrain,
            Screen::Models => Action::ScreenModels,
        }
    }

    fn index(&self) -> usize {
        Screen::ALL.iter().position(|s| s == self).unwrap_or(0)
    }
}

/// One entry of the status bar: where it starts, its key and what it does, and the action a
/// click on it takes (`None` for the confidence keys: nine actions in one entry).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusCell {
    pub x: u16,
    pub key: String,
    pub label: String,
    pub action: Option<Action>,
}

impl StatusCell {
    /// ` key label `: one space before the key, one on each side of the label.
    pub fn width(&self) -> u16 {
        (self.key.chars().count() + self.label.chars().count() + 3) as u16
    }
}

/// The status-bar entries of a screen: the actions that matter most, in order.
pub fn status_actions(screen: Screen) -> Vec<Action> {
    use Action::*;
    let mut v = match screen {
        Screen::Debate => vec![Confidence(1), Submit, Undo, Skip, Rationale, Cancel],
        Screen::Review => vec![Open, NextItem, Filter, Search, Sort, Stats, Compare, Cancel],
        // (enter opens a stage's results: its panel's title says so)
        Screen::Train => vec![Experiments, NewExperiment, Run, Pause, StepStage],
        Screen::Models => vec![Pull, PullDefaults, Refresh],
    };
    v.extend([CycleTheme, Help, Quit]);
    if screen == Screen::Debate {
        // (last: shown where the bar has room)
        v.push(NewDebate);
    }
    v
}

/// The status-bar entries of a form.
pub fn form_status_actions() -> Vec<Action> {
    use Action::*;
    vec![Complete, Down, Up, ClearField, Submit, Cancel]
}

pub struct App {
    pub screen: Screen,
    pub keymap: Keymap,
    pub themes: ThemeSet,
    pub theme: Theme,
    /// The help overlay is open (with its scroll offset).
    pub help: Option<usize>,
    /// A transient message for the status bar.
    pub flash: Option<String>,
    /// The whole terminal area.
    pub size: Rect,
    pub debate: DebateState,
    pub review: ReviewState,
    pub train: TrainState,
    pub models: ModelsState,
    /// The Debate screen's setup form, while open.
    pub debate_form: Option<DebateForm>,
    pub quit: bool,
}

impl App {
    pub fn new(keymap: Keymap, themes: ThemeSet, theme: &str) -> App {
        let mut flash = themes.warnings.first().cloned();
        let theme = match themes.get(theme) {
            Some(t) => t.clone(),
            None => {
                flash = Some(format!("unknown theme {theme:?}; themes: {}", themes.names().join(", ")));
                Theme::dark()
            }
        };
        App {
            screen: Screen::Debate,
            keymap,
            themes,
            theme,
            help: None,
            flash,
            size: Rect::new(0, 0, 80, 24),
            debate: DebateState::default(),
            review: ReviewState::default(),
            train: TrainState::default(),
            models: ModelsState::default(),
            debate_form: None,
            quit: false,
        }
    }

    /// The keymap in force: the screen's, or the form's while one is open.
    pub fn scope(&self) -> Scope {
        if (self.screen == Screen::Train && self.train.form.is_some())
            || (self.screen == Screen::Debate && self.debate_form.is_some())
        {
            return Scope::Form;
        }
        self.screen.scope()
    }

    /// The area under the tab bar and above the status bar.
    pub fn body(&self) -> Rect {
        Rect { x: self.size.x, y: self.size.y + 1, width: self.size.width, height: self.size.height.saturating_sub(2) }
    }

    /// Whether some text input has the keyboard.
    pub fn text_input(&self) -> bool {
        (self.screen == Screen::Debate && self.debate.editing.is_some())
            || (self.screen == Screen::Review && self.review.input.is_some())
            || (self.screen == Screen::Train && self.train.form.is_some())
            || (self.screen == Screen::Debate && self.debate_form.is_some())
    }

    /// A key press: text inputs first, then the keymap of the current screen.
    pub fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let fx = self.key(k);
        self.follow_selections();
        fx
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
        if self.scope() == Scope::Form {
            // The form's own keys (tab, arrows, enter, esc, ctrl-c…); any other key is text.
            return match self.keymap.action(Scope::Form, &Key::from_event(&k)) {
                Some(a) => self.update(a),
                None => {
                    match self.screen {
                        Screen::Debate => self.debate_form.as_mut().map(|f| f.edit(k.code)),
                        _ => self.train.form.as_mut().map(|f| f.edit(k.code)),
                    };
                    vec![]
                }
            };
        }
        if self.text_input() && !ctrl_c {
            match self.screen {
                Screen::Debate => {
                    self.debate.edit_rationale(k.code);
                }
                Screen::Review => return self.review.edit_input(k.code),
                _ => {}
            }
            return vec![];
        }
        let key = Key::from_event(&k);
        let Some(action) = self.keymap.action(self.scope(), &key) else {
            return vec![];
        };
        // Ctrl-C cancels generation when there is some; otherwise it quits.
        if ctrl_c && action == Action::Cancel && !self.busy() && self.help.is_none() && !self.text_input() {
            return self.update(Action::Quit);
        }
        self.update(action)
    }

    /// Whether a generation or download is running.
    pub fn busy(&self) -> bool {
        self.debate.busy() || self.models.pulling()
    }

    /// An action, as its key would do it.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let fx = self.apply(action);
        self.follow_selections();
        fx
    }

    fn apply(&mut self, action: Action) -> Vec<Effect> {
        self.flash = None;
        if let Some(off) = self.help {
            match action {
                Action::Help | Action::Cancel => self.help = None,
                Action::Up => self.help = Some(off.saturating_sub(1)),
                Action::Down => self.help = Some(off + 1),
                Action::PageDown => self.help = Some(off + 10),
                Action::PageUp => self.help = Some(off.saturating_sub(10)),
                Action::Top => self.help = Some(0),
                Action::Quit => return self.update_quit(),
                _ => {}
            }
            return vec![];
        }
        match action {
            Action::Quit => return self.update_quit(),
            Action::Help => self.help = Some(0),
            Action::CycleTheme => {
                self.theme = self.themes.next_after(&self.theme.name);
                self.flash = Some(format!("theme: {}", self.theme.name));
            }
            Action::NextScreen => return self.go(Screen::ALL[(self.screen.index() + 1) % 4]),
            Action::PrevScreen => return self.go(Screen::ALL[(self.screen.index() + 3) % 4]),
            Action::ScreenDebate => return self.go(Screen::Debate),
            Action::ScreenReview => return self.go(Screen::Review),
            Action::ScreenTrain => return self.go(Screen::Train),
            Action::ScreenModels => return self.go(Screen::Models),
            a => {
                let body = self.body();
                return match self.screen {
                    Screen::Debate if self.debate_form.is_some() => self.handle_debate_form(a),
                    Screen::Debate if a == Action::NewDebate => {
                        let setup = super::message::DebateSetup::remembered(&super::message::DebateSetup::file());
                        self.debate_form = Some(DebateForm::new(&setup));
                        vec![]
                    }
                    Screen::Debate => self.debate.handle(a, body, &self.theme),
                    Screen::Review => self.review.handle(a, body, &self.theme),
                    Screen::Train => self.train.handle(a),
                    Screen::Models => self.models.handle(a),
                };
            }
        }
        vec![]
    }

    /// Keys of the Debate screen's setup form: esc closes it, the rest is the form's.
    fn handle_debate_form(&mut self, a: Action) -> Vec<Effect> {
        let Some(form) = self.debate_form.as_mut() else { return vec![] };
        if a == Action::Cancel && !form.checking {
            self.debate_form = None;
            return vec![];
        }
        form.handle(a)
    }

    /// A checked debate from the setup form: the screen starts over on it, and the runtime stops
    /// the running debate and starts this one.
    fn start_debate(&mut self, cfg: Box<super::message::DebateConfig>) -> Vec<Effect> {
        self.debate_form = None;
        self.debate = DebateState::default();
        self.debate.summary = Some(DebateSummary::of(&cfg));
        self.debate.phase = Phase::Preparing { what: "starting…".into(), done: 0, total: None };
        if let Some(dir) = cfg.out.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !self.review.roots.iter().any(|r| r == dir) {
                self.review.roots.push(dir.to_path_buf());
            }
        }
        vec![Effect::CancelGeneration, Effect::StartDebate(cfg)]
    }

    fn update_quit(&mut self) -> Vec<Effect> {
        self.quit = true;
        vec![Effect::CancelGeneration, Effect::Quit]
    }

    fn go(&mut self, s: Screen) -> Vec<Effect> {
        self.screen = s;
        match s {
            Screen::Models if self.models.rows.is_empty() && !self.models.loading => {
                self.models.loading = true;
                vec![Effect::ListModels]
            }
            Screen::Review if !self.review.scanned && !self.review.scanning => {
                self.review.scanning = true;
                vec![Effect::ScanSessions]
            }
            Screen::Train => self.train.on_enter(),
            _ => vec![],
        }
    }

    /// The tab bar's text for a bar `width` wide: the lead (the ` w2sd ` badge and a gap), then each screen's title
    /// cell (` Debate `) and key cell (`F1 `, empty below 70 columns). The view styles these
    /// cells and [`App::tab_at`] maps a click back through the same text.
    pub fn tab_cells(&self, width: u16) -> ([&'static str; 2], Vec<(Screen, String, String)>) {
        let cells = Screen::ALL
            .iter()
            .map(|&s| {
                let key = self.keymap.key_text(Scope::Global, s.action()).unwrap_or_default();
                let key = if key.is_empty() || width < 70 { String::new() } else { format!("{key} ") };
                (s, format!(" {} ", s.title()), key)
            })
            .collect();
        ([" w2sd ", " "], cells)
    }

    /// The screen whose tab is at `column` of the tab bar (the top row), if any.
    pub fn tab_at(&self, column: u16) -> Option<Screen> {
        let width = |s: &str| ratatui::text::Span::raw(s).width();
        let (lead, cells) = self.tab_cells(self.size.width);
        let mut x = width(lead[0]) + width(lead[1]);
        for (s, title, key) in cells {
            let end = x + width(&title) + width(&key);
            if (x..end).contains(&(column as usize)) {
                return Some(s);
            }
            x = end;
        }
        None
    }

    /// The status bar's text for a bar `width` wide: the flash message (` msg `), then the
    /// entries that fit after it: the current form's or screen's keys, or with the help open
    /// the key that closes it. The view styles these cells and [`App::status_at`] maps a click
    /// back through them.
    pub fn status_cells(&self, width: u16) -> (Option<String>, Vec<StatusCell>) {
        let flash = self.flash.as_ref().map(|m| format!(" {m} "));
        let km = &self.keymap;
        let scope = self.scope();
        let entries: Vec<(String, String, Option<Action>)> = if self.help.is_some() {
            vec![(
                km.key_text(Scope::Global, Action::Help).unwrap_or_default(),
                "close help".into(),
                Some(Action::Help),
            )]
        } else {
            let actions = if scope == Scope::Form { form_status_actions() } else { status_actions(self.screen) };
            actions
                .into_iter()
                .filter_map(|a| match a {
                    Action::Confidence(_) => km.confidence_keys(scope).map(|k| (k, "confidence".to_string(), None)),
                    a => km.keys(scope, a).first().map(|k| (k.to_string(), a.label(), Some(a))),
                })
                .collect()
        };
        let mut x = flash.as_deref().map(|m| ratatui::text::Span::raw(m).width()).unwrap_or(0) as u16;
        let mut cells = Vec::new();
        for (key, label, action) in entries {
            let cell = StatusCell { x, key, label, action };
            if x as usize + cell.width() as usize > width as usize {
                break;
            }
            x += cell.width();
            cells.push(cell);
        }
        (flash, cells)
    }

    /// The action of the status-bar entry at `column` of the bottom row, if any.
    pub fn status_at(&self, column: u16) -> Option<Action> {
        let (_, cells) = self.status_cells(self.size.width);
        cells.into_iter().find(|c| (c.x..c.x + c.width()).contains(&column)).and_then(|c| c.action)
    }

    /// Mouse wheel scrolls the pane under the pointer. A left click on a tab of the top row
    /// opens that screen; on a row of a list it selects the row, and on the selected row opens
    /// it as the open key does ([`App::on_click`]).
    pub fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        let fx = self.mouse(m);
        self.follow_selections();
        fx
    }

    fn mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        let delta = match m.kind {
            MouseEventKind::ScrollUp => -3,
            MouseEventKind::ScrollDown => 3,
            MouseEventKind::Down(crossterm::event::MouseButton::Left) => return self.on_click(m.column, m.row),
            _ => return vec![],
        };
        if let Some(off) = self.help {
            self.help = Some(if delta < 0 { off.saturating_sub(3) } else { off + 3 });
            return vec![];
        }
        let body = self.body();
        match self.screen {
            Screen::Debate => self.debate.scroll_at(m.column, m.row, delta, body, &self.theme),
            Screen::Review => self.review.scroll_at(m.column, m.row, delta, body, &self.theme),
            Screen::Train => {
                return self.train.handle(if delta < 0 { Action::Up } else { Action::Down });
            }
            Screen::Models => {
                return self.models.handle(if delta < 0 { Action::Up } else { Action::Down });
            }
        }
        vec![]
    }

    /// A left click at (`column`, `row`): on an entry of the status bar it does what the entry's
    /// key does (not while text is typed, when keys are text); with the help open nothing else
    /// takes clicks; then the tab bar, then the screen's own clicks (each view hit-tests with
    /// the layout it draws with). Forms take no clicks but the status bar's.
    fn on_click(&mut self, column: u16, row: u16) -> Vec<Effect> {
        if row + 1 == self.size.y + self.size.height {
            let typing = self.text_input() && self.scope() != Scope::Form;
            return match self.status_at(column) {
                Some(a) if !typing => self.update(a),
                _ => vec![],
            };
        }
        if self.help.is_some() {
            return vec![];
        }
        if row == self.size.y {
            return match self.tab_at(column) {
                Some(s) => self.go(s),
                None => vec![],
            };
        }
        self.flash = None;
        let body = self.body();
        match self.screen {
            Screen::Debate if self.debate_form.is_some() => vec![],
            Screen::Debate => self.debate.click(column, row, body, &self.theme),
            Screen::Review => self.review.click(column, row, body, &self.theme),
            Screen::Train => self.train.click(column, row, body),
            Screen::Models => {
                self.models.click(column, row, body);
                vec![]
            }
        }
    }

    pub fn on_resize(&mut self, w: u16, h: u16) {
        self.size = Rect::new(0, 0, w, h);
        self.follow_selections();
    }

    /// Keeps each list's first row where it is drawn now, as a `ListState` keeps its offset:
    /// the next move of the selection scrolls the list only as far as the selection needs, and
    /// a clicked row stays under the pointer. (From the layouts the views draw with.)
    fn follow_selections(&mut self) {
        let body = self.body();
        if let Some(l) = super::views::review::list_layout(body, &self.review) {
            self.review.list_first = l.rows.first;
        }
        let lay = super::views::train::layout(body, &self.train);
        self.train.list_first = lay.stages.first;
        if let Some(p) = self.train.picker.as_mut() {
            if let Some(r) = super::views::train::picker_rows(lay.body, p) {
                p.first = r.first;
            }
        }
        if let Some(r) = super::views::models::catalog_rows(body, &self.models) {
            self.models.first = r.first;
        }
    }

    pub fn on_tick(&mut self) {
        self.debate.on_tick();
    }

    pub fn on_worker(&mut self, e: WorkerEvent) -> Vec<Effect> {
        let fx = self.worker(e);
        self.follow_selections();
        fx
    }

    fn worker(&mut self, e: WorkerEvent) -> Vec<Effect> {
        match e {
            WorkerEvent::Debate(d) => return self.debate.on_event(d),
            WorkerEvent::Models { rows, device } => {
                self.models.loading = false;
                self.models.device = device;
                match rows {
                    Ok(r) => {
                        self.models.rows = r;
                        self.models.error = None;
                        self.models.selected = self.models.selected.min(self.models.rows.len().saturating_sub(1));
                    }
                    Err(e) => self.models.error = Some(e),
                }
            }
            WorkerEvent::PullProgress(p) => self.models.on_progress(&p),
            WorkerEvent::PullDone { name, result } => {
                if let Err(e) = &result {
                    self.flash = Some(format!("pull {name} failed: {e}"));
                }
                if self.models.on_pull_done(&name, &result) {
                    self.models.loading = true;
                    return vec![Effect::ListModels];
                }
            }
            WorkerEvent::Sessions(scan) => self.review.on_scan(scan),
            WorkerEvent::Exported(r) => self.review.notice = Some(r.unwrap_or_else(|e| format!("export failed: {e}"))),
            WorkerEvent::Train(t) => self.train.on_event(t),
            WorkerEvent::Experiments { entries, places } => self.train.on_experiments(entries, places),
            WorkerEvent::ExperimentReady(Ok(setup)) => {
                // The screen shows the new experiment at once; its worker reports the plan.
                self.train = TrainState::configured(&setup.name, setup.settings());
                self.train.opened_experiment = true;
                self.train.notice = Some(format!("opened {}", setup.name));
                // (from the picker, or from Review's train-on-a-session key)
                self.screen = Screen::Train;
                return vec![Effect::SwitchExperiment(setup)];
            }
            WorkerEvent::ExperimentReady(Err(e)) => self.train.on_open_failed(e),
            WorkerEvent::ExperimentSaved(Ok(entry)) => {
                let path = entry.path.display().to_string();
                self.train.on_saved(Ok(format!("saved {path}; opening it…")));
                return vec![Effect::LoadExperiment(entry)];
            }
            WorkerEvent::ExperimentSaved(Err(e)) => self.train.on_saved(Err(e)),
            WorkerEvent::DebateReady(Ok(cfg)) => return self.start_debate(cfg),
            WorkerEvent::DebateReady(Err(e)) => match self.debate_form.as_mut() {
                Some(f) => f.refused(e),
                None => self.flash = Some(format!("cannot start the debate: {e}")),
            },
        }
        vec![]
    }
}
