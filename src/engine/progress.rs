//! Progress of a run: a bar (songs done, failures, time left) on a terminal, one log line per
//! song otherwise. Safe to call from the worker threads.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The progress display of one run.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    failed: AtomicUsize,
    lock: Mutex<()>,
}

impl Progress {
    /// A bar over `total` songs (unknown: `None`) when stderr is a terminal.
    pub fn new(total: Option<usize>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let pb = indicatif::ProgressBar::new(total.unwrap_or(0) as u64);
            let template = if total.is_some() {
                "[{elapsed_precise}] {wide_bar} {pos}/{len} songs  {msg}  ETA {eta}"
            } else {
                "{spinner} [{elapsed_precise}] {wide_bar} {pos} songs  {msg}"
            };
            pb.set_style(
                indicatif::ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            pb
        });
        Progress {
            bar,
            failed: AtomicUsize::new(0),
            lock: Mutex::new(()),
        }
    }

    /// One song finished: prints its line and advances the bar.
    pub fn song(&self, line: &str, failed: bool) {
        if failed {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        match &self.bar {
            Some(pb) => {
                pb.inc(1);
                pb.set_message(format!("{} failed", self.failed.load(Ordering::SeqCst)));
                pb.println(line);
            }
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar (before the summary is printed).
    pub fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish_and_clear();
        }
    }
}
