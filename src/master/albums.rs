//! The album loop of `master`: albums in catalog order, each started while the one before
//! it finishes (two in flight at most), so the cores that an album's last songs leave idle
//! (three songs on two cores, one song's closing pass alone) work on the next album's
//! decoding and chain. Two albums overlap only when both fit in the memory budget
//! (`--memory-budget`, [`crate::engine::budget`]) with room to spare: their input files
//! ×[`BYTES_PER_FILE_BYTE`]; a larger album runs alone. Results come back in album order,
//! and every song's output is the same bytes whichever album runs beside it.

use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::thread::ScopedJoinHandle;

use super::{run_album, Album, AlbumResult, Ctl, Job};
use crate::engine::{Backend, Executor};

/// The worker threads (`--jobs`): the process's global pool where it can be made so (an
/// album's own thread then waits off the pool while its work runs there, and the two
/// albums' work shares every worker), else a pool of its own (each album's thread then
/// sits on one of its workers).
pub enum Workers {
    /// rayon's global pool, of the size asked
    Global,
    /// a pool of the size asked, where the global one has another size
    Own(rayon::ThreadPool),
}

impl Workers {
    /// `jobs` threads (`None`: one per core).
    pub fn new(jobs: Option<u16>) -> Result<Workers, String> {
        let n = jobs.map_or(0, usize::from);
        let global = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .is_ok();
        if global || n == 0 || rayon::current_num_threads() == n {
            return Ok(Workers::Global);
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(Workers::Own)
            .map_err(|e| format!("cannot start worker threads: {e}"))
    }

    /// Runs `f` with its parallel work on these workers.
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self {
            Workers::Global => f(),
            Workers::Own(p) => p.install(f),
        }
    }
}

/// Memory one album takes per byte of its input files, at most: the decoded f32 audio
/// (2× a 16-bit WAV, up to 4× a FLAC), the chain's output, the closing's, the quantised
/// samples and the file being written (measured: 315 MB for an album of 46 MB of 16-bit
/// WAV, 6.8×), doubled for compressed inputs.
pub const BYTES_PER_FILE_BYTE: u64 = 16;

/// Bytes of an album's input files (0 for a file that cannot be read: its song fails on its
/// own, later).
fn input_bytes(a: &Album) -> u64 {
    a.tracks
        .iter()
        .filter_map(|t| std::fs::metadata(&t.file).ok())
        .map(|m| m.len())
        .sum()
}

/// Whether two albums of `a` and `b` input bytes may be in memory together within `budget`.
pub fn may_overlap(a: u64, b: u64, budget: u64) -> bool {
    a.saturating_add(b).saturating_mul(BYTES_PER_FILE_BYTE) <= budget
}

/// Runs `albums` in order on `workers` (two at a time where [`may_overlap`]) and hands each
/// one's result to `done` in album order; stops starting albums once `done` returns false
/// or `ctl.stop` is set (the album still running is finished and handed over), and then
/// returns false (true when every album was started). On the CPU
/// each of the two albums in flight has its own executor (nothing to share); a GPU
/// executor is shared, one Plan batch at a time (and then albums overlap only on the global
/// pool, where their threads wait off the workers).
pub fn run_albums(
    albums: &[Album],
    job: &Job,
    ctl: &Ctl<'_>,
    workers: &Workers,
    mut done: impl FnMut(AlbumResult) -> bool,
) -> bool {
    let own_cpu = {
        let ex = ctl.executor.lock().unwrap_or_else(|e| e.into_inner());
        ex.backend() == Backend::Cpu
    };
    let spare = own_cpu
        .then(|| Executor::open(Backend::Cpu).ok().map(Mutex::new))
        .flatten();
    let second = Ctl {
        executor: spare.as_ref().unwrap_or(ctl.executor),
        ..*ctl
    };
    let budget = crate::engine::budget::get();
    // on a pool of its own an album's thread sits on a worker, where another album's could
    // run nested under it: it must never wait there for the executor the other one holds
    let shared_wait = matches!(workers, Workers::Own(_)) && spare.is_none();
    std::thread::scope(|s| {
        let join = |h: ScopedJoinHandle<'_, AlbumResult>| {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        };
        let mut running: Option<(ScopedJoinHandle<'_, AlbumResult>, u64)> = None;
        let mut all = true;
        for (i, a) in albums.iter().enumerate() {
            if ctl.stop.load(Ordering::SeqCst) {
                all = false;
                break;
            }
            let bytes = input_bytes(a);
            if let Some((h, _)) =
                running.take_if(|(_, b)| shared_wait || !may_overlap(*b, bytes, budget))
            {
                if !done(join(h)) {
                    return false;
                }
            }
            let c = if i % 2 == 0 { ctl } else { &second };
            let h = s.spawn(move || workers.run(|| run_album(a, job, c)));
            if let Some((prev, _)) = running.replace((h, bytes)) {
                if !done(join(prev)) {
                    all = false;
                    break;
                }
            }
        }
        if let Some((h, _)) = running {
            all &= done(join(h));
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_needs_room_for_both_albums() {
        let gib = 1u64 << 30;
        assert!(may_overlap(100 << 20, 100 << 20, 4 * gib));
        assert!(!may_overlap(200 << 20, 100 << 20, 4 * gib)); // 300 MiB × 16 > 4 GiB
        assert!(!may_overlap(u64::MAX, 1, 1 << 40)); // no overflow
    }
}
