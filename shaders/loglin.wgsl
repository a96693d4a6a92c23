// Level <-> log2 conversions of the dynamics kernels from +, *, comparisons and exact bit
// manipulation: the arithmetic of src/ops/loglin/mod.rs in the same order, with its
// coefficients written as exact hexadecimal f32 literals. Stand-alone; included after
// recursion.wgsl.
const LOG2_C0: f32 = 0x1.715476p0f;
const LOG2_C1: f32 = -0x1.715474p-1f;
const LOG2_C2: f32 = 0x1.ec73dep-2f;
const LOG2_C3: f32 = -0x1.715994p-2f;
const LOG2_C4: f32 = 0x1.26d01cp-2f;
const LOG2_C5: f32 = -0x1.e9d1e6p-3f;
const LOG2_C6: f32 = 0x1.ba8738p-3f;
const LOG2_C7: f32 = -0x1.a59aeap-3f;
const LOG2_C8: f32 = 0x1.f841dcp-4f;
const EXP2_C0: f32 = 0x1.000000p0f;
const EXP2_C1: f32 = 0x1.62e430p-1f;
const EXP2_C2: f32 = 0x1.ebfbe0p-3f;
const EXP2_C3: f32 = 0x1.c6aeccp-5f;
const EXP2_C4: f32 = 0x1.3b2a1cp-7f;
const EXP2_C5: f32 = 0x1.5f48c0p-10f;
const EXP2_C6: f32 = 0x1.444000p-13f;
const SQRT_2_F32: f32 = 0x1.6a09e6p0f;
// f32::MIN_POSITIVE: the level floor and the denormal bound
const LEVEL_FLOOR: f32 = 0x1.000000p-126f;
const EXP2_MIN_L2: f32 = -125.0f;
const EXP2_MAX_L2: f32 = 127.0f;

fn log2_approx(x_in: f32) -> f32 {
    let x = select(LEVEL_FLOOR, x_in, x_in >= LEVEL_FLOOR);
    let bits = bitcast<u32>(x);
    var e = i32((bits >> 23u) & 0xffu) - 127;
    var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
    if m > SQRT_2_F32 {
        m *= 0.5;
        e += 1;
    }
    let t = m - 1.0;
    var p = LOG2_C8;
    p = p * t + LOG2_C7;
    p = p * t + LOG2_C6;
    p = p * t + LOG2_C5;
    p = p * t + LOG2_C4;
    p = p * t + LOG2_C3;
    p = p * t + LOG2_C2;
    p = p * t + LOG2_C1;
    p = p * t + LOG2_C0;
    return f32(e) + t * p;
}

fn floor_i32(x: f32) -> i32 {
    let t = i32(x);
    return select(t, t - 1, f32(t) > x);
}

fn exp2_approx(y_in: f32) -> f32 {
    let y = clamp(y_in, EXP2_MIN_L2, EXP2_MAX_L2);
    let n = floor_i32(y + 0.5);
    let f = y - f32(n);
    var p = EXP2_C6;
    p = p * f + EXP2_C5;
    p = p * f + EXP2_C4;
    p = p * f + EXP2_C3;
    p = p * f + EXP2_C2;
    p = p * f + EXP2_C1;
    p = p * f + EXP2_C0;
    return p * bitcast<f32>(u32(n + 127) << 23u);
}

fn flush_denormal(x: f32) -> f32 {
    return select(x, 0.0, abs(x) < LEVEL_FLOOR);
}
