//! Naive f64 compressor (the definitions in `ops::compressor` docs, in dB), shared by the
//! compressor and multiband tests.

use super::db;
use mixfarm::ops::compressor::{self, Detector};

/// Sample rate the oracle's time constants assume.
pub const FS: u32 = 48_000;

/// Naive f64 compressor (the definitions in `ops::compressor` docs, in dB).
pub struct Oracle {
    pub t_db: f64,
    pub ratio: f64,
    pub knee_db: f64,
    pub attack_ms: f64,
    pub release_ms: f64,
    pub makeup_db: f64,
    pub rms: bool,
    pub rms_ms: f64,
}

impl Oracle {
    /// static gain change in dB at input level `x_db`
    pub fn static_gain_db(&self, x_db: f64) -> f64 {
        let (t, w, r) = (self.t_db, self.knee_db, self.ratio);
        let y = if 2.0 * (x_db - t) < -w {
            x_db
        } else if 2.0 * (x_db - t).abs() <= w {
            x_db + (1.0 / r - 1.0) * (x_db - t + w / 2.0).powi(2) / (2.0 * w)
        } else {
            t + (x_db - t) / r
        };
        y - x_db
    }

    /// runs the compressor on `x` (keyed by `key` if given) at sample rate `FS`
    pub fn run(&self, x: &[Vec<f64>], key: Option<&[Vec<f64>]>) -> Vec<Vec<f64>> {
        // α = 1 − β, β = 1 − exp(−1/(τ·fs)) rounded to f32: the step the kernel gets (an
        // f32 β keeps its relative precision, so the time constant is exact to ~1e-7; an
        // f32 α would shift a 120 ms one by up to 2e-4 relative, ≈ 3e-5 FS on loud material)
        let coef = |ms: f64| {
            if ms <= 0.0 {
                0.0
            } else {
                1.0 - (-(-1.0 / (ms * 1e-3 * FS as f64)).exp_m1()) as f32 as f64
            }
        };
        let (aa, ar, am) = (
            coef(self.attack_ms),
            coef(self.release_ms),
            coef(self.rms_ms),
        );
        let k = key.unwrap_or(x);
        let mut out = x.to_vec();
        let (mut g, mut ms) = (0.0f64, 0.0f64);
        for n in 0..x[0].len() {
            let level_db = if self.rms {
                let p = k.iter().map(|c| c[n] * c[n]).sum::<f64>() / k.len() as f64;
                ms = p + am * (ms - p);
                10.0 * ms.max(1e-300).log10()
            } else {
                db(k.iter().map(|c| c[n].abs()).fold(0.0, f64::max).max(1e-300))
            };
            let gc = self.static_gain_db(level_db);
            let a = if gc < g { aa } else { ar };
            g = gc + a * (g - gc);
            let lin = 10f64.powf((g + self.makeup_db) / 20.0);
            for c in out.iter_mut() {
                c[n] *= lin;
            }
        }
        out
    }

    /// the same settings as kernel parameters
    pub fn params(&self) -> compressor::CompressorParams {
        let det = if self.rms {
            Detector::Rms
        } else {
            Detector::Peak
        };
        compressor::params(
            self.t_db,
            self.ratio,
            self.knee_db,
            self.attack_ms,
            self.release_ms,
            self.makeup_db,
            det,
            self.rms_ms,
            FS,
        )
    }
}

/// an oracle with peak detector, no makeup
pub fn oracle(t_db: f64, ratio: f64, knee_db: f64, attack_ms: f64, release_ms: f64) -> Oracle {
    Oracle {
        t_db,
        ratio,
        knee_db,
        attack_ms,
        release_ms,
        makeup_db: 0.0,
        rms: false,
        rms_ms: 0.0,
    }
}
