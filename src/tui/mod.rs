//! The terminal UI (ratatui + crossterm on tokio).
//!
//! - [`app`]: state and update (actions in, effects out); [`views`]: pure drawing.
//! - [`action`], [`keymap`]: one `Action` enum, per-screen keymaps remappable in
//!   `<config>/keys.toml`; help overlay and status bar are built from the keymap.
//! - [`theme`]: built-in TOML themes plus user themes in `<config>/themes/`.
//! - [`event`]: terminal input, tick and render intervals, worker messages, one channel.
//! - [`workers`]: models, pulls, session scans and debates run on background threads.
//! - [`event_loop`]: events in, app updates, effects to [`Workers`], frames out; the same loop
//!   runs headless in tests (`Events::timers`, a `TestBackend`).
//!
//! The terminal is restored on every exit path: normal return, error, panic (a panic
//! hook restores it before the message prints) and SIGTERM, SIGINT and SIGHUP (caught
//! before the terminal is set up; the loop ends and the guard restores it). tmux tests
//! (`tests/tui_signals.rs`) send each to the real binary and check the shell afterwards. Logs go to a file
//! (`<data>/logs/w2sd-tui.log`), never to the screen.

pub mod action;
pub mod app;
pub mod event;
pub mod keymap;
pub mod message;
pub mod theme;
pub mod views;
pub mod widgets;
pub mod workers;

use std::io::{self, Stdout, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::terminal::{
    self, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use app::{App, Screen};
use event::{Event, Events, Rates};
use message::Effect;
use workers::DebateHandle;

/// What the UI opens on.
#[derive(Debug, Clone)]
// Built once per process; the size difference does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Start {
    /// A debate session (the default: a live debate on the offline default models).
    Debate(message::DebateConfig),
    /// The review screen over these files or directories (empty: the default places).
    Review(Vec<PathBuf>),
    /// The Train screen on this experiment (`w2sd train --config X --ui`).
    Train(Box<workers::train::TrainSetup>),
}

/// Options of one UI run.
#[derive(Debug, Clone)]
pub struct Options {
    pub theme: Option<String>,
    /// Capture the mouse (wheel scrolls panes, clicks); off with `--no-mouse`.
    pub mouse: bool,
    /// Turns the Debate screen's setup form into a debate, with the command line's checks (the
    /// UI imports nothing from the command line; `None`: the form says it cannot start one).
    pub setup_debate: Option<fn(&message::DebateSetup) -> Result<message::DebateConfig>>,
    pub start: Start,
}

/// Whether the UI has the terminal (raw mode, alternate screen) and has not given it back.
static TERMINAL_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Restores the terminal: raw mode off, main screen, cursor and mouse back. Only the first call
/// after setup does anything: leaving the alternate screen a second time would move the cursor
/// back to where the UI started (xterm restores the saved cursor), and the shell would then
/// overwrite what was printed since, a panic's message for one.
pub fn restore_terminal() {
    if !TERMINAL_TAKEN.swap(false, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        EndSynchronizedUpdate,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// Restores the terminal when dropped (every exit path of [`run`]).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn setup_terminal(mouse: bool) -> Result<(TerminalGuard, Terminal<CrosstermBackend<Stdout>>)> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tracing::error!("panic: {info}");
        prev(info);
    }));
    terminal::enable_raw_mode().context("cannot put the terminal in raw mode (is this a terminal?)")?;
    TERMINAL_TAKEN.store(true, std::sync::atomic::Ordering::SeqCst);
    let guard = TerminalGuard;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste, cursor::Hide)?;
    if mouse {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    let term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((guard, term))
}

/// Sends tracing output to `<data>/logs/w2sd-tui.log` (level from `W2SD_LOG`, default info).
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = crate::paths::data_dir().join("logs");
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "w2sd-tui.log");
    let (nb, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("W2SD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ok = tracing_subscriber::fmt().with_writer(nb).with_ansi(false).with_env_filter(filter).try_init().is_ok();
    ok.then_some(guard)
}

/// Builds the app for `opts` from the keymap and themes in the config dir.
pub fn build_app(opts: &Options) -> App {
    let cfg = crate::paths::config_dir();
    let (keymap, km_err) = match keymap::Keymap::load(&cfg) {
        Ok(k) => (k, None),
        Err(e) => (keymap::Keymap::default(), Some(format!("keys.toml ignored: {e:#}"))),
    };
    // Colours as the terminal can show them: none under NO_COLOR, else 24-bit, 256 or 16.
    let depth = theme::ColorDepth::from_env();
    tracing::info!("colour depth {depth:?}");
    let themes = theme::ThemeSet::load(&cfg).for_depth(depth);
    let mut app = App::new(keymap, themes, opts.theme.as_deref().unwrap_or(theme::DEFAULT));
    if let Some(e) = km_err {
        tracing::warn!("{e}");
        app.flash = Some(e);
    }
    app.train = default_train_state();
    match &opts.start {
        Start::Review(roots) => {
            app.screen = Screen::Review;
            if !roots.is_empty() {
                app.review = views::review::ReviewState::with_roots(roots.clone());
            }
            app.review.scanning = true;
        }
        Start::Debate(cfg) => {
            app.screen = Screen::Debate;
            if let Some(dir) = cfg.out.parent().filter(|d| !d.as_os_str().is_empty()) {
                if !app.review.roots.iter().any(|r| r == dir) {
                    app.review.roots.push(dir.to_path_buf());
                }
            }
            app.debate.summary = Some(views::debate::DebateSummary::of(cfg));
            app.debate.phase = views::debate::Phase::Preparing { what: "starting…".into(), done: 0, total: None };
        }
        Start::Train(setup) => {
            app.screen = Screen::Train;
            app.train = setup.state();
        }
    }
    app
}

/// The Train screen before its experiment is opened: the demo experiment's settings.
pub fn default_train_state() -> views::train::TrainState {
    workers::train::TrainSetup::demo().state()
}

/// Runs the UI until the user quits.
pub fn run(opts: Options) -> Result<()> {
    let _log = init_logging();
    tracing::info!("tui start: {:?}", opts.start);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let result = rt.block_on(run_async(opts));
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}

async fn run_async(opts: Options) -> Result<()> {
    let mut app = build_app(&opts);
    // Signal handlers first: a signal that came before them would kill the process with the
    // terminal still raw and on the alternate screen. (In raw mode Ctrl-C is a key, not
    // SIGINT; a SIGINT from `kill` is caught here.)
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let (guard, mut term) = setup_terminal(opts.mouse)?;
    let size = term.size()?;
    app.on_resize(size.width, size.height);
    let mut events = Events::start(Rates::default());
    let mut workers = Workers::new(events.sender(), opts.setup_debate);
    match &opts.start {
        Start::Debate(cfg) => workers.start_debate(cfg.clone()),
        Start::Review(_) => spawn_scan(app.review.roots.clone(), events.sender()),
        Start::Train(s) => workers.train_setup = (**s).clone(),
    }
    // For the terminal-restoration tests: panic after the first frame is on the screen.
    let panic_for_test = std::env::var_os("W2SD_TEST_PANIC").is_some();
    let draw_frame = |term: &mut Terminal<CrosstermBackend<Stdout>>, app: &App| -> Result<()> {
        draw(term, app)?;
        if panic_for_test {
            panic!("W2SD_TEST_PANIC is set: a deliberate panic to test that the terminal is restored");
        }
        Ok(())
    };
    let signalled = async {
        tokio::select! {
            _ = sigterm.recv() => {},
            _ = sighup.recv() => {},
            _ = sigint.recv() => {},
        }
    };
    let r = event_loop(&mut app, &mut events, &mut term, &mut workers, draw_frame, signalled).await;
    workers.stop();
    drop(events);
    drop(term);
    drop(guard);
    tracing::info!("tui end");
    r
}

/// Starts a debate worker on a config (the local runtime's [`workers::spawn_debate`]; tests
/// give one that runs scripted models).
pub type DebateSpawner = Box<dyn FnMut(message::DebateConfig, event::Sender) -> DebateHandle + Send>;

/// The background workers the event loop drives: it turns the app's [`Effect`]s into their
/// commands ([`Workers::apply`]). Every model, pull, scan and export runs on a thread of its own,
/// never on the loop's.
pub struct Workers {
    pub tx: event::Sender,
    pub debate: Option<DebateHandle>,
    /// The session lock of a debate started from the setup form (the first one's is the caller's).
    debate_lock: Option<crate::fsio::WriteLock>,
    pub spawn_debate: DebateSpawner,
    /// The command line's checks of a debate set up on the form.
    pub setup_debate: Option<fn(&message::DebateSetup) -> Result<message::DebateConfig>>,
    /// The Train screen's experiment; its worker starts on the first command.
    pub train_setup: workers::train::TrainSetup,
    pub train: Option<workers::train::TrainHandle>,
}

impl Workers {
    pub fn new(
        tx: event::Sender,
        setup_debate: Option<fn(&message::DebateSetup) -> Result<message::DebateConfig>>,
    ) -> Workers {
        Workers {
            tx,
            debate: None,
            debate_lock: None,
            spawn_debate: Box::new(workers::spawn_debate),
            setup_debate,
            train_setup: workers::train::TrainSetup::demo(),
            train: None,
        }
    }

    /// Starts the debate worker on `cfg` (the screen's debate; no other is running).
    pub fn start_debate(&mut self, cfg: message::DebateConfig) {
        self.debate = Some((self.spawn_debate)(cfg, self.tx.clone()));
    }

    fn start_train(&mut self) {
        match workers::train::spawn_train(self.train_setup.clone(), self.tx.clone()) {
            Ok(h) => self.train = Some(h),
            Err(e) => {
                tracing::error!("train: {e:#}");
                self.tx.send(message::WorkerEvent::Train(message::TrainEvent::Error(format!(
                    "cannot open the experiment: {e:#}"
                ))));
            }
        }
    }

    /// Carries out one effect of an update (sends a command, starts a thread); `true` for
    /// [`Effect::Quit`].
    pub fn apply(&mut self, app: &App, effect: Effect) -> bool {
        let tx = self.tx.clone();
        match effect {
            Effect::Quit => return true,
            Effect::CancelGeneration => {
                if let Some(d) = &self.debate {
                    d.cancel.cancel();
                }
            }
            Effect::Debate(c) => {
                if let Some(d) = &self.debate {
                    d.send(c);
                }
            }
            Effect::ListModels => workers::spawn_list_models(tx),
            Effect::Pull(names) => workers::spawn_pull(names, tx),
            Effect::ScanSessions => spawn_scan(app.review.roots.clone(), tx),
            Effect::ExportSession(path) => spawn_export(path, tx),
            Effect::Train(c) => {
                if self.train.is_none() {
                    self.start_train();
                }
                if let (Some(h), false) = (&self.train, c == message::TrainCommand::Open) {
                    h.send(c);
                }
            }
            Effect::ListExperiments => workers::experiments::spawn_list(tx),
            Effect::LoadExperiment(entry) => workers::experiments::spawn_load(entry, tx),
            Effect::TrainFromSession(path) => workers::experiments::spawn_from_session(path, tx),
            Effect::CreateExperiment(draft) => workers::experiments::spawn_create(*draft, tx),
            Effect::CheckDebate(setup) => workers::spawn_check_debate(*setup, self.setup_debate, tx),
            Effect::StartDebate(cfg) => {
                if let Some(mut d) = self.debate.take() {
                    d.stop(std::time::Duration::from_secs(3));
                }
                self.debate_lock = None;
                match crate::session::store::lock(&cfg.out) {
                    Ok(l) => {
                        self.debate_lock = Some(l);
                        self.start_debate(*cfg);
                    }
                    Err(e) => tx.send(message::WorkerEvent::Debate(message::DebateEvent::Error(format!(
                        "cannot open the session: {e}"
                    )))),
                }
            }
            Effect::SwitchExperiment(setup) => {
                // The old worker lets go of its run folder first (the same folder may reopen).
                if let Some(mut t) = self.train.take() {
                    t.stop(std::time::Duration::from_secs(3));
                }
                self.train_setup = *setup;
                self.start_train();
            }
        }
        false
    }

    /// Stops the workers (a debate's session is saved as it stands; a running stage is dropped).
    pub fn stop(&mut self) {
        if let Some(mut d) = self.debate.take() {
            d.stop(std::time::Duration::from_secs(3));
        }
        self.debate_lock = None;
        if let Some(mut t) = self.train.take() {
            t.stop(std::time::Duration::from_secs(3));
        }
    }
}

/// The event loop: each event updates the app (keys, mouse, worker messages), the update's
/// effects go to the workers, and at each render tick a frame is drawn with `draw_frame` if
/// anything changed. It returns when the app quits, the channel or the terminal input closes,
/// or `stop` completes (a signal). It never waits on a model: input is handled as it arrives,
/// whatever the workers are doing (`tests/tui_responsiveness.rs` measures it).
pub async fn event_loop<B: ratatui::backend::Backend>(
    app: &mut App,
    events: &mut Events,
    term: &mut Terminal<B>,
    workers: &mut Workers,
    mut draw_frame: impl FnMut(&mut Terminal<B>, &App) -> Result<()>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<()> {
    tokio::pin!(stop);
    let mut dirty = true;
    loop {
        let ev = tokio::select! {
            e = events.rx.recv() => match e { Some(e) => e, None => break },
            _ = &mut stop => break,
        };
        let effects = match ev {
            Event::Render => {
                if dirty {
                    draw_frame(term, app)?;
                    dirty = false;
                }
                continue;
            }
            Event::Tick => {
                let before = app.debate.elapsed_s;
                app.on_tick();
                dirty |= before != app.debate.elapsed_s;
                continue;
            }
            Event::Key(k) => app.on_key(k),
            Event::Mouse(m) => app.on_mouse(m),
            Event::Paste(s) => {
                for c in s.chars().filter(|c| !c.is_control()) {
                    app.on_key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c)));
                }
                vec![]
            }
            Event::Resize(w, h) => {
                app.on_resize(w, h);
                term.autoresize().map_err(|e| anyhow::anyhow!("resize: {e}"))?;
                vec![]
            }
            Event::Worker(w) => app.on_worker(w),
            Event::InputClosed(why) => {
                tracing::warn!("terminal input closed: {why}");
                break;
            }
        };
        dirty = true;
        let mut quit = false;
        for e in effects {
            quit |= workers.apply(app, e);
        }
        if quit || app.quit {
            break;
        }
    }
    Ok(())
}

/// Writes `<session>.export.jsonl` beside a session file (atomically) on a background thread
/// and reports what it wrote.
fn spawn_export(path: PathBuf, tx: event::Sender) {
    std::thread::Builder::new()
        .name("w2sd-export".into())
        .spawn(move || {
            let r = export_session(&path).map_err(|e| format!("{e:#}"));
            tx.send(message::WorkerEvent::Exported(r))
        })
        .expect("spawn export thread");
}

/// The export of one session file as JSONL beside it; the message says where it went.
pub fn export_session(path: &std::path::Path) -> Result<String> {
    use crate::session::export::{export_bytes, ExportFormat};
    let s = crate::session::store::load(path)?;
    let (n, bytes) = export_bytes(&s, ExportFormat::Jsonl)?;
    let out = path.with_extension("export.jsonl");
    crate::fsio::write_bytes_atomic(&out, &bytes)?;
    Ok(format!("exported {n} rows to {}", out.display()))
}

fn spawn_scan(roots: Vec<PathBuf>, tx: event::Sender) {
    std::thread::Builder::new()
        .name("w2sd-scan".into())
        .spawn(move || tx.send(message::WorkerEvent::Sessions(views::review::scan(&roots))))
        .expect("spawn scan thread");
}

/// Frame times since the last summary in the log.
struct FrameTimes {
    since: Instant,
    ms: Vec<f64>,
}

static FRAME_TIMES: std::sync::Mutex<Option<FrameTimes>> = std::sync::Mutex::new(None);

/// Logs one frame's render time (debug: every frame; info: every 10 s, the frame count, median
/// and slowest frame).
fn log_frame(ms: f64) {
    tracing::debug!("frame rendered in {ms:.2} ms");
    let Ok(mut g) = FRAME_TIMES.lock() else { return };
    let ft = g.get_or_insert_with(|| FrameTimes { since: Instant::now(), ms: Vec::new() });
    ft.ms.push(ms);
    if ft.since.elapsed().as_secs_f64() >= 10.0 {
        let mut v = std::mem::take(&mut ft.ms);
        v.sort_by(f64::total_cmp);
        let (med, max) = (v[v.len() / 2], v[v.len() - 1]);
        tracing::info!(
            "frames: {} in {:.0} s, render median {med:.2} ms, slowest {max:.2} ms",
            v.len(),
            ft.since.elapsed().as_secs_f64()
        );
        ft.since = Instant::now();
    }
}

/// One frame, wrapped in a synchronized update so terminals show it whole. Its render time
/// (layout, drawing and writing to the terminal) goes to the log ([`log_frame`]).
fn draw(term: &mut Terminal<CrosstermBackend<Stdout>>, app: &App) -> Result<()> {
    let t0 = Instant::now();
    execute!(io::stdout(), BeginSynchronizedUpdate)?;
    let r = term.draw(|f| views::draw(f, app));
    execute!(io::stdout(), EndSynchronizedUpdate)?;
    io::stdout().flush()?;
    r?;
    log_frame(t0.elapsed().as_secs_f64() * 1e3);
    Ok(())
}
