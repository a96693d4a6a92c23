//! SIGTERM and SIGINT: a run stops cleanly. Songs already running are finished and written
//! (atomically); songs not started are reported for the retry (exit 75).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The process-wide stop flag (set by a watched signal).
pub fn flag() -> &'static Arc<AtomicBool> {
    STOP.get_or_init(Default::default)
}

/// Makes SIGTERM and SIGINT set the stop flag instead of killing the process.
pub fn stop_on_signals() {
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(flag())) {
            eprintln!("warning: cannot watch for signal {sig}: {e}");
        }
    }
}

/// True once a watched signal arrived.
pub fn stop_requested() -> bool {
    flag().load(Ordering::SeqCst)
}
