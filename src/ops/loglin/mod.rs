//! Level ↔ log-domain conversions shared by the dynamics processors (compressor, limiter,
//! multiband), built from `+`, `*`, comparisons and exact bit manipulation only, so that
//! the GPU kernels reproduce them (GUIDE §4: WGSL `log2`/`exp2` are loosely specified).
//! Their WGSL twins are `shaders/loglin.wgsl` (coefficients as exact hexadecimal floats).
//!
//! Dynamics run in **log2 units** ("L2"): `L = log2(amplitude)`, 1 L2 = 20·log10(2) ≈
//! 6.0206 dB. Every gain-computer formula is linear in the level, so working in L2 instead
//! of dB only rescales thresholds and knees (done on the host in f64, see [`db_to_l2`]).
//!
//! - [`log2_approx`]: `x = m·2^e` split exactly from the f32 bits, `m` folded into
//!   `[√½, √2)`, then `log2(m) = t·P(t)` with `t = m − 1` (exact) and `P` a degree-8
//!   polynomial (Chebyshev-node fit in f64, coefficients rounded to f32) evaluated by Horner.
//!   Measured max |error| over all normal f32 inputs' mantissas: 6.0e-8 L2 (3.6e-7 dB).
//! - [`exp2_approx`]: `y = n + f`, `n = floor(y + ½)`, `f ∈ [−½, ½]` (the subtraction is
//!   exact), `2^f` by a degree-6 polynomial, times `2^n` built from bits. Max relative
//!   error 1.1e-7 (9e-7 dB). `exp2_approx(0.0) == 1.0` exactly, so a processor at rest is
//!   bit-transparent.
//!
//! The GPU may fuse the Horner steps into FMAs; that changes results by about one f32
//! rounding of the level (≈ 1e-7 relative), far below the 2^-20 parity bound.

use crate::core::arith::madd;

/// Decibels per log2 unit: `20·log10(2)`.
pub const DB_PER_L2: f64 = 6.020_599_913_279_624;

/// Smallest level [`log2_approx`] accepts; smaller inputs (zero, denormals) are clamped to
/// it, which reads as −126 L2 (≈ −758.6 dB): far below any threshold.
pub const LEVEL_FLOOR: f32 = f32::MIN_POSITIVE;

/// Lowest exponent [`exp2_approx`] produces (inputs are clamped to it): keeps the result
/// a normal f32.
pub const EXP2_MIN_L2: f32 = -125.0;

/// Highest exponent [`exp2_approx`] produces (inputs are clamped to it).
pub const EXP2_MAX_L2: f32 = 127.0;

/// `P(t)` coefficients for `log2(1 + t) = t·P(t)`, `t ∈ [√½ − 1, √2 − 1]`, lowest first.
/// (Fitted values: the first is close to, but deliberately not, `LOG2_E`.)
#[allow(clippy::approx_constant)]
pub const LOG2_COEFFS: [f32; 9] = [
    1.442695,
    -0.721_347_45,
    0.480_910_75,
    -0.360_693_28,
    0.287_903_25,
    -0.239_169_88,
    0.216_078_22,
    -0.205_861_88,
    0.123_109_68,
];

/// `2^f` coefficients, `f ∈ [−½, ½]`, lowest first (fitted values, the second is close to
/// `LN_2`).
#[allow(clippy::approx_constant)]
pub const EXP2_COEFFS: [f32; 7] = [
    1.0,
    0.693_147_2,
    0.240_226_5,
    0.055_503_27,
    0.009_618_057,
    0.001_340_042_8,
    0.000_154_614_45,
];

const SQRT_2_F32: f32 = std::f32::consts::SQRT_2;

/// dB → L2 (host side, f64).
pub fn db_to_l2(db: f64) -> f64 {
    db / DB_PER_L2
}

/// L2 → dB (host side, f64).
pub fn l2_to_db(l2: f64) -> f64 {
    l2 * DB_PER_L2
}

/// `log2(x)` for `x ≥ 0` from `+`/`*`/bits; `x` below [`LEVEL_FLOOR`] (and NaN) reads as
/// the floor.
#[inline]
pub fn log2_approx(x: f32) -> f32 {
    let x = if x >= LEVEL_FLOOR { x } else { LEVEL_FLOOR };
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > SQRT_2_F32 {
        m *= 0.5;
        e += 1;
    }
    let t = m - 1.0;
    let c = &LOG2_COEFFS;
    let mut p = c[8];
    p = madd(p, t, c[7]);
    p = madd(p, t, c[6]);
    p = madd(p, t, c[5]);
    p = madd(p, t, c[4]);
    p = madd(p, t, c[3]);
    p = madd(p, t, c[2]);
    p = madd(p, t, c[1]);
    p = madd(p, t, c[0]);
    madd(t, p, e as f32)
}

/// `2^y` from `+`/`*`/bits; `y` is clamped to `[EXP2_MIN_L2, EXP2_MAX_L2]`.
#[inline]
pub fn exp2_approx(y: f32) -> f32 {
    let y = y.clamp(EXP2_MIN_L2, EXP2_MAX_L2);
    let n = floor_i32(y + 0.5);
    let f = y - n as f32;
    let c = &EXP2_COEFFS;
    let mut p = c[6];
    p = madd(p, f, c[5]);
    p = madd(p, f, c[4]);
    p = madd(p, f, c[3]);
    p = madd(p, f, c[2]);
    p = madd(p, f, c[1]);
    p = madd(p, f, c[0]);
    p * f32::from_bits(((n + 127) as u32) << 23)
}

/// `floor(x)` as an integer for |x| < 2^31 (exact; what WGSL `i32(floor(x))` gives).
/// Written with a truncating conversion because `f32::floor` is a library call on the
/// baseline x86-64 target (no SSE4.1).
#[inline]
pub fn floor_i32(x: f32) -> i32 {
    let t = x as i32;
    if (t as f32) > x {
        t - 1
    } else {
        t
    }
}

/// Sets `x` to zero when it is a denormal (|x| < `f32::MIN_POSITIVE`): recursive state is
/// flushed explicitly so CPU (no FTZ) and GPU (often FTZ) agree.
#[inline]
pub fn flush_denormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// The step of a one-pole smoother, `β = 1 − α` (host, f64, as `−expm1(−1/(τ·fs))`, so it
/// keeps full relative precision for long time constants): the kernels run the smoothers as
/// `y = y + β·(x − y)` (not `x + α·(y − x)`), whose product is small beside the state, so a
/// fused multiply-add moves `y` by a fraction of an ulp of the product, not an ulp of `y`
/// (issue 11, `tests/fma_growth.rs`). `time_ms ≤ 0` gives 1 (instant).
pub fn one_pole_step(time_ms: f64, sample_rate: u32) -> f64 {
    if time_ms <= 0.0 {
        return 1.0;
    }
    -(-1.0 / (time_ms * 1e-3 * sample_rate as f64)).exp_m1()
}

/// One-pole smoothing coefficient for time constant `time_ms` (host, f64):
/// `α = exp(−1 / (τ·fs))`, so a step is followed to `1 − 1/e` (63.2 %) after `τ`
/// (exactly: after `τ·fs` frames the remaining fraction is `α^(τ·fs) = 1/e`).
/// `time_ms ≤ 0` gives 0 (instant).
pub fn one_pole_coef(time_ms: f64, sample_rate: u32) -> f64 {
    if time_ms <= 0.0 {
        return 0.0;
    }
    (-1.0 / (time_ms * 1e-3 * sample_rate as f64)).exp()
}
