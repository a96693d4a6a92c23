// One step of a state-variable filter section (the minimum-phase EQ's and the width
// processor's bass-mono filters), the arithmetic of `run_sections_state` in
// src/ops/eq/cpu.rs in the same order: coefficients c1 a2 a3 m0 m1 m2 at `coefs[c ..]`, the
// state [ic1, ic2] at `state[s ..]`, each new state flushed to 0 below 1e-30. Simper's
// recursion in increments (c1 = 1 − a1): every product is small beside the states, so a
// driver's fused multiply-add moves the states by a fraction of an ulp (issue 11). Included
// after recursion.wgsl.
const SECTION_FLUSH_BELOW: f32 = 0x1.4484c0p-100f;

fn section_tick(v0: f32, c: u32, s: u32) -> f32 {
    let c1 = coef_f32(c);
    let a2 = coef_f32(c + 1u);
    let a3 = coef_f32(c + 2u);
    let m0 = coef_f32(c + 3u);
    let m1 = coef_f32(c + 4u);
    let m2 = coef_f32(c + 5u);
    let ic1 = state_f32(s);
    let ic2 = state_f32(s + 1u);
    let v3 = v0 - ic2;
    let d1 = a2 * v3 - c1 * ic1;
    let d2 = a2 * ic1 + a3 * v3;
    let v1 = ic1 + d1;
    let v2 = ic2 + d2;
    let n1 = ic1 + 2.0 * d1;
    let n2 = ic2 + 2.0 * d2;
    set_state_f32(s, select(n1, 0.0, abs(n1) < SECTION_FLUSH_BELOW));
    set_state_f32(s + 1u, select(n2, 0.0, abs(n2) < SECTION_FLUSH_BELOW));
    return m0 * v0 + m1 * v1 + m2 * v2;
}
