//! Terminal progress bars for headless commands (indicatif, on stderr).

use crate::runtime::PullProgress;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;

/// Renders [`PullProgress`] callbacks as a progress bar; silent when `quiet`.
pub struct PullBar {
    quiet: bool,
    bar: Mutex<Option<(String, ProgressBar)>>,
}

impl PullBar {
    pub fn new(quiet: bool) -> Self {
        Self { quiet, bar: Mutex::new(None) }
    }

    pub fn update(&self, p: &PullProgress) {
        if self.quiet {
            return;
        }
        let key = format!("{} {}", p.model, p.stage);
        let mut slot = self.bar.lock().unwrap();
        let fresh = !matches!(&*slot, Some((k, _)) if *k == key);
        if fresh {
            if let Some((_, b)) = slot.take() {
                b.finish_and_clear();
            }
            let b = ProgressBar::new(p.total.unwrap_or(0));
            b.set_style(
                ProgressStyle::with_template("{msg:40} [{bar:30}] {pos}/{len} {elapsed}")
                    .unwrap()
                    .progress_chars("=> "),
            );
            b.set_message(key.clone());
            *slot = Some((key, b));
        }
        if let Some((_, b)) = &*slot {
            if let Some(t) = p.total {
                b.set_length(t);
            }
            b.set_position(p.done);
            if p.total.is_some_and(|t| p.done >= t) {
                b.finish_and_clear();
            }
        }
    }
}

/// `1536 → "1.5 KiB"`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// One progress bar at a time, keyed by what it tracks: asking for another key clears the
/// current bar and starts a new one.
#[derive(Default)]
pub struct KeyedBar {
    bar: Option<(String, ProgressBar)>,
}

impl KeyedBar {
    /// Clears the current bar, if any.
    pub fn finish(&mut self) {
        if let Some((_, b)) = self.bar.take() {
            b.finish_and_clear();
        }
    }

    /// The bar for `key`, made with `len` and `template` if it is not the current one.
    pub fn bar(&mut self, key: &str, len: u64, template: &str) -> &ProgressBar {
        if !matches!(&self.bar, Some((k, _)) if k == key) {
            self.finish();
            let b = ProgressBar::new(len);
            b.set_style(ProgressStyle::with_template(template).unwrap().progress_chars("=> "));
            self.bar = Some((key.to_string(), b));
        }
        &self.bar.as_ref().unwrap().1
    }
}
