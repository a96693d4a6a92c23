//! `master --backend gpu`: each input's loudness, true peak and meters over time read on the
//! run's executor, an album's songs in one batch (a Plan of the loudness meter and the
//! limiter's true-peak detector, [`crate::ops::limiter::Limiter::true_peak_meter`]), so the
//! host only decodes and takes the long-term spectrum. The figures are the host meter's bit
//! for bit (both twins of the same kernels).

use std::sync::Mutex;

use super::prepare::Prepared;
use crate::engine::{Executor, Sources};
use crate::error::{Error, Result};
use crate::loudness::{self, curves, Blocks};
use crate::ops::limiter::Limiter;
use crate::ops::meter::Meter;
use crate::ops::Processor;
use crate::plan::{Plan, Rendered, Source, Stage, PLAN_CHANNELS};

/// Stage of the loudness meter in [`plan`], and of the true-peak meter.
const METER: usize = 1;
const TRUE_PEAK: usize = 2;

/// The metering Plan of a song's input: load it, the loudness meter, the true-peak meter
/// reporting per hop of the reports' curves.
fn plan(p: &Prepared) -> Plan {
    let frames = p.sources[0].first().map_or(0, Vec::len);
    let hop = curves::hop_frames(frames, p.rate);
    let process = |processor: Processor| Stage::Process {
        buf: 0,
        sidechain: None,
        processor: Box::new(processor),
    };
    Plan {
        name: "input meter".into(),
        sample_rate: p.rate,
        frames,
        n_buffers: 1,
        sources: vec![Source {
            path: p.path.clone(),
        }],
        stages: vec![
            Stage::Load { dst: 0, source: 0 },
            process(Processor::Meter(Meter::new(p.rate, frames))),
            process(Processor::Limiter(
                Limiter::true_peak_meter(p.rate).reporting(hop, frames),
            )),
        ],
        master: 0,
    }
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
    let fail = |why: &str| Error::input(&p.path, format!("metering the input: {why}"));
    let reading = |i: usize| r.readings.iter().find(|(k, _)| *k == i).map(|(_, l)| l);
    let energies = reading(METER).ok_or_else(|| fail("the meter read nothing"))?;
    let peaks = reading(TRUE_PEAK)
        .and_then(|l| l.get(2))
        .ok_or_else(|| fail("the true-peak meter read nothing"))?;
    let x = &p.sources[0];
    let frames = x.first().map_or(0, Vec::len);
    let lanes: Vec<&[f32]> = energies
        .iter()
        .take(PLAN_CHANNELS)
        .map(Vec::as_slice)
        .collect();
    let weights = loudness::weights(x.len()).map_err(|e| fail(&e.to_string()))?;
    let blocks = Blocks::from_lanes(&lanes, &weights, p.rate, frames);
    let m = loudness::measure_blocks_with_curves_and_spectrum(
        x,
        p.rate,
        &blocks,
        Some(peaks),
        p.input_pending.take(),
    );
    p.input = m.loudness;
    p.curves.input = m.curves;
    Ok(())
}
