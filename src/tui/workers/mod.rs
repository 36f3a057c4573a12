//! Background workers. The UI never waits on a model, a download or a disk scan: it
//! sends a request to a worker thread and draws the messages ([`WorkerEvent`]) that come
//! back through the app's event channel.
//!
//! One thread owns the debate's models, so two models on one CPU take turns, never run
//! at once. Generation is cancelled through a shared [`CancelToken`] the generation loop
//! checks at every token.

use std::sync::mpsc;

use crate::runtime::hub::{self, Source};
use crate::runtime::{CancelToken, ModelPool};

use crate::tui::event::Sender;
use crate::tui::message::{DebateCommand, DebateConfig, DebateEvent, DebateSetup, ModelRow, WorkerEvent};

pub mod debate;
pub mod experiments;
pub mod train;

/// Lists the catalog and the device on a thread (hashing cached files can take a moment).
pub fn spawn_list_models(tx: Sender) {
    std::thread::Builder::new()
        .name("w2sd-models".into())
        .spawn(move || {
            let rows = hub::list().map(|v| v.into_iter().map(ModelRow::from).collect()).map_err(|e| format!("{e:#}"));
            let device = crate::runtime::device::describe();
            tx.send(WorkerEvent::Models { rows, device });
        })
        .expect("spawn models thread");
}

/// Pulls catalog models one after another on a thread, reporting progress.
pub fn spawn_pull(names: Vec<String>, tx: Sender) {
    std::thread::Builder::new()
        .name("w2sd-pull".into())
        .spawn(move || {
            for name in names {
                let t = tx.clone();
                let result = hub::pull(&name, Source::Auto, &mut |p| t.send(WorkerEvent::PullProgress(p)))
                    .map_err(|e| format!("{e:#}"));
                if let Err(e) = &result {
                    tracing::warn!("pull {name}: {e}");
                }
                tx.send(WorkerEvent::PullDone { name, result });
            }
        })
        .expect("spawn pull thread");
}

/// Checks a setup from the form with `build` (the command line's checks) on a thread; a setup
/// that passes is remembered, and the debate is reported ready.
pub fn spawn_check_debate(
    setup: DebateSetup,
    build: Option<fn(&DebateSetup) -> anyhow::Result<DebateConfig>>,
    tx: Sender,
) {
    std::thread::Builder::new()
        .name("w2sd-debate-setup".into())
        .spawn(move || {
            let r = match build {
                Some(f) => f(&setup).map_err(|e| format!("{e:#}")),
                None => Err("this UI cannot start debates (no debate builder)".to_string()),
            };
            if r.is_ok() {
                if let Err(e) = setup.remember(&DebateSetup::file()) {
                    tracing::warn!("cannot remember the debate setup: {e:#}");
                }
            }
            tx.send(WorkerEvent::DebateReady(r.map(Box::new)))
        })
        .expect("spawn debate-setup thread");
}

/// A handle on a running debate worker.
pub struct DebateHandle {
    pub commands: mpsc::Sender<DebateCommand>,
    /// Cancels the generation in progress.
    pub cancel: CancelToken,
    pub thread: Option<std::thread::JoinHandle<()>>,
}

impl DebateHandle {
    pub fn send(&self, c: DebateCommand) {
        let _ = self.commands.send(c);
    }

    /// Cancels generation and asks the worker to stop; waits at most `wait` for it.
    pub fn stop(&mut self, wait: std::time::Duration) {
        self.cancel.cancel();
        self.send(DebateCommand::Stop);
        if let Some(t) = self.thread.take() {
            let deadline = std::time::Instant::now() + wait;
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// Starts the debate worker thread for `cfg`, loading its models with the local runtime.
pub fn spawn_debate(cfg: DebateConfig, tx: Sender) -> DebateHandle {
    spawn_debate_with(cfg, ModelPool::default(), tx)
}

/// Starts the debate worker thread for `cfg` with a pool of its own (models already in the pool
/// are used as they are: another backend, or scripted models in tests).
pub fn spawn_debate_with(cfg: DebateConfig, pool: ModelPool, tx: Sender) -> DebateHandle {
    let (ctx, crx) = mpsc::channel();
    let cancel = CancelToken::new();
    let c2 = cancel.clone();
    let thread = std::thread::Builder::new()
        .name("w2sd-debate".into())
        .spawn(move || {
            if let Err(e) = debate::run(cfg, pool, &tx, &crx, &c2) {
                tracing::error!("debate worker: {e:#}");
                tx.send(WorkerEvent::Debate(DebateEvent::Error(format!("{e:#}"))));
            }
        })
        .expect("spawn debate thread");
    DebateHandle { commands: ctx, cancel, thread: Some(thread) }
}
