//! The FFT twin's layout moves: eight rows of eight f32 taken from (or put back into) eight
//! transforms' frames or spectra, transposed, so that the butterflies see `[point][lane]`
//! ([`super::fft`]). Row `l` lives at `data[l·stride + off ..][..8]` for the first `count`
//! transforms; the other rows read as zeros and are not written. Plain loops, and with AVX
//! the classic 8×8 transpose in registers (unpack, shuffle, lane permute): data moves only,
//! so both give the same bits.

/// Rows (and lanes) per block.
pub const N: usize = 8;

/// One block: `rows[j][l]`.
pub type Block = [[f32; N]; N];

/// Reads rows `l < count` at `src[l·stride + off ..][..8]` (the rest zeros) and returns the
/// block transposed: `out[j][l] = src[l·stride + off + j]`.
#[inline(always)]
pub fn load(src: &[f32], stride: usize, off: usize, count: usize, avx: bool) -> Block {
    assert!(count <= N && (count == 0 || (count - 1) * stride + off + N <= src.len()));
    #[cfg(target_arch = "x86_64")]
    if avx {
        // SAFETY: the caller runs with AVX enabled (`avx` is true only then); every row
        // read is in `src` (asserted above)
        return unsafe { load_avx(src, stride, off, count) };
    }
    let _ = avx;
    let mut out = [[0.0f32; N]; N];
    for l in 0..count {
        for (j, o) in out.iter_mut().enumerate() {
            o[l] = src[l * stride + off + j];
        }
    }
    out
}

/// Writes `rows` transposed: `dst[l·stride + off + j] = rows[j][l]` for `l < count`.
#[inline(always)]
pub fn store(rows: &Block, dst: &mut [f32], stride: usize, off: usize, count: usize, avx: bool) {
    assert!(count <= N && (count == 0 || (count - 1) * stride + off + N <= dst.len()));
    #[cfg(target_arch = "x86_64")]
    if avx {
        // SAFETY: as in `load`; every row written is in `dst` (asserted above)
        return unsafe { store_avx(rows, dst, stride, off, count) };
    }
    let _ = avx;
    for l in 0..count {
        for (j, r) in rows.iter().enumerate() {
            dst[l * stride + off + j] = r[l];
        }
    }
}

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The 8×8 transpose of eight AVX registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn transpose(r: [__m256; N]) -> [__m256; N] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

/// [`load`] with AVX. Safety: AVX present; rows `l < count` in `src`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn load_avx(src: &[f32], stride: usize, off: usize, count: usize) -> Block {
    let mut r = [_mm256_setzero_ps(); N];
    for (l, r) in r.iter_mut().enumerate().take(count) {
        // SAFETY: row l is in `src` (the caller's contract)
        *r = unsafe { _mm256_loadu_ps(src.as_ptr().add(l * stride + off)) };
    }
    let t = transpose(r);
    let mut out = [[0.0f32; N]; N];
    for (o, t) in out.iter_mut().zip(t) {
        // SAFETY: `o` is 8 f32
        unsafe { _mm256_storeu_ps(o.as_mut_ptr(), t) };
    }
    out
}

/// [`store`] with AVX. Safety: AVX present; rows `l < count` in `dst`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn store_avx(rows: &Block, dst: &mut [f32], stride: usize, off: usize, count: usize) {
    let mut r = [_mm256_setzero_ps(); N];
    for (r, row) in r.iter_mut().zip(rows) {
        // SAFETY: `row` is 8 f32
        *r = unsafe { _mm256_loadu_ps(row.as_ptr()) };
    }
    let t = transpose(r);
    for (l, t) in t.into_iter().enumerate().take(count) {
        // SAFETY: row l is in `dst` (the caller's contract)
        unsafe { _mm256_storeu_ps(dst.as_mut_ptr().add(l * stride + off), t) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ways, every count, with and without AVX: the plain loops' values, and the
    /// AVX transpose the same bits (when the CPU has AVX).
    #[test]
    fn transposes_move_the_values_they_name() {
        let stride = 37;
        let src: Vec<f32> = (0..stride * N + 5).map(|i| i as f32 * 0.5 - 3.0).collect();
        let avx = cfg!(target_arch = "x86_64") && std::is_x86_feature_detected!("avx");
        for count in 0..=N {
            for use_avx in [false, avx] {
                let b = load(&src, stride, 3, count, use_avx);
                for (j, row) in b.iter().enumerate() {
                    for (l, &v) in row.iter().enumerate() {
                        let want = if l < count {
                            src[l * stride + 3 + j]
                        } else {
                            0.0
                        };
                        assert_eq!(v.to_bits(), want.to_bits(), "load count {count} ({j}, {l})");
                    }
                }
                let mut dst = vec![-1.0f32; src.len()];
                store(&b, &mut dst, stride, 3, count, use_avx);
                for (i, (&d, &s)) in dst.iter().zip(&src).enumerate() {
                    let (l, j) = (i / stride, i % stride);
                    let written = l < count && (3..3 + N).contains(&j);
                    let want = if written { s } else { -1.0 };
                    assert_eq!(d.to_bits(), want.to_bits(), "store count {count} at {i}");
                }
            }
        }
    }
}
