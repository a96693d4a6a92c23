//! [`super::encode::quantize_run`] with AVX2 intrinsics, four samples a step, the same
//! integers as its scalar loop: the dither's SplitMix64 draws as 64-bit lanes (their
//! counters stepped by additions, the mixing multiplies from 32-bit ones; AVX2 has no 64-bit
//! multiply), the two 53-bit uniforms turned into exact doubles in two 32-bit halves (no
//! 64-bit integer conversion either), their difference exact as in `tpdf_of`; then
//! `quantize_with` in f64 lanes: scale and add, clamp (NaN kept), truncate, step by the
//! fraction, clamp, NaN to 0.

use std::arch::x86_64::*;

/// SplitMix64's counter step.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// `x · c` modulo 2^64 in each lane, from 32-bit multiplies.
#[inline(always)]
fn mul64(x: __m256i, c: u64) -> __m256i {
    // SAFETY (every intrinsic below): register operations only, AVX2 enabled by the caller
    unsafe {
        let lo_c = _mm256_set1_epi64x(c as i64);
        let hi_c = _mm256_set1_epi64x((c >> 32) as i64);
        let lo_lo = _mm256_mul_epu32(x, lo_c);
        let hi_lo = _mm256_mul_epu32(_mm256_srli_epi64::<32>(x), lo_c);
        let lo_hi = _mm256_mul_epu32(x, hi_c);
        _mm256_add_epi64(
            lo_lo,
            _mm256_slli_epi64::<32>(_mm256_add_epi64(hi_lo, lo_hi)),
        )
    }
}

/// SplitMix64's mixing function in each lane.
#[inline(always)]
fn mix(z: __m256i) -> __m256i {
    // SAFETY: register operations only
    unsafe {
        let z = mul64(
            _mm256_xor_si256(z, _mm256_srli_epi64::<30>(z)),
            0xBF58_476D_1CE4_E5B9,
        );
        let z = mul64(
            _mm256_xor_si256(z, _mm256_srli_epi64::<27>(z)),
            0x94D0_49BB_1331_11EB,
        );
        _mm256_xor_si256(z, _mm256_srli_epi64::<31>(z))
    }
}

/// Each lane's `u < 2^53` as an exact double: its high and low 32 bits each through the
/// exponent trick (`2^52 + v` read from the bits, less `2^52`).
#[inline(always)]
fn exact_f64(u: __m256i) -> __m256d {
    // SAFETY: register operations only
    unsafe {
        let magic = _mm256_set1_epi64x(0x4330_0000_0000_0000);
        let two52 = _mm256_set1_pd(4_503_599_627_370_496.0);
        let low_mask = _mm256_set1_epi64x(0xFFFF_FFFF);
        let hi = _mm256_sub_pd(
            _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64::<32>(u), magic)),
            two52,
        );
        let lo = _mm256_sub_pd(
            _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(u, low_mask), magic)),
            two52,
        );
        _mm256_add_pd(_mm256_mul_pd(hi, _mm256_set1_pd(4_294_967_296.0)), lo)
    }
}

/// The scalar loop's integers for `x` (samples `s0, s0 + 1, …` of the dither stream of
/// `seed`) into `out` (as long as `x`). Safety: the CPU has AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn quantize_run(x: &[f32], s0: u64, seed: u64, bits: u32, out: &mut [i32]) {
    let n = x.len().min(out.len()) / 4 * 4;
    let scale = (1i32 << (bits - 1)) as f64;
    let (lo, hi) = (-scale - 1.0, scale);
    let (r_lo, r_hi) = (-scale, scale - 1.0);
    // the first draw of sample s is number 2s + 1: counter seed + (2s + 1)·GAMMA; lane j
    // takes sample s0 + j, the next step four samples (eight draws) on
    let first = |s: u64| seed.wrapping_add((2 * s + 1).wrapping_mul(GAMMA));
    let mut za = _mm256_set_epi64x(
        first(s0 + 3) as i64,
        first(s0 + 2) as i64,
        first(s0 + 1) as i64,
        first(s0) as i64,
    );
    let step = _mm256_set1_epi64x(GAMMA.wrapping_mul(8) as i64);
    let gamma = _mm256_set1_epi64x(GAMMA as i64);
    let unit = _mm256_set1_pd(1.0 / (1u64 << 53) as f64);
    let one = _mm256_set1_pd(1.0);
    let mut i = 0;
    while i < n {
        let a = _mm256_srli_epi64::<11>(mix(za));
        let b = _mm256_srli_epi64::<11>(mix(_mm256_add_epi64(za, gamma)));
        let noise = _mm256_mul_pd(_mm256_sub_pd(exact_f64(a), exact_f64(b)), unit);
        // SAFETY: i + 4 <= n <= x.len()
        let xv = _mm256_cvtps_pd(unsafe { _mm_loadu_ps(x.as_ptr().add(i)) });
        let v = _mm256_add_pd(_mm256_mul_pd(xv, _mm256_set1_pd(scale)), noise);
        // clamp with NaN kept (max/min return their second operand on NaN)
        let c = _mm256_min_pd(_mm256_set1_pd(hi), _mm256_max_pd(_mm256_set1_pd(lo), v));
        let t = _mm256_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(c);
        let f = _mm256_sub_pd(c, t);
        let up = _mm256_and_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(f, _mm256_set1_pd(0.5)), one);
        let down = _mm256_and_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(f, _mm256_set1_pd(-0.5)), one);
        let r = _mm256_sub_pd(_mm256_add_pd(t, up), down);
        let r = _mm256_min_pd(_mm256_set1_pd(r_hi), _mm256_max_pd(_mm256_set1_pd(r_lo), r));
        // NaN (from a NaN sample) is 0, as `as i32` makes it
        let r = _mm256_andnot_pd(_mm256_cmp_pd::<_CMP_UNORD_Q>(r, r), r);
        // SAFETY: i + 4 <= n <= out.len()
        unsafe { _mm_storeu_si128(out.as_mut_ptr().add(i).cast(), _mm256_cvttpd_epi32(r)) };
        za = _mm256_add_epi64(za, step);
        i += 4;
    }
    super::encode::quantize_run_scalar(&x[n..], s0 + n as u64, seed, bits, &mut out[n..]);
}
