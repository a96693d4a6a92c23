//! The one multiply-add of the CPU twins: `madd(a, b, c) = a·b + c`, rounded twice (the
//! WGSL kernels' arithmetic, which llvmpipe runs as written). GPU drivers may contract
//! `a*b + c` into one fused multiply-add (NVIDIA does); built with the cargo feature
//! `fma-twins`, every twin uses `f32::mul_add` here instead, so `tests/fma_growth.rs` can
//! measure how far one rounding step less moves the output (GUIDE §4).

/// `a·b + c`: two roundings, or one with the feature `fma-twins`.
#[inline(always)]
pub fn madd(a: f32, b: f32, c: f32) -> f32 {
    if cfg!(feature = "fma-twins") {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}
