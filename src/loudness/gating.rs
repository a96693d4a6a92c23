//! BS.1770 / EBU R128 figures from the meter's sub-block energies
//! ([`crate::ops::meter`]): the K-weighted sums of squares of every channel over
//! sub-blocks of about 1 ms, weighted per channel (surrounds 1.41, LFE 0, mono counted
//! twice) and added in f64 in channel order ([`Blocks`]). From them, in f64 and in a fixed
//! order:
//! - **integrated loudness** ([`Gating`]): 400 ms gating blocks every 100 ms (the first
//!   ending at 400 ms; only whole blocks), absolute gate −70 LUFS, relative gate −10 LU,
//!   as libebur128 gates; songs taken together pool their blocks (album loudness);
//! - **loudness range** (EBU Tech 3342): 3 s short-term windows ending at 3 s, 4 s, 5 s …
//!   (libebur128's spacing), absolute gate −70 LUFS, relative gate −20 LU, the 10th to
//!   95th percentile;
//! - **momentary (400 ms) and short-term (3 s) maxima** with a window ending on every
//!   sub-block (a hop of at most 1 ms: a 400 ms burst reads at most 0.011 LU under its
//!   loudness wherever it starts; a 100 ms hop, as libebur128's callers and ffmpeg use,
//!   reads up to ~0.5 LU low). Windows that start before the audio count the silence before
//!   it; frames after the last whole sub-block (under 1 ms) are not metered.

use crate::ops::meter;

/// Momentary window, seconds.
pub const MOMENTARY_S: f64 = 0.4;
/// Short-term window, seconds.
pub const SHORT_TERM_S: f64 = 3.0;
/// The absolute gate, LUFS.
const ABSOLUTE_GATE_LUFS: f64 = -70.0;

/// Energy (mean square) → LUFS.
fn lufs(energy: f64) -> f64 {
    10.0 * energy.log10() - 0.691
}

/// LUFS → energy.
fn energy(lufs: f64) -> f64 {
    10f64.powf((lufs + 0.691) / 10.0)
}

/// A song's channel-weighted sub-block energies.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocks {
    /// frames per sub-block
    sub: usize,
    /// sub-blocks per 100 ms
    per_100ms: usize,
    /// frames measured
    frames: usize,
    /// per sub-block: Σ over channels of weight × sum of squares
    energy: Vec<f64>,
}

impl Blocks {
    /// The weighted energy of every sub-block.
    pub fn energy(&self) -> &[f64] {
        &self.energy
    }

    /// Combines the sub-block energies of each channel (`lanes`, from
    /// [`meter::cpu::run`] or its kernel) with the channels' `weights`, for a song of
    /// `frames` frames at `sample_rate`.
    pub fn from_lanes(
        lanes: &[&[f32]],
        weights: &[f64],
        sample_rate: u32,
        frames: usize,
    ) -> Blocks {
        let sub = meter::sub_block_frames(sample_rate);
        let n = lanes.iter().map(|l| l.len()).min().unwrap_or(0);
        let mut energy = vec![0.0f64; n];
        for (lane, &w) in lanes.iter().zip(weights) {
            if w != 0.0 {
                for (e, &v) in energy.iter_mut().zip(lane.iter()) {
                    *e += w * f64::from(v);
                }
            }
        }
        Blocks {
            sub,
            per_100ms: meter::frames_per_100ms(sample_rate) / sub,
            frames,
            energy,
        }
    }

    /// Meters planar audio on the CPU ([`meter::cpu`]; channels in parallel).
    pub fn measure(channels: &[Vec<f32>], sample_rate: u32, weights: &[f64]) -> Blocks {
        use rayon::prelude::*;
        let frames = channels.first().map_or(0, Vec::len);
        if let ([l, r], [wl, wr]) = (channels, weights) {
            // a stereo pair in one loop
            let [a, b] = meter::cpu::energies_pair(l, r, sample_rate);
            return Blocks::from_lanes(&[&a, &b], &[*wl, *wr], sample_rate, frames);
        }
        let lanes: Vec<Vec<f32>> = channels
            .par_iter()
            .zip(weights)
            .map(|(x, &w)| {
                if w == 0.0 {
                    Vec::new()
                } else {
                    meter::cpu::energies(x, sample_rate)
                }
            })
            .collect();
        let used: Vec<(&[f32], f64)> = lanes
            .iter()
            .zip(weights)
            .filter(|(_, &w)| w != 0.0)
            .map(|(l, &w)| (l.as_slice(), w))
            .collect();
        let (l, w): (Vec<&[f32]>, Vec<f64>) = used.into_iter().unzip();
        Blocks::from_lanes(&l, &w, sample_rate, frames)
    }

    /// Frames per 100 ms block.
    fn block_frames(&self) -> usize {
        self.sub * self.per_100ms
    }

    /// Energy of every whole 100 ms block (sums of squares, sub-blocks added in order).
    fn blocks_100ms(&self) -> Vec<f64> {
        self.energy
            .chunks_exact(self.per_100ms.max(1))
            .map(|c| c.iter().sum())
            .collect()
    }

    /// Mean squares of the windows of `len` 100 ms blocks ending every `hop` blocks, the
    /// first ending at `len`.
    fn windows_100ms(&self, len: usize, hop: usize) -> Vec<f64> {
        let b = self.blocks_100ms();
        let frames = (len * self.block_frames()) as f64;
        (len..=b.len())
            .step_by(hop)
            .map(|end| b[end - len..end].iter().sum::<f64>() / frames)
            .collect()
    }

    /// The gating blocks (400 ms every 100 ms) for integrated loudness.
    pub fn gating(&self) -> Gating {
        Gating {
            blocks: self.windows_100ms(4, 1),
        }
    }

    /// Loudness range, LU (EBU Tech 3342; see the module docs): `None` under 3 s.
    pub fn loudness_range(&self) -> Option<f64> {
        if (self.frames as f64) < 30.0 * self.block_frames() as f64 {
            return None;
        }
        let gate = energy(ABSOLUTE_GATE_LUFS);
        let mut st: Vec<f64> = self
            .windows_100ms(30, 10)
            .into_iter()
            .filter(|&e| e >= gate)
            .collect();
        if st.is_empty() {
            return Some(0.0);
        }
        st.sort_by(f64::total_cmp);
        let mean = st.iter().sum::<f64>() / st.len() as f64;
        let relative = mean * 10f64.powf(-20.0 / 10.0);
        let kept = &st[st.iter().take_while(|&&e| e < relative).count()..];
        let Some(last) = kept.len().checked_sub(1) else {
            return Some(0.0);
        };
        let at = |p: f64| kept[(last as f64 * p + 0.5) as usize];
        Some(lufs(at(0.95)) - lufs(at(0.10))).filter(|v| v.is_finite())
    }

    /// Momentary and short-term loudness: the maxima, and with `hop = Some(frames)` the
    /// largest window ending in each hop of that many frames (so each series' largest value
    /// is its maximum).
    pub fn windows(&self, hop: Option<usize>) -> Windows {
        let m_len = 4 * self.per_100ms;
        let s_len = 30 * self.per_100ms;
        let (m_max, m) = self.max_window_mean(m_len, hop);
        let (s_max, s) = self.max_window_mean(s_len, hop);
        let db = |v: Option<f64>| v.map(lufs).filter(|v| v.is_finite());
        Windows {
            momentary_max_lufs: db(m_max),
            short_term_max_lufs: db(s_max),
            momentary_lufs: m.into_iter().map(|v| db(Some(v))).collect(),
            short_term_lufs: s.into_iter().map(|v| db(Some(v))).collect(),
        }
    }

    /// Largest mean square of the windows of `window` sub-blocks ending on each sub-block
    /// (sub-blocks before the start count as silence), and per hop of `hop` frames the
    /// largest of those ending in it (a hop with none repeats the one before).
    fn max_window_mean(&self, window: usize, hop: Option<usize>) -> (Option<f64>, Vec<f64>) {
        let window = window.max(1);
        let frames = (window * self.sub) as f64;
        let e = &self.energy;
        let (mut sum, mut comp) = (0.0f64, 0.0f64); // Kahan-compensated running sum
        let mut best = None::<f64>;
        let hops = hop.map_or(0, |h| self.frames.div_ceil(h.max(1)));
        let mut per_hop = vec![None::<f64>; hops];
        for (j, &p) in e.iter().enumerate() {
            let old = if j >= window { e[j - window] } else { 0.0 };
            let d = (p - old) - comp;
            let t = sum + d;
            comp = (t - sum) - d;
            sum = t;
            let mean = sum.max(0.0) / frames;
            best = Some(best.map_or(mean, |b| b.max(mean)));
            if let Some(h) = hop {
                let k = ((j + 1) * self.sub - 1) / h.max(1);
                if let Some(slot) = per_hop.get_mut(k) {
                    *slot = Some(slot.map_or(mean, |b| b.max(mean)));
                }
            }
        }
        let mut last = 0.0;
        let series = per_hop
            .into_iter()
            .map(|v| {
                last = v.unwrap_or(last);
                last
            })
            .collect();
        (best, series)
    }
}

/// The 400 ms gating blocks of one song (or several, pooled: album loudness).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gating {
    /// mean squares of the blocks, in time order
    blocks: Vec<f64>,
}

impl Gating {
    /// Integrated loudness, LUFS; `None` when undefined (silence, under 400 ms).
    pub fn integrated(&self) -> Option<f64> {
        Gating::integrated_multiple([self])
    }

    /// Integrated loudness of songs taken together (all their gating blocks), LUFS.
    pub fn integrated_multiple<'a>(songs: impl IntoIterator<Item = &'a Gating>) -> Option<f64> {
        let gate = energy(ABSOLUTE_GATE_LUFS);
        let above: Vec<f64> = songs
            .into_iter()
            .flat_map(|g| g.blocks.iter().copied())
            .filter(|&e| e >= gate)
            .collect();
        if above.is_empty() {
            return None;
        }
        let relative = above.iter().sum::<f64>() / above.len() as f64 * 0.1;
        let (n, sum) = above
            .iter()
            .filter(|&&e| e >= relative)
            .fold((0usize, 0.0f64), |(n, s), &e| (n + 1, s + e));
        Some(lufs(sum / n as f64)).filter(|v| v.is_finite())
    }
}

/// Momentary and short-term loudness of a song.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// maximum momentary loudness, LUFS
    pub momentary_max_lufs: Option<f64>,
    /// maximum short-term loudness, LUFS
    pub short_term_max_lufs: Option<f64>,
    /// per hop: the largest momentary loudness of the windows ending in it, LUFS (`None`:
    /// silence)
    pub momentary_lufs: Vec<Option<f64>>,
    /// per hop: the largest short-term loudness of the windows ending in it, LUFS
    pub short_term_lufs: Vec<Option<f64>>,
}
