//! The synthesiser's instruments: each renders one hit or note, added into a mono buffer
//! from a start frame (clipped at the buffer's end). Drums: kick, snare, hats, clap, crash.
//! Tonal voices: a subtractive bass, a detuned "supersaw" voice for chords and pads, a
//! two-operator FM electric piano, and a filtered saw/square lead (also the arp's pluck).

use std::f64::consts::PI;

use super::dsp::{adsr, decay, midi_to_hz, LowPass4, Osc, Rng, Svf};

/// Frames between filter coefficient updates in swept filters.
const RETUNE_FRAMES: usize = 16;

/// Adds `f(t_s)` into `out` from `start` for `len_s` seconds (the per-sample callback gets
/// the time since the hit and returns the sample).
fn add_for(
    out: &mut [f64],
    start: usize,
    len_s: f64,
    sr: f64,
    mut f: impl FnMut(usize, f64) -> f64,
) {
    let start = start.min(out.len());
    let n = ((len_s * sr).ceil() as usize).min(out.len() - start);
    for (i, o) in out[start..start + n].iter_mut().enumerate() {
        *o += f(i, i as f64 / sr);
    }
}

/// Kick drum: a sine whose pitch falls from ~3.5× to `tune_hz`, a noise click, soft clipped.
pub fn kick(out: &mut [f64], start: usize, sr: f64, vel: f64, tune_hz: f64, rng: &mut Rng) {
    let mut osc = Osc::default();
    add_for(out, start, 0.38, sr, |_, t| {
        let f = tune_hz * (1.0 + 2.5 * (-t / 0.028).exp());
        let body = osc.sine(f / sr) * decay(t, 0.12, 0.38);
        let click = rng.bipolar() * 0.4 * decay(t, 0.0015, 0.01);
        vel * (1.6 * (body + click)).tanh()
    });
}

/// Snare: two decaying tones (body) plus band-limited noise (wires).
pub fn snare(out: &mut [f64], start: usize, sr: f64, vel: f64, rng: &mut Rng) {
    let (mut o1, mut o2) = (Osc::default(), Osc::at(0.25));
    let mut hp = Svf::new(1400.0, 0.7, sr);
    let mut lp = Svf::new(6000.0, 0.7, sr);
    add_for(out, start, 0.2, sr, |_, t| {
        let tone = (0.6 * o1.sine(185.0 / sr) + 0.35 * o2.sine(330.0 / sr)) * decay(t, 0.045, 0.2);
        let noise = lp.process(hp.process(rng.bipolar()).hp).lp * decay(t, 0.05, 0.2);
        vel * (0.8 * tone + 0.6 * noise)
    });
}

/// Hi-hat: high-passed noise with a touch of band-pass sheen; `open` rings longer.
pub fn hat(out: &mut [f64], start: usize, sr: f64, vel: f64, open: bool, rng: &mut Rng) {
    let mut bp = Svf::new(9000.0, 2.5, sr);
    let mut hp = Svf::new(6500.0, 0.7, sr);
    let (tau, len) = if open { (0.065, 0.22) } else { (0.013, 0.05) };
    add_for(out, start, len, sr, |_, t| {
        vel * 0.3 * hp.process(bp.process(rng.bipolar()).bp).hp * decay(t, tau, len)
    });
}

/// Hand clap: three quick noise bursts and a short band-passed tail.
pub fn clap(out: &mut [f64], start: usize, sr: f64, vel: f64, rng: &mut Rng) {
    let mut bp = Svf::new(1150.0, 1.4, sr);
    add_for(out, start, 0.3, sr, |_, t| {
        let bursts: f64 = [0.0, 0.011, 0.022]
            .iter()
            .filter(|&&b| t >= b)
            .map(|&b| decay(t - b, 0.0035, 0.012))
            .sum();
        let env = bursts
            + if t >= 0.03 {
                0.5 * decay(t - 0.03, 0.07, 0.27)
            } else {
                0.0
            };
        vel * 1.6 * bp.process(rng.bipolar()).bp * env
    });
}

/// Crash cymbal: bright noise with a long decay (section starts).
pub fn crash(out: &mut [f64], start: usize, sr: f64, vel: f64, rng: &mut Rng) {
    let mut bp = Svf::new(7000.0, 0.9, sr);
    add_for(out, start, 0.9, sr, |_, t| {
        vel * 0.3 * bp.process(rng.bipolar()).bp * decay(t, 0.22, 0.9)
    });
}

/// Settings of the subtractive bass / lead / pluck voice.
#[derive(Debug, Clone, Copy)]
pub struct SynthPatch {
    /// sawtooth level
    pub saw: f64,
    /// square level (one octave down when `sub` is set)
    pub square: f64,
    /// square plays an octave below
    pub sub: bool,
    /// filter base cutoff
    pub cutoff_hz: f64,
    /// filter envelope depth, scaled by velocity
    pub env_hz: f64,
    /// filter envelope decay time constant
    pub env_decay_s: f64,
    /// filter resonance
    pub q: f64,
    /// amplitude envelope
    pub attack_s: f64,
    /// amplitude decay time constant
    pub decay_s: f64,
    /// sustain level 0…1
    pub sustain: f64,
    /// release length (reaches zero)
    pub release_s: f64,
    /// vibrato depth in cents (faded in after `vibrato_delay_s`)
    pub vibrato_cents: f64,
    /// vibrato rate
    pub vibrato_hz: f64,
    /// vibrato onset delay
    pub vibrato_delay_s: f64,
    /// tanh drive (1 = gentle)
    pub drive: f64,
}

/// One note of the subtractive voice (bass, lead, pluck).
pub fn synth_note(
    out: &mut [f64],
    start: usize,
    sr: f64,
    note: f64,
    gate_s: f64,
    vel: f64,
    p: &SynthPatch,
) {
    let f0 = midi_to_hz(note);
    let (mut saw, mut sq) = (Osc::default(), Osc::at(0.5));
    let mut filt = LowPass4::new(p.cutoff_hz, p.q, sr);
    add_for(out, start, gate_s + p.release_s, sr, |i, t| {
        let vib_amt = ((t - p.vibrato_delay_s) / 0.25).clamp(0.0, 1.0) * p.vibrato_cents;
        let f = f0 * (vib_amt / 1200.0 * (2.0 * PI * p.vibrato_hz * t).sin()).exp2();
        let sq_dt = if p.sub { f / (2.0 * sr) } else { f / sr };
        let x = p.saw * saw.saw(f / sr) + p.square * sq.square(sq_dt);
        if i % RETUNE_FRAMES == 0 {
            let cutoff = p.cutoff_hz + vel * p.env_hz * (-t / p.env_decay_s).exp();
            filt.tune(cutoff, p.q, sr);
        }
        let env = adsr(t, p.attack_s, p.decay_s, p.sustain, p.release_s, gate_s);
        vel * env * filt.process((p.drive * x).tanh() / p.drive.tanh())
    });
}

/// One note of a detuned saw stack (chords, pads): `voices` saws spread over ±`detune_cents`
/// with random start phases, a slow attack and a cubic release. Returns nothing; the stem
/// is low-passed as a whole afterwards (see [`lowpass_sweep`]).
#[allow(clippy::too_many_arguments)]
pub fn supersaw_note(
    out: &mut [f64],
    start: usize,
    sr: f64,
    note: f64,
    gate_s: f64,
    vel: f64,
    (voices, detune_cents): (usize, f64),
    (attack_s, release_s): (f64, f64),
    rng: &mut Rng,
) {
    let f0 = midi_to_hz(note);
    let mut oscs: Vec<(Osc, f64)> = (0..voices)
        .map(|v| {
            let spread = if voices > 1 {
                2.0 * v as f64 / (voices - 1) as f64 - 1.0
            } else {
                0.0
            };
            let drift = rng.range(-0.15, 0.15);
            (
                Osc::at(rng.uniform()),
                f0 * ((spread + drift) * detune_cents / 1200.0).exp2() / sr,
            )
        })
        .collect();
    let norm = 1.0 / (voices as f64).sqrt();
    add_for(out, start, gate_s + release_s, sr, |_, t| {
        let s: f64 = oscs.iter_mut().map(|(o, dt)| o.saw(*dt)).sum();
        vel * norm * s * adsr(t, attack_s, 1.0, 1.0, release_s, gate_s)
    });
}

/// One note of a two-operator FM electric piano (tine-like attack, mellow sustain).
pub fn fm_keys_note(out: &mut [f64], start: usize, sr: f64, note: f64, gate_s: f64, vel: f64) {
    let f = midi_to_hz(note);
    let (mut car, mut modu, mut tine) = (Osc::default(), Osc::default(), Osc::default());
    add_for(out, start, gate_s + 0.2, sr, |_, t| {
        let index = (0.3 + 1.4 * vel) * (-t / 0.3).exp() + 0.2;
        let m = modu.sine(f / sr) * index;
        let c = (2.0 * PI * car.phase + m).sin();
        car.phase = (car.phase + f / sr).fract();
        let bell = 0.08 * vel * tine.sine(14.0 * f / sr) * decay(t, 0.015, 0.08);
        vel * (c + bell) * adsr(t, 0.003, 1.1, 0.25, 0.2, gate_s)
    });
}

/// Low-passes a whole stem channel with a cutoff swept by a slow sine LFO:
/// cutoff = `base_hz` · 2^(`depth_oct` · sin(2π `rate_hz` t + `phase`)).
pub fn lowpass_sweep(
    x: &mut [f64],
    sr: f64,
    base_hz: f64,
    depth_oct: f64,
    rate_hz: f64,
    phase: f64,
    q: f64,
) {
    let mut f = LowPass4::new(base_hz, q, sr);
    for (i, v) in x.iter_mut().enumerate() {
        if i % RETUNE_FRAMES == 0 {
            let t = i as f64 / sr;
            f.tune(
                base_hz * (depth_oct * (2.0 * PI * rate_hz * t + phase).sin()).exp2(),
                q,
                sr,
            );
        }
        *v = f.process(*v);
    }
}
