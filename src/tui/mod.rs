//! The terminal UI (ratatui + crossterm on tokio).
//!
//! - [`app`]: state and update (actions in, effects out); [`views`]: pure drawing.
//! - [`action`], [`keymap`]: one `Action` enum, per-screen keymaps remappable in
//!   `<config>/keys.toml`; help overlay and status bar are built from the keymap.
//! - [`theme`]: built-in TOML themes plus user themes in `<config>/themes/`.
//! - [`event`]: terminal input, tick and render intervals, worker messages, one channel.
//! - [`worker`]: models, pulls, session scans and debates run on background threads.
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
    let tx = events.sender();

    let mut debate: Option<DebateHandle> = None;
    // The session lock of a debate started from the setup form (the first one's is the caller's).
    let mut debate_lock: Option<crate::fsio::WriteLock> = None;
    let setup_debate = opts.setup_debate;
    let mut train_setup = match &opts.start {
        Start::Train(s) => (**s).clone(),
        _ => workers::train::TrainSetup::demo(),
    };
    let mut train: Option<workers::train::TrainHandle> = None;
    match &opts.start {
        Start::Debate(cfg) => debate = Some(workers::spawn_debate(cfg.clone(), tx.clone())),
        Start::Review(_) => spawn_scan(app.review.roots.clone(), tx.clone()),
        Start::Train(_) => {}
    }

    let mut dirty = true;
    // For the terminal-restoration tests: panic after the first frame is on the screen.
    let panic_for_test = std::env::var_os("W2SD_TEST_PANIC").is_some();
    loop {
        let ev = tokio::select! {
            e = events.rx.recv() => match e { Some(e) => e, None => break },
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            _ = sigint.recv() => break,
        };
        let effects = match ev {
            Event::Render => {
                if dirty {
                    draw(&mut term, &app)?;
                    dirty = false;
                    if panic_for_test {
                        panic!("W2SD_TEST_PANIC is set: a deliberate panic to test that the terminal is restored");
                    }
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
                term.autoresize()?;
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
            match e {
                Effect::Quit => quit = true,
                Effect::CancelGeneration => {
                    if let Some(d) = &debate {
                        d.cancel.cancel();
                    }
                }
                Effect::Debate(c) => {
                    if let Some(d) = &debate {
                        d.send(c);
                    }
                }
                Effect::ListModels => workers::spawn_list_models(tx.clone()),
                Effect::Pull(names) => workers::spawn_pull(names, tx.clone()),
                Effect::ScanSessions => spawn_scan(app.review.roots.clone(), tx.clone()),
                Effect::ExportSession(path) => spawn_export(path, tx.clone()),
                Effect::Train(c) => {
                    if train.is_none() {
                        match workers::train::spawn_train(train_setup.clone(), tx.clone()) {
                            Ok(h) => train = Some(h),
                            Err(e) => {
                                tracing::error!("train: {e:#}");
                                tx.send(message::WorkerEvent::Train(message::TrainEvent::Error(format!(
                                    "cannot open the experiment: {e:#}"
                                ))));
                            }
                        }
                    }
                    if let (Some(h), false) = (&train, c == message::TrainCommand::Open) {
                        h.send(c);
                    }
                }
                Effect::ListExperiments => workers::experiments::spawn_list(tx.clone()),
                Effect::LoadExperiment(entry) => workers::experiments::spawn_load(entry, tx.clone()),
                Effect::TrainFromSession(path) => workers::experiments::spawn_from_session(path, tx.clone()),
                Effect::CreateExperiment(draft) => workers::experiments::spawn_create(*draft, tx.clone()),
                Effect::CheckDebate(setup) => workers::spawn_check_debate(*setup, setup_debate, tx.clone()),
                Effect::StartDebate(cfg) => {
                    if let Some(mut d) = debate.take() {
                        d.stop(std::time::Duration::from_secs(3));
                    }
                    debate_lock = None;
                    match crate::session::store::lock(&cfg.out) {
                        Ok(l) => {
                            debate_lock = Some(l);
                            debate = Some(workers::spawn_debate(*cfg, tx.clone()));
                        }
                        Err(e) => tx.send(message::WorkerEvent::Debate(message::DebateEvent::Error(format!(
                            "cannot open the session: {e}"
                        )))),
                    }
                }
                Effect::SwitchExperiment(setup) => {
                    // The old worker lets go of its run folder first (the same folder may reopen).
                    if let Some(mut t) = train.take() {
                        t.stop(std::time::Duration::from_secs(3));
                    }
                    train_setup = *setup;
                    match workers::train::spawn_train(train_setup.clone(), tx.clone()) {
                        Ok(h) => train = Some(h),
                        Err(e) => {
                            tracing::error!("train: {e:#}");
                            tx.send(message::WorkerEvent::Train(message::TrainEvent::Error(format!(
                                "cannot open the experiment: {e:#}"
                            ))));
                        }
                    }
                }
            }
        }
        if quit || app.quit {
            break;
        }
    }
    if let Some(mut d) = debate.take() {
        d.stop(std::time::Duration::from_secs(3));
    }
    drop(debate_lock);
    if let Some(mut t) = train.take() {
        t.stop(std::time::Duration::from_secs(3));
    }
    drop(events);
    drop(term);
    drop(guard);
    tracing::info!("tui end");
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
