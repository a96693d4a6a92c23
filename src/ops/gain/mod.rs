//! Constant gain, and the gain/pan laws the scene compiler uses to build gain stages.
//! Mirrors `shaders/gain.wgsl`.

pub mod cpu;
pub mod gpu;

/// dB → linear amplitude (f64, host side).
pub fn db_to_linear(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Linear amplitude → dB; `-inf` for 0.
pub fn linear_to_db(g: f64) -> f64 {
    20.0 * g.log10()
}

/// Constant-power pan law for a mono source, −3 dB at the centre:
/// `θ = (pan + 1)·π/4`, left = cos θ, right = sin θ. `pan` is clamped to −1…1.
pub fn pan_mono(pan: f64) -> [f64; 2] {
    let theta = (pan.clamp(-1.0, 1.0) + 1.0) * std::f64::consts::FRAC_PI_4;
    [theta.cos(), theta.sin()]
}

/// Balance for a stereo source with the same constant-power curve, normalised so the
/// centre is unity: the channel on the far side of the pan is turned down by the pan law,
/// the near one never goes above unity. Hard left keeps the left channel only.
pub fn pan_balance(pan: f64) -> [f64; 2] {
    let [l, r] = pan_mono(pan);
    let k = std::f64::consts::SQRT_2;
    [(l * k).min(1.0), (r * k).min(1.0)]
}
