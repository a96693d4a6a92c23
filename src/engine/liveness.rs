//! Buffer reuse by liveness: a Plan pass that renumbers buffers so a buffer whose last read
//! is past takes the place of a later buffer that starts with a `Load` (which overwrites all
//! of it). A scene's track buffers come one after another (load, chain, sends, into its
//! bus), so however many tracks a song has, they share a few buffers; buses (which start
//! from silence) keep their own. The result is the same bits with fewer buffers: less
//! memory per song on both executors and more songs per GPU batch.

use crate::plan::{BufId, Plan, Stage};

/// The buffers `s` reads or writes.
fn touched(s: &Stage) -> impl Iterator<Item = BufId> {
    let (a, b) = match s {
        Stage::Load { dst, .. } => (*dst, None),
        Stage::Gain { buf, .. } | Stage::Envelope { buf, .. } => (*buf, None),
        Stage::Mix { dst, src, .. } => (*dst, Some(*src)),
        Stage::Process { buf, sidechain, .. } => (*buf, *sidechain),
    };
    std::iter::once(a).chain(b)
}

/// Renumbers `plan`'s buffers by liveness (see the module docs); `plan.n_buffers` shrinks.
pub fn reuse_buffers(plan: &mut Plan) {
    let n = plan.n_buffers;
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    let mut loads_first = vec![false; n];
    for (i, s) in plan.stages.iter().enumerate() {
        for b in touched(s) {
            if first[b] == usize::MAX {
                first[b] = i;
                loads_first[b] = matches!(s, Stage::Load { dst, .. } if *dst == b);
            }
            last[b] = i;
        }
    }
    last[plan.master] = usize::MAX;
    let mut map: Vec<Option<BufId>> = vec![None; n];
    map[plan.master] = Some(0);
    let mut count = 1;
    let mut free: Vec<BufId> = Vec::new();
    for (i, s) in plan.stages.iter().enumerate() {
        for b in touched(s) {
            if map[b].is_none() {
                let reused = if loads_first[b] { free.pop() } else { None };
                map[b] = Some(reused.unwrap_or_else(|| {
                    count += 1;
                    count - 1
                }));
            }
        }
        for b in touched(s) {
            if last[b] == i {
                if let Some(p) = map[b] {
                    if !free.contains(&p) {
                        free.push(p);
                    }
                }
            }
        }
    }
    let id = |b: &mut BufId| *b = map[*b].expect("every touched buffer is mapped");
    for s in &mut plan.stages {
        match s {
            Stage::Load { dst, .. } => id(dst),
            Stage::Gain { buf, .. } | Stage::Envelope { buf, .. } => id(buf),
            Stage::Mix { dst, src, .. } => {
                id(dst);
                id(src);
            }
            Stage::Process { buf, sidechain, .. } => {
                id(buf);
                if let Some(k) = sidechain {
                    id(k);
                }
            }
        }
    }
    plan.master = 0;
    plan.n_buffers = count;
}
