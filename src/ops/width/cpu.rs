//! CPU twin of `shaders/width.wgsl`.

use super::Width;
use crate::ops::eq::cpu::run_sections;

/// Runs the width processor in place on a stereo pair (other channel counts are left
/// alone). Per frame, in f32: `m = (l + r)·0.5`, `s = (l − r)·side_gain`; with bass mono,
/// m and s then pass their filters over the whole channel; `l = m + s`, `r = m − s`.
pub fn process(w: &Width, channels: &mut [Vec<f32>]) {
    if w.unchanged || channels.len() != 2 {
        return;
    }
    let (left, right) = channels.split_at_mut(1);
    let (left, right) = (&mut left[0], &mut right[0]);
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        let m = (*l + *r) * 0.5;
        let s = (*l - *r) * w.side_gain;
        *l = m;
        *r = s;
    }
    if let Some(bm) = &w.bass_mono {
        rayon::join(
            || run_sections(left, std::slice::from_ref(&bm.mid_all_pass)),
            || run_sections(right, &bm.side_high_pass),
        );
    }
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        let (m, s) = (*l, *r);
        *l = m + s;
        *r = m - s;
    }
}
