//! The one engine behind both commands. `render` (scenes) and `master` (manifest rows ×
//! deliveries) are front ends: each compiles its songs into [`crate::plan::Plan`]s and hands
//! them to the same [`Executor`] (`--backend cpu|gpu|auto`; both executors walk songs in the
//! time chunks of [`schedule`]), then closes every song the same way ([`closing`]: loudness
//! policy, gain into the closing limiter, fades) and writes it with [`output`]. Signals
//! ([`stop`]), progress lines ([`progress`]) and exit codes ([`exit_code`]) live here once.

pub mod backend;
pub mod budget;
pub mod closing;
pub mod cpu;
pub mod liveness;
pub mod outcome;
pub mod output;
pub mod progress;
pub mod schedule;
pub mod sources;
pub mod stop;

pub use backend::{Backend, Executor, Job, StageRun};
pub use closing::{
    close_all, close_group, ChainFeed, ChainSource, Closed, Fades, Group, KeptMaster, Member,
    Outcome, DEFAULT_CEILING_DBTP,
};
pub use outcome::{check_delivery, warnings, DEFAULT_MAX_REDUCTION_DB, MISS_TOLERANCE_LU};
pub use sources::Sources;

/// Process exit code of a run, the same for every command: `2` usage or scene error (or
/// `--backend gpu` without an adapter), `75` retryable (GPU lost, out of memory, stopped by
/// SIGTERM/SIGINT: run again), `1` some songs failed, `0` everything done.
pub fn exit_code(usage_error: bool, retryable: bool, failed: bool) -> u8 {
    if usage_error {
        2
    } else if retryable {
        75
    } else if failed {
        1
    } else {
        0
    }
}
