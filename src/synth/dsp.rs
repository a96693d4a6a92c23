//! Small DSP building blocks for the synthesiser: a seeded PRNG, band-limited oscillators
//! (PolyBLEP), a state-variable filter, envelopes with finite support and a few helpers.
//! All in plain f64; CPU only (the synthesiser has no shader twin: it only makes test audio).

use std::f64::consts::PI;

/// A small deterministic PRNG (xorshift64*, seeded through splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from any seed (0 included).
    pub fn new(seed: u64) -> Self {
        let z = crate::core::SplitMix64::new(seed).next_u64();
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    /// Next raw 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [-1, 1): white noise.
    pub fn bipolar(&mut self) -> f64 {
        2.0 * self.uniform() - 1.0
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }

    /// An independent generator derived from this one and a label (for per-stem streams).
    pub fn fork(&self, label: u64) -> Rng {
        Rng::new(self.0 ^ label.wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }
}

/// Frequency of a MIDI note number (A4 = 69 = 440 Hz), fractional notes allowed.
pub fn midi_to_hz(note: f64) -> f64 {
    440.0 * ((note - 69.0) / 12.0).exp2()
}

/// Decibels to a linear amplitude factor.
pub fn db_to_gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// PolyBLEP correction for a unit step at phase 0 (t: phase in [0,1), dt: phase increment).
fn poly_blep(t: f64, dt: f64) -> f64 {
    if t < dt {
        let x = t / dt;
        2.0 * x - x * x - 1.0
    } else if t > 1.0 - dt {
        let x = (t - 1.0) / dt;
        x * x + 2.0 * x + 1.0
    } else {
        0.0
    }
}

/// A phase accumulator with band-limited waveforms. `dt` is frequency / sample rate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Osc {
    /// phase in [0, 1)
    pub phase: f64,
}

impl Osc {
    /// An oscillator starting at `phase` (cycles).
    pub fn at(phase: f64) -> Self {
        Osc {
            phase: phase.rem_euclid(1.0),
        }
    }

    fn advance(&mut self, dt: f64) {
        self.phase += dt;
        if self.phase >= 1.0 {
            self.phase -= self.phase.floor();
        }
    }

    /// Band-limited sawtooth in [-1, 1].
    pub fn saw(&mut self, dt: f64) -> f64 {
        let t = self.phase;
        let y = 2.0 * t - 1.0 - poly_blep(t, dt);
        self.advance(dt);
        y
    }

    /// Band-limited square in [-1, 1].
    pub fn square(&mut self, dt: f64) -> f64 {
        let t = self.phase;
        let naive = if t < 0.5 { 1.0 } else { -1.0 };
        let y = naive + poly_blep(t, dt) - poly_blep((t + 0.5).rem_euclid(1.0), dt);
        self.advance(dt);
        y
    }

    /// Sine.
    pub fn sine(&mut self, dt: f64) -> f64 {
        let y = (2.0 * PI * self.phase).sin();
        self.advance(dt);
        y
    }
}

/// Topology-preserving state-variable filter (Zavalishin): low-, band- and high-pass outputs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Svf {
    ic1: f64,
    ic2: f64,
    a1: f64,
    a2: f64,
    a3: f64,
    k: f64,
}

/// The three outputs of [`Svf::process`].
#[derive(Debug, Clone, Copy)]
pub struct SvfOut {
    /// low-pass
    pub lp: f64,
    /// band-pass
    pub bp: f64,
    /// high-pass
    pub hp: f64,
}

impl Svf {
    /// A filter tuned to `cutoff_hz` with resonance `q` (0.5 … 10).
    pub fn new(cutoff_hz: f64, q: f64, sample_rate: f64) -> Self {
        let mut f = Svf::default();
        f.tune(cutoff_hz, q, sample_rate);
        f
    }

    /// Retunes without clearing the state (for swept filters).
    pub fn tune(&mut self, cutoff_hz: f64, q: f64, sample_rate: f64) {
        let fc = cutoff_hz.clamp(10.0, 0.45 * sample_rate);
        let g = (PI * fc / sample_rate).tan();
        self.k = 1.0 / q.max(0.1);
        self.a1 = 1.0 / (1.0 + g * (g + self.k));
        self.a2 = g * self.a1;
        self.a3 = g * self.a2;
    }

    /// Filters one sample.
    pub fn process(&mut self, x: f64) -> SvfOut {
        let v3 = x - self.ic2;
        let v1 = self.a1 * self.ic1 + self.a2 * v3;
        let v2 = self.ic2 + self.a2 * self.ic1 + self.a3 * v3;
        self.ic1 = 2.0 * v1 - self.ic1;
        self.ic2 = 2.0 * v2 - self.ic2;
        SvfOut {
            lp: v2,
            bp: v1,
            hp: x - self.k * v1 - v2,
        }
    }
}

/// Attack-decay-sustain-release level at `t_s` for a note held `gate_s`. Linear attack,
/// exponential decay, and a cubic release that reaches exactly zero after `release_s`.
pub fn adsr(
    t_s: f64,
    attack_s: f64,
    decay_s: f64,
    sustain: f64,
    release_s: f64,
    gate_s: f64,
) -> f64 {
    let held = |t: f64| {
        if t < attack_s {
            t / attack_s
        } else {
            sustain + (1.0 - sustain) * (-(t - attack_s) / decay_s).exp()
        }
    };
    if t_s < gate_s {
        held(t_s)
    } else {
        let u = ((t_s - gate_s) / release_s).min(1.0);
        held(gate_s) * (1.0 - u).powi(3)
    }
}

/// Exponential decay with time constant `tau_s`, tapered to exactly zero at `len_s`.
pub fn decay(t_s: f64, tau_s: f64, len_s: f64) -> f64 {
    if t_s >= len_s {
        return 0.0;
    }
    let u = t_s / len_s;
    (-t_s / tau_s).exp() * (1.0 - u * u * u * u)
}

/// Constant-power (−3 dB centre) gains for `pan` in [-1, 1].
pub fn pan_gains(pan: f64) -> (f64, f64) {
    let a = (pan.clamp(-1.0, 1.0) + 1.0) * PI / 4.0;
    (a.cos(), a.sin())
}

/// Largest absolute sample over all channels.
pub fn peak(channels: &[Vec<f64>]) -> f64 {
    channels.iter().flatten().fold(0.0, |m, x| m.max(x.abs()))
}

/// A 4-pole (24 dB/octave) low-pass: two state-variable filters in cascade, resonance on the
/// second. Steep enough to keep the synth voices' upper harmonics (and the FLAC stems) small.
#[derive(Debug, Clone, Copy, Default)]
pub struct LowPass4 {
    a: Svf,
    b: Svf,
}

impl LowPass4 {
    /// A filter tuned to `cutoff_hz` with resonance `q`.
    pub fn new(cutoff_hz: f64, q: f64, sample_rate: f64) -> Self {
        LowPass4 {
            a: Svf::new(cutoff_hz, 0.54, sample_rate),
            b: Svf::new(cutoff_hz, q, sample_rate),
        }
    }

    /// Retunes without clearing the state.
    pub fn tune(&mut self, cutoff_hz: f64, q: f64, sample_rate: f64) {
        self.a.tune(cutoff_hz, 0.54, sample_rate);
        self.b.tune(cutoff_hz, q, sample_rate);
    }

    /// Filters one sample.
    pub fn process(&mut self, x: f64) -> f64 {
        self.b.process(self.a.process(x).lp).lp
    }
}
