//! The loudness meter as a Plan on the run's executor (either backend): a file's audio
//! loaded, the meter ([`crate::ops::meter`]: K-weighting, sub-block energies, sample peak)
//! and the limiter's true-peak detector reporting per hop of the curves
//! ([`crate::ops::limiter::Limiter::true_peak_meter`]); gating, loudness range and the
//! series are then formed on the host from what the Plan read. The figures are the host
//! meter's ([`super::measure_with_curves`]) bit for bit: both run the same twins.

use super::{curves, Blocks, Measured};
use crate::ops::limiter::Limiter;
use crate::ops::meter::Meter;
use crate::ops::Processor;
use crate::plan::{Plan, Planar, Rendered, Source, Stage, PLAN_CHANNELS};

/// Stage of the loudness meter in [`plan`], and of the true-peak meter.
const METER: usize = 1;
const TRUE_PEAK: usize = 2;

/// The metering Plan of `frames` frames of audio at `rate` read from `path` (mono and stereo:
/// a mono source lands on both channels).
pub fn plan(path: &std::path::Path, rate: u32, frames: usize) -> Plan {
    let hop = curves::hop_frames(frames, rate);
    let process = |processor: Processor| Stage::Process {
        buf: 0,
        sidechain: None,
        processor: Box::new(processor),
    };
    Plan {
        name: "meter".into(),
        sample_rate: rate,
        frames,
        n_buffers: 1,
        sources: vec![Source {
            path: path.to_path_buf(),
        }],
        stages: vec![
            Stage::Load { dst: 0, source: 0 },
            process(Processor::Meter(Meter::new(rate, frames))),
            process(Processor::Limiter(
                Limiter::true_peak_meter(rate).reporting(hop, frames),
            )),
        ],
        master: 0,
    }
}

/// The figures and curves of `x` (the audio the Plan metered, one or two channels) at
/// `rate` from the Plan's readings `r`; `spectrum` when it was taken already (else it is
/// taken here). `Err` says what the Plan did not read.
pub fn measured(
    x: &Planar,
    rate: u32,
    r: &Rendered,
    spectrum: Option<crate::ops::match_eq::Spectrum>,
) -> Result<Measured, String> {
    let reading = |i: usize| r.readings.iter().find(|(k, _)| *k == i).map(|(_, l)| l);
    let energies = reading(METER).ok_or("the meter read nothing")?;
    let peaks = reading(TRUE_PEAK)
        .and_then(|l| l.get(2))
        .ok_or("the true-peak meter read nothing")?;
    let frames = x.first().map_or(0, Vec::len);
    let lanes: Vec<&[f32]> = energies
        .iter()
        .take(x.len().min(PLAN_CHANNELS))
        .map(Vec::as_slice)
        .collect();
    let weights = super::weights(x.len()).map_err(|e| e.to_string())?;
    let blocks = Blocks::from_lanes(&lanes, &weights, rate, frames);
    Ok(super::measure_blocks_with_curves_and_spectrum(
        x,
        rate,
        &blocks,
        Some(peaks),
        spectrum,
    ))
}
