//! `master --backend gpu`: each input's loudness, true peak and meters over time read on the
//! run's executor, an album's songs in one batch (a Plan of the loudness meter and the
//! limiter's true-peak detector, [`crate::ops::limiter::Limiter::true_peak_meter`]), so the
//! host only decodes and takes the long-term spectrum. The figures are the host meter's bit
//! for bit (both twins of the same kernels).

use std::sync::Mutex;

use super::prepare::Prepared;
use crate::engine::{Executor, Sources};
use crate::error::{Error, Result};
use crate::plan::{Plan, Rendered};

/// The metering Plan of a song's input.
fn plan(p: &Prepared) -> Plan {
    let frames = p.sources[0].first().map_or(0, Vec::len);
    crate::loudness::metering::plan(&p.path, p.rate, frames)
}

/// Meters every prepared song whose input is still to be metered, in one batch on the
/// executor; a song whose metering fails fails with the reason.
pub(super) fn measure_inputs(
    prepared: &mut [(usize, Result<Prepared>)],
    executor: &Mutex<Executor>,
) {
    let todo: Vec<usize> = (0..prepared.len())
        .filter(|&i| matches!(&prepared[i].1, Ok(p) if p.input_pending.is_some()))
        .collect();
    if todo.is_empty() {
        return;
    }
    let results: Vec<Result<Rendered>> = {
        let songs: Vec<&Prepared> = todo
            .iter()
            .filter_map(|&i| prepared[i].1.as_ref().ok())
            .collect();
        let plans: Vec<Plan> = songs.iter().map(|p| plan(p)).collect();
        let sources: Vec<Sources<'_>> = songs
            .iter()
            .map(|p| Sources::borrowed(&p.sources))
            .collect();
        let jobs: Vec<crate::engine::Job<'_>> = plans.iter().zip(&sources).collect();
        let mut ex = executor.lock().unwrap_or_else(|e| e.into_inner());
        ex.run_read(&jobs, false)
    };
    for (&i, r) in todo.iter().zip(results) {
        let slot = &mut prepared[i].1;
        let filled = match (slot.as_mut(), r) {
            (Ok(p), Ok(r)) => fill(p, &r),
            (Ok(_), Err(e)) => Err(e),
            (Err(_), _) => Ok(()),
        };
        if let Err(e) = filled {
            *slot = Err(e);
        }
    }
}

/// A song's input figures and curves from its metering Plan's readings.
fn fill(p: &mut Prepared, r: &Rendered) -> Result<()> {
    let m = crate::loudness::metering::measured(&p.sources[0], p.rate, r, p.input_pending.take())
        .map_err(|why| Error::input(&p.path, format!("metering the input: {why}")))?;
    p.input = m.loudness;
    p.curves.input = m.curves;
    Ok(())
}
