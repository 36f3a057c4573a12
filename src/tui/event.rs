//! The event source: terminal input (crossterm `EventStream`), a tick interval (timers,
//! status expiry) and a render interval (the frame-rate cap), merged with the messages
//! background workers send, into one channel the app loop reads.

use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEvent, KeyEventKind, MouseEvent};
use futures::StreamExt;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::message::WorkerEvent;

/// Everything the app loop reacts to.
#[derive(Debug)]
// Events are moved once each through a channel; boxing the worker payload would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// A key press (releases and repeats are dropped at the source).
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Pasted text (bracketed paste), for text inputs.
    Paste(String),
    /// Once per `tick` interval.
    Tick,
    /// Once per `render` interval: draw if anything changed.
    Render,
    /// A message from a background worker.
    Worker(WorkerEvent),
    /// The terminal input stream ended or failed.
    InputClosed(String),
}

/// Rates of the timer events.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    pub tick: Duration,
    /// The frame-rate cap (e.g. 30 fps = 33 ms).
    pub render: Duration,
}

impl Default for Rates {
    fn default() -> Self {
        Rates { tick: Duration::from_millis(250), render: Duration::from_millis(33) }
    }
}

/// The merged event channel. Workers get a [`Sender`] clone.
pub struct Events {
    pub rx: UnboundedReceiver<Event>,
    pub tx: UnboundedSender<Event>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Sends worker messages into the app's event channel; usable from any thread.
#[derive(Debug, Clone)]
pub struct Sender(pub UnboundedSender<Event>);

impl Sender {
    pub fn send(&self, e: WorkerEvent) {
        let _ = self.0.send(Event::Worker(e));
    }
}

impl Events {
    /// A channel without terminal input (tests and headless drivers).
    pub fn detached() -> Events {
        let (tx, rx) = unbounded_channel();
        Events { rx, tx, task: None }
    }

    /// Starts reading the terminal and the two intervals on the current tokio runtime.
    pub fn start(rates: Rates) -> Events {
        Self::spawn(rates, true)
    }

    /// The two intervals on the current tokio runtime, without the terminal: input comes
    /// through [`Events::tx`] (headless tests of the event loop).
    pub fn timers(rates: Rates) -> Events {
        Self::spawn(rates, false)
    }

    fn spawn(rates: Rates, terminal: bool) -> Events {
        let (tx, rx) = unbounded_channel();
        let out = tx.clone();
        let task = tokio::spawn(async move {
            let mut input = terminal.then(EventStream::new);
            let mut tick = tokio::time::interval(rates.tick);
            let mut render = tokio::time::interval(rates.render);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            render.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                let ev = tokio::select! {
                    _ = tick.tick() => Event::Tick,
                    _ = render.tick() => Event::Render,
                    maybe = async { input.as_mut()?.next().await }, if input.is_some() => match maybe {
                        Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => Event::Key(k),
                        Some(Ok(TermEvent::Key(_))) => continue,
                        Some(Ok(TermEvent::Mouse(m))) => Event::Mouse(m),
                        Some(Ok(TermEvent::Resize(w, h))) => Event::Resize(w, h),
                        Some(Ok(TermEvent::Paste(s))) => Event::Paste(s),
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => Event::InputClosed(e.to_string()),
                        None => Event::InputClosed("end of input".into()),
                    },
                };
                let closed = matches!(ev, Event::InputClosed(_));
                if out.send(ev).is_err() || closed {
                    break;
                }
            }
        });
        Events { rx, tx, task: Some(task) }
    }

    pub fn sender(&self) -> Sender {
        Sender(self.tx.clone())
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
