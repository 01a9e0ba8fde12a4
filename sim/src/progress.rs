//! A progress bar on stderr that appears only for runs longer than a second.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Runs shorter than this never show a bar.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// What a [`Progress`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressUnit {
    /// Bytes of a file.
    Bytes,
    /// Requests replayed.
    Requests,
}

/// A progress bar that stays hidden unless the run passes one second, stderr is
/// a terminal, and it is [enabled](Progress::new).
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    started: Instant,
    total: u64,
    unit: ProgressUnit,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar for `total` units; `quiet` hides it for good.
    pub fn new(total: u64, unit: ProgressUnit, quiet: bool) -> Self {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            started: Instant::now(),
            total,
            unit,
            bar: None,
        }
    }

    /// Reports the position; cheap enough to call a few thousand times a second.
    pub fn set(&mut self, position: u64) {
        if !self.enabled {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() >= SHOW_AFTER {
            self.bar = Some(self.make_bar());
        }
        if let Some(bar) = &self.bar {
            bar.set_position(position);
        }
    }

    fn make_bar(&self) -> ProgressBar {
        let template = match self.unit {
            ProgressUnit::Bytes => "{bar:40} {bytes}/{total_bytes} ({eta} left)",
            ProgressUnit::Requests => "{bar:40} {human_pos}/{human_len} requests ({eta} left)",
        };
        let bar = ProgressBar::with_draw_target(Some(self.total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar
    }

    /// Removes the bar, if it was shown.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
