// The compressor's per-frame gain, shared by compressor.wgsl and multiband.wgsl: the
// arithmetic of `gains_block` in src/ops/compressor/cpu.rs (and its detector) in the same
// order. Included after recursion.wgsl and loglin.wgsl.
struct Comp {
    threshold: f32,
    half_knee: f32,
    slope: f32,
    knee_coef: f32,
    attack: f32,
    release: f32,
    rms_step: f32,
    makeup: f32,
    peak: bool,
}

// The CompressorParams (src/ops/compressor/mod.rs) at parameter word `c`.
fn load_comp(c: u32) -> Comp {
    return Comp(coef_f32(c), coef_f32(c + 1u), coef_f32(c + 2u), coef_f32(c + 3u),
                coef_f32(c + 4u), coef_f32(c + 5u), coef_f32(c + 6u), coef_f32(c + 7u),
                coefs[c + 8u] == 0u);
}

// One frame: the detector on the linked pair k0, k1 (peak max(|k0|, |k1|) to log2, or mean
// square (k0² + k1²)·½ through the one-pole `ms`, then ½·log2), the soft-knee gain
// computer, the attack/release one-pole on the smoothed gain `s` (log2 units); returns the
// linear gain 2^(s + make-up). The one-poles run as state + step·(target − state), the
// steps 1 − α from the host (attack, release, rms_step).
fn comp_gain(p: Comp, k0: f32, k1: f32, s: ptr<function, f32>, ms: ptr<function, f32>) -> f32 {
    var level: f32;
    if p.peak {
        level = log2_approx(max(max(0.0, abs(k0)), abs(k1)));
    } else {
        let x = (k0 * k0 + k1 * k1) * 0.5;
        *ms = flush_denormal(*ms + p.rms_step * (x - *ms));
        level = 0.5 * log2_approx(*ms);
    }
    let over = level - p.threshold;
    var gc: f32;
    if over <= -p.half_knee {
        gc = 0.0;
    } else if over >= p.half_knee {
        gc = p.slope * over;
    } else {
        let d = over + p.half_knee;
        gc = p.knee_coef * (d * d);
    }
    let a = select(p.release, p.attack, gc < *s);
    *s = flush_denormal(*s + a * (gc - *s));
    return exp2_approx(*s + p.makeup);
}
